"""The screens hide and refuse what the operator's role cannot do (DESIGN.md section 7)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from frontdesk.data import roles
from frontdesk.data.staff import create_staff
from frontdesk.screens.directory import DirectoryScreen
from tests.actors import ADMIN
from tests.ui.conftest import SIZE, burst, make_app, settle


def test_the_role_table() -> None:
    from frontdesk.data.models import Staff

    admin = Staff(name="A", role="admin")
    desk = Staff(name="R", role="reception")
    therapist = Staff(name="T", role="therapist")
    assert roles.allowed(admin, "settings")
    assert not roles.allowed(desk, "settings")
    assert roles.allowed(desk, "book") and roles.allowed(desk, "import")
    assert not roles.allowed(therapist, "book") and roles.allowed(therapist, "notes")
    assert not roles.allowed(desk, "merge.many") and roles.allowed(admin, "merge.many")
    assert roles.allowed(None, "read") and not roles.allowed(None, "book")
    assert "may not change settings" in str(roles.NotAllowed("settings", desk))


async def test_reception_cannot_open_settings(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.operator is not None and app.operator.role == "reception"
        await burst(pilot, "escape", "S")
        assert isinstance(app.screen, DirectoryScreen)
        assert any("may not change settings" in n.message for n in app._notifications)
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "Settings" not in commands and "New booking" in commands


async def test_a_therapist_cannot_book_or_order(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        create_staff(
            session=s, name="Tara Therapist", role="therapist", username="tara", actor=ADMIN
        )
        s.commit()
    app = make_app(demo_engine, staff="tara")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "escape", "b")
        assert isinstance(app.screen, DirectoryScreen)
        await burst(pilot, "o", "I")
        assert isinstance(app.screen, DirectoryScreen)
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "New booking" not in commands and "New order" not in commands


async def test_an_admin_opens_settings(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff="admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "escape", "S")
        assert type(app.screen).__name__ == "SettingsScreen"

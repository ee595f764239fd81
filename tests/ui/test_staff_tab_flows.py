"""The Staff tab of the settings screen, typed as an admin types (every key at once).

S opens the settings; ``left`` twice from the first tab wraps past Business to Staff; ``tab``
goes into its list (by name, deactivated members dimmed and marked "inactive").
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label

from frontdesk.data.models import AuditEvent, Staff
from frontdesk.data.staff import create_staff, find_staff, list_staff
from frontdesk.screens.common import ConfirmModal
from frontdesk.screens.settings import SettingsScreen
from frontdesk.screens.staff_admin import StaffModal
from tests.ui.conftest import SIZE, burst, make_app, settle, wait_until

ADMIN = "admin"  # the demo's admin, Alex Admin
HOSTILE = "[bold]brackets[/] Bea"


@pytest.fixture
def engine(demo_engine: Engine) -> Engine:
    with Session(demo_engine) as s:
        alex = find_staff(session=s, name_or_username=ADMIN)
        create_staff(session=s, name=HOSTILE, username="bea", role="therapist", actor=alex)
        s.commit()
    return demo_engine


def member(engine: Engine, name: str) -> Staff:
    with Session(engine, expire_on_commit=False) as s:
        found = find_staff(session=s, name_or_username=name, include_inactive=True)
        assert found is not None
        return found


def downs_to(engine: Engine, name: str) -> list[str]:
    """The ``down`` presses from the list's first row to ``name``'s (the list's order)."""
    with Session(engine) as s:
        names = [m.name for m in list_staff(session=s, include_inactive=True)]
    return ["down"] * names.index(name)


def rows(screen: SettingsScreen) -> list[list[str]]:
    table = screen.query_one("#s-staff-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def current_row(screen: SettingsScreen) -> list[str]:
    table = screen.query_one("#s-staff-table", DataTable)
    return [str(c) for c in table.get_row_at(table.cursor_row)]


def message(modal: Any, selector: str) -> str:
    label = modal.query_one(selector, Label)
    return str(label.render()) if label.display else ""


async def open_staff(pilot: Pilot[None]) -> SettingsScreen:
    await settle(pilot)
    await burst(pilot, "S", "left", "left", "tab")
    screen = pilot.app.screen
    assert isinstance(screen, SettingsScreen)
    assert screen.tab == "s-staff"
    return screen


async def test_the_tab_lists_staff_with_hostile_names_literally(engine: Engine) -> None:
    app = make_app(engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_staff(pilot)
        shown = rows(screen)
        assert [HOSTILE, "bea", "therapist", "", "active"] in shown
        assert ["Alex Admin (you)", "admin", "admin", "Downtown", "active"] in shown


async def test_add_a_therapist_from_the_keyboard(engine: Engine) -> None:
    app = make_app(engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_staff(pilot)
        # Every key at once: the dialog, the name, the username and the role chosen by typing.
        await burst(pilot, "a", "Tom Tester", "tab", "tom.t", "tab", "enter", "t", "enter")
        modal = app.screen
        assert isinstance(modal, StaffModal)
        assert modal.form().role == "therapist"
        await burst(pilot, "ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen)
        assert current_row(screen) == ["Tom Tester", "tom.t", "therapist", "", "active"]
    tom = member(engine, "tom.t")
    assert (tom.name, tom.role, tom.active) == ("Tom Tester", "therapist", True)


async def test_a_refused_edit_stays_open_with_what_was_typed(engine: Engine) -> None:
    app = make_app(engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_staff(pilot)
        down = downs_to(engine, HOSTILE)
        # enter on Bea's row; her username becomes "rita" (taken) and enter saves.
        await burst(pilot, *down, "enter", "tab", "ctrl+u", "rita", "enter")
        modal = app.screen
        assert isinstance(modal, StaffModal)  # still open
        assert message(modal, "#sf-username-msg") == (
            "'rita' already names a staff member; choose another"
        )
        field = modal.query_one("#sf-username", Input)
        assert field.value == "rita" and modal.focused is field
        assert modal.query_one("#sf-name", Input).value == HOSTILE
        # A space is refused the same way; typing clears the message.
        await burst(pilot, "ctrl+u", "bea b", "ctrl+s")
        assert message(modal, "#sf-username-msg").startswith("A username has no spaces")
        await burst(pilot, "backspace", "backspace", ".b")
        assert message(modal, "#sf-username-msg") == ""
        # And the role, in the same dialog: reception.
        await burst(pilot, "tab", "enter", "r", "enter", "ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen)
        assert current_row(screen) == [HOSTILE, "bea.b", "reception", "", "active"]
    bea = member(engine, "bea.b")
    assert (bea.name, bea.role) == (HOSTILE, "reception")
    with Session(engine) as s:
        event = s.exec(
            select(AuditEvent)
            .where(col(AuditEvent.entity) == "staff")
            .order_by(col(AuditEvent.id).desc())
        ).first()
        assert event is not None and event.changes == {
            "username": ["bea", "bea.b"],
            "role": ["therapist", "reception"],
        }


async def test_e_edits_and_the_last_admin_keeps_the_role(engine: Engine) -> None:
    app = make_app(engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_staff(pilot)
        # Alex is the demo's only admin: making himself reception is refused under Role.
        await burst(pilot, *downs_to(engine, "Alex Admin"), "e", "tab", "tab", "enter", "r")
        await burst(pilot, "enter", "ctrl+s")
        modal = app.screen
        assert isinstance(modal, StaffModal)
        assert message(modal, "#sf-role-msg").startswith("You cannot remove your own admin role")
        # Escape on the changed dialog asks first: n keeps editing, then y discards.
        await burst(pilot, "escape")
        assert isinstance(app.screen, ConfirmModal)
        await burst(pilot, "n")
        assert app.screen is modal
        await burst(pilot, "escape", "y")
        assert app.screen is screen
    assert member(engine, ADMIN).role == "admin"


async def test_deactivate_and_reactivate_with_a_question(engine: Engine) -> None:
    app = make_app(engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_staff(pilot)
        down = downs_to(engine, "Rita Reception")
        await burst(pilot, *down, "d")
        confirm = app.screen
        assert isinstance(confirm, ConfirmModal)
        # n: nothing happens.
        await burst(pilot, "n")
        assert member(engine, "rita").active
        await burst(pilot, "d", "y")
        await wait_until(pilot, lambda: current_row(screen)[-1] == "inactive")
        assert current_row(screen)[0] == "Rita Reception"
        assert not member(engine, "rita").active
        # The same key brings her back.
        await burst(pilot, "d", "y")
        await wait_until(pilot, lambda: current_row(screen)[-1] == "active")
        assert member(engine, "rita").active
    with Session(engine) as s:
        actions = [
            e.action
            for e in s.exec(
                select(AuditEvent)
                .where(col(AuditEvent.entity) == "staff")
                .order_by(col(AuditEvent.id))
            )
        ]
    assert actions[-2:] == ["deactivate", "reactivate"]


async def test_an_admin_cannot_deactivate_themselves(engine: Engine) -> None:
    app = make_app(engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_staff(pilot)
        await burst(pilot, *downs_to(engine, "Alex Admin"), "d")
        assert app.screen is screen  # no question: said at once
        assert any("cannot deactivate yourself" in str(n.message) for n in app._notifications)
    assert member(engine, ADMIN).active


async def test_the_deactivate_key_is_only_on_the_staff_tab(engine: Engine) -> None:
    app = make_app(engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "S")
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        assert screen.check_action("toggle_active", ()) is False
        await burst(pilot, "left", "left")
        assert screen.check_action("toggle_active", ()) is True


# --------------------------------------------------------------------------- an open app


async def test_an_open_app_closes_when_its_operator_is_deactivated(engine: Engine) -> None:
    """Rita's terminal is open when an admin deactivates her at another desk: her next write
    is refused, and the app closes within the live refresh (she reads nothing more)."""
    from frontdesk.app import OPERATOR_GONE
    from frontdesk.data import staff as staff_service
    from frontdesk.data.errors import InactiveStaff

    app = make_app(engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        with Session(engine) as s:
            alex = find_staff(session=s, name_or_username=ADMIN)
            rita = find_staff(session=s, name_or_username="rita")
            assert alex is not None and rita is not None
            staff_service.deactivate_staff(session=s, member_id=rita.id or 0, actor=alex)
            s.commit()
        with pytest.raises(InactiveStaff, match="Rita Reception is no longer active"):
            app.write(lambda s: None)
        await wait_until(pilot, lambda: app._exit)  # closed by the live refresh
    assert app.return_code == OPERATOR_GONE


async def test_a_role_changed_at_another_desk_counts_at_once(engine: Engine) -> None:
    """An admin demoted while their app is open: the next admin-only write is refused, the
    header says the new role."""
    from frontdesk.data import catalogue
    from frontdesk.data import staff as staff_service
    from frontdesk.data.roles import NotAllowed

    with Session(engine, expire_on_commit=False) as s:
        alex = find_staff(session=s, name_or_username=ADMIN)
        assert alex is not None
        second = create_staff(
            session=s, name="Second Admin", username="second", role="admin", actor=alex
        )
        s.commit()
    app = make_app(engine, staff="second")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert (
            app.write(
                lambda s: catalogue.add_branch(session=s, name="North", actor=app.operator)
            ).name
            == "North"
        )
        with Session(engine) as s:
            alex = find_staff(session=s, name_or_username=ADMIN)
            staff_service.set_staff_role(
                session=s, member_id=second.id or 0, role="reception", actor=alex
            )
            s.commit()
        with pytest.raises(NotAllowed):
            app.write(lambda s: catalogue.add_branch(session=s, name="South", actor=app.operator))
        await wait_until(pilot, lambda: "reception" in str(app.sub_title))
        assert app.operator is not None and app.operator.role == "reception"


async def test_the_dialog_moves_a_member_to_a_branch(engine: Engine) -> None:
    app = make_app(engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_staff(pilot)
        down = downs_to(engine, HOSTILE)
        # Bea works at every branch; enter on her row, three tabs to Branch, h for Harbour.
        await burst(pilot, *down, "enter", "tab", "tab", "tab", "enter", "h", "enter")
        modal = app.screen
        assert isinstance(modal, StaffModal)
        await burst(pilot, "ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen)
        assert current_row(screen) == [HOSTILE, "bea", "therapist", "Harbour", "active"]
    with Session(engine) as s:
        bea = find_staff(session=s, name_or_username="bea")
        assert bea is not None and bea.branch_id is not None
        event = s.exec(
            select(AuditEvent)
            .where(col(AuditEvent.entity) == "staff")
            .order_by(col(AuditEvent.id).desc())
        ).first()
        assert event is not None and event.changes == {"branch_id": [None, bea.branch_id]}


async def test_the_branch_list_leaves_out_a_deactivated_branch(engine: Engine) -> None:
    """A deactivated branch is not offered to a new member (it was, and choosing it was
    refused); a member who still works there keeps it in the list, and saves unchanged."""
    from textual.widgets import Select

    from frontdesk.data.catalogue import find_branch, set_branch_active

    with Session(engine) as s:
        alex = find_staff(session=s, name_or_username=ADMIN)
        harbour = find_branch(session=s, text="Harbour")
        bea = find_staff(session=s, name_or_username="bea")
        assert bea is not None
        bea.branch_id = harbour.id
        s.add(bea)
        set_branch_active(session=s, branch_id=harbour.id or 0, active=False, actor=alex)
        s.commit()

    def offered(modal: StaffModal) -> list[str]:
        select = modal.query_one("#sf-branch", Select)
        return [str(prompt) for prompt, _value in select._options]

    app = make_app(engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_staff(pilot)
        await burst(pilot, "a")
        modal = app.screen
        assert isinstance(modal, StaffModal)
        assert "Harbour" not in offered(modal) and "Downtown" in offered(modal)
        await burst(pilot, "escape")
        await wait_until(pilot, lambda: app.screen is screen)
        await burst(pilot, *downs_to(engine, HOSTILE), "enter")
        modal = app.screen
        assert isinstance(modal, StaffModal)
        assert "Harbour" in offered(modal)
        await burst(pilot, "tab", "end", "X", "ctrl+s")  # a new username; the branch kept
        await wait_until(pilot, lambda: app.screen is screen)
        assert current_row(screen) == [HOSTILE, "beaX", "therapist", "Harbour", "active"]

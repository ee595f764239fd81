"""Pilot tests of the add/edit customer form."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.widgets import Input, Label, Static, Switch

from frontdesk.data import customers as svc
from frontdesk.data.models import AuditEvent, Customer
from frontdesk.data.settings import set_setting
from frontdesk.data.staff import create_staff
from frontdesk.screens.common import ConfirmModal
from frontdesk.screens.customer_form import CustomerFormScreen
from frontdesk.screens.directory import DirectoryScreen
from frontdesk.screens.profile import ProfileScreen
from tests.ui.conftest import SIZE, make_app, settle, type_text


def error_of(app: object, field: str) -> str:
    return str(app.screen.query_one(f"#e-{field}", Label).render())  # type: ignore[attr-defined]


async def fill(pilot: object, field: str, text: str) -> None:
    app = pilot.app  # type: ignore[attr-defined]
    app.screen.query_one(f"#f-{field}", Input).focus()
    await type_text(pilot, text)  # type: ignore[arg-type]


async def test_add_customer_with_validation_errors(empty_engine: Engine) -> None:
    with Session(empty_engine) as s:
        set_setting(session=s, key="default_region", value="NL")
        create_staff(session=s, name="Rita Reception", username="rita")
        s.commit()
    app = make_app(empty_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        empty = str(app.screen.query_one("#empty", Static).render())
        assert "No customers yet" in empty
        app.screen.query_one("#search", Input).blur()
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CustomerFormScreen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "First name is required" in error_of(app, "first_name")
        await fill(pilot, "first_name", "Sanne")
        assert error_of(app, "first_name") == ""
        await fill(pilot, "phone", "12")
        assert "too short" in error_of(app, "phone")  # as you type
        await fill(pilot, "email", "sanne@")
        assert error_of(app, "email")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerFormScreen)  # nothing saved
        assert app.screen.query_one("#f-email", Input).value == "sanne@"  # input kept
        with Session(empty_engine) as s:
            assert s.exec(select(Customer)).all() == []
        await fill(pilot, "phone", "345678")  # now "12345678": NL local number 0123...
        app.screen.query_one("#f-phone", Input).value = "06 12345678"
        app.screen.query_one("#f-email", Input).value = "Sanne@Example.nl"
        await settle(pilot)
        assert error_of(app, "phone") == "" and error_of(app, "email") == ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        with Session(empty_engine) as s:
            saved = s.exec(select(Customer)).one()
            assert saved.first_name == "Sanne" and saved.phone == "+31612345678"
            assert saved.email == "Sanne@Example.nl" and saved.created_by_id is not None
            assert saved.created_via == "manual"


async def test_duplicate_phone_offers_the_existing_customer(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        existing = s.exec(
            select(Customer).where(col(Customer.phone).is_not(None)).order_by(col(Customer.id))
        ).first()
        assert existing is not None and existing.phone
        phone, code = existing.phone, existing.code
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#search", Input).blur()
        await pilot.press("n")
        await settle(pilot)
        await fill(pilot, "first_name", "Someone")
        app.screen.query_one("#f-phone", Input).value = phone
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerFormScreen)
        message = error_of(app, "phone")
        assert code in message and "ctrl+o" in message
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)  # there are unsaved changes
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        assert code in app.screen.title


async def test_edit_from_profile_updates_and_audits(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_customer(3)
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, CustomerFormScreen)
        last = app.screen.query_one("#f-last_name", Input)
        last.value = "Van Dam"
        app.screen.query_one("#f-consent_marketing", Switch).value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        assert "Van Dam" in str(app.screen.query_one("#p-name", Static).render())
    with Session(demo_engine) as s:
        c = svc.get_customer(session=s, customer_id=3)
        assert c.last_name == "Van Dam" and c.consent_marketing and c.version == 2
        event = s.exec(
            select(AuditEvent).where(AuditEvent.customer_id == 3, AuditEvent.action == "update")
        ).one()
        assert event.changes is not None and event.changes["last_name"][1] == "Van Dam"
        assert event.actor_name == "Rita Reception"


async def test_stale_edit_does_not_overwrite(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(CustomerFormScreen(customer_id=5))
        await settle(pilot)
        # Another terminal saves the same customer meanwhile.
        with Session(demo_engine) as s:
            c = svc.get_customer(session=s, customer_id=5)
            svc.update_customer(
                session=s,
                customer_id=5,
                data=svc.CustomerUpdate(city="Elsewhere"),
                expected_version=c.version,
            )
            s.commit()
        app.screen.query_one("#f-city", Input).value = "Mine"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerFormScreen)
        banner = str(app.screen.query_one("#form-banner", Static).render())
        assert "changed in another terminal" in banner and "Elsewhere" in banner
        assert app.screen.query_one("#f-city", Input).value == "Mine"
        with Session(demo_engine) as s:
            assert svc.get_customer(session=s, customer_id=5).city == "Elsewhere"
        # A second ctrl+s is a deliberate choice to keep ours.
        await pilot.press("ctrl+s")
        await settle(pilot)
    with Session(demo_engine) as s:
        assert svc.get_customer(session=s, customer_id=5).city == "Mine"


async def test_escape_with_unsaved_changes_asks(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#search", Input).blur()
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("escape")  # nothing typed: leaves at once
        await settle(pilot)
        assert isinstance(app.screen, DirectoryScreen)
        await pilot.press("n")
        await settle(pilot)
        await fill(pilot, "first_name", "Half")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CustomerFormScreen)
        assert app.screen.query_one("#f-first_name", Input).value == "Half"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, DirectoryScreen)


async def test_new_customer_prefilled_from_search(empty_engine: Engine) -> None:
    app = make_app(empty_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_text(pilot, "anna de vries 0612345678")
        assert "press n to add one" in str(app.screen.query_one("#empty", Static).render())
        app.screen.query_one("#search", Input).blur()
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.query_one("#f-first_name", Input).value == "Anna"
        assert app.screen.query_one("#f-last_name", Input).value == "de vries"
        assert app.screen.query_one("#f-phone", Input).value == "0612345678"


async def test_photo_is_copied_privately(empty_engine: Engine, tmp_path: Path) -> None:
    image = tmp_path / "face.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    data_dir = tmp_path / "appdata"
    app = make_app(empty_engine, data_dir=data_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#search", Input).blur()
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#f-first_name", Input).value = "Pia"
        app.screen.query_one("#f-email", Input).value = "pia@example.com"
        app.screen.query_one("#f-photo_path", Input).value = str(tmp_path / "missing.png")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerFormScreen)
        assert "no file" in error_of(app, "photo_path")
        app.screen.query_one("#f-photo_path", Input).value = str(image)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
    stored = data_dir / "photos" / "C-000001.png"
    assert stored.exists() and (stored.stat().st_mode & 0o777) == 0o600
    with Session(empty_engine) as s:
        assert svc.get_customer(session=s, customer_id=1).photo_path == "photos/C-000001.png"

"""Pilot tests of the add/edit customer form: every key pressed as typed, with no pause."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.widgets import DataTable, Input, Label, SelectionList, Static

from frontdesk.data import customers as svc
from frontdesk.data import fields
from frontdesk.data.fields import save_field
from frontdesk.data.models import AuditEvent, Customer
from frontdesk.data.settings import set_setting
from frontdesk.data.staff import create_staff
from frontdesk.data.tags import create_tag
from frontdesk.screens.common import ConfirmModal
from frontdesk.screens.customer_form import CustomerFormScreen
from frontdesk.screens.directory import DirectoryScreen
from frontdesk.screens.profile import ProfileScreen
from tests.actors import ADMIN
from tests.ui.conftest import SIZE, make_app, settle
from tests.ui.test_directory_flows import keys


@pytest.fixture(autouse=True)
def _patient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key whose handling takes longer than the app's watchdog (0.5 s) lets the next key
    overtake it. On a loaded test machine a tab into a scrolled field can take that long:
    tests of key order must not depend on the load, so they give each key 5 s."""
    monkeypatch.setattr("frontdesk.app.KEY_WATCHDOG", 5.0)


# Tab stops from the first name (the form's own order).
TO_EMAIL = ["tab"] * 3
TO_PHONE = ["tab"] * 5  # first, last, display, email, mobile country, mobile


@pytest.fixture
def desk_engine(empty_engine: Engine) -> Engine:
    """An empty database with the receptionist the app acts as (adding needs the role)."""
    with Session(empty_engine) as s:
        create_staff(session=s, name="Rita Reception", username="rita", actor=ADMIN)
        s.commit()
    return empty_engine


def error_of(app: Any, field: str) -> str:
    """The message under a field ("" for none: the line is mounted with its first message)."""
    lines = app.screen.query(f"#e-{field}")
    return str(lines.first(Label).render()) if lines else ""


def value_of(app: Any, field: str) -> str:
    return str(app.screen.query_one(f"#f-{field}", Input).value)


def tabs_to(app: Any, selector: str) -> list[str]:
    """The tab presses from the first name to ``selector`` (computed from the form's order)."""
    screen = app.screen
    chain = screen.focus_chain
    start = chain.index(screen.query_one("#f-first_name"))
    return ["tab"] * (chain.index(screen.query_one(selector)) - start)


def one_customer(engine: Engine, **where: Any) -> Customer:
    with Session(engine) as s:
        stmt = select(Customer)
        for key, value in where.items():
            stmt = stmt.where(getattr(Customer, key) == value)
        return s.exec(stmt).one()


async def test_new_customer_typed_ahead_lands_in_each_field(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Everything typed at once, from the directory, before the form is even open.
        await keys(
            pilot, "n", "Maria", "tab", "Lopez", "tab", "Mari", "tab",
            "maria.lopez@example.com", "ctrl+s",
        )  # fmt: skip
        saved = one_customer(demo_engine, email="maria.lopez@example.com")
        assert (saved.first_name, saved.last_name, saved.display_name) == ("Maria", "Lopez", "Mari")
        assert saved.created_by_id is not None and saved.created_via == "manual"
        assert isinstance(app.screen, ProfileScreen)
        assert saved.code in app.screen.title
        assert "Mari" in str(app.screen.query_one("#p-name", Static).render())


async def test_add_customer_with_validation_errors(empty_engine: Engine) -> None:
    with Session(empty_engine) as s:
        set_setting(session=s, key="default_region", value="NL")
        create_staff(session=s, name="Rita Reception", username="rita", actor=ADMIN)
        s.commit()
    app = make_app(empty_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "No customers yet" in str(app.screen.query_one("#empty", Static).render())
        await keys(pilot, "n", "ctrl+s")
        assert isinstance(app.screen, CustomerFormScreen)
        assert "First name is required" in error_of(app, "first_name")
        await keys(pilot, "Sanne")
        assert error_of(app, "first_name") == ""
        await keys(pilot, *TO_PHONE, "12")
        assert "too short" in error_of(app, "phone")  # as you type
        await keys(pilot, "shift+tab", "shift+tab", "sanne@")
        assert error_of(app, "email")
        await keys(pilot, "ctrl+s")
        assert isinstance(app.screen, CustomerFormScreen)  # nothing saved
        assert value_of(app, "email") == "sanne@"  # input kept
        assert app.focused is app.screen.query_one("#f-email")  # the first bad field
        with Session(empty_engine) as s:
            assert s.exec(select(Customer)).all() == []
        # The email is corrected in place; a field reached by tab is selected (typing
        # replaces what was there).
        await keys(pilot, "home", "shift+end", "Sanne@Example.nl", "tab", "tab", "06 12345678")
        assert error_of(app, "phone") == "" and error_of(app, "email") == ""
        await keys(pilot, "ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
        saved = one_customer(empty_engine)
        assert saved.first_name == "Sanne" and saved.phone == "+31612345678"
        assert saved.email == "Sanne@Example.nl" and saved.created_by_id is not None


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
        # ("+" apart: burst() reads a word holding "+" as a key combination.)
        await keys(pilot, "n", "Someone", *TO_PHONE, "+", phone[1:], "ctrl+s")
        assert isinstance(app.screen, CustomerFormScreen)
        message = error_of(app, "phone")
        assert code in message and "ctrl+o" in message
        assert app.focused is app.screen.query_one("#f-phone")
        await keys(pilot, "ctrl+o")
        assert isinstance(app.screen, ConfirmModal)  # there are unsaved changes
        await keys(pilot, "y")
        assert isinstance(app.screen, ProfileScreen)
        assert code in app.screen.title


async def test_edit_to_another_customers_phone_names_them(demo_engine: Engine) -> None:
    """An edit typed to a phone someone else has: the message under the field names them (it
    was "Unexpected error (IntegrityError)"), and nothing is changed (emails: the service
    test)."""
    with Session(demo_engine) as s:
        taken = s.exec(
            select(Customer)
            .where(col(Customer.phone).is_not(None))
            .order_by(col(Customer.id).desc())
        ).first()
        assert taken is not None and taken.phone
        phone, code = taken.phone, taken.code
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "down", "down")
        screen = app.screen
        assert isinstance(screen, DirectoryScreen)
        customer_id = screen.highlighted_id()
        with Session(demo_engine) as s:
            before = svc.get_customer(session=s, customer_id=customer_id or 0)
        await keys(pilot, "e", *TO_PHONE, "end", "ctrl+u", "+", phone[1:], "ctrl+s")
        assert isinstance(app.screen, CustomerFormScreen)
        message = error_of(app, "phone")
        assert code in message and "already has this phone" in message
        assert value_of(app, "phone") == phone  # what was typed is still there
        await keys(pilot, "escape", "y")
        assert isinstance(app.screen, DirectoryScreen)
    with Session(demo_engine) as s:
        after = svc.get_customer(session=s, customer_id=customer_id or 0)
        assert (after.phone, after.email, after.version) == (
            before.phone,
            before.email,
            before.version,
        )


async def test_edit_typed_right_after_opening_is_kept(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "down", "down")
        screen = app.screen
        assert isinstance(screen, DirectoryScreen)
        customer_id = screen.highlighted_id()
        assert customer_id is not None
        with Session(demo_engine) as s:
            before = svc.get_customer(session=s, customer_id=customer_id)
        # "e", then straight on: tab to the last name and type it, and save.
        await keys(pilot, "e", "tab", "Tess", "ctrl+s")
        assert isinstance(app.screen, DirectoryScreen)
        with Session(demo_engine) as s:
            after = svc.get_customer(session=s, customer_id=customer_id)
            assert after.last_name == "Tess" and after.first_name == before.first_name
            assert after.email == before.email and after.version == before.version + 1
            event = s.exec(
                select(AuditEvent).where(
                    AuditEvent.customer_id == customer_id, AuditEvent.action == "update"
                )
            ).one()
            assert event.changes is not None and set(event.changes) == {"last_name"}
        # The list follows the customer to their new place (sorted by last name).
        assert screen.highlighted_id() == customer_id
        t = screen.query_one(DataTable)
        assert "Tess" in str(t.get_row_at(t.cursor_row)[2])


async def test_edit_from_profile_updates_and_audits(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_customer(3)
        await settle(pilot)
        await keys(pilot, "e")
        assert isinstance(app.screen, CustomerFormScreen)
        switch = tabs_to(app, "#f-consent_marketing")
        await keys(pilot, "tab", "Van Dam", *switch[1:], "space", "ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
        assert "Van Dam" in str(app.screen.query_one("#p-name", Static).render())
    with Session(demo_engine) as s:
        c = svc.get_customer(session=s, customer_id=3)
        assert c.last_name == "Van Dam" and c.version == 2
        event = s.exec(
            select(AuditEvent).where(AuditEvent.customer_id == 3, AuditEvent.action == "update")
        ).one()
        assert event.changes is not None and event.changes["last_name"][1] == "Van Dam"
        assert event.changes["consent_marketing"][1] is (not event.changes["consent_marketing"][0])
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
        await keys(pilot, *tabs_to(app, "#f-city"), "Mine", "ctrl+s")
        assert isinstance(app.screen, CustomerFormScreen)
        banner = str(app.screen.query_one("#form-banner", Static).render())
        assert "changed in another terminal" in banner and "Elsewhere" in banner
        assert value_of(app, "city") == "Mine"
        with Session(demo_engine) as s:
            assert svc.get_customer(session=s, customer_id=5).city == "Elsewhere"
        # A second ctrl+s is a deliberate choice to keep ours.
        await keys(pilot, "ctrl+s")
    with Session(demo_engine) as s:
        assert svc.get_customer(session=s, customer_id=5).city == "Mine"


async def test_escape_with_unsaved_changes_asks(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "n", "escape")  # nothing typed: leaves at once
        assert isinstance(app.screen, DirectoryScreen)
        await keys(pilot, "n", "Half", "escape")
        assert isinstance(app.screen, ConfirmModal)
        await keys(pilot, "n")
        assert isinstance(app.screen, CustomerFormScreen)
        assert value_of(app, "first_name") == "Half"
        await keys(pilot, "escape", "y")
        assert isinstance(app.screen, DirectoryScreen)
        with Session(demo_engine) as s:
            assert not s.exec(select(Customer).where(col(Customer.first_name) == "Half")).all()


async def test_new_customer_prefilled_from_search(desk_engine: Engine) -> None:
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "/", "anna de vries 0612345678")
        assert "press n to add one" in str(app.screen.query_one("#empty", Static).render())
        await keys(pilot, "enter", "n")  # enter leaves the search box
        assert isinstance(app.screen, CustomerFormScreen)
        assert value_of(app, "first_name") == "Anna"
        assert value_of(app, "last_name") == "de Vries"
        assert value_of(app, "phone") == "0612345678"
        await keys(pilot, "escape")
        assert isinstance(app.screen, ConfirmModal)  # the pre-filled values count as typed


async def test_typing_after_n_goes_on_after_the_name_from_the_search(
    desk_engine: Engine,
) -> None:
    """The form built ahead (as the running app builds it) and prefilled from the search:
    what is typed at once goes on after the name (it was selected, and the first letter
    typed replaced it)."""
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.stage_new_customer_form()
        await _staged_to_the_end(app, pilot)
        await keys(pilot, "/", "nobody newperson", "enter", "n", "-Jo")
        assert isinstance(app.screen, CustomerFormScreen)
        assert (value_of(app, "first_name"), value_of(app, "last_name")) == (
            "Nobody-Jo",
            "Newperson",
        )


async def test_photo_is_copied_privately(desk_engine: Engine, tmp_path: Path) -> None:
    image = tmp_path / "face.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    data_dir = tmp_path / "appdata"
    app = make_app(desk_engine, data_dir=data_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "n")
        to_photo = tabs_to(app, "#f-photo_path")
        missing = str(tmp_path / "missing.png")
        await keys(pilot, "Pia", *TO_EMAIL, "pia@example.com", *to_photo[3:], missing, "ctrl+s")
        assert isinstance(app.screen, CustomerFormScreen)
        assert "no file" in error_of(app, "photo_path")
        assert app.focused is app.screen.query_one("#f-photo_path")
        await keys(pilot, "shift+tab", "tab", str(image), "ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
    stored = data_dir / "photos" / "C-000001.png"
    assert stored.exists() and (stored.stat().st_mode & 0o777) == 0o600
    with Session(desk_engine) as s:
        assert svc.get_customer(session=s, customer_id=1).photo_path == "photos/C-000001.png"


async def test_hostile_values_round_trip_through_the_form(desk_engine: Engine) -> None:
    name = "[link=file:///etc/passwd]x[/link]"
    with Session(desk_engine) as s:
        svc.create_customer(
            actor=ADMIN,
            session=s,
            data=svc.CustomerCreate(first_name="[/]", last_name=name, email="odd@example.com"),
        )
        s.commit()
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "e")
        assert isinstance(app.screen, CustomerFormScreen)
        assert value_of(app, "first_name") == "[/]" and value_of(app, "last_name") == name
        assert name in app.screen.title
        await keys(pilot, *tabs_to(app, "#f-city"), "[b]Town[/b]", "ctrl+s")
        assert isinstance(app.screen, DirectoryScreen)
    c = one_customer(desk_engine)
    assert (c.first_name, c.last_name, c.city) == ("[/]", name, "[b]Town[/b]")


async def test_form_follows_a_terminal_resize(desk_engine: Engine) -> None:
    """The form skips the Resize its own first layout sends it (same size), never a real one;
    a field's message line exists only once it has had a message."""
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "n")
        assert isinstance(app.screen, CustomerFormScreen)
        assert not app.screen.query(".field-error")  # no message yet: no line mounted
        before = app.screen.query_one("#f-first_name", Input).size.width
        await pilot.resize_terminal(SIZE[0] + 30, SIZE[1])
        await settle(pilot)
        after = app.screen.query_one("#f-first_name", Input).size.width
        assert after > before  # the grid's columns took the new width
        await keys(pilot, "ctrl+s")
        assert "First name is required" in error_of(app, "first_name")
        assert len(app.screen.query(".field-error")) == 1


async def test_new_customer_form_reopened_blank(desk_engine: Engine) -> None:
    """The app keeps the closed new-customer form and shows it again: nothing of the last
    customer (values, error lines, tags, custom values, a duplicate's offer) is left in it,
    keys typed at once still land in order, and the second opening builds no widget."""
    with Session(desk_engine) as s:
        vip = create_tag(session=s, name="[VIP]")
        save_field(session=s, label="Hair [colour]", key="hair", actor=ADMIN)
        s.commit()
        vip_id = vip.id
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # First customer: a bad email (error line shown), then fixed; a tag; a custom value.
        await keys(pilot, "n", "Ana", "tab", "Kovač", *TO_EMAIL[1:], "ana@")
        form = app.screen
        assert isinstance(form, CustomerFormScreen)
        assert error_of(app, "email")
        widgets = built(form)
        await keys(pilot, "backspace", "@example.com")
        tags = form.query_one("#f-tags", SelectionList)
        await keys(pilot, *tabs_to_from(app, "#f-tags"), "down", "space")
        await keys(pilot, *tabs_to_from(app, "#cf-hair"))
        await keys(pilot, "Red", "ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
        first = one_customer(desk_engine, email="ana@example.com")
        with Session(desk_engine) as s:
            assert [t.id for t in svc.tags_of(session=s, customer_id=first.id or 0)] == [vip_id]
        # A second custom field defined meanwhile (another desk): shown on the next opening.
        with Session(desk_engine) as s:
            save_field(session=s, label="Allergies", key="allergies", actor=ADMIN)
            s.commit()
        # The second customer, typed at once from the directory.
        await keys(pilot, "escape")
        assert isinstance(app.screen, DirectoryScreen)
        await keys(pilot, "n", "Bo", "tab", "Lind", *TO_EMAIL[1:], "bo@example.com", "ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
        second = one_customer(desk_engine, first_name="Bo")
        assert (second.last_name, second.email, second.phone) == ("Lind", "bo@example.com", None)
        with Session(desk_engine) as s:
            assert svc.tags_of(session=s, customer_id=second.id or 0) == []
            assert fields.values_of(session=s, customer_id=second.id or 0) == {}
        # Opened once more: the same form, blank, with both custom fields and no error line.
        await keys(pilot, "escape", "n")
        assert app.screen is form
        assert all(value_of(app, name) == "" for name in ("first_name", "last_name", "email"))
        assert error_of(app, "email") == ""
        assert not form.query(".invalid")
        assert tags.selected == [] and tags.option_count == 1
        assert form.query_one("#cf-hair", Input).value == ""
        assert form.query("#cf-allergies")
        assert app.focused is form.query_one("#f-first_name")
        assert built(form) == widgets + 4  # the new custom field's box, nothing else
        assert form.title == "New customer"
        await keys(pilot, "escape")
        assert isinstance(app.screen, DirectoryScreen)


async def test_reopened_form_takes_the_search_box_and_asks_before_discarding(
    desk_engine: Engine,
) -> None:
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "n", "Half", "escape", "y")  # typed, then discarded
        assert isinstance(app.screen, DirectoryScreen)
        await keys(pilot, "/", "anna de vries anna@example.com", "enter", "n")
        assert isinstance(app.screen, CustomerFormScreen)
        assert (value_of(app, "first_name"), value_of(app, "last_name")) == ("Anna", "de Vries")
        assert value_of(app, "email") == "anna@example.com"
        form = app.screen
        # The directory under the (opaque) form is not drawn, nor is a repaint of it a
        # repaint of the form; the form under a modal shows through it.
        assert app._background_screens == []
        await keys(pilot, "escape")
        assert isinstance(app.screen, ConfirmModal)  # the pre-filled values count as typed
        assert app._background_screens == [form]
        await keys(pilot, "escape", "ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
        saved = one_customer(desk_engine, first_name="Anna")
        assert saved.last_name == "de Vries"


async def test_new_customer_while_the_kept_form_is_open_gets_its_own(
    desk_engine: Engine,
) -> None:
    """ctrl+p "New customer" from inside the kept form: a second form on top (the kept one
    is on the stack and cannot be shown twice); both save their own customer."""
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "n", "Outer", *TO_EMAIL, "outer@example.com")
        kept = app.screen
        app.action_new_customer()
        await settle(pilot)
        inner = app.screen
        assert isinstance(inner, CustomerFormScreen) and inner is not kept
        await keys(pilot, "Inner", *TO_EMAIL, "inner@example.com", "ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
        await keys(pilot, "escape")
        assert app.screen is kept and value_of(app, "first_name") == "Outer"
        await keys(pilot, "ctrl+s")
        assert {c.first_name for c in customers_of(desk_engine)} == {"Inner", "Outer"}


def built(form: CustomerFormScreen) -> int:
    """The form's widgets, not counting message lines (mounted with a field's first one)."""
    return sum(1 for w in form.walk_children() if not w.has_class("field-error"))


def customers_of(engine: Engine) -> list[Customer]:
    with Session(engine) as s:
        return list(s.exec(select(Customer)).all())


def tabs_to_from(app: Any, selector: str) -> list[str]:
    """The tab presses from the focused widget to ``selector``."""
    screen = app.screen
    chain = screen.focus_chain
    return ["tab"] * (chain.index(screen.query_one(selector)) - chain.index(screen.focused))


@pytest.mark.parametrize(("staff", "form"), [("rita", True), ("nina", False)])
async def test_an_idle_desk_prepares_the_form(
    desk_engine: Engine, monkeypatch: pytest.MonkeyPatch, staff: str, form: bool
) -> None:
    """One step each time the desk has been idle a moment, none while keys come: the new
    customer form (for a role that may add customers); then the preparing stops. (The
    profile's code is prepared off the UI thread, without waiting for an idle moment.)"""
    from time import monotonic

    from frontdesk import app as app_module
    from frontdesk.app import FrontdeskApp

    # The app's own idle steps never run here (a slow machine's start-up outlasts the first).
    monkeypatch.setattr(app_module, "PREPARE_AFTER_IDLE", 600.0)
    with Session(desk_engine) as s:  # a therapist may not add customers
        create_staff(session=s, name="Nina T", role="therapist", username="nina", actor=ADMIN)
        s.commit()
    steps: list[str] = []
    monkeypatch.setattr(FrontdeskApp, "prepare_profile", lambda self: steps.append("profile"))
    app = make_app(desk_engine, staff=staff)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        stopped: list[bool] = []
        app._preparing = app.preparations()
        app._prepare_timer = app.set_interval(60, lambda: None)
        monkeypatch.setattr(app._prepare_timer, "stop", lambda: stopped.append(True))
        app._key_started = monotonic()  # a key just now
        app._prepare_when_idle()
        assert app._new_form is None and steps == []
        app._key_started = monotonic() - app_module.PREPARE_AFTER_IDLE
        if form:
            app._prepare_when_idle()
            await settle(pilot)
            assert app._new_form is not None and not stopped
        app._prepare_when_idle()
        assert stopped == [True]
        assert (app._new_form is not None) is form
        assert steps == []


async def test_settling_prepares_the_profile_off_the_ui_thread(
    desk_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the start-up settles, the profile's code and first reads are prepared at once
    (in a worker thread: a desk typing without a pause since start-up gets it too), once."""
    from time import monotonic

    from frontdesk.app import FrontdeskApp

    steps: list[str] = []
    monkeypatch.setattr(FrontdeskApp, "prepare_profile", lambda self: steps.append("profile"))
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app._key_started = monotonic()  # keys are coming
        app.settle_memory()
        assert steps == ["profile"]
        app._prepare_when_idle()
        await settle(pilot)
        assert steps == ["profile"]


async def test_form_built_while_idle_is_the_one_n_opens(desk_engine: Engine) -> None:
    """The app builds the form off screen while the desk is idle, laid out at the terminal's
    size (its first layout was a third of a first opening); ``n`` then shows that one, and
    keys typed at once with it land in order."""
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.prepare_new_customer_form()
        await settle(pilot)
        prepared = app._new_form
        assert prepared is not None and app.screen is not prepared
        first_name = prepared.query_one("#f-first_name")
        assert first_name.size.width > 0 and first_name.region.width > 0  # laid out
        await keys(pilot, "n", "Maria", "tab", "Lopez", *TO_EMAIL[1:], "maria@example.com")
        assert app.screen is prepared
        assert app._background_screens == []
        await keys(pilot, "ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
        saved = one_customer(desk_engine, email="maria@example.com")
        assert (saved.first_name, saved.last_name) == ("Maria", "Lopez")


def _tree(screen: Any) -> list[tuple[str, str | None, tuple[str, ...]]]:
    """The form's widgets in order (the footer's keys depend on the screen shown)."""
    form = screen.query_one("#form")
    return [(type(w).__name__, w.id, tuple(sorted(w.classes))) for w in form.walk_children()]


async def _staged_to_the_end(app: Any, pilot: Any) -> None:
    """Let the form being built a step at a time (stage_new_customer_form) finish."""
    for _ in range(500):
        if app._new_form is not None and app._new_form.complete and app._staging is None:
            break
        await pilot.pause(0.02)
    await settle(pilot)


async def test_form_built_a_few_widgets_at_a_time_while_typing_is_the_whole_form(
    desk_engine: Engine,
) -> None:
    """From start-up the app builds the form in small steps between keys, while the desk
    types without a pause: keys typed meanwhile land where they were typed, the form built
    has every widget a composed form has, in the same order, laid out, and ``n`` then shows
    that one, with keys typed at once landing in order."""
    from frontdesk import app as app_module

    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.stage_new_customer_form()
        staged = app._new_form
        assert staged is not None and not staged.complete
        before = len(list(staged.walk_children()))
        await keys(pilot, "slash", "maria lopez de la cruz", "ctrl+u", "jose", "ctrl+u")
        await keys(pilot, "Maria Lopez", "enter")  # nothing matched: letters are actions
        await _staged_to_the_end(app, pilot)
        assert isinstance(app.screen, DirectoryScreen)
        assert app.screen.query_one("#search", Input).value == "Maria Lopez"
        assert app._new_form is staged and staged.complete and app.screen is not staged
        assert len(list(staged.walk_children())) > before + 50  # built after start-up
        assert staged.query_one("#f-first_name").region.width > 0  # laid out
        composed = CustomerFormScreen()  # composed at once, off screen like the staged one
        app.install_screen(composed, "composed")
        _screen, mounted = app._get_screen(composed)
        await mounted
        await settle(pilot)
        assert _tree(staged) == _tree(composed)
        # ``n`` adds the customer typed.
        await keys(pilot, "n", *TO_EMAIL, "m@example.com")
        assert app.screen is staged
        assert value_of(app, "first_name") == "Maria" and value_of(app, "email") == "m@example.com"
        await keys(pilot, "ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
        saved = one_customer(desk_engine, email="m@example.com")
        assert (saved.first_name, saved.last_name) == ("Maria", "Lopez")
        assert app_module.STAGE_EVERY <= 0.05  # a step between keys, not after a pause


async def test_n_before_the_staged_form_is_complete_opens_a_whole_form(
    desk_engine: Engine,
) -> None:
    """``n`` typed before the form being built is complete drops that one and composes a
    whole form, as without it: the keys typed at once land in it and it saves; the next
    ``n`` reopens it."""
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.stage_new_customer_form()
        assert app._stage_timer is not None
        app._stage_timer.pause()  # (not complete whatever the machine's speed)
        partial = app._new_form
        await keys(pilot, "n", "Ann", "tab", "[Lee]", *TO_EMAIL[1:], "ann@example.com", "ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
        saved = one_customer(desk_engine, email="ann@example.com")
        assert (saved.first_name, saved.last_name) == ("Ann", "[Lee]")
        assert partial is not None and not partial.is_attached  # dropped
        kept = app._new_form
        assert kept is not None and kept is not partial and kept.complete
        await keys(pilot, "escape", "escape", "n")
        assert app.screen is kept and value_of(app, "first_name") == ""

"""Several desks, one truth: what another terminal saves shows here without a key; a form being
typed in is never overwritten; an idle app holds no read snapshot (the WAL can checkpoint)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select
from textual.widgets import DataTable, Input, Static

from frontdesk.data import customers as svc
from frontdesk.data.models import Customer, Staff
from frontdesk.screens.customer_form import CustomerFormScreen
from frontdesk.screens.directory import DirectoryScreen
from frontdesk.screens.profile import ProfileScreen
from tests.ui.conftest import SIZE, burst, make_app, settle, wait_until


def other_desk_renames(engine: Engine, code: str, display: str) -> None:
    """Another terminal (its own connection) changes a customer."""
    with Session(engine) as s:
        admin = s.exec(select(Staff).where(col(Staff.username) == "admin")).one()
        customer = s.exec(select(Customer).where(col(Customer.code) == code)).one()
        assert customer.id is not None
        svc.update_customer(
            session=s,
            customer_id=customer.id,
            data=svc.CustomerUpdate(display_name=display),
            expected_version=customer.version,
            actor=admin,
        )
        s.commit()


def shown_rows(app: Any) -> list[str]:
    table = app.screen.query_one("#customers", DataTable)
    return [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


def highlighted_code(app: Any) -> str:
    table = app.screen.query_one("#customers", DataTable)
    return str(table.get_row_at(table.cursor_row)[1])


async def test_directory_and_profile_follow_another_desk(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "down", "down", "down")
        code = highlighted_code(app)
        other_desk_renames(demo_engine, code, "Renamed Elsewhere")
        await wait_until(pilot, lambda: any("Renamed Elsewhere" in r for r in shown_rows(app)))
        assert isinstance(app.screen, DirectoryScreen)
        assert highlighted_code(app) == code  # the place is kept
        # An open profile follows too.
        await burst(pilot, "enter")
        assert isinstance(app.screen, ProfileScreen)
        other_desk_renames(demo_engine, code, "Renamed Again")
        await wait_until(
            pilot, lambda: "Renamed Again" in str(app.screen.query_one("#p-name", Static).render())
        )


async def test_a_form_being_typed_is_never_overwritten(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "down")
        code = highlighted_code(app)
        await burst(pilot, "e", "tab", "tab", "Mine")
        assert isinstance(app.screen, CustomerFormScreen)
        other_desk_renames(demo_engine, code, "Theirs")
        await wait_until(
            pilot,
            lambda: (
                "changed in another terminal"
                in str(app.screen.query_one("#form-banner", Static).render())
            ),
        )
        banner = str(app.screen.query_one("#form-banner", Static).render())
        assert "Theirs" in banner and "ctrl+r loads theirs" in banner
        assert app.screen.query_one("#f-display_name", Input).value == "Mine"
        # A save typed before the banner could be read is still refused once ...
        await burst(pilot, "ctrl+s")
        assert isinstance(app.screen, CustomerFormScreen)
        with Session(demo_engine) as s:
            assert (
                s.exec(select(Customer).where(col(Customer.code) == code)).one().display_name
                == "Theirs"
            )
        await burst(pilot, "ctrl+s")  # ... and a second ctrl+s keeps ours, deliberately
        assert isinstance(app.screen, DirectoryScreen)
    with Session(demo_engine) as s:
        saved = s.exec(select(Customer).where(col(Customer.code) == code)).one()
        assert saved.display_name == "Mine"


async def test_ctrl_r_keeps_the_tags_ticked_here(demo_engine: Engine) -> None:
    """A tag ticked in the form, another desk's change, ctrl+r (load theirs), ctrl+s: the
    tag ticked here is saved (counted from what the form was loaded with, not from the
    reloaded form, which already held it)."""
    from textual.widgets import SelectionList

    from frontdesk.data.customers import tags_of
    from tests.ui.test_form_flows import tabs_to_from

    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "down")
        code = highlighted_code(app)
        await burst(pilot, "e")
        form = app.screen
        assert isinstance(form, CustomerFormScreen)
        tags = form.query_one("#f-tags", SelectionList)
        before = set(tags.selected)
        await burst(pilot, *tabs_to_from(app, "#f-tags"))
        # The first tag not ticked yet: down to it (the list opens with none highlighted),
        # space.
        first_free = next(
            i for i in range(tags.option_count) if tags.get_option_at_index(i).value not in before
        )
        await burst(pilot, *["down"] * (first_free + 1), "space")
        ticked = set(tags.selected) - before
        assert len(ticked) == 1
        other_desk_renames(demo_engine, code, "Theirs")
        await wait_until(
            pilot,
            lambda: "ctrl+r" in str(form.query_one("#form-banner", Static).render()),
        )
        await burst(pilot, "ctrl+r", "ctrl+s")
        assert isinstance(app.screen, DirectoryScreen)
    with Session(demo_engine) as s:
        saved = s.exec(select(Customer).where(col(Customer.code) == code)).one()
        assert saved.display_name == "Theirs"
        assert {t.id for t in tags_of(session=s, customer_id=saved.id or 0)} >= ticked


async def test_an_idle_app_lets_the_wal_checkpoint(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        code = highlighted_code(app)
        other_desk_renames(demo_engine, code, "Checkpoint Me")
        await wait_until(pilot, lambda: any("Checkpoint Me" in r for r in shown_rows(app)))
        await settle(pilot, 1.5)  # idle, with the live check running meanwhile
        raw = demo_engine.raw_connection()  # autocommit: no transaction of its own
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, log, done = cursor.fetchone() or (None, None, None)
        finally:
            raw.close()
        assert busy == 0 and log == done  # nobody held a read snapshot
        with demo_engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1


async def test_the_booking_picker_sees_a_block_made_elsewhere(demo_engine: Engine) -> None:
    from frontdesk.screens.booking import NewBookingScreen

    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        with Session(demo_engine) as s:
            live = s.exec(
                select(Customer)
                .where(col(Customer.blocked).is_(False), col(Customer.deleted_at).is_(None))
                .order_by(col(Customer.sort_key))
            ).first()
            assert live is not None
            code = live.code
        await burst(pilot, "/", code, "down", "b")
        screen = app.screen
        assert isinstance(screen, NewBookingScreen)
        await wait_until(pilot, lambda: screen.picker.customer is not None)
        with Session(demo_engine) as s:
            admin = s.exec(select(Staff).where(col(Staff.username) == "admin")).one()
            target = s.exec(select(Customer).where(col(Customer.code) == code)).one()
            assert target.id is not None
            svc.block_customer(
                session=s, customer_id=target.id, reason="Owes 3 visits", actor=admin
            )
            s.commit()
        await wait_until(pilot, lambda: screen.picker.customer is None)
        hint = str(app.screen.query_one("#picker-hint", Static).render())
        assert "is blocked: Owes 3 visits — cannot be booked" in hint


async def test_a_change_noticed_while_a_profile_opens_waits_for_it(demo_engine: Engine) -> None:
    """The live check can tell the screens of a change while a profile being opened is on top
    of the stack but not composed yet (CI: "No nodes match '#tabs'" from the live worker). It
    re-reads once it is up, and shows the change."""
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        code = highlighted_code(app)
        with Session(demo_engine) as s:
            customer_id = s.exec(select(Customer.id).where(col(Customer.code) == code)).one()
        assert customer_id is not None
        profile = ProfileScreen(customer_id)
        app.push_screen(profile)
        assert app.screen is profile and not profile.is_mounted
        other_desk_renames(demo_engine, code, "Changed Meanwhile")
        app.data_changed()  # what the live worker calls from its thread: raised NoMatches
        await settle(pilot)
        assert app.screen is profile
        await wait_until(
            pilot, lambda: "Changed Meanwhile" in str(profile.query_one("#p-name", Static).render())
        )

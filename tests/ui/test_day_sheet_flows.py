"""Pilot tests of the day sheet (T): check-in, done with its order, no-show, cancel with a
reason, reschedule, day navigation, the therapist's view and live refresh, keys pressed at
full speed, asserting on the database and on the screen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.widgets import DataTable, Input, Static

from frontdesk import app as app_module
from frontdesk.data import bookings as bk
from frontdesk.data import customers as svc
from frontdesk.data import day_sheet as ds
from frontdesk.data import notes
from frontdesk.data.models import Booking, Category, Order, Staff
from frontdesk.screens.common import PromptModal
from frontdesk.screens.day_sheet import DaySheetScreen, FreeSlotsModal
from frontdesk.screens.profile import ProfileScreen
from tests.actors import ADMIN
from tests.ui.conftest import NOW, SIZE, make_app, settle, wait_until
from tests.ui.test_directory_flows import keys

DAY = NOW.date()  # 2026-11-02, the app's clock: 12:00 UTC

# (hour, minute, staff, first name, last name) booked on DAY at Rita's branch, by time.
PLAN = [
    (9, 0, "Nina A.", "Ann", "Early"),  # checked in at 09:05
    (9, 0, "Omar A.", "Ben", "Done"),  # completed
    (10, 0, "Petra A.", "Cleo", "Alert"),  # late, with an alert note
    (11, 30, "Quinn A.", "[bold]Dan[/bold]", "Brackets"),  # late, markup in the name
    (12, 30, "Nina A.", "Eve", "Vip"),  # to come, VIP
    (13, 0, "Omar A.", "Finn", "Cancel"),  # cancelled
    (14, 0, "Petra A.", "Gus", "Notes"),  # to come, with notes
    (15, 0, "Quinn A.", "Hana", "Pending"),  # to come
]


@pytest.fixture(autouse=True)
def patient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    # A loaded test machine must not let keys overtake each other (see test_booking_flows).
    monkeypatch.setattr(app_module, "KEY_WATCHDOG", 5.0)


@pytest.fixture
def busy_engine(demo_engine: Engine) -> Iterator[Engine]:
    """The demo plus a busy DAY at Rita's branch (see PLAN)."""
    with Session(demo_engine) as s:
        rita = s.exec(select(Staff).where(col(Staff.username) == "rita")).one()
        staff = {p.name: p.id for p in s.exec(select(Staff))}
        vip = s.exec(select(Category).where(col(Category.name) == "VIP")).one()
        service = bk.list_services(session=s)[0]
        ids = []
        for number, (h, m, who, first, last) in enumerate(PLAN):
            customer = svc.create_customer(
                actor=ADMIN,
                session=s,
                data=svc.CustomerCreate(
                    first_name=first,
                    last_name=last,
                    email=f"day{number}@example.com",
                    category_id=vip.id if first == "Eve" else None,
                ),
            )
            booking = bk.create_booking(
                session=s,
                customer_id=customer.id or 0,
                service_id=service.id or 0,
                branch_id=rita.branch_id or 0,
                staff_id=staff[who],
                start_at=datetime(DAY.year, DAY.month, DAY.day, h, m, tzinfo=UTC),
                actor=ADMIN,
                notes="Wants the [window] seat" if first == "Gus" else None,
            )
            ids.append(booking.id or 0)
        cleo = s.get(Booking, ids[2])
        assert cleo is not None
        notes.add_note(
            session=s,
            customer_id=cleo.customer_id,
            body="Latex allergy",
            is_alert=True,
            actor=ADMIN,
        )
        ds.check_in(
            session=s, booking_id=ids[0], actor=ADMIN, now=NOW.replace(hour=9, minute=5), tz=UTC
        )
        bk.change_status(session=s, booking_id=ids[1], action="complete", actor=ADMIN)
        bk.change_status(session=s, booking_id=ids[5], action="cancel", actor=ADMIN, reason="Flu")
        s.commit()
    yield demo_engine


def booking_of(engine: Engine, first_name: str) -> Booking:
    with Session(engine) as s:
        from frontdesk.data.models import Customer

        return s.exec(
            select(Booking)
            .join(Customer, col(Customer.id) == col(Booking.customer_id))
            .where(col(Customer.first_name) == first_name)
        ).one()


def rows(app: Any) -> list[str]:
    table = app.screen.query_one("#ds-table", DataTable)
    return [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


def highlighted(app: Any) -> str:
    table = app.screen.query_one("#ds-table", DataTable)
    return " ".join(str(c) for c in table.get_row_at(table.cursor_row))


def day_label(app: Any) -> str:
    return str(app.screen.query_one("#ds-day", Static).render())


async def test_the_day_sheet_shows_the_day_by_time(busy_engine: Engine) -> None:
    app = make_app(busy_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "T")
        assert isinstance(app.screen, DaySheetScreen)
        shown = rows(app)
        assert all("09:00–09:30" in r for r in shown[:2]) and "10:00–10:30" in shown[2]
        assert len(shown) == len(PLAN)
        assert "✓ 09:05" in shown[0]
        assert "completed" in shown[1]
        cleo = next(r for r in shown if "Cleo" in r)
        assert "⚠" in cleo and "! LATE 2 h 00" in cleo and cleo.startswith("!")
        assert any("[bold]Dan[/bold]" in r and "LATE 30 min" in r for r in shown)
        eve = next(r for r in shown if "Eve" in r)
        assert "LATE" not in eve and not eve.startswith("!")
        assert "✎ notes" in next(r for r in shown if "Gus" in r)
        summary = str(app.screen.query_one("#ds-summary", Static).render())
        assert "7 bookings" in summary and "1 arrived" in summary and "2 late" in summary
        assert "today" in day_label(app)


async def test_a_long_name_is_cut_and_the_other_columns_stay(busy_engine: Engine) -> None:
    """A 100-character name ends in "…" on the day sheet, and its service, status and
    arrival stay on the screen (they were pushed off at 120 columns)."""
    cleo = booking_of(busy_engine, "Cleo")
    with Session(busy_engine) as s:
        customer = svc.get_customer(session=s, customer_id=cleo.customer_id)
        svc.update_customer(
            session=s,
            customer_id=cleo.customer_id,
            data=svc.CustomerUpdate(last_name="[bold]" + "L" * 94),
            expected_version=customer.version,
            actor=ADMIN,
        )
        s.commit()
    app = make_app(busy_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "T")
        assert isinstance(app.screen, DaySheetScreen)
        row = next(r for r in rows(app) if "Cleo" in r)
        assert "[bold]LLL" in row and "L" * 40 not in row and "…" in row
        assert "⚠" in row and "! LATE" in row  # the marks after the name stay too
        from tests.ui.test_profile_flows import screen_text

        shown = screen_text(app)  # what the terminal shows, 120 columns wide
        assert "Status" in shown and "Arrived" in shown and "LATE 2 h" in shown


async def test_check_in_at_full_speed_keeps_the_row(busy_engine: Engine) -> None:
    app = make_app(busy_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Cleo is the third row: T, two downs, a; then Dan's (next row) too.
        await keys(pilot, "T", "down", "down", "a", "down", "a")
        cleo, dan = booking_of(busy_engine, "Cleo"), booking_of(busy_engine, "[bold]Dan[/bold]")
        assert cleo.arrived_at is not None and dan.arrived_at is not None
        assert cleo.version == 2 and dan.version == 2
        assert "[bold]Dan[/bold]" in highlighted(app) and "✓ 12:00" in highlighted(app)
        assert "LATE" not in " ".join(rows(app))
        # Checking in again is refused, said, and changes nothing.
        await keys(pilot, "a")
        assert booking_of(busy_engine, "[bold]Dan[/bold]").version == 2
        assert "[bold]Dan[/bold]" in highlighted(app)


async def test_check_in_of_a_cancelled_booking_is_refused(busy_engine: Engine) -> None:
    app = make_app(busy_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "T", *["down"] * 5, "a")  # Finn: cancelled
        assert "Finn" in highlighted(app)
        assert booking_of(busy_engine, "Finn").arrived_at is None
        assert isinstance(app.screen, DaySheetScreen)


async def test_no_show_cancel_and_done_with_order(busy_engine: Engine) -> None:
    app = make_app(busy_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Cleo no-show; Dan cancelled with a reason; Eve (12:30) arrived early and done, with
        # her order.
        await keys(
            pilot, "T", "down", "down", "n", "down", "x", "Stuck in traffic", "enter",
            "down", "a", "d", "enter",
        )  # fmt: skip
        assert booking_of(busy_engine, "Cleo").status == "no_show"
        dan = booking_of(busy_engine, "[bold]Dan[/bold]")
        assert dan.status == "cancelled" and dan.cancellation_reason == "Stuck in traffic"
        eve = booking_of(busy_engine, "Eve")
        assert eve.status == "completed"
        with Session(busy_engine) as s:
            assert s.exec(select(Order).where(col(Order.booking_id) == eve.id)).one()
        assert "Eve" in highlighted(app) and "completed" in highlighted(app)
        shown = " ".join(rows(app))
        assert "no-show" in shown and "LATE" not in shown


def messages(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_no_show_and_done_wait_for_the_time_or_the_customer(busy_engine: Engine) -> None:
    app = make_app(busy_engine)  # the clock: 12:00
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Gus (14:00, still to come): neither a no-show nor done yet (refused at once, with
        # no question about the order first).
        await keys(pilot, "T", *["down"] * 6, "n", "d")
        gus = booking_of(busy_engine, "Gus")
        assert gus.status == "confirmed" and gus.version == 1
        with Session(busy_engine) as s:
            assert s.exec(select(Order).where(col(Order.booking_id) == gus.id)).first() is None
        said = messages(app)
        assert any(
            "starts at 14:00: a no-show is marked once its time has passed" in m for m in said
        )
        assert any("starts at 14:00: a visit is marked done" in m for m in said)
        assert isinstance(app.screen, DaySheetScreen) and "Gus" in highlighted(app)
        # He arrives early: not a no-show, and his visit can be done before 14:00.
        await keys(pilot, "a", "n")
        gus = booking_of(busy_engine, "Gus")
        assert gus.status == "confirmed" and gus.arrived_at is not None
        assert any("arrived at 12:00: not a no-show" in m for m in messages(app))
        await keys(pilot, "d", "down", "enter")  # done, no order now
        assert booking_of(busy_engine, "Gus").status == "completed"
        assert "Gus" in highlighted(app) and "completed" in highlighted(app)
        assert app.crash_report is None


async def test_a_mistaken_no_show_is_undone(busy_engine: Engine) -> None:
    app = make_app(busy_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Cleo (10:00) marked no-show, then she turns up: n again asks, y undoes it.
        await keys(pilot, "T", "down", "down", "n", "n", "y")
        cleo = booking_of(busy_engine, "Cleo")
        assert cleo.status == "confirmed" and cleo.version == 3
        assert any("no-show undone" in m for m in messages(app))
        assert "Cleo" in highlighted(app) and "LATE" in highlighted(app)
        # Marked again, and meanwhile her time is booked for someone else: the undo is
        # refused with the clash, and she stays a no-show.
        await keys(pilot, "n")
        assert booking_of(busy_engine, "Cleo").status == "no_show"
        with Session(busy_engine) as s:
            bk.create_booking(
                session=s,
                customer_id=booking_of(busy_engine, "Ben").customer_id,
                service_id=cleo.service_id,
                branch_id=cleo.branch_id,
                staff_id=cleo.staff_id,
                start_at=cleo.start_at.replace(tzinfo=UTC),
                actor=ADMIN,
            )
            s.commit()
        await keys(pilot, "n", "y")
        assert booking_of(busy_engine, "Cleo").status == "no_show"
        assert any("is busy then" in m and "Ben Done" in m for m in messages(app))
        assert isinstance(app.screen, DaySheetScreen) and app.crash_report is None


async def test_reschedule_moves_the_row_and_keeps_it_highlighted(busy_engine: Engine) -> None:
    app = make_app(busy_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "T", "down", "down", "r", "ctrl+u", "2026-11-02 16:30", "enter")
        cleo = booking_of(busy_engine, "Cleo")
        assert cleo.start_at.replace(tzinfo=UTC) == datetime(2026, 11, 2, 16, 30, tzinfo=UTC)
        assert "Cleo" in highlighted(app) and "16:30" in highlighted(app)
        assert "Cleo" in rows(app)[-1]  # now the last of the day
        # A time taken by the same staff member is refused with the next free time.
        await keys(pilot, "up", "r", "ctrl+u", "2026-11-02 11:30", "enter")  # Hana: Dan's time
        hana = booking_of(busy_engine, "Hana")
        assert hana.start_at.replace(tzinfo=UTC).hour == 15 and hana.version == 1
        # ... in the dialog, under the field, and what was typed stays.
        assert isinstance(app.screen, PromptModal)
        refused = str(app.screen.query_one("#answer-error").render())
        assert "is busy then" in refused and "free at" in refused
        # ... all of it, wrapped inside the dialog (a long refusal was cut at its width).
        label, dialog = app.screen.query_one("#answer-error"), app.screen.query_one(".dialog")
        assert label.region.right <= dialog.content_region.right
        assert label.size.width * label.size.height >= len(refused) and label.size.height > 1
        assert app.screen.query_one("#answer", Input).value == "2026-11-02 11:30"
        await keys(pilot, "escape")
        assert "Hana" in highlighted(app)
        # A bad date stays in the dialog with its message under the field.
        await keys(pilot, "r", "ctrl+u", "tomorrow", "enter")
        assert "YYYY-MM-DD" in str(app.screen.query_one("#answer-error").render())
        await keys(pilot, "escape")
        assert isinstance(app.screen, DaySheetScreen)


async def test_day_navigation(busy_engine: Engine) -> None:
    app = make_app(busy_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "T", "]", "]", "[")
        screen = app.screen
        assert isinstance(screen, DaySheetScreen)
        assert screen.day == DAY + timedelta(days=1) and "tomorrow" in day_label(app)
        assert rows(app) == []
        assert "No bookings on this day" in str(screen.query_one("#ds-empty", Static).render())
        await keys(pilot, "t")
        assert screen.day == DAY and len(rows(app)) == len(PLAN)
        # Go to a date: a bad one is refused under the field, a good one is shown.
        await keys(pilot, "g", "ctrl+u", "2026-13-01", "enter")
        said = str(app.screen.query_one("#answer-error").render())
        assert "2026-13-01 is not a day of the calendar" in said  # the shape was right
        await keys(pilot, "ctrl+u", "13-1-2026", "enter")
        assert "YYYY-MM-DD" in str(app.screen.query_one("#answer-error").render())
        await keys(pilot, "ctrl+u", "2026-11-01", "enter")
        assert screen.day == DAY - timedelta(days=1) and "yesterday" in day_label(app)
        assert len(rows(app)) == 1  # the demo's one booking that day
        await keys(pilot, "escape")
        assert not isinstance(app.screen, DaySheetScreen)


async def test_enter_opens_the_customer_and_free_times(busy_engine: Engine) -> None:
    app = make_app(busy_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "T", "down", "down", "enter")
        assert isinstance(app.screen, ProfileScreen)
        assert app.screen.customer_id == booking_of(busy_engine, "Cleo").customer_id
        await keys(pilot, "escape", "f")
        assert isinstance(app.screen, FreeSlotsModal)
        await wait_until(
            pilot, lambda: "Nina A." in str(app.screen.query_one("#fs-times").render())
        )
        text = str(app.screen.query_one("#fs-times").render())
        # Nina: 09:00 and 12:30 booked (30 min): free from 12:00, then not at 12:30.
        assert "Omar A." in text and "12:00" in text
        await keys(pilot, "escape")
        assert isinstance(app.screen, DaySheetScreen)


async def test_staff_filter_and_therapist_view(busy_engine: Engine) -> None:
    app = make_app(busy_engine, staff="nina.a")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "T")
        shown = rows(app)
        assert len(shown) == 2 and all("Nina A." in r for r in shown)
        # A therapist cannot check in (the desk does): the key does nothing.
        await keys(pilot, "down", "a")
        assert booking_of(busy_engine, "Eve").arrived_at is None


async def test_another_desk_checks_in_and_the_sheet_follows(busy_engine: Engine) -> None:
    app = make_app(busy_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "T", "down", "down", "down")
        cleo = booking_of(busy_engine, "Cleo")
        with Session(busy_engine) as s:
            ds.check_in(session=s, booking_id=cleo.id or 0, actor=ADMIN, now=NOW, tz=UTC)
            s.commit()
        await wait_until(pilot, lambda: any("Cleo" in r and "✓ 12:00" in r for r in rows(app)))
        assert "[bold]Dan[/bold]" in highlighted(app)  # the place is kept


async def test_a_booking_request_from_outside_shows_on_the_sheet(busy_engine: Engine) -> None:
    from frontdesk.screens.requests import RequestsScreen
    from tests.ui.test_requests_flows import seed

    app = make_app(busy_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "T")
        summary = lambda: str(app.screen.query_one("#ds-summary", Static).render())  # noqa: E731
        assert "request" not in summary()
        seed(busy_engine)  # the website sends two requests while the sheet is open
        await wait_until(pilot, lambda: "2 booking requests waiting (R)" in summary())
        await keys(pilot, "R")
        assert isinstance(app.screen, RequestsScreen)


async def test_staff_filter_and_branch_by_keys(busy_engine: Engine) -> None:
    app = make_app(busy_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "T", "s", "enter", "O", "enter", "escape")
        shown = rows(app)
        assert len(shown) == 2 and all("Omar A." in r for r in shown)
        assert app.screen.focused is app.screen.query_one("#ds-table")
        # Grouped by staff member, then another branch (none of PLAN's bookings there).
        await keys(pilot, "v", "B", "enter", "H", "enter", "escape")
        screen = app.screen
        assert isinstance(screen, DaySheetScreen) and screen.by_staff
        assert screen.sheet is not None and screen.branch_id != rita_branch(busy_engine)
        assert rows(app) == [] and screen.staff_id is None


def rita_branch(engine: Engine) -> int:
    with Session(engine) as s:
        return s.exec(select(Staff).where(col(Staff.username) == "rita")).one().branch_id or 0


async def test_book_at_the_highlighted_time(busy_engine: Engine) -> None:
    from textual.widgets import Input

    from frontdesk.screens.booking import NewBookingScreen

    app = make_app(busy_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "T", *["down"] * 4, "b")  # Eve, 12:30
        assert isinstance(app.screen, NewBookingScreen)
        await wait_until(pilot, lambda: app.screen.query_one("#bk-time", Input).value != "")
        assert app.screen.query_one("#bk-date", Input).value == "2026-11-02"
        assert app.screen.query_one("#bk-time", Input).value == "12:30"
        await keys(pilot, "escape")
        if not isinstance(app.screen, DaySheetScreen):
            await keys(pilot, "y")  # discard what the form holds
        assert isinstance(app.screen, DaySheetScreen)
        # An empty day that is not today: its opening time.
        await keys(pilot, "]", "b")
        await wait_until(pilot, lambda: app.screen.query_one("#bk-time", Input).value != "")
        assert app.screen.query_one("#bk-date", Input).value == "2026-11-03"
        assert app.screen.query_one("#bk-time", Input).value == "09:00"


async def test_random_keys_on_the_day_sheet_never_crash(busy_engine: Engine) -> None:
    import random

    pool = [
        *"adnxrbfgtvsBTy", "left_square_bracket", "right_square_bracket",
        "enter", "escape", "down", "up", "down", "tab", "ctrl+u", "2026-11-02 17:45",
    ]  # fmt: skip
    rng = random.Random(20261102)
    app = make_app(busy_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "T")
        for _ in range(6):
            await keys(pilot, *[rng.choice(pool) for _ in range(40)])
            assert app.crash_report is None and app.is_running

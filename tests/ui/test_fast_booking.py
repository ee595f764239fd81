"""The fastest booking at the desk, replayed key by key at full speed (issue 14).

Each flow is one burst of keys; the keys that are not the typed fields themselves (phone,
name, part of the service name, the 4 phone digits) are counted and must be 8 at most. The
tests then check the booking in the database (customer, service, staff, time) and the screen.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.widgets import Input

from frontdesk import app as app_module
from frontdesk.data import bookings as bk
from frontdesk.data import directory
from frontdesk.data.booking_flow import next_quarter, service_staff
from frontdesk.data.models import Booking, Customer, Service, Staff
from frontdesk.screens.booking import FilterOverlay, NewBookingScreen, local_tz
from frontdesk.screens.profile import ProfileScreen
from frontdesk.widgets.select import Select
from tests.actors import ADMIN
from tests.ui.conftest import NOW, SIZE, make_app, settle, wait_until
from tests.ui.test_directory_flows import keys

# Before (measured on the real program, README flow): b, the phone (10), ctrl+n, the name
# (5), ctrl+s, service enter w enter, staff tab enter down enter, tab tab, the time (4),
# ctrl+s: 32 keys, 13 of them not the phone, name or time (and the time had to be known).
WALK_IN_PHONE = "2025550143"
WALK_IN_NAME = "Tessa"
SERVICE_PART = "wom"  # Women's cut
WALK_IN = [
    "b",  # from the directory
    WALK_IN_PHONE,  # typed
    "ctrl+n",  # nobody has it: add them, the phone pre-filled
    WALK_IN_NAME,  # typed
    "ctrl+s",  # saved and chosen; the focus is on the service
    SERVICE_PART,  # typed: filters the service list, the first match highlighted
    "enter",  # takes it; the first free start shows under the fields
    "ctrl+t",  # takes the first free start (staff: first free)
    "ctrl+s",  # books
]
WALK_IN_TYPED = {WALK_IN_PHONE, WALK_IN_NAME, SERVICE_PART}


def other_keys(flow: list[str], typed: set[str]) -> int:
    """The keys of a flow that are not typed text."""
    return sum(1 for part in flow if part not in typed)


@pytest.fixture(autouse=True)
def patient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """A loaded machine can take longer than the key watchdog: these tests are about where
    keys land, not about the watchdog."""
    monkeypatch.setattr(app_module, "KEY_WATCHDOG", 5.0)


def service_named(engine: Engine, name: str) -> Service:
    with Session(engine) as s:
        return s.exec(select(Service).where(col(Service.name) == name)).one()


def operator_branch(engine: Engine) -> int:
    with Session(engine) as s:
        rita = s.exec(select(Staff).where(col(Staff.username) == "rita")).one()
        assert rita.branch_id is not None
        return rita.branch_id


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=local_tz())


def busy(engine: Engine, staff_id: int, start: datetime, end: datetime) -> bool:
    with Session(engine) as s:
        return (
            bk.find_conflict(session=s, staff_id=staff_id, start_at=start, end_at=end) is not None
        )


def assert_first_free(engine: Engine, booking: Booking, branch_id: int, now: datetime) -> None:
    """Checked the long way: the booking's therapist is free then, every therapist before
    them (by name) is busy then, and at no earlier quarter hour of opening time since
    ``now`` was any therapist of the branch free."""
    start, end = aware(booking.start_at), aware(booking.end_at)
    with Session(engine) as s:
        staff = service_staff(session=s, branch_id=branch_id)
    ids = [m.id for m in staff]
    assert booking.staff_id in ids
    assert all(busy(engine, sid or 0, start, end) for sid in ids[: ids.index(booking.staff_id)])
    length = end - start
    t = next_quarter(now)
    while t < start:
        local = t.astimezone(local_tz())
        opens = local.replace(hour=9, minute=0)
        closes = local.replace(hour=19, minute=0)
        if local >= opens and local + length <= closes:
            assert all(busy(engine, sid or 0, t, t + length) for sid in ids), t
        t += timedelta(minutes=15)


async def test_walk_in_at_the_first_free_time(demo_engine: Engine) -> None:
    assert other_keys(WALK_IN, WALK_IN_TYPED) == 6 <= 8
    women_cut = service_named(demo_engine, "Women's cut")
    branch_id = operator_branch(demo_engine)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await keys(pilot, *WALK_IN)  # one burst from the moment the app starts
        await settle(pilot, 0.3)
        assert isinstance(app.screen, ProfileScreen), app.screen
        with Session(demo_engine) as s:
            customer = s.exec(select(Customer).where(col(Customer.phone) == "+12025550143")).one()
            assert (customer.first_name, customer.created_via) == (WALK_IN_NAME, "booking")
            booking = s.exec(select(Booking).where(col(Booking.customer_id) == customer.id)).one()
        assert customer.code in str(app.screen.title)
        assert (booking.service_id, booking.branch_id, booking.status) == (
            women_cut.id,
            branch_id,
            "confirmed",
        )
        assert_first_free(demo_engine, booking, branch_id, NOW)
        # The directory below did not receive a stray key.
        assert app.screen_stack[1].query_one("#search").value == ""  # type: ignore[attr-defined]


def four_digits_of_one_customer(engine: Engine) -> tuple[Customer, str]:
    """A live customer whose last 4 phone digits find them first in the directory."""
    with Session(engine) as s:
        for customer in s.exec(
            select(Customer)
            .where(
                col(Customer.blocked).is_(False),
                col(Customer.deleted_at).is_(None),
                col(Customer.merged_into_id).is_(None),
                col(Customer.phone).is_not(None),
            )
            .order_by(col(Customer.id))
        ):
            digits = (customer.phone or "")[-4:]
            rows = directory.load_directory_page(
                session=s, text=digits, limit=2, with_count=False
            ).rows
            if len(rows) == 1 and rows[0].id == customer.id:
                return customer, digits
    raise AssertionError("no customer is found alone by 4 digits")


async def test_existing_customer_by_four_digits_at_the_next_free_time(
    demo_engine: Engine,
) -> None:
    customer, digits = four_digits_of_one_customer(demo_engine)
    colour = service_named(demo_engine, "Colour")
    branch_id = operator_branch(demo_engine)
    flow = [
        "/",  # the directory's search
        digits,  # typed: 4 phone digits
        "enter",  # to the results (the customer highlighted)
        "b",  # book them: the form opens with them
        "enter",  # keep them; the focus is on the service
        "c",  # Colour (one letter: counted as a key too)
        "enter",  # takes it
        "ctrl+t",  # the first free start
        "ctrl+s",  # books
    ]
    assert other_keys(flow, {digits}) == 8
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, *flow)
        await settle(pilot, 0.3)
        assert isinstance(app.screen, ProfileScreen), app.screen
        assert customer.code in str(app.screen.title)
    with Session(demo_engine) as s:
        booking = s.exec(
            select(Booking)
            .where(col(Booking.customer_id) == customer.id)
            .order_by(col(Booking.id).desc())
        ).first()
    assert booking is not None and booking.created_by_id is not None
    assert (booking.service_id, booking.branch_id, booking.status) == (
        colour.id,
        branch_id,
        "confirmed",
    )
    assert_first_free(demo_engine, booking, branch_id, NOW)


async def test_first_free_passes_over_a_busy_first_therapist(demo_engine: Engine) -> None:
    """The first therapist (by name) is busy at the next quarter hour: the form offers that
    same time with the next therapist, and the booking goes to them."""
    women_cut = service_named(demo_engine, "Women's cut")
    branch_id = operator_branch(demo_engine)
    start = next_quarter(NOW)
    local = start.astimezone(local_tz())
    if not (9 <= local.hour < 17):
        pytest.skip("the test clock's next quarter hour is outside opening hours here")
    with Session(demo_engine) as s:
        staff = service_staff(session=s, branch_id=branch_id)
        assert len(staff) >= 2
        # Clear the day for everyone but the first therapist, who gets a booking then.
        for b in s.exec(
            select(Booking).where(
                col(Booking.branch_id) == branch_id,
                col(Booking.start_at) < start + timedelta(hours=10),
                col(Booking.end_at) > start - timedelta(hours=10),
            )
        ):
            s.delete(b)
        s.commit()
        other = s.exec(
            select(Customer)
            .where(col(Customer.blocked).is_(False), col(Customer.deleted_at).is_(None))
            .order_by(col(Customer.id))
        ).first()
        assert other is not None
        bk.create_booking(
            session=s,
            customer_id=other.id or 0,
            service_id=women_cut.id or 0,
            branch_id=branch_id,
            staff_id=staff[0].id,
            start_at=start,
            actor=ADMIN,
        )
        s.commit()
        first = (staff[0].id, staff[0].name)
        second = (staff[1].id, staff[1].name)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.new_booking(None)
        await keys(pilot, "2025550199", "ctrl+n", "Walker", "ctrl+s", "wom", "enter")
        screen = app.screen
        assert isinstance(screen, NewBookingScreen)
        # The first free time is read off the UI thread: wait for it (a loaded machine).
        free = screen.query_one("#bk-free")
        await wait_until(pilot, lambda: "Looking" not in str(free.render()))
        line = str(free.render())
        assert f"{start.astimezone(local_tz()):%H:%M}" in line and second[1] in line, line
        assert first[1] not in line
        await keys(pilot, "ctrl+t", "ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
    with Session(demo_engine) as s:
        walker = s.exec(select(Customer).where(col(Customer.first_name) == "Walker")).one()
        booking = s.exec(select(Booking).where(col(Booking.customer_id) == walker.id)).one()
    assert booking.staff_id == second[0]
    assert aware(booking.start_at) == start


async def test_service_filter_takes_the_first_match_and_keeps_typing_in_order(
    demo_engine: Engine,
) -> None:
    """Letters on the service field open its list filtered; backspace takes one back."""
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.new_booking(None)
        await keys(pilot, "tab", "tab", "mas", "backspace", "backspace", "en", "enter")
        screen = app.screen
        assert isinstance(screen, NewBookingScreen)
        select_ = screen.query_one("#bk-service", Select)
        # "m" then "men": Men's cut (a name starting with it), not Manicure.
        assert select_.value == service_named(demo_engine, "Men's cut").id
        assert app.focused is select_


def test_other_keys_count_is_stated_in_the_readme() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert "6 other keys" in readme and "8 keys" in readme


async def test_nobody_free_at_the_typed_time_is_refused_with_the_first_free(
    demo_engine: Engine,
) -> None:
    """ "First free" at a time when every therapist of the branch is busy: refused, the form
    keeps what was typed and names the first free start; ctrl+t and ctrl+s book it."""
    women_cut = service_named(demo_engine, "Women's cut")
    branch_id = operator_branch(demo_engine)
    start = (
        (NOW + timedelta(days=40))
        .astimezone(local_tz())
        .replace(hour=10, minute=0, second=0, microsecond=0)
    )
    with Session(demo_engine) as s:
        for b in s.exec(
            select(Booking).where(
                col(Booking.branch_id) == branch_id,
                col(Booking.start_at) < start + timedelta(hours=12),
                col(Booking.end_at) > start - timedelta(hours=12),
            )
        ):
            s.delete(b)
        s.commit()
        staff = service_staff(session=s, branch_id=branch_id)
        people = s.exec(
            select(Customer)
            .where(col(Customer.blocked).is_(False), col(Customer.deleted_at).is_(None))
            .order_by(col(Customer.id))
            .limit(len(staff) + 1)
        ).all()
        for member, person in zip(staff, people, strict=False):
            bk.create_booking(
                session=s,
                customer_id=person.id or 0,
                service_id=women_cut.id or 0,
                branch_id=branch_id,
                staff_id=member.id,
                start_at=start,
                actor=ADMIN,
            )
        s.commit()
        taker_id = people[-1].id or 0
        first_id, first_name = staff[0].id, staff[0].name
        before = len(s.exec(select(Booking)).all())
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.new_booking(taker_id)
        await keys(
            pilot,
            "enter", "wom", "enter",
            "tab", "tab", start.date().isoformat(),
            "tab", "10:30",
            "ctrl+s",
        )  # fmt: skip
        screen = app.screen
        assert isinstance(screen, NewBookingScreen)
        problem = str(screen.query_one("#bk-problem").render())
        assert "Nobody who does this service is free at 10:30" in problem, problem
        assert f"{start.date().isoformat()} 11:00 with {first_name}" in problem
        assert "ctrl+t" in problem
        assert "Nobody free then" in str(screen.query_one("#bke-time").render())
        assert screen.query_one("#bk-time", Input).value == "10:30"  # nothing typed lost
        await keys(pilot, "ctrl+t", "ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
    with Session(demo_engine) as s:
        assert len(s.exec(select(Booking)).all()) == before + 1
        booking = s.exec(
            select(Booking).where(col(Booking.customer_id) == taker_id).order_by(col(Booking.id))
        ).all()[-1]
    assert aware(booking.start_at) == start + timedelta(hours=1)
    assert booking.staff_id == first_id


async def test_service_filter_with_no_match_and_escape(demo_engine: Engine) -> None:
    """A filter that matches nothing says so and takes nothing; escape closes the list with
    the service unchanged, and the next letter starts a new filter on every service."""
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.new_booking(None)
        await keys(pilot, "tab", "tab", "zq")
        screen = app.screen
        assert isinstance(screen, NewBookingScreen)
        overlay = screen.query_one(FilterOverlay)
        assert overlay.option_count == 1
        assert "No service matches 'zq'" in str(overlay.get_option_at_index(0).prompt)
        await keys(pilot, "enter", "escape")
        select_ = screen.query_one("#bk-service", Select)
        assert select_.value is Select.NULL and app.focused is select_
        assert overlay.option_count == len(screen.form.services) + 1  # type: ignore[union-attr]
        await keys(pilot, "f", "enter")
        assert select_.value == service_named(demo_engine, "Facial").id


async def test_a_click_in_the_filtered_list_takes_the_service_clicked(
    demo_engine: Engine,
) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.new_booking(None)
        await keys(pilot, "tab", "tab", "ma")  # Manicure, Swedish massage
        screen = app.screen
        assert isinstance(screen, NewBookingScreen)
        await pilot.click(FilterOverlay, offset=(6, 2))  # the second line of the list
        await settle(pilot)
        select_ = screen.query_one("#bk-service", Select)
        assert select_.value == service_named(demo_engine, "Swedish massage").id

"""Service tests of the desk's booking rules: the opening hours (as for requests from the
API) and no customer booked twice at once (with any staff member), for a new booking, a move
and the "first free" suggestion; and the CLI's one-line refusal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from frontdesk.cli import main
from frontdesk.data import booking_flow as flow
from frontdesk.data import booking_requests as br
from frontdesk.data import bookings as bk
from frontdesk.data.db import open_database
from frontdesk.data.errors import DoubleBooked, ValidationFailed
from frontdesk.data.models import Booking, Service, Staff
from tests.actors import ADMIN
from tests.data.test_booking_requests import make_shop
from tests.data.test_bookings_orders import AFTER, DAY, book, shop

__all__ = ["shop"]  # the fixture, used by name

HOURS = r"is outside the opening hours \(09:00-19:00\)"


def at(hour: int, minute: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute)


def request(shop: dict[str, int], **changes: object) -> flow.BookingRequest:
    base = flow.BookingRequest(
        customer_id=shop["ann"],
        branch_id=shop["branch"],
        service_id=shop["cut"],
        staff_id=shop["nina"],
        day="2026-12-01",
        time="10:00",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def desk_book(s: Session, shop: dict[str, int], **changes: object) -> flow.Booked:
    booked = flow.book_appointment(session=s, request=request(shop, **changes), tz=UTC, actor=ADMIN)
    s.commit()
    return booked


def count(s: Session) -> int:
    return s.exec(select(func.count()).select_from(Booking)).one()


# ---------------------------------------------------------------------- opening hours


def test_the_hours_rule_itself() -> None:
    hour = timedelta(hours=1)
    assert bk.fits_hours(at(9), hour, UTC) and bk.fits_hours(at(18), hour, UTC)
    assert not bk.fits_hours(at(8, 45), hour, UTC)
    assert not bk.fits_hours(at(18, 15), hour, UTC)  # ends 19:15
    assert not bk.fits_hours(at(19), timedelta(0), UTC)  # closing is not a start
    # A service longer than the opening hours (multi-day) only starts within them.
    two_days = timedelta(days=2)
    assert bk.fits_hours(at(18, 45), two_days, UTC) and not bk.fits_hours(at(19), two_days, UTC)
    assert bk.hours_problem(at(7, 30), hour, UTC) == (
        "07:30 is outside the opening hours (09:00-19:00)"
    )
    assert bk.hours_problem(at(18, 30), hour, UTC) == (
        "18:30 is outside the opening hours (09:00-19:00): the 60-minute visit would end at 19:30"
    )
    # The desk's time zone decides: 08:30 UTC is 09:30 in Amsterdam (winter).
    from zoneinfo import ZoneInfo

    assert bk.fits_hours(at(8, 30), hour, ZoneInfo("Europe/Amsterdam"))
    # The next start the hours allow (what "first free" steps through).
    assert bk.next_open_start(at(7), hour, UTC) == at(9)
    assert bk.next_open_start(at(18, 15), hour, UTC) == at(9) + timedelta(days=1)
    assert bk.next_open_start(at(11), hour, UTC) == at(11)


def test_check_booking_marks_the_time_field_without_the_database() -> None:
    req = flow.BookingRequest(1, 1, 1, None, "2026-12-01", "07:30")
    check = flow.check_booking(req, UTC)
    assert check.errors == {"time": "07:30 is outside the opening hours (09:00-19:00)"}
    assert check.start == at(7, 30)  # still read: the summary shows it
    # With the service's length, a visit that would end after closing too.
    late = replace(req, time="18:30")
    assert flow.check_booking(late, UTC).errors == {}
    assert "would end at 19:30" in flow.check_booking(late, UTC, timedelta(hours=1)).errors["time"]
    assert flow.check_booking(replace(req, time="18:00"), UTC, timedelta(hours=1)).errors == {}


@pytest.mark.parametrize(
    ("typed", "shown"),
    [("08:45", "08:45"), ("7", "07:00"), ("19:00", "19:00"), ("23:30", "23:30")],
)
def test_a_start_outside_the_hours_is_refused(
    any_session: Session, shop: dict[str, int], typed: str, shown: str
) -> None:
    s = any_session
    for staff_id in (shop["nina"], None):  # a chosen staff member, and "first free"
        with pytest.raises(ValidationFailed, match=f"{shown} {HOURS}") as err:
            desk_book(s, shop, time=typed, staff_id=staff_id)
        assert err.value.field == "time"  # shown under the time field
        s.rollback()
    assert count(s) == 0


def test_a_visit_ending_after_closing_is_refused(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    with pytest.raises(ValidationFailed, match=f"18:30 {HOURS}: the 60-minute visit") as err:
        desk_book(s, shop, time="18:30")
    assert err.value.field == "time"
    s.rollback()
    assert count(s) == 0
    # The first and the last hour of the day are fine.
    assert desk_book(s, shop, time="09:00").start_at.hour == 9
    assert desk_book(s, shop, time="18:00", staff_id=shop["omar"]).start_at.hour == 18


def test_the_business_sets_its_own_hours(any_session: Session, shop: dict[str, int]) -> None:
    """Settings opens_at / closes_at: a salon open 08:00-21:00 books 20:00 at the desk, and
    refuses 07:30 naming its own hours; the hours must be times, opening before closing."""
    from frontdesk.data.settings import change_setting

    s = any_session
    with pytest.raises(ValidationFailed, match="must be after opening"):
        change_setting(session=s, key="closes_at", value="08:00", actor=ADMIN)
    with pytest.raises(ValidationFailed, match="a time of day"):
        change_setting(session=s, key="opens_at", value="25:00", actor=ADMIN)
    s.rollback()
    assert change_setting(session=s, key="closes_at", value="21:00", actor=ADMIN) == "21:00"
    assert change_setting(session=s, key="opens_at", value="8.00", actor=ADMIN) == "08:00"
    s.commit()
    assert bk.opening_hours(s) == bk.Hours(time(8), time(21))
    assert desk_book(s, shop, time="20:00").start_at.hour == 20
    with pytest.raises(
        ValidationFailed, match=r"07:30 is outside the opening hours \(08:00-21:00\)"
    ):
        desk_book(s, shop, time="07:30", staff_id=shop["omar"])
    s.rollback()
    # "First free" after closing offers the next day's opening.
    found = flow.first_free(
        session=s,
        branch_id=shop["branch"],
        service_id=shop["cut"],
        staff_id=shop["omar"],
        after=at(21),
        tz=UTC,
    )
    assert found is not None and found.start == at(8) + timedelta(days=1)


def test_a_business_open_until_midnight(any_session: Session, shop: dict[str, int]) -> None:
    """closes_at 24:00 (or 00:00, or 24): a visit may end at midnight, not after; the hours
    read 12:00-24:00 in messages; the availability offers the last hour of the day."""
    from frontdesk.data.settings import change_setting

    s = any_session
    for typed in ("24:00", "0:00", "24"):
        assert change_setting(session=s, key="closes_at", value=typed, actor=ADMIN) == "24:00"
    # Opening later than the old closing, once the closing allows it (the order is told).
    change_setting(session=s, key="closes_at", value="19:00", actor=ADMIN)
    with pytest.raises(ValidationFailed, match="change the closing time first"):
        change_setting(session=s, key="opens_at", value="20:00", actor=ADMIN)
    s.rollback()
    with pytest.raises(ValidationFailed, match="a time of day"):
        change_setting(session=s, key="opens_at", value="24:00", actor=ADMIN)
    s.rollback()
    change_setting(session=s, key="closes_at", value="24:00", actor=ADMIN)
    change_setting(session=s, key="opens_at", value="12:00", actor=ADMIN)
    s.commit()
    hours = bk.opening_hours(s)
    assert hours == bk.Hours(time(12), time(0)) and hours.text == "12:00-24:00"
    assert desk_book(s, shop, time="23:00").start_at.hour == 23  # ends at midnight
    with pytest.raises(
        ValidationFailed,
        match=r"23:30 is outside the opening hours \(12:00-24:00\): the 60-minute visit would "
        r"end at 00:30",
    ):
        desk_book(s, shop, time="23:30", staff_id=shop["omar"])
    s.rollback()
    slots = br.availability(
        session=s,
        service="Cut",
        branch=None,
        day="2026-12-01",
        tz=UTC,
        now=AFTER - timedelta(days=30),
    )
    omar = [slot for slot in slots.slots if slot.staff_id == shop["omar"]]
    assert omar[0].start == at(12) and omar[-1].start == at(23)


def test_a_visit_that_happened_is_recorded_whatever_the_hours(
    any_session: Session, shop: dict[str, int]
) -> None:
    """A walk-in recorded afterwards (18:30 for an hour, at 20:00) is kept as it happened;
    a start still to come is held to the hours (the walk-in flag changes nothing there)."""
    s = any_session
    done = flow.book_appointment(
        session=s,
        request=request(shop, time="18:30", walk_in=True),
        tz=UTC,
        actor=ADMIN,
        now=at(20),
    )
    s.commit()
    assert done.start_at.hour == 18
    # The as-you-type check says nothing about the hours for a start that has passed.
    assert (
        flow.check_booking(request(shop, time="18:30"), UTC, timedelta(hours=1), now=at(20)).errors
        == {}
    )
    with pytest.raises(ValidationFailed, match=f"20:30 {HOURS}"):
        flow.book_appointment(
            session=s,
            request=request(shop, time="20:30", walk_in=True, staff_id=shop["omar"]),
            tz=UTC,
            actor=ADMIN,
            now=at(12),
        )
    s.rollback()
    assert count(s) == 1


def test_a_multi_day_service_starts_within_the_hours(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    cut = s.get(Service, shop["cut"])
    assert cut is not None
    retreat = Service(
        service_type_id=cut.service_type_id, name="Retreat", duration_minutes=2 * 24 * 60
    )
    s.add(retreat)
    s.commit()
    with pytest.raises(ValidationFailed, match=f"20:00 {HOURS}"):
        desk_book(s, shop, service_id=retreat.id, time="20:00")
    s.rollback()
    booked = desk_book(s, shop, service_id=retreat.id, time="17:00")
    assert bk._aware(booked.end_at) == at(17) + timedelta(days=2)
    # "First free" offers it too (it used to find nothing: it never ends by closing).
    slot = flow.suggest_start(
        session=s,
        request=request(
            shop, customer_id=shop["bob"], service_id=retreat.id, staff_id=None, time="09:00"
        ),
        now=at(8),
        tz=UTC,
    )
    assert slot == flow.FreeSlot(at(9), shop["omar"], "Omar")  # Nina is away with Ann


# ---------------------------------------------------------------------- one customer


def test_the_same_customer_is_not_booked_twice_at_once(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    first = desk_book(s, shop)  # Ann 10:00-11:00 with Nina
    for staff_id in (shop["omar"], None):  # another staff member, or "first free"
        with pytest.raises(bk.CustomerBusy) as err:
            desk_book(s, shop, time="10:30", staff_id=staff_id)
        assert err.value.field == "time"
        assert err.value.message == (
            f"Ann already has booking #{first.booking_id} then: 2026-12-01 10:00-11:00 Cut "
            "with Nina"
        )
        assert err.value.conflict.booking_id == first.booking_id
        s.rollback()
    assert count(s) == 1
    # Back to back is fine; so is another customer at the same time.
    assert desk_book(s, shop, time="11:00", staff_id=shop["omar"]).start_at.hour == 11
    bob = desk_book(s, shop, customer_id=shop["bob"], staff_id=shop["omar"])
    assert bob.staff_id == shop["omar"]


def test_the_same_staff_member_is_still_named_first_for_another_customer(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    desk_book(s, shop)
    with pytest.raises(DoubleBooked):
        desk_book(s, shop, customer_id=shop["bob"], time="10:30")


@pytest.mark.parametrize("action", ["cancel", "no_show", "complete"])
def test_a_cancelled_missed_or_done_booking_does_not_count(
    any_session: Session, shop: dict[str, int], action: str
) -> None:
    s = any_session
    first = desk_book(s, shop)
    bk.change_status(
        session=s,
        booking_id=first.booking_id,
        action=action,
        reason="Ill",
        actor=ADMIN,
        now=AFTER,
        tz=UTC,
    )
    s.commit()
    booked = desk_book(s, shop, time="10:30", staff_id=shop["omar"])
    assert booked.start_at.minute == 30


def test_a_pending_booking_counts(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    bk.create_booking(
        session=s,
        customer_id=shop["ann"],
        service_id=shop["cut"],
        branch_id=shop["branch"],
        staff_id=None,
        start_at=at(10),
        actor=ADMIN,
        status="pending",
    )
    s.commit()
    with pytest.raises(bk.CustomerBusy, match=r"10:00-11:00 Cut$"):  # no staff member: none named
        desk_book(s, shop, time="10:15", staff_id=shop["omar"])


# ---------------------------------------------------------------------- moving a booking


def move(s: Session, booking_id: int, start: datetime) -> Booking:
    moved = bk.change_status(
        session=s,
        booking_id=booking_id,
        action="reschedule",
        new_start=start,
        actor=ADMIN,
        tz=UTC,
    )
    s.commit()
    return moved


def test_a_move_obeys_both_rules_and_never_collides_with_itself(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    ten = desk_book(s, shop).booking_id  # Ann 10:00-11:00 with Nina
    two = desk_book(s, shop, time="14:00", staff_id=shop["omar"]).booking_id  # 14:00-15:00
    # Half an hour later overlaps its own old time: fine.
    assert bk._aware(move(s, ten, at(10, 30)).start_at) == at(10, 30)
    # Onto the customer's other booking (another staff member): refused, naming it.
    with pytest.raises(bk.CustomerBusy, match=rf"booking #{two} then: 2026-12-01 14:00-15:00 Cut"):
        move(s, ten, at(13, 30))
    s.rollback()
    # Outside the opening hours, or ending after closing: refused.
    with pytest.raises(ValidationFailed, match=f"08:00 {HOURS}") as err:
        move(s, ten, at(8))
    assert err.value.field == "start_at"
    s.rollback()
    with pytest.raises(ValidationFailed, match=f"18:30 {HOURS}"):
        move(s, ten, at(18, 30))
    s.rollback()
    moved = bk.get_booking(session=s, booking_id=ten)
    s.refresh(moved)
    assert bk._aware(moved.start_at) == at(10, 30)  # as it was
    # A cancelled booking of the customer does not stand in the way.
    bk.change_status(session=s, booking_id=two, action="cancel", reason="Ill", actor=ADMIN)
    s.commit()
    assert bk._aware(move(s, ten, at(13, 30)).start_at) == at(13, 30)


def test_the_reschedule_prompt_says_why(any_session: Session, shop: dict[str, int]) -> None:
    """The text typed in the reschedule dialog goes through profile_actions: the reason is
    the service's message (the dialog shows it under the field)."""
    from frontdesk.data import profile_actions

    s = any_session
    ten = desk_book(s, shop).booking_id
    with pytest.raises(ValidationFailed, match=f"07:00 {HOURS}"):
        profile_actions.change_booking(
            session=s,
            booking_id=ten,
            action="reschedule",
            actor=ADMIN,
            new_start="2026-12-01 07:00",
            tz=UTC,
        )


# ---------------------------------------------------------------------- first free


def test_first_free_never_offers_a_time_the_rules_refuse(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    book(s, shop, "ann", "nina", at(9))  # Ann 09:00-10:00 with Nina; Omar is free
    req = request(shop, staff_id=None, time="09:00")
    slot = flow.suggest_start(session=s, request=req, now=at(8), tz=UTC)
    # Not 09:00 with Omar: Ann is busy until 10:00.
    assert slot == flow.FreeSlot(at(10), shop["nina"], "Nina")
    # The chosen staff member's free time skips the customer's booking with someone else.
    omar = flow.suggest_start(
        session=s, request=replace(req, staff_id=shop["omar"]), now=at(8), tz=UTC
    )
    assert omar == flow.FreeSlot(at(10), shop["omar"], "Omar")
    # Bob is free at 09:00 (Omar), and late in the day only what ends by closing is offered.
    bob = flow.suggest_start(
        session=s, request=replace(req, customer_id=shop["bob"]), now=at(8), tz=UTC
    )
    assert bob == flow.FreeSlot(at(9), shop["omar"], "Omar")
    evening = flow.suggest_start(session=s, request=req, now=at(18, 10), tz=UTC)
    assert evening is not None and evening.start == at(9) + timedelta(days=1)
    # What is offered is booked without a refusal.
    assert slot is not None
    booked = desk_book(s, shop, staff_id=None, time=f"{slot.start:%H:%M}")
    assert (booked.start_at.hour, booked.staff_id) == (10, shop["nina"])


def test_a_double_booking_suggests_a_time_the_customer_is_free(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    book(s, shop, "bob", "nina", at(10))  # Nina 10:00-11:00
    book(s, shop, "ann", "omar", at(11))  # Ann 11:00-12:00 with Omar
    with pytest.raises(DoubleBooked) as err:
        desk_book(s, shop, time="10:00")  # Ann with Nina at 10:00
    # Nina is free at 11:00, but Ann is not: 12:00.
    assert err.value.suggestion == at(12)


def test_a_branch_without_staff_offers_a_time_within_the_hours(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    for member in s.exec(select(Staff)):
        member.active = False
        s.add(member)
    s.commit()
    slot = flow.suggest_start(
        session=s, request=request(shop, staff_id=None, time="07:00"), now=at(6), tz=UTC
    )
    assert slot == flow.FreeSlot(at(9), None, "")


# ---------------------------------------------------------------------- API and CLI


def test_a_request_from_outside_follows_the_customer_rule(any_session: Session) -> None:
    s = any_session
    make_shop(s)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=10, minute=0, second=0)
    api = s.exec(select(Staff).where(col(Staff.name) == "Rita")).one()

    def submit(at: datetime, staff: str) -> br.RequestResult:
        result = br.submit_request(
            session=s,
            data=br.RequestIn(
                phone="+31 6 12345678",
                service="Haircut",
                start=at.strftime("%Y-%m-%d %H:%M"),
                staff=staff,
            ),
            actor=api,
            channel="website",
            confirm=True,
            tz=UTC,
        )
        s.commit()
        return result

    assert submit(start, "Nina").customer_code == "C-000001"
    with pytest.raises(ValidationFailed) as err:
        submit(start + timedelta(minutes=30), "Omar")
    # A page or an assistant learns only that the customer is booked then: not with what,
    # when or whom (whoever knows a phone number would learn that person's bookings).
    assert err.value.field == "start" and not isinstance(err.value, bk.CustomerBusy)
    assert err.value.message == "the customer already has a booking at this time: choose another"
    assert "Maria" not in err.value.message and "Nina" not in err.value.message
    s.rollback()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_cli_bookings_add_is_refused_with_one_line(tmp_path: Path) -> None:
    db = str(tmp_path / "shop.db")
    engine = open_database(db)
    with Session(engine) as s:
        make_shop(s)
    day = (datetime.now() + timedelta(days=2)).date().isoformat()
    base = ("--staff", "Rita", "bookings", "add", "--db", db, "--phone", "06 1234 5678")
    code, out, err = run(*base, "--service", "Haircut", "--at", f"{day} 07:30")
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [
        "error: start: 07:30 is outside the opening hours (09:00-19:00)"
    ]
    code, _, err = run(*base, "--service", "Haircut", "--at", f"{day} 10:00", "--staff", "Nina")
    assert code == 0, err
    code, out, err = run(*base, "--service", "Haircut", "--at", f"{day} 10:30", "--staff", "Omar")
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: start: Maria Garcia already has booking #1 then: ")
    assert lines[0].endswith(f"{day} 10:00-11:00 Haircut with Nina")
    with Session(engine) as s:
        assert count(s) == 1
    engine.dispose()


def test_the_form_opens_on_a_start_within_the_hours(
    any_session: Session, shop: dict[str, int]
) -> None:
    """Opened at 01:40 the form offers 09:00 that day, at 18:50 the next day's 09:00; during
    the day, the next quarter hour."""
    s = any_session
    form = flow.load_booking_form(session=s, now=at(1, 40), tz=UTC)
    assert (form.day, form.time) == ("2026-12-01", "09:00")
    form = flow.load_booking_form(session=s, now=at(18, 50), tz=UTC)
    assert (form.day, form.time) == ("2026-12-02", "09:00")
    form = flow.load_booking_form(session=s, now=at(10, 5), tz=UTC)
    assert (form.day, form.time) == ("2026-12-01", "10:15")


def test_a_no_show_taken_back_is_not_booked_over_the_customers_new_booking(
    any_session: Session, shop: dict[str, int]
) -> None:
    """Ann missed 10:00 with Nina and was booked again at 10:30 with Omar: taking the
    no-show back would book her twice at once, so it is refused, naming the new booking."""
    s = any_session
    ten = desk_book(s, shop).booking_id  # 10:00-11:00 with Nina
    bk.change_status(
        session=s, booking_id=ten, action="no_show", actor=ADMIN, now=at(10, 20), tz=UTC
    )
    s.commit()
    again = desk_book(s, shop, time="10:30", staff_id=shop["omar"]).booking_id
    with pytest.raises(bk.CustomerBusy, match=rf"booking #{again} then"):
        bk.change_status(
            session=s, booking_id=ten, action="undo_no_show", actor=ADMIN, now=at(10, 40), tz=UTC
        )
    s.rollback()
    assert bk.get_booking(session=s, booking_id=ten).status == "no_show"


def test_two_admins_changing_the_hours_at_once_never_store_opening_after_closing(
    any_engine: Engine,
) -> None:
    """One sets opening to 18:00 while another sets closing to 17:00: the second waits for
    the first and is refused against its value (on PostgreSQL too, where writers do not
    queue by themselves)."""
    import threading

    from frontdesk.data.settings import change_setting

    first = Session(any_engine)
    change_setting(session=first, key="opens_at", value="18:00", actor=ADMIN)
    outcome: list[str] = []

    def second_admin() -> None:
        with Session(any_engine) as s:
            try:
                change_setting(session=s, key="closes_at", value="17:00", actor=ADMIN)
                s.commit()
                outcome.append("saved")
            except ValidationFailed as exc:
                outcome.append(exc.message)

    thread = threading.Thread(target=second_admin)
    thread.start()
    thread.join(timeout=0.5)
    assert thread.is_alive()  # waiting for the first admin's change
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert len(outcome) == 1 and outcome[0].startswith("must be after opening (18:00)")
    with Session(any_engine) as s:
        assert bk.opening_hours(s) == bk.Hours(time(18), time(19))

"""Service tests: the day sheet (one day at one branch), check-in, free times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from frontdesk.data import bookings as bk
from frontdesk.data import customers as svc
from frontdesk.data import day_sheet as ds
from frontdesk.data import notes as note_svc
from frontdesk.data import profile_actions as actions
from frontdesk.data.errors import DoubleBooked, InvalidState, ValidationFailed
from frontdesk.data.models import AuditEvent, Booking, Branch, Category, Service, ServiceType, Staff
from frontdesk.data.roles import NotAllowed
from tests.actors import ADMIN, DESK, THERAPIST

DAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)


def at(h: int, m: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, h, m, tzinfo=UTC)


@pytest.fixture
def shop(any_session: Session) -> dict[str, int]:
    s = any_session
    main, north = Branch(name="Main"), Branch(name="North")
    stype = ServiceType(name="Hair")
    vip = s.exec(select(Category).where(col(Category.name) == "VIP")).one()
    s.add_all([main, north, stype])
    s.flush()
    cut = Service(service_type_id=stype.id or 0, name="Cut", duration_minutes=60, price_cents=4500)
    nina = Staff(name="Nina", role="therapist", branch_id=main.id)
    omar = Staff(name="Omar", role="therapist", branch_id=main.id)
    rita = Staff(name="Rita", role="therapist", branch_id=north.id)
    s.add_all([cut, nina, omar, rita])
    s.flush()

    def customer(first: str, email: str, **kw: object) -> int:
        data = svc.CustomerCreate(first_name=first, email=email, **kw)  # type: ignore[arg-type]
        return svc.create_customer(actor=ADMIN, session=s, data=data).id or 0

    ids = {
        "main": main.id or 0,
        "north": north.id or 0,
        "cut": cut.id or 0,
        "nina": nina.id or 0,
        "omar": omar.id or 0,
        "rita": rita.id or 0,
        "ann": customer("Ann", "ann@example.com", category_id=vip.id),
        "bob": customer("[bold]Bob[/bold]", "bob@example.com"),
        "cat": customer("Cat", "cat@example.com"),
    }
    s.commit()
    return ids


def book(
    s: Session, shop: dict[str, int], who: str, staff: str, start: datetime, **kw: object
) -> int:
    b = bk.create_booking(
        session=s,
        customer_id=shop[who],
        service_id=shop["cut"],
        branch_id=shop[kw.pop("branch", "main")],  # type: ignore[index]
        staff_id=shop[staff],
        start_at=start,
        actor=ADMIN,
        **kw,  # type: ignore[arg-type]
    )
    s.commit()
    return b.id or 0


def sheet(
    s: Session, shop: dict[str, int], viewer: Staff | None = DESK, **kw: object
) -> ds.DaySheet:
    kw.setdefault("branch_id", shop["main"])
    return ds.load_day_sheet(session=s, viewer=viewer, day=DAY, now=NOW, tz=UTC, **kw)  # type: ignore[arg-type]


def test_day_sheet_lists_the_day_at_the_branch_by_time_and_staff(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    late = book(s, shop, "bob", "omar", at(10))
    first = book(s, shop, "ann", "nina", at(9))
    same_time = book(s, shop, "cat", "nina", at(10))
    book(s, shop, "ann", "rita", at(10), branch="north")  # another branch
    book(s, shop, "ann", "nina", at(10, day=DAY + timedelta(days=1)))  # another day
    book(s, shop, "ann", "nina", at(23, 30, day=DAY - timedelta(days=1)))  # the day before
    got = sheet(s, shop)
    assert [r.booking_id for r in got.rows] == [first, same_time, late]  # time, then staff
    assert [r.staff for r in got.rows] == ["Nina", "Nina", "Omar"]
    ann = got.rows[0]
    assert ann.customer_name == "Ann" and ann.category_symbol
    assert (
        ann.category_symbol
        == s.exec(select(Category).where(col(Category.name) == "VIP")).one().symbol
    )
    assert ann.service == "Cut" and ann.status == "confirmed"
    assert got.rows[2].customer_name == "[bold]Bob[/bold]"  # stored text, literally
    assert [name for _, name in got.branches] == ["Main", "North"]
    assert [name for _, name in got.staff] == ["Nina", "Omar"]  # the branch's staff
    north = sheet(s, shop, branch_id=shop["north"])
    assert [r.staff for r in north.rows] == ["Rita"]


def test_empty_day_and_unknown_branch(any_session: Session, shop: dict[str, int]) -> None:
    assert sheet(any_session, shop).rows == []
    with pytest.raises(ValidationFailed):
        sheet(any_session, shop, branch_id=9999)


def test_default_branch_is_the_viewers(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    book(s, shop, "ann", "rita", at(10), branch="north")
    rita = s.get(Staff, shop["rita"])
    desk_at_north = Staff(id=999, name="Desk north", role="reception", branch_id=shop["north"])
    got = ds.load_day_sheet(session=s, viewer=desk_at_north, day=DAY, now=NOW, tz=UTC)
    assert got.branch_id == shop["north"] and len(got.rows) == 1
    assert rita is not None
    nobody = ds.load_day_sheet(session=s, viewer=DESK, day=DAY, now=NOW, tz=UTC)
    assert nobody.branch_id == shop["main"]  # no branch of their own: the first by name


def test_late_alert_blocked_and_notes_markers(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    early = book(s, shop, "ann", "nina", at(9), notes="Allergic to latex")
    later = book(s, shop, "bob", "omar", at(14))
    book(s, shop, "cat", "omar", at(10))
    note_svc.add_note(session=s, customer_id=shop["cat"], body="Bites", is_alert=True, actor=ADMIN)
    note_svc.add_note(session=s, booking_id=later, body="Bring the voucher", actor=ADMIN)
    svc.block_customer(session=s, customer_id=shop["bob"], reason="Unpaid", actor=ADMIN)
    s.commit()
    rows = {r.customer_name: r for r in sheet(s, shop).rows}
    assert rows["Ann"].late and rows["Cat"].late  # past start (11:00 now), not arrived
    assert not rows["[bold]Bob[/bold]"].late  # 14:00 is still to come
    assert rows["Cat"].alert and not rows["Ann"].alert
    assert rows["[bold]Bob[/bold]"].blocked
    assert rows["Ann"].has_notes and rows["[bold]Bob[/bold]"].has_notes
    assert not rows["Cat"].has_notes
    # Checked in, done or cancelled: not late any more.
    ds.check_in(session=s, booking_id=early, actor=DESK, now=NOW, tz=UTC)
    s.commit()
    rows = {r.customer_name: r for r in sheet(s, shop).rows}
    assert not rows["Ann"].late and rows["Ann"].arrived_at == NOW
    assert sheet(s, shop).late == 1


def test_therapist_sees_only_their_own_bookings(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    mine = book(s, shop, "ann", "nina", at(9))
    book(s, shop, "bob", "omar", at(9))
    nina = s.get(Staff, shop["nina"])
    assert nina is not None
    got = sheet(s, shop, viewer=nina, staff_id=shop["omar"])  # asks for Omar's: still own
    assert [r.booking_id for r in got.rows] == [mine]
    assert got.own_only and got.staff == [(shop["nina"], "Nina")]
    # The test therapist (not Nina) sees none of them.
    assert sheet(s, shop, viewer=THERAPIST).rows == []


def test_staff_filter(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    book(s, shop, "ann", "nina", at(9))
    omars = book(s, shop, "bob", "omar", at(9))
    got = sheet(s, shop, staff_id=shop["omar"])
    assert [r.booking_id for r in got.rows] == [omars]


def test_check_in_rules(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    booking = book(s, shop, "ann", "nina", at(10))
    done = ds.check_in(session=s, booking_id=booking, actor=DESK, now=NOW, tz=UTC)
    s.commit()
    assert done.late_minutes == 60
    row = s.get(Booking, booking)
    assert row is not None and row.version == 2
    assert row.arrived_at is not None and ds._aware(row.arrived_at) == NOW
    event = s.exec(select(AuditEvent).where(col(AuditEvent.action) == "check_in")).one()
    assert event.entity_id == booking and event.customer_id == shop["ann"]
    from frontdesk.data.profile import load_timeline_tab

    said = [i.text for i in load_timeline_tab(session=s, customer_id=shop["ann"])]
    assert f"Booking #{booking} checked in (the customer arrived) by Test desk" in said
    # Once only.
    with pytest.raises(InvalidState, match="already checked in at 11:00"):
        ds.check_in(session=s, booking_id=booking, actor=DESK, now=NOW, tz=UTC)
    s.rollback()
    # Not a cancelled, completed or no-show booking.
    for action in ("cancel", "complete", "no_show"):
        other = book(
            s, shop, "bob", "omar", at(12 + ("cancel", "complete", "no_show").index(action))
        )
        actions.change_booking(
            session=s,
            booking_id=other,
            action=action,
            actor=DESK,
            reason="Ill",
            now=at(15),  # their time has passed
            tz=UTC,
        )
        s.commit()
        with pytest.raises(InvalidState, match="cannot be checked in"):
            ds.check_in(session=s, booking_id=other, actor=DESK, now=NOW, tz=UTC)
        s.rollback()
    # Not on another day.
    tomorrow = book(s, shop, "cat", "nina", at(10, day=DAY + timedelta(days=1)))
    with pytest.raises(InvalidState, match="on the day of the booking"):
        ds.check_in(session=s, booking_id=tomorrow, actor=DESK, now=NOW, tz=UTC)
    s.rollback()
    # Not by a therapist (the desk books), not by nobody.
    third = book(s, shop, "cat", "nina", at(15))
    for who in (THERAPIST, None):
        with pytest.raises(NotAllowed):
            ds.check_in(session=s, booking_id=third, actor=who, now=NOW, tz=UTC)
    assert (s.get(Booking, third) or Booking()).arrived_at is None


def test_checked_in_booking_can_still_be_done(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    booking = book(s, shop, "ann", "nina", at(10))
    ds.check_in(session=s, booking_id=booking, actor=DESK, now=NOW, tz=UTC)
    result = actions.change_booking(
        session=s, booking_id=booking, action="complete", actor=DESK, create_order=True, now=NOW
    )
    s.commit()
    assert result.order_id is not None
    rows = sheet(s, shop).rows
    assert rows[0].status == "completed" and not rows[0].late


def test_free_slots_follow_the_double_booking_rules(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    book(s, shop, "ann", "nina", at(11))
    book(s, shop, "bob", "nina", at(12, 30))
    cancelled = book(s, shop, "cat", "omar", at(11))
    bk.change_status(session=s, booking_id=cancelled, action="cancel", actor=DESK, reason="Ill")
    s.commit()
    got = ds.free_slots(
        session=s,
        viewer=DESK,
        service_id=shop["cut"],
        branch_id=shop["main"],
        after=at(10, 50),
        tz=UTC,
    )
    times = {f.staff: f.times for f in got.staff}
    assert list(times) == ["Nina", "Omar"]  # the branch's therapists, not Rita
    # Nina: 11:00-12:00 and 12:30-13:30 taken -> 13:30, 14:30, 15:30.
    assert times["Nina"] == [at(13, 30), at(14, 30), at(15, 30)]
    # Omar: the cancelled booking frees 11:00.
    assert times["Omar"] == [at(11), at(12), at(13)]
    # Every offered time can be booked.
    cid = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Dee", email="d@example.com")
    ).id
    bk.create_booking(
        session=s,
        customer_id=cid or 0,
        service_id=shop["cut"],
        branch_id=shop["main"],
        staff_id=shop["nina"],
        start_at=times["Nina"][0],
        actor=DESK,
    )
    # Near closing: the next day's opening.
    late = ds.free_slots(
        session=s,
        viewer=DESK,
        service_id=shop["cut"],
        branch_id=shop["main"],
        after=at(18, 10),
        per_staff=1,
        tz=UTC,
    )
    assert late.staff[1].times == [at(9, day=DAY + timedelta(days=1))]


def test_free_slots_of_a_therapist_are_their_own(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    nina = s.get(Staff, shop["nina"])
    got = ds.free_slots(
        session=s, viewer=nina, service_id=shop["cut"], branch_id=shop["main"], after=at(9), tz=UTC
    )
    assert [f.staff for f in got.staff] == ["Nina"]
    with pytest.raises(ValidationFailed):
        ds.free_slots(
            session=s, viewer=DESK, service_id=9999, branch_id=shop["main"], after=at(9), tz=UTC
        )


def test_fingerprint_moves_when_a_booking_of_the_day_changes(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session

    def print_() -> tuple[object, ...]:
        return ds.day_fingerprint(session=s, day=DAY, branch_id=shop["main"], tz=UTC)

    empty = print_()
    booking = book(s, shop, "ann", "nina", at(10))
    one = print_()
    assert one != empty
    book(s, shop, "bob", "rita", at(10), branch="north")
    assert print_() == one  # another branch
    ds.check_in(session=s, booking_id=booking, actor=DESK, now=NOW, tz=UTC)
    s.commit()
    assert print_() != one


def test_check_in_of_a_missing_booking(any_session: Session, shop: dict[str, int]) -> None:
    from frontdesk.data.errors import NotFound

    with pytest.raises(NotFound):
        ds.check_in(session=any_session, booking_id=424242, actor=ADMIN, now=NOW, tz=UTC)


# ---------------------------------------------------------------- done and no-show follow the clock
def change(s: Session, booking: int, action: str, now: datetime) -> Booking:
    actions.change_booking(
        session=s, booking_id=booking, action=action, actor=DESK, now=now, tz=UTC
    )
    s.commit()
    row = s.get(Booking, booking)
    assert row is not None
    s.refresh(row)
    return row


def status_of(s: Session, booking: int) -> str:
    s.rollback()
    row = s.get(Booking, booking)
    assert row is not None
    s.refresh(row)
    return row.status


def test_no_show_is_refused_before_the_start(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    booking = book(s, shop, "ann", "nina", at(16))
    with pytest.raises(InvalidState, match=r"starts at 16:00: a no-show is marked once its time"):
        change(s, booking, "no_show", at(15, 23))
    assert status_of(s, booking) == "confirmed"
    # Another day says the date too.
    later = book(s, shop, "bob", "nina", at(16, day=date(2026, 12, 5)))
    with pytest.raises(InvalidState, match=r"starts at 2026-12-05 16:00"):
        change(s, later, "no_show", at(15, 23))
    assert status_of(s, later) == "confirmed"


def test_a_past_booking_can_be_marked_no_show(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    booking = book(s, shop, "ann", "nina", at(10))
    assert change(s, booking, "no_show", at(10, 20)).status == "no_show"
    event = s.exec(select(AuditEvent).where(col(AuditEvent.action) == "no_show")).one()
    assert event.entity_id == booking


def test_no_show_is_refused_once_the_customer_arrived(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    booking = book(s, shop, "ann", "nina", at(17))
    ds.check_in(session=s, booking_id=booking, actor=DESK, now=at(15, 27), tz=UTC)
    s.commit()
    for now in (at(15, 30), at(17, 30)):  # before the start and after it
        with pytest.raises(InvalidState, match=r"arrived at 15:27: not a no-show"):
            change(s, booking, "no_show", now)
        assert status_of(s, booking) == "confirmed"


def test_done_is_refused_before_the_start(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    week_ahead = book(s, shop, "ann", "nina", at(10, day=date(2026, 12, 5)))
    with pytest.raises(InvalidState, match=r"starts at 2026-12-05 10:00: a visit is marked done"):
        change(s, week_ahead, "complete", NOW)
    assert status_of(s, week_ahead) == "confirmed"
    assert bk.follow_up_template(session=s, customer_id=shop["ann"]) is None  # no last visit
    today = book(s, shop, "bob", "nina", at(16))
    with pytest.raises(InvalidState, match=r"starts at 16:00"):
        change(s, today, "complete", NOW)
    # Once its time has come, it can be done.
    assert change(s, today, "complete", at(16)).status == "completed"


def test_done_after_arrival_before_the_start_is_allowed(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    booking = book(s, shop, "ann", "nina", at(16))
    ds.check_in(session=s, booking_id=booking, actor=DESK, now=at(15, 27), tz=UTC)
    s.commit()
    assert change(s, booking, "complete", at(15, 50)).status == "completed"


def test_a_checked_in_booking_moved_to_another_day_is_no_longer_checked_in(
    any_session: Session, shop: dict[str, int]
) -> None:
    """The customer checked in, then the visit was moved to another day: the check-in
    belonged to today (it let that later visit be done days early, and showed it arrived).
    Moved within the day, the customer is still here."""
    s = any_session
    booking = book(s, shop, "ann", "nina", at(16))
    ds.check_in(session=s, booking_id=booking, actor=DESK, now=at(15, 27), tz=UTC)
    s.commit()
    bk.change_status(
        session=s,
        booking_id=booking,
        action="reschedule",
        actor=DESK,
        new_start=at(16, 30),
        now=at(15, 30),
        tz=UTC,
    )
    s.commit()
    assert s.get(Booking, booking).arrived_at is not None  # type: ignore[union-attr]
    later = at(11, day=date(2026, 12, 3))
    bk.change_status(
        session=s,
        booking_id=booking,
        action="reschedule",
        actor=DESK,
        new_start=later,
        now=at(15, 31),
        tz=UTC,
    )
    s.commit()
    moved = s.get(Booking, booking)
    assert moved is not None and moved.arrived_at is None
    with pytest.raises(InvalidState, match=r"starts at 2026-12-03 11:00: a visit is marked done"):
        change(s, booking, "complete", at(15, 40))
    event = s.exec(
        select(AuditEvent)
        .where(col(AuditEvent.action) == "reschedule")
        .order_by(col(AuditEvent.id).desc())
    ).first()
    assert event is not None and "arrived_at" in event.changes


def test_a_mistaken_no_show_is_undone_on_its_day(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    booking = book(s, shop, "ann", "nina", at(10))
    change(s, booking, "no_show", at(10, 20))
    row = change(s, booking, "undo_no_show", at(10, 40))
    assert row.status == "confirmed" and row.version == 3
    event = s.exec(select(AuditEvent).where(col(AuditEvent.action) == "undo_no_show")).one()
    assert event.changes == {"status": ["no_show", "confirmed"]}
    # The customer is late now, and can be checked in and seen.
    assert sheet(s, shop).rows[0].late
    ds.check_in(session=s, booking_id=booking, actor=DESK, now=at(10, 45), tz=UTC)
    assert change(s, booking, "complete", at(11, 30)).status == "completed"
    # Only a no-show is undone.
    with pytest.raises(InvalidState, match="is completed, not a no-show"):
        change(s, booking, "undo_no_show", at(11, 40))
    # Not on another day.
    other = book(s, shop, "bob", "omar", at(10))
    change(s, other, "no_show", at(10, 30))
    with pytest.raises(InvalidState, match="was on 2026-12-01: a no-show is undone on the day"):
        change(s, other, "undo_no_show", at(9, day=DAY + timedelta(days=1)))
    assert status_of(s, other) == "no_show"


def test_undoing_a_no_show_whose_time_was_booked_again_is_refused(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    booking = book(s, shop, "ann", "nina", at(10))
    change(s, booking, "no_show", at(10, 15))
    taken = book(s, shop, "bob", "nina", at(10, 30))  # the freed time, booked again
    with pytest.raises(DoubleBooked) as err:
        change(s, booking, "undo_no_show", at(10, 20))
    assert err.value.conflict.booking_id == taken
    assert err.value.suggestion is not None and err.value.suggestion >= at(11, 30)
    assert status_of(s, booking) == "no_show"

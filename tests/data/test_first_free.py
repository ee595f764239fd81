"""Service tests of "first free": the start the booking form offers, and who gets a booking
made with no staff member chosen (issue 14, the fastest booking)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from frontdesk.data import booking_flow as flow
from frontdesk.data import bookings as bk
from frontdesk.data import customers as svc
from frontdesk.data.errors import BlockedCustomer, DoubleBooked
from frontdesk.data.models import Branch, Staff
from frontdesk.data.roles import NotAllowed
from tests.actors import ADMIN, THERAPIST
from tests.data.test_bookings_orders import DAY, book, shop

__all__ = ["shop"]  # the fixture, used by name

NOW = DAY.replace(hour=8)  # before opening: the first start is 09:00


def request(shop: dict[str, int], **changes: object) -> flow.BookingRequest:
    base = flow.BookingRequest(
        customer_id=shop["ann"],
        branch_id=shop["branch"],
        service_id=shop["cut"],
        staff_id=None,
        day="2026-12-01",
        time="09:00",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def at(hour: int, minute: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute)


def test_first_free_is_the_first_therapist_by_name(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    # A receptionist of the branch is never offered (she does no services).
    s.add(Staff(name="Aaron Desk", role="reception", branch_id=shop["branch"]))
    s.commit()
    slot = flow.suggest_start(session=s, request=request(shop), now=NOW, tz=UTC)
    assert slot == flow.FreeSlot(at(9), shop["nina"], "Nina")


def test_first_free_passes_over_a_busy_first_therapist(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    book(s, shop, "bob", "nina", at(9))  # Nina busy 09:00-10:00
    slot = flow.suggest_start(session=s, request=request(shop), now=NOW, tz=UTC)
    assert slot == flow.FreeSlot(at(9), shop["omar"], "Omar")  # same time, next therapist
    booked = flow.book_appointment(session=s, request=request(shop), tz=UTC, actor=ADMIN)
    s.commit()
    assert (booked.staff_id, booked.staff_name, booked.start_at.hour) == (shop["omar"], "Omar", 9)


def test_everyone_busy_moves_to_the_first_time_someone_is_free(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    cleo = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Cleo", email="c@example.com")
    )
    shop = {**shop, "cleo": cleo.id or 0}  # (Bob is not booked twice at once)
    book(s, shop, "bob", "nina", at(9))  # Nina 09:00-10:00
    book(s, shop, "cleo", "omar", at(9, 30))  # Omar 09:30-10:30
    # From 09:00 nobody has the whole hour before Nina is free again at 10:00.
    slot = flow.suggest_start(session=s, request=request(shop), now=NOW, tz=UTC)
    assert slot == flow.FreeSlot(at(10), shop["nina"], "Nina")
    # Booking 09:00 with "first free" is refused, naming the first free start.
    with pytest.raises(flow.NobodyFree) as err:
        flow.book_appointment(session=s, request=request(shop), tz=UTC, actor=ADMIN)
    assert err.value.suggestion == flow.FreeSlot(at(10), shop["nina"], "Nina")
    s.rollback()
    # A chosen staff member is searched alone (and double booking still refused).
    slot = flow.suggest_start(
        session=s, request=request(shop, staff_id=shop["omar"]), now=NOW, tz=UTC
    )
    assert slot == flow.FreeSlot(at(10, 30), shop["omar"], "Omar")
    with pytest.raises(DoubleBooked):
        flow.book_appointment(
            session=s, request=request(shop, staff_id=shop["omar"]), tz=UTC, actor=ADMIN
        )


def test_the_search_starts_at_the_typed_time_never_in_the_past(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    later = flow.suggest_start(session=s, request=request(shop, time="14:10"), now=NOW, tz=UTC)
    assert later is not None and later.start == at(14, 10)
    # A time already past (or unreadable) searches from the next quarter hour of now.
    noon = DAY.replace(hour=12, minute=5)
    past = flow.suggest_start(session=s, request=request(shop, time="10:00"), now=noon, tz=UTC)
    assert past is not None and past.start == at(12, 15)
    bad = flow.suggest_start(session=s, request=request(shop, time="soon"), now=noon, tz=UTC)
    assert bad is not None and bad.start == at(12, 15)
    # Near closing time the service no longer fits: the next morning.
    evening = DAY.replace(hour=18, minute=10)
    late = flow.suggest_start(session=s, request=request(shop), now=evening, tz=UTC)
    assert late is not None and late.start == DAY.replace(day=2, hour=9)
    # Nothing to look for without a service.
    assert flow.suggest_start(session=s, request=request(shop, service_id=None), now=NOW) is None


def test_a_branch_without_therapists_books_with_no_staff_member(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    empty = Branch(name="Pop-up")
    s.add(empty)
    s.commit()
    req = request(shop, branch_id=empty.id)
    assert flow.suggest_start(session=s, request=req, now=NOW, tz=UTC) == flow.FreeSlot(
        at(9), None, ""
    )
    booked = flow.book_appointment(session=s, request=req, tz=UTC, actor=ADMIN)
    s.commit()
    assert booked.staff_id is None


def test_first_free_keeps_every_check(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    with pytest.raises(NotAllowed):
        flow.book_appointment(session=s, request=request(shop), tz=UTC, actor=THERAPIST)
    from frontdesk.data import customers as svc

    svc.block_customer(session=s, customer_id=shop["bob"], reason="unpaid", actor=ADMIN)
    s.commit()
    with pytest.raises(BlockedCustomer):
        flow.book_appointment(
            session=s, request=request(shop, customer_id=shop["bob"]), tz=UTC, actor=ADMIN
        )
    s.rollback()
    # A walk-in that already happened goes to the first therapist free then, completed.
    noon = DAY.replace(hour=12)
    booked = flow.book_appointment(
        session=s,
        request=request(shop, time="10:00", walk_in=True),
        tz=UTC,
        actor=ADMIN,
        now=noon,
    )
    s.commit()
    assert (booked.staff_id, booked.status) == (shop["nina"], "completed")
    assert bk.get_booking(session=s, booking_id=booked.booking_id).source == "walk-in"

"""Service tests of the profile's parts (one read per tab) and its use cases (one per action)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlmodel import Session, col, select

from frontdesk.data import bookings as bk
from frontdesk.data import customers as svc
from frontdesk.data import notes, profile, rewards
from frontdesk.data import profile_actions as actions
from frontdesk.data.errors import InvalidState, ValidationFailed
from frontdesk.data.models import Booking, LoyaltyEnrolment, Order, Payment, Refund
from tests.actors import ADMIN
from tests.data.test_profile_and_directory import NOW, world

__all__ = ["world"]  # the fixture, shared with the statistics tests

TZ = timezone(timedelta(hours=1))


def test_each_part_shows_what_the_whole_profile_shows(
    any_session: Session, world: dict[str, int]
) -> None:
    s = any_session
    notes.add_note(
        session=s, customer_id=world["ann"], body="Allergy: [nuts]", is_alert=True, actor=ADMIN
    )
    notes.add_note(session=s, customer_id=world["ann"], body="Likes tea", actor=ADMIN)
    s.commit()
    whole = profile.load_profile(session=s, customer_id=world["ann"], now=NOW)
    header = profile.load_profile_header(session=s, customer_id=world["ann"])
    assert header.customer.id == world["ann"] and header.alerts == ["Allergy: [nuts]"]
    assert profile.load_overview_tab(session=s, customer_id=world["ann"], now=NOW) == whole.stats
    bookings = profile.load_bookings_tab(session=s, customer_id=world["ann"])
    assert bookings.rows == whole.bookings and bookings.services == whole.services
    assert bookings.note_categories == whole.note_categories
    assert profile.load_orders_tab(session=s, customer_id=world["ann"]) == whole.orders
    rewards_tab = profile.load_rewards_tab(session=s, customer_id=world["ann"])
    assert rewards_tab.enrolments == whole.enrolments and rewards_tab.ledger == whole.ledger
    notes_tab = profile.load_notes_tab(session=s, customer_id=world["ann"])
    assert notes_tab.notes == whole.notes and notes_tab.categories == whole.note_categories
    timeline = profile.load_timeline_tab(session=s, customer_id=world["ann"])
    assert [(i.kind, i.text) for i in timeline] == [(i.kind, i.text) for i in whole.timeline]
    details = profile.load_details_tab(session=s, customer_id=world["ann"])
    assert details.custom == whole.custom and details.tags == whole.tags


def test_a_merged_away_customer_shows_the_survivor(
    any_session: Session, world: dict[str, int]
) -> None:
    s = any_session
    bob = svc.get_customer(session=s, customer_id=world["bob"])
    bob.merged_into_id = world["ann"]
    s.add(bob)
    s.commit()
    header = profile.load_profile_header(session=s, customer_id=world["bob"])
    assert header.customer.id == world["ann"]
    via_bob = profile.load_bookings_tab(session=s, customer_id=world["bob"])
    via_ann = profile.load_bookings_tab(session=s, customer_id=world["ann"])
    assert via_bob.rows == via_ann.rows


def test_bookings_tab_filters(any_session: Session, world: dict[str, int]) -> None:
    s = any_session
    tab = profile.load_bookings_tab(
        session=s, customer_id=world["ann"], date_from=(NOW - timedelta(days=25)).date()
    )
    assert [b.status for b in tab.rows] == ["confirmed", "no_show", "cancelled"]
    assert tab.services == [(world["cut"], "Cut")]  # the filter's choices are not filtered
    none = profile.load_bookings_tab(session=s, customer_id=world["ann"], service_id=world["mani"])
    assert none.rows == []


def test_rewards_tab_offers_only_programs_not_enrolled_in(
    any_session: Session, world: dict[str, int]
) -> None:
    s = any_session
    rewards.save_program(session=s, name="Stamps [club]", unit="stamps", actor=ADMIN)
    s.commit()
    tab = profile.load_rewards_tab(session=s, customer_id=world["ann"])
    assert [name for name, _ in tab.programs] == ["Stamps [club]"]
    assert [e.program for e in tab.enrolments] == ["Reward points"]


# --------------------------------------------------------------------------- actions


def _booking(s: Session, customer_id: int, status: str) -> int:
    found = s.exec(
        select(Booking).where(
            col(Booking.customer_id) == customer_id, col(Booking.status) == status
        )
    ).first()
    assert found is not None
    return found.id or 0


def test_complete_a_booking_with_its_order(any_session: Session, world: dict[str, int]) -> None:
    s = any_session
    booking_id = _booking(s, world["ann"], "confirmed")
    done = actions.change_booking(
        session=s, booking_id=booking_id, action="complete", actor=ADMIN, create_order=True
    )
    s.commit()
    order = s.exec(select(Order).where(col(Order.booking_id) == booking_id)).one()
    assert done.order_id == order.id and order.status == "open"
    with pytest.raises(InvalidState):
        actions.change_booking(session=s, booking_id=booking_id, action="complete", actor=ADMIN)


def test_reschedule_reads_the_typed_date_and_time(
    any_session: Session, world: dict[str, int]
) -> None:
    s = any_session
    booking_id = _booking(s, world["ann"], "confirmed")
    for bad in ("", "2026-12-01", "01-12-2026 10:00", "2026-12-01 25:00"):
        with pytest.raises(ValidationFailed):
            actions.change_booking(
                session=s, booking_id=booking_id, action="reschedule", actor=ADMIN, new_start=bad
            )
    s.rollback()
    actions.change_booking(
        session=s,
        booking_id=booking_id,
        action="reschedule",
        actor=ADMIN,
        new_start="2026-12-01 9.30",
        tz=TZ,
    )
    s.commit()
    booking = s.get(Booking, booking_id)
    assert booking is not None
    start = booking.start_at if booking.start_at.tzinfo else booking.start_at.replace(tzinfo=TZ)
    assert start == datetime(2026, 12, 1, 9, 30, tzinfo=TZ)


def test_cancel_needs_a_reason_and_unknown_actions_are_refused(
    any_session: Session, world: dict[str, int]
) -> None:
    s = any_session
    booking_id = _booking(s, world["ann"], "confirmed")
    with pytest.raises(ValidationFailed):
        actions.change_booking(session=s, booking_id=booking_id, action="cancel", actor=ADMIN)
    with pytest.raises(ValidationFailed):
        actions.change_booking(session=s, booking_id=booking_id, action="delete", actor=ADMIN)


def test_order_payment_refund_cancel_from_typed_amounts(
    any_session: Session, world: dict[str, int]
) -> None:
    s = any_session
    booking_id = _booking(s, world["ann"], "confirmed")
    actions.change_booking(
        session=s, booking_id=booking_id, action="complete", actor=ADMIN, create_order=True
    )
    order_id = s.exec(select(Order.id).where(col(Order.booking_id) == booking_id)).one()
    assert order_id is not None
    with pytest.raises(ValidationFailed):
        actions.change_order(session=s, order_id=order_id, action="pay", actor=ADMIN, amount="ten")
    said = actions.change_order(
        session=s, order_id=order_id, action="pay", actor=ADMIN, amount="25,50", method="cash"
    )
    assert said == f"Order #{order_id}: payment of 25.50 taken"
    with pytest.raises(InvalidState):  # paid money must be refunded first
        actions.change_order(session=s, order_id=order_id, action="cancel", actor=ADMIN, reason="x")
    actions.change_order(
        session=s, order_id=order_id, action="refund", actor=ADMIN, amount="25.5", reason="[/] oops"
    )
    actions.change_order(
        session=s, order_id=order_id, action="cancel", actor=ADMIN, reason="Booked twice"
    )
    s.commit()
    payments = s.exec(select(Payment).where(col(Payment.order_id) == order_id)).all()
    refunds = s.exec(select(Refund).where(col(Refund.order_id) == order_id)).all()
    assert [(p.amount_cents, p.method) for p in payments] == [(2550, "cash")]
    assert [(r.amount_cents, r.reason) for r in refunds] == [(2550, "[/] oops")]
    order = s.get(Order, order_id)
    assert order is not None and order.status == "cancelled"


def test_enrolment_expiry_set_cleared_and_refused(
    any_session: Session, world: dict[str, int]
) -> None:
    s = any_session
    enrolment = s.exec(
        select(LoyaltyEnrolment).where(col(LoyaltyEnrolment.customer_id) == world["ann"])
    ).one()
    eid = enrolment.id or 0
    actions.set_enrolment_expiry(session=s, enrolment_id=eid, expires_on="2027-01-31", actor=ADMIN)
    s.commit()
    assert rewards.get_enrolment(session=s, enrolment_id=eid).expires_on == date(2027, 1, 31)
    with pytest.raises(ValidationFailed):
        actions.set_enrolment_expiry(session=s, enrolment_id=eid, expires_on="31/01", actor=ADMIN)
    actions.set_enrolment_expiry(session=s, enrolment_id=eid, expires_on="  ", actor=ADMIN)
    s.commit()
    assert rewards.get_enrolment(session=s, enrolment_id=eid).expires_on is None


def rewards_tab_of(s: Session, customer_id: int, actor: Any) -> profile.RewardsTab:
    return profile.load_rewards_tab(session=s, customer_id=customer_id, actor=actor)


def test_a_therapist_reads_their_own_bookings_and_nothing_of_the_till(
    any_session: Session, world: dict[str, int]
) -> None:
    """Roles (issue 11): a therapist reads customers, their own bookings and notes. No orders,
    payments or refunds, and no income, in the Orders tab, the timeline or the overview."""
    from frontdesk.data import insights
    from frontdesk.data.models import Staff
    from frontdesk.data.roles import NotAllowed
    from tests.actors import DESK

    s = any_session
    nina = s.exec(select(Staff).where(col(Staff.name) == "Nina")).one()
    omar = Staff(name="Omar", role="therapist")
    s.add(omar)
    s.flush()
    # Two of Ann's five bookings are Omar's: the cancelled one and the upcoming one.
    by_status = {
        b.status: b for b in s.exec(select(Booking).where(Booking.customer_id == world["ann"]))
    }
    upcoming = by_status["confirmed"]
    for booking in (by_status["cancelled"], upcoming):
        booking.staff_id = omar.id
        s.add(booking)
    s.commit()
    ann = world["ann"]
    # Omar's booking cancelled (an audit event of his booking), and points earned on a
    # payment (a ledger entry that tells of the payment).
    bk.change_status(
        session=s, booking_id=upcoming.id or 0, action="cancel", reason="Ill", actor=DESK
    )
    program = rewards.save_program(
        session=s, name="Cash back", points_per_currency_unit=1, actor=ADMIN
    )
    rewards.enrol(session=s, customer_id=ann, program_id=program.id or 0, actor=DESK)
    order = s.exec(select(Order).where(col(Order.customer_id) == ann)).first()
    assert order is not None
    rewards.earn_for_payment(
        session=s, customer_id=ann, order_id=order.id or 0, amount_cents=12_300, actor=DESK
    )
    s.commit()

    with pytest.raises(NotAllowed, match="may not see orders"):
        profile.load_orders_tab(session=s, customer_id=ann, actor=nina)
    assert profile.load_orders_tab(session=s, customer_id=ann, actor=DESK)

    def lines(actor: Staff) -> list[tuple[str, str]]:
        items = profile.load_timeline_tab(session=s, customer_id=ann, actor=actor)
        return [(i.kind, i.text) for i in items]

    everything, hers = lines(DESK), lines(nina)
    assert {"order", "payment", "refund"} <= {kind for kind, _ in everything}
    assert not {"order", "payment", "refund"} & {kind for kind, _ in hers}
    assert any("with Omar" in text for _, text in everything)
    assert not any("with Omar" in text for _, text in hers)
    assert any("Ill" in text for _, text in everything)  # Omar's booking's cancellation
    assert not any("Ill" in text for _, text in hers)
    assert any("Earned on payment" in text for _, text in everything)
    assert not any("Earned on payment" in text for _, text in hers)
    assert sum(kind == "booking" for kind, _ in hers) == 3  # her three bookings of Ann's five
    # Her Rewards tab: the balance counts the payment's points; the ledger does not list
    # the entry (it tells what was paid) and says one entry is not listed.
    enrolment = rewards_tab_of(s, ann, DESK).enrolments[0].id
    rewards.change_points(session=s, enrolment_id=enrolment, points=5, reason="Welcome", actor=DESK)
    s.commit()
    desk_tab, her_tab = rewards_tab_of(s, ann, DESK), rewards_tab_of(s, ann, nina)
    assert her_tab.enrolments == desk_tab.enrolments and desk_tab.enrolments[0].balance == 128
    assert [e.reason for e in desk_tab.ledger][:2] == ["Welcome", "Earned on payment"]
    assert [e.reason for e in her_tab.ledger] == [
        e.reason for e in desk_tab.ledger if e.order_id is None
    ]
    assert "Welcome" in [e.reason for e in her_tab.ledger]
    assert (desk_tab.not_shown, her_tab.not_shown) == (0, 1)
    # Nor the running totals: their jump would tell the left-out entry's points.
    assert all(e.balance_after is not None for e in desk_tab.ledger)
    assert all(e.balance_after is None for e in her_tab.ledger)
    assert not any("→" in text for kind, text in lines(nina) if kind == "points")

    desk = insights.load_profile_overview(session=s, customer_id=ann, actor=DESK, now=NOW)
    assert desk.stats.income_cents is not None and desk.insight.shows_money
    therapist = insights.load_profile_overview(session=s, customer_id=ann, actor=nina, now=NOW)
    assert therapist.stats.income_cents is None and therapist.stats.average_visit_cents is None
    assert not therapist.insight.shows_money
    assert therapist.stats.visits == desk.stats.visits  # visits are not money

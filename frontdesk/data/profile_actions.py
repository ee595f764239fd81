"""What a receptionist does from a customer's profile: one use case per action.

Each function is one transaction's work (the caller commits): it takes the text as typed in
the profile's prompts (amounts, dates), checks it, and calls the services that own the rules
(bookings, orders, rewards). The TUI calls exactly one of these per action; the CLI and tests
can call them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from sqlmodel import Session

from frontdesk.data import bookings, orders, rewards
from frontdesk.data.booking_flow import local_tz, parse_day, parse_time
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.models import LoyaltyEnrolment, Staff
from frontdesk.data.roles import require

BOOKING_ACTIONS = ("confirm", "complete", "cancel", "no_show", "undo_no_show", "reschedule")
ORDER_ACTIONS = ("pay", "refund", "cancel")


def parse_when(text: str, tz: tzinfo | None = None) -> datetime:
    """'2026-12-01 14:30' in the desk's time zone."""
    day_text, _, time_text = text.strip().partition(" ")
    if not time_text.strip():
        raise ValidationFailed("start_at", "give the date and the time: YYYY-MM-DD HH:MM")
    d = parse_day(day_text, "start_at")
    h, m = parse_time(time_text, "start_at")
    return datetime(d.year, d.month, d.day, h, m, tzinfo=tz or local_tz())


@dataclass(frozen=True)
class BookingChanged:
    booking_id: int
    action: str
    order_id: int | None  # the order created with a completed visit


def change_booking(
    *,
    session: Session,
    booking_id: int,
    action: str,
    actor: Staff | None,
    reason: str | None = None,
    new_start: str | None = None,
    create_order: bool = False,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> BookingChanged:
    """Confirm, complete (optionally with its order), cancel (reason), no-show, undo a
    no-show, reschedule.

    ``new_start`` is the text typed for a reschedule ("YYYY-MM-DD HH:MM", the desk's time).
    ``now`` is the desk's clock: no no-show before the start or after the arrival, no visit
    done before its start unless the customer has arrived (bookings.change_status).
    """
    require(actor, "book")
    if action not in BOOKING_ACTIONS:
        raise ValidationFailed("action", f"unknown action {action!r}")
    start = parse_when(new_start or "", tz) if action == "reschedule" else None
    bookings.change_status(
        session=session,
        booking_id=booking_id,
        action=action,
        actor=actor,
        reason=reason,
        new_start=start,
        now=now,
        tz=tz,
    )
    order_id = None
    if create_order and action == "complete":
        order_id = orders.order_for_booking(session=session, booking_id=booking_id, actor=actor).id
    return BookingChanged(booking_id=booking_id, action=action, order_id=order_id)


def change_order(
    *,
    session: Session,
    order_id: int,
    action: str,
    actor: Staff | None,
    amount: str | None = None,
    method: str = "card",
    reason: str | None = None,
) -> str:
    """Take a payment (amount, method), refund (amount, reason) or cancel (reason).

    ``amount`` is the text typed ("45", "45.50", "45,50"). Returns what was done, for the
    message the desk shows.
    """
    require(actor, "refund" if action == "refund" else "order")
    if action == "pay":
        cents = orders.parse_money(amount or "")
        orders.take_payment(
            session=session, order_id=order_id, amount_cents=cents, method=method, actor=actor
        )
        return f"Order #{order_id}: payment of {cents / 100:,.2f} taken"
    if action == "refund":
        cents = orders.parse_money(amount or "")
        orders.refund(
            session=session,
            order_id=order_id,
            amount_cents=cents,
            reason=reason or "",
            actor=actor,
        )
        return f"Order #{order_id}: {cents / 100:,.2f} refunded"
    if action == "cancel":
        orders.cancel_order(session=session, order_id=order_id, reason=reason or "", actor=actor)
        return f"Order #{order_id} cancelled"
    raise ValidationFailed("action", f"unknown action {action!r}")


def set_enrolment_expiry(
    *,
    session: Session,
    enrolment_id: int,
    expires_on: str,
    actor: Staff | None,
    today: date | None = None,
) -> LoyaltyEnrolment:
    """Set (YYYY-MM-DD) or clear (empty text) when an enrolment's points expire."""
    require(actor, "rewards")
    text = (expires_on or "").strip()
    when = parse_day(text, "expires_on") if text else None
    return rewards.change_expiry(
        session=session, enrolment_id=enrolment_id, expires_on=when, actor=actor, today=today
    )

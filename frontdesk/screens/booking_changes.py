"""Changing a booking from a list (the profile's Bookings tab, the day sheet): what to ask for
each action (a reason, a new time, whether to make the order), the one service call, and the
sentences said after it or when the new time is taken."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session
from textual.screen import Screen

from frontdesk.data import profile_actions as actions
from frontdesk.data.booking_flow import local_tz
from frontdesk.data.errors import DoubleBooked, FrontdeskError, ValidationFailed
from frontdesk.data.models import Staff
from frontdesk.screens.common import ChoiceModal, ConfirmModal, PromptModal
from frontdesk.screens.profile.tab import prompt_check

VERBS = {
    "confirm": "confirmed",
    "complete": "done",
    "cancel": "cancelled",
    "no_show": "marked no-show",
    "undo_no_show": "back to confirmed (no-show undone)",
    "reschedule": "rescheduled",
}

# change(booking_id, action, reason=..., when=..., create_order=...)
Change = Callable[..., None]
Ask = Callable[[Screen[Any], Callable[[Any], None]], None]


# rescheduled(booking_id, result): the dialog saved the new time; show it.
Rescheduled = Callable[[int, actions.BookingChanged], None]


def ask_and_change(
    ask: Ask,
    change: Change,
    booking_id: int,
    action: str,
    *,
    actor: Staff | None,
    rescheduled: Rescheduled,
    start: datetime | None = None,
    status: str | None = None,
    now: datetime | None = None,
    arrived: bool = False,
) -> None:
    """Ask what ``action`` needs, then ``change``: cancel asks the reason, done whether to
    create the order now. Reschedule asks the new date and time (``start`` filled in when
    given) and saves from its dialog: a time another booking holds is refused under the
    field with the next free time, and what was typed stays. No-show on a booking whose
    ``status`` is already no-show asks whether to undo it (the service decides whether it
    may be). ``now`` is the desk's clock, handed to the service. Done on a booking that has
    not started (``start`` after ``now``) and whose customer has not ``arrived`` goes to the
    service at once, which says why not (the order question came first)."""
    if action == "no_show" and status == "no_show":
        ask(
            ConfirmModal(
                f"Booking #{booking_id} is marked no-show. Undo that: the customer came?",
                yes="Undo no-show",
                no="Keep",
            ),
            lambda yes: change(booking_id, "undo_no_show") if yes else None,
        )
    elif action == "cancel":
        ask(
            PromptModal(f"Why is booking #{booking_id} cancelled?", placeholder="Reason"),
            lambda reason: change(booking_id, "cancel", reason=reason) if reason else None,
        )
    elif action == "reschedule":
        value = f"{start.astimezone(local_tz()):%Y-%m-%d %H:%M}" if start else ""
        ask(
            PromptModal(
                f"New date and time for booking #{booking_id}",
                placeholder="YYYY-MM-DD HH:MM",
                value=value,
                check=prompt_check(actions.parse_when),
                save=lambda when: change_work(booking_id, "reschedule", actor, when=when, now=now),
                explain=double_booked_text,
            ),
            lambda result: rescheduled(booking_id, result) if result is not None else None,
        )
    elif action == "complete" and start and now and start > now and not arrived:
        change(booking_id, "complete")  # refused by the service, with the reason
    elif action == "complete":

        def chosen(choice: str | None) -> None:
            if choice:
                change(booking_id, "complete", create_order=choice == "order")

        ask(
            ChoiceModal(
                f"Booking #{booking_id}: the visit is done",
                [("Done, and create its order now", "order"), ("Done, no order now", "done")],
            ),
            chosen,
        )
    else:
        change(booking_id, action)


def change_work(
    booking_id: int,
    action: str,
    actor: Staff | None,
    *,
    reason: str | None = None,
    when: str | None = None,
    create_order: bool = False,
    now: datetime | None = None,
) -> Callable[[Session], actions.BookingChanged]:
    """The one service call of a booking change (run it with run_write); ``now`` is the
    desk's clock (the app's ``clock()``)."""
    return lambda s: actions.change_booking(
        session=s,
        booking_id=booking_id,
        action=action,
        actor=actor,
        reason=reason,
        new_start=when,
        create_order=create_order,
        now=now,
    )


def changed_text(booking_id: int, action: str) -> Callable[[actions.BookingChanged], str]:
    """What is said once the change is saved."""

    def said(result: actions.BookingChanged) -> str:
        text = f"Booking #{booking_id} {VERBS.get(action, action)}"
        if result.order_id:
            text += f"; order #{result.order_id} created"
        return text

    return said


def double_booked_text(error: FrontdeskError) -> str | None:
    """The sentence for a new time another booking holds (with the next free time), the
    message alone for a refused time (outside the opening hours, the customer's other
    booking then), or None for any other refusal."""
    if isinstance(error, ValidationFailed) and error.field == "start_at":
        return error.message
    if not isinstance(error, DoubleBooked):
        return None
    c = error.conflict
    hint = (
        f"; free at {error.suggestion.astimezone(local_tz()):%Y-%m-%d %H:%M}"
        if error.suggestion
        else ""
    )
    return f"{c.staff} is busy then ({c.service}, {c.customer_name}){hint}"

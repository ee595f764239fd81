"""Bookings: create (no double-booking, no blocked customers), status changes, follow-ups.

The rules of a booking's time (the desk, the CLI and the API alike): a staff member is not
double-booked; a customer is not booked twice at once (their pending or confirmed bookings,
with any staff member); a new start or a move is within the opening hours
(:func:`check_opening_hours`).

Status changes follow the desk's clock (``now``): a no-show is marked once the booking's
start has passed and never after the customer arrived; a visit is done once its start has
come or the customer has arrived; a mistaken no-show is undone on the day of the booking,
unless its time was booked meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from frontdesk.data import audit, rewards
from frontdesk.data.errors import (
    BlockedCustomer,
    DoubleBooked,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from frontdesk.data.models import (
    Booking,
    BookingStatus,
    Branch,
    Customer,
    Service,
    Staff,
    utcnow,
)
from frontdesk.data.roles import require
from frontdesk.data.validation import clean_line, clean_multiline

# Statuses that occupy the staff member's time.
BUSY = (BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value, BookingStatus.COMPLETED.value)
# Statuses of a customer's bookings still to come (a visit done, cancelled or missed does not
# keep the customer from another booking then).
ACTIVE = (BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value)
OPENING = time(9, 0)
CLOSING = time(19, 0)
MIDNIGHT = time(0, 0)
SUGGEST_STEP = timedelta(minutes=15)
SUGGEST_DAYS = 14


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _zone(tz: tzinfo | None) -> tzinfo:
    """The desk's time zone: ``tz``, else this machine's."""
    return tz or datetime.now().astimezone().tzinfo or UTC


# ---------------------------------------------------------------------- opening hours


@dataclass(frozen=True)
class Hours:
    """The business's opening hours (settings ``opens_at``, ``closes_at``; the desk's
    time zone). A closing at 00:00 is midnight at the end of the day ("24:00")."""

    opening: time = OPENING
    closing: time = CLOSING

    @property
    def text(self) -> str:
        closing = "24:00" if self.closing == MIDNIGHT else f"{self.closing:%H:%M}"
        return f"{self.opening:%H:%M}-{closing}"

    def of(self, local: datetime) -> tuple[datetime, datetime]:
        """That day's opening and closing (``local``: a time in the desk's zone)."""
        zone = local.tzinfo
        closing = datetime.combine(local.date(), self.closing, zone)
        if self.closing == MIDNIGHT:
            closing = datetime.combine(local.date() + timedelta(days=1), MIDNIGHT, zone)
        return datetime.combine(local.date(), self.opening, zone), closing


DEFAULT_HOURS = Hours()


def opening_hours(session: Session) -> Hours:
    """The opening hours as the business set them (09:00-19:00 unless changed)."""
    from frontdesk.data.settings import get_setting

    def at(key: str) -> time:
        text = str(get_setting(session=session, key=key))
        return time(int(text[:2]) % 24, int(text[3:5]))  # closing "24:00": midnight

    return Hours(at("opens_at"), at("closes_at"))


def fits_hours(
    start: datetime, duration: timedelta, tz: tzinfo | None = None, hours: Hours = DEFAULT_HOURS
) -> bool:
    """The rule of the opening hours (in the desk's time zone ``tz``): a visit starts at or
    after opening and ends by closing; a service longer than the opening hours (a multi-day
    one) only starts within them."""
    local = _aware(start).astimezone(_zone(tz))
    opening, closing = hours.of(local)
    if local < opening or local >= closing:
        return False
    return duration > closing - opening or local + duration <= closing


def hours_problem(
    start: datetime, duration: timedelta, tz: tzinfo | None = None, hours: Hours = DEFAULT_HOURS
) -> str | None:
    """Why ``start`` for ``duration`` breaks the opening hours (None: it does not):
    "07:30 is outside the opening hours (09:00-19:00)"."""
    if fits_hours(start, duration, tz, hours):
        return None
    local = _aware(start).astimezone(_zone(tz))
    text = f"{local:%H:%M} is outside the opening hours ({hours.text})"
    opening, closing = hours.of(local)
    if opening <= local < closing:
        minutes = int(duration.total_seconds() // 60)
        text += f": the {minutes}-minute visit would end at {local + duration:%H:%M}"
    return text


def check_opening_hours(
    *,
    start: datetime,
    duration: timedelta,
    tz: tzinfo | None = None,
    field: str = "start_at",
    hours: Hours = DEFAULT_HOURS,
) -> None:
    """Raise ValidationFailed(``field``) when the visit breaks the opening hours
    (:func:`fits_hours`). One rule for the desk, the CLI, the API and a move."""
    problem = hours_problem(start, duration, tz, hours)
    if problem is not None:
        raise ValidationFailed(field, problem)


def next_open_start(
    candidate: datetime,
    duration: timedelta,
    tz: tzinfo | None = None,
    hours: Hours = DEFAULT_HOURS,
) -> datetime:
    """The first start at or after ``candidate`` that the opening hours allow for
    ``duration`` (the candidate itself, that day's opening, or the next day's)."""
    zone = _zone(tz)
    local = _aware(candidate).astimezone(zone)
    opening, _closing = hours.of(local)
    if local < opening:
        return opening.astimezone(UTC)
    if fits_hours(local, duration, zone, hours):
        return candidate
    return (opening + timedelta(days=1)).astimezone(UTC)


@dataclass(frozen=True)
class Conflict:
    booking_id: int
    customer_code: str
    customer_name: str
    service: str
    start_at: datetime
    end_at: datetime
    staff: str


class CustomerBusy(ValidationFailed):
    """The customer already has a pending or confirmed booking (with any staff member) that
    overlaps the new time: refused as a double booking of a staff member is; the message
    names the other booking (time, service, staff member)."""

    def __init__(self, conflict: Conflict, field: str = "start_at", tz: tzinfo | None = None):
        self.conflict = conflict
        zone = _zone(tz)
        start, end = conflict.start_at.astimezone(zone), conflict.end_at.astimezone(zone)
        with_whom = f" with {conflict.staff}" if conflict.staff else ""
        super().__init__(
            field,
            f"{conflict.customer_name} already has booking #{conflict.booking_id} then: "
            f"{start:%Y-%m-%d %H:%M}-{end:%H:%M} {conflict.service}{with_whom}",
        )


def _lock_staff(session: Session, staff_id: int) -> Staff:
    """Serialise bookings of one staff member (row lock on PostgreSQL; SQLite's IMMEDIATE
    transaction already serialises writers)."""
    staff = session.exec(select(Staff).where(col(Staff.id) == staff_id).with_for_update()).first()
    if staff is None:
        raise ValidationFailed("staff_id", "no such staff member")
    return staff


def lookback(session: Session) -> timedelta:
    """How long before a moment a booking that still runs then can have started: the longest
    service, and at least a day. Bounds the index range of the overlap checks below (without
    it they walked the staff member's whole history, slower with every booking ever made)."""
    longest = session.exec(select(func.max(Service.duration_minutes))).one()
    return max(timedelta(days=1), timedelta(minutes=int(longest or 0)))


def _first_overlap(
    session: Session,
    whose: Any,
    statuses: tuple[str, ...],
    start_at: datetime,
    end_at: datetime,
    exclude_id: int | None,
) -> Conflict | None:
    """The first booking matching ``whose`` (a condition: a staff member's, a customer's) in
    ``statuses`` that overlaps ``start_at``-``end_at``, but ``exclude_id``."""
    stmt = (
        select(Booking, Customer, Service, Staff)
        .join(Customer, col(Customer.id) == col(Booking.customer_id))
        .join(Service, col(Service.id) == col(Booking.service_id))
        .outerjoin(Staff, col(Staff.id) == col(Booking.staff_id))
        .where(
            whose,
            col(Booking.status).in_(statuses),
            col(Booking.start_at) < end_at,
            col(Booking.start_at) > start_at - lookback(session),
            col(Booking.end_at) > start_at,
        )
        .order_by(col(Booking.start_at))
        .limit(1)
    )
    if exclude_id is not None:
        stmt = stmt.where(col(Booking.id) != exclude_id)
    row = session.exec(stmt).first()
    if row is None:
        return None
    booking, customer, service, staff = row
    return Conflict(
        booking_id=booking.id or 0,
        customer_code=customer.code,
        customer_name=customer.full_name,
        service=service.name,
        start_at=_aware(booking.start_at),
        end_at=_aware(booking.end_at),
        staff=staff.name if staff is not None else "",
    )


def find_conflict(
    *,
    session: Session,
    staff_id: int,
    start_at: datetime,
    end_at: datetime,
    exclude_id: int | None = None,
) -> Conflict | None:
    """The staff member's first booking that takes their time (pending, confirmed, done)
    and overlaps ``start_at``-``end_at``."""
    return _first_overlap(
        session, col(Booking.staff_id) == staff_id, BUSY, start_at, end_at, exclude_id
    )


def find_customer_clash(
    *,
    session: Session,
    customer_id: int,
    start_at: datetime,
    end_at: datetime,
    exclude_id: int | None = None,
) -> Conflict | None:
    """The customer's first pending or confirmed booking (any staff member, or none) that
    overlaps ``start_at``-``end_at`` (``exclude_id``: the booking being moved)."""
    return _first_overlap(
        session, col(Booking.customer_id) == customer_id, ACTIVE, start_at, end_at, exclude_id
    )


def refuse_customer_clash(
    *,
    session: Session,
    customer_id: int,
    start_at: datetime,
    end_at: datetime,
    exclude_id: int | None = None,
    field: str = "start_at",
    tz: tzinfo | None = None,
) -> None:
    """Raise :class:`CustomerBusy` when the customer has another booking then."""
    clash = find_customer_clash(
        session=session,
        customer_id=customer_id,
        start_at=start_at,
        end_at=end_at,
        exclude_id=exclude_id,
    )
    if clash is not None:
        raise CustomerBusy(clash, field, tz)


def customer_busy(
    *,
    session: Session,
    customer_id: int | None,
    after: datetime,
    until: datetime,
    exclude_id: int | None = None,
) -> list[tuple[datetime, datetime]]:
    """The customer's pending and confirmed bookings between ``after`` and ``until`` (as
    intervals), which no suggested start may overlap."""
    if customer_id is None:
        return []
    stmt = select(Booking.start_at, Booking.end_at).where(
        col(Booking.customer_id) == customer_id,
        col(Booking.status).in_(ACTIVE),
        col(Booking.end_at) > after,
        col(Booking.start_at) < until,
        col(Booking.start_at) > after - lookback(session),
    )
    if exclude_id is not None:
        stmt = stmt.where(col(Booking.id) != exclude_id)
    return [(_aware(b), _aware(e)) for b, e in session.exec(stmt)]


def suggest_free_time(
    *,
    session: Session,
    staff_id: int,
    start_at: datetime,
    duration: timedelta,
    exclude_id: int | None = None,
    tz: Any = None,
    customer_id: int | None = None,
) -> datetime | None:
    """The first start at or after ``start_at`` (15-minute steps, within opening hours in the
    local time zone ``tz``) at which the staff member (and the customer, when given) is free
    for ``duration``."""
    tz = _zone(tz)
    end_search = start_at + timedelta(days=SUGGEST_DAYS)
    stmt = select(Booking).where(
        col(Booking.staff_id) == staff_id,
        col(Booking.status).in_(BUSY),
        col(Booking.end_at) > start_at,
        col(Booking.start_at) < end_search,
        col(Booking.start_at) > start_at - lookback(session),
    )
    if exclude_id is not None:
        stmt = stmt.where(col(Booking.id) != exclude_id)
    intervals = [(_aware(b.start_at), _aware(b.end_at)) for b in session.exec(stmt)]
    intervals += customer_busy(
        session=session,
        customer_id=customer_id,
        after=start_at,
        until=end_search,
        exclude_id=exclude_id,
    )
    candidate = start_at
    hours = opening_hours(session)
    while candidate < end_search:
        allowed = next_open_start(candidate, duration, tz, hours)
        if allowed != candidate:
            candidate = allowed
            continue
        clash = next((e for s, e in intervals if s < candidate + duration and e > candidate), None)
        if clash is None:
            return candidate
        # Jump to the end of the clash, rounded up to the step.
        minutes = int((clash - candidate).total_seconds() // 60)
        step = max(SUGGEST_STEP, timedelta(minutes=((minutes + 14) // 15) * 15))
        candidate = candidate + step
    return None


def _lock_customer(session: Session, customer_id: int) -> None:
    """Take the customer's turn (row lock on PostgreSQL; SQLite's IMMEDIATE transaction
    already serialises writers): two desks booking or moving one customer at once check
    their other bookings one after the other."""
    session.exec(select(Customer.id).where(col(Customer.id) == customer_id).with_for_update())


def _check_customer(session: Session, customer_id: int) -> Customer:
    """The customer, locked: a delete, merge or block on another desk at the same moment
    waits for this booking (and then cancels it) or makes it fail here, never both."""
    customer = session.exec(
        select(Customer)
        .where(col(Customer.id) == customer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if customer is None or not customer.is_live:
        raise ValidationFailed("customer_id", "choose a customer")
    if customer.blocked:
        raise BlockedCustomer(customer)
    return customer


def _record(
    session: Session, actor: Staff | None, booking: Booking, action: str, changes: dict[str, Any]
) -> None:
    audit.record(
        session=session,
        actor=actor,
        entity="booking",
        entity_id=booking.id or 0,
        action=action,
        customer_id=booking.customer_id,
        changes=changes,
    )


def create_booking(
    *,
    session: Session,
    customer_id: int,
    service_id: int,
    branch_id: int,
    staff_id: int | None,
    start_at: datetime,
    actor: Staff | None,
    notes: str | None = None,
    status: BookingStatus | str = BookingStatus.CONFIRMED,
    source: str = "desk",
    price_cents: int | None = None,
    start_field: str = "start_at",
    tz: tzinfo | None = None,
) -> Booking:
    """Book one visit. Refuses a blocked customer, an inactive service or branch, a staff
    member's double booking (DoubleBooked, with the next time the staff member and the
    customer are both free, in the desk's time zone ``tz``) and a customer who has another
    booking then (:class:`CustomerBusy`, on ``start_field``: the start's name in the caller's
    form). The opening hours are the caller's check (:func:`check_opening_hours`): the desk
    and the API check them (the demo data writes its bookings directly)."""
    require(actor, "book")
    notes_text = clean_multiline("notes", notes)
    source = clean_line("source", source, max_length=20) or "desk"
    customer = _check_customer(session, customer_id)
    service = session.get(Service, service_id)
    if service is None or not service.active:
        raise ValidationFailed("service_id", "choose a service")
    branch = session.get(Branch, branch_id)
    if branch is None or not branch.active:  # a deactivated branch takes no new bookings
        raise ValidationFailed("branch_id", "choose a branch")
    start_at = _aware(start_at)
    end_at = start_at + timedelta(minutes=service.duration_minutes)
    if staff_id is not None:
        _lock_staff(session, staff_id)
        conflict = find_conflict(
            session=session, staff_id=staff_id, start_at=start_at, end_at=end_at
        )
        if conflict is not None:
            suggestion = suggest_free_time(
                session=session,
                staff_id=staff_id,
                start_at=start_at,
                duration=end_at - start_at,
                tz=tz,
                customer_id=customer.id,
            )
            raise DoubleBooked(conflict, suggestion)
    # The customer is locked (above): two desks booking them at once take turns here.
    refuse_customer_clash(
        session=session,
        customer_id=customer.id or 0,
        start_at=start_at,
        end_at=end_at,
        field=start_field,
        tz=tz,
    )
    booking = Booking(
        customer_id=customer.id or 0,
        service_id=service_id,
        branch_id=branch_id,
        staff_id=staff_id,
        start_at=start_at,
        end_at=end_at,
        status=BookingStatus(status).value,
        price_cents=service.price_cents if price_cents is None else price_cents,
        source=source,
        notes=notes_text,
        created_by_id=actor.id if actor else None,
    )
    session.add(booking)
    session.flush()
    _record(
        session,
        actor,
        booking,
        "create",
        {
            "service": (None, service.name),
            "start_at": (None, start_at),
            "status": (None, booking.status),
        },
    )
    return booking


def get_booking(*, session: Session, booking_id: int, lock: bool = False) -> Booking:
    stmt = select(Booking).where(col(Booking.id) == booking_id)
    if lock:
        stmt = stmt.with_for_update()
    booking = session.exec(stmt).first()
    if booking is None:
        raise NotFound("booking", booking_id)
    return booking


ALLOWED = {
    "confirm": {BookingStatus.PENDING.value},
    "complete": {BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value},
    "cancel": {BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value},
    "no_show": {BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value},
    "reschedule": {BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value},
    "undo_no_show": {BookingStatus.NO_SHOW.value},
}
RESULT = {
    "confirm": BookingStatus.CONFIRMED.value,
    "complete": BookingStatus.COMPLETED.value,
    "cancel": BookingStatus.CANCELLED.value,
    "no_show": BookingStatus.NO_SHOW.value,
    "undo_no_show": BookingStatus.CONFIRMED.value,
}


def _local(value: datetime, zone: tzinfo, now: datetime) -> str:
    """A booking's time as the desk says it: the time alone on ``now``'s day."""
    local = _aware(value).astimezone(zone)
    same_day = local.date() == now.astimezone(zone).date()
    return f"{local:%H:%M}" if same_day else f"{local:%Y-%m-%d %H:%M}"


def _check_clock(booking: Booking, action: str, now: datetime, zone: tzinfo) -> None:
    """The rules of the desk's clock: no no-show before the start or after the arrival, no
    visit done before it starts unless the customer is here, a no-show undone on its day."""
    start = _aware(booking.start_at)
    number = f"booking #{booking.id}"
    if action == "no_show":
        if booking.arrived_at is not None:
            arrived = _local(booking.arrived_at, zone, now)
            raise InvalidState(f"the customer of {number} arrived at {arrived}: not a no-show")
        if start > now:
            raise InvalidState(
                f"{number} starts at {_local(start, zone, now)}: "
                "a no-show is marked once its time has passed"
            )
    elif action == "complete":
        if start > now and booking.arrived_at is None:
            raise InvalidState(
                f"{number} starts at {_local(start, zone, now)}: a visit is marked done "
                "once its time has come or the customer has arrived"
            )
    elif action == "undo_no_show":
        day = start.astimezone(zone).date()
        if day != now.astimezone(zone).date():
            raise InvalidState(
                f"{number} was on {day:%Y-%m-%d}: a no-show is undone on the day of the booking"
            )


def _refuse_clash(
    session: Session, booking: Booking, start: datetime, duration: timedelta, tz: Any = None
) -> None:
    """Refuse (DoubleBooked, with the staff member's next free start) to put ``booking`` at
    ``start`` for ``duration`` when its staff member has another booking then; the staff
    member's turn is taken first, so two desks cannot both find the time free."""
    if booking.staff_id is None:
        return
    _lock_staff(session, booking.staff_id)
    conflict = find_conflict(
        session=session,
        staff_id=booking.staff_id,
        start_at=start,
        end_at=start + duration,
        exclude_id=booking.id,
    )
    if conflict is not None:
        raise DoubleBooked(
            conflict,
            suggest_free_time(
                session=session,
                staff_id=booking.staff_id,
                start_at=start,
                duration=duration,
                exclude_id=booking.id,
                tz=tz,
                customer_id=booking.customer_id,
            ),
        )


def change_status(
    *,
    session: Session,
    booking_id: int,
    action: str,
    actor: Staff | None,
    reason: str | None = None,
    new_start: datetime | None = None,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> Booking:
    """confirm / complete / cancel (reason required) / no_show / reschedule (new_start) /
    undo_no_show (back to confirmed).

    ``now`` is the desk's clock (the current time when None) and ``tz`` its time zone (the
    machine's when None): see the module's rules. Undoing a no-show whose time another
    booking of the staff member took meanwhile raises DoubleBooked, as a reschedule does.
    """
    require(actor, "book")
    if action not in ALLOWED:
        raise ValidationFailed("action", f"unknown action {action!r}")
    owner: int | None = None
    if action in ("reschedule", "undo_no_show"):
        # The customer's turn first (as a new booking and a delete take it), then the
        # booking's: a move, or a no-show taken back, checks the customer's other bookings
        # under that lock.
        owner = session.exec(
            select(Booking.customer_id).where(col(Booking.id) == booking_id)
        ).first()
        if owner is not None:
            _lock_customer(session, owner)
    booking = get_booking(session=session, booking_id=booking_id, lock=True)
    session.refresh(booking)
    if owner is not None and booking.customer_id != owner:  # merged meanwhile: its new owner
        _lock_customer(session, booking.customer_id)
    if booking.status not in ALLOWED[action]:
        state = booking.status.replace("_", "-")
        if action == "undo_no_show":
            raise InvalidState(f"booking #{booking_id} is {state}, not a no-show")
        raise InvalidState(f"a {state} booking cannot be {_past(action)}")
    zone = tz or datetime.now().astimezone().tzinfo or UTC
    _check_clock(booking, action, _aware(now or utcnow()), zone)
    changes: dict[str, Any] = {}
    if action == "undo_no_show":
        start, end = _aware(booking.start_at), _aware(booking.end_at)
        _refuse_clash(session, booking, start, end - start, tz=zone)
        # Back to confirmed: not while the customer has another booking then (one made
        # after the no-show, with someone else).
        refuse_customer_clash(
            session=session,
            customer_id=booking.customer_id,
            start_at=start,
            end_at=end,
            exclude_id=booking.id,
            tz=zone,
        )
    if action == "cancel":
        text = clean_line("reason", reason, max_length=300)
        if not text:
            raise ValidationFailed("reason", "Say why the booking is cancelled")
        booking.cancellation_reason = text
        changes["cancellation_reason"] = (None, text)
    if action == "reschedule":
        if new_start is None:
            raise ValidationFailed("start_at", "choose the new date and time")
        new_start = _aware(new_start)
        duration = _aware(booking.end_at) - _aware(booking.start_at)
        # A move obeys the rules of a new booking (never colliding with itself).
        check_opening_hours(
            start=new_start, duration=duration, tz=zone, hours=opening_hours(session)
        )
        _refuse_clash(session, booking, new_start, duration, tz=zone)
        refuse_customer_clash(
            session=session,
            customer_id=booking.customer_id,
            start_at=new_start,
            end_at=new_start + duration,
            exclude_id=booking.id,
            tz=zone,
        )
        changes["start_at"] = (booking.start_at, new_start)
        if booking.arrived_at is not None and (
            new_start.astimezone(zone).date() != _aware(booking.start_at).astimezone(zone).date()
        ):
            # Moved to another day: the customer who checked in today comes again then (a
            # check-in kept would let that visit be done, or skip its no-show, days early).
            changes["arrived_at"] = (booking.arrived_at, None)
            booking.arrived_at = None
        booking.start_at = new_start
        booking.end_at = new_start + duration
    else:
        changes["status"] = (booking.status, RESULT[action])
        booking.status = RESULT[action]
    booking.version += 1
    booking.updated_at = utcnow()
    session.add(booking)
    session.flush()
    _record(session, actor, booking, action, changes)
    if action == "complete":
        rewards.earn_for_visit(
            session=session,
            customer_id=booking.customer_id,
            booking_id=booking.id or 0,
            actor=actor,
        )
    return booking


def _past(action: str) -> str:
    return {
        "confirm": "confirmed",
        "complete": "completed",
        "cancel": "cancelled",
        "no_show": "marked as no-show",
        "reschedule": "rescheduled",
    }[action]


@dataclass(frozen=True)
class FollowUp:
    service_id: int
    staff_id: int | None
    branch_id: int


def follow_up_template(*, session: Session, customer_id: int) -> FollowUp | None:
    """Service, staff member and branch of the customer's last visit ("book follow-up")."""
    last = session.exec(
        select(Booking)
        .where(
            col(Booking.customer_id) == customer_id,
            col(Booking.status) == BookingStatus.COMPLETED.value,
        )
        .order_by(col(Booking.start_at).desc())
        .limit(1)
    ).first()
    if last is None:
        return None
    return FollowUp(service_id=last.service_id, staff_id=last.staff_id, branch_id=last.branch_id)


def list_services(*, session: Session) -> list[Service]:
    return list(
        session.exec(
            select(Service).where(col(Service.active).is_(True)).order_by(col(Service.name))
        )
    )

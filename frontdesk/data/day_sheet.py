"""The day sheet: the bookings of one day at one branch, check-in, and free times.

- :func:`load_day_sheet`: one day's bookings at one branch (the viewer's by default), by
  time and staff member, with what the desk needs on each line (alert, category icon, notes
  marker, arrived, late). A therapist sees only their own bookings (roles.own_bookings_only).
- :func:`check_in`: the customer arrived (one transaction, audited, the booking locked).
- :func:`free_slots`: the next free start times of a service per staff member, found with
  the same double-booking rules as the booking form (bookings.suggest_free_time).
- :func:`day_fingerprint`: a cheap check whether anything of that day changed.

Done, no-show, cancel and reschedule go through profile_actions.change_booking, as at the
profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, literal_column, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from frontdesk.data import audit, booking_requests
from frontdesk.data.booking_flow import service_staff
from frontdesk.data.bookings import SUGGEST_STEP, get_booking, suggest_free_time
from frontdesk.data.directory import alert_customer_ids
from frontdesk.data.errors import InvalidState, ValidationFailed
from frontdesk.data.models import (
    Booking,
    BookingStatus,
    Branch,
    Category,
    Customer,
    Note,
    Service,
    Staff,
    utcnow,
)
from frontdesk.data.roles import own_bookings_only, require

# A booking still to happen (it can be checked in, marked done, no-show, cancelled, moved).
OPEN = (BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value)
# How many free times the free-slot view offers per staff member.
FREE_PER_STAFF = 3


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _tz(tz: tzinfo | None) -> tzinfo:
    return tz or datetime.now().astimezone().tzinfo or UTC


def day_bounds(day: date, tz: tzinfo | None = None) -> tuple[datetime, datetime]:
    """The day on the desk's wall clock, as [start, end) in UTC."""
    zone = _tz(tz)
    start = datetime.combine(day, time(0, 0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0, 0), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


@dataclass(frozen=True)
class DayRow:
    booking_id: int
    start_at: datetime
    end_at: datetime
    customer_id: int
    customer_code: str
    customer_name: str
    alert: bool
    blocked: bool
    category_symbol: str | None
    category_colour: str | None
    service: str
    service_id: int
    staff_id: int | None
    staff: str | None
    status: str
    has_notes: bool
    arrived_at: datetime | None
    late: bool  # the start has passed, not arrived, still pending/confirmed
    version: int

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


@dataclass(frozen=True)
class DaySheet:
    day: date
    branch_id: int | None
    branches: list[tuple[int, str]]
    staff: list[tuple[int, str]]  # who can be filtered on (a therapist: only themselves)
    staff_id: int | None  # the staff filter applied
    own_only: bool  # a therapist's own bookings only
    services: list[tuple[int, str, int]]  # (id, name, minutes) for the free-slot view
    rows: list[DayRow]
    requests_waiting: int = 0  # booking requests from outside waiting for the desk

    @property
    def late(self) -> int:
        return sum(1 for r in self.rows if r.late)


def default_branch(*, session: Session, viewer: Staff | None) -> int | None:
    """The viewer's branch, else the first active branch by name."""
    if viewer is not None and viewer.branch_id is not None:
        branch = session.get(Branch, viewer.branch_id)
        if branch is not None and branch.active:
            return branch.id
    first = session.exec(
        select(Branch).where(col(Branch.active).is_(True)).order_by(col(Branch.name)).limit(1)
    ).first()
    return first.id if first else None


def is_late(status: str, start_at: datetime, arrived_at: datetime | None, now: datetime) -> bool:
    return status in OPEN and arrived_at is None and _aware(start_at) <= _aware(now)


def load_day_sheet(
    *,
    session: Session,
    viewer: Staff | None,
    day: date,
    now: datetime,
    branch_id: int | None = None,
    staff_id: int | None = None,
    tz: tzinfo | None = None,
) -> DaySheet:
    """The bookings of ``day`` at ``branch_id`` (the viewer's branch when None), by start
    time then staff member; ``staff_id`` filters on one staff member. A therapist sees only
    their own bookings, whatever ``staff_id`` says."""
    require(viewer, "read")
    branches = [
        (b.id or 0, b.name)
        for b in session.exec(
            select(Branch).where(col(Branch.active).is_(True)).order_by(col(Branch.name))
        )
    ]
    if branch_id is None:
        branch_id = default_branch(session=session, viewer=viewer)
    elif session.get(Branch, branch_id) is None:
        raise ValidationFailed("branch", "no such branch")
    own = own_bookings_only(viewer)
    if own is not None:
        staff_id = own
    start, end = day_bounds(day, tz)
    rows: list[DayRow] = []
    if branch_id is not None:
        has_note = (
            sa_select(literal_column("1"))
            .select_from(Note)
            .where(col(Note.booking_id) == col(Booking.id))
            .exists()
        )
        stmt = (
            sa_select(
                Booking,
                Customer,
                col(Service.name),
                col(Staff.name),
                col(Category.symbol),
                col(Category.colour),
                has_note,
            )
            .join(Customer, col(Customer.id) == col(Booking.customer_id))
            .join(Service, col(Service.id) == col(Booking.service_id))
            .outerjoin(Staff, col(Staff.id) == col(Booking.staff_id))
            .outerjoin(Category, col(Category.id) == col(Customer.category_id))
            .where(
                col(Booking.branch_id) == branch_id,
                col(Booking.start_at) >= start,
                col(Booking.start_at) < end,
            )
            .order_by(col(Booking.start_at), col(Staff.name), col(Booking.id))
        )
        if staff_id is not None:
            stmt = stmt.where(col(Booking.staff_id) == staff_id)
        found = list(session.execute(stmt))
        alerts = alert_customer_ids(
            session=session, customer_ids=sorted({r[1].id or 0 for r in found})
        )
        for booking, customer, service, staff, symbol, colour, noted in found:
            arrived = _aware(booking.arrived_at) if booking.arrived_at else None
            rows.append(
                DayRow(
                    booking_id=booking.id or 0,
                    start_at=_aware(booking.start_at),
                    end_at=_aware(booking.end_at),
                    customer_id=customer.id or 0,
                    customer_code=customer.code,
                    customer_name=customer.label,
                    alert=(customer.id or 0) in alerts,
                    blocked=customer.blocked,
                    category_symbol=symbol,
                    category_colour=colour,
                    service=service,
                    service_id=booking.service_id,
                    staff_id=booking.staff_id,
                    staff=staff,
                    status=booking.status,
                    has_notes=bool(booking.notes) or bool(noted),
                    arrived_at=arrived,
                    late=is_late(booking.status, booking.start_at, arrived, now),
                    version=booking.version,
                )
            )
    staff_q = select(Staff).where(col(Staff.active).is_(True)).order_by(col(Staff.name))
    if own is not None:
        staff_q = staff_q.where(col(Staff.id) == own)
    elif branch_id is not None:
        staff_q = staff_q.where(
            or_(col(Staff.branch_id) == branch_id, col(Staff.branch_id).is_(None))
        )
    services = [
        (s.id or 0, s.name, s.duration_minutes)
        for s in session.exec(
            select(Service).where(col(Service.active).is_(True)).order_by(col(Service.name))
        )
    ]
    return DaySheet(
        day=day,
        branch_id=branch_id,
        branches=branches,
        staff=[(s.id or 0, s.name) for s in session.exec(staff_q)],
        staff_id=staff_id,
        own_only=own is not None,
        services=services,
        rows=rows,
        requests_waiting=booking_requests.open_count(session=session),
    )


def day_fingerprint(
    *, session: Session, day: date, branch_id: int | None, tz: tzinfo | None = None
) -> tuple[Any, ...]:
    """A cheap summary of the day's bookings at the branch (count, newest change, total of
    versions) and the number of booking requests waiting: it differs when a booking of that
    day was added, changed or moved in/out, or a request arrived or was decided."""
    start, end = day_bounds(day, tz)
    row = session.execute(
        sa_select(
            func.count(col(Booking.id)),
            func.max(col(Booking.updated_at)),
            func.coalesce(func.sum(col(Booking.version)), 0),
            func.max(col(Booking.id)),
        ).where(
            col(Booking.branch_id) == branch_id,
            col(Booking.start_at) >= start,
            col(Booking.start_at) < end,
        )
    ).one()
    return (*row, booking_requests.open_count(session=session))


@dataclass(frozen=True)
class CheckedIn:
    booking_id: int
    arrived_at: datetime
    late_minutes: int  # how late the customer arrived (0: on time or early)


def check_in(
    *,
    session: Session,
    booking_id: int,
    actor: Staff | None,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> CheckedIn:
    """The customer of this booking has arrived. Only a pending or confirmed booking of today
    (the desk's day) can be checked in, once."""
    require(actor, "book")
    when = _aware(now or utcnow())
    booking = get_booking(session=session, booking_id=booking_id, lock=True)
    session.refresh(booking)
    if booking.status not in OPEN:
        state = booking.status.replace("_", "-")
        raise InvalidState(f"a {state} booking cannot be checked in")
    if booking.arrived_at is not None:
        at = _aware(booking.arrived_at).astimezone(_tz(tz))
        raise InvalidState(f"booking #{booking_id} was already checked in at {at:%H:%M}")
    zone = _tz(tz)
    start = _aware(booking.start_at)
    if start.astimezone(zone).date() != when.astimezone(zone).date():
        raise InvalidState(
            f"booking #{booking_id} is on {start.astimezone(zone):%Y-%m-%d}: "
            "a customer is checked in on the day of the booking"
        )
    booking.arrived_at = when
    booking.version += 1
    booking.updated_at = utcnow()
    session.add(booking)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        entity="booking",
        entity_id=booking.id or 0,
        action="check_in",
        customer_id=booking.customer_id,
        changes={"arrived_at": (None, when)},
    )
    late = max(0, int((when - start).total_seconds() // 60))
    return CheckedIn(booking_id=booking.id or 0, arrived_at=when, late_minutes=late)


@dataclass(frozen=True)
class FreeTimes:
    staff_id: int
    staff: str
    times: list[datetime]


@dataclass(frozen=True)
class FreeSlots:
    service: str
    minutes: int
    staff: list[FreeTimes]


def free_slots(
    *,
    session: Session,
    viewer: Staff | None,
    service_id: int,
    branch_id: int | None,
    after: datetime,
    per_staff: int = FREE_PER_STAFF,
    tz: tzinfo | None = None,
) -> FreeSlots:
    """The next ``per_staff`` free start times of the service for each active staff member
    of the branch (therapists; everyone when the branch has none), at or after ``after``,
    within opening hours, with the booking form's double-booking rules."""
    require(viewer, "read")
    service = session.get(Service, service_id)
    if service is None or not service.active:
        raise ValidationFailed("service", "choose a service")
    duration = timedelta(minutes=service.duration_minutes)
    own = own_bookings_only(viewer)
    chosen = [
        s for s in service_staff(session=session, branch_id=branch_id) if own is None or s.id == own
    ]
    start = _round_up(_aware(after))
    result = []
    for person in chosen:
        times: list[datetime] = []
        candidate = start
        while len(times) < per_staff:
            found = suggest_free_time(
                session=session,
                staff_id=person.id or 0,
                start_at=candidate,
                duration=duration,
                tz=_tz(tz),
            )
            if found is None:
                break
            times.append(found)
            candidate = found + max(duration, SUGGEST_STEP)
        result.append(FreeTimes(staff_id=person.id or 0, staff=person.name, times=times))
    return FreeSlots(service=service.name, minutes=service.duration_minutes, staff=result)


def _round_up(when: datetime) -> datetime:
    """Up to the next quarter hour (the booking form's step)."""
    step = int(SUGGEST_STEP.total_seconds())
    seconds = int(when.timestamp())
    return datetime.fromtimestamp(-(-seconds // step) * step, UTC)

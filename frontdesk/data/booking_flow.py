"""New booking as use cases: everything the form shows in one read, then one booking write.

- :func:`load_booking_form`: branches, services, staff, the default branch and start time,
  the pre-filled customer (and, for "book follow-up", the last visit's service and staff).
- :func:`check_booking`: the field-by-field check of what was typed (no database; the screen
  shows every message next to its field before saving), the opening hours included.
- :func:`suggest_start`: the first free start for the chosen service (and staff member, or
  "first free": the first therapist of the branch free then), which the form offers to take
  with one key.
- :func:`book_appointment`: check again and book (within the opening hours, no double-booking
  of the staff member or of the customer, no blocked customer); with no staff member chosen,
  the first therapist of the branch free at that start takes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from frontdesk.data import bookings
from frontdesk.data.errors import DoubleBooked, FrontdeskError, ValidationFailed
from frontdesk.data.models import Booking, Branch, Service, Staff, StaffRole
from frontdesk.data.picker import PickedCustomer, picked, quick_add_region
from frontdesk.data.roles import require
from frontdesk.data.validation import iso_day


def local_tz() -> tzinfo | None:
    """The time zone of this machine (the desk's wall clock)."""
    return datetime.now().astimezone().tzinfo


@dataclass(frozen=True)
class Choice:
    """One entry of a list the form offers (a branch, a staff member ...)."""

    id: int
    name: str


@dataclass(frozen=True)
class ServiceChoice:
    id: int
    name: str
    duration_minutes: int
    price_cents: int


@dataclass(frozen=True)
class StaffChoice:
    id: int
    name: str
    role: str
    branch_id: int | None


@dataclass(frozen=True)
class BookingForm:
    branches: list[Choice]
    services: list[ServiceChoice]
    staff: list[StaffChoice]
    branch_id: int | None  # the default branch (the operator's, or the only one)
    day: str  # YYYY-MM-DD of the next quarter hour
    time: str  # HH:MM of the next quarter hour
    region: str  # the business's phone region (for the inline add-customer modal)
    customer: PickedCustomer | None = None
    follow_up: bookings.FollowUp | None = None
    follow_up_missing: bool = False  # a follow-up was asked for, but there is no earlier visit
    hours: bookings.Hours = bookings.DEFAULT_HOURS  # the business's opening hours

    def staff_at(self, branch_id: int | None) -> list[StaffChoice]:
        """Staff of a branch (every branch when None; staff with no branch work at every
        one, as on the day sheet): therapists first, then by name."""
        chosen = [s for s in self.staff if branch_id is None or s.branch_id in (branch_id, None)]
        return sorted(chosen, key=lambda s: (s.role != "therapist", s.name))

    def service(self, service_id: int | None) -> ServiceChoice | None:
        return next((s for s in self.services if s.id == service_id), None)


def next_quarter(now: datetime, tz: tzinfo | None = None) -> datetime:
    """The next quarter hour after ``now`` on the local wall clock."""
    local = now.astimezone(tz or local_tz())
    minutes = (local.minute // 15 + 1) * 15
    return local.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=minutes)


def parse_time(text: str, field: str = "time") -> tuple[int, int]:
    """'14:30', '14.30', '1430', '930', '9' -> (hour, minute). Raises ValidationFailed."""
    raw = text.strip().replace(".", ":")
    if raw.isdigit() and len(raw) in (3, 4):
        raw = f"{raw[:-2]}:{raw[-2:]}"
    elif raw.isdigit() and len(raw) <= 2:
        raw = f"{raw}:00"
    hour, _, minute = raw.partition(":")
    if not (hour.isdigit() and minute.isdigit()):
        raise ValidationFailed(field, "use HH:MM, e.g. 14:30")
    h, m = int(hour), int(minute)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValidationFailed(field, "use HH:MM, e.g. 14:30")
    return h, m


def parse_day(text: str, field: str = "date") -> date:
    return iso_day(text, field)


def start_at(day: str, time: str, tz: tzinfo | None = None) -> datetime:
    """The start typed as a date and a time, on the local wall clock."""
    d = parse_day(day)
    h, m = parse_time(time)
    return datetime(d.year, d.month, d.day, h, m, tzinfo=tz or local_tz())


def branch_choices(
    *, session: Session, operator: Staff | None = None
) -> tuple[list[Choice], int | None]:
    """The active branches by name, and the one a form starts on: the operator's, or the
    only one (else None)."""
    branches = list(
        session.exec(select(Branch).where(col(Branch.active).is_(True)).order_by(col(Branch.name)))
    )
    branch_id: int | None = None
    if operator is not None and operator.branch_id in [b.id for b in branches]:
        branch_id = operator.branch_id
    elif len(branches) == 1:
        branch_id = branches[0].id
    return [Choice(b.id or 0, b.name) for b in branches], branch_id


def load_booking_form(
    *,
    session: Session,
    now: datetime,
    operator: Staff | None = None,
    customer_id: int | None = None,
    follow_up: bool = False,
    tz: tzinfo | None = None,
) -> BookingForm:
    """Everything the new-booking screen shows before the receptionist types."""
    branches, branch_id = branch_choices(session=session, operator=operator)
    services = bookings.list_services(session=session)
    staff = list(
        session.exec(select(Staff).where(col(Staff.active).is_(True)).order_by(col(Staff.name)))
    )
    hours = bookings.opening_hours(session)
    zone = tz or local_tz() or UTC
    # The next quarter hour, or the next opening when the business is closed then (the form
    # opened at 07:40 or 22:00 offered a start it then refused).
    start = bookings.next_open_start(next_quarter(now, tz), timedelta(0), zone, hours)
    start = start.astimezone(zone)
    customer = picked(session=session, customer_id=customer_id) if customer_id else None
    template = None
    if follow_up and customer is not None:
        template = bookings.follow_up_template(session=session, customer_id=customer.match.id)
    return BookingForm(
        branches=branches,
        services=[
            ServiceChoice(s.id or 0, s.name, s.duration_minutes, s.price_cents) for s in services
        ],
        staff=[StaffChoice(s.id or 0, s.name, s.role, s.branch_id) for s in staff],
        branch_id=branch_id,
        day=start.date().isoformat(),
        time=start.strftime("%H:%M"),
        region=quick_add_region(session=session),
        customer=customer,
        follow_up=template,
        follow_up_missing=follow_up and customer is not None and template is None,
        hours=hours,
    )


@dataclass(frozen=True)
class BookingRequest:
    """What the receptionist entered (raw: dates and times as typed)."""

    customer_id: int | None
    branch_id: int | None
    service_id: int | None
    staff_id: int | None
    day: str
    time: str
    notes: str = ""
    # staff_id None: "first free" (the first therapist of the branch free at the start; no
    # staff member when the branch has no therapist).
    # The receptionist said yes to "already past: record it as a walk-in that happened?"
    walk_in: bool = False


@dataclass(frozen=True)
class Booked:
    booking_id: int
    customer_id: int
    start_at: datetime
    end_at: datetime
    status: str = "confirmed"  # "completed" for a walk-in recorded after it happened
    staff_id: int | None = None
    staff_name: str = ""


# A start up to this long ago still counts as now (the customer is at the desk).
PAST_GRACE = timedelta(minutes=5)
WALK_IN_SOURCE = "walk-in"


class StartInPast(FrontdeskError):
    """The start is already past: the desk asks whether to record a walk-in that happened
    (``BookingRequest.walk_in``), and books nothing until it is told so."""

    def __init__(self, start: datetime, now: datetime, tz: tzinfo | None = None) -> None:
        self.start = start
        self.now = now
        self.shown = past_start_text(start, now, tz)
        super().__init__(f"{self.shown} is already past")


def past_start_text(start: datetime, now: datetime, tz: tzinfo | None = None) -> str:
    """The start as the question names it: "10:00" today, "2026-11-01 10:00" another day."""
    zone = tz or local_tz()
    local_start, local_now = start.astimezone(zone), now.astimezone(zone)
    if local_start.date() == local_now.date():
        return local_start.strftime("%H:%M")
    return local_start.strftime("%Y-%m-%d %H:%M")


def is_past(start: datetime, now: datetime) -> bool:
    """True when ``start`` is more than :data:`PAST_GRACE` before ``now``."""
    return start < now - PAST_GRACE


@dataclass
class BookingCheck:
    """Field -> message for everything wrong with a request; ``start`` when it parses."""

    errors: dict[str, str] = field(default_factory=dict)
    start: datetime | None = None


def check_booking(
    request: BookingRequest,
    tz: tzinfo | None = None,
    duration: timedelta | None = None,
    hours: bookings.Hours = bookings.DEFAULT_HOURS,
    now: datetime | None = None,
) -> BookingCheck:
    """Every problem of the request that needs no database, keyed by field: a start outside
    the opening hours too (and, with the service's ``duration``, a visit ending after
    closing), under "time" — unless the start has passed (``now``): a visit that happened
    is recorded as it happened (a walk-in), whatever the hours."""
    check = BookingCheck()
    if request.customer_id is None:
        check.errors["customer"] = "Pick the customer first (or ctrl+n to add them)."
    if request.branch_id is None:
        check.errors["branch"] = "Choose a branch"
    if request.service_id is None:
        check.errors["service"] = "Choose a service"
    try:
        parse_day(request.day)
    except ValidationFailed as exc:
        check.errors[exc.field] = exc.message
    try:
        parse_time(request.time)
    except ValidationFailed as exc:
        check.errors[exc.field] = exc.message
    if "date" not in check.errors and "time" not in check.errors:
        check.start = start_at(request.day, request.time, tz)
        passed = now is not None and is_past(check.start, now)
        problem = (
            None
            if passed
            else bookings.hours_problem(check.start, duration or timedelta(0), tz, hours)
        )
        if problem is not None:
            check.errors["time"] = problem
    return check


# ---------------------------------------------------------------------- first free


@dataclass(frozen=True)
class FreeSlot:
    """A start the form offers: when, and with whom (None: the branch has no therapist, the
    booking goes without a staff member)."""

    start: datetime
    staff_id: int | None
    staff_name: str


class NobodyFree(FrontdeskError):
    """ "First free" was asked for, but every therapist of the branch is busy at that start."""

    def __init__(self, start: datetime, suggestion: FreeSlot | None) -> None:
        self.start = start
        self.suggestion = suggestion
        super().__init__("every staff member who does this service is busy then")


def service_staff(*, session: Session, branch_id: int | None) -> list[Staff]:
    """Who can be booked at a branch, by name (the order in which "first free" tries them):
    its active therapists, else everyone active there. Staff with no branch work at every
    one (a new business's owner is booked); with no branch given (the day sheet's "every
    branch"), every active member counts. One rule for the desk, the day sheet, the CLI and
    the API."""
    query = select(Staff).where(col(Staff.active).is_(True))
    if branch_id is not None:
        query = query.where(or_(col(Staff.branch_id) == branch_id, col(Staff.branch_id).is_(None)))
    rows = list(session.exec(query.order_by(col(Staff.name), col(Staff.id))))
    therapists = [s for s in rows if s.role == StaffRole.THERAPIST.value]
    return therapists or rows


def _aware(value: datetime, zone: tzinfo = UTC) -> datetime:
    """A stored start or end (the branch's wall clock, naive on SQLite) as an aware time."""
    return value if value.tzinfo else value.replace(tzinfo=zone)


def _first_start(
    busy: list[tuple[datetime, datetime]],
    after: datetime,
    duration: timedelta,
    until: datetime,
    zone: tzinfo,
    hours: bookings.Hours,
) -> datetime | None:
    """The first start at or after ``after`` (15-minute steps, within opening hours:
    :func:`bookings.next_open_start`) that overlaps none of ``busy``: the rule of
    :func:`bookings.suggest_free_time`, on intervals read once for every candidate."""
    candidate = after
    while candidate < until:
        allowed = bookings.next_open_start(candidate, duration, zone, hours)
        if allowed != candidate:
            candidate = allowed
            continue
        clash = next((e for s, e in busy if s < candidate + duration and e > candidate), None)
        if clash is None:
            return candidate
        minutes = int((clash - candidate).total_seconds() // 60)
        candidate += max(bookings.SUGGEST_STEP, timedelta(minutes=((minutes + 14) // 15) * 15))
    return None


def _free_between(
    session: Session, staff_ids: list[int | None], start: datetime, end: datetime
) -> set[int | None]:
    """Those of ``staff_ids`` with no booking that occupies them between ``start`` and
    ``end`` (one bounded read; the booking itself checks again under its lock)."""
    longest = session.exec(select(func.max(Service.duration_minutes))).one() or 0
    reach = max(timedelta(days=1), timedelta(minutes=int(longest)))
    taken = session.exec(
        select(Booking.staff_id).where(
            col(Booking.staff_id).in_(staff_ids),
            col(Booking.status).in_(bookings.BUSY),
            col(Booking.start_at) >= _aware(start) - reach,
            col(Booking.start_at) < _aware(end),
            col(Booking.end_at) > _aware(start),
        )
    )
    return set(staff_ids) - set(taken)


def first_free(
    *,
    session: Session,
    branch_id: int,
    service_id: int,
    staff_id: int | None,
    after: datetime,
    tz: tzinfo | None = None,
    customer_id: int | None = None,
) -> FreeSlot | None:
    """The first start at or after ``after`` (15-minute steps, opening hours) at which the
    staff member (or, with ``staff_id`` None, any therapist of the branch: the first by name
    among those free then) is free for the service, and the customer (when given) has no
    other booking: a start :func:`book_appointment` takes. None: nothing in the next two
    weeks.

    One read of the candidates' bookings in the window (bounded on both sides, so that the
    (staff, start) index reads two weeks, not a staff member's whole history)."""
    service = session.get(Service, service_id)
    if service is None:
        return None
    duration = timedelta(minutes=service.duration_minutes)
    zone = tz or local_tz() or UTC
    after = _aware(after, zone)
    if staff_id is not None:
        member = session.get(Staff, staff_id)
        candidates = [member] if member is not None else []
    else:
        candidates = service_staff(session=session, branch_id=branch_id)
    until = after + timedelta(days=bookings.SUGGEST_DAYS)
    hours = bookings.opening_hours(session)
    mine = bookings.customer_busy(
        session=session, customer_id=customer_id, after=after, until=until
    )
    if not candidates:
        if staff_id is not None:
            return None
        # Nobody to book at the branch: the booking goes without a staff member.
        alone = _first_start(mine, after, duration, until, zone, hours)
        return FreeSlot(alone, None, "") if alone is not None else None
    longest = session.exec(select(func.max(Service.duration_minutes))).one() or 0
    reach = max(timedelta(days=1), timedelta(minutes=int(longest)))
    ids = [m.id for m in candidates]
    rows = session.exec(
        select(Booking.staff_id, Booking.start_at, Booking.end_at).where(
            col(Booking.staff_id).in_(ids),
            col(Booking.status).in_(bookings.BUSY),
            col(Booking.start_at) >= after - reach,
            col(Booking.start_at) < until,
            col(Booking.end_at) > after,
        )
    )
    busy: dict[int | None, list[tuple[datetime, datetime]]] = {i: [] for i in ids}
    for who, begins, ends in rows:
        busy.setdefault(who, []).append((_aware(begins, zone), _aware(ends, zone)))
    best: FreeSlot | None = None
    for member in candidates:
        start = _first_start(busy[member.id] + mine, after, duration, until, zone, hours)
        if start is not None and (best is None or start < best.start):
            best = FreeSlot(start, member.id, member.name)
    return best


def suggestion_start(request: BookingRequest, now: datetime, tz: tzinfo | None = None) -> datetime:
    """Where the search for a free start begins: the typed date and time, never before the
    next quarter hour (the date alone when the time cannot be read)."""
    earliest = next_quarter(now, tz)
    try:
        day = parse_day(request.day)
    except ValidationFailed:
        return earliest
    try:
        typed = start_at(request.day, request.time, tz)
    except ValidationFailed:
        typed = datetime(day.year, day.month, day.day, tzinfo=tz or local_tz())
    return max(typed, earliest)


def suggest_start(
    *, session: Session, request: BookingRequest, now: datetime, tz: tzinfo | None = None
) -> FreeSlot | None:
    """The first free start for what the form holds (a service and a branch are needed)."""
    if request.service_id is None or request.branch_id is None:
        return None
    return first_free(
        session=session,
        branch_id=request.branch_id,
        service_id=request.service_id,
        staff_id=request.staff_id,
        after=suggestion_start(request, now, tz),
        tz=tz,
        customer_id=request.customer_id,
    )


def book_appointment(
    *,
    session: Session,
    request: BookingRequest,
    actor: Staff | None,
    tz: tzinfo | None = None,
    now: datetime | None = None,
) -> Booked:
    """Book what the form holds. Raises NotAllowed (the role may not book), ValidationFailed
    (first bad field; "time" for a start outside the opening hours or a visit ending after
    closing), BlockedCustomer, CustomerBusy (a ValidationFailed on "time": the customer has
    another pending or confirmed booking then, with any staff member), DoubleBooked (with the
    clash and the next free time).

    With ``now`` (the desk's clock), a start already past is not booked as if it were to
    come: :class:`StartInPast` is raised unless the request says ``walk_in``; a walk-in is
    recorded as a visit that happened (source "walk-in", completed, with its points).
    """
    require(actor, "book")
    service = session.get(Service, request.service_id) if request.service_id else None
    duration = timedelta(minutes=service.duration_minutes) if service is not None else None
    check = check_booking(request, tz, duration, bookings.opening_hours(session), now)
    if check.errors:
        name, message = next(iter(check.errors.items()))
        raise ValidationFailed(name, message)
    assert check.start is not None
    assert request.customer_id is not None
    assert request.branch_id is not None and request.service_id is not None
    past = now is not None and is_past(check.start, now)
    if past and not request.walk_in:
        assert now is not None
        raise StartInPast(check.start, now, tz)

    def create(staff_id: int | None) -> Booking:
        assert check.start is not None and request.customer_id is not None
        assert request.branch_id is not None and request.service_id is not None
        return bookings.create_booking(
            session=session,
            customer_id=request.customer_id,
            service_id=request.service_id,
            branch_id=request.branch_id,
            staff_id=staff_id,
            start_at=check.start,
            notes=request.notes,
            actor=actor,
            source=WALK_IN_SOURCE if past else "desk",
            start_field="time",
            tz=tz,
        )

    candidates = (
        service_staff(session=session, branch_id=request.branch_id)
        if request.staff_id is None
        else []
    )
    if not candidates:
        booking = create(request.staff_id)
    else:  # "first free": the first therapist of the branch free at that start
        chosen: Booking | None = None
        if duration is not None:  # (an unknown service is refused by create_booking)
            end = check.start + duration
            free = _free_between(session, [m.id for m in candidates], check.start, end)
            candidates = [m for m in candidates if m.id in free]
        for member in candidates:
            try:
                chosen = create(member.id)
                break
            except DoubleBooked:
                continue
        if chosen is None:
            if duration is not None:
                # The customer's own other booking then says more than "nobody is free".
                bookings.refuse_customer_clash(
                    session=session,
                    customer_id=request.customer_id,
                    start_at=check.start,
                    end_at=check.start + duration,
                    field="time",
                    tz=tz,
                )
            raise NobodyFree(
                check.start,
                first_free(
                    session=session,
                    branch_id=request.branch_id,
                    service_id=request.service_id,
                    staff_id=None,
                    after=check.start,
                    tz=tz,
                    customer_id=request.customer_id,
                ),
            )
        booking = chosen
    if past:
        booking = bookings.change_status(
            session=session,
            booking_id=booking.id or 0,
            action="complete",
            actor=actor,
            now=now,
            tz=tz,
        )
    staff = session.get(Staff, booking.staff_id) if booking.staff_id is not None else None
    return Booked(
        booking_id=booking.id or 0,
        customer_id=booking.customer_id,
        start_at=booking.start_at,
        end_at=booking.end_at,
        status=booking.status,
        staff_id=booking.staff_id,
        staff_name=staff.name if staff is not None else "",
    )


def suggestion_fields(when: datetime, tz: tzinfo | None = None) -> tuple[str, str]:
    """A suggested start as the (date, time) the form shows."""
    local = when.astimezone(tz or local_tz())
    return local.date().isoformat(), local.strftime("%H:%M")


__all__ = [
    "PAST_GRACE",
    "Booked",
    "BookingCheck",
    "BookingForm",
    "BookingRequest",
    "Choice",
    "FreeSlot",
    "NobodyFree",
    "ServiceChoice",
    "StaffChoice",
    "StartInPast",
    "book_appointment",
    "branch_choices",
    "check_booking",
    "first_free",
    "is_past",
    "load_booking_form",
    "local_tz",
    "next_quarter",
    "parse_day",
    "parse_time",
    "past_start_text",
    "service_staff",
    "start_at",
    "suggest_start",
    "suggestion_fields",
    "suggestion_start",
]

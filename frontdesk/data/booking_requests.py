"""Booking requests from outside (an online booking page, an assistant, a script).

- :func:`submit_request`: match the customer by phone or email (normalised as at the desk,
  secondary contacts and merged-away customers included) or create one ("created via
  online", with its source); book the slot (the desk's double-booking rules and locks) as a
  pending booking, or confirmed when ``auto_confirm_requests`` is on. A request whose phone and
  email point at two customers, or whose name clearly differs from the match, is not
  guessed: it waits for review at the desk. A blocked customer's request is refused with a
  reason the caller can show (never the desk's own reason). The same Idempotency-Key gives
  the same answer and books once.
- :func:`availability`: free start times of a service at a branch on a day, per staff member.
- :func:`lookup`: what an assistant may say to a returning customer (name, upcoming
  bookings, points; customer-visible notes only).
- :func:`list_requests`, :func:`accept_request`, :func:`decline_request`,
  :func:`resolve_review`: the desk's Requests list.

Every function takes an open session and leaves committing to the caller: one request is
one transaction, so nothing is half-written (a slot taken after a new customer was made
rolls the customer back too).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from difflib import SequenceMatcher
from typing import Any, TypeVar

from sqlalchemy import Engine, func, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from frontdesk.data import audit, bookings
from frontdesk.data import customers as svc
from frontdesk.data.booking_flow import service_staff
from frontdesk.data.errors import (
    BlockedCustomer,
    DoubleBooked,
    DuplicateCustomer,
    FrontdeskError,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from frontdesk.data.models import (
    Booking,
    BookingRequest,
    BookingStatus,
    Branch,
    ContactKind,
    ContactPoint,
    CreatedVia,
    Customer,
    LoyaltyEnrolment,
    Note,
    NoteVisibility,
    RequestStatus,
    Service,
    Staff,
    utcnow,
)
from frontdesk.data.retry import write_transaction
from frontdesk.data.roles import require
from frontdesk.data.settings import default_region, get_setting
from frontdesk.data.validation import (
    clean_line,
    clean_multiline,
    fold,
    format_phone,
    iso_day,
    normalise_email,
    normalise_phone,
)

T = TypeVar("T")
BLOCKED_MESSAGE = "This booking cannot be made online. Please contact us directly."
ONLINE_SOURCE = "online"
MAX_DAYS_AHEAD = 366


class SlotTaken(FrontdeskError):
    """Nobody is free for the service at that time (HTTP 409, field ``start``)."""

    field = "start"

    def __init__(self, suggestion: datetime | None) -> None:
        self.suggestion = suggestion
        text = "that time is taken"
        if suggestion is not None:
            text += f"; the next free time is {suggestion.isoformat(timespec='minutes')}"
        super().__init__(text)
        self.message = text


class KeyReused(FrontdeskError):
    """An Idempotency-Key sent again with a different request (HTTP 422)."""

    field = "Idempotency-Key"

    def __init__(self) -> None:
        self.message = "was already used for a different request"
        super().__init__(f"Idempotency-Key {self.message}")


# --------------------------------------------------------------------------- input


@dataclass(frozen=True)
class RequestIn:
    """What the caller sent (raw text; the service validates it)."""

    service: str
    start: str | datetime
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    branch: str | None = None
    staff: str | None = None
    notes: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Clean:
    name: str | None
    phone: str | None
    email: str | None  # as typed
    email_key: str | None
    service: Service
    branch: Branch
    staff: Staff | None
    start: datetime
    notes: str | None
    source: str | None

    def fingerprint(self) -> str:
        body = json.dumps(
            [
                self.name,
                self.phone,
                self.email_key,
                self.service.id,
                self.branch.id,
                self.staff.id if self.staff else None,
                self.start.astimezone(UTC).isoformat(),
                self.notes,
                self.source,
            ]
        )
        return hashlib.sha256(body.encode()).hexdigest()


def _find_named(
    session: Session,
    model: Any,
    text: str | None,
    what: str,
    field: str,
    among: list[Any] | None = None,
) -> Any:
    """A row by id or by name (case-insensitive exact, else the one whose name starts so); a
    staff member also by username. ``among``: only these rows (the staff who can be booked:
    a caller who names someone else is told the bookable names, never the whole staff)."""
    raw = clean_line(field, text) or ""  # control characters refused (NUL: PostgreSQL's error)
    if not raw:
        raise ValidationFailed(field, f"choose a {what}")
    if among is not None:
        rows = among
    else:
        stmt = select(model)
        if model is Service or model is Branch or model is Staff:
            stmt = stmt.where(col(model.active).is_(True))
        same = list(session.exec(stmt.where(col(model.name) == raw).limit(2)))
        if len(same) == 1 and not raw.isdigit():  # the name as stored: the usual case
            return same[0]
        rows = list(session.exec(stmt))
    if raw.isascii() and raw.isdigit() and len(raw) < 12:
        found = [r for r in rows if r.id == int(raw)]
        if found:
            return found[0]
    key = fold(raw)
    exact = [
        r
        for r in rows
        if fold(r.name) == key or (model is Staff and r.username and fold(r.username) == key)
    ]
    if len(exact) == 1:
        return exact[0]
    starts = [r for r in rows if fold(r.name).startswith(key)]
    if len(starts) == 1:
        return starts[0]
    if len(exact) > 1 or len(starts) > 1:
        raise ValidationFailed(field, f"{raw!r} names more than one {what}")
    names = sorted(r.name for r in rows)
    known = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
    raise ValidationFailed(
        field, f"unknown {what} {raw!r}" + (f" (known: {known})" if names else "")
    )


def parse_start(value: str | datetime, tz: tzinfo | None, field: str = "start") -> datetime:
    """ISO 8601 (an offset, or the desk's wall clock without one) or "YYYY-MM-DD HH:MM"."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = (value or "").strip()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationFailed(
                field, "use an ISO date and time, e.g. 2026-12-01T14:30 or 2026-12-01 14:30"
            ) from None
    zone = tz or datetime.now().astimezone().tzinfo
    try:
        # On the desk's wall clock, as the desk books (an offset is converted).
        return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed.astimezone(zone)
    except (OverflowError, ValueError):
        raise ValidationFailed(field, "is out of range") from None


def clean_request(*, session: Session, data: RequestIn, tz: tzinfo | None = None) -> Clean:
    """Every field checked and normalised as at the desk; the first bad one raises."""
    region = default_region(session)
    name = clean_line("name", data.name, max_length=200)
    if name:
        first, _, last = name.partition(" ")
        if len(first) > 100 or len(last.strip()) > 100:  # refused, as at the desk: never cut
            raise ValidationFailed("name", "a first or last name has at most 100 characters")
    phone = normalise_phone(data.phone, region, field="phone") if data.phone else None
    email = normalise_email(data.email, field="email") if data.email else None
    if phone is None and email is None:
        raise ValidationFailed("phone", "give a phone number or an email address")
    service = _find_named(session, Service, data.service, "service", "service")
    branches = list(session.exec(select(Branch).where(col(Branch.active).is_(True))))
    if not (data.branch or "").strip() and len(branches) == 1:
        branch = branches[0]
    else:
        branch = _find_named(session, Branch, data.branch, "branch", "branch")
    staff = None
    if (data.staff or "").strip():
        bookable = bookable_staff(session, branch.id or 0)
        if not bookable:
            raise ValidationFailed("staff", f"nobody can be booked at {branch.name}")
        staff = _find_named(session, Staff, data.staff, "staff member", "staff", bookable)
    start = parse_start(data.start, tz)
    # Within the opening hours the availability offers (a page or an assistant booked 03:00):
    # the desk's rule.
    bookings.check_opening_hours(
        start=start,
        duration=timedelta(minutes=service.duration_minutes),
        tz=tz,
        field="start",
        hours=bookings.opening_hours(session),
    )
    notes = clean_multiline("notes", data.notes)
    if notes and len(notes) > 2000:
        raise ValidationFailed("notes", "is too long (2000 characters at most)")
    source = clean_line("source", data.source, max_length=100)
    return Clean(
        name=name,
        phone=phone.e164 if phone else None,
        email=email.display if email else None,
        email_key=email.key if email else None,
        service=service,
        branch=branch,
        staff=staff,
        start=start,
        notes=notes,
        source=source,
    )


# --------------------------------------------------------------------------- matching


def owners(session: Session, kind: ContactKind, value: str | None) -> set[int]:
    """Live customers who have this phone (E.164) or email key: as primary or secondary
    contact, or through a merged-away customer who had it (its survivor)."""
    if not value:
        return set()
    # As the desk's exact search: the primary columns (indexed; a live customer's other_phone
    # is not an identity and has no index), the secondary contacts, the merged-away records.
    if kind is ContactKind.PHONE:
        primary = col(Customer.phone) == value
    else:
        primary = col(Customer.email_key) == value
    found = set(session.exec(select(Customer.id).where(primary, svc.live())))
    points = session.exec(
        select(Customer.id)
        .join(ContactPoint, col(ContactPoint.customer_id) == col(Customer.id))
        .where(col(ContactPoint.kind) == kind.value, col(ContactPoint.value) == value, svc.live())
    )
    found.update(points)
    keys = svc.ExactKeys(
        code=None,
        phone=value if kind is ContactKind.PHONE else None,
        email=value if kind is ContactKind.EMAIL else None,
    )
    found.update(m.survivor_id for m in svc._merged_matches(session, keys))
    return {i for i in found if i is not None}


def _tokens(text: str | None) -> list[str]:
    return [t for t in fold(text).replace("-", " ").replace(".", " ").split() if t]


def name_differs(given: str | None, customer: Customer) -> bool:
    """True when ``given`` clearly names someone else than ``customer``.

    The same person may write "Maria", "maria garcia", "María G." or "Mari": any word of one
    that equals, starts or closely resembles (a typo) a word of the other is enough."""
    mine = _tokens(given)
    theirs = _tokens(" ".join(p for p in (customer.full_name, customer.display_name) if p))
    if not mine or not theirs:
        return False
    for a in mine:
        for b in theirs:
            if a == b:
                return False
            short, long_ = sorted((a, b), key=len)
            if len(short) >= 3 and long_.startswith(short):
                return False
            if min(len(a), len(b)) >= 4 and SequenceMatcher(None, a, b).ratio() >= 0.8:
                return False
    return True


@dataclass(frozen=True)
class Match:
    customer: Customer | None
    review: str | None  # why the desk must decide (None: nothing to review)


def match_customer(session: Session, clean: Clean) -> Match:
    by_phone = owners(session, ContactKind.PHONE, clean.phone)
    by_email = owners(session, ContactKind.EMAIL, clean.email_key)

    def who(ids: set[int]) -> str:
        rows = [session.get(Customer, i) for i in sorted(ids)]
        return ", ".join(f"{c.code} {c.full_name}" for c in rows if c is not None)

    if len(by_phone) > 1:
        return Match(None, f"the phone belongs to several customers ({who(by_phone)})")
    if len(by_email) > 1:
        return Match(None, f"the email belongs to several customers ({who(by_email)})")
    if by_phone and by_email and by_phone != by_email:
        return Match(
            None,
            f"the phone is {who(by_phone)}'s but the email is {who(by_email)}'s",
        )
    ids = by_phone or by_email
    if not ids:
        return Match(None, None)
    customer = session.get(Customer, next(iter(ids)))
    assert customer is not None
    if clean.name and name_differs(clean.name, customer):
        return Match(
            customer, f"the name {clean.name!r} differs from {customer.code} {customer.full_name}"
        )
    return Match(customer, None)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class RequestResult:
    request_id: int
    status: str
    message: str
    customer_code: str | None = None
    customer_created: bool = False
    booking_id: int | None = None
    service: str = ""
    branch: str = ""
    staff: str | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    replayed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "status": self.status,
            "message": self.message,
            "customer_code": self.customer_code,
            "customer_created": self.customer_created,
            "booking_id": self.booking_id,
            "service": self.service,
            "branch": self.branch,
            "staff": self.staff,
            "start": self.start_at.isoformat() if self.start_at else None,
            "end": self.end_at.isoformat() if self.end_at else None,
            "replayed": self.replayed,
        }


MESSAGES = {
    RequestStatus.BOOKED.value: "Booked.",
    RequestStatus.PENDING.value: "Received: the time is held and the business will confirm it.",
    RequestStatus.REVIEW.value: "Received: the business will confirm it shortly.",
    RequestStatus.ACCEPTED.value: "Confirmed by the business.",
}


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def result_of(session: Session, row: BookingRequest, *, replayed: bool = False) -> RequestResult:
    customer = session.get(Customer, row.customer_id) if row.customer_id else None
    booking = session.get(Booking, row.booking_id) if row.booking_id else None
    service = session.get(Service, row.service_id)
    branch = session.get(Branch, row.branch_id)
    staff_id = booking.staff_id if booking else row.staff_id
    staff = session.get(Staff, staff_id) if staff_id else None
    if row.status == RequestStatus.DECLINED.value:
        message = BLOCKED_MESSAGE if row.reason == "blocked" else "Declined by the business."
    else:
        message = MESSAGES.get(row.status, row.status)
    return RequestResult(
        request_id=row.id or 0,
        status=row.status,
        message=message,
        customer_code=customer.code if customer and row.status != "review" else None,
        customer_created=row.customer_created,
        booking_id=row.booking_id,
        service=service.name if service else "",
        branch=branch.name if branch else "",
        staff=staff.name if staff else None,
        start_at=_aware(booking.start_at if booking else row.start_at),
        end_at=_aware(booking.end_at) if booking else None,
        replayed=replayed,
    )


# --------------------------------------------------------------------------- booking


def bookable_staff(session: Session, branch_id: int) -> list[Staff]:
    """Who can be booked at a branch (the desk's rule: :func:`booking_flow.service_staff`)."""
    return service_staff(session=session, branch_id=branch_id)


def _book(
    session: Session,
    *,
    customer_id: int,
    service: Service,
    branch: Branch,
    staff: Staff | None,
    start: datetime,
    actor: Staff,
    status: BookingStatus,
    notes: str | None,
) -> Booking:
    """Book with the desk's service (its locks and double-booking check): the chosen staff
    member, or the first one free. Raises SlotTaken when nobody is."""
    candidates = [staff] if staff is not None else bookable_staff(session, branch.id or 0)
    if not candidates:
        raise ValidationFailed("branch", f"nobody can be booked at {branch.name}")
    end = start + timedelta(minutes=service.duration_minutes)
    # Who looks free (a cheap indexed check each); create_booking checks again under its lock.
    free = [
        m
        for m in candidates
        if bookings.find_conflict(session=session, staff_id=m.id or 0, start_at=start, end_at=end)
        is None
    ]
    for member in free:
        try:
            return bookings.create_booking(
                session=session,
                customer_id=customer_id,
                service_id=service.id or 0,
                branch_id=branch.id or 0,
                staff_id=member.id,
                start_at=start,
                actor=actor,
                notes=notes,
                status=status,
                source=ONLINE_SOURCE,
                start_field="start",  # the customer's other booking then: refused on "start"
                tz=start.tzinfo,
            )
        except DoubleBooked:
            continue  # taken by another desk in the meantime
    # The next free time of the first few (each is a search over two weeks).
    suggestions = [
        found
        for m in candidates[:3]
        if (
            found := bookings.suggest_free_time(
                session=session,
                staff_id=m.id or 0,
                start_at=start,
                duration=end - start,
                tz=start.tzinfo,
                customer_id=customer_id,  # never a time the customer is booked already
            )
        )
        is not None
    ]
    raise SlotTaken(min(suggestions) if suggestions else None)


def _record(
    session: Session, actor: Staff | None, row: BookingRequest, action: str, **changes: Any
) -> None:
    audit.record(
        session=session,
        actor=actor,
        entity="booking_request",
        entity_id=row.id or 0,
        action=action,
        customer_id=row.customer_id,
        changes={"token": (None, row.token_name), **{k: (None, v) for k, v in changes.items()}},
    )


def _split_name(name: str) -> tuple[str, str | None]:
    first, _, last = name.strip().partition(" ")
    return first, (last.strip() or None)  # each at most 100 characters (clean_request)


def _create_customer(
    session: Session, *, clean: Clean, actor: Staff, phone: str | None, email: str | None
) -> Customer:
    if not clean.name:
        raise ValidationFailed("name", "a new customer needs a name")
    first, last = _split_name(clean.name)
    customer = svc.create_customer(
        session=session,
        data=svc.CustomerCreate(first_name=first, last_name=last, phone=phone, email=email),
        actor=actor,
        created_via=CreatedVia.ONLINE,
    )
    customer.created_source = clean.source or ONLINE_SOURCE
    session.add(customer)
    session.flush()
    return customer


def _wait_for_twin(session: Session, channel: str, key: str) -> None:
    """The same key sent twice at once: the second waits for the first to commit (and then
    replays its answer). SQLite's write transactions already run one at a time; PostgreSQL
    takes a transaction-scoped advisory lock on the (token, key) pair."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"{channel}\x00{key}".encode()).digest()
    number = int.from_bytes(digest[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:n)"), {"n": number})


def submit_request(
    *,
    session: Session,
    data: RequestIn,
    actor: Staff,
    channel: str,
    idempotency_key: str | None = None,
    now: datetime | None = None,
    tz: tzinfo | None = None,
    confirm: bool | None = None,
    at_the_desk: bool = False,
) -> RequestResult:
    """One booking request (the caller commits). ``channel`` is the API token's name (or
    "cli"); ``actor`` acts for it. ``confirm`` overrides ``auto_confirm_requests``.
    ``at_the_desk``: staff book (the CLI), who may read the customer's other bookings; a
    page or an assistant is told only that the customer is booked then, not with what.

    Raises ValidationFailed (a field), KeyReused, SlotTaken, NotAllowed."""
    require(actor, "book")
    key = clean_line("Idempotency-Key", idempotency_key, max_length=200)
    clean = clean_request(session=session, data=data, tz=tz)
    fingerprint = clean.fingerprint()
    if key:
        _wait_for_twin(session, channel, key)
        earlier = session.exec(
            select(BookingRequest).where(
                col(BookingRequest.token_name) == channel,
                col(BookingRequest.idempotency_key) == key,
            )
        ).first()
        if earlier is not None:
            if earlier.fingerprint != fingerprint:
                raise KeyReused()
            return result_of(session, earlier, replayed=True)
    now = now or datetime.now(UTC)
    if clean.start <= now:
        raise ValidationFailed("start", "is in the past")
    if clean.start > now + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationFailed("start", f"is more than {MAX_DAYS_AHEAD} days ahead")
    match = match_customer(session, clean)
    row = BookingRequest(
        token_name=channel,
        idempotency_key=key,
        fingerprint=fingerprint,
        name=clean.name,
        phone=clean.phone,
        email=clean.email,
        service_id=clean.service.id or 0,
        branch_id=clean.branch.id or 0,
        staff_id=clean.staff.id if clean.staff else None,
        start_at=clean.start,
        notes=clean.notes,
        source=clean.source,
        customer_id=match.customer.id if match.customer else None,
    )
    if match.review is not None:
        row.status = RequestStatus.REVIEW.value
        row.reason = match.review[:300]
    elif match.customer is not None and match.customer.blocked:
        row.status = RequestStatus.DECLINED.value
        row.reason = "blocked"
        row.decided_at = utcnow()
    else:
        customer = match.customer
        if customer is None:
            customer = _create_customer(
                session, clean=clean, actor=actor, phone=clean.phone, email=clean.email
            )
            row.customer_id = customer.id
            row.customer_created = True
        if confirm is None:
            confirm = bool(get_setting(session=session, key="auto_confirm_requests"))
        try:
            booking = _book(
                session,
                customer_id=customer.id or 0,
                service=clean.service,
                branch=clean.branch,
                staff=clean.staff,
                start=clean.start,
                actor=actor,
                status=BookingStatus.CONFIRMED if confirm else BookingStatus.PENDING,
                notes=clean.notes,
            )
        except bookings.CustomerBusy as busy:
            if at_the_desk:
                raise
            # Whoever knows a phone number must not learn that person's other bookings.
            raise ValidationFailed(
                busy.field, "the customer already has a booking at this time: choose another"
            ) from None
        row.booking_id = booking.id
        row.status = (RequestStatus.BOOKED if confirm else RequestStatus.PENDING).value
        if confirm:
            row.decided_at = utcnow()
    session.add(row)
    session.flush()
    _record(
        session,
        actor,
        row,
        "create",
        status=row.status,
        reason=row.reason,
        source=row.source,
        customer_created=row.customer_created or None,
        booking_id=row.booking_id,
    )
    return result_of(session, row)


def record_refusal(
    *, session: Session, actor: Staff, channel: str, field: str | None, message: str
) -> None:
    """A request refused for bad input or a taken slot (nothing else was written): kept in
    the audit log with its token name, so that the desk can see what callers were told."""
    audit.record(
        session=session,
        actor=actor,
        entity="booking_request",
        entity_id=0,
        action="refuse",
        changes={
            "token": (None, channel),
            "field": (None, field),
            "message": (None, message[:300]),
        },
    )


def submit(engine: Engine, work: Callable[[Session], T]) -> T:
    """Run a request in one write transaction; a clash with a concurrent twin (the same new
    customer, the same Idempotency-Key, on PostgreSQL) is tried again and then finds it."""
    for attempt in range(3):
        try:
            return write_transaction(engine, work)
        except (DuplicateCustomer, IntegrityError):
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------- availability


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    staff_id: int
    staff: str


@dataclass(frozen=True)
class Availability:
    service: str
    branch: str
    day: date
    duration_minutes: int
    slots: list[Slot] = field(default_factory=list)


def availability(
    *,
    session: Session,
    service: str,
    branch: str | None,
    day: str | date,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> Availability:
    """Free start times (15-minute steps in opening hours, none in the past) per staff member,
    by the desk's rule: no overlap with a pending, confirmed or completed booking."""
    svc_row = _find_named(session, Service, service, "service", "service")
    branches = list(session.exec(select(Branch).where(col(Branch.active).is_(True))))
    if not (branch or "").strip() and len(branches) == 1:
        branch_row = branches[0]
    else:
        branch_row = _find_named(session, Branch, branch, "branch", "branch")
    the_day = day if isinstance(day, date) else iso_day(day or "", "date")
    zone = tz or datetime.now().astimezone().tzinfo
    now = now or datetime.now(UTC)
    today = now.astimezone(zone).date()
    if (the_day - today).days > MAX_DAYS_AHEAD:
        # (a booking that far ahead is refused: no time is offered there either)
        raise ValidationFailed("date", f"is more than {MAX_DAYS_AHEAD} days ahead")
    if the_day < today:  # (nothing is free in the past; 0001-01-01 had no day before it)
        return Availability(svc_row.name, branch_row.name, the_day, svc_row.duration_minutes, [])
    duration = timedelta(minutes=svc_row.duration_minutes)
    hours = bookings.opening_hours(session)
    opening, closing = hours.of(datetime.combine(the_day, hours.opening, zone))
    staff = bookable_staff(session, branch_row.id or 0)
    busy: dict[int, list[tuple[datetime, datetime]]] = {s.id or 0: [] for s in staff}
    if staff:
        rows = session.exec(
            select(Booking).where(
                col(Booking.staff_id).in_(list(busy)),
                col(Booking.status).in_(bookings.BUSY),
                col(Booking.start_at) < closing,
                col(Booking.start_at) > opening - bookings.lookback(session),
                col(Booking.end_at) > opening,
            )
        )
        for b in rows:
            busy[b.staff_id or 0].append((_aware(b.start_at), _aware(b.end_at)))  # type: ignore[arg-type]
    slots: list[Slot] = []
    for member in staff:
        t = opening
        while t + duration <= closing:
            end = t + duration
            if t > now and not any(s < end and e > t for s, e in busy[member.id or 0]):
                slots.append(Slot(t, end, member.id or 0, member.name))
            t += bookings.SUGGEST_STEP
    slots.sort(key=lambda s: (s.start, s.staff))
    return Availability(svc_row.name, branch_row.name, the_day, svc_row.duration_minutes, slots)


# --------------------------------------------------------------------------- lookup


@dataclass(frozen=True)
class Upcoming:
    start: datetime
    end: datetime
    service: str
    staff: str | None
    branch: str
    status: str


@dataclass(frozen=True)
class Lookup:
    code: str
    first_name: str
    name: str
    can_book_online: bool
    points: int
    upcoming: list[Upcoming]
    notes: list[str]  # customer-visible notes only


class Ambiguous(FrontdeskError):
    """The phone and email name different customers (HTTP 409)."""


def lookup(
    *,
    session: Session,
    phone: str | None = None,
    email: str | None = None,
    now: datetime | None = None,
) -> Lookup | None:
    """The returning customer with this phone or email, or None. Never staff-only notes,
    never the reason a customer is blocked."""
    region = default_region(session)
    p = normalise_phone(phone, region, field="phone") if phone else None
    e = normalise_email(email, field="email") if email else None
    if p is None and e is None:
        raise ValidationFailed("phone", "give a phone number or an email address")
    ids = owners(session, ContactKind.PHONE, p.e164 if p else None)
    by_email = owners(session, ContactKind.EMAIL, e.key if e else None)
    if ids and by_email and ids != by_email:
        raise Ambiguous("the phone and the email belong to different customers")
    ids = ids or by_email
    if len(ids) != 1:
        if ids:
            raise Ambiguous("several customers have this phone or email")
        return None
    customer = session.get(Customer, next(iter(ids)))
    assert customer is not None and customer.id is not None
    now = now or datetime.now(UTC)
    rows = session.exec(
        select(Booking, Service, Branch)
        .join(Service, col(Service.id) == col(Booking.service_id))
        .join(Branch, col(Branch.id) == col(Booking.branch_id))
        .where(
            col(Booking.customer_id) == customer.id,
            col(Booking.start_at) >= now,
            col(Booking.status).in_([BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value]),
        )
        .order_by(col(Booking.start_at))
        .limit(10)
    ).all()
    upcoming = []
    for b, s, br in rows:
        member = session.get(Staff, b.staff_id) if b.staff_id else None
        upcoming.append(
            Upcoming(
                _aware(b.start_at),  # type: ignore[arg-type]
                _aware(b.end_at),  # type: ignore[arg-type]
                s.name,
                member.name if member else None,
                br.name,
                b.status,
            )
        )
    points = session.exec(
        select(func.coalesce(func.sum(LoyaltyEnrolment.balance), 0)).where(
            col(LoyaltyEnrolment.customer_id) == customer.id,
            col(LoyaltyEnrolment.removed_at).is_(None),
        )
    ).one()
    notes = [
        n.body
        for n in session.exec(
            select(Note)
            .where(
                col(Note.customer_id) == customer.id,
                col(Note.visibility) == NoteVisibility.CUSTOMER.value,
            )
            .order_by(col(Note.position), col(Note.id))
            .limit(10)
        )
    ]
    return Lookup(
        code=customer.code,
        first_name=customer.first_name,
        name=customer.label,
        can_book_online=not customer.blocked,
        points=int(points or 0),
        upcoming=upcoming,
        notes=notes,
    )


# --------------------------------------------------------------------------- the desk


@dataclass(frozen=True)
class RequestView:
    id: int
    created_at: datetime
    status: str
    reason: str | None
    channel: str
    source: str | None
    name: str | None
    phone: str
    email: str | None
    service: str
    branch: str
    staff: str | None
    start_at: datetime
    customer_id: int | None
    customer: str | None  # "C-000123 Maria Garcia"
    customer_created: bool
    booking_id: int | None
    booking_status: str | None = None  # its booking's status now (cancelled since ...)

    @property
    def shown_status(self) -> str:
        """The request's status, and its booking's when that changed since: "booked ·
        booking cancelled" (it still said "booked" after the customer was deleted)."""
        if self.booking_status == "cancelled" and self.status != "declined":
            return f"{self.status} · booking cancelled"
        return self.status

    @property
    def open(self) -> bool:
        return self.status in (RequestStatus.PENDING.value, RequestStatus.REVIEW.value)


ORDER = {RequestStatus.REVIEW.value: 0, RequestStatus.PENDING.value: 1}


def list_requests(*, session: Session, actor: Staff | None, limit: int = 200) -> list[RequestView]:
    """Requests waiting for the desk first (review, then pending, earliest start first),
    then the latest decided ones."""
    require(actor, "read")
    open_rows = list(
        session.exec(
            select(BookingRequest)
            .where(
                col(BookingRequest.status).in_(
                    [RequestStatus.REVIEW.value, RequestStatus.PENDING.value]
                )
            )
            .order_by(col(BookingRequest.start_at))
            .limit(limit)
        )
    )
    open_rows.sort(key=lambda r: (ORDER[r.status], _aware(r.start_at)))
    done = list(
        session.exec(
            select(BookingRequest)
            .where(
                col(BookingRequest.status).not_in(
                    [RequestStatus.REVIEW.value, RequestStatus.PENDING.value]
                )
            )
            .order_by(col(BookingRequest.created_at).desc(), col(BookingRequest.id).desc())
            .limit(max(0, limit - len(open_rows)))
        )
    )
    return [_view_of(session, r) for r in open_rows + done]


def _view_of(session: Session, row: BookingRequest) -> RequestView:
    customer = session.get(Customer, row.customer_id) if row.customer_id else None
    # A customer merged since into another is shown as the one they became (the request's
    # booking moved there with them).
    hops = 0
    while customer is not None and customer.merged_into_id and hops < 10:
        customer = session.get(Customer, customer.merged_into_id)
        hops += 1
    booking = session.get(Booking, row.booking_id) if row.booking_id else None
    service = session.get(Service, row.service_id)
    branch = session.get(Branch, row.branch_id)
    staff_id = booking.staff_id if booking else row.staff_id
    staff = session.get(Staff, staff_id) if staff_id else None
    return RequestView(
        id=row.id or 0,
        created_at=_aware(row.created_at),  # type: ignore[arg-type]
        status=row.status,
        reason=row.reason,
        channel=row.token_name,
        source=row.source,
        name=row.name,
        phone=format_phone(row.phone),
        email=row.email,
        service=service.name if service else "?",
        branch=branch.name if branch else "?",
        staff=staff.name if staff else None,
        start_at=_aware(row.start_at),  # type: ignore[arg-type]
        customer_id=customer.id if customer else row.customer_id,
        customer=f"{customer.code} {customer.full_name}" if customer else None,
        customer_created=row.customer_created,
        booking_id=row.booking_id,
        booking_status=booking.status if booking else None,
    )


def _load(session: Session, request_id: int) -> BookingRequest:
    row = session.exec(
        select(BookingRequest)
        .where(col(BookingRequest.id) == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound("booking request", request_id)
    return row


def _decided(session: Session, row: BookingRequest, status: RequestStatus, actor: Staff) -> None:
    row.status = status.value
    row.decided_at = utcnow()
    row.decided_by_id = actor.id
    session.add(row)
    session.flush()


def accept_request(*, session: Session, request_id: int, actor: Staff | None) -> RequestView:
    """A pending request accepted: its held booking is confirmed."""
    require(actor, "book")
    assert actor is not None
    row = _load(session, request_id)
    if row.status != RequestStatus.PENDING.value or row.booking_id is None:
        raise InvalidState(f"a request that is {row.status} cannot be accepted")
    bookings.change_status(
        session=session, booking_id=row.booking_id, action="confirm", actor=actor
    )
    _decided(session, row, RequestStatus.ACCEPTED, actor)
    _record(session, actor, row, "accept", status=row.status)
    return _view_of(session, row)


def decline_request(
    *, session: Session, request_id: int, reason: str | None, actor: Staff | None
) -> RequestView:
    """A pending or review request declined with a reason (a held booking is cancelled)."""
    require(actor, "book")
    assert actor is not None
    text = clean_line("reason", reason, max_length=300)
    if not text:
        raise ValidationFailed("reason", "Say why the request is declined")
    row = _load(session, request_id)
    if row.status not in (RequestStatus.PENDING.value, RequestStatus.REVIEW.value):
        raise InvalidState(f"a request that is {row.status} cannot be declined")
    if row.booking_id is not None:
        booking = bookings.get_booking(session=session, booking_id=row.booking_id)
        if booking.status in bookings.ALLOWED["cancel"]:
            bookings.change_status(
                session=session,
                booking_id=row.booking_id,
                action="cancel",
                actor=actor,
                reason=f"request declined: {text}",
            )
    row.reason = text
    _decided(session, row, RequestStatus.DECLINED, actor)
    _record(session, actor, row, "decline", status=row.status, reason=text)
    return _view_of(session, row)


def resolve_review(
    *,
    session: Session,
    request_id: int,
    actor: Staff | None,
    customer_id: int | None = None,
) -> RequestView:
    """A request waiting for review, booked for an existing customer (``customer_id``, a
    merged-away one is followed to its survivor) or for a new one (``customer_id`` None: made
    with the request's phone and email where no other customer has them)."""
    require(actor, "book")
    assert actor is not None
    row = _load(session, request_id)
    if row.status != RequestStatus.REVIEW.value:
        raise InvalidState(f"a request that is {row.status} needs no review")
    service = session.get(Service, row.service_id)
    branch = session.get(Branch, row.branch_id)
    if service is None or branch is None:
        raise ValidationFailed("service", "the service or branch no longer exists")
    staff = session.get(Staff, row.staff_id) if row.staff_id else None
    if customer_id is not None:
        customer = svc.resolve(
            session=session, customer=svc.get_customer(session=session, customer_id=customer_id)
        )
        if not customer.is_live:
            raise ValidationFailed("customer", "choose a customer who is not deleted")
        if customer.blocked:
            raise BlockedCustomer(customer)
        created = False
    else:
        email = normalise_email(row.email) if row.email else None
        phone = (
            row.phone if row.phone and not owners(session, ContactKind.PHONE, row.phone) else None
        )
        email_text = (
            row.email
            if email is not None and not owners(session, ContactKind.EMAIL, email.key)
            else None
        )
        if phone is None and email_text is None:
            given = [w for w, v in (("phone", row.phone), ("email", row.email)) if v]
            whose = (
                "the phone and email belong to other customers"
                if len(given) == 2
                else f"the {given[0] if given else 'contact'} belongs to another customer"
            )
            raise ValidationFailed("customer", f"{whose}: link the request to them")
        clean = Clean(
            name=row.name,
            phone=phone,
            email=email_text,
            email_key=None,
            service=service,
            branch=branch,
            staff=staff,
            start=_aware(row.start_at),  # type: ignore[arg-type]
            notes=row.notes,
            source=row.source,
        )
        customer = _create_customer(
            session, clean=clean, actor=actor, phone=phone, email=email_text
        )
        created = True
    booking = _book(
        session,
        customer_id=customer.id or 0,
        service=service,
        branch=branch,
        staff=staff,
        start=_aware(row.start_at),  # type: ignore[arg-type]
        actor=actor,
        status=BookingStatus.CONFIRMED,
        notes=row.notes,
    )
    row.customer_id = customer.id
    row.customer_created = created
    row.booking_id = booking.id
    _decided(session, row, RequestStatus.ACCEPTED, actor)
    _record(
        session,
        actor,
        row,
        "resolve",
        status=row.status,
        customer=customer.code,
        customer_created=created or None,
    )
    return _view_of(session, row)


def open_count(*, session: Session) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(BookingRequest)
            .where(
                col(BookingRequest.status).in_(
                    [RequestStatus.REVIEW.value, RequestStatus.PENDING.value]
                )
            )
        ).one()
    )

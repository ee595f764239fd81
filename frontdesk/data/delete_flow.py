"""Deleting customers and undoing it, without losing what hangs on them (issue 11).

- :func:`delete_preview`: what a delete would touch (future bookings, open orders), read
  before the confirmation so that it can say so.
- :func:`delete_customers`: one transaction. Soft-deletes each customer
  (``customers.delete_customer``), cancels their future bookings with the reason
  "customer deleted" (a cancelled booking no longer holds the staff member's time) and
  records which bookings it cancelled in the audit log (entity ``"deletion"``), so that
- :func:`restore_customers` (undo) can re-open each of them whose slot is still free, and
  say which could not be re-opened and why (slot taken by whom, time passed, changed since).

- :func:`list_deleted`: the deleted customers that can still be restored (not erased, not
  merged away), most recently deleted first, with who deleted them: the app's "Deleted
  customers" screen, where a customer deleted long ago is found and restored.

Open orders stay open: they are money owed or paid, not a claim on anyone's time.

Roles: one customer takes "customers.delete"; several take "bulk.delete", and more than
``roles.BULK_DELETE_LIMIT`` also "bulk.delete.many". Undo takes the same as the delete.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, or_
from sqlmodel import Session, col, func, select

from frontdesk.data import audit, bookings
from frontdesk.data import customers as svc
from frontdesk.data.errors import FrontdeskError, NotFound, ValidationFailed
from frontdesk.data.models import (
    AuditEvent,
    Booking,
    BookingStatus,
    Customer,
    Order,
    OrderStatus,
    Service,
    Staff,
    utcnow,
)
from frontdesk.data.outcomes import BulkOutcome, counted
from frontdesk.data.roles import BULK_DELETE_LIMIT, require
from frontdesk.data.settings import default_region
from frontdesk.data.validation import (
    digits,
    email_key,
    fold,
    normalise_phone,
    phone_search_variants,
)

CANCEL_REASON = "customer deleted"
# The audit entity of "what deleting this customer cancelled" (read back by the undo).
RECEIPT = "deletion"
REOPEN = "reopen"

OPEN_ORDER = (OrderStatus.OPEN.value, OrderStatus.PART_PAID.value)
UPCOMING = (BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _ids(customer_ids: Sequence[int]) -> list[int]:
    """Distinct ids in a fixed order (rows are locked in this order: no deadlock)."""
    return sorted(dict.fromkeys(int(i) for i in customer_ids))


def check_role(actor: Staff | None, count: int, *, bulk: bool = False) -> None:
    """Refuse (``NotAllowed``) unless ``actor`` may delete or restore ``count`` customers."""
    if count <= 1 and not bulk:
        require(actor, "customers.delete")
        return
    require(actor, "bulk.delete")
    if count > BULK_DELETE_LIMIT:
        require(actor, "bulk.delete.many")


def _lock(session: Session, customer_id: int) -> Customer | None:
    """The customer, locked and read afresh: of two terminals deleting (or restoring) the
    same customer at once, the second sees what the first did and leaves it alone."""
    customer = session.exec(
        select(Customer).where(col(Customer.id) == customer_id).with_for_update()
    ).first()
    if customer is not None:
        session.refresh(customer)
    return customer


def _each(
    session: Session,
    customer_ids: Sequence[int],
    actor: Staff | None,
    bulk: bool,
    problems: list[str],
) -> Iterator[tuple[int, Customer]]:
    """Check the role for the whole batch, then each customer locked, in id order (a missing
    one goes to ``problems``)."""
    ids = _ids(customer_ids)
    check_role(actor, len(ids), bulk=bulk)
    for cid in ids:
        customer = _lock(session, cid)
        if customer is None:
            problems.append(f"customer {cid} not found")
            continue
        yield cid, customer


def _future(customer_ids: list[int], now: datetime) -> list[Any]:
    """Conditions of the customers' bookings still to come (they hold a staff member's time)."""
    return [
        col(Booking.customer_id).in_(customer_ids),
        col(Booking.status).in_(UPCOMING),
        col(Booking.start_at) > now,
    ]


# --------------------------------------------------------------------------- preview


@dataclass(frozen=True)
class DeletePreview:
    """What deleting these customers would do; ``label`` is user data (render it as text)."""

    customer_ids: list[int]
    label: str  # the one customer's name, or "N customers"
    future_bookings: int
    open_orders: int
    already_deleted: int = 0

    @property
    def count(self) -> int:
        return len(self.customer_ids)

    @property
    def consequences(self) -> str:
        """E.g. "2 future bookings will be cancelled; 1 open order stays open." """
        parts = []
        if self.future_bookings:
            parts.append(f"{counted(self.future_bookings, 'future booking')} will be cancelled")
        if self.open_orders:
            verb = "stays" if self.open_orders == 1 else "stay"
            parts.append(f"{counted(self.open_orders, 'open order')} {verb} open")
        if not parts:
            return "No future bookings or open orders."
        return "; ".join(parts) + "."

    @property
    def question(self) -> str:
        """The whole confirmation as plain text (the label is user data: print it as text)."""
        return f"Delete {self.label}? {self.consequences}"


def delete_preview(
    *, session: Session, customer_ids: Sequence[int], now: datetime | None = None
) -> DeletePreview:
    """How many future bookings and open orders the (live) customers have."""
    ids = _ids(customer_ids)
    now = _aware(now or utcnow())
    rows = list(session.exec(select(Customer).where(col(Customer.id).in_(ids)))) if ids else []
    live = sorted(c.id or 0 for c in rows if c.is_live)
    if len(rows) < len(ids):
        missing = sorted(set(ids) - {c.id for c in rows})
        raise NotFound("customer", missing[0])
    if len(live) == 1:
        label = next(c.label for c in rows if c.id == live[0])
    else:
        label = counted(len(live), "customer")
    future = open_orders = 0
    if live:
        future = session.exec(select(func.count()).where(*_future(live, now))).one()
        open_orders = session.exec(
            select(func.count()).where(
                col(Order.customer_id).in_(live), col(Order.status).in_(OPEN_ORDER)
            )
        ).one()
    return DeletePreview(
        customer_ids=live,
        label=label,
        future_bookings=int(future),
        open_orders=int(open_orders),
        already_deleted=len(rows) - len(live),
    )


# --------------------------------------------------------------------------- delete


@dataclass
class DeleteOutcome(BulkOutcome):
    """``changed_ids``: the customers deleted; ``cancelled``: the bookings cancelled."""

    cancelled: list[int] = field(default_factory=list)
    open_orders: int = 0

    @property
    def summary(self) -> str:
        text = f"Deleted {counted(len(self.changed_ids), 'customer')}"
        if self.cancelled:
            text += f"; {counted(len(self.cancelled), 'future booking')} cancelled"
        if self.open_orders:
            text += f"; {counted(self.open_orders, 'open order')} still open"
        if self.problems:
            text += f"; {len(self.problems):,} could not be deleted"
        return text


def delete_customers(
    *,
    session: Session,
    customer_ids: Sequence[int],
    actor: Staff | None,
    bulk: bool = False,
    now: datetime | None = None,
) -> DeleteOutcome:
    """Soft-delete the customers and cancel their future bookings, in the caller's transaction.

    ``bulk``: the directory's bulk action (its roles apply even to one customer).
    Already deleted or merged-away customers are left alone (not counted).
    """
    now = _aware(now or utcnow())
    outcome = DeleteOutcome()
    for cid, customer in _each(session, customer_ids, actor, bulk, outcome.problems):
        if not customer.is_live:
            continue
        cancelled: list[list[Any]] = []
        upcoming = select(Booking).where(*_future([cid], now)).order_by(col(Booking.id))
        for booking in list(session.exec(upcoming)):
            before = booking.status
            bookings.change_status(
                session=session,
                booking_id=booking.id or 0,
                action="cancel",
                reason=CANCEL_REASON,
                actor=actor,
            )
            cancelled.append([booking.id, before])
        svc.delete_customer(session=session, customer_id=cid, actor=actor)
        if cancelled:
            audit.record(
                session=session,
                actor=actor,
                entity=RECEIPT,
                entity_id=cid,
                action="cancelled_bookings",
                customer_id=cid,
                changes={"bookings": (None, cancelled)},
            )
        outcome.changed_ids.append(cid)
        outcome.cancelled.extend(int(b[0]) for b in cancelled)
        outcome.open_orders += int(
            session.exec(
                select(func.count()).where(
                    col(Order.customer_id) == cid, col(Order.status).in_(OPEN_ORDER)
                )
            ).one()
        )
    session.flush()
    return outcome


# --------------------------------------------------------------------------- undo


@dataclass(frozen=True)
class NotRestored:
    """A booking the undo could not re-open, and why."""

    booking_id: int
    customer: str
    service: str
    start_at: datetime
    staff: str | None
    why: str  # "slot taken", "time passed" or "changed since"
    taken_by: bookings.Conflict | None = None

    def describe(self) -> str:
        """One line in local time, e.g. "Booking #12 (Maria Lopez, Haircut, 2026-12-01 10:00
        with Anna): slot taken by C000123 Bob Smith (Massage 10:00-11:00, booking #40)"."""
        at = _aware(self.start_at).astimezone().strftime("%Y-%m-%d %H:%M")
        with_whom = f" with {self.staff}" if self.staff else ""
        head = f"Booking #{self.booking_id} ({self.customer}, {self.service}, {at}{with_whom})"
        if self.taken_by is not None:
            t = self.taken_by
            start = t.start_at.astimezone().strftime("%H:%M")
            end = t.end_at.astimezone().strftime("%H:%M")
            return (
                f"{head}: slot taken by {t.customer_code} {t.customer_name} "
                f"({t.service} {start}–{end}, booking #{t.booking_id})"
            )
        return f"{head}: {self.why}"


@dataclass
class RestoreOutcome(BulkOutcome):
    """``changed_ids``: the customers restored; ``reopened``: their bookings re-opened."""

    reopened: list[int] = field(default_factory=list)
    not_restored: list[NotRestored] = field(default_factory=list)

    @property
    def summary(self) -> str:
        text = f"Restored {counted(len(self.changed_ids), 'customer')}"
        if self.reopened:
            text += f"; {counted(len(self.reopened), 'booking')} re-opened"
        if self.not_restored:
            text += f"; {counted(len(self.not_restored), 'booking')} could not be re-opened"
        if self.problems:
            text += f"; {counted(len(self.problems), 'customer')} could not be restored"
        return text

    @property
    def details(self) -> list[str]:
        """One line per booking not re-opened and per customer not restored."""
        return [n.describe() for n in self.not_restored] + list(self.problems)


def _receipt(session: Session, customer_id: int) -> list[list[Any]]:
    """The bookings the customer's latest delete cancelled (none if restored since)."""
    restored_after = session.exec(
        select(func.max(AuditEvent.id)).where(
            col(AuditEvent.entity) == "customer",
            col(AuditEvent.entity_id) == customer_id,
            col(AuditEvent.action) == "restore",
        )
    ).one()
    stmt = (
        select(AuditEvent)
        .where(
            col(AuditEvent.entity) == RECEIPT,
            col(AuditEvent.entity_id) == customer_id,
        )
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
    )
    event = session.exec(stmt).first()
    if event is None or (restored_after is not None and (event.id or 0) < restored_after):
        return []
    payload = (event.changes or {}).get("bookings") or [None, []]
    return [list(item) for item in payload[1] or []]


def _reopen(
    session: Session,
    customer: Customer,
    booking_id: int,
    status: str,
    actor: Staff | None,
    now: datetime,
) -> NotRestored | None:
    booking = session.exec(
        select(Booking).where(col(Booking.id) == booking_id).with_for_update()
    ).first()
    if booking is None:
        return None
    session.refresh(booking)
    service = session.get(Service, booking.service_id)
    staff = session.get(Staff, booking.staff_id) if booking.staff_id else None

    def refused(why: str, taken_by: bookings.Conflict | None = None) -> NotRestored:
        return NotRestored(
            booking_id=booking_id,
            customer=customer.label,
            service=service.name if service else "?",
            start_at=_aware(booking.start_at),
            staff=staff.name if staff else None,
            why=why,
            taken_by=taken_by,
        )

    if (
        booking.status != BookingStatus.CANCELLED.value
        or booking.cancellation_reason != CANCEL_REASON
    ):
        return refused(f"changed since (now {booking.status.replace('_', '-')})")
    start, end = _aware(booking.start_at), _aware(booking.end_at)
    if start <= now:
        return refused("its time has passed")
    if booking.staff_id is not None:
        bookings._lock_staff(session, booking.staff_id)
        conflict = bookings.find_conflict(
            session=session,
            staff_id=booking.staff_id,
            start_at=start,
            end_at=end,
            exclude_id=booking_id,
        )
        if conflict is not None:
            return refused("slot taken", conflict)
    reopened = status if status in UPCOMING else BookingStatus.CONFIRMED.value
    booking.status = reopened
    booking.cancellation_reason = None
    booking.version += 1
    booking.updated_at = utcnow()
    session.add(booking)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        entity="booking",
        entity_id=booking_id,
        action=REOPEN,
        customer_id=booking.customer_id,
        changes={"status": (BookingStatus.CANCELLED.value, reopened)},
    )
    return None


def restore_customers(
    *,
    session: Session,
    customer_ids: Sequence[int],
    actor: Staff | None,
    bulk: bool = False,
    now: datetime | None = None,
) -> RestoreOutcome:
    """Undo :func:`delete_customers`: restore each customer and re-open the bookings its
    delete cancelled where the slot is still free. A customer whose phone or email another
    customer took meanwhile stays deleted (reported in ``problems``)."""
    now = _aware(now or utcnow())
    outcome = RestoreOutcome()
    for cid, customer in _each(session, customer_ids, actor, bulk, outcome.problems):
        if customer.deleted_at is None:
            continue
        cancelled = _receipt(session, cid)  # read before the restore is recorded
        try:
            with session.begin_nested():
                svc.restore_customer(session=session, customer_id=cid, actor=actor)
        except FrontdeskError as exc:
            outcome.problems.append(f"{customer.code} {customer.label}: {exc}")
            continue
        outcome.changed_ids.append(cid)
        for booking_id, status in cancelled:
            refused = _reopen(session, customer, int(booking_id), str(status), actor, now)
            if refused is not None:
                outcome.not_restored.append(refused)
            else:
                outcome.reopened.append(int(booking_id))
    session.flush()
    return outcome


# --------------------------------------------------------------------------- bulk (directory)


def apply_bulk(
    *, engine: Engine, action: str, customer_ids: Sequence[int], actor: Staff | None
) -> BulkOutcome:
    """The directory's bulk "delete" / "restore", in one transaction."""
    if action not in ("delete", "restore"):
        raise ValidationFailed("action", f"unknown action {action!r}")
    with Session(engine, expire_on_commit=False) as session:
        if action == "delete":
            result: BulkOutcome = delete_customers(
                session=session, customer_ids=customer_ids, actor=actor, bulk=True
            )
        else:
            result = restore_customers(
                session=session, customer_ids=customer_ids, actor=actor, bulk=True
            )
        session.commit()
    return result


# --------------------------------------------------------------------------- finding


def find_deleted(*, session: Session, text: str, limit: int = 20) -> list[Customer]:
    """Deleted customers whose code, phone or email is exactly ``text`` (search leaves
    deleted customers out; a desk asking about a code or number should hear it is deleted)."""
    raw = text.strip()
    if not raw:
        return []
    conds: list[Any] = []
    code = svc.normalise_code(raw)
    if code:
        conds.append(col(Customer.code) == code)
    if "@" in raw:
        conds.append(col(Customer.email_key) == email_key(raw))
    elif any(ch.isdigit() for ch in raw) and not any(ch.isalpha() for ch in raw):
        try:
            phone = normalise_phone(raw, default_region(session))
        except ValidationFailed:
            phone = None
        if phone:
            conds.append(col(Customer.phone) == phone.e164)
    if not conds:
        return []
    stmt = (
        select(Customer)
        .where(
            or_(*conds),
            col(Customer.deleted_at).is_not(None),
            col(Customer.merged_into_id).is_(None),
        )
        .order_by(col(Customer.id))
        .limit(limit)
    )
    return list(session.exec(stmt))


# --------------------------------------------------------------------------- deleted list

DELETED_LIMIT = 200


@dataclass(frozen=True)
class DeletedRow:
    """A deleted customer as the "Deleted customers" screen lists it (user data: show the
    text fields as text). ``deleted_by``: the staff member's name in the audit log, if any."""

    id: int
    code: str
    name: str
    phone: str | None  # E.164
    email: str | None
    deleted_at: datetime
    deleted_by: str | None


@dataclass(frozen=True)
class DeletedList:
    """At most ``limit`` rows, most recently deleted first; ``total``: how many match."""

    rows: list[DeletedRow]
    total: int

    @property
    def more(self) -> int:
        """How many match beyond the rows listed."""
        return max(0, self.total - len(self.rows))


def _deleted_conditions(session: Session, text: str) -> list[Any]:
    """Deleted (not erased, not merged away) customers whose name, code, phone or email
    contains ``text`` (folded; a phone in any format)."""
    conds: list[Any] = [
        col(Customer.deleted_at).is_not(None),
        col(Customer.merged_into_id).is_(None),
        col(Customer.erased_at).is_(None),
    ]
    raw = text.strip()
    if not raw:
        return conds
    needles = [fold(raw)]
    if digits(raw) and not any(ch.isalpha() for ch in raw.replace("@", "")):
        # (a variant of one or two digits, "1" less a trunk prefix, would match nearly all)
        needles += [v for v in phone_search_variants(raw, default_region(session)) if len(v) > 2]
    conds.append(
        or_(
            *(
                col(Customer.search_text).contains(n, autoescape=True)
                for n in dict.fromkeys(needles)
                if n
            )
        )
    )
    return conds


def list_deleted(
    *, session: Session, actor: Staff | None, text: str = "", limit: int = DELETED_LIMIT
) -> DeletedList:
    """Deleted customers that can be restored, most recently deleted first, filtered by
    ``text`` (part of a name, code, phone or email). Erased customers are gone for good and
    merged-away ones live on in their survivor: neither is listed. Takes the role that
    deletes and restores ("customers.delete")."""
    require(actor, "customers.delete")
    conds = _deleted_conditions(session, text)
    customers = list(
        session.exec(
            select(Customer)
            .where(*conds)
            .order_by(col(Customer.deleted_at).desc(), col(Customer.id).desc())
            .limit(max(0, limit))
        )
    )
    total = len(customers)
    if total >= limit:
        total = int(session.exec(select(func.count()).select_from(Customer).where(*conds)).one())
    ids = [c.id for c in customers if c.id is not None]
    by: dict[int, str | None] = {}
    if ids:
        events = session.exec(
            select(AuditEvent.entity_id, AuditEvent.actor_name)
            .where(
                col(AuditEvent.entity) == "customer",
                col(AuditEvent.action) == "delete",
                col(AuditEvent.entity_id).in_(ids),
            )
            .order_by(col(AuditEvent.id))
        )
        for entity_id, actor_name in events:
            by[int(entity_id)] = actor_name  # the latest delete wins
    rows = [
        DeletedRow(
            id=c.id or 0,
            code=c.code,
            name=c.label,
            phone=c.phone,
            email=c.email,
            deleted_at=_aware(c.deleted_at or utcnow()),
            deleted_by=by.get(c.id or 0),
        )
        for c in customers
    ]
    return DeletedList(rows=rows, total=total)

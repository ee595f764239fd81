"""Read models of one customer: statistics, bookings, orders, rewards, notes, timeline.

Every figure is computed from the stored rows (no cached counters), so it stays exact after a
refund, a cancellation or a merge.

The profile screen loads one part at a time, each with one call: ``load_profile_header`` (name,
contact, category, tags, alerts) and ``load_*_tab`` for the tab being shown. Each resolves a
merged-away customer to the survivor. ``load_profile`` loads everything at once (CLI, tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from frontdesk.data.audit_text import Names, describe_customer_event, value_text
from frontdesk.data.models import (
    AuditEvent,
    Booking,
    BookingStatus,
    Branch,
    Customer,
    LoyaltyEnrolment,
    LoyaltyProgram,
    Note,
    NoteCategory,
    Order,
    OrderLine,
    Payment,
    PointsEntry,
    Refund,
    Service,
    Staff,
    utcnow,
)
from frontdesk.data.note_text import markdown_summary
from frontdesk.data.roles import own_bookings_only, require_money, sees_money


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # pragma: no cover - aggregates on SQLite come back as text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class CustomerStats:
    visits: int
    upcoming: int
    cancellations: int
    no_shows: int
    income_cents: int | None  # None: not for this reader (a therapist sees no money)
    average_visit_cents: int | None
    customer_since: datetime
    first_visit: datetime | None
    last_visit: datetime | None
    next_visit: datetime | None
    days_since_last_visit: int | None
    points: int


def _income(session: Session, customer_id: int) -> int:
    """What the customer paid, less what was refunded."""
    paid = session.execute(
        sa_select(func.coalesce(func.sum(col(Payment.amount_cents)), 0))
        .join(Order, col(Order.id) == col(Payment.order_id))
        .where(col(Order.customer_id) == customer_id)
    ).scalar_one()
    refunded = session.execute(
        sa_select(func.coalesce(func.sum(col(Refund.amount_cents)), 0))
        .join(Order, col(Order.id) == col(Refund.order_id))
        .where(col(Order.customer_id) == customer_id)
    ).scalar_one()
    return int(paid) - int(refunded)


def customer_stats(
    *,
    session: Session,
    customer: Customer,
    now: datetime | None = None,
    money: bool = True,
    staff_id: int | None = None,
) -> CustomerStats:
    """The customer's figures; ``money=False`` leaves out what they paid (not read);
    ``staff_id`` counts only that staff member's bookings (a therapist's own: the role reads
    no other bookings)."""
    now = now or utcnow()
    cid = customer.id
    whose = [] if staff_id is None else [col(Booking.staff_id) == staff_id]
    done = BookingStatus.COMPLETED.value
    active = (BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value)
    row = session.execute(
        sa_select(
            func.sum(case((col(Booking.status) == done, 1), else_=0)),
            func.sum(
                case(
                    ((col(Booking.status).in_(active)) & (col(Booking.start_at) >= now), 1), else_=0
                )
            ),
            func.sum(case((col(Booking.status) == BookingStatus.CANCELLED.value, 1), else_=0)),
            func.sum(case((col(Booking.status) == BookingStatus.NO_SHOW.value, 1), else_=0)),
            func.min(case((col(Booking.status) == done, col(Booking.start_at)))),
            func.max(case((col(Booking.status) == done, col(Booking.start_at)))),
            func.min(
                case(
                    (
                        (col(Booking.status).in_(active)) & (col(Booking.start_at) >= now),
                        col(Booking.start_at),
                    )
                )
            ),
        ).where(col(Booking.customer_id) == cid, *whose)
    ).one()
    visits, upcoming, cancelled, no_shows = (int(v or 0) for v in row[:4])
    first_visit, last_visit, next_visit = (_aware(v) for v in row[4:7])
    income = _income(session, cid or 0) if money else None
    points = session.execute(
        sa_select(func.coalesce(func.sum(col(LoyaltyEnrolment.balance)), 0)).where(
            col(LoyaltyEnrolment.customer_id) == cid, col(LoyaltyEnrolment.removed_at).is_(None)
        )
    ).scalar_one()
    days = (now.date() - last_visit.date()).days if last_visit else None
    return CustomerStats(
        visits=visits,
        upcoming=upcoming,
        cancellations=cancelled,
        no_shows=no_shows,
        income_cents=income,
        average_visit_cents=round(income / visits) if visits and income is not None else None,
        customer_since=_aware(customer.created_at) or now,
        first_visit=first_visit,
        last_visit=last_visit,
        next_visit=next_visit,
        days_since_last_visit=days,
        points=int(points),
    )


@dataclass(frozen=True)
class BookingRow:
    id: int
    service: str
    branch: str
    staff: str
    start_at: datetime
    end_at: datetime
    status: str
    price_cents: int
    notes: str | None
    cancellation_reason: str | None
    arrived: bool = False  # checked in (done may then come before the start)


def list_bookings(
    *,
    session: Session,
    customer_id: int,
    date_from: date | None = None,
    date_to: date | None = None,
    service_id: int | None = None,
    limit: int = 500,
    staff_id: int | None = None,
) -> list[BookingRow]:
    """The customer's bookings, latest first; ``staff_id``: only that staff member's."""
    stmt = (
        sa_select(Booking, col(Service.name), col(Branch.name), col(Staff.name))
        .join(Service, col(Service.id) == col(Booking.service_id))
        .join(Branch, col(Branch.id) == col(Booking.branch_id))
        .outerjoin(Staff, col(Staff.id) == col(Booking.staff_id))
        .where(col(Booking.customer_id) == customer_id)
    )
    if date_from:
        stmt = stmt.where(
            col(Booking.start_at) >= datetime.combine(date_from, datetime.min.time(), UTC)
        )
    if date_to:
        end = datetime.combine(date_to, datetime.max.time(), UTC)
        stmt = stmt.where(col(Booking.start_at) <= end)
    if service_id:
        stmt = stmt.where(col(Booking.service_id) == service_id)
    if staff_id is not None:
        stmt = stmt.where(col(Booking.staff_id) == staff_id)
    stmt = stmt.order_by(col(Booking.start_at).desc()).limit(limit)
    return [
        BookingRow(
            id=b.id or 0,
            service=service,
            branch=branch,
            staff=staff or "",
            start_at=_aware(b.start_at) or b.start_at,
            end_at=_aware(b.end_at) or b.end_at,
            status=b.status,
            price_cents=b.price_cents,
            notes=b.notes,
            cancellation_reason=b.cancellation_reason,
            arrived=b.arrived_at is not None,
        )
        for b, service, branch, staff in session.execute(stmt)
    ]


def services_used(*, session: Session, customer_id: int) -> list[tuple[int, str]]:
    stmt = (
        sa_select(col(Service.id), col(Service.name))
        .join(Booking, col(Booking.service_id) == col(Service.id))
        .where(col(Booking.customer_id) == customer_id)
        .distinct()
        .order_by(col(Service.name))
    )
    return [(int(i), str(n)) for i, n in session.execute(stmt)]


@dataclass(frozen=True)
class OrderRow:
    id: int
    created_at: datetime
    branch: str
    items: str
    total_cents: int
    paid_cents: int
    refunded_cents: int
    status: str


def list_orders(*, session: Session, customer_id: int, limit: int = 500) -> list[OrderRow]:
    orders = session.execute(
        sa_select(Order, col(Branch.name))
        .join(Branch, col(Branch.id) == col(Order.branch_id))
        .where(col(Order.customer_id) == customer_id)
        .order_by(col(Order.created_at).desc())
        .limit(limit)
    ).all()
    ids = [o.id for o, _ in orders]
    if not ids:
        return []
    items: dict[int, list[str]] = {}
    for line in session.exec(
        select(OrderLine).where(col(OrderLine.order_id).in_(ids)).order_by(col(OrderLine.id))
    ):
        label = line.description if line.quantity == 1 else f"{line.quantity}× {line.description}"
        items.setdefault(line.order_id, []).append(label)
    paid = dict(
        session.execute(
            sa_select(col(Payment.order_id), func.sum(col(Payment.amount_cents)))
            .where(col(Payment.order_id).in_(ids))
            .group_by(col(Payment.order_id))
        ).all()
    )
    refunded = dict(
        session.execute(
            sa_select(col(Refund.order_id), func.sum(col(Refund.amount_cents)))
            .where(col(Refund.order_id).in_(ids))
            .group_by(col(Refund.order_id))
        ).all()
    )
    return [
        OrderRow(
            id=o.id or 0,
            created_at=_aware(o.created_at) or o.created_at,
            branch=branch,
            items=", ".join(items.get(o.id or 0, [])),
            total_cents=o.total_cents,
            paid_cents=int(paid.get(o.id, 0) or 0),
            refunded_cents=int(refunded.get(o.id, 0) or 0),
            status=o.status,
        )
        for o, branch in orders
    ]


@dataclass(frozen=True)
class LedgerRow:
    id: int
    program: str
    unit: str
    at: datetime
    points: int
    action: str
    reason: str | None
    reference: str
    balance_after: int | None  # None where entries are left out (it would tell their sum)
    by: str
    order_id: int | None = None  # made by a payment or a refund of this order


def _of_customer(stmt: Any, customer_id: int) -> Any:
    """``stmt`` (on points entries) narrowed to the customer's enrolments."""
    return stmt.join(
        LoyaltyEnrolment, col(LoyaltyEnrolment.id) == col(PointsEntry.enrolment_id)
    ).where(col(LoyaltyEnrolment.customer_id) == customer_id)


def ledger(
    *, session: Session, customer_id: int, limit: int = 500, money: bool = True
) -> list[LedgerRow]:
    """The customer's points entries, newest first; ``money=False`` leaves out those a
    payment earned or a refund took back, and every entry's running total (the jump in it
    would tell what a left-out entry added): what a therapist may read, see roles."""
    stmt = _of_customer(
        sa_select(PointsEntry, col(LoyaltyProgram.name), col(LoyaltyProgram.unit), col(Staff.name))
        .join(LoyaltyProgram, col(LoyaltyProgram.id) == col(PointsEntry.program_id))
        .outerjoin(Staff, col(Staff.id) == col(PointsEntry.by_id)),
        customer_id,
    ).order_by(col(PointsEntry.id).desc())
    if not money:
        stmt = stmt.where(col(PointsEntry.order_id).is_(None))
    stmt = stmt.limit(limit)
    rows = []
    for entry, program, unit, by in session.execute(stmt):
        reference = (
            f"booking #{entry.booking_id}"
            if entry.booking_id
            else f"order #{entry.order_id}"
            if entry.order_id
            else ""
        )
        rows.append(
            LedgerRow(
                id=entry.id or 0,
                program=program,
                unit=unit,
                at=_aware(entry.at) or entry.at,
                points=entry.points,
                action=entry.action,
                reason=entry.reason,
                reference=reference,
                balance_after=entry.balance_after if money else None,
                by=by or "",
                order_id=entry.order_id,
            )
        )
    return rows


@dataclass(frozen=True)
class EnrolmentRow:
    id: int
    program: str
    unit: str
    balance: int
    expires_on: date | None
    enrolled_at: datetime
    notes: str = ""  # what was written when enrolling (Markdown, may be empty)


def enrolments(*, session: Session, customer_id: int) -> list[EnrolmentRow]:
    stmt = (
        sa_select(LoyaltyEnrolment, col(LoyaltyProgram.name), col(LoyaltyProgram.unit))
        .join(LoyaltyProgram, col(LoyaltyProgram.id) == col(LoyaltyEnrolment.program_id))
        .where(
            col(LoyaltyEnrolment.customer_id) == customer_id,
            col(LoyaltyEnrolment.removed_at).is_(None),
        )
        .order_by(col(LoyaltyProgram.name))
    )
    return [
        EnrolmentRow(
            id=e.id or 0,
            program=name,
            unit=unit,
            balance=e.balance,
            expires_on=e.expires_on,
            enrolled_at=e.enrolled_at,
            notes=e.notes or "",
        )
        for e, name, unit in session.execute(stmt)
    ]


@dataclass(frozen=True)
class NoteRow:
    id: int
    body: str
    category: str
    category_id: int | None
    is_alert: bool
    pinned: bool
    visibility: str
    author: str
    created_at: datetime
    booking_id: int | None
    author_id: int | None = None
    edited_by: str = ""  # who changed it last, when someone other than its author did

    @property
    def by(self) -> str:
        """Who wrote it, and who changed it last if that was someone else."""
        if self.edited_by and self.edited_by != self.author:
            return f"{self.author or '—'}, edited by {self.edited_by}"
        return self.author


def notes_of(*, session: Session, customer_id: int, alerts_only: bool = False) -> list[NoteRow]:
    editor = aliased(Staff)
    stmt = (
        sa_select(
            Note,
            col(NoteCategory.name),
            col(NoteCategory.is_alert),
            col(Staff.name),
            col(editor.name),
        )
        .outerjoin(NoteCategory, col(NoteCategory.id) == col(Note.category_id))
        .outerjoin(Staff, col(Staff.id) == col(Note.author_id))
        .outerjoin(editor, col(editor.id) == col(Note.edited_by_id))
        .where(col(Note.customer_id) == customer_id)
        .order_by(col(Note.pinned).desc(), col(Note.position), col(Note.created_at).desc())
    )
    rows = []
    for note, category, category_alert, author, edited_by in session.execute(stmt):
        alert = bool(note.is_alert or category_alert)
        if alerts_only and not alert:
            continue
        rows.append(
            NoteRow(
                id=note.id or 0,
                body=note.body,
                category=category or "",
                category_id=note.category_id,
                is_alert=alert,
                pinned=note.pinned,
                visibility=note.visibility,
                author=author or "",
                created_at=_aware(note.created_at) or note.created_at,
                booking_id=note.booking_id,
                author_id=note.author_id,
                edited_by=edited_by or "",
            )
        )
    return rows


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str
    text: str


def _money(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def timeline(
    *,
    session: Session,
    customer_id: int,
    limit: int = 200,
    bookings: list[BookingRow] | None = None,
    orders: list[OrderRow] | None = None,
    notes: list[NoteRow] | None = None,
    entries: list[LedgerRow] | None = None,
    staff_id: int | None = None,
    money: bool = True,
) -> list[TimelineItem]:
    """Bookings, cancellations, orders, payments, refunds, notes, points and profile changes.

    Lists the caller already loaded (the profile does) are reused instead of queried again.
    ``staff_id``: only that staff member's bookings; ``money=False``: no orders, payments or
    refunds, nor the points they earned or took back (a therapist's view, see roles).
    """
    items: list[TimelineItem] = []
    if bookings is None:
        bookings = list_bookings(
            session=session, customer_id=customer_id, limit=limit, staff_id=staff_id
        )
    if not money:
        orders = []
    elif orders is None:
        orders = list_orders(session=session, customer_id=customer_id, limit=limit)
    if notes is None:
        notes = notes_of(session=session, customer_id=customer_id)
    if entries is None:
        entries = ledger(session=session, customer_id=customer_id, limit=limit, money=money)
    for b in bookings[:limit]:
        label = {
            "completed": "Visit",
            "cancelled": "Cancelled",
            "no_show": "No-show",
            "pending": "Booked",
            "confirmed": "Booked (confirmed)",
        }.get(b.status, b.status)
        extra = f" — {b.cancellation_reason}" if b.cancellation_reason else ""
        items.append(
            TimelineItem(
                b.start_at,
                "booking",
                f"{label}: {b.service} with {b.staff or '—'} at {b.branch}{extra}",
            )
        )
    orders = orders[:limit]
    for o in orders:
        items.append(
            TimelineItem(
                o.created_at, "order", f"Order #{o.id}: {o.items} — total {_money(o.total_cents)}"
            )
        )
    order_ids = [o.id for o in orders]
    if order_ids:
        for p in session.exec(select(Payment).where(col(Payment.order_id).in_(order_ids))):
            items.append(
                TimelineItem(
                    _aware(p.at) or p.at,
                    "payment",
                    f"Payment {_money(p.amount_cents)} ({p.method}) on order #{p.order_id}",
                )
            )
        for r in session.exec(select(Refund).where(col(Refund.order_id).in_(order_ids))):
            items.append(
                TimelineItem(
                    _aware(r.at) or r.at,
                    "refund",
                    f"Refund {_money(r.amount_cents)} on order #{r.order_id}: {r.reason}",
                )
            )
    for n in notes:
        summary = markdown_summary(n.body, max_length=120)
        items.append(
            TimelineItem(n.created_at, "note", f"Note ({n.category or 'general'}): {summary}")
        )
    for e in entries[:limit]:
        if not money and e.order_id is not None:
            continue  # points earned on a payment or taken back on a refund
        items.append(
            TimelineItem(
                e.at,
                "points",
                f"{e.points:+d} {e.unit} ({e.action}) {e.reason or ''}".strip()
                + ("" if e.balance_after is None else f" → {e.balance_after}"),
            )
        )
    events = session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.customer_id) == customer_id)
        .order_by(col(AuditEvent.id).desc())
        .limit(limit)
    )
    names = audit_names(session)
    shown_bookings = {b.id for b in bookings}
    for ev in events:
        if ev.entity == "customer":
            items.append(TimelineItem(_aware(ev.at) or ev.at, "profile", describe_audit(ev, names)))
        elif ev.entity == "booking" and ev.action != "create":
            if staff_id is not None and ev.entity_id not in shown_bookings:
                continue  # another staff member's booking
            items.append(
                TimelineItem(_aware(ev.at) or ev.at, "booking", describe_booking_event(ev))
            )
        elif ev.entity == "order" and ev.action == "cancel" and money:
            items.append(
                TimelineItem(_aware(ev.at) or ev.at, "order", f"Order #{ev.entity_id} cancelled")
            )
    from frontdesk.data.message_views import message_items  # messages sent (issue 15)

    sent = message_items(session=session, customer_id=customer_id, limit=limit)
    items.extend(TimelineItem(at, "message", text) for at, text in sent)
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]


def describe_booking_event(event: AuditEvent) -> str:
    who = event.actor_name or "system"
    changes: dict[str, Any] = event.changes or {}
    verb = {
        "confirm": "confirmed",
        "complete": "completed",
        "cancel": "cancelled",
        "no_show": "marked no-show",
        "undo_no_show": "no-show undone",
        "reschedule": "rescheduled",
        "reopen": "re-opened (the customer's delete was undone)",
        "check_in": "checked in (the customer arrived)",
    }.get(event.action, event.action.replace("_", " "))
    text = f"Booking #{event.entity_id} {verb} by {who}"
    if "cancellation_reason" in changes:
        text += f": {changes['cancellation_reason'][1]}"
    if "start_at" in changes:
        text += f" to {value_text('start_at', changes['start_at'][1])}"
    return text


def audit_names(session: Session) -> Names:
    """The names of the categories, branches and staff an audit event may refer to by id."""
    from frontdesk.data.models import Category, CustomField, Service

    return Names(
        categories={
            c.id or 0: f"{c.symbol} {c.name}".strip() for c in session.exec(select(Category))
        },
        branches={b.id or 0: b.name for b in session.exec(select(Branch))},
        fields={f.key: f.label for f in session.exec(select(CustomField))},
        staff={s.id or 0: s.name for s in session.exec(select(Staff))},
        services={v.id or 0: v.name for v in session.exec(select(Service))},
    )


def describe_audit(event: AuditEvent, names: Names | None = None) -> str:
    """A customer's audit event as a person reads it ("Blocked by Rita: owes money")."""
    return describe_customer_event(event.action, event.actor_name, event.changes, names)


@dataclass(frozen=True)
class CustomValue:
    label: str
    type: str
    value: str


def custom_values(*, session: Session, customer_id: int) -> list[CustomValue]:
    """Active custom fields with this customer's values (empty string when unset)."""
    from frontdesk.data.models import CustomField, CustomFieldValue

    fields = session.exec(
        select(CustomField)
        .where(col(CustomField.archived).is_(False))
        .order_by(col(CustomField.position))
    ).all()
    values = {
        v.field_id: v
        for v in session.exec(
            select(CustomFieldValue).where(col(CustomFieldValue.customer_id) == customer_id)
        )
    }
    out = []
    for f in fields:
        v = values.get(f.id or 0)
        shown = ""
        if v is not None:
            if v.value_list:
                shown = ", ".join(v.value_list)
            elif v.value_bool is not None:
                shown = "yes" if v.value_bool else "no"
            elif v.value_date is not None:
                shown = v.value_date.isoformat()
            elif v.value_number is not None:
                shown = f"{v.value_number:g}"
            else:
                shown = v.value_text or ""
        out.append(CustomValue(label=f.label, type=f.type, value=shown))
    return out


@dataclass(frozen=True)
class ProfileData:
    customer: Customer
    stats: CustomerStats
    bookings: list[BookingRow]
    services: list[tuple[int, str]]
    orders: list[OrderRow]
    enrolments: list[EnrolmentRow]
    ledger: list[LedgerRow]
    notes: list[NoteRow]
    timeline: list[TimelineItem]
    custom: list[CustomValue]
    tags: list[str]
    category: str
    branch: str
    created_by: str
    note_categories: list[tuple[str, int]]


def load_profile(*, session: Session, customer_id: int, now: datetime | None = None) -> ProfileData:
    from frontdesk.data.customers import get_customer, resolve, tags_of
    from frontdesk.data.models import Category

    customer = resolve(
        session=session, customer=get_customer(session=session, customer_id=customer_id)
    )
    cid = customer.id or 0
    category = session.get(Category, customer.category_id) if customer.category_id else None
    branch = session.get(Branch, customer.home_branch_id) if customer.home_branch_id else None
    creator = session.get(Staff, customer.created_by_id) if customer.created_by_id else None
    bookings = list_bookings(session=session, customer_id=cid)
    orders = list_orders(session=session, customer_id=cid)
    notes = notes_of(session=session, customer_id=cid)
    entries = ledger(session=session, customer_id=cid)
    return ProfileData(
        customer=customer,
        stats=customer_stats(session=session, customer=customer, now=now),
        bookings=bookings,
        services=services_used(session=session, customer_id=cid),
        orders=orders,
        enrolments=enrolments(session=session, customer_id=cid),
        ledger=entries,
        notes=notes,
        timeline=timeline(
            session=session,
            customer_id=cid,
            bookings=bookings,
            orders=orders,
            notes=notes,
            entries=entries,
        ),
        custom=custom_values(session=session, customer_id=cid),
        tags=[t.name for t in tags_of(session=session, customer_id=cid)],
        category=f"{category.symbol} {category.name}" if category else "",
        branch=branch.name if branch else "",
        created_by=creator.name if creator else "",
        note_categories=[
            (c.name, c.id or 0)
            for c in session.exec(select(NoteCategory).order_by(col(NoteCategory.position)))
        ],
    )


# --------------------------------------------------------------------------- profile parts


def _live(session: Session, customer_id: int) -> Customer:
    """The customer, or the survivor when it was merged away."""
    from frontdesk.data.customers import get_customer, resolve

    return resolve(session=session, customer=get_customer(session=session, customer_id=customer_id))


@dataclass(frozen=True)
class ProfileHeader:
    """What the profile shows above its tabs."""

    customer: Customer
    category: str  # "<symbol> <name>", or "" without a category
    category_colour: str | None
    tags: list[str]
    alerts: list[str]  # bodies of the alert notes, pinned first


def load_profile_header(*, session: Session, customer_id: int) -> ProfileHeader:
    from frontdesk.data.customers import tags_of
    from frontdesk.data.models import Category

    customer = _live(session, customer_id)
    cid = customer.id or 0
    category = session.get(Category, customer.category_id) if customer.category_id else None
    return ProfileHeader(
        customer=customer,
        category=f"{category.symbol} {category.name}".strip() if category else "",
        category_colour=category.colour if category else None,
        tags=[t.name for t in tags_of(session=session, customer_id=cid)],
        alerts=[n.body for n in notes_of(session=session, customer_id=cid, alerts_only=True)],
    )


def load_overview_tab(
    *, session: Session, customer_id: int, now: datetime | None = None
) -> CustomerStats:
    return customer_stats(session=session, customer=_live(session, customer_id), now=now)


def note_categories(*, session: Session) -> list[tuple[str, int]]:
    """(name, id) of the note categories in their configured order."""
    return [
        (c.name, c.id or 0)
        for c in session.exec(
            select(NoteCategory).order_by(col(NoteCategory.position), col(NoteCategory.name))
        )
    ]


@dataclass(frozen=True)
class BookingsTab:
    rows: list[BookingRow]
    services: list[tuple[int, str]]  # services this customer ever booked, for the filter
    note_categories: list[tuple[str, int]]  # for a note on a booking


def load_bookings_tab(
    *,
    session: Session,
    customer_id: int,
    date_from: date | None = None,
    date_to: date | None = None,
    service_id: int | None = None,
    staff_id: int | None = None,
) -> BookingsTab:
    """``staff_id``: only that staff member's bookings (a therapist's own, see roles)."""
    cid = _live(session, customer_id).id or 0
    return BookingsTab(
        rows=list_bookings(
            session=session,
            customer_id=cid,
            date_from=date_from,
            date_to=date_to,
            service_id=service_id,
            staff_id=staff_id,
        ),
        services=services_used(session=session, customer_id=cid),
        note_categories=note_categories(session=session),
    )


def load_orders_tab(
    *, session: Session, customer_id: int, actor: Staff | None = None
) -> list[OrderRow]:
    require_money(actor)  # a therapist sees no orders
    return list_orders(session=session, customer_id=_live(session, customer_id).id or 0)


@dataclass(frozen=True)
class RewardsTab:
    enrolments: list[EnrolmentRow]
    ledger: list[LedgerRow]
    programs: list[tuple[str, int]]  # active programs the customer is not enrolled in
    # Entries a payment or refund made, left out for staff who see no money (a therapist):
    # the balance counts them, so the tab says how many are not listed.
    not_shown: int = 0


def load_rewards_tab(
    *, session: Session, customer_id: int, actor: Staff | None = None
) -> RewardsTab:
    """Enrolments, the ledger and the programs to enrol in, as ``actor`` may read them: a
    therapist's ledger has no entries made by payments or refunds (they tell what was paid)."""
    cid = _live(session, customer_id).id or 0
    enrolled = enrolments(session=session, customer_id=cid)
    money = sees_money(actor)
    not_shown = 0
    if not money:
        made_by_orders = sa_select(func.count()).select_from(PointsEntry)
        not_shown = session.execute(
            _of_customer(made_by_orders, cid).where(col(PointsEntry.order_id).is_not(None))
        ).scalar_one()
    taken = {e.program for e in enrolled}
    programs = session.exec(
        select(LoyaltyProgram)
        .where(col(LoyaltyProgram.active).is_(True))
        .order_by(col(LoyaltyProgram.name))
    ).all()
    return RewardsTab(
        enrolments=enrolled,
        # Nothing left out: the running totals tell nothing either.
        ledger=ledger(session=session, customer_id=cid, money=money or not not_shown),
        programs=[(p.name, p.id or 0) for p in programs if p.name not in taken],
        not_shown=not_shown,
    )


@dataclass(frozen=True)
class NotesTab:
    notes: list[NoteRow]
    categories: list[tuple[str, int]]


def load_notes_tab(*, session: Session, customer_id: int) -> NotesTab:
    cid = _live(session, customer_id).id or 0
    return NotesTab(
        notes=notes_of(session=session, customer_id=cid),
        categories=note_categories(session=session),
    )


def load_timeline_tab(
    *, session: Session, customer_id: int, actor: Staff | None = None
) -> list[TimelineItem]:
    """The customer's history as ``actor`` may read it: a therapist's has their own bookings
    and no orders, payments or refunds (as their Bookings tab and no Orders tab)."""
    return timeline(
        session=session,
        customer_id=_live(session, customer_id).id or 0,
        staff_id=own_bookings_only(actor),
        money=sees_money(actor),
    )


@dataclass(frozen=True)
class DetailsTab:
    customer: Customer
    custom: list[CustomValue]
    tags: list[str]
    category: str
    branch: str
    created_by: str


def load_details_tab(*, session: Session, customer_id: int) -> DetailsTab:
    from frontdesk.data.customers import tags_of
    from frontdesk.data.models import Category

    customer = _live(session, customer_id)
    cid = customer.id or 0
    category = session.get(Category, customer.category_id) if customer.category_id else None
    branch = session.get(Branch, customer.home_branch_id) if customer.home_branch_id else None
    creator = session.get(Staff, customer.created_by_id) if customer.created_by_id else None
    return DetailsTab(
        customer=customer,
        custom=custom_values(session=session, customer_id=cid),
        tags=[t.name for t in tags_of(session=session, customer_id=cid)],
        category=f"{category.symbol} {category.name}".strip() if category else "",
        branch=branch.name if branch else "",
        created_by=creator.name if creator else "",
    )


def booking_notes_of(*, session: Session, booking_id: int) -> list[str]:
    """The booking's own notes field and the notes written on it, oldest first."""
    from frontdesk.data.notes import booking_notes

    return [n.body for n in booking_notes(session=session, booking_id=booking_id)]

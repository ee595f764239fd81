"""The audit screen's read model: who changed what and when (admins), newest first.

``load_audit_page`` pages with a keyset on the event id (ids grow with time), so the first
page and the ten-thousandth cost the same; filters narrow by customer, staff member, action
and date. The whole log is for admins ("audit"); the same list for one customer too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, col, select

from frontdesk.data.audit_text import (
    DATA_EVENTS,
    SETTING_ITEMS,
    describe_data_event,
    describe_deletion_event,
    describe_request_event,
    describe_setting_event,
    describe_staff_event,
)
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.models import AuditEvent, Customer, Staff
from frontdesk.data.roles import require
from frontdesk.data.validation import check_text

PAGE = 200


@dataclass(frozen=True)
class AuditFilter:
    customer_id: int | None = None
    actor_id: int | None = None
    action: str | None = None
    entity: str | None = None
    since: date | None = None  # inclusive, the business's calendar day (UTC)
    until: date | None = None  # inclusive


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    who: str
    entity: str
    action: str
    customer_code: str | None
    customer_name: str | None
    what: str  # as a person reads it; user data (render as text)


@dataclass
class AuditPage:
    rows: list[AuditRow]
    # Pass ``next_before`` back to get the page after this one; None at the end of the log.
    next_before: int | None
    filter: AuditFilter = field(default_factory=AuditFilter)


@dataclass(frozen=True)
class AuditChoices:
    staff: list[tuple[int, str]]
    actions: list[str]
    entities: list[str]


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _setting_value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "—" if value is None or value == "" else str(value)


def _describe(event: AuditEvent, names: object) -> str:
    from frontdesk.data import profile

    if event.entity == "customer":
        return profile.describe_audit(event, names)  # type: ignore[arg-type]
    if event.entity == "booking":
        return profile.describe_booking_event(event)
    if event.entity in ("branch", "service"):
        from frontdesk.data.audit_text import describe_catalogue_event

        return describe_catalogue_event(
            event.entity,
            event.action,
            event.actor_name,
            event.changes,
            event.entity_id,
            names,  # type: ignore[arg-type]
        )
    if event.entity in SETTING_ITEMS:
        return describe_setting_event(
            event.entity, event.action, event.actor_name, event.changes, event.entity_id
        )
    if event.entity in DATA_EVENTS:
        return describe_data_event(event.action, event.actor_name, event.changes)
    if event.entity == "booking_request":
        return describe_request_event(
            event.action, event.actor_name, event.entity_id, event.changes
        )
    if event.entity == "deletion":
        return describe_deletion_event(event.action, event.actor_name, event.changes)
    if event.entity == "staff":
        return describe_staff_event(
            event.action,
            event.actor_name,
            event.entity_id,
            event.changes,
            names,  # type: ignore[arg-type]
        )
    changes = event.changes or {}
    if event.entity == "setting" and changes:
        # A business setting: "Setting reminder_hours: 24 → 12" (never a secret: not stored)
        return "; ".join(
            f"Setting {key}: {_setting_value(pair[0])} → {_setting_value(pair[1])}"
            for key, pair in sorted(changes.items())
        )
    shown = ", ".join(sorted(changes)[:6])
    return f"{event.entity.replace('_', ' ').capitalize()} #{event.entity_id} {event.action}" + (
        f" ({shown})" if shown else ""
    )


def _day(field_name: str, text: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(field_name, f"{text!r} is not a date (YYYY-MM-DD)") from None


def parse_filter(
    *,
    session: Session,
    actor_id: int | None = None,
    action: str | None = None,
    since: str = "",
    until: str = "",
    customer: str = "",
) -> AuditFilter:
    """The filters as typed: dates as YYYY-MM-DD, a customer by code (merged-away codes find
    the survivor). A bad value raises ``ValidationFailed`` naming the field."""
    from frontdesk.data import customers as svc
    from frontdesk.data.errors import NotFound

    check_text("customer", customer)
    first, last = _day("from", since), _day("to", until)
    if first and last and first > last:
        raise ValidationFailed("to", "is before the first day")
    customer_id = None
    if customer.strip():
        try:
            customer_id = svc.get_by_code(session=session, code=customer.strip()).id
        except NotFound:
            raise ValidationFailed(
                "customer", f"no customer has the code {customer.strip()!r}"
            ) from None
    return AuditFilter(
        customer_id=customer_id,
        actor_id=int(actor_id) if actor_id is not None else None,
        action=action or None,
        since=first,
        until=last,
    )


def load_audit_page(
    *,
    session: Session,
    viewer: Staff | None,
    where: AuditFilter | None = None,
    before: int | None = None,
    limit: int = PAGE,
) -> AuditPage:
    """One page of the audit log, newest first (events with ids below ``before``)."""
    from frontdesk.data.profile import audit_names

    require(viewer, "audit")
    where = where or AuditFilter()
    stmt = select(AuditEvent)
    if before is not None:
        stmt = stmt.where(col(AuditEvent.id) < before)
    if where.customer_id is not None:
        stmt = stmt.where(col(AuditEvent.customer_id) == where.customer_id)
    if where.actor_id is not None:
        stmt = stmt.where(col(AuditEvent.actor_id) == where.actor_id)
    if where.action:
        stmt = stmt.where(col(AuditEvent.action) == where.action)
    if where.entity:
        stmt = stmt.where(col(AuditEvent.entity) == where.entity)
    if where.since is not None:
        stmt = stmt.where(col(AuditEvent.at) >= _day_start(where.since))
    if where.until is not None and where.until < date.max:  # (9999-12-31: no day after it)
        stmt = stmt.where(col(AuditEvent.at) < _day_start(where.until + timedelta(days=1)))
    events = list(session.exec(stmt.order_by(col(AuditEvent.id).desc()).limit(limit + 1)))
    more = len(events) > limit
    events = events[:limit]
    ids = {e.customer_id for e in events if e.customer_id is not None}
    customers = (
        {c.id: c for c in session.exec(select(Customer).where(col(Customer.id).in_(ids)))}
        if ids
        else {}
    )
    names = audit_names(session)
    rows = []
    for e in events:
        customer = customers.get(e.customer_id) if e.customer_id is not None else None
        at = e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)
        rows.append(
            AuditRow(
                id=e.id or 0,
                at=at,
                who=e.actor_name or "system",
                entity=e.entity,
                action=e.action,
                customer_code=customer.code if customer else None,
                customer_name=customer.label if customer else None,
                what=_describe(e, names),
            )
        )
    return AuditPage(rows=rows, next_before=rows[-1].id if more and rows else None, filter=where)


def audit_choices(*, session: Session, viewer: Staff | None) -> AuditChoices:
    """What the filters offer: every staff member (active or not), actions and record kinds."""
    require(viewer, "audit")
    staff = [(s.id or 0, s.name) for s in session.exec(select(Staff).order_by(col(Staff.name)))]
    actions = sorted(a for a in session.exec(select(AuditEvent.action).distinct()) if a)
    entities = sorted(e for e in session.exec(select(AuditEvent.entity).distinct()) if e)
    return AuditChoices(staff=staff, actions=actions, entities=entities)

"""What the customer picker shows: enough context to tell two "Maria Garcia"s apart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from frontdesk.data import customers as svc
from frontdesk.data import profile
from frontdesk.data.directory import alert_customer_ids
from frontdesk.data.models import Category, Customer
from frontdesk.data.validation import format_phone


@dataclass(frozen=True)
class PickerMatch:
    id: int
    code: str
    name: str
    phone: str
    email: str
    last_visit: datetime | None
    category: str
    has_alert: bool
    blocked_reason: str | None
    status: str


@dataclass(frozen=True)
class PickedCustomer:
    match: PickerMatch
    alerts: list[str]
    version: int


def _match(
    customer: Customer, last: datetime | None, alert: bool, categories: dict[int, Category]
) -> PickerMatch:
    category = categories.get(customer.category_id or 0)
    return PickerMatch(
        id=customer.id or 0,
        code=customer.code,
        name=customer.label,
        phone=format_phone(customer.phone),
        email=customer.email or "",
        last_visit=last,
        category=f"{category.symbol} {category.name}" if category else "",
        has_alert=alert,
        blocked_reason=customer.blocked_reason if customer.blocked else None,
        status=customer.status,
    )


def _categories(session: Session) -> dict[int, Category]:
    from sqlmodel import select

    return {c.id or 0: c for c in session.exec(select(Category))}


def matches(*, session: Session, text: str, limit: int = 8) -> list[PickerMatch]:
    if not text.strip():
        return []
    found = svc.search(session=session, text=text, limit=limit)
    ids = [c.id or 0 for c in found]
    last = svc.last_visits(session=session, customer_ids=ids)
    alerts = alert_customer_ids(session=session, customer_ids=ids)
    categories = _categories(session)
    return [_match(c, last.get(c.id or 0), (c.id or 0) in alerts, categories) for c in found]


def picked(*, session: Session, customer_id: int) -> PickedCustomer:
    customer = svc.resolve(
        session=session, customer=svc.get_customer(session=session, customer_id=customer_id)
    )
    cid = customer.id or 0
    alerts = [n.body for n in profile.notes_of(session=session, customer_id=cid, alerts_only=True)]
    last = svc.last_visits(session=session, customer_ids=[cid]).get(cid)
    return PickedCustomer(
        match=_match(customer, last, bool(alerts), _categories(session)),
        alerts=alerts,
        version=customer.version,
    )

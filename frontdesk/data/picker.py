"""The customer picker of the booking and order screens, as use cases.

- :func:`matches`: what the picker lists for the typed text (enough context to tell two
  "Maria Garcia"s apart: code, phone, email, last visit, category, alert, blocked reason).
  A merged-away customer's code, phone or email lists the survivor, with a note saying so.
- :func:`picked`: the chosen customer with their alerts (merged-away customers resolve to the
  survivor).
- :func:`quick_add_customer`: the inline add-customer modal's save; returns the new customer
  ready to be linked, or raises ``DuplicateCustomer`` naming the customer who already has the
  phone or email.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session, select

from frontdesk.data import customers as svc
from frontdesk.data import profile
from frontdesk.data.directory import alert_customer_ids
from frontdesk.data.models import Category, CreatedVia, Customer, Staff
from frontdesk.data.settings import default_region
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
    # The category's stored colour (render it through a safe style: it may be any CSS name).
    category_colour: str = ""
    blocked: bool = False
    # Why it is listed when the text named a merged-away customer ("C-000123 was merged
    # into C-000045"); empty otherwise.
    note: str = ""


@dataclass(frozen=True)
class PickedCustomer:
    match: PickerMatch
    alerts: list[str]
    version: int


def _match(
    customer: Customer | svc.CustomerRow,
    last: datetime | None,
    alert: bool,
    categories: dict[int, Category],
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
        blocked_reason=(customer.blocked_reason or "no reason given") if customer.blocked else None,
        status=customer.status,
        category_colour=category.colour if category else "",
        blocked=customer.blocked,
    )


def _categories(session: Session) -> dict[int, Category]:
    return {c.id or 0: c for c in session.exec(select(Category))}


def matches(*, session: Session, text: str, limit: int = 8) -> list[PickerMatch]:
    """The live customers matching ``text`` (name, phone, email or code), best first."""
    if not text.strip():
        return []
    found = svc.search_rows(session=session, text=text, limit=limit)
    ids = [c.id for c in found]
    last = svc.last_visits(session=session, customer_ids=ids)
    alerts = alert_customer_ids(session=session, customer_ids=ids)
    categories = _categories(session)
    notes = svc.search_notes(session=session, text=text)
    return [
        replace(
            _match(c, last.get(c.id or 0), (c.id or 0) in alerts, categories),
            note=notes.get(c.id or 0, ""),
        )
        for c in found
    ]


def picked(*, session: Session, customer_id: int) -> PickedCustomer:
    """The chosen customer (a merged-away one resolves to the survivor) and their alerts."""
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


def quick_add_region(*, session: Session) -> str:
    """The business's phone region, which the inline add-customer modal starts with."""
    return default_region(session)


def quick_add_customer(
    *,
    session: Session,
    data: svc.CustomerCreate,
    created_via: CreatedVia | str = CreatedVia.BOOKING,
    actor: Staff | None = None,
) -> PickedCustomer:
    """Add a customer from the booking or order screen and return them, ready to link.

    Raises ``DuplicateCustomer`` (with the existing customer) when the phone or email is
    taken, and ``ValidationFailed`` next to the field for bad input.
    """
    customer = svc.create_customer(session=session, data=data, actor=actor, created_via=created_via)
    return picked(session=session, customer_id=customer.id or 0)

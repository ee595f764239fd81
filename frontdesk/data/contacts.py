"""A customer's secondary phones and emails (``ContactPoint``), as use cases.

- :func:`load_details`: the profile's Details tab with the secondary phones and emails.
- :func:`add_contact_point` / :func:`remove_contact_point`: the Details tab's add and remove
  (one transaction each; the caller commits).
- :func:`keep_on_merge`: a merge keeps every phone and email of the merged-away customers
  that the survivor does not keep as its primary ("merged from C-000123").

A secondary phone or email may not be another live customer's primary one (the same check
as the customer form: ``DuplicateCustomer`` names who has it), nor repeat the customer's own.
Search finds customers by them (``customers._search_plan``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from frontdesk.data import audit, profile
from frontdesk.data import customers as svc
from frontdesk.data.errors import DuplicateCustomer, NotFound, ValidationFailed
from frontdesk.data.models import ContactKind, ContactPoint, Customer, Staff
from frontdesk.data.roles import require
from frontdesk.data.settings import default_region
from frontdesk.data.validation import check_text, format_phone, normalise_email, normalise_phone

ADDED = "added"


@dataclass(frozen=True)
class ContactView:
    """One secondary phone or email as the Details tab shows it."""

    id: int
    kind: str
    value: str  # E.164 or the email's key
    shown: str  # the phone formatted, the email as typed
    origin: str
    created_at: datetime


@dataclass
class DetailsView:
    """The Details tab: the record's fields (``profile.DetailsTab``) and its secondaries."""

    details: profile.DetailsTab
    contacts: list[ContactView] = field(default_factory=list)
    # The region a phone typed without +country code is read in (the customer's mobile's,
    # else the business's).
    region: str = "US"


def _view(point: ContactPoint) -> ContactView:
    shown = format_phone(point.value) if point.kind == ContactKind.PHONE.value else None
    return ContactView(
        id=point.id or 0,
        kind=point.kind,
        value=point.value,
        shown=shown or point.display or point.value,
        origin=point.origin,
        created_at=point.created_at,
    )


def contacts_of(*, session: Session, customer_id: int) -> list[ContactView]:
    """The customer's secondary phones, then emails, oldest first."""
    stmt = (
        select(ContactPoint)
        .where(col(ContactPoint.customer_id) == customer_id)
        .order_by(col(ContactPoint.kind).desc(), col(ContactPoint.id))
    )
    return [_view(p) for p in session.exec(stmt)]


def load_details(*, session: Session, customer_id: int) -> DetailsView:
    details = profile.load_details_tab(session=session, customer_id=customer_id)
    return DetailsView(
        details=details,
        contacts=contacts_of(session=session, customer_id=customer_id),
        region=_region(session, details.customer),
    )


def _region(session: Session, customer: Customer) -> str:
    return customer.phone_country or default_region(session)


def parse_contact(text: str, region: str | None) -> tuple[ContactKind, str, str]:
    """(kind, stored value, display) of a typed phone or email; ``ValidationFailed`` else."""
    check_text("contact", text)
    raw = text.strip()
    if not raw:
        raise ValidationFailed("contact", "Type a phone number or an email address")
    if "@" in raw:
        try:
            email = normalise_email(raw, field="contact")
        except ValidationFailed as exc:
            raise ValidationFailed(
                "contact", f"This email address is not valid: {exc.message}"
            ) from None
        assert email is not None
        return ContactKind.EMAIL, email.key, email.display
    try:
        phone = normalise_phone(raw, region, field="contact")
    except ValidationFailed as exc:
        raise ValidationFailed("contact", f"This phone number {exc.message}") from None
    assert phone is not None
    return ContactKind.PHONE, phone.e164, phone.international


def _primaries(customer: Customer) -> set[tuple[str, str]]:
    out = {(ContactKind.PHONE.value, p) for p in (customer.phone, customer.other_phone) if p}
    if customer.email_key:
        out.add((ContactKind.EMAIL.value, customer.email_key))
    return out


def _existing(session: Session, customer_id: int) -> set[tuple[str, str]]:
    stmt = select(ContactPoint).where(col(ContactPoint.customer_id) == customer_id)
    return {(p.kind, p.value) for p in session.exec(stmt)}


def add_contact_point(
    *,
    session: Session,
    customer_id: int,
    text: str,
    actor: Staff | None,
    region: str | None = None,
) -> ContactView:
    """Add a secondary phone or email to a live customer (one transaction; caller commits).

    Refused: a value the customer already has, and another live customer's primary phone or
    email (``DuplicateCustomer`` names them, as the customer form does).
    """
    require(actor, "customers.write")
    customer = svc._load_for_update(session, customer_id)
    kind, value, display = parse_contact(text, region or _region(session, customer))
    if not customer.is_live:
        raise ValidationFailed("contact", f"{customer.code} is deleted or merged")
    label = "phone" if kind is ContactKind.PHONE else "email"
    if (kind.value, value) in _primaries(customer):
        raise ValidationFailed("contact", f"This is already {customer.code}'s own {label}")
    if (kind.value, value) in _existing(session, customer_id):
        raise ValidationFailed("contact", f"{customer.code} already has this {label}")
    found = svc.find_live_duplicate(
        session,
        phone=value if kind is ContactKind.PHONE else None,
        email_key=value if kind is ContactKind.EMAIL else None,
        exclude_id=customer_id,
    )
    if found is not None:
        raise DuplicateCustomer(found[0], found[1])
    point = ContactPoint(
        customer_id=customer_id,
        kind=kind.value,
        value=value,
        display=display if kind is ContactKind.EMAIL else None,
        origin=ADDED,
        created_by_id=actor.id if actor else None,
    )
    try:
        with session.begin_nested():
            session.add(point)
            session.flush()
    except IntegrityError:  # another terminal added it a moment ago
        raise ValidationFailed("contact", f"{customer.code} already has this {label}") from None
    audit.record(
        session=session,
        actor=actor,
        entity="customer",
        entity_id=customer_id,
        action="contact_add",
        customer_id=customer_id,
        changes={f"secondary {label}": (None, display)},
    )
    return _view(point)


def remove_contact_point(*, session: Session, contact_id: int, actor: Staff | None) -> ContactView:
    """Remove a secondary phone or email (one transaction; the caller commits)."""
    require(actor, "customers.write")
    point = session.get(ContactPoint, contact_id)
    if point is None:
        raise NotFound("secondary phone or email", contact_id)
    customer = svc._load_for_update(session, point.customer_id)
    if not customer.is_live:
        raise ValidationFailed("contact", f"{customer.code} is deleted or merged")
    view = _view(point)
    session.delete(point)
    session.flush()
    label = "phone" if point.kind == ContactKind.PHONE.value else "email"
    audit.record(
        session=session,
        actor=actor,
        entity="customer",
        entity_id=point.customer_id,
        action="contact_remove",
        customer_id=point.customer_id,
        changes={f"secondary {label}": (view.shown, None)},
    )
    return view


def _wanted(values: Any) -> list[tuple[ContactKind, str | None, str | None]]:
    """(kind, key, shown) of the two phones and the email in ``values`` (a mapping with the
    customer's column names, or a customer)."""
    get = values.get if isinstance(values, dict) else lambda name: getattr(values, name)
    wanted: list[tuple[ContactKind, str | None, str | None]] = [
        (ContactKind.PHONE, get(k), None) for k in ("phone", "other_phone")
    ]
    wanted.append((ContactKind.EMAIL, get("email_key"), get("email")))
    return wanted


def _keep(
    session: Session,
    *,
    customer_id: int,
    values: Any,
    have: set[tuple[str, str]],
    origin: str,
    actor: Staff | None,
    usable: Callable[[ContactKind, str], bool] = lambda kind, value: True,
) -> list[ContactPoint]:
    """Add the phones and email of ``values`` that ``customer_id`` does not ``have`` yet as
    secondaries with their ``origin`` (``have`` grows with them)."""
    added: list[ContactPoint] = []
    for kind, value, shown in _wanted(values):
        if not value or (kind.value, value) in have or not usable(kind, value):
            continue
        have.add((kind.value, value))
        point = ContactPoint(
            customer_id=customer_id,
            kind=kind.value,
            value=value,
            display=shown,
            origin=origin[:100],
            created_by_id=actor.id if actor else None,
        )
        session.add(point)
        added.append(point)
    return added


def keep_on_merge(
    *, session: Session, survivor: Customer, others: list[Customer], actor: Staff | None
) -> list[ContactView]:
    """After a merge: the others' secondaries move to the survivor, and every phone and email
    of theirs (and the survivor's own former ones) not kept as primary becomes a secondary
    with its origin. Returns the secondaries added."""
    assert survivor.id is not None
    kept = _primaries(survivor)
    for point in session.exec(
        select(ContactPoint).where(col(ContactPoint.customer_id) == survivor.id)
    ).all():
        if (point.kind, point.value) in kept:  # became the primary
            session.delete(point)
    session.flush()
    have = _existing(session, survivor.id)
    for other in others:
        stmt = select(ContactPoint).where(col(ContactPoint.customer_id) == other.id)
        for point in session.exec(stmt).all():
            if (point.kind, point.value) in kept | have:
                session.delete(point)
            else:
                point.customer_id = survivor.id
                session.add(point)
                have.add((point.kind, point.value))
    session.flush()
    have |= kept
    added: list[ContactPoint] = []
    for owner in others:
        origin = f"merged from {owner.code}"
        added += _keep(
            session, customer_id=survivor.id, values=owner, have=have, origin=origin, actor=actor
        )
    session.flush()
    return [_view(p) for p in added]


def keep_replaced(
    *,
    session: Session,
    survivor: Customer,
    before: dict[str, str | None],
    actor: Staff | None,
) -> list[ContactView]:
    """The survivor's own phones/email that the merge replaced by another's become
    secondaries ("replaced in merge")."""
    assert survivor.id is not None
    added = _keep(
        session,
        customer_id=survivor.id,
        values=before,
        have=_primaries(survivor) | _existing(session, survivor.id),
        origin=f"{survivor.code} before a merge",
        actor=actor,
    )
    session.flush()
    return [_view(p) for p in added]


def keep_incoming(
    *,
    session: Session,
    customer: Customer,
    values: dict[str, Any],
    origin: str,
    actor: Staff | None,
) -> list[ContactView]:
    """An imported row merged into ``customer``: its phones and email that did not become the
    customer's own stay as secondaries (``origin``), unless another live customer has them."""
    assert customer.id is not None

    def free(kind: ContactKind, value: str) -> bool:
        phone = kind is ContactKind.PHONE
        taken = svc.find_live_duplicate(
            session,
            phone=value if phone else None,
            email_key=None if phone else value,
            exclude_id=customer.id,
        )
        return taken is None

    added = _keep(
        session,
        customer_id=customer.id,
        values=values,
        have=_primaries(customer) | _existing(session, customer.id),
        origin=origin,
        actor=actor,
        usable=free,
    )
    session.flush()
    return [_view(p) for p in added]

"""Customer services: create, update, look up, status, block, delete/restore, search, page.

All functions are keyword-only, take an open ``Session`` and leave committing to the caller
(``with Session(engine) as s: ...; s.commit()``), so that a caller can group several calls
into one transaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import bindparam, exists, func, or_, tuple_, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from frontdesk.data import audit
from frontdesk.data.errors import DuplicateCustomer, NotFound, StaleRecord, ValidationFailed
from frontdesk.data.models import (
    Booking,
    BookingStatus,
    Branch,
    Category,
    ContactKind,
    ContactPoint,
    Counter,
    CreatedVia,
    Customer,
    CustomerStatus,
    CustomerTag,
    Gender,
    Staff,
    Tag,
    utcnow,
)
from frontdesk.data.roles import require
from frontdesk.data.settings import default_region, get_setting
from frontdesk.data.validation import (
    check_text,
    clean_line,
    clean_text,
    digits,
    email_key,
    fold,
    format_phone,
    normalise_email,
    normalise_phone,
    phone_search_variants,
    require_name,
    valid_region,
)

CODE_PREFIX = "C-"
TOP = "\U0010ffff"  # sorts after every other character: upper bound of prefix ranges

# Fields a person edits (the audit log reports changes of these).
EDITABLE_FIELDS = (
    "first_name",
    "last_name",
    "display_name",
    "email",
    "phone",
    "phone_country",
    "other_phone",
    "gender",
    "date_of_birth",
    "anniversary",
    "address",
    "city",
    "state",
    "postal_code",
    "country",
    "photo_path",
    "category_id",
    "home_branch_id",
    "status",
    "blocked",
    "blocked_reason",
    "consent_reminders",
    "consent_birthday",
    "consent_marketing",
    "consent_newsletter",
)


class CustomerCreate(BaseModel):
    """What a person types to add a customer. Raw text; the service validates it."""

    model_config = ConfigDict(extra="forbid")

    first_name: str | None = None
    last_name: str | None = None
    display_name: str | None = None
    email: str | None = None
    phone: str | None = None
    # Region used to read a phone typed without +country code (default: business setting).
    phone_country: str | None = None
    other_phone: str | None = None
    gender: str = Gender.UNSPECIFIED.value
    date_of_birth: date | None = None
    anniversary: date | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    photo_path: str | None = None
    category_id: int | None = None
    home_branch_id: int | None = None
    status: str = CustomerStatus.ACTIVE.value
    blocked: bool = False
    blocked_reason: str | None = None
    consent_reminders: bool = True
    consent_birthday: bool = False
    consent_marketing: bool = False
    consent_newsletter: bool = False


class CustomerUpdate(BaseModel):
    """A partial change: only the fields that were set are applied (None clears a field)."""

    model_config = ConfigDict(extra="forbid")

    first_name: str | None = None
    last_name: str | None = None
    display_name: str | None = None
    email: str | None = None
    phone: str | None = None
    phone_country: str | None = None
    other_phone: str | None = None
    gender: str | None = None
    date_of_birth: date | None = None
    anniversary: date | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    photo_path: str | None = None
    category_id: int | None = None
    home_branch_id: int | None = None
    status: str | None = None
    blocked: bool | None = None
    blocked_reason: str | None = None
    consent_reminders: bool | None = None
    consent_birthday: bool | None = None
    consent_marketing: bool | None = None
    consent_newsletter: bool | None = None


# --------------------------------------------------------------------------- validation


def _choice(value: Any, allowed: type[Gender] | type[CustomerStatus], field: str) -> str:
    text = (clean_text(value) or "").lower()
    options = [v.value for v in allowed]
    if text not in options:
        raise ValidationFailed(field, f"must be one of {', '.join(options)}")
    return text


_FIRST_YEAR = date.today().year


def _check_date(value: date | None, field: str, label: str) -> date | None:
    if value is None:
        return None
    # (A date before this process's first year is in the past: no clock read for most.)
    if value.year >= _FIRST_YEAR and value > date.today():
        raise ValidationFailed(field, f"{label} cannot be in the future")
    if value.year < 1900:
        raise ValidationFailed(field, f"{label} is before 1900")
    return value


def _fk(
    session: Session | None, model: type[Any], value: int | None, field: str, label: str
) -> int | None:
    if value is None:
        return None
    if session is None or session.get(model, value) is None:
        raise ValidationFailed(field, f"no such {label} ({value})")
    return value


def _check_controls(values: dict[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, str):
            check_text(key, value)


def normalise_values(
    *, session: Session | None, values: dict[str, Any], region: str | None
) -> dict[str, Any]:
    """Validate and normalise raw field values into column values (only the keys given).

    The session is only needed to check category and branch ids. Every text value is one
    line without control characters (customers have no multi-line fields).
    """
    _check_controls(values)
    out: dict[str, Any] = {}
    phone_region = valid_region(values.get("phone_country")) or region
    if (
        "phone_country" in values
        and values["phone_country"]
        and not valid_region(values["phone_country"])
    ):
        raise ValidationFailed(
            "phone_country", f"{values['phone_country']!r} is not a country code"
        )
    for key, value in values.items():
        if key == "first_name":
            out[key] = require_name(value)
        elif key == "last_name":
            out[key] = clean_text(value)
            if out[key] and len(out[key]) > 100:
                raise ValidationFailed(key, "Last name is too long (100 characters at most)")
        elif key == "display_name":
            out[key] = clean_text(value)
            if out[key] and len(out[key]) > 200:
                raise ValidationFailed(key, "Display name is too long (200 characters at most)")
        elif key == "phone":
            phone = normalise_phone(value, phone_region, field="phone")
            out["phone"] = phone.e164 if phone else None
            out["phone_country"] = phone.region if phone else None
        elif key == "phone_country":
            continue  # derived from the phone itself
        elif key == "other_phone":
            other = normalise_phone(value, phone_region, field="other_phone")
            out[key] = other.e164 if other else None
        elif key == "email":
            email = normalise_email(value)
            out["email"] = email.display if email else None
            out["email_key"] = email.key if email else None
        elif key == "gender":
            out[key] = _choice(value or Gender.UNSPECIFIED.value, Gender, key)
        elif key == "status":
            out[key] = _choice(value or CustomerStatus.ACTIVE.value, CustomerStatus, key)
        elif key == "date_of_birth":
            out[key] = _check_date(value, key, "Date of birth")
        elif key == "anniversary":
            out[key] = _check_date(value, key, "Anniversary")
        elif key == "country":
            text = clean_text(value)
            if text and not valid_region(text):
                raise ValidationFailed(key, f"{text!r} is not a two-letter country code")
            out[key] = valid_region(text) if text else None
        elif key in {"address", "city", "state", "postal_code", "photo_path", "blocked_reason"}:
            out[key] = clean_text(value)
        elif key == "category_id":
            out[key] = _fk(session, Category, value, key, "category")
        elif key == "home_branch_id":
            out[key] = _fk(session, Branch, value, key, "branch")
        elif key in {
            "blocked",
            "consent_reminders",
            "consent_birthday",
            "consent_marketing",
            "consent_newsletter",
        }:
            out[key] = bool(value)
        else:  # pragma: no cover - guarded by the pydantic models
            raise ValidationFailed(key, "unknown field")
    for key, value in out.items():
        limit = _MAX_LENGTH.get(key)
        if isinstance(value, str) and limit is not None and len(value) > limit:
            raise ValidationFailed(key, f"is too long ({limit} characters at most)")
    return out


# Column lengths of the customer's text columns (PostgreSQL refuses longer values).
_MAX_LENGTH: dict[str, int] = {
    column.key: column.type.length
    for column in Customer.__table__.columns  # type: ignore[attr-defined]
    if isinstance(getattr(column.type, "length", None), int)
}


def _check_whole(session: Session, customer: Customer) -> None:
    if not customer.phone and not customer.email_key:
        raise ValidationFailed("phone", "Enter a phone number or an email address")
    if not customer.phone and get_setting(session=session, key="require_phone"):
        raise ValidationFailed("phone", "A phone number is required")
    if customer.blocked and not customer.blocked_reason:
        raise ValidationFailed("blocked_reason", "Say why the customer is blocked")
    if not customer.blocked:
        customer.blocked_reason = None


def compute_keys(
    *,
    first_name: str | None,
    last_name: str | None,
    display_name: str | None,
    code: str,
    email_key: str | None,
    phone: str | None,
    other_phone: str | None,
) -> tuple[str, str, str]:
    """(sort_key, name_key, search_text) of a customer: folded, for ordering and search."""
    sort_key, name_key, before, after = key_parts(
        first_name=first_name,
        last_name=last_name,
        display_name=display_name,
        email_key=email_key,
        phone=phone,
        other_phone=other_phone,
    )
    return sort_key, name_key, search_text_of(before, code, after)


def key_parts(
    *,
    first_name: str | None,
    last_name: str | None,
    display_name: str | None,
    email_key: str | None,
    phone: str | None,
    other_phone: str | None,
) -> tuple[str, str, str, str]:
    """(sort_key, name_key, the search text before the code, after it): all but the code,
    so that an import's worker processes can fold them before the writer gives codes."""
    first = fold(first_name)
    last = fold(last_name)
    sort_key = f"{last} {first}".strip() if last else first
    name_key = f"{first} {last}".strip()
    before = " | ".join(p for p in (name_key, fold(display_name)) if p)
    after = " | ".join(p for p in (email_key or "", digits(phone), digits(other_phone)) if p)
    return sort_key, name_key, before, after


def search_text_of(before: str, code: str, after: str) -> str:
    """The search text from :func:`key_parts`' two parts and the customer's code."""
    code = code.lower()
    if before and code and after:  # (most customers: an import writes 100,000 a minute)
        return f"{before} | {code} | {after}"
    return " | ".join(p for p in (before, code, after) if p)


def search_keys(customer: Customer) -> None:
    """Recompute the folded sort/search columns from the customer's fields."""
    customer.sort_key, customer.name_key, customer.search_text = compute_keys(
        first_name=customer.first_name,
        last_name=customer.last_name,
        display_name=customer.display_name,
        code=customer.code,
        email_key=customer.email_key,
        phone=customer.phone,
        other_phone=customer.other_phone,
    )


# --------------------------------------------------------------------------- codes


_COUNTER = Counter.__table__  # type: ignore[attr-defined]
# Core, not the ORM's bulk update: that cost 1.5 ms a call (an import calls it every batch).
_ALLOCATE = (
    update(_COUNTER)
    .where(_COUNTER.c.name == "customer")
    .values(value=_COUNTER.c.value + bindparam("count"))
    .returning(_COUNTER.c.value)
)


def allocate_codes(session: Session, count: int = 1) -> list[str]:
    """Reserve ``count`` consecutive customer codes (atomic, safe across processes)."""
    last = session.execute(_ALLOCATE, {"count": count}).scalar_one_or_none()
    held = session.identity_map.get(session.identity_key(Counter, "customer"))
    if held is not None:
        session.expire(held)  # the row changed underneath it
    if last is None:
        session.add(Counter(name="customer", value=count))
        session.flush()
        last = count
    return [format_code(n) for n in range(last - count + 1, last + 1)]


def format_code(number: int) -> str:
    return f"{CODE_PREFIX}{number:06d}"


def normalise_code(text: str) -> str | None:
    """'c-123', 'C000123', '123' -> 'C-000123'; None when it is not code-like."""
    raw = text.strip().upper().replace(" ", "")
    if raw.startswith("C-"):
        raw = raw[2:]
    elif raw.startswith("C"):
        raw = raw[1:]
    if not raw.isdigit() or len(raw) > 9:
        return None
    return format_code(int(raw))


# --------------------------------------------------------------------------- lookups


def live() -> Any:
    return (col(Customer.deleted_at).is_(None)) & (col(Customer.merged_into_id).is_(None))


def find_live_duplicate(
    session: Session,
    *,
    phone: str | None,
    email_key: str | None,
    exclude_id: int | None,
) -> tuple[str, Customer] | None:
    """The live customer (other than ``exclude_id``) with this phone or email, as ("phone" |
    "email", customer): their own first, else as a second one (a merged-away customer's,
    kept by the merge, is the same person's). Both are unique among live customers."""
    checks: list[tuple[str, Any]] = []
    if phone:
        checks.append(("phone", col(Customer.phone) == phone))
    if email_key:
        checks.append(("email", col(Customer.email_key) == email_key))
    for field_name, condition in checks:
        stmt = select(Customer).where(condition, live())
        if exclude_id is not None:
            stmt = stmt.where(col(Customer.id) != exclude_id)
        found = session.exec(stmt.limit(1)).first()
        if found is not None:
            return field_name, found
    for field_name, kind, value in (
        ("phone", ContactKind.PHONE, phone),
        ("email", ContactKind.EMAIL, email_key),
    ):
        if not value:
            continue
        stmt = (
            select(Customer)
            .join(ContactPoint, col(ContactPoint.customer_id) == col(Customer.id))
            .where(col(ContactPoint.kind) == kind.value, col(ContactPoint.value) == value, live())
        )
        if exclude_id is not None:
            stmt = stmt.where(col(Customer.id) != exclude_id)
        found = session.exec(stmt.order_by(col(Customer.id)).limit(1)).first()
        if found is not None:
            return field_name, found
    return None


def get_customer(*, session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer", customer_id)
    return customer


def resolve(*, session: Session, customer: Customer) -> Customer:
    """Follow merge tombstones to the surviving customer."""
    seen = set()
    while customer.merged_into_id is not None and customer.id not in seen:
        seen.add(customer.id)
        customer = get_customer(session=session, customer_id=customer.merged_into_id)
    return customer


def get_by_code(*, session: Session, code: str, follow_merges: bool = True) -> Customer:
    normal = normalise_code(code) or code.strip().upper()
    customer = session.exec(select(Customer).where(col(Customer.code) == normal)).first()
    if customer is None:
        raise NotFound("customer", code)
    return resolve(session=session, customer=customer) if follow_merges else customer


def tags_of(*, session: Session, customer_id: int) -> list[Tag]:
    stmt = (
        select(Tag)
        .join(CustomerTag, col(CustomerTag.tag_id) == col(Tag.id))
        .where(col(CustomerTag.customer_id) == customer_id)
        .order_by(col(Tag.name))
    )
    return list(session.exec(stmt))


# --------------------------------------------------------------------------- writes


def _flush_unique(session: Session, customer: Customer) -> None:
    """Flush inside a savepoint; a unique-index violation (another desk took the phone or
    email since it was checked) becomes DuplicateCustomer.

    A customer being edited was changed before the savepoint began, and SQLAlchemy flushes
    it as the savepoint begins, outside it: a violation then breaks the caller's transaction
    (or its savepoint), which the caller rolls back as the action is refused. So the other
    customer is looked up in a session of its own.
    """
    phone, email_key, own_id = customer.phone, customer.email_key, customer.id
    try:
        with session.begin_nested():
            session.add(customer)
            session.flush()
    except IntegrityError as exc:
        from frontdesk.data.db import read_engine

        bind = session.get_bind()
        with Session(read_engine(bind.engine)) as apart:  # (a reader: no writer's turn)
            found = find_live_duplicate(apart, phone=phone, email_key=email_key, exclude_id=own_id)
            if found is not None:
                raise DuplicateCustomer(found[0], found[1]) from None
        raise ValidationFailed("customer", f"rejected by the database: {exc.orig}") from None


def _audit_values(customer: Customer, fields: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(customer, name) for name in fields}


def create_customer(
    *,
    session: Session,
    data: CustomerCreate,
    actor: Staff | None = None,
    created_via: CreatedVia | str = CreatedVia.MANUAL,
    region: str | None = None,
) -> Customer:
    """Add a customer (the caller commits). Needs "customers.write"; only the demo generator
    adds customers as no one."""
    if CreatedVia(created_via) is not CreatedVia.DEMO:
        require(actor, "customers.write")
    values = normalise_values(
        session=session,
        values=data.model_dump(),
        region=valid_region(region) or default_region(session),
    )
    customer = Customer(
        code="",
        created_via=CreatedVia(created_via).value,
        created_by_id=actor.id if actor else None,
        **values,
    )
    _check_whole(session, customer)
    found = find_live_duplicate(
        session, phone=customer.phone, email_key=customer.email_key, exclude_id=None
    )
    if found is not None:
        raise DuplicateCustomer(found[0], found[1])
    customer.code = allocate_codes(session, 1)[0]
    search_keys(customer)
    _flush_unique(session, customer)
    assert customer.id is not None
    after = _audit_values(customer, EDITABLE_FIELDS)
    audit.record(
        session=session,
        actor=actor,
        entity="customer",
        entity_id=customer.id,
        action="create",
        customer_id=customer.id,
        changes={k: (None, v) for k, v in after.items() if v not in (None, False, "")},
    )
    from frontdesk.data.messaging.consent_log import record_changes

    record_changes(
        session=session,
        customer_id=customer.id,
        changes={k: (False, v) for k, v in after.items() if k.startswith("consent_") and v},
        actor=actor,
        source="import" if CreatedVia(created_via) is CreatedVia.IMPORT else None,
    )
    return customer


def _load_for_update(session: Session, customer_id: int) -> Customer:
    stmt = select(Customer).where(col(Customer.id) == customer_id).with_for_update()
    customer = session.exec(stmt).first()
    if customer is None:
        raise NotFound("customer", customer_id)
    session.refresh(customer)
    return customer


def _apply(
    session: Session,
    customer: Customer,
    values: dict[str, Any],
    *,
    actor: Staff | None,
    action: str,
) -> Customer:
    before = _audit_values(customer, EDITABLE_FIELDS)
    # Nothing is flushed until the checks have answered: a changed phone or email would meet
    # the unique index first (an IntegrityError instead of "X already has this phone"), from
    # any query on the way (the duplicate check's, the require-phone setting's).
    with session.no_autoflush:
        for key, value in values.items():
            setattr(customer, key, value)
        _check_whole(session, customer)
        after = _audit_values(customer, EDITABLE_FIELDS)
        changes = {k: (before[k], after[k]) for k in EDITABLE_FIELDS if before[k] != after[k]}
        if not changes:
            return customer
        found = None
        if {"phone", "email"} & changes.keys() and customer.is_live:
            found = find_live_duplicate(
                session,
                phone=customer.phone if "phone" in changes else None,
                email_key=customer.email_key if "email" in changes else None,
                exclude_id=customer.id,
            )
    if found is not None:
        raise DuplicateCustomer(found[0], found[1])
    customer.version += 1
    customer.updated_at = utcnow()
    search_keys(customer)
    _flush_unique(session, customer)
    assert customer.id is not None
    audit.record(
        session=session,
        actor=actor,
        entity="customer",
        entity_id=customer.id,
        action=action,
        customer_id=customer.id,
        changes=changes,
    )
    from frontdesk.data.messaging.consent_log import record_changes

    record_changes(session=session, customer_id=customer.id, changes=changes, actor=actor)
    return customer


def update_customer(
    *,
    session: Session,
    customer_id: int,
    data: CustomerUpdate,
    expected_version: int,
    actor: Staff | None = None,
    region: str | None = None,
) -> Customer:
    """Apply the fields set in ``data``. Raises StaleRecord when the version moved on."""
    customer = _load_for_update(session, customer_id)
    if customer.version != expected_version:
        raise StaleRecord(customer)
    if not customer.is_live:
        raise ValidationFailed("customer", f"{customer.code} is deleted or merged")
    raw = data.model_dump(exclude_unset=True)
    _check_controls(raw)
    if "phone" not in raw and "phone_country" in raw:
        raw.pop("phone_country")
    values = normalise_values(
        session=session, values=raw, region=valid_region(region) or default_region(session)
    )
    return _apply(session, customer, values, actor=actor, action="update")


def set_status(
    *, session: Session, customer_id: int, status: CustomerStatus | str, actor: Staff | None = None
) -> Customer:
    require(actor, "customers.write")
    customer = _load_for_update(session, customer_id)
    value = _choice(status, CustomerStatus, "status")
    return _apply(session, customer, {"status": value}, actor=actor, action="status")


def block_customer(
    *, session: Session, customer_id: int, reason: str, actor: Staff | None = None
) -> Customer:
    require(actor, "customers.write")
    text = clean_line("blocked_reason", reason)
    if not text:
        raise ValidationFailed("blocked_reason", "Say why the customer is blocked")
    customer = _load_for_update(session, customer_id)
    return _apply(
        session, customer, {"blocked": True, "blocked_reason": text}, actor=actor, action="block"
    )


def unblock_customer(*, session: Session, customer_id: int, actor: Staff | None = None) -> Customer:
    require(actor, "customers.write")
    customer = _load_for_update(session, customer_id)
    return _apply(
        session, customer, {"blocked": False, "blocked_reason": None}, actor=actor, action="unblock"
    )


def delete_customer(*, session: Session, customer_id: int, actor: Staff | None = None) -> Customer:
    """Soft delete: the record stays (with its history) but leaves the directory and search.

    The desk deletes through ``delete_flow`` (which also cancels future bookings)."""
    require(actor, "customers.delete")
    customer = _load_for_update(session, customer_id)
    if customer.deleted_at is not None:
        return customer
    customer.deleted_at = utcnow()
    customer.version += 1
    customer.updated_at = customer.deleted_at
    session.add(customer)
    session.flush()
    assert customer.id is not None
    audit.record(
        session=session,
        actor=actor,
        entity="customer",
        entity_id=customer.id,
        action="delete",
        customer_id=customer.id,
        changes={"deleted_at": (None, customer.deleted_at)},
    )
    return customer


def restore_customer(*, session: Session, customer_id: int, actor: Staff | None = None) -> Customer:
    """Undo a soft delete. Fails with DuplicateCustomer if someone else took the phone/email."""
    require(actor, "customers.delete")
    customer = _load_for_update(session, customer_id)
    if customer.deleted_at is None:
        return customer
    if customer.erased_at is not None:
        raise ValidationFailed(
            "customer", f"{customer.code} was erased: there is nothing to restore"
        )
    found = find_live_duplicate(
        session, phone=customer.phone, email_key=customer.email_key, exclude_id=customer.id
    )
    if found is not None:
        raise DuplicateCustomer(found[0], found[1])
    # Their second phones and emails too: unique among live customers like their own ones.
    points = select(ContactPoint).where(col(ContactPoint.customer_id) == customer.id)
    for point in session.exec(points.order_by(col(ContactPoint.id))):
        phone = point.kind == ContactKind.PHONE.value
        found = find_live_duplicate(
            session,
            phone=point.value if phone else None,
            email_key=None if phone else point.value,
            exclude_id=customer.id,
        )
        if found is not None:
            shown = format_phone(point.value) if phone else (point.display or point.value)
            other = found[1]
            raise ValidationFailed(
                "phone" if phone else "email",
                f"{other.code} {other.full_name} has {shown} now, this customer's second "
                f"{'phone' if phone else 'email'}: remove it from one of them first",
            )
    before = customer.deleted_at
    customer.deleted_at = None
    customer.version += 1
    customer.updated_at = utcnow()
    _flush_unique(session, customer)
    assert customer.id is not None
    audit.record(
        session=session,
        actor=actor,
        entity="customer",
        entity_id=customer.id,
        action="restore",
        customer_id=customer.id,
        changes={"deleted_at": (before, None)},
    )
    return customer


# --------------------------------------------------------------------------- directory & search


@dataclass(frozen=True)
class DirectoryFilter:
    """Filters of the directory; every one is optional and they combine with AND."""

    status: str | None = None
    blocked: bool | None = None
    branch_id: int | None = None
    category_id: int | None = None
    tag_id: int | None = None
    visited_within_days: int | None = None
    not_visited_for_days: int | None = None
    customer_ids: frozenset[int] | None = None
    extra: tuple[Any, ...] = field(default=())
    # Only the top N customers by 12-month value, listed highest first (without search
    # text): ``top_ids`` once their ids are read (the directory reads them once per page),
    # else ``top_condition``, the SQL condition that finds them (``AdvancedFilter.applied``).
    rank_by_value: int | None = None
    top_ids: tuple[int, ...] | None = field(default=None, compare=False)
    top_condition: Any = field(default=None, compare=False)
    # Reference time of the activity filters (default: the moment the query runs).
    now: datetime | None = field(default=None, compare=False)
    # ``extra`` holds a condition on what customers bought or spent (packages purchased):
    # only staff who see money may use it (``AdvancedFilter.applied`` says so).
    reads_money: bool = False

    @property
    def uses_money(self) -> bool:
        """Whether these filters select customers by what they spent or bought."""
        return self.reads_money or self.rank_by_value is not None or self.top_ids is not None

    def conditions(self, now: datetime | None = None) -> list[Any]:
        conds: list[Any] = [live()]
        if self.status:
            conds.append(col(Customer.status) == self.status)
        if self.blocked is not None:
            conds.append(col(Customer.blocked).is_(self.blocked))
        if self.branch_id is not None:
            conds.append(col(Customer.home_branch_id) == self.branch_id)
        if self.category_id is not None:
            conds.append(col(Customer.category_id) == self.category_id)
        if self.tag_id is not None:
            conds.append(
                exists().where(
                    col(CustomerTag.customer_id) == col(Customer.id),
                    col(CustomerTag.tag_id) == self.tag_id,
                )
            )
        now = now or self.now or utcnow()
        if self.visited_within_days is not None:
            conds.append(_visited_since(now - timedelta(days=self.visited_within_days)))
        if self.not_visited_for_days is not None:
            conds.append(~_visited_since(now - timedelta(days=self.not_visited_for_days)))
        if self.customer_ids is not None:
            conds.append(col(Customer.id).in_(sorted(self.customer_ids)))
        if self.top_ids is not None:
            conds.append(col(Customer.id).in_(self.top_ids))
        elif self.top_condition is not None:
            conds.append(self.top_condition)
        elif self.rank_by_value is not None:
            # Without either, the ranking would be silently dropped: every customer listed.
            raise ValueError(
                "rank_by_value needs top_ids or top_condition (AdvancedFilter.applied)"
            )
        conds.extend(self.extra)
        return conds

    @property
    def is_empty(self) -> bool:
        return replace(self, now=None) == DirectoryFilter()


def _visited_since(since: datetime) -> Any:
    return exists().where(
        col(Booking.customer_id) == col(Customer.id),
        col(Booking.status) == BookingStatus.COMPLETED.value,
        col(Booking.start_at) >= since,
    )


@dataclass(frozen=True)
class PageCursor:
    sort_key: str
    id: int


def directory_page(
    *,
    session: Session,
    filters: DirectoryFilter | None = None,
    after: PageCursor | None = None,
    limit: int = 100,
) -> list[Customer]:
    """One page of the directory in (last name, first name, id) order, keyset-paginated."""
    stmt = select(Customer).where(*(filters or DirectoryFilter()).conditions())
    if after is not None:
        stmt = stmt.where(
            tuple_(col(Customer.sort_key), col(Customer.id)) > (after.sort_key, after.id)
        )
    stmt = stmt.order_by(col(Customer.sort_key), col(Customer.id)).limit(limit)
    return list(session.exec(stmt))


def cursor_of(customer: Customer) -> PageCursor:
    assert customer.id is not None
    return PageCursor(customer.sort_key, customer.id)


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _substring_select(session: Session, needles: Sequence[str]) -> Any:
    """Ids of customers whose search text contains any needle (a subquery to test with IN)."""
    if session.get_bind().dialect.name == "sqlite":
        from sqlalchemy import column, table

        fts = table("customer_fts", column("rowid"), column("customer_fts"))
        match = " OR ".join(_fts_phrase(n) for n in needles)
        return sa_select(fts.c.rowid).where(fts.c.customer_fts.op("MATCH")(match))
    return sa_select(col(Customer.id)).where(
        or_(*(col(Customer.search_text).contains(n, autoescape=True) for n in needles))
    )


def _substring_ids(
    session: Session, needles: Sequence[str], limit: int, conds: list[Any]
) -> list[int]:
    """Ids of customers whose search text contains any needle (index-backed, unranked)."""
    needles = [n for n in needles if len(n) >= 3]
    if not needles:
        return []
    if session.get_bind().dialect.name == "sqlite":
        from sqlalchemy import column, table

        fts = table("customer_fts", column("rowid"), column("customer_fts"))
        match = " OR ".join(_fts_phrase(n) for n in needles)
        matched = sa_select(fts.c.rowid).where(fts.c.customer_fts.op("MATCH")(match)).subquery()
        stmt = (
            sa_select(col(Customer.id))
            .join(matched, matched.c.rowid == col(Customer.id))
            .where(*conds)
            .limit(limit)
        )
    else:
        stmt = (
            sa_select(col(Customer.id))
            .where(or_(*(col(Customer.search_text).contains(n, autoescape=True) for n in needles)))
            .where(*conds)
            .limit(limit)
        )
    return [row[0] for row in session.execute(stmt)]


def _prefix(column: Any, text: str) -> tuple[Any, Any]:
    """(column, condition) of a prefix range that an index on ``column`` answers in order."""
    return column, (column >= text) & (column < text + TOP)


@dataclass(frozen=True)
class ExactKeys:
    """What a query can be matched exactly against: a code, a phone (E.164), an email key."""

    code: str | None
    phone: str | None
    email: str | None


def exact_keys(text: str, region: str) -> ExactKeys:
    raw = text.strip()
    phone: str | None = None
    if bool(digits(raw)) and not any(ch.isalpha() for ch in raw.replace("@", "")):
        try:
            parsed = normalise_phone(raw, region)
        except ValidationFailed:
            parsed = None
        phone = parsed.e164 if parsed else None
    return ExactKeys(
        code=normalise_code(raw), phone=phone, email=email_key(raw) if "@" in raw else None
    )


@dataclass(frozen=True)
class MergedMatch:
    """A query that named a merged-away customer (its code, phone or email): the survivor."""

    old_code: str
    survivor_id: int
    survivor_code: str
    matched: str  # "code", "phone" or "email"

    @property
    def note(self) -> str:
        return f"{self.old_code} was merged into {self.survivor_code}"


def merged_matches(
    *, session: Session, text: str, region: str | None = None, limit: int = 20
) -> list[MergedMatch]:
    """The live survivors of the merged-away customers whose code, phone or email is
    ``text`` exactly (a chain of merges is followed to its end; a deleted survivor is left
    out)."""
    raw = text.strip()
    if not raw:
        return []
    keys = exact_keys(raw, search_region(session, region))
    return _merged_matches(session, keys, limit)


def _merged_matches(session: Session, keys: ExactKeys, limit: int = 20) -> list[MergedMatch]:
    conds: list[tuple[str, str]] = []
    if keys.code:
        conds.append(("code", "code = :code"))
    if keys.phone:
        conds.append(("phone", "phone = :phone"))
        conds.append(("phone", "other_phone = :phone"))
    if keys.email:
        conds.append(("email", "email_key = :email"))
    if not conds:
        return []
    # One statement for every kind of key. No ORDER BY inside: it would make SQLite scan the
    # table in id order (other_phone has no index of its own; the partial index of the
    # tombstones answers instead).
    parts = [
        f"SELECT * FROM (SELECT {i} AS part, id, code, merged_into_id FROM customer"
        f" WHERE {condition} AND merged_into_id IS NOT NULL LIMIT :limit) AS m{i}"
        for i, (_matched, condition) in enumerate(conds)
    ]
    params = {"code": keys.code, "phone": keys.phone, "email": keys.email, "limit": limit}
    found = _raw(session, " UNION ALL ".join(parts), params)
    out: list[MergedMatch] = []
    seen: set[int] = set()
    for part, (matched, _condition) in enumerate(conds):
        for _part, old_id, old_code, merged_into in sorted(r for r in found if r[0] == part):
            if old_id in seen:
                continue
            seen.add(old_id)
            survivor = _survivor(session, old_id, merged_into)
            if survivor is not None:
                out.append(MergedMatch(old_code, survivor[0], survivor[1], matched))
    return out[:limit]


def _survivor(session: Session, old_id: int, merged_into: int) -> tuple[int, str] | None:
    """(id, code) of the live customer a tombstone was merged into, following a chain of
    merges (None: the survivor was deleted)."""
    seen = {old_id}
    while True:
        rows = _raw(
            session,
            "SELECT id, code, merged_into_id, deleted_at FROM customer WHERE id = :id",
            {"id": merged_into},
        )
        if not rows:
            raise NotFound("customer", merged_into)
        cid, code, onward, deleted = rows[0]
        if onward is None or cid in seen:
            return (cid, code) if onward is None and deleted is None else None
        seen.add(cid)
        merged_into = onward


def search_notes(*, session: Session, text: str, region: str | None = None) -> dict[int, str]:
    """Why a search listed a customer it did not match directly: ``{survivor id: "C-000123
    was merged into C-000045"}`` for a merged-away code, phone or email."""
    notes: dict[int, list[str]] = {}
    for m in merged_matches(session=session, text=text, region=region):
        notes.setdefault(m.survivor_id, []).append(m.note)
    return {cid: "; ".join(lines) for cid, lines in notes.items()}


def _secondary(kind: ContactKind, value: str) -> Any:
    """Customers with this secondary phone or email."""
    owners = sa_select(col(ContactPoint.customer_id)).where(
        col(ContactPoint.kind) == kind.value, col(ContactPoint.value) == value
    )
    return col(Customer.id).in_(owners)


# Typed digits a part of a secondary phone is looked for with (fewer match too many).
SECONDARY_PART_DIGITS = 5


def _secondary_parts(plan: _Plan, raw: str) -> tuple[str, list[str]] | None:
    """(kind, LIKE-free needles) a query looks for in the secondary phones or emails: a part
    of a phone (5 digits or more) or of an email (typed with an @ or a dot), as any part of
    a primary phone or email finds its customer. Secondaries are not in ``search_text``;
    the contact_point table is scanned, so names (no @, no digits) never are."""
    text = raw.strip()
    if plan.phone_like:
        needles = [v for v in plan.variants if len(v) >= SECONDARY_PART_DIGITS]
        return (ContactKind.PHONE.value, needles) if needles else None
    if len(text) >= 3 and " " not in text and ("@" in text or "." in text):
        return ContactKind.EMAIL.value, [text.casefold()]
    return None


def _secondary_part(kind: str, needles: list[str]) -> Any:
    """Customers with a secondary phone or email containing one of ``needles``."""
    owners = sa_select(col(ContactPoint.customer_id)).where(
        col(ContactPoint.kind) == kind,
        or_(*(col(ContactPoint.value).contains(n, autoescape=True) for n in needles)),
    )
    return col(Customer.id).in_(owners)


def _search_plan(
    session: Session, text: str, region: str
) -> tuple[list[Any], list[Any], list[str], list[Any]]:
    """Split a query into exact conditions, prefix conditions, substring needles.

    The exact conditions also hold the customers with this secondary phone or email and
    the survivors of merged-away customers with this code, phone or email.
    """
    raw = text.strip()
    plan = _plan(raw, region)
    folded = plan.folded
    exact: list[Any] = []
    keys = plan.keys
    if keys.code:
        exact.append(col(Customer.code) == keys.code)
    if keys.email:
        exact.append(col(Customer.email_key) == keys.email)
        exact.append(_secondary(ContactKind.EMAIL, keys.email))
    phone_like = plan.phone_like
    variants = list(plan.variants)
    if phone_like and keys.phone:
        exact.append(col(Customer.phone) == keys.phone)
        exact.append(_secondary(ContactKind.PHONE, keys.phone))
    parts = _secondary_parts(plan, raw)
    if parts:
        exact.append(_secondary_part(*parts))
    survivors = sorted({m.survivor_id for m in _merged_matches(session, keys)})
    if survivors:
        exact.append(col(Customer.id).in_(survivors))
    prefix = [_prefix(col(Customer.name_key), folded), _prefix(col(Customer.sort_key), folded)]
    short_prefix: list[Any] = []
    if len(folded) < 3:
        short_prefix = [
            _prefix(col(Customer.email_key), folded),
            _prefix(col(Customer.code), raw.upper()),
        ]
        if phone_like and variants:
            short_prefix.append(_prefix(col(Customer.phone), "+" + variants[0]))
    needles = [folded, *variants] if folded else variants
    return exact, prefix + short_prefix, needles, []


# --------------------------------------------------------------------------- fast search
#
# A search runs on every keystroke (directory, command palette, picker), so its SQL is
# written once per query shape and run on the driver's own connection: building
# SQLAlchemy statements, their cache keys and ORM objects cost 10-20x the queries
# themselves (issue 12). The statements are those of the expression-built search (the
# filtered one below), so both give the same customers in the same order.

_LIVE = "c.deleted_at IS NULL AND c.merged_into_id IS NULL"
_ROW_SQL = (
    "c.id, c.code, c.first_name, c.last_name, c.display_name, c.email, c.phone, c.gender,"
    " c.category_id, c.home_branch_id, c.status, c.blocked, c.blocked_reason, c.version"
)


@dataclass(frozen=True, slots=True)
class CustomerRow:
    """A live customer as a list shows them (search results), read without an ORM object."""

    id: int
    code: str
    first_name: str
    last_name: str | None
    display_name: str | None
    email: str | None
    phone: str | None
    gender: str
    category_id: int | None
    home_branch_id: int | None
    status: str
    blocked: bool
    blocked_reason: str | None
    version: int

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def label(self) -> str:
        return self.display_name or self.full_name

    @property
    def is_live(self) -> bool:
        return True

    @classmethod
    def of(cls, c: Customer) -> CustomerRow:
        assert c.id is not None
        return cls(
            c.id,
            c.code,
            c.first_name,
            c.last_name,
            c.display_name,
            c.email,
            c.phone,
            c.gender,
            c.category_id,
            c.home_branch_id,
            c.status,
            bool(c.blocked),
            c.blocked_reason,
            c.version,
        )


def _row(values: Sequence[Any]) -> CustomerRow:
    v = list(values)
    v[11] = bool(v[11])
    return CustomerRow(*v)


_PARAM = re.compile(r"(?<![:\w]):(\w+)")


@lru_cache(maxsize=256)
def _driver_sql(sql: str, dialect: str) -> str:
    """``:name`` parameters in the driver's own style (sqlite3 reads them as they are)."""
    if dialect == "sqlite":
        return sql
    return _PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))


def _raw(session: Session, sql: str, params: dict[str, Any]) -> list[Any]:
    """Rows of one statement run on the session's connection (in its transaction)."""
    conn = session.connection()
    dialect = conn.dialect.name
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_driver_sql(sql, dialect), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def search_region(session: Session, region: str | None = None) -> str:
    """The region a search reads phones in: the one given, else the business setting (read
    with one small statement: a setting changed at another desk counts at once)."""
    chosen = valid_region(region)
    if chosen:
        return chosen
    rows = _raw(session, "SELECT value FROM setting WHERE key = :key", {"key": "default_region"})
    value = rows[0][0] if rows else None
    if isinstance(value, str) and value.startswith('"'):
        value = json.loads(value)  # SQLite keeps the JSON text
    return valid_region(value if isinstance(value, str) else None) or "US"


@dataclass(frozen=True)
class _Plan:
    """What a typed query is matched against (pure: remembered per text and region)."""

    keys: ExactKeys
    folded: str
    phone_like: bool
    variants: tuple[str, ...]


@lru_cache(maxsize=1024)
def _plan(raw: str, region: str) -> _Plan:
    phone_like = bool(digits(raw)) and not any(ch.isalpha() for ch in raw.replace("@", ""))
    return _Plan(
        keys=exact_keys(raw, region),
        folded=fold(raw),
        phone_like=phone_like,
        variants=tuple(phone_search_variants(raw, region)) if phone_like else (),
    )


def _like(needle: str) -> str:
    """A LIKE pattern for "contains ``needle``" (escape character: /)."""
    return "%" + needle.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


@dataclass(frozen=True)
class _Terms:
    """The SQL of a query's match groups (unfiltered search of live customers)."""

    exact: list[str]  # OR-ed: exact code, phone, email (also secondary) and merged-away
    params: dict[str, Any]  # of ``exact``
    prefix: list[tuple[str, str]]  # (column, start) ranges, best first
    needles: list[str]  # substrings (3 characters or more)


def _terms(session: Session, plan: _Plan, raw: str) -> _Terms:
    keys = plan.keys
    params: dict[str, Any] = {}
    exact: list[str] = []
    if keys.code:
        exact.append("c.code = :code")
        params["code"] = keys.code
    if keys.email:
        exact.append("c.email_key = :email")
        exact.append(
            "c.id IN (SELECT customer_id FROM contact_point"
            " WHERE kind = :email_kind AND value = :email)"
        )
        params["email"], params["email_kind"] = keys.email, ContactKind.EMAIL.value
    if plan.phone_like and keys.phone:
        exact.append("c.phone = :phone")
        exact.append(
            "c.id IN (SELECT customer_id FROM contact_point"
            " WHERE kind = :phone_kind AND value = :phone)"
        )
        params["phone"], params["phone_kind"] = keys.phone, ContactKind.PHONE.value
    parts = _secondary_parts(plan, raw)
    if parts:
        kind, needles = parts
        names = [f"cp{i}" for i in range(len(needles))]
        contains = " OR ".join(f"value LIKE :{n} ESCAPE '/'" for n in names)
        exact.append(
            "c.id IN (SELECT customer_id FROM contact_point"
            f" WHERE kind = :part_kind AND ({contains}))"
        )
        params["part_kind"] = kind
        params.update({n: _like(v) for n, v in zip(names, needles, strict=True)})
    survivors = sorted({m.survivor_id for m in _merged_matches(session, keys)})
    if survivors:
        names = [f"s{i}" for i in range(len(survivors))]
        exact.append(f"c.id IN ({', '.join(':' + n for n in names)})")
        params.update(zip(names, survivors, strict=True))
    folded = plan.folded
    prefix = [("name_key", folded), ("sort_key", folded)]
    if len(folded) < 3:
        prefix += [("email_key", folded), ("code", raw.upper())]
        if plan.phone_like and plan.variants:
            prefix.append(("phone", "+" + plan.variants[0]))
    needles = [n for n in ([folded, *plan.variants] if folded else plan.variants) if len(n) >= 3]
    return _Terms(exact, params, prefix, needles)


def _substring_sql(session: Session, needles: list[str]) -> tuple[str, dict[str, Any]]:
    """(join or condition, parameters) of "contains any needle": the full-text index on
    SQLite, the trigram index (LIKE) on PostgreSQL."""
    if session.get_bind().dialect.name == "sqlite":
        match = " OR ".join(_fts_phrase(n) for n in needles)
        return "c.id IN (SELECT rowid FROM customer_fts WHERE customer_fts MATCH :match)", {
            "match": match
        }
    names = [f"p{i}" for i in range(len(needles))]
    contains = " OR ".join(f"c.search_text LIKE :{n} ESCAPE '/'" for n in names)
    return f"({contains})", {n: _like(v) for n, v in zip(names, needles, strict=True)}


def _search_rows_fast(session: Session, plan: _Plan, raw: str, limit: int) -> list[CustomerRow]:
    """The search of live customers without other filters (see :func:`search`)."""
    terms = _terms(session, plan, raw)
    exact, prefix = terms.exact, terms.prefix
    params = {**terms.params, "limit": limit}
    found: dict[int, CustomerRow] = {}

    def take(rows: list[Any]) -> None:
        for values in rows:
            if values[0] not in found and len(found) < limit:
                found[values[0]] = _row(values)

    if exact:
        take(
            _raw(
                session,
                f"SELECT {_ROW_SQL} FROM customer c WHERE ({' OR '.join(exact)})"
                f" AND {_LIVE} LIMIT :limit",
                params,
            )
        )
    for column, start in prefix:
        if len(found) >= limit:
            break
        # Ordered by the column of the range, then the id (equal names come in one order on
        # every database): the index gives the order (no sort; SQLite's index ends in the id).
        take(
            _raw(
                session,
                f"SELECT {_ROW_SQL} FROM customer c WHERE c.{column} >= :lo"
                f" AND c.{column} < :hi AND {_LIVE} ORDER BY c.{column}, c.id LIMIT :limit",
                {"lo": start, "hi": start + TOP, "limit": limit},
            )
        )
    needles = terms.needles
    if len(found) < limit and needles:
        # Unranked substring matches; the first ``limit + found`` of them, as the
        # expression-built search reads them, less those already listed.
        wanted = limit - len(found)
        size = limit + len(found)
        if session.get_bind().dialect.name == "sqlite":
            sql = (
                f"SELECT {_ROW_SQL} FROM customer c JOIN (SELECT rowid FROM customer_fts"
                " WHERE customer_fts MATCH :match) AS m ON m.rowid = c.id"
                f" WHERE {_LIVE} LIMIT :size"
            )
            more = {"match": " OR ".join(_fts_phrase(n) for n in needles), "size": size}
        else:
            names = [f"p{i}" for i in range(len(needles))]
            contains = " OR ".join(f"c.search_text LIKE :{n} ESCAPE '/'" for n in names)
            sql = f"SELECT {_ROW_SQL} FROM customer c WHERE ({contains}) AND {_LIVE} LIMIT :size"
            more = {n: _like(needle) for n, needle in zip(names, needles, strict=True)}
            more["size"] = size
        rows = [r for r in _raw(session, sql, more) if r[0] not in found][:wanted]
        take(rows)
    return list(found.values())[:limit]


def _first_rows_fast(session: Session, limit: int) -> list[CustomerRow]:
    """The first live customers in directory order (an empty search)."""
    return [
        _row(r)
        for r in _raw(
            session,
            f"SELECT {_ROW_SQL} FROM customer c WHERE {_LIVE} ORDER BY c.sort_key, c.id"
            " LIMIT :limit",
            {"limit": limit},
        )
    ]


_BY_IDS = select(Customer).where(col(Customer.id).in_(bindparam("ids", expanding=True)))


def customers_by_ids(*, session: Session, ids: Sequence[int]) -> list[Customer]:
    """Full customers in the order of ``ids`` (one statement; unknown ids left out)."""
    if not ids:
        return []
    loaded = {c.id: c for c in session.exec(_BY_IDS, params={"ids": list(ids)})}
    return [loaded[i] for i in ids if i in loaded]


def search_rows(
    *,
    session: Session,
    text: str,
    limit: int = 50,
    filters: DirectoryFilter | None = None,
    region: str | None = None,
) -> list[CustomerRow]:
    """What :func:`search` finds, as list rows (the columns a list shows): for the lists
    that search as you type (command palette, customer picker)."""
    if filters is not None and not filters.is_empty:
        found = _search_filtered(session, text, limit, filters, region)
        return [CustomerRow.of(c) for c in found]
    raw = text.strip()
    if not raw:
        return _first_rows_fast(session, limit)
    return _search_rows_fast(session, _plan(raw, search_region(session, region)), raw, limit)


def search(
    *,
    session: Session,
    text: str,
    limit: int = 50,
    filters: DirectoryFilter | None = None,
    region: str | None = None,
) -> list[Customer]:
    """Customers matching ``text`` anywhere in name, email, code or phone.

    Best matches first: exact code/phone/email, then names starting with the text, then any
    other substring match. Each group is an index-backed query with a limit, so no match is
    ever scored. The same customers as :func:`search_rows`, as full objects.
    """
    if filters is not None and not filters.is_empty:
        return _search_filtered(session, text, limit, filters, region)
    rows = search_rows(session=session, text=text, limit=limit, region=region)
    return customers_by_ids(session=session, ids=[r.id for r in rows])


def _search_filtered(
    session: Session,
    text: str,
    limit: int,
    filters: DirectoryFilter,
    region: str | None,
) -> list[Customer]:
    """The search with filters, built from their SQL expressions."""
    raw = text.strip()
    if not raw:
        return directory_page(session=session, filters=filters, limit=limit)
    conds = filters.conditions()
    region = search_region(session, region)
    exact, prefix, needles, _ = _search_plan(session, raw, region)
    found: dict[int, Customer] = {}

    def take(stmt: Any) -> None:
        for customer in session.exec(stmt):
            if customer.id not in found and len(found) < limit:
                found[customer.id] = customer

    if exact:
        take(select(Customer).where(or_(*exact), *conds).limit(limit))
    for column, condition in prefix:
        if len(found) >= limit:
            break
        # Order by the column of the range (then the id: one order for equal names on every
        # database), so that the index gives the order (no sort).
        take(
            select(Customer)
            .where(condition, *conds)
            .order_by(column, col(Customer.id))
            .limit(limit)
        )
    if len(found) < limit and any(len(n) >= 3 for n in needles):
        ids = _substring_ids(session, needles, limit + len(found), conds)
        missing = [i for i in ids if i not in found][: limit - len(found)]
        if missing:
            rows = {
                c.id: c for c in session.exec(select(Customer).where(col(Customer.id).in_(missing)))
            }
            for i in missing:
                if i in rows:
                    found[i] = rows[i]
    return list(found.values())[:limit]


def count_matches(
    *,
    session: Session,
    text: str,
    filters: DirectoryFilter | None = None,
    cap: int = 1000,
    region: str | None = None,
) -> int:
    """How many customers match (stops counting at ``cap + 1``: show "1,000+").

    One statement: every match group OR-ed, each customer counted once."""
    raw = text.strip()
    if (filters is not None and not filters.is_empty) or not raw:
        conds = (filters or DirectoryFilter()).conditions()
        stmt = sa_select(col(Customer.id)).where(*conds)
        if raw:
            region = search_region(session, region)
            exact, prefix, needles, _ = _search_plan(session, raw, region)
            either = [*exact, *(cond for _column, cond in prefix)]
            needles = [n for n in needles if len(n) >= 3]
            if needles:
                either.append(col(Customer.id).in_(_substring_select(session, needles)))
            stmt = stmt.where(or_(*either))
        inner = stmt.limit(cap + 1).subquery()
        return int(session.execute(sa_select(func.count()).select_from(inner)).scalar_one())
    plan = _plan(raw, search_region(session, region))
    terms = _terms(session, plan, raw)
    either = list(terms.exact)
    params: dict[str, Any] = {**terms.params, "cap": cap + 1}
    for i, (column, start) in enumerate(terms.prefix):
        either.append(f"(c.{column} >= :lo{i} AND c.{column} < :hi{i})")
        params[f"lo{i}"], params[f"hi{i}"] = start, start + TOP
    if terms.needles:
        condition, more = _substring_sql(session, terms.needles)
        either.append(condition)
        params.update(more)
    sql = (
        f"SELECT COUNT(*) FROM (SELECT c.id FROM customer c WHERE ({' OR '.join(either)})"
        f" AND {_LIVE} LIMIT :cap) AS n"
    )
    return int(_raw(session, sql, params)[0][0])


def last_visits(
    *, session: Session, customer_ids: Sequence[int], staff_id: int | None = None
) -> dict[int, datetime]:
    """Last completed booking per customer, for a page of customers (with ``staff_id``: with
    that staff member, a therapist's own)."""
    if not customer_ids:
        return {}
    whose = [] if staff_id is None else [col(Booking.staff_id) == staff_id]
    stmt = (
        sa_select(col(Booking.customer_id), func.max(col(Booking.start_at)))
        .where(
            col(Booking.customer_id).in_(list(customer_ids)),
            col(Booking.status) == BookingStatus.COMPLETED.value,
            *whose,
        )
        .group_by(col(Booking.customer_id))
    )
    out: dict[int, datetime] = {}
    for cid, when in session.execute(stmt):
        if isinstance(when, str):  # pragma: no cover - aggregate on SQLite returns text
            when = datetime.fromisoformat(when)
        out[cid] = when
    return out

"""The catalogue a business books from: its branches and its services (with their types).

Admins (``roles.require(actor, "settings")``) add, change, deactivate and reactivate them;
everyone reads them. Each write is one call in the caller's session (the caller commits), is
audited (entity ``branch`` / ``service``) and raises ``ValidationFailed(field, message)`` for
a value it cannot take:

- names are single lines (no control characters), unique without regard to case or accents
  (the booking API and ``frontdesk bookings add`` find a service or a branch by its name, so
  two that read alike could not be told apart), and not a bare number (read as an id there);
- a service has a type (category: "Hair", made when new), a duration of 5 to 720 minutes and
  a price as money text ("45.00", "45", "45,50"), 0 to 1,000,000.00;
- a branch's phone is checked and stored as E.164 (the business's country for numbers
  written without +code).

A deactivated branch or service is no longer offered for new bookings (the booking form, the
API and ``bookings.create_booking`` take active ones only); bookings made before keep it. It
keeps its name, so adding another one of that name is refused: reactivate it instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from frontdesk.data import audit
from frontdesk.data.errors import NotFound, ValidationFailed
from frontdesk.data.models import Branch, Service, ServiceType, Staff
from frontdesk.data.orders import parse_money
from frontdesk.data.roles import require
from frontdesk.data.settings import default_region
from frontdesk.data.validation import clean_line, fold, normalise_phone

MIN_MINUTES = 5
MAX_MINUTES = 720
MAX_PRICE_CENTS = 100_000_000  # 1,000,000.00: far above any service, inside a 32-bit column

__all__ = [
    "MAX_MINUTES",
    "MAX_PRICE_CENTS",
    "MIN_MINUTES",
    "BranchRow",
    "Catalogue",
    "ServiceRow",
    "add_branch",
    "add_service",
    "change_branch",
    "change_service",
    "find_branch",
    "find_service",
    "load_catalogue",
    "money_text",
    "parse_minutes",
    "parse_price",
    "set_branch_active",
    "set_service_active",
]


# --------------------------------------------------------------------------- read model


@dataclass(frozen=True)
class BranchRow:
    id: int
    name: str
    address: str
    phone: str  # E.164 as stored ("" when none)
    active: bool


@dataclass(frozen=True)
class ServiceRow:
    id: int
    type_name: str
    name: str
    duration_minutes: int
    price_cents: int
    active: bool

    @property
    def price(self) -> str:
        return money_text(self.price_cents)


@dataclass(frozen=True)
class Catalogue:
    branches: list[BranchRow]
    services: list[ServiceRow]
    types: list[str]


def money_text(cents: int) -> str:
    """Cents as the price is typed and shown: 4500 -> "45.00", 123456 -> "1,234.56"."""
    return f"{cents / 100:,.2f}"


def load_catalogue(*, session: Session, include_inactive: bool = True) -> Catalogue:
    """Every branch (by name) and service (by type, then name), inactive ones included unless
    asked otherwise: what the "Branches & services" screen and ``frontdesk ... list`` show."""
    branch_q = select(Branch).order_by(col(Branch.name))
    service_q = (
        select(Service, ServiceType)
        .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
        .order_by(col(ServiceType.name), col(Service.name))
    )
    if not include_inactive:
        branch_q = branch_q.where(col(Branch.active).is_(True))
        service_q = service_q.where(col(Service.active).is_(True))
    branches = [
        BranchRow(b.id or 0, b.name, b.address or "", b.phone or "", b.active)
        for b in session.exec(branch_q)
    ]
    services = [
        ServiceRow(s.id or 0, t.name, s.name, s.duration_minutes, s.price_cents, s.active)
        for s, t in session.exec(service_q)
    ]
    types = [t.name for t in session.exec(select(ServiceType).order_by(col(ServiceType.name)))]
    return Catalogue(branches, services, types)


def _find(session: Session, model: Any, text: str, what: str) -> Any:
    raw = clean_line("name", text) or ""
    if not raw:
        raise ValidationFailed("name", f"name the {what}")
    rows = list(session.exec(select(model)))
    if raw.isascii() and raw.isdigit():
        by_id = [r for r in rows if r.id == int(raw)]
        if by_id:
            return by_id[0]
    key = fold(raw)
    same = [r for r in rows if fold(r.name) == key]
    if len(same) == 1:
        return same[0]
    raise NotFound(what, repr(raw))


def find_branch(*, session: Session, text: str) -> Branch:
    """A branch (active or not) by id or by name (without regard to case or accents)."""
    return _find(session, Branch, text, "branch")


def find_service(*, session: Session, text: str) -> Service:
    """A service (active or not) by id or by name (without regard to case or accents)."""
    return _find(session, Service, text, "service")


# --------------------------------------------------------------------------- checks


def _name(value: str | None, what: str, *, field: str = "name") -> str:
    clean = clean_line(field, value, max_length=100)
    if not clean:
        raise ValidationFailed(field, f"{what} name is required")
    if clean.isdigit():
        raise ValidationFailed(
            field, f"a {what.lower()} name needs a letter (a number alone is read as an id)"
        )
    return clean


def _unique(session: Session, model: Any, name: str, what: str, own_id: int | None) -> None:
    key = fold(name)
    for row in session.exec(select(model)):
        if row.id != own_id and fold(row.name) == key:
            hint = "" if getattr(row, "active", True) else " (deactivated: reactivate it instead)"
            raise ValidationFailed("name", f"a {what} called {row.name!r} already exists{hint}")


def parse_minutes(value: int | str) -> int:
    """A duration in whole minutes, 5 to 720 (``ValidationFailed`` on field "duration")."""
    if isinstance(value, bool):
        raise ValidationFailed("duration", "enter the minutes, e.g. 45")
    if isinstance(value, int):
        minutes = value
    else:
        text = (clean_line("duration", value) or "").lower()
        for suffix in ("minutes", "mins", "min"):
            if text.endswith(suffix):
                text = text[: -len(suffix)].strip()
                break
        if not text:
            raise ValidationFailed("duration", "enter the minutes, e.g. 45")
        if not (text.isascii() and text.isdigit()) or len(text) > 6:
            raise ValidationFailed("duration", f"{text!r} is not a number of minutes (e.g. 45)")
        minutes = int(text)
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise ValidationFailed(
            "duration", f"must be between {MIN_MINUTES} and {MAX_MINUTES} minutes (12 hours)"
        )
    return minutes


def parse_price(value: str) -> int:
    """A price as money text ("45.00") in cents (``ValidationFailed`` on field "price")."""
    text = clean_line("price", value) or ""
    cents = parse_money(text, "price")
    if cents > MAX_PRICE_CENTS:
        raise ValidationFailed("price", f"is too high (at most {money_text(MAX_PRICE_CENTS)})")
    return cents


def _phone(session: Session, value: str | None) -> str | None:
    clean = clean_line("phone", value)
    if not clean:
        return None
    found = normalise_phone(clean, default_region(session))
    return found.e164 if found else None


def _service_type(session: Session, value: str | None) -> ServiceType:
    """The type called ``value`` (without regard to case), made when new."""
    clean = clean_line("type", value, max_length=100)
    if not clean:
        raise ValidationFailed("type", "choose a type (e.g. Hair, Nails, Massage)")
    key = fold(clean)
    for stype in session.exec(select(ServiceType)):
        if fold(stype.name) == key:
            return stype
    stype = ServiceType(name=clean)
    session.add(stype)
    session.flush()
    return stype


def _flush(session: Session, what: str, name: str) -> None:
    """Flush; two desks adding the same name at once: the second one is told so."""
    try:
        session.flush()
    except IntegrityError:
        raise ValidationFailed("name", f"a {what} called {name!r} already exists") from None


def _record(
    session: Session,
    actor: Staff | None,
    entity: str,
    entity_id: int,
    action: str,
    changes: dict[str, tuple[Any, Any]],
) -> None:
    audit.record(
        session=session,
        actor=actor,
        entity=entity,
        entity_id=entity_id,
        action=action,
        changes=changes,
    )


# --------------------------------------------------------------------------- branches


def add_branch(
    *,
    session: Session,
    name: str,
    address: str | None = None,
    phone: str | None = None,
    actor: Staff | None,
) -> Branch:
    """Add a branch (admins). The one way a branch is made."""
    clean = _name(name, "Branch")
    address_text = clean_line("address", address, max_length=300)
    phone_text = _phone(session, phone)
    require(actor, "settings")
    _unique(session, Branch, clean, "branch", None)
    branch = Branch(name=clean, address=address_text, phone=phone_text)
    session.add(branch)
    _flush(session, "branch", clean)
    _record(
        session,
        actor,
        "branch",
        branch.id or 0,
        "create",
        {"name": (None, clean), "address": (None, address_text), "phone": (None, phone_text)},
    )
    return branch


def _branch(session: Session, branch_id: int) -> Branch:
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("branch", branch_id)
    return branch


def change_branch(
    *,
    session: Session,
    branch_id: int,
    actor: Staff | None,
    name: str | None = None,
    address: str | None = None,
    phone: str | None = None,
) -> Branch:
    """Rename a branch or change its address or phone (None: unchanged; "" clears the
    address or the phone). Bookings keep pointing at it, so they show the new name."""
    require(actor, "settings")
    branch = _branch(session, branch_id)
    changes: dict[str, tuple[Any, Any]] = {}
    if name is not None:
        clean = _name(name, "Branch")
        if clean != branch.name:
            _unique(session, Branch, clean, "branch", branch.id)
            changes["name"] = (branch.name, clean)
    if address is not None:
        address_text = clean_line("address", address, max_length=300)
        if address_text != branch.address:
            changes["address"] = (branch.address, address_text)
    if phone is not None:
        phone_text = _phone(session, phone)
        if phone_text != branch.phone:
            changes["phone"] = (branch.phone, phone_text)
    if not changes:
        return branch
    for field_name, (_, after) in changes.items():
        setattr(branch, field_name, after)
    session.add(branch)
    _flush(session, "branch", branch.name)
    _record(session, actor, "branch", branch.id or 0, "update", changes)
    return branch


def _set_active(
    session: Session, actor: Staff | None, model: Any, row_id: int, active: bool
) -> Any:
    """Deactivate or reactivate a branch or a service (audited, naming it)."""
    require(actor, "settings")
    what = model.__tablename__
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(what, row_id)
    if row.active == active:
        return row
    row.active = active
    session.add(row)
    session.flush()
    _record(
        session,
        actor,
        what,
        row.id or 0,
        "reactivate" if active else "deactivate",
        {"name": (row.name, row.name), "active": (not active, active)},
    )
    return row


def set_branch_active(
    *, session: Session, branch_id: int, active: bool, actor: Staff | None
) -> Branch:
    """Deactivate a branch (no new bookings there; bookings made keep it) or reactivate it."""
    branch: Branch = _set_active(session, actor, Branch, branch_id, active)
    return branch


# --------------------------------------------------------------------------- services


def add_service(
    *,
    session: Session,
    type_name: str,
    name: str,
    duration_minutes: int | str,
    price: str,
    actor: Staff | None,
) -> Service:
    """Add a service (admins) under its type ("Hair": made when new), bookable at once."""
    clean = _name(name, "Service")
    minutes = parse_minutes(duration_minutes)
    cents = parse_price(price)
    require(actor, "settings")
    _unique(session, Service, clean, "service", None)
    stype = _service_type(session, type_name)
    service = Service(
        service_type_id=stype.id or 0,
        name=clean,
        duration_minutes=minutes,
        price_cents=cents,
        active=True,
    )
    session.add(service)
    _flush(session, "service", clean)
    _record(
        session,
        actor,
        "service",
        service.id or 0,
        "create",
        {
            "name": (None, clean),
            "type": (None, stype.name),
            "duration_minutes": (None, minutes),
            "price_cents": (None, cents),
        },
    )
    return service


def _service(session: Session, service_id: int) -> Service:
    service = session.get(Service, service_id)
    if service is None:
        raise NotFound("service", service_id)
    return service


def change_service(
    *,
    session: Session,
    service_id: int,
    actor: Staff | None,
    name: str | None = None,
    duration_minutes: int | str | None = None,
    price: str | None = None,
    type_name: str | None = None,
) -> Service:
    """Change a service's name, duration, price or type (None: unchanged). Bookings already
    made keep their own times and price; new ones take the new values."""
    require(actor, "settings")
    service = _service(session, service_id)
    changes: dict[str, tuple[Any, Any]] = {}
    if name is not None:
        clean = _name(name, "Service")
        if clean != service.name:
            _unique(session, Service, clean, "service", service.id)
            changes["name"] = (service.name, clean)
    if duration_minutes is not None:
        minutes = parse_minutes(duration_minutes)
        if minutes != service.duration_minutes:
            changes["duration_minutes"] = (service.duration_minutes, minutes)
    if price is not None:
        cents = parse_price(price)
        if cents != service.price_cents:
            changes["price_cents"] = (service.price_cents, cents)
    new_type: ServiceType | None = None
    if type_name is not None:
        current = session.get(ServiceType, service.service_type_id)
        clean_type = clean_line("type", type_name, max_length=100)
        if not clean_type:
            raise ValidationFailed("type", "choose a type (e.g. Hair, Nails, Massage)")
        if current is None or fold(clean_type) != fold(current.name):
            new_type = _service_type(session, clean_type)
            changes["type"] = (current.name if current else None, new_type.name)
    if not changes:
        return service
    for field_name, (_, after) in changes.items():
        if field_name != "type":
            setattr(service, field_name, after)
    if new_type is not None:
        service.service_type_id = new_type.id or 0
    session.add(service)
    _flush(session, "service", service.name)
    _record(session, actor, "service", service.id or 0, "update", changes)
    return service


def set_service_active(
    *, session: Session, service_id: int, active: bool, actor: Staff | None
) -> Service:
    """Deactivate a service (no longer offered for new bookings or orders; bookings made keep
    it) or reactivate it."""
    service: Service = _set_active(session, actor, Service, service_id, active)
    return service

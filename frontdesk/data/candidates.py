"""Merge candidates: imported rows that matched an existing customer, waiting for a decision.

An import run with "import as merge candidate" does not write a duplicate row over the
customer it matched, nor beside it: it keeps the row here. Someone then decides, from the
duplicates screen, with the row next to the customer:

- merge: the values picked field by field go onto the customer (one update, audited), with
  the row's note and tags;
- add as a separate customer: for a row that is another person (a family sharing a phone),
  added without the phone or email that belongs to the customer already;
- discard.

A row is kept once per customer (its fingerprint is unique per customer), so re-importing the
same file changes nothing, before or after the decision.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from frontdesk.data import audit, contacts, fields, notes, tags
from frontdesk.data import customers as svc
from frontdesk.data.errors import InvalidState, NotFound, ValidationFailed
from frontdesk.data.models import (
    CandidateStatus,
    Category,
    CreatedVia,
    Customer,
    MergeCandidate,
    Staff,
    Tag,
    utcnow,
)
from frontdesk.data.roles import require
from frontdesk.data.validation import fold, visible_controls

# Row values a candidate may carry onto the customer (what the merge screen shows).
CANDIDATE_FIELDS = [f for f in svc.EDITABLE_FIELDS if f != "phone_country"]


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def fingerprint(values: dict[str, Any], extras: dict[str, Any]) -> str:
    payload = json.dumps([_jsonable(values), extras], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _exists(session: Session, customer_id: int, key: str) -> bool:
    stmt = select(MergeCandidate.id).where(
        col(MergeCandidate.customer_id) == customer_id, col(MergeCandidate.fingerprint) == key
    )
    return session.exec(stmt).first() is not None


def exists(
    *, session: Session, customer_id: int, values: dict[str, Any], extras: dict[str, Any]
) -> bool:
    """Whether this row is already kept (waiting or decided) for this customer."""
    return _exists(session, customer_id, fingerprint(values, extras))


def record_candidate(
    *,
    session: Session,
    customer_id: int,
    values: dict[str, Any],
    extras: dict[str, Any],
    reason: str,
    source: str,
    actor: Staff | None = None,
) -> bool:
    """Keep an imported row for review. False when the same row is already kept."""
    if exists(session=session, customer_id=customer_id, values=values, extras=extras):
        return False
    candidate = MergeCandidate(
        customer_id=customer_id,
        values=_jsonable(values),
        extras=extras,
        reason=visible_controls(reason)[:200],
        source=visible_controls(source)[:300],
        fingerprint=fingerprint(values, extras),
        created_by_id=actor.id if actor else None,
    )
    try:
        with session.begin_nested():  # another import of the same file got there first
            session.add(candidate)
            session.flush()
    except IntegrityError:
        return False
    return True


@dataclass(frozen=True)
class PendingCandidate:
    id: int
    customer_id: int
    code: str
    name: str
    incoming_name: str
    reason: str
    source: str


def pending(*, session: Session, limit: int = 500) -> list[PendingCandidate]:
    """Candidates waiting for a decision, oldest first, with their customer."""
    stmt = (
        select(MergeCandidate, Customer)
        .join(Customer, col(Customer.id) == col(MergeCandidate.customer_id))
        .where(col(MergeCandidate.status) == CandidateStatus.PENDING.value)
        .order_by(col(MergeCandidate.id))
        .limit(limit)
    )
    out = []
    for candidate, customer in session.exec(stmt):
        v = candidate.values
        incoming = " ".join(x for x in (v.get("first_name"), v.get("last_name")) if x)
        out.append(
            PendingCandidate(
                id=candidate.id or 0,
                customer_id=customer.id or 0,
                code=customer.code,
                name=customer.full_name,
                incoming_name=incoming,
                reason=candidate.reason,
                source=candidate.source,
            )
        )
    return out


def count_pending(*, session: Session) -> int:
    from sqlalchemy import func

    stmt = select(func.count()).where(col(MergeCandidate.status) == CandidateStatus.PENDING.value)
    return int(session.exec(stmt).one())


def get_pending(*, session: Session, candidate_id: int) -> MergeCandidate:
    candidate = session.get(MergeCandidate, candidate_id)
    if candidate is None:
        raise NotFound("merge candidate", candidate_id)
    if candidate.status != CandidateStatus.PENDING.value:
        raise InvalidState(f"this imported row was already {candidate.status}")
    return candidate


def incoming_customer(*, session: Session, candidate: MergeCandidate) -> Customer:
    """The imported row as an unsaved customer, for showing next to the real one.

    A category named in the row becomes its category when one of that name exists."""
    values = {k: v for k, v in candidate.values.items() if k in Customer.model_fields}
    for key in ("date_of_birth", "anniversary"):
        if isinstance(values.get(key), str):
            values[key] = date.fromisoformat(values[key])
    named = (candidate.extras or {}).get("category")
    if named:
        wanted = fold(named)
        for category in session.exec(select(Category)):
            if fold(category.name) == wanted:
                values["category_id"] = category.id
    return Customer.model_validate({"code": "import", **values})


def default_choices(
    *, session: Session, customer: Customer, candidate: MergeCandidate
) -> dict[str, Any]:
    """The customer's value where it has one, else the imported row's."""
    incoming = incoming_customer(session=session, candidate=candidate)
    chosen: dict[str, Any] = {}
    for name in CANDIDATE_FIELDS:
        mine, theirs = getattr(customer, name), getattr(incoming, name)
        chosen[name] = mine if mine not in (None, "", "unspecified") else theirs
    return chosen


def _resolve(
    session: Session, candidate: MergeCandidate, status: CandidateStatus, actor: Staff | None
) -> None:
    candidate.status = status.value
    candidate.resolved_at = utcnow()
    candidate.resolved_by_id = actor.id if actor else None
    session.add(candidate)
    audit.record(
        session=session,
        actor=actor,
        entity="merge_candidate",
        entity_id=candidate.id or 0,
        action=status.value,
        customer_id=candidate.customer_id,
        changes={"source": (None, candidate.source)},
    )


def _carry_extras(
    session: Session, customer_id: int, candidate: MergeCandidate, actor: Staff | None
) -> None:
    extras = candidate.extras or {}
    if extras.get("note"):
        notes.add_note(session=session, customer_id=customer_id, body=extras["note"], actor=actor)
    names = [n for n in extras.get("tags") or [] if n != "Merge candidate"]
    if names:
        by_key = {t.key: t.id for t in session.exec(select(Tag))}
        ids = tags.tag_ids_of(session=session, customer_id=customer_id)
        for name in names:
            key = fold(name)
            if key not in by_key:
                by_key[key] = tags.create_tag(session=session, name=name, actor=actor).id
            ids.add(by_key[key] or 0)
        tags.set_tags(session=session, customer_id=customer_id, tag_ids=ids, actor=actor)
    if extras.get("custom"):
        fields.set_values(
            session=session, customer_id=customer_id, values=extras["custom"], actor=actor
        )


def merge_candidate(
    *,
    session: Session,
    candidate_id: int,
    chosen: dict[str, Any],
    actor: Staff | None = None,
) -> Customer:
    """Put the chosen values on the candidate's customer (one audited update)."""
    require(actor, "merge")
    candidate = get_pending(session=session, candidate_id=candidate_id)
    customer = svc.resolve(
        session=session,
        customer=svc.get_customer(session=session, customer_id=candidate.customer_id),
    )
    changes = {
        k: v for k, v in chosen.items() if k in CANDIDATE_FIELDS and getattr(customer, k) != v
    }
    before = {k: getattr(customer, k) for k in ("phone", "other_phone", "email", "email_key")}
    if changes:
        customer = svc.update_customer(
            session=session,
            customer_id=customer.id or 0,
            data=svc.CustomerUpdate(**changes),
            expected_version=customer.version,
            actor=actor,
        )
    # Nothing is lost: the customer's replaced phone/email and the row's own that were not
    # chosen stay as secondary contacts, with where they came from.
    contacts.keep_replaced(session=session, survivor=customer, before=before, actor=actor)
    contacts.keep_incoming(
        session=session,
        customer=customer,
        values=candidate.values,
        origin=f"imported ({candidate.source})",
        actor=actor,
    )
    _carry_extras(session, customer.id or 0, candidate, actor)
    _resolve(session, candidate, CandidateStatus.MERGED, actor)
    return customer


def add_as_customer(*, session: Session, candidate_id: int, actor: Staff | None = None) -> Customer:
    """Add the imported row as a customer of its own, without the identity already taken."""
    require(actor, "merge")
    candidate = get_pending(session=session, candidate_id=candidate_id)
    values = dict(candidate.values)
    taken = svc.find_live_duplicate(
        session, phone=values.get("phone"), email_key=None, exclude_id=None
    )
    if taken is not None:
        values.pop("phone", None)
        values.pop("phone_country", None)
    taken_email = svc.find_live_duplicate(
        session, phone=None, email_key=values.get("email_key"), exclude_id=None
    )
    if taken_email is not None:
        values.pop("email", None)
    values.pop("email_key", None)
    if not values.get("phone") and not values.get("email"):
        owner = (taken or taken_email or ("", None))[1]
        raise ValidationFailed(
            "phone",
            "its phone and email both belong to "
            f"{owner.code if owner else 'another customer'}: merge it or discard it",
        )
    data = svc.CustomerCreate(
        **{k: v for k, v in values.items() if k in svc.CustomerCreate.model_fields}
    )
    customer = svc.create_customer(
        session=session, data=data, actor=actor, created_via=CreatedVia.IMPORT
    )
    _carry_extras(session, customer.id or 0, candidate, actor)
    candidate.added_customer_id = customer.id
    _resolve(session, candidate, CandidateStatus.ADDED, actor)
    return customer


def discard(*, session: Session, candidate_id: int, actor: Staff | None = None) -> None:
    require(actor, "merge")
    candidate = get_pending(session=session, candidate_id=candidate_id)
    _resolve(session, candidate, CandidateStatus.DISCARDED, actor)

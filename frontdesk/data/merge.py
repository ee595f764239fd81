"""Finding likely duplicate customers and merging them into one survivor.

A merge is one transaction: everything hung on the merged-away customers moves to the
survivor, their points are carried over by "merged" ledger entries (the total is conserved),
consent takes the most restrictive answer, and a merge record keeps the values that were not
kept. The merged-away record stays as a tombstone pointing at the survivor.
"""

from __future__ import annotations

import difflib
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from frontdesk.data import audit, contacts, rewards
from frontdesk.data import customers as svc
from frontdesk.data.errors import InvalidState, ValidationFailed
from frontdesk.data.models import (
    Booking,
    Customer,
    CustomerTag,
    CustomFieldValue,
    DuplicateIgnore,
    LedgerAction,
    LoyaltyEnrolment,
    MergeCandidate,
    MergeRecord,
    Note,
    Order,
    Staff,
    utcnow,
)
from frontdesk.data.retry import is_conflict
from frontdesk.data.roles import require
from frontdesk.data.validation import check_text, digits, fold

# Fields the merge screen lets the user choose; consent and blocking follow their own rules.
CONSENTS = ["consent_reminders", "consent_birthday", "consent_marketing", "consent_newsletter"]
MERGE_FIELDS = [
    f
    for f in svc.EDITABLE_FIELDS
    if f not in ("phone_country", "blocked", "blocked_reason", *CONSENTS)
]


@dataclass(frozen=True)
class DuplicateGroup:
    reason: str
    customer_ids: tuple[int, ...]
    codes: tuple[str, ...]
    names: tuple[str, ...]


def _ignored(session: Session) -> set[tuple[int, int]]:
    return {(i.first_id, i.second_id) for i in session.exec(select(DuplicateIgnore))}


def _similar(a: Customer, b: Customer) -> bool:
    an, bn = fold(a.full_name), fold(b.full_name)
    if an == bn or fold(f"{a.last_name or ''} {a.first_name}".strip()) == bn:
        return True  # same, or first/last swapped
    return difflib.SequenceMatcher(None, an, bn).ratio() >= 0.85


def find_duplicates(*, session: Session, limit: int = 200) -> list[DuplicateGroup]:
    """Groups of likely duplicates among live customers, each with its reason."""
    ignored = _ignored(session)
    groups: list[DuplicateGroup] = []
    seen: set[tuple[int, ...]] = set()

    def add(reason: str, people: list[Customer]) -> None:
        ids = tuple(sorted(c.id or 0 for c in people))
        if len(ids) < 2 or ids in seen:
            return
        pairs = {(x, y) for i, x in enumerate(ids) for y in ids[i + 1 :]}
        if pairs <= ignored:
            return
        seen.add(ids)
        by_id = {c.id: c for c in people}
        groups.append(
            DuplicateGroup(
                reason,
                ids,
                tuple(by_id[i].code for i in ids),
                tuple(by_id[i].full_name for i in ids),
            )
        )

    live = svc.live()
    # 1. Same name (accents and case ignored) and same date of birth.
    keys = session.execute(
        sa_select(col(Customer.name_key), col(Customer.date_of_birth))
        .where(live, col(Customer.date_of_birth).is_not(None))
        .group_by(col(Customer.name_key), col(Customer.date_of_birth))
        .having(func.count() > 1)
        .limit(limit)
    ).all()
    for name_key, born in keys:
        people = list(
            session.exec(
                select(Customer).where(
                    live, col(Customer.name_key) == name_key, col(Customer.date_of_birth) == born
                )
            )
        )
        add("same name and date of birth", people)
    # 2. Similar names (typos, swapped names, accents) sharing the last 6 digits of a phone.
    candidates = (
        list(
            session.exec(
                select(Customer).where(
                    live, col(Customer.phone).is_not(None) | col(Customer.other_phone).is_not(None)
                )
            )
        )
        if len(groups) < limit
        else []
    )
    by_tail: dict[str, list[Customer]] = {}
    for c in candidates:
        for phone in {c.phone, c.other_phone} - {None}:
            by_tail.setdefault(digits(phone)[-6:], []).append(c)
    for tail, people in by_tail.items():
        if len(people) > 1:
            cluster = [p for p in people if any(_similar(p, q) for q in people if q is not p)]
            add(f"similar names, phones ending {tail}", cluster)
    # 3. Similar names with the same email user part (different domains).
    by_user: dict[str, list[Customer]] = {}
    for c in session.exec(select(Customer).where(live, col(Customer.email_key).is_not(None))):
        by_user.setdefault((c.email_key or "").split("@")[0], []).append(c)
    for user, people in by_user.items():
        if len(people) > 1:
            cluster = [p for p in people if any(_similar(p, q) for q in people if q is not p)]
            add(f"similar names, same email user '{user}'", cluster)
    return groups[:limit]


def ignore_pair(
    *, session: Session, first_id: int, second_id: int, actor: Staff | None = None
) -> None:
    a, b = sorted((first_id, second_id))
    if session.get(DuplicateIgnore, (a, b)) is None:
        session.add(DuplicateIgnore(first_id=a, second_id=b, by_id=actor.id if actor else None))
        session.flush()


def default_choices(survivor: Customer, others: list[Customer]) -> dict[str, Any]:
    """The survivor's non-empty value for each field, else the first other's."""
    chosen: dict[str, Any] = {}
    for name in MERGE_FIELDS:
        value = getattr(survivor, name)
        if value in (None, "", "unspecified"):
            for other in others:
                candidate = getattr(other, name)
                if candidate not in (None, "", "unspecified"):
                    value = candidate
                    break
        chosen[name] = value
    return chosen


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


# How many times a merge is tried again when the database broke a lock cycle (PostgreSQL
# "deadlock detected") or refused a serialization, before it says so plainly.
RETRIES = 3


def merge_customers(
    *,
    session: Session,
    survivor_id: int,
    other_ids: list[int],
    chosen: dict[str, Any] | None = None,
    actor: Staff | None = None,
) -> Customer:
    """Merge ``other_ids`` into ``survivor_id`` (one transaction; the caller commits).

    Needs the "merge" role, and "merge.many" for three or more customers. The customers'
    rows are locked in ascending id order, so two merges of the same customers never wait
    for each other in a cycle; should the database still break one (a deadlock or a
    serialization failure), the merge is tried again, and then refused with a clear message.
    """
    for name, value in (chosen or {}).items():
        if isinstance(value, str):
            check_text(name, value)
    others_ids = [i for i in dict.fromkeys(other_ids) if i != survivor_id]
    if not others_ids:
        raise ValidationFailed("customers", "choose at least one other customer to merge")
    require(actor, "merge")
    if len(others_ids) > 1:
        require(actor, "merge.many")
    for attempt in range(RETRIES):
        try:
            with session.begin_nested():
                return _merge(session, survivor_id, others_ids, chosen, actor)
        except DBAPIError as exc:
            if not is_conflict(exc):
                raise
            if attempt == RETRIES - 1:
                raise InvalidState(
                    "someone else was changing these customers at the same moment; "
                    "nothing was merged — try again"
                ) from None
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _merge(
    session: Session,
    survivor_id: int,
    others_ids: list[int],
    chosen: dict[str, Any] | None,
    actor: Staff | None,
) -> Customer:
    # Lock in ascending id order, whichever one survives (see merge_customers).
    locked = {i: svc._load_for_update(session, i) for i in sorted({survivor_id, *others_ids})}
    survivor = locked[survivor_id]
    others = [locked[i] for i in others_ids]
    for c in [survivor, *others]:
        if not c.is_live:
            raise InvalidState(f"{c.code} is deleted or already merged")
    contacts_before: dict[str, str | None] = {
        "phone": survivor.phone,
        "other_phone": survivor.other_phone,
        "email": survivor.email,
        "email_key": survivor.email_key,
    }
    values = default_choices(survivor, others)
    values.update(chosen or {})
    before = {name: getattr(survivor, name) for name in MERGE_FIELDS}
    # Free the identities of the merged-away records first (unique among live customers).
    now = utcnow()
    for other in others:
        other.merged_into_id = survivor_id
        other.version += 1
        other.updated_at = now
        session.add(other)
    session.flush()
    for name in MERGE_FIELDS:
        setattr(survivor, name, values[name])
    if survivor.email:
        from frontdesk.data.validation import email_key

        survivor.email_key = email_key(survivor.email)
    else:
        survivor.email_key = None
    consents_before = {name: getattr(survivor, name) for name in CONSENTS}
    for name in CONSENTS:  # the most restrictive answer wins
        setattr(survivor, name, all(getattr(c, name) for c in [survivor, *others]))
    from frontdesk.data.messaging.consent_log import record_changes

    record_changes(
        session=session,
        customer_id=survivor_id,
        changes={n: (consents_before[n], getattr(survivor, n)) for n in CONSENTS},
        actor=actor,
        source="merge",
    )
    # A block on any of them stays, with its reason (read before the survivor changes: the
    # survivor, blocked only by this line, has no reason of its own).
    reason = next((c.blocked_reason for c in [survivor, *others] if c.blocked), None)
    survivor.blocked = reason is not None or any(c.blocked for c in [survivor, *others])
    survivor.blocked_reason = reason if survivor.blocked else None
    survivor.version += 1
    survivor.updated_at = now
    svc.search_keys(survivor)
    if not survivor.phone and not survivor.email_key:
        raise ValidationFailed("phone", "the survivor needs a phone or an email")
    svc._flush_unique(session, survivor)
    # Move everything hung on the others.
    for model in (Booking, Order, Note):
        session.execute(
            update(model)
            .where(col(model.customer_id).in_(others_ids))
            .values(customer_id=survivor_id)
        )
    # Imported rows waiting for a decision follow their customer (once per fingerprint).
    prints = set(
        session.exec(
            select(MergeCandidate.fingerprint).where(col(MergeCandidate.customer_id) == survivor_id)
        )
    )
    for candidate in session.exec(
        select(MergeCandidate).where(col(MergeCandidate.customer_id).in_(others_ids))
    ):
        if candidate.fingerprint not in prints:
            prints.add(candidate.fingerprint)
            candidate.customer_id = survivor_id
            session.add(candidate)
    survivor_tags = set(
        session.exec(select(CustomerTag.tag_id).where(col(CustomerTag.customer_id) == survivor_id))
    )
    for link in session.exec(
        select(CustomerTag).where(col(CustomerTag.customer_id).in_(others_ids))
    ):
        if link.tag_id not in survivor_tags:
            session.add(CustomerTag(customer_id=survivor_id, tag_id=link.tag_id))
            survivor_tags.add(link.tag_id)
        session.delete(link)
    survivor_fields = set(
        session.exec(
            select(CustomFieldValue.field_id).where(
                col(CustomFieldValue.customer_id) == survivor_id
            )
        )
    )
    for value in session.exec(
        select(CustomFieldValue).where(col(CustomFieldValue.customer_id).in_(others_ids))
    ):
        if value.field_id in survivor_fields:
            continue  # the survivor's own value is kept; the other one is recorded below
        value.customer_id = survivor_id
        survivor_fields.add(value.field_id)
        session.add(value)
    session.flush()
    contacts.keep_on_merge(session=session, survivor=survivor, others=others, actor=actor)
    contacts.keep_replaced(session=session, survivor=survivor, before=contacts_before, actor=actor)
    _merge_points(session, survivor_id, others, actor)
    discarded: dict[str, Any] = {}
    for other in others:
        lost = {
            name: _jsonable(getattr(other, name))
            for name in MERGE_FIELDS
            if getattr(other, name) not in (None, "")
            and getattr(other, name) != getattr(survivor, name)
        }
        lost_custom = {
            str(v.field_id): v.value_text
            or v.value_number
            or _jsonable(v.value_date)
            or v.value_bool
            or v.value_list
            for v in session.exec(
                select(CustomFieldValue).where(col(CustomFieldValue.customer_id) == other.id)
            )
        }
        if lost_custom:
            lost["custom_fields"] = lost_custom
        replaced = {
            k: _jsonable(v)
            for k, v in before.items()
            if v not in (None, "") and v != getattr(survivor, k)
        }
        if replaced:
            lost["survivor_before"] = replaced
        discarded[other.code] = lost
        session.add(
            MergeRecord(
                survivor_id=survivor_id,
                merged_id=other.id or 0,
                chosen={k: _jsonable(v) for k, v in values.items()},
                discarded=lost,
                by_id=actor.id if actor else None,
            )
        )
        audit.record(
            session=session,
            actor=actor,
            entity="customer",
            entity_id=other.id or 0,
            action="merged_away",
            customer_id=other.id,
            changes={"merged_into": (None, survivor.code)},
        )
    audit.record(
        session=session,
        actor=actor,
        entity="customer",
        entity_id=survivor_id,
        action="merge",
        customer_id=survivor_id,
        changes={
            "merged": (None, ", ".join(o.code for o in others)),
            **{
                k: (before[k], getattr(survivor, k))
                for k in MERGE_FIELDS
                if before[k] != getattr(survivor, k)
            },
        },
    )
    session.flush()
    return survivor


def _merge_points(
    session: Session, survivor_id: int, others: list[Customer], actor: Staff | None
) -> None:
    # The enrolments are locked and read afresh (populate_existing): a desk changing points
    # on one of them at this moment waits, or this merge waits for it; a balance read before
    # that desk committed would otherwise be moved without its last entry.
    for other in others:
        for enrolment in session.exec(
            select(LoyaltyEnrolment)
            .where(
                col(LoyaltyEnrolment.customer_id) == other.id,
                col(LoyaltyEnrolment.removed_at).is_(None),
            )
            .order_by(col(LoyaltyEnrolment.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all():
            target = session.exec(
                select(LoyaltyEnrolment)
                .where(
                    col(LoyaltyEnrolment.customer_id) == survivor_id,
                    col(LoyaltyEnrolment.program_id) == enrolment.program_id,
                    col(LoyaltyEnrolment.removed_at).is_(None),
                )
                .with_for_update()
                .execution_options(populate_existing=True)
            ).first()
            if target is None:
                # The survivor was not enrolled: the enrolment itself moves over.
                enrolment.customer_id = survivor_id
                enrolment.version += 1
                session.add(enrolment)
                session.flush()
                continue
            moved = enrolment.balance
            if moved:
                rewards._append(
                    session,
                    enrolment,
                    -moved,
                    LedgerAction.MERGED,
                    f"Merged into {target.id}",
                    actor,
                )
                rewards._append(
                    session, target, moved, LedgerAction.MERGED, f"Merged from {other.code}", actor
                )
            enrolment.removed_at = utcnow()
            session.add(enrolment)
            session.flush()

"""A customer's rights over their data: a copy of everything stored (access), and erasure.

``export_customer_data`` gathers everything stored about one customer as plain JSON-ready
values: the profile, consents with their history, bookings, orders with payments and refunds,
the loyalty ledger, notes (those visible to the customer, or all of them for an admin) and
the audit entries about them.

``erase_customer`` (admins) removes the person and keeps the accounts: name, contacts,
address, birth dates, photo, notes, custom values, secondary contacts, tags, free text on
bookings/orders/enrolments, merge records and imported rows, and the before/after values in
audit entries are removed; bookings, orders, payments, refunds and the ledger stay, attached
to "Erased customer C-000123". Merged-away records of the same person go the same way. On
SQLite the erasing transaction runs with ``secure_delete`` (freed bytes are zeroed), the
search index is rebuilt without them, and the WAL is checkpointed and truncated, so that the
name, phone and email can no longer be found in the database file or its WAL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, or_, text, update
from sqlmodel import Session, col, delete, select

from frontdesk.data import audit
from frontdesk.data.customers import get_by_code, get_customer, search_keys
from frontdesk.data.db import is_sqlite
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.models import (
    AuditEvent,
    Booking,
    ContactPoint,
    Customer,
    CustomerTag,
    CustomFieldValue,
    Gender,
    LoyaltyEnrolment,
    MergeCandidate,
    MergeRecord,
    Note,
    NoteVisibility,
    Order,
    OrderLine,
    Payment,
    PointsEntry,
    Refund,
    Staff,
    utcnow,
)
from frontdesk.data.roles import allowed, require

ERASED_NAME = "Erased customer"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(obj: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: _plain(v) for k, v in obj.model_dump().items() if k not in skip}


def _family(session: Session, customer_id: int) -> list[int]:
    """The customer and every record merged into it (directly or through another merge)."""
    ids = [customer_id]
    frontier = [customer_id]
    while frontier:
        found = list(
            session.exec(select(Customer.id).where(col(Customer.merged_into_id).in_(frontier)))
        )
        frontier = [i for i in found if i is not None and i not in ids]
        ids += frontier
    return ids


# --------------------------------------------------------------------------- access


def export_customer_data(*, session: Session, code: str, actor: Staff | None) -> dict[str, Any]:
    """Everything stored about the customer with ``code`` (a merged-away code finds them).
    Taking a copy of a customer's data is an export: reception and admins."""
    require(actor, "export")
    customer = get_by_code(session=session, code=code)
    assert customer.id is not None
    ids = _family(session, customer.id)
    all_notes = allowed(actor, "erase")  # admins see staff-only notes too
    note_stmt = select(Note).where(col(Note.customer_id).in_(ids)).order_by(col(Note.id))
    if not all_notes:
        note_stmt = note_stmt.where(col(Note.visibility) == NoteVisibility.CUSTOMER.value)
    orders = list(session.exec(select(Order).where(col(Order.customer_id).in_(ids))))
    order_ids = [o.id for o in orders]
    events = list(
        session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.customer_id).in_(ids))
            .order_by(col(AuditEvent.id))
        )
    )
    from frontdesk.data.models import ConsentChange, OutboxMessage

    consent_fields = {
        "consent_reminders",
        "consent_birthday",
        "consent_marketing",
        "consent_newsletter",
    }
    return {
        "exported_at": utcnow().isoformat(),
        "customer": _row(customer, skip=("sort_key", "name_key", "search_text", "email_key")),
        "merged_records": [
            _row(c, skip=("sort_key", "name_key", "search_text", "email_key"))
            for c in session.exec(select(Customer).where(col(Customer.id).in_(ids[1:])))
        ],
        "secondary_contacts": [
            _row(p)
            for p in session.exec(
                select(ContactPoint).where(col(ContactPoint.customer_id).in_(ids))
            )
        ],
        "consent_history": [
            {
                "at": _plain(e.at),
                "by": e.actor_name,
                "changes": {k: v for k, v in (e.changes or {}).items() if k in consent_fields},
            }
            for e in events
            if any(k in consent_fields for k in (e.changes or {}))
        ],
        "consent_changes": [
            _row(c)
            for c in session.exec(
                select(ConsentChange)
                .where(col(ConsentChange.customer_id).in_(ids))
                .order_by(col(ConsentChange.id))
            )
        ],
        "messages": [
            _row(m, skip=("claimed_by", "claimed_at", "handed_over_at"))
            for m in session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.customer_id).in_(ids))
                .order_by(col(OutboxMessage.id))
            )
        ],
        "custom_values": [
            _row(v)
            for v in session.exec(
                select(CustomFieldValue).where(col(CustomFieldValue.customer_id).in_(ids))
            )
        ],
        "bookings": [
            _row(b)
            for b in session.exec(
                select(Booking)
                .where(col(Booking.customer_id).in_(ids))
                .order_by(col(Booking.start_at))
            )
        ],
        "orders": [
            {
                **_row(o),
                "lines": [
                    _row(x)
                    for x in session.exec(select(OrderLine).where(col(OrderLine.order_id) == o.id))
                ],
                "payments": [
                    _row(x)
                    for x in session.exec(select(Payment).where(col(Payment.order_id) == o.id))
                ],
                "refunds": [
                    _row(x)
                    for x in session.exec(select(Refund).where(col(Refund.order_id) == o.id))
                ],
            }
            for o in orders
        ]
        if order_ids
        else [],
        "loyalty": [
            {
                **_row(e),
                "ledger": [
                    _row(p)
                    for p in session.exec(
                        select(PointsEntry)
                        .where(col(PointsEntry.enrolment_id) == e.id)
                        .order_by(col(PointsEntry.id))
                    )
                ],
            }
            for e in session.exec(
                select(LoyaltyEnrolment).where(col(LoyaltyEnrolment.customer_id).in_(ids))
            )
        ],
        "notes": [_row(n) for n in session.exec(note_stmt)],
        "notes_included": "all" if all_notes else "visible to the customer",
        "audit": [_row(e) for e in events],
    }


# --------------------------------------------------------------------------- erasure


@dataclass(frozen=True)
class ErasePreview:
    code: str
    name: str  # user data: render as text
    merged_records: int
    bookings: int
    orders: int


def erase_preview(*, session: Session, code: str, actor: Staff | None) -> ErasePreview:
    require(actor, "erase")
    customer = get_by_code(session=session, code=code)
    if customer.erased_at is not None:
        raise ValidationFailed("customer", f"{customer.code} is already erased")
    assert customer.id is not None
    ids = _family(session, customer.id)

    def count(model: Any) -> int:
        stmt = select(model.id).where(col(model.customer_id).in_(ids))
        return len(list(session.exec(stmt)))

    return ErasePreview(
        code=customer.code,
        name=customer.label,
        merged_records=len(ids) - 1,
        bookings=count(Booking),
        orders=count(Order),
    )


@dataclass(frozen=True)
class EraseResult:
    code: str
    records: int
    photos_removed: int
    wal_truncated: bool


def _wipe_customer(customer: Customer, now: datetime) -> None:
    customer.first_name = ERASED_NAME
    customer.last_name = None
    customer.display_name = None
    for name in (
        "email", "email_key", "phone", "phone_country", "other_phone", "date_of_birth",
        "anniversary", "address", "city", "state", "postal_code", "country", "photo_path",
        "blocked_reason",
    ):  # fmt: skip
        setattr(customer, name, None)
    # No contact is left; the row still needs a key where the schema asks for a phone or an
    # email (ck_customer_contact): a placeholder that names nobody.
    customer.email_key = f"erased:{customer.code.lower()}"
    customer.gender = Gender.UNSPECIFIED.value
    customer.consent_reminders = customer.consent_birthday = False
    customer.consent_marketing = customer.consent_newsletter = False
    customer.erased_at = now
    if customer.deleted_at is None and customer.merged_into_id is None:
        customer.deleted_at = now  # out of the directory; its bookings and orders stay
    customer.updated_at = now
    customer.version += 1
    search_keys(customer)


def erase_customer(
    *, engine: Engine, code: str, actor: Staff | None, data_dir: Path | None = None
) -> EraseResult:
    """Erase the person (see the module's docstring), in one transaction."""
    now = utcnow()
    photos: list[Path] = []
    with Session(engine) as session:
        if is_sqlite(engine):
            # Zero every byte freed by this transaction (old row versions, deleted notes ...).
            session.connection().exec_driver_sql("PRAGMA secure_delete=ON")
        require(actor, "erase")
        customer = get_by_code(session=session, code=code)
        if customer.erased_at is not None:
            raise ValidationFailed("customer", f"{customer.code} is already erased")
        assert customer.id is not None
        erased_code, erased_id = customer.code, customer.id
        ids = _family(session, customer.id)
        for cid in ids:
            record = get_customer(session=session, customer_id=cid)
            if record.photo_path and data_dir is not None:
                photos.append(data_dir / record.photo_path)
            _wipe_customer(record, now)
            session.add(record)
        session.flush()
        from frontdesk.data.models import OutboxMessage  # messages: their text and address

        for model in (Note, ContactPoint, CustomFieldValue, CustomerTag, OutboxMessage):
            session.exec(delete(model).where(col(model.customer_id).in_(ids)))
        session.exec(update(Booking).where(col(Booking.customer_id).in_(ids)).values(notes=None))
        session.exec(update(Order).where(col(Order.customer_id).in_(ids)).values(notes=None))
        session.exec(
            update(LoyaltyEnrolment)
            .where(col(LoyaltyEnrolment.customer_id).in_(ids))
            .values(notes=None)
        )
        session.exec(
            update(MergeRecord)
            .where(or_(col(MergeRecord.survivor_id).in_(ids), col(MergeRecord.merged_id).in_(ids)))
            .values(chosen=None, discarded=None)
        )
        session.exec(
            delete(MergeCandidate).where(
                or_(
                    col(MergeCandidate.customer_id).in_(ids),
                    col(MergeCandidate.added_customer_id).in_(ids),
                )
            )
        )
        session.exec(
            update(AuditEvent).where(col(AuditEvent.customer_id).in_(ids)).values(changes=None)
        )
        audit.record(
            session=session,
            actor=actor,
            entity="customer",
            entity_id=erased_id,
            action="erase",
            customer_id=erased_id,
        )
        session.commit()
    removed = 0
    for photo in photos:
        try:
            photo.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    truncated = _forget_on_disk(engine)
    return EraseResult(
        code=erased_code, records=len(ids), photos_removed=removed, wal_truncated=truncated
    )


def _forget_on_disk(engine: Engine) -> bool:
    """SQLite: rebuild the search index without the erased values, then move the WAL into the
    file and truncate it. False when another desk's open read kept the WAL from emptying (it
    empties at the next checkpoint)."""
    if not is_sqlite(engine):
        return True
    with Session(engine) as session:
        session.connection().exec_driver_sql("PRAGMA secure_delete=ON")
        session.execute(text("INSERT INTO customer_fts(customer_fts) VALUES ('rebuild')"))
        session.commit()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA secure_delete=ON")
        busy = 1
        for _ in range(5):
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = (cursor.fetchone() or (1,))[0]
            if busy == 0:
                break
        cursor.close()
        return busy == 0
    finally:
        raw.close()


def backups_before_erasures(*, session: Session, folder: Path) -> list[tuple[Path, int]]:
    """Backup files in ``folder`` taken before a later erasure, with how many erasures came
    after each: they still hold those customers' data (delete them or keep them locked away)."""
    erased = [
        at if at.tzinfo else at.replace(tzinfo=UTC)
        for at in session.exec(select(AuditEvent.at).where(col(AuditEvent.action) == "erase"))
    ]
    if not erased or not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.db")):
        taken = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        later = sum(1 for at in erased if at > taken)
        if later:
            out.append((path, later))
    return out


def write_private_text(path: Path, text: str) -> Path:
    """Write ``text`` to a file only its owner can read (0600), in a folder only they can
    open when it is new (0700): for anything that holds customer data."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # (an older file of the same name may have been readable)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def write_private_json(path: Path, data: dict[str, Any]) -> Path:
    """Write ``data`` as readable JSON to a file only its owner can read (0600)."""
    import json

    return write_private_text(
        path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    )


def save_customer_data(
    *, session: Session, code: str, actor: Staff | None, folder: Path, now: datetime | None = None
) -> Path:
    """An access request from the profile: everything stored, in ``folder/exports``."""
    data = export_customer_data(session=session, code=code, actor=actor)
    stamp = (now or utcnow()).strftime("%Y%m%d-%H%M%S")
    return write_private_json(
        folder / "exports" / f"{data['customer']['code']}-data-{stamp}.json", data
    )

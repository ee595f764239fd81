"""Notes on customers and on bookings: Markdown body, category, visibility, pin, order."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from frontdesk.data import audit
from frontdesk.data.errors import NotFound, ValidationFailed
from frontdesk.data.models import (
    Booking,
    Customer,
    Note,
    NoteCategory,
    NoteVisibility,
    Staff,
    utcnow,
)
from frontdesk.data.roles import NotAllowed, allowed, require
from frontdesk.data.validation import clean_line, clean_multiline


def list_categories(*, session: Session) -> list[NoteCategory]:
    return list(
        session.exec(
            select(NoteCategory).order_by(col(NoteCategory.position), col(NoteCategory.name))
        )
    )


def save_category(
    *,
    session: Session,
    name: str,
    is_alert: bool = False,
    category_id: int | None = None,
    actor: Staff | None,
) -> NoteCategory:
    """Create or change a note category (a setting: admins)."""
    require(actor, "settings")
    clean = clean_line("name", name, max_length=50)
    if not clean:
        raise ValidationFailed("name", "Category name is required")
    clash = session.exec(select(NoteCategory).where(col(NoteCategory.name) == clean)).first()
    if clash is not None and clash.id != category_id:
        raise ValidationFailed("name", f"A note category called {clean!r} already exists")
    before: dict[str, object] | None = None
    if category_id:
        category = session.get(NoteCategory, category_id)
        if category is None:
            raise NotFound("note category", category_id)
        before = {"name": category.name, "is_alert": bool(category.is_alert)}
    else:
        last = session.execute(
            sa_select(func.coalesce(func.max(col(NoteCategory.position)), 0))
        ).scalar_one()
        category = NoteCategory(name=clean, position=int(last) + 1)
    category.name = clean
    category.is_alert = is_alert
    session.add(category)
    session.flush()
    audit.record_item(
        session=session,
        actor=actor,
        entity="note_category",
        entity_id=category.id or 0,
        before=before,
        after={"name": category.name, "is_alert": bool(is_alert)},
    )
    return category


def note_body(text: str | None, *, field: str = "body") -> str:
    """A note body to store: Markdown, several lines allowed, no other control characters."""
    body = clean_multiline(field, text or "")
    if not body:
        raise ValidationFailed(field, "The note is empty")
    if len(body) > 20_000:
        raise ValidationFailed(field, "The note is too long (20,000 characters at most)")
    return body


def add_note(
    *,
    session: Session,
    body: str,
    customer_id: int | None = None,
    booking_id: int | None = None,
    category_id: int | None = None,
    visibility: str = NoteVisibility.STAFF.value,
    pinned: bool = False,
    is_alert: bool = False,
    actor: Staff | None,
) -> Note:
    require(actor, "notes")
    if booking_id is not None:
        booking = session.get(Booking, booking_id)
        if booking is None:
            raise ValidationFailed("booking_id", "no such booking")
        customer_id = customer_id or booking.customer_id
    if customer_id is None or session.get(Customer, customer_id) is None:
        raise ValidationFailed("customer_id", "no such customer")
    if category_id is not None and session.get(NoteCategory, category_id) is None:
        raise ValidationFailed("category_id", "no such category")
    try:
        visibility_value = NoteVisibility(visibility).value
    except ValueError:
        raise ValidationFailed("visibility", "staff or customer") from None
    # New notes go first in the manual order.
    first = session.execute(
        sa_select(func.coalesce(func.min(col(Note.position)), 0)).where(
            col(Note.customer_id) == customer_id
        )
    ).scalar_one()
    note = Note(
        customer_id=customer_id,
        booking_id=booking_id,
        body=note_body(body),
        category_id=category_id,
        visibility=visibility_value,
        pinned=pinned,
        is_alert=is_alert,
        position=int(first) - 1,
        author_id=actor.id if actor else None,
    )
    session.add(note)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        entity="note",
        entity_id=note.id or 0,
        action="create",
        customer_id=customer_id,
        changes={"body": (None, note.body[:80])},
    )
    return note


def get_note(*, session: Session, note_id: int) -> Note:
    note = session.get(Note, note_id)
    if note is None:
        raise NotFound("note", note_id)
    return note


def may_change_note(author_id: int | None, actor: Staff | None) -> bool:
    """Whether ``actor`` may change or delete a note ``author_id`` wrote: their own, or any
    note for the desk (a therapist changed a receptionist's allergy alert, which then still
    named the receptionist as its author)."""
    own = actor is not None and author_id is not None and author_id == actor.id
    return allowed(actor, "notes") if own else allowed(actor, "notes.others")


def _require_own_or_desk(note: Note, actor: Staff | None) -> None:
    if not may_change_note(note.author_id, actor):
        raise NotAllowed("notes.others", actor)


def update_note(
    *,
    session: Session,
    note_id: int,
    body: str,
    category_id: int | None,
    visibility: str,
    pinned: bool,
    is_alert: bool,
    actor: Staff | None,
) -> Note:
    require(actor, "notes")
    note = get_note(session=session, note_id=note_id)
    _require_own_or_desk(note, actor)
    before = note.body
    was = (note.body, note.category_id, note.visibility, note.pinned, note.is_alert)
    note.body = note_body(body)
    if category_id is not None and session.get(NoteCategory, category_id) is None:
        raise ValidationFailed("category_id", "no such category")
    note.category_id = category_id
    note.visibility = NoteVisibility(visibility).value
    note.pinned = pinned
    note.is_alert = is_alert
    if (note.body, note.category_id, note.visibility, note.pinned, note.is_alert) != was:
        note.edited_by_id = actor.id if actor else None  # the tab says who changed it last
    note.updated_at = utcnow()
    session.add(note)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        entity="note",
        entity_id=note_id,
        action="update",
        customer_id=note.customer_id,
        changes={"body": (before[:80], note.body[:80])},
    )
    return note


def delete_note(*, session: Session, note_id: int, actor: Staff | None) -> None:
    require(actor, "notes")
    note = get_note(session=session, note_id=note_id)
    _require_own_or_desk(note, actor)
    audit.record(
        session=session,
        actor=actor,
        entity="note",
        entity_id=note_id,
        action="delete",
        customer_id=note.customer_id,
        changes={"body": (note.body[:80], None)},
    )
    session.delete(note)
    session.flush()


def move_note(*, session: Session, note_id: int, direction: int, actor: Staff | None) -> None:
    """Move a note up (-1) or down (+1) in its customer's manual order.

    Moving a note changes it for everyone: as for editing and deleting, a note someone else
    wrote needs ``notes.others``."""
    require(actor, "notes")
    note = get_note(session=session, note_id=note_id)
    _require_own_or_desk(note, actor)
    siblings = list(
        session.exec(
            select(Note)
            .where(col(Note.customer_id) == note.customer_id)
            .order_by(
                col(Note.pinned).desc(),
                col(Note.position),
                col(Note.created_at).desc(),
                col(Note.id),
            )
        )
    )
    index = next(i for i, n in enumerate(siblings) if n.id == note_id)
    target = index + direction
    if not 0 <= target < len(siblings):
        return
    siblings[index], siblings[target] = siblings[target], siblings[index]
    for position, sibling in enumerate(siblings):
        if sibling.position != position:
            sibling.position = position
            session.add(sibling)
    session.flush()


def booking_notes(*, session: Session, booking_id: int) -> list[Note]:
    booking = session.get(Booking, booking_id)
    notes = list(
        session.exec(
            select(Note).where(col(Note.booking_id) == booking_id).order_by(col(Note.created_at))
        )
    )
    if booking is not None and booking.notes:
        notes.insert(
            0, Note(customer_id=booking.customer_id, booking_id=booking_id, body=booking.notes)
        )
    return notes

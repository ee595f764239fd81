"""Tags on customers: add, remove, replace the set; tags and customer categories made,
changed and deleted (each change is audited)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from frontdesk.data import audit
from frontdesk.data.colours import normalise_colour
from frontdesk.data.errors import NotFound, ValidationFailed
from frontdesk.data.models import Category, Customer, CustomerTag, Staff, Tag
from frontdesk.data.roles import require
from frontdesk.data.validation import check_text, clean_line, fold


def tag_name(value: str | None, *, field: str = "name") -> str:
    """A tag name to store (one line, 1-50 characters), or ValidationFailed."""
    clean = clean_line(field, value, max_length=50)
    if not clean:
        raise ValidationFailed(field, "Tag name is required")
    return clean


def _record_item(
    session: Session,
    actor: Staff | None,
    entity: str,
    entity_id: int,
    before: Mapping[str, object] | None,
    after: Mapping[str, object] | None,
    action: str | None = None,
) -> None:
    """Audit a tag or a customer category: created (no ``before``), changed, or deleted
    (no ``after``, ``action`` "delete")."""
    audit.record_item(
        session=session,
        actor=actor,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
        action=action,
    )


def create_tag(
    *, session: Session, name: str, colour: str | None = None, actor: Staff | None = None
) -> Tag:
    """A new tag; ``colour`` is ``#rgb``, ``#rrggbb`` or a colour name (stored as hex).
    Audited with ``actor`` (the staff member whose import or merge made it)."""
    clean = tag_name(name)
    key = fold(clean)
    if session.exec(select(Tag).where(col(Tag.key) == key)).first():
        raise ValidationFailed("name", f"A tag called {clean!r} already exists")
    tag = Tag(name=clean, key=key, colour=normalise_colour(colour))
    session.add(tag)
    session.flush()
    _record_item(session, actor, "tag", tag.id or 0, None, {"name": tag.name, "colour": tag.colour})
    return tag


def change_tag(
    *,
    session: Session,
    tag_id: int,
    name: str,
    colour: str | None = None,
    actor: Staff | None,
) -> Tag:
    """Rename a tag or change its colour (a setting, admins); its customers keep it. A name
    another tag has (in any letters) is refused. Audited with what changed."""
    require(actor, "settings")
    tag = session.get(Tag, tag_id)
    if tag is None:
        raise NotFound("tag", tag_id)
    clean = tag_name(name)
    key = fold(clean)
    clash = session.exec(select(Tag).where(col(Tag.key) == key, col(Tag.id) != tag_id)).first()
    if clash is not None:
        raise ValidationFailed("name", f"A tag called {clash.name!r} already exists")
    before = {"name": tag.name, "colour": tag.colour}
    tag.name, tag.key, tag.colour = clean, key, normalise_colour(colour)
    session.add(tag)
    session.flush()
    _record_item(session, actor, "tag", tag_id, before, {"name": tag.name, "colour": tag.colour})
    return tag


def tag_ids_of(*, session: Session, customer_id: int) -> set[int]:
    stmt = select(CustomerTag.tag_id).where(col(CustomerTag.customer_id) == customer_id)
    return set(session.exec(stmt))


def _record(
    session: Session, actor: Staff | None, customer_id: int, before: str | None, after: str | None
) -> None:
    audit.record(
        session=session,
        actor=actor,
        entity="customer",
        entity_id=customer_id,
        action="tags",
        customer_id=customer_id,
        changes={"tags": (before, after)},
    )


def _names(session: Session, ids: set[int]) -> str | None:
    if not ids:
        return None
    return ", ".join(sorted(t.name for t in session.exec(select(Tag).where(col(Tag.id).in_(ids)))))


def add_tag(*, session: Session, customer_id: int, tag_id: int, actor: Staff | None) -> bool:
    require(actor, "customers.write")
    current = tag_ids_of(session=session, customer_id=customer_id)
    if tag_id in current:
        return False
    return set_tags(
        session=session, customer_id=customer_id, tag_ids=current | {tag_id}, actor=actor
    )


def remove_tag(*, session: Session, customer_id: int, tag_id: int, actor: Staff | None) -> bool:
    require(actor, "customers.write")
    current = tag_ids_of(session=session, customer_id=customer_id)
    if tag_id not in current:
        return False
    return set_tags(
        session=session, customer_id=customer_id, tag_ids=current - {tag_id}, actor=actor
    )


def set_tags(*, session: Session, customer_id: int, tag_ids: set[int], actor: Staff | None) -> bool:
    """Make the customer's tags exactly ``tag_ids``. Returns whether anything changed."""
    require(actor, "customers.write")
    current = tag_ids_of(session=session, customer_id=customer_id)
    if current == tag_ids:
        return False
    for tag_id in tag_ids - current:
        if session.get(Tag, tag_id) is None:
            raise ValidationFailed("tags", f"no such tag ({tag_id})")
        session.add(CustomerTag(customer_id=customer_id, tag_id=tag_id))
    for tag_id in current - tag_ids:
        link = session.get(CustomerTag, (customer_id, tag_id))
        if link is not None:
            session.delete(link)
    session.flush()
    _record(session, actor, customer_id, _names(session, current), _names(session, tag_ids))
    return True


def save_category(
    *,
    session: Session,
    name: str,
    symbol: str,
    colour: str | None = None,
    category_id: int | None = None,
    actor: Staff | None,
) -> Category:
    """Create or change a customer category icon (VIP, Regular, New ...): a setting, admins.

    ``colour`` is ``#rgb``, ``#rrggbb`` or a CSS colour name; it is stored as ``#rrggbb``
    (empty: a neutral grey)."""
    require(actor, "settings")
    clean = clean_line("name", name, max_length=50)
    if not clean:
        raise ValidationFailed("name", "Category name is required")
    mark = (check_text("symbol", symbol) or "").strip()
    colour_value = normalise_colour(colour)
    if not mark or len(mark) > 2:
        raise ValidationFailed("symbol", "one or two characters, e.g. ★")
    # The same name in other letters is the same category (an import finds categories by
    # their folded name: "vip" next to "VIP" made the file's choice a matter of luck).
    key = fold(clean)
    clash = next(
        (c for c in session.exec(select(Category)) if fold(c.name) == key and c.id != category_id),
        None,
    )
    if clash is not None:
        raise ValidationFailed("name", f"A category called {clash.name!r} already exists")
    before: dict[str, object] | None = None
    if category_id:
        category = session.get(Category, category_id)
        if category is None:
            raise ValidationFailed("name", "no such category")
        before = {"name": category.name, "symbol": category.symbol, "colour": category.colour}
    else:
        last = session.execute(
            sa_select(func.coalesce(func.max(col(Category.position)), 0))
        ).scalar_one()
        category = Category(name=clean, symbol=mark, position=int(last) + 1)
    category.name, category.symbol, category.colour = clean, mark, colour_value
    session.add(category)
    session.flush()
    after = {"name": category.name, "symbol": category.symbol, "colour": category.colour}
    _record_item(session, actor, "customer_category", category.id or 0, before, after)
    return category


def tag_use(*, session: Session, tag_id: int) -> int:
    """How many customers have the tag (deleted ones too: theirs goes with it)."""
    stmt = sa_select(func.count()).select_from(CustomerTag).where(col(CustomerTag.tag_id) == tag_id)
    return int(session.execute(stmt).scalar_one())


def delete_tag(*, session: Session, tag_id: int, actor: Staff | None) -> int:
    """Delete a tag (a setting, admins): it is taken off every customer who had it.
    Returns how many had it; audited with that number."""
    require(actor, "settings")
    tag = session.get(Tag, tag_id)
    if tag is None:
        raise NotFound("tag", tag_id)
    had = tag_use(session=session, tag_id=tag_id)
    before = {"name": tag.name, "colour": tag.colour, "customers": had}
    _record_item(session, actor, "tag", tag_id, before, None, "delete")
    session.execute(delete(CustomerTag).where(col(CustomerTag.tag_id) == tag_id))
    session.delete(tag)
    session.flush()
    return had


def category_use(*, session: Session, category_id: int) -> int:
    """How many customers are in the category (deleted ones too)."""
    stmt = (
        sa_select(func.count())
        .select_from(Customer)
        .where(col(Customer.category_id) == category_id)
    )
    return int(session.execute(stmt).scalar_one())


def delete_category(*, session: Session, category_id: int, actor: Staff | None) -> int:
    """Delete a customer category (a setting, admins): its customers are left without one
    (each customer's version moves on, so a form open on one of them says it changed).
    Returns how many customers were in it; audited with that number."""
    require(actor, "settings")
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound("category", category_id)
    had = category_use(session=session, category_id=category_id)
    before = {
        "name": category.name,
        "symbol": category.symbol,
        "colour": category.colour,
        "customers": had,
    }
    _record_item(session, actor, "customer_category", category_id, before, None, "delete")
    if had:
        session.execute(
            update(Customer)
            .where(col(Customer.category_id) == category_id)
            .values(category_id=None, version=col(Customer.version) + 1)
        )
    session.delete(category)
    session.flush()
    return had

"""Custom fields: admin-defined definitions and typed per-customer values."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Text, cast, delete, exists, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from frontdesk.data import audit
from frontdesk.data.errors import NotFound, ValidationFailed
from frontdesk.data.models import Customer, CustomField, CustomFieldValue, FieldType, Staff
from frontdesk.data.roles import require
from frontdesk.data.validation import check_text, clean_line, clean_multiline, clean_text, fold

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
YES = {"yes", "y", "true", "1", "on", "ja", "si", "oui"}
NO = {"no", "n", "false", "0", "off", "nee", "non"}


def _snapshot(field: CustomField) -> dict[str, Any]:
    """A definition's audited values."""
    return {
        "label": field.label,
        "key": field.key,
        "type": field.type,
        "required": bool(field.required),
        "choices": list(field.choices or []) or None,
        "help_text": field.help_text,
    }


def _record(
    session: Session,
    actor: Staff | None,
    field: CustomField,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.record_item(
        session=session,
        actor=actor,
        entity="custom_field",
        entity_id=field.id or 0,
        before=before,
        after=after,
        action=action,
    )


def list_fields(*, session: Session, include_archived: bool = False) -> list[CustomField]:
    stmt = select(CustomField).order_by(col(CustomField.position), col(CustomField.id))
    if not include_archived:
        stmt = stmt.where(col(CustomField.archived).is_(False))
    return list(session.exec(stmt))


def save_field(
    *,
    session: Session,
    label: str,
    key: str | None = None,
    type: str = FieldType.TEXT.value,
    required: bool = False,
    choices: list[str] | None = None,
    help_text: str | None = None,
    position: int | None = None,
    field_id: int | None = None,
    actor: Staff | None,
) -> CustomField:
    require(actor, "settings")
    clean_label = clean_line("label", label, max_length=100)
    if not clean_label:
        raise ValidationFailed("label", "Label is required")
    check_text("key", key)
    help_clean = clean_line("help_text", help_text, max_length=300)
    key_text = (key or re.sub(r"[^a-z0-9]+", "_", fold(clean_label)).strip("_"))[:50]
    if not _KEY.match(key_text):
        raise ValidationFailed("key", "lower-case letters, digits and _; starting with a letter")
    try:
        type_value = FieldType(type).value
    except ValueError:
        raise ValidationFailed("type", f"one of {', '.join(t.value for t in FieldType)}") from None
    options = [c for c in (clean_line("choices", x) for x in (choices or [])) if c]
    if type_value in (FieldType.CHOICE.value, FieldType.MULTI_CHOICE.value):
        if not options:
            raise ValidationFailed("choices", "give at least one choice")
        if len({fold(c) for c in options}) != len(options):
            raise ValidationFailed("choices", "choices must be different")
    else:
        options = []
    clash = session.exec(select(CustomField).where(col(CustomField.key) == key_text)).first()
    if clash is not None and clash.id != field_id:
        raise ValidationFailed("key", f"the key {key_text!r} is taken by {clash.label!r}")
    if field_id:
        field = session.get(CustomField, field_id)
        if field is None:
            raise NotFound("custom field", field_id)
        if field.type != type_value and count_values(session=session, field_id=field_id):
            raise ValidationFailed("type", "the type cannot change once values exist")
        before: dict[str, Any] | None = _snapshot(field)
    else:
        before = None
        last = session.execute(
            sa_select(func.coalesce(func.max(col(CustomField.position)), 0))
        ).scalar_one()
        field = CustomField(key=key_text, label=clean_label, position=int(last) + 1)
    field.key = key_text
    field.label = clean_label
    field.type = type_value
    field.required = required
    field.choices = options or None
    field.help_text = help_clean
    if position is not None:
        field.position = position
    session.add(field)
    session.flush()
    _record(session, actor, field, "update" if before else "create", before, _snapshot(field))
    return field


def archive_field(
    *, session: Session, field_id: int, archived: bool = True, actor: Staff | None
) -> CustomField:
    require(actor, "settings")
    field = session.get(CustomField, field_id)
    if field is None:
        raise NotFound("custom field", field_id)
    was = bool(field.archived)
    field.archived = archived
    session.add(field)
    session.flush()
    _record(
        session,
        actor,
        field,
        "archive" if archived else "unarchive",
        {"label": field.label, "archived": was},
        {"label": field.label, "archived": bool(archived)},
    )
    return field


def count_values(*, session: Session, field_id: int) -> int:
    return int(
        session.execute(
            sa_select(func.count())
            .select_from(CustomFieldValue)
            .where(col(CustomFieldValue.field_id) == field_id)
        ).scalar_one()
    )


def delete_field(*, session: Session, field_id: int, actor: Staff | None) -> int:
    """Delete a definition and all its values; returns how many values went."""
    require(actor, "settings")
    field = session.get(CustomField, field_id)
    if field is None:
        raise NotFound("custom field", field_id)
    gone = count_values(session=session, field_id=field_id)
    _record(session, actor, field, "delete", {**_snapshot(field), "values": gone}, None)
    session.execute(delete(CustomFieldValue).where(col(CustomFieldValue.field_id) == field_id))
    session.delete(field)
    session.flush()
    return gone


@dataclass(frozen=True)
class Parsed:
    text: str | None = None
    number: float | None = None
    day: date | None = None
    flag: bool | None = None
    items: list[str] | None = None

    @property
    def empty(self) -> bool:
        return self == Parsed()


def parse_value(field: CustomField, raw: Any, *, keep_empty: bool = False) -> Parsed:
    """Validate a typed value against its field definition (raises ValidationFailed).

    An empty value of a required field is refused, unless ``keep_empty``: the customer has
    no value yet (saved before the field was made required) and the edit leaves it so."""
    key = f"cf_{field.key}"
    long_text = field.type == FieldType.LONG_TEXT.value
    if isinstance(raw, list):
        items = [c for c in (clean_line(key, str(x)) for x in raw) if c]
        text = None
        raw_text = ", ".join(items) or None
    else:
        # Long text keeps its lines and tabs; every other type is one line.
        raw_text = None if raw is None else str(raw)
        raw_text = clean_multiline(key, raw_text) if long_text else check_text(key, raw_text)
        text = clean_text(raw_text)
        items = []
    if text is None and not items:
        if field.required and not keep_empty:
            raise ValidationFailed(key, f"{field.label} is required")
        return Parsed()
    kind = field.type
    if kind in (FieldType.TEXT.value, FieldType.LONG_TEXT.value):
        value = raw_text if long_text else text
        limit = 5000 if kind == FieldType.LONG_TEXT.value else 300
        if value and len(value) > limit:
            raise ValidationFailed(key, f"at most {limit} characters")
        return Parsed(text=value)
    if kind == FieldType.NUMBER.value:
        try:
            number = float((text or "").replace(",", "."))
        except ValueError:
            raise ValidationFailed(key, f"{field.label} must be a number") from None
        return Parsed(number=number)
    if kind == FieldType.DATE.value:
        try:
            return Parsed(day=date.fromisoformat(text or ""))
        except ValueError:
            raise ValidationFailed(key, f"{field.label}: use YYYY-MM-DD") from None
    if kind == FieldType.YES_NO.value:
        word = (text or "").lower()
        if word in YES:
            return Parsed(flag=True)
        if word in NO:
            return Parsed(flag=False)
        raise ValidationFailed(key, f"{field.label}: yes or no")
    choices = field.choices or []
    by_key = {fold(c): c for c in choices}
    if kind == FieldType.CHOICE.value:
        chosen = by_key.get(fold(text or ""))
        if chosen is None:
            raise ValidationFailed(key, f"{field.label}: one of {', '.join(choices)}")
        return Parsed(text=chosen)
    picked = items or [x.strip() for x in (text or "").split(",") if x.strip()]
    out = []
    for item in picked:
        chosen = by_key.get(fold(item))
        if chosen is None:
            raise ValidationFailed(
                key, f"{field.label}: {item!r} is not one of {', '.join(choices)}"
            )
        if chosen not in out:
            out.append(chosen)
    if not out:  # only commas (", ,"): no choice made
        if field.required and not keep_empty:
            raise ValidationFailed(key, f"{field.label} is required")
        return Parsed()
    return Parsed(items=out)


def show_value(field: CustomField, value: CustomFieldValue | None) -> str:
    if value is None:
        return ""
    if value.value_list:
        return ", ".join(value.value_list)
    if value.value_bool is not None:
        return "yes" if value.value_bool else "no"
    if value.value_date is not None:
        return value.value_date.isoformat()
    if value.value_number is not None:
        return f"{value.value_number:g}"
    return value.value_text or ""


def values_of(*, session: Session, customer_id: int) -> dict[str, str]:
    """{field key: shown value} of a customer's custom fields."""
    fields = {f.id: f for f in list_fields(session=session, include_archived=True)}
    out = {}
    for v in session.exec(
        select(CustomFieldValue).where(col(CustomFieldValue.customer_id) == customer_id)
    ):
        field = fields.get(v.field_id)
        if field is not None:
            out[field.key] = show_value(field, v)
    return out


def set_values(
    *,
    session: Session,
    customer_id: int,
    values: dict[str, Any],
    actor: Staff | None,
    new_customer: bool = False,
) -> dict[str, tuple[str, str]]:
    """Set custom field values by key (validated); returns {key: (before, after)} of changes.

    Required active fields: a value of one cannot be cleared; ``new_customer`` (the values of
    a customer being added) also refuses one missing from ``values``. A customer saved before
    a field was made required keeps their empty value until someone fills it."""
    require(actor, "customers.write")
    if session.get(Customer, customer_id) is None:
        raise ValidationFailed("customer_id", "no such customer")
    fields = {f.key: f for f in list_fields(session=session)}
    for key in values:
        if key not in fields:
            raise ValidationFailed(f"cf_{key}", f"no active custom field {key!r}")
    if new_customer:
        check_required(session=session, values=values)
    changes: dict[str, tuple[str, str]] = {}
    for key, raw in values.items():
        field = fields[key]
        row = session.exec(
            select(CustomFieldValue).where(
                col(CustomFieldValue.customer_id) == customer_id,
                col(CustomFieldValue.field_id) == field.id,
            )
        ).first()
        before = show_value(field, row)
        parsed = parse_value(field, raw, keep_empty=not new_customer and not before)
        if parsed.empty:
            if row is not None:
                session.delete(row)
        else:
            row = row or CustomFieldValue(customer_id=customer_id, field_id=field.id or 0)
            row.value_text, row.value_number, row.value_date = (
                parsed.text,
                parsed.number,
                parsed.day,
            )
            row.value_bool, row.value_list = parsed.flag, parsed.items
            session.add(row)
        session.flush()
        after = show_value(field, row) if not parsed.empty else ""
        if before != after:
            changes[key] = (before, after)
    if changes:
        audit.record(
            session=session,
            actor=actor,
            entity="customer",
            entity_id=customer_id,
            action="custom_fields",
            customer_id=customer_id,
            changes={f"custom: {k}": v for k, v in changes.items()},
        )
    return changes


def _blank(field: CustomField, value: Any) -> bool:
    """No value given for ``field`` (for a multiple choice, commas alone are none)."""
    if isinstance(value, list | tuple):
        parts = [str(v) for v in value]
    else:
        parts = ["" if value is None else str(value)]
    if field.type == FieldType.MULTI_CHOICE.value:
        parts = [piece for part in parts for piece in part.split(",")]
    return not any(clean_text(part) for part in parts)


def check_required(*, session: Session, values: dict[str, Any]) -> None:
    """Raise for the first required active field missing from ``values`` (a new customer's
    custom values): ``ValidationFailed("cf_<key>", "<Label> is required")``."""
    for field in list_fields(session=session):
        if field.required and _blank(field, values.get(field.key)):
            raise ValidationFailed(f"cf_{field.key}", f"{field.label} is required")


@dataclass(frozen=True)
class FieldFilter:
    """A custom-field condition of the advanced filter."""

    field_id: int
    label: str
    type: str
    choices: tuple[str, ...] = ()
    op: str = "equals"  # equals | contains | empty | between
    value: str = ""
    value_to: str = ""

    @classmethod
    def of(cls, field: CustomField, op: str, value: str = "", value_to: str = "") -> FieldFilter:
        made = cls(
            field.id or 0, field.label, field.type, tuple(field.choices or ()), op, value, value_to
        )
        made.condition()  # validates the value now, not when the list reloads
        return made

    @property
    def chip(self) -> str:
        if self.op == "empty":
            return f"{self.label} is empty"
        if self.op == "between":
            return f"{self.label} {self.value or '…'} → {self.value_to or '…'}"
        return f"{self.label} {'~' if self.op == 'contains' else '='} {self.value}"

    def condition(self) -> Any:
        session_field = CustomField(
            key="f", label=self.label, type=self.type, choices=list(self.choices)
        )
        base = [
            col(CustomFieldValue.customer_id) == col(Customer.id),
            col(CustomFieldValue.field_id) == self.field_id,
        ]
        if self.op == "empty":
            return ~exists().where(*base)
        if self.op == "between":
            try:
                start = date.fromisoformat(self.value) if self.value else None
                end = date.fromisoformat(self.value_to) if self.value_to else None
            except ValueError:
                raise ValidationFailed("value", "dates as YYYY-MM-DD") from None
            conds = list(base)
            if start:
                conds.append(col(CustomFieldValue.value_date) >= start)
            if end:
                conds.append(col(CustomFieldValue.value_date) <= end)
            return exists().where(*conds)
        parsed = parse_value(session_field, self.value) if self.op == "equals" else None
        if self.op == "contains":
            needle = self.value.strip()
            return exists().where(
                *base,
                (col(CustomFieldValue.value_text).icontains(needle, autoescape=True))
                | (cast(col(CustomFieldValue.value_list), Text).icontains(needle, autoescape=True)),
            )
        assert parsed is not None
        if parsed.number is not None:
            return exists().where(*base, col(CustomFieldValue.value_number) == parsed.number)
        if parsed.day is not None:
            return exists().where(*base, col(CustomFieldValue.value_date) == parsed.day)
        if parsed.flag is not None:
            return exists().where(*base, col(CustomFieldValue.value_bool).is_(parsed.flag))
        if parsed.items:
            return exists().where(
                *base,
                cast(col(CustomFieldValue.value_list), Text).contains(
                    parsed.items[0], autoescape=True
                ),
            )
        return exists().where(*base, col(CustomFieldValue.value_text) == parsed.text)


def move_field(*, session: Session, field_id: int, direction: int, actor: Staff | None) -> None:
    """Move a custom field up (-1) or down (+1) in the order forms show them."""
    require(actor, "settings")
    ordered = list_fields(session=session, include_archived=True)
    index = next((i for i, f in enumerate(ordered) if f.id == field_id), None)
    if index is None:
        raise NotFound("custom field", field_id)
    target = index + direction
    if not 0 <= target < len(ordered):
        return
    moved = ordered[index]
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, f in enumerate(ordered, start=1):
        if f.position != position:
            f.position = position
            session.add(f)
    session.flush()
    _record(
        session,
        actor,
        moved,
        "move",
        {"label": moved.label, "position": index + 1},
        {"label": moved.label, "position": target + 1},
    )

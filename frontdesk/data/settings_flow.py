"""Use cases of the settings screen: one function per thing an admin does there.

The screen and the CLI give the text the admin typed; these functions turn it into the
arguments of the services (``fields``, ``tags``, ``rewards``, ``notes``), so that a value that
cannot be used raises :class:`ValidationFailed` naming the field it came from, and the screen
shows it next to that field. Every change is for admins (``roles.require(actor, "settings")``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from frontdesk.data import fields, notes, rewards, tags
from frontdesk.data import staff as staff_service
from frontdesk.data.business_settings import BusinessSetting, load_business_settings
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.messaging.templates import list_templates
from frontdesk.data.models import (
    Category,
    CustomField,
    CustomFieldValue,
    LoyaltyProgram,
    MessageTemplate,
    NoteCategory,
    Staff,
    Tag,
)
from frontdesk.data.roles import require

YES = {"yes", "y", "true", "1", "on"}
NO = {"no", "n", "false", "0", "off"}


@dataclass
class SettingsPage:
    """Everything the settings screen lists, read in one session."""

    fields: list[CustomField] = field(default_factory=list)
    value_counts: dict[int, int] = field(default_factory=dict)
    categories: list[Category] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    programs: list[LoyaltyProgram] = field(default_factory=list)
    note_categories: list[NoteCategory] = field(default_factory=list)
    templates: list[MessageTemplate] = field(default_factory=list)
    business: list[BusinessSetting] = field(default_factory=list)
    staff: list[Staff] = field(default_factory=list)  # active and deactivated
    branch_names: dict[int, str] = field(default_factory=dict)  # deactivated ones too
    inactive_branches: set[int] = field(default_factory=set)

    def branch_choices(self, current: int | None) -> dict[int, str]:
        """The branches a staff member can be given: the active ones, and the one they have
        now (a branch deactivated since stays theirs until changed)."""
        return {
            bid: name
            for bid, name in self.branch_names.items()
            if bid not in self.inactive_branches or bid == current
        }


def load_settings_page(*, session: Session) -> SettingsPage:
    defs = fields.list_fields(session=session, include_archived=True)
    counts = {
        int(field_id): int(count)
        for field_id, count in session.execute(
            sa_select(col(CustomFieldValue.field_id), func.count()).group_by(
                col(CustomFieldValue.field_id)
            )
        )
    }
    branches = staff_service.list_branches(session=session)
    return SettingsPage(
        fields=defs,
        value_counts={f.id or 0: counts.get(f.id or 0, 0) for f in defs},
        categories=list(session.exec(select(Category).order_by(col(Category.position)))),
        tags=list(session.exec(select(Tag).order_by(col(Tag.name)))),
        programs=rewards.list_programs(session=session),
        note_categories=notes.list_categories(session=session),
        templates=list_templates(session=session),
        business=load_business_settings(session=session),
        staff=staff_service.list_staff(session=session, include_inactive=True),
        branch_names={b.id or 0: b.name for b in branches},
        inactive_branches={b.id or 0 for b in branches if not b.active},
    )


# --------------------------------------------------------------------------- custom fields


@dataclass(frozen=True)
class FieldForm:
    """The custom-field dialog as typed."""

    label: str
    key: str
    type: str
    required: bool
    choices: list[str]
    help_text: str


def save_field_form(
    *, session: Session, form: FieldForm, actor: Staff | None, field_id: int | None = None
) -> CustomField:
    """Create (no ``field_id``) or change a custom field definition."""
    require(actor, "settings")
    return fields.save_field(
        session=session,
        label=form.label,
        key=form.key.strip() or None,
        type=form.type,
        required=form.required,
        choices=form.choices,
        help_text=form.help_text,
        field_id=field_id,
        actor=actor,
    )


# --------------------------------------------------------------------------- categories and tags


def save_category_form(
    *,
    session: Session,
    name: str,
    symbol: str,
    colour: str,
    actor: Staff | None,
    category_id: int | None = None,
) -> Category:
    """Create or change a customer category; the colour is checked and stored as ``#rrggbb``
    (``ValidationFailed(field="colour")`` for one that is not a colour)."""
    require(actor, "settings")
    return tags.save_category(
        session=session,
        name=name,
        symbol=symbol,
        colour=colour,
        category_id=category_id,
        actor=actor,
    )


def add_tag_form(*, session: Session, name: str, actor: Staff | None) -> Tag:
    require(actor, "settings")
    return tags.create_tag(session=session, name=name, actor=actor)


def change_tag_form(
    *, session: Session, tag_id: int, name: str, colour: str, actor: Staff | None
) -> Tag:
    """Rename a tag or change its colour; its customers keep it."""
    require(actor, "settings")
    return tags.change_tag(session=session, tag_id=tag_id, name=name, colour=colour, actor=actor)


def delete_tag(*, session: Session, tag_id: int, actor: Staff | None) -> int:
    """Delete a tag, taken off every customer who had it; returns how many had it."""
    require(actor, "settings")
    return tags.delete_tag(session=session, tag_id=tag_id, actor=actor)


def delete_category(*, session: Session, category_id: int, actor: Staff | None) -> int:
    """Delete a customer category, its customers left without one; returns how many."""
    require(actor, "settings")
    return tags.delete_category(session=session, category_id=category_id, actor=actor)


# --------------------------------------------------------------------------- loyalty programs


@dataclass(frozen=True)
class ProgramForm:
    """The loyalty-program dialog as typed (every value as text)."""

    name: str
    unit: str = "points"
    expiry_days: str = ""
    per_currency_unit: str = "0"
    per_visit: str = "0"
    active: str = "yes"


def _whole(field_name: str, text: str, *, empty: int | None) -> int | None:
    raw = text.strip()
    if not raw:
        return empty
    if not (raw.isascii() and raw.isdigit()):
        raise ValidationFailed(field_name, "must be a whole number (0 or more)")
    if len(raw) > 12:  # (before reading a number of a thousand digits)
        raise ValidationFailed(field_name, "is too large")
    return int(raw)


def yes_no(field_name: str, text: str, *, empty: bool) -> bool:
    """``yes`` / ``no`` as typed (y, true, 1, on ...); an empty answer is ``empty``."""
    answer = text.strip().lower()
    if not answer:
        return empty
    if answer in YES:
        return True
    if answer in NO:
        return False
    raise ValidationFailed(field_name, "must be yes or no")


def save_program_form(
    *, session: Session, form: ProgramForm, actor: Staff | None, program_id: int | None = None
) -> LoyaltyProgram:
    """Create or change a loyalty program from the dialog's text."""
    require(actor, "settings")
    return rewards.save_program(
        session=session,
        name=form.name,
        unit=form.unit,
        default_expiry_days=_whole("default_expiry_days", form.expiry_days, empty=None),
        points_per_currency_unit=_whole("points_per_currency_unit", form.per_currency_unit, empty=0)
        or 0,
        points_per_visit=_whole("points_per_visit", form.per_visit, empty=0) or 0,
        active=yes_no("active", form.active, empty=True),
        program_id=program_id,
        actor=actor,
    )


# --------------------------------------------------------------------------- note categories


def save_note_category_form(
    *,
    session: Session,
    name: str,
    alert: str,
    actor: Staff | None,
    category_id: int | None = None,
) -> NoteCategory:
    require(actor, "settings")
    return notes.save_category(
        session=session,
        name=name,
        is_alert=yes_no("is_alert", alert, empty=False),
        category_id=category_id,
        actor=actor,
    )


# --------------------------------------------------------------------------- field order and removal


def move_field(*, session: Session, field_id: int, direction: int, actor: Staff | None) -> None:
    """Move a custom field up (-1) or down (+1) in the forms."""
    require(actor, "settings")
    fields.move_field(session=session, field_id=field_id, direction=direction, actor=actor)


def archive_field(
    *, session: Session, field_id: int, archived: bool, actor: Staff | None
) -> CustomField:
    """Hide a custom field from the forms (its values are kept), or show it again."""
    require(actor, "settings")
    return fields.archive_field(session=session, field_id=field_id, archived=archived, actor=actor)


def delete_field(*, session: Session, field_id: int, actor: Staff | None) -> int:
    """Delete a custom field and its values; returns how many values went."""
    require(actor, "settings")
    return fields.delete_field(session=session, field_id=field_id, actor=actor)

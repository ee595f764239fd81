"""Audit events as a person reads them: "Blocked by Rita: owes money", not "blocked: — → True".

Field labels instead of column names, yes/no instead of True/False, dates as dates, colours
by name, categories and branches by name, genders and statuses in words. Pure Python: the
timeline read model (TUI and CLI) uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from frontdesk.data.colours import CSS_COLOURS, to_hex
from frontdesk.data.validation import format_phone

FIELD_LABELS: dict[str, str] = {
    "first_name": "First name",
    "last_name": "Last name",
    "display_name": "Display name",
    "email": "Email",
    "phone": "Mobile",
    "phone_country": "Phone country",
    "other_phone": "Other phone",
    "gender": "Gender",
    "date_of_birth": "Date of birth",
    "anniversary": "Anniversary",
    "address": "Address",
    "city": "City",
    "state": "State / province",
    "postal_code": "Postal code",
    "country": "Country",
    "photo_path": "Photo",
    "category_id": "Category",
    "home_branch_id": "Home branch",
    "branch_id": "Branch",  # where a staff member works
    "status": "Status",
    "blocked": "Blocked",
    "blocked_reason": "Blocked because",
    "consent_reminders": "Appointment reminders",
    "consent_birthday": "Birthday messages",
    "consent_marketing": "Marketing",
    "consent_newsletter": "Newsletter",
    "deleted_at": "Deleted",
    "merged_into": "Merged into",
    "merged": "Merged",
    "tags": "Tags",
    "colour": "Colour",
    "color": "Colour",
}

GENDERS = {"female": "female", "male": "male", "other": "other", "unspecified": "unspecified"}
EMPTY = "—"

# hex -> the first CSS name with that value ("#ffd700" -> "gold").
_COLOUR_NAMES: dict[str, str] = {}
for _name, _hex in CSS_COLOURS.items():
    _COLOUR_NAMES.setdefault(_hex, _name)


@dataclass(frozen=True)
class Names:
    """Names for the ids an audit event stores (categories, branches)."""

    categories: Mapping[int, str] = field(default_factory=dict)
    branches: Mapping[int, str] = field(default_factory=dict)
    fields: Mapping[str, str] = field(default_factory=dict)  # custom field key -> label
    staff: Mapping[int, str] = field(default_factory=dict)  # staff id -> name (as now)
    services: Mapping[int, str] = field(default_factory=dict)  # service id -> name (as now)


def field_label(name: str, names: Names | None = None) -> str:
    """The label a person knows a stored field by ("date_of_birth" -> "Date of birth"; a
    custom field's key -> its label)."""
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    if name.startswith("custom: "):
        key = name[len("custom: ") :]
        return (names.fields if names else {}).get(key, key)
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def colour_name(value: str) -> str:
    """A stored colour by name when it has one ("#ffd700" -> "gold"), else as stored."""
    hexed = to_hex(value)
    if hexed is None:
        return value
    return _COLOUR_NAMES.get(hexed, hexed)


def _date_text(value: str) -> str | None:
    """An ISO date or date-time (as the audit stores them) as the screens show dates."""
    text = value.strip()
    if len(text) == 10:
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            return None
    if len(text) >= 16 and text[10] in "T ":
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        if moment.tzinfo is not None:
            moment = moment.astimezone()
        return moment.strftime("%Y-%m-%d %H:%M")
    return None


def value_text(name: str, value: Any, names: Names | None = None) -> str:
    """One stored value of field ``name`` as a person reads it."""
    names = names or Names()
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "category_id" and isinstance(value, int):
        return names.categories.get(value, f"category #{value}")
    if name in ("home_branch_id", "branch_id") and isinstance(value, int):
        return names.branches.get(value, f"branch #{value}")
    if isinstance(value, list):
        return ", ".join(value_text(name, v, names) for v in value)
    if isinstance(value, datetime):
        return (value.astimezone() if value.tzinfo else value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        if name in ("colour", "color") or name.endswith("_colour"):
            return colour_name(value)
        if name == "gender":
            return GENDERS.get(value, value)
        if name in ("phone", "other_phone") and value.startswith("+"):
            return format_phone(value) or value
        shown = _date_text(value)
        if shown is not None:
            return shown
        return value
    return str(value)


def change_text(name: str, before: Any, after: Any, names: Names | None = None) -> str:
    """One field's change: "Marketing: no → yes", "Date of birth: — → 1990-04-23"."""
    label = field_label(name, names)
    if isinstance(before, bool) or isinstance(after, bool):
        before = bool(before)
        after = bool(after)
    return f"{label}: {value_text(name, before, names)} → {value_text(name, after, names)}"


HEADS = {
    "create": "Profile created",
    "update": "Profile changed",
    "status": "Status changed",
    "block": "Blocked",
    "unblock": "Unblocked",
    "delete": "Deleted",
    "restore": "Restored",
    "tags": "Tags changed",
    "custom_fields": "Custom fields changed",
    "merge": "Merged",
    "merged_away": "Merged away",
    "contact_add": "Contact added",
    "contact_remove": "Contact removed",
}


def describe_customer_event(
    action: str,
    actor_name: str | None,
    changes: Mapping[str, Any] | None,
    names: Names | None = None,
    *,
    limit: int = 4,
) -> str:
    """A customer audit event as one line of the timeline."""
    who = actor_name or "system"
    head = HEADS.get(action, action.replace("_", " ").capitalize())
    changes = dict(changes or {})
    if action == "create":
        return f"{head} by {who}"
    if action == "block":
        reason = changes.get("blocked_reason")
        after = reason[1] if isinstance(reason, list | tuple) and len(reason) == 2 else None
        return f"{head} by {who}" + (f": {after}" if after else "")
    if action in ("unblock", "delete", "restore"):
        return f"{head} by {who}"
    if action == "merged_away":
        into = changes.get("merged_into")
        code = into[1] if isinstance(into, list | tuple) and len(into) == 2 else None
        return f"{head} by {who}" + (f" into {code}" if code else "")
    parts = []
    items = list(changes.items())
    for key, pair in items[:limit]:
        before, after = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        if action == "merge" and key == "merged":
            parts.append(f"merged {value_text(key, after, names)} into this profile")
            continue
        if action in ("contact_add", "contact_remove"):
            shown = after if action == "contact_add" else before
            parts.append(f"{field_label(key, names)} {value_text(key, shown, names)}")
            continue
        parts.append(change_text(key, before, after, names))
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    if not parts:
        return f"{head} by {who}"
    return f"{head} by {who}: " + "; ".join(parts) + more


STAFF_HEADS = {
    "create": "added",
    "update": "changed",
    "deactivate": "deactivated",
    "reactivate": "reactivated",
}


def describe_staff_event(
    action: str,
    actor_name: str | None,
    member_id: int,
    changes: Mapping[str, Any] | None,
    names: Names | None = None,
) -> str:
    """A staff member's audit event as one line: "Staff member added by Alex: Rita (username
    rita, role reception)", "Staff member Rita changed by Alex: Role: reception → admin",
    "Staff member deactivated by Alex: Rita"."""
    who = actor_name or "system"
    changes = dict(changes or {})
    name = (names.staff if names else {}).get(member_id)
    if name is None:
        pair = changes.get("name")
        after = pair[1] if isinstance(pair, list | tuple) and len(pair) == 2 else None
        name = str(after) if after else f"#{member_id}"
    verb = STAFF_HEADS.get(action, action.replace("_", " "))
    if action in ("deactivate", "reactivate"):
        return f"Staff member {verb} by {who}: {name}"
    pairs = [
        (key, *(pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)))
        for key, pair in changes.items()
    ]
    if action == "create":
        details = [
            f"{field_label(key, names).lower()} {value_text(key, after, names)}"
            for key, _before, after in pairs
            if key != "name" and after not in (None, "")
        ]
        return f"Staff member {verb} by {who}: {name}" + (
            f" ({', '.join(details)})" if details else ""
        )
    parts = [change_text(key, before, after, names) for key, before, after in pairs]
    return f"Staff member {name} {verb} by {who}" + (": " + "; ".join(parts) if parts else "")


CATALOGUE_LABELS = {
    "name": "Name",
    "address": "Address",
    "phone": "Phone",
    "type": "Type",
    "duration_minutes": "Duration",
    "price_cents": "Price",
    "active": "Active",
}
CATALOGUE_HEADS = STAFF_HEADS  # the same verbs


def catalogue_value(name: str, value: Any) -> str:
    """A stored value of a branch or a service: "45.00", "45 min", "+44 20 7946 0000"."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "price_cents" and isinstance(value, int):
        return f"{value / 100:,.2f}"
    if name == "duration_minutes" and isinstance(value, int):
        return f"{value} min"
    if name == "phone" and isinstance(value, str) and value.startswith("+"):
        return format_phone(value) or value
    return str(value)


def describe_catalogue_event(
    entity: str,
    action: str,
    actor_name: str | None,
    changes: Mapping[str, Any] | None,
    entity_id: int | None = None,
    names: Names | None = None,
) -> str:
    """A branch or service event as one line: "Service added by Rita: Women's cut (Hair,
    45 min, 45.00)", "Branch Downtown changed by Rita: Phone: — → +44 20 7946 0000",
    "Service deactivated by Rita: Women's cut". A change names what it changed (by its
    name as now, from ``names``, when the change was not the name)."""
    who = actor_name or "system"
    pairs: dict[str, tuple[Any, Any]] = {}
    for key, pair in dict(changes or {}).items():
        before, after = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        pairs[key] = (before, after)
    name_pair = pairs.get("name", (None, None))
    known = (names.services if entity == "service" else names.branches) if names else {}
    name = name_pair[1] or name_pair[0] or known.get(entity_id or 0)
    title = entity.replace("_", " ").capitalize()
    if action == "update" and name is not None and "name" not in pairs:
        title = f"{title} {name}"
    head = f"{title} {CATALOGUE_HEADS.get(action, action)}"
    if action == "create":
        details = [
            catalogue_value(key, pairs[key][1])
            for key in ("type", "duration_minutes", "price_cents", "address", "phone")
            if key in pairs and pairs[key][1] not in (None, "")
        ]
        return f"{head} by {who}: {name}" + (f" ({', '.join(details)})" if details else "")
    if action in ("deactivate", "reactivate"):
        return f"{head} by {who}" + (f": {name}" if name else "")
    parts = [
        f"{CATALOGUE_LABELS.get(key, field_label(key))}: "
        f"{catalogue_value(key, before)} → {catalogue_value(key, after)}"
        for key, (before, after) in pairs.items()
    ]
    return f"{head} by {who}: " + "; ".join(parts) if parts else f"{head} by {who}"


__all__ = [
    "CATALOGUE_LABELS",
    "FIELD_LABELS",
    "Names",
    "catalogue_value",
    "change_text",
    "colour_name",
    "describe_catalogue_event",
    "describe_customer_event",
    "describe_staff_event",
    "field_label",
    "value_text",
]

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
from frontdesk.data.outcomes import counted
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


# Settings items: custom field definitions, tags, customer and note categories, loyalty
# programs. Each event stores the item's name (unchanged: the same value twice), so that a
# deleted item is still named and an edit says which item it changed.
SETTING_ITEMS: dict[str, tuple[str, str]] = {  # entity -> (what a person calls it, name key)
    "custom_field": ("Custom field", "label"),
    "tag": ("Tag", "name"),
    "customer_category": ("Customer category", "name"),
    "note_category": ("Note category", "name"),
    "loyalty_program": ("Loyalty program", "name"),
}
SETTING_LABELS = {
    "label": "Label",
    "name": "Name",
    "key": "Key",
    "type": "Type",
    "required": "Required",
    "choices": "Choices",
    "help_text": "Help",
    "archived": "Archived",
    "position": "Position",
    "values": "Values",
    "customers": "Customers",
    "symbol": "Symbol",
    "colour": "Colour",
    "is_alert": "Alert",
    "unit": "Unit",
    "active": "Active",
    "default_expiry_days": "Points expire after",
    "points_per_currency_unit": "Points per currency unit",
    "points_per_visit": "Points per visit",
}
SETTING_HEADS = {
    "create": "added",
    "update": "changed",
    "rename": "renamed",
    "archive": "archived",
    "unarchive": "unarchived",
    "delete": "deleted",
    "move": "moved",
}


def setting_changes(
    entity: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[str, tuple[Any, Any]]:
    """What an audit event of a settings item stores: each changed value as (before, after),
    and the item's name first even when it did not change. Empty when nothing changed.
    ``before`` is None for a new item, ``after`` None for a deleted one."""
    name_key = SETTING_ITEMS[entity][1]
    old, new = dict(before or {}), dict(after or {})
    keys = list(dict.fromkeys([*new, *old]))
    changed = {k: (old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)}
    if not changed:
        return {}
    if name_key not in changed:
        name = new.get(name_key, old.get(name_key))
        return {name_key: (name, name), **changed}
    return {name_key: changed.pop(name_key), **changed}


def setting_value(name: str, value: Any) -> str:
    """A stored value of a settings item: "gold", "yes", "365 days", "Red, Blue"."""
    if value is None or value == "" or value == []:
        return EMPTY
    if name == "default_expiry_days" and isinstance(value, int) and not isinstance(value, bool):
        return f"{value} days"
    if name == "type" and isinstance(value, str):
        return value.replace("_", " ")
    if name in ("label", "name", "key", "help_text", "symbol", "unit") and isinstance(value, str):
        return value  # as typed, never read as a date
    return value_text(name, value)


def describe_setting_event(
    entity: str,
    action: str,
    actor_name: str | None,
    changes: Mapping[str, Any] | None,
    entity_id: int | None = None,
) -> str:
    """A settings item's event as one line: "Tag added by Alex: VIP (colour gold)",
    "Tag VIP renamed by Alex: Name: VIP → Gold", "Custom field Allergies changed by Alex:
    Required: no → yes", "Custom field Allergies deleted by Alex (12 values removed)"."""
    who = actor_name or "system"
    title, name_key = SETTING_ITEMS.get(entity, (entity.replace("_", " ").capitalize(), "name"))
    pairs: dict[str, tuple[Any, Any]] = {}
    for key, pair in dict(changes or {}).items():
        before, after = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        pairs[key] = (before, after)
    before_name, after_name = pairs.get(name_key, (None, None))
    shown_name = before_name or after_name
    name = str(shown_name) if shown_name not in (None, "") else f"#{entity_id or 0}"
    changed = {k: v for k, v in pairs.items() if v[0] != v[1]}
    if action == "update" and set(changed) == {name_key}:
        action = "rename"
    verb = SETTING_HEADS.get(action, action.replace("_", " "))
    if action == "create":
        name = str(after_name) if after_name not in (None, "") else name
        details = [
            f"{SETTING_LABELS.get(key, field_label(key)).lower()} {setting_value(key, after)}"
            for key, (_before, after) in pairs.items()
            if key != name_key and after not in (None, "", [], False)
        ]
        return f"{title} {verb} by {who}: {name}" + (f" ({', '.join(details)})" if details else "")
    if action == "delete":
        extra = ""
        gone = pairs.get("values", (None, None))[0]
        if isinstance(gone, int) and gone:
            extra = f" ({counted(gone, 'value')} removed)"
        had = pairs.get("customers", (None, None))[0]
        if isinstance(had, int) and had:
            extra = f" ({counted(had, 'customer')} had it)"
        return f"{title} {name} {verb} by {who}{extra}"
    if action == "move":
        before_pos, after_pos = pairs.get("position", (None, None))
        if isinstance(before_pos, int) and isinstance(after_pos, int) and before_pos != after_pos:
            verb += " up" if after_pos < before_pos else " down"
        return f"{title} {name} {verb} by {who}"
    if action in ("archive", "unarchive"):
        return f"{title} {name} {verb} by {who}"
    parts = [
        f"{SETTING_LABELS.get(key, field_label(key))}: "
        f"{setting_value(key, before)} → {setting_value(key, after)}"
        for key, (before, after) in changed.items()
    ]
    return f"{title} {name} {verb} by {who}" + (": " + "; ".join(parts) if parts else "")


# Events about the whole database: backups and restores ("database"), exports ("export").
DATA_EVENTS = ("database", "export")


def _count_of(value: Any, noun: str) -> str:
    count = value if isinstance(value, int) and not isinstance(value, bool) else 0
    return counted(count, noun)


REQUEST_VERBS = {"accept": "accepted", "decline": "declined", "resolve": "resolved"}
REQUEST_STATES = {
    "pending": "held for the desk to accept",
    "review": "waits for review",
    "booked": "booked",
    "declined": "declined",
    "accepted": "accepted",
}


def _afters(changes: Mapping[str, Any] | None) -> dict[str, Any]:
    """Each stored value's "after" half (events that record values as (None, value))."""
    out: dict[str, Any] = {}
    for key, pair in dict(changes or {}).items():
        out[key] = pair[1] if isinstance(pair, list | tuple) and len(pair) == 2 else pair
    return out


def describe_request_event(
    action: str, actor_name: str | None, entity_id: int | None, changes: Mapping[str, Any] | None
) -> str:
    """A booking request from outside as one line: "Booking request #5 from website: booked
    (booking #12, new customer)", "Booking request #5 declined by Rita Reception: double
    entry", "Booking request from website refused: start: 03:00 is outside the opening
    hours". (It showed "Booking request #5 create (booking_id, customer_created, ...)".)"""
    after = _afters(changes)
    channel = after.get("token") or "outside"
    if action == "refuse":
        field = f"{after['field']}: " if after.get("field") else ""
        return f"Booking request from {channel} refused: {field}{after.get('message') or ''}"
    head = f"Booking request #{entity_id or 0}"
    if action == "create":
        details = []
        if after.get("booking_id"):
            details.append(f"booking #{after['booking_id']}")
        if after.get("customer_created"):
            details.append("new customer")
        state = str(after.get("status") or "received")
        line = f"{head} from {channel}: {REQUEST_STATES.get(state, state)}"
        line += f" ({', '.join(details)})" if details else ""
        return line + (f": {after['reason']}" if after.get("reason") else "")
    who = actor_name or "system"
    verb = REQUEST_VERBS.get(action, action.replace("_", " "))
    line = f"{head} {verb} by {who}"
    if after.get("customer"):
        made = "new customer" if after.get("customer_created") else "customer"
        line += f": {made} {after['customer']}"
    if after.get("reason"):
        line += f": {after['reason']}"
    return line


def describe_deletion_event(
    action: str, actor_name: str | None, changes: Mapping[str, Any] | None
) -> str:
    """What deleting a customer did besides: "Deleting the customer cancelled 2 bookings
    (#12, #15)" (it showed "Deletion #472 cancelled_bookings (bookings)")."""
    after = _afters(changes)
    if action == "cancelled_bookings":
        ids = [str(b[0]) for b in after.get("bookings") or [] if isinstance(b, list | tuple) and b]
        shown = f" (#{', #'.join(ids)})" if ids else ""
        return f"Deleting the customer cancelled {_count_of(len(ids), 'booking')}{shown}"
    return f"Deletion: {action.replace('_', ' ')} by {actor_name or 'system'}"


def describe_data_event(
    action: str, actor_name: str | None, changes: Mapping[str, Any] | None
) -> str:
    """A backup, restore or export as one line: "Backup made by Alex Admin:
    frontdesk-20261129.db", "Export of 120 customers by Rita Reception: vip.csv", "Backup
    restored by Alex Admin: frontdesk-20261129.db (the database it replaced is in
    frontdesk-20261130.before-restore.db; 2 customers erased since were erased again)".
    File names are user data: the line is shown as text, never markup."""
    who = actor_name or "system"
    after: dict[str, Any] = {}
    for key, pair in dict(changes or {}).items():
        after[key] = pair[1] if isinstance(pair, list | tuple) and len(pair) == 2 else pair
    file = str(after.get("file") or EMPTY)
    if action == "export":
        return f"Export of {_count_of(after.get('customers'), 'customer')} by {who}: {file}"
    if action == "backup":
        return f"Backup made by {who}: {file}"
    if action == "restore_backup":
        notes = []
        if after.get("safety_copy"):
            notes.append(f"the database it replaced is in {after['safety_copy']}")
        again = after.get("erased_again")
        if isinstance(again, int) and again:
            were = "was" if again == 1 else "were"
            notes.append(f"{_count_of(again, 'customer')} erased since {were} erased again")
        return f"Backup restored by {who}: {file}" + (f" ({'; '.join(notes)})" if notes else "")
    return f"{action.replace('_', ' ').capitalize()} by {who}: {file}"


__all__ = [
    "CATALOGUE_LABELS",
    "DATA_EVENTS",
    "FIELD_LABELS",
    "SETTING_ITEMS",
    "Names",
    "catalogue_value",
    "change_text",
    "colour_name",
    "describe_catalogue_event",
    "describe_customer_event",
    "describe_data_event",
    "describe_setting_event",
    "describe_staff_event",
    "field_label",
    "setting_changes",
    "setting_value",
    "value_text",
]

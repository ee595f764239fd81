"""Who may do what (DESIGN.md section 7), in one table the services and the screens share.

``allowed(staff, "settings")`` answers for the acting staff member; nobody (no operator
resolved) may do anything beyond reading.
"""

from __future__ import annotations

from frontdesk.data.errors import FrontdeskError
from frontdesk.data.models import Staff

EVERYONE = frozenset({"admin", "reception", "therapist"})
DESK = frozenset({"admin", "reception"})
ADMIN = frozenset({"admin"})

# What reception may do in one go before it takes an admin (issue 11).
BULK_DELETE_LIMIT = 20
EXPORT_SELECTION_LIMIT = 500

PERMISSIONS: dict[str, frozenset[str]] = {
    "read": EVERYONE,  # therapists see customers and their own bookings
    "notes": EVERYONE,  # add notes; change or delete one's own
    "notes.others": DESK,  # change or delete a note someone else wrote
    "customers.write": DESK,
    "customers.delete": DESK,  # soft delete, undoable
    "delete.permanent": ADMIN,
    "bulk.delete": DESK,  # up to BULK_DELETE_LIMIT customers
    "bulk.delete.many": ADMIN,
    "book": DESK,
    "order": DESK,
    "refund": DESK,
    "rewards": DESK,
    "import": DESK,
    "export": DESK,  # a selection of up to EXPORT_SELECTION_LIMIT customers
    "export.full": ADMIN,
    "merge": DESK,
    "merge.many": ADMIN,
    "erase": ADMIN,
    "settings": ADMIN,
    "staff": ADMIN,
    "backup": ADMIN,
    "restore": ADMIN,
    "move": ADMIN,
    "audit": ADMIN,
    "insights": DESK,  # the business overview and report
    "tokens": ADMIN,  # API tokens for booking requests from outside
    "messages.send": DESK,  # write to one customer, retry a failed message
    "outbox.read": DESK,
    "consent.write": DESK,  # subscribe / unsubscribe (also in bulk)
    "newsletter.send": ADMIN,
    "templates.write": ADMIN,
}

DESCRIPTIONS = {
    "customers.write": "add or change customers",
    "customers.delete": "delete customers",
    "delete.permanent": "delete customers permanently",
    "bulk.delete": "delete customers in bulk",
    "bulk.delete.many": f"delete more than {BULK_DELETE_LIMIT} customers at once",
    "book": "book appointments",
    "order": "take orders",
    "notes.others": "change or delete notes others wrote",
    "refund": "refund orders",
    "rewards": "change loyalty points",
    "import": "import customers",
    "export": "export customers",
    "export.full": f"export more than {EXPORT_SELECTION_LIMIT} customers",
    "merge": "merge customers",
    "merge.many": "merge three or more customers at once",
    "erase": "erase a customer's personal data",
    "settings": "change settings",
    "staff": "manage staff",
    "backup": "back up the database",
    "restore": "restore a backup",
    "move": "move the business to another database",
    "audit": "see the audit log",
    "insights": "see the business overview",
    "tokens": "manage API tokens",
    "messages.send": "send messages to customers",
    "outbox.read": "see the outbox",
    "consent.write": "change customers' consent",
    "newsletter.send": "send newsletters",
    "templates.write": "change message templates",
    "money": "see orders, payments and what customers spent",
}


class NotAllowed(FrontdeskError):
    """The acting staff member's role does not allow this."""

    def __init__(self, action: str, staff: Staff | None) -> None:
        self.action = action
        what = DESCRIPTIONS.get(action, action)
        if staff is None:
            super().__init__(f"Choose who is operating (--staff) to {what}")
        else:
            super().__init__(f"{staff.name} ({staff.role}) may not {what}")


def allowed(staff: Staff | None, action: str) -> bool:
    if staff is None:
        return action == "read"
    return str(staff.role) in PERMISSIONS.get(action, ADMIN)


def require(staff: Staff | None, action: str) -> None:
    if not allowed(staff, action):
        raise NotAllowed(action, staff)


def sees_money(staff: Staff | None) -> bool:
    """Whether ``staff`` sees orders, payments, refunds and what a customer spent: a therapist
    reads customers, their own bookings and notes, nothing of the till."""
    return staff is None or str(staff.role) != "therapist"


def require_money(staff: Staff | None) -> None:
    if not sees_money(staff):
        raise NotAllowed("money", staff)


def own_bookings_only(staff: Staff | None) -> int | None:
    """The staff id whose bookings alone ``staff`` sees in lists of bookings across staff
    (a therapist sees their own), or None: every booking."""
    if staff is not None and str(staff.role) == "therapist":
        return staff.id or -1
    return None

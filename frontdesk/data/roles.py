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

PERMISSIONS: dict[str, frozenset[str]] = {
    "read": EVERYONE,
    "notes": EVERYONE,
    "customers.write": DESK,
    "book": DESK,
    "order": DESK,
    "rewards": DESK,
    "import": DESK,
    "export": DESK,
    "merge": DESK,
    "merge.many": ADMIN,
    "bulk.delete.many": ADMIN,
    "export.full": ADMIN,
    "erase": ADMIN,
    "settings": ADMIN,
    "staff": ADMIN,
    "restore": ADMIN,
}

DESCRIPTIONS = {
    "customers.write": "add or change customers",
    "book": "book appointments",
    "order": "take orders",
    "rewards": "change loyalty points",
    "import": "import customers",
    "export": "export customers",
    "merge": "merge customers",
    "merge.many": "merge three or more customers at once",
    "settings": "change settings",
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

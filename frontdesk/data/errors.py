"""Typed errors raised by the services. The interfaces turn them into clear messages."""

from __future__ import annotations

from typing import Any


class FrontdeskError(Exception):
    """Base of every error a service raises on purpose."""


class ValidationFailed(FrontdeskError):
    """A field has a value Frontdesk cannot accept."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class TargetExists(ValidationFailed):
    """The file to write already exists and replacing it was not asked for."""

    def __init__(self, path: Any) -> None:
        super().__init__("file", f"{path} already exists")
        self.path = path


class NotFound(FrontdeskError):
    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} {key} not found")
        self.what = what
        self.key = key


class DuplicateCustomer(FrontdeskError):
    """Another live customer already has this phone or email."""

    def __init__(self, field: str, existing: Any) -> None:
        self.field = field
        self.existing = existing
        self.existing_id: int = existing.id
        self.existing_code: str = existing.code
        self.existing_name: str = existing.full_name
        label = "phone" if field == "phone" else "email"
        super().__init__(f"{existing.code} {existing.full_name} already has this {label}")


class StaleRecord(FrontdeskError):
    """The record changed since it was read (another terminal saved it)."""

    def __init__(self, current: Any) -> None:
        self.current = current
        super().__init__(
            f"{getattr(current, 'code', 'record')} was changed by someone else "
            f"(now version {getattr(current, 'version', '?')})"
        )


class BlockedCustomer(FrontdeskError):
    def __init__(self, customer: Any) -> None:
        self.customer = customer
        super().__init__(
            f"{customer.code} {customer.full_name} is blocked: {customer.blocked_reason}"
        )


class InsufficientPoints(FrontdeskError):
    def __init__(self, balance: int, requested: int) -> None:
        self.balance = balance
        self.requested = requested
        super().__init__(f"only {balance} points available, {requested} requested")


class DoubleBooked(FrontdeskError):
    """The staff member already has a booking at that time."""

    def __init__(self, conflict: Any, suggestion: Any = None) -> None:
        self.conflict = conflict
        self.suggestion = suggestion
        super().__init__(
            f"the staff member already has booking #{getattr(conflict, 'id', '?')} then"
        )


class InvalidState(FrontdeskError):
    """The record is not in a state that allows this change (e.g. completing a cancelled booking)."""


class UnknownStaff(FrontdeskError):
    """``--staff`` (or the OS login) names nobody on the staff list."""

    def __init__(self, requested: str) -> None:
        self.requested = requested
        super().__init__(
            f"{requested!r} is not on the staff list: choose a staff member with --staff, "
            f"or ask an admin to add you (frontdesk staff add NAME --username {requested})"
        )


class InactiveStaff(FrontdeskError):
    """``--staff`` (or the OS login, or an open app's operator) names a deactivated member."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"{name} is no longer active; an admin can reactivate them")


class DatabaseBusy(FrontdeskError):
    """Another desk kept the database's write turn longer than the busy timeout."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"The database stayed busy for {seconds:g} s (another desk is writing); nothing "
            "was saved — try again"
        )

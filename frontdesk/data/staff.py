"""Staff members and branches: who is operating the app, and where."""

from __future__ import annotations

import getpass

from sqlalchemy import text
from sqlmodel import Session, col, func, select

from frontdesk.data.errors import UnknownStaff, ValidationFailed
from frontdesk.data.models import Branch, Staff, StaffRole
from frontdesk.data.roles import require
from frontdesk.data.validation import clean_line


def create_branch(*, session: Session, name: str, address: str | None = None) -> Branch:
    clean = clean_line("name", name, max_length=100)
    if not clean:
        raise ValidationFailed("name", "Branch name is required")
    address_text = clean_line("address", address, max_length=300)
    if session.exec(select(Branch).where(func.lower(col(Branch.name)) == clean.lower())).first():
        raise ValidationFailed("name", f"A branch called {clean!r} already exists")
    branch = Branch(name=clean, address=address_text)
    session.add(branch)
    session.flush()
    return branch


def list_branches(*, session: Session) -> list[Branch]:
    return list(session.exec(select(Branch).order_by(col(Branch.name))))


def create_staff(
    *,
    session: Session,
    name: str,
    role: StaffRole | str = StaffRole.RECEPTION,
    username: str | None = None,
    branch_id: int | None = None,
    actor: Staff | None = None,
) -> Staff:
    """Add a staff member: admins only (``roles.require(actor, "staff")``).

    The one exception is how a database gets its first admin: while it has no staff at all,
    an admin may be added with no actor."""
    clean = clean_line("name", name, max_length=100)
    if not clean:
        raise ValidationFailed("name", "Staff name is required")
    try:
        role_value = StaffRole(str(role).lower()).value
    except ValueError:
        raise ValidationFailed("role", "must be admin, reception or therapist") from None
    first = session.exec(select(Staff.id).limit(1)).first() is None
    if not (first and actor is None and role_value == StaffRole.ADMIN.value):
        require(actor, "staff")
    user = clean_line("username", username, max_length=100)
    if user and any(c.isspace() for c in user):
        raise ValidationFailed("username", "a username has no spaces (e.g. rita or nina.a)")
    # ``--staff`` finds a member by username or name (case-insensitive): each must name one
    # person only, or the second one could never be chosen (or would be chosen instead).
    for field_name, value in (("name", clean), ("username", user)):
        if value and find_staff(session=session, name_or_username=value) is not None:
            raise ValidationFailed(
                field_name, f"{value!r} already names a staff member; choose another"
            )
    staff = Staff(name=clean, role=role_value, username=user, branch_id=branch_id)
    session.add(staff)
    session.flush()
    return staff


def list_staff(*, session: Session, branch_id: int | None = None) -> list[Staff]:
    stmt = select(Staff).where(col(Staff.active).is_(True))
    if branch_id is not None:
        stmt = stmt.where(col(Staff.branch_id) == branch_id)
    return list(session.exec(stmt.order_by(col(Staff.name))))


def find_staff(*, session: Session, name_or_username: str) -> Staff | None:
    """Match a staff member by username, then by name (case-insensitive)."""
    text = name_or_username.strip()
    if not text:
        return None
    by_user = session.exec(select(Staff).where(col(Staff.username) == text)).first()
    if by_user:
        return by_user
    lowered = text.lower()
    for staff in session.exec(select(Staff).where(col(Staff.active).is_(True))):
        if staff.name.lower() == lowered or (staff.username or "").lower() == lowered:
            return staff
    return None


def os_login() -> str | None:
    try:
        return getpass.getuser() or None
    except Exception:
        return None


def ensure_first_admin(*, session: Session, requested: str | None) -> Staff | None:
    """On a database with no staff at all, make its first admin (``--staff`` or the OS login).

    Returns the new admin, or None when the database already has staff. Call it in a write
    transaction: SQLite begins writes IMMEDIATE and PostgreSQL locks the table, so two
    terminals starting at once on an empty database make one admin, not two.
    """
    if session.exec(select(Staff.id).limit(1)).first() is not None:
        return None  # the usual case, without a lock (a reading command holds none)
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text("LOCK TABLE staff IN SHARE ROW EXCLUSIVE MODE"))  # type: ignore[call-overload]
        if session.exec(select(Staff.id).limit(1)).first() is not None:
            return None  # another terminal made the first admin meanwhile
    name = (requested or os_login() or "admin").strip() or "admin"
    # A name with spaces ("Rita Reception") is found by name; a username has none.
    username = None if any(c.isspace() for c in name) else name
    return create_staff(session=session, name=name, role=StaffRole.ADMIN, username=username)


def allows_unknown_staff(session: Session) -> bool:
    from frontdesk.data.settings import get_setting

    return bool(get_setting(session=session, key="unknown_staff_read_only"))


def resolve_operator(*, session: Session, requested: str | None) -> Staff | None:
    """The staff member running the app: ``--staff``/settings value, else the OS login name.

    A name that matches nobody is refused (``UnknownStaff``) unless the business allows
    unknown staff to read (setting ``unknown_staff_read_only``): then the answer is None and
    every change is refused by the role checks. An OS login (no ``--staff``) that is not on
    the staff list is refused the same way.
    """
    ensure_first_admin(session=session, requested=requested)
    name = requested or os_login()
    found = find_staff(session=session, name_or_username=name) if name else None
    if found is not None or allows_unknown_staff(session):
        return found
    if name:
        raise UnknownStaff(name)
    return None

"""Staff members and branches: who is operating the app, and where."""

from __future__ import annotations

import getpass

from sqlmodel import Session, col, func, select

from frontdesk.data.errors import ValidationFailed
from frontdesk.data.models import Branch, Staff, StaffRole
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
) -> Staff:
    clean = clean_line("name", name, max_length=100)
    if not clean:
        raise ValidationFailed("name", "Staff name is required")
    try:
        role_value = StaffRole(str(role).lower()).value
    except ValueError:
        raise ValidationFailed("role", "must be admin, reception or therapist") from None
    user = clean_line("username", username, max_length=100)
    if user and session.exec(select(Staff).where(col(Staff.username) == user)).first():
        raise ValidationFailed("username", f"{user!r} is already taken")
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


def resolve_operator(*, session: Session, requested: str | None) -> Staff | None:
    """The staff member running the app: ``--staff``/settings value, else the OS login name."""
    if requested:
        return find_staff(session=session, name_or_username=requested)
    try:
        login = getpass.getuser()
    except Exception:
        return None
    return find_staff(session=session, name_or_username=login)

"""Staff members and branches: who is operating the app, and where."""

from __future__ import annotations

import getpass

from sqlalchemy import text
from sqlmodel import Session, col, select

from frontdesk.data import audit
from frontdesk.data.errors import InactiveStaff, NotFound, UnknownStaff, ValidationFailed
from frontdesk.data.models import Branch, Staff, StaffRole
from frontdesk.data.roles import NotAllowed, require
from frontdesk.data.validation import clean_line


def list_branches(*, session: Session) -> list[Branch]:
    return list(session.exec(select(Branch).order_by(col(Branch.name))))


ROLES_TEXT = "must be admin, reception or therapist"
# ``update_staff``'s branch when it is not to change (None means: at every branch).
UNCHANGED = object()


def _role_value(role: StaffRole | str) -> str:
    try:
        return StaffRole(str(role).strip().lower()).value
    except ValueError:
        raise ValidationFailed("role", ROLES_TEXT) from None


def _clean_name(name: str | None) -> str:
    clean = clean_line("name", name, max_length=100)
    if not clean:
        raise ValidationFailed("name", "Staff name is required")
    return clean


def _clean_username(username: str | None) -> str | None:
    user = clean_line("username", username, max_length=100)
    if user and any(c.isspace() for c in user):
        raise ValidationFailed("username", "a username has no spaces (e.g. rita or nina.a)")
    return user


def _named_by(session: Session, value: str) -> Staff | None:
    """Whoever, active or not, is known by ``value`` (their username exactly, or their name or
    username in any case): a deactivated member may come back, so their names stay theirs."""
    lowered = value.lower()
    # Active members first: a name shared with a deactivated member (from before names had
    # to be unique) still finds the one who works here.
    everyone = sorted(session.exec(select(Staff)), key=lambda s: (not s.active, s.id or 0))
    for staff in everyone:
        if staff.username == value:
            return staff
    for staff in everyone:
        if staff.name.lower() == lowered or (staff.username or "").lower() == lowered:
            return staff
    return None


def _check_unique(
    session: Session,
    *,
    name: str | None,
    username: str | None,
    member_id: int | None = None,
    then: str = "choose another",
) -> None:
    # ``--staff`` finds a member by username or name (case-insensitive): each must name one
    # person only, or the second one could never be chosen (or would be chosen instead).
    for field_name, value in (("name", name), ("username", username)):
        if not value:
            continue
        other = _named_by(session, value)
        if other is not None and (member_id is None or other.id != member_id):
            raise ValidationFailed(field_name, f"{value!r} already names a staff member; {then}")


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
    an admin may be added with no actor. An admin's addition is kept in the audit log."""
    clean = _clean_name(name)
    role_value = _role_value(role)
    first = session.exec(select(Staff.id).limit(1)).first() is None
    if not (first and actor is None and role_value == StaffRole.ADMIN.value):
        actor = _acting_admin(session, actor)
    user = _clean_username(username)
    _check_unique(session, name=clean, username=user)
    branch = _branch_for(session, branch_id)
    staff = Staff(name=clean, role=role_value, username=user, branch_id=branch)
    session.add(staff)
    session.flush()
    if actor is not None:
        audit.record(
            session=session,
            actor=actor,
            entity="staff",
            entity_id=staff.id or 0,
            action="create",
            changes={
                "name": (None, clean),
                "username": (None, user),
                "role": (None, role_value),
                "branch_id": (None, branch),
            },
        )
    return staff


# --------------------------------------------------------------------------- changing staff


def _acting_admin(session: Session, actor: Staff | None) -> Staff | None:
    """``actor``, allowed to manage staff as the database has them now: an app opened before
    its operator was deactivated or demoted may no longer manage staff."""
    require(actor, "staff")
    if actor is None or actor.id is None:
        return actor  # a test's actor that is in no database: its role alone
    current = session.get(Staff, actor.id)
    if current is None:
        raise NotAllowed("staff", actor)
    if not current.active:
        raise InactiveStaff(current.name)
    require(current, "staff")
    return current


def get_member(*, session: Session, member_id: int) -> Staff:
    member = session.get(Staff, member_id)
    if member is None:
        raise NotFound("staff member", member_id)
    return member


def _other_active_admins(session: Session, member: Staff) -> int:
    """How many active admins there are besides ``member``; the rows are locked (PostgreSQL)
    so that two admins demoting each other at once cannot leave the business without one."""
    admins = session.exec(
        select(Staff)
        .where(col(Staff.role) == StaffRole.ADMIN.value, col(Staff.active).is_(True))
        .with_for_update()
    ).all()
    return sum(1 for a in admins if a.id != member.id)


def update_staff(
    *,
    session: Session,
    member_id: int,
    actor: Staff | None,
    name: str | None = None,
    username: str | None = None,
    role: StaffRole | str | None = None,
    branch_id: int | object | None = UNCHANGED,
) -> Staff:
    """Change a staff member's name, username, role and/or branch (None: unchanged; a
    username of "" removes it; ``branch_id`` None: at every branch). One audit event lists
    what changed as {field: [before, after]}.

    An admin cannot take away their own admin role, and the last active admin stays one."""
    acting = _acting_admin(session, actor)
    member = get_member(session=session, member_id=member_id)
    changes: dict[str, tuple[object, object]] = {}
    new_name = _clean_name(name) if name is not None else member.name
    new_user = _clean_username(username) if username is not None else member.username
    new_role = _role_value(role) if role is not None else member.role
    _check_unique(
        session,
        name=new_name if new_name != member.name else None,
        username=new_user if new_user != member.username else None,
        member_id=member.id,
    )
    if member.role == StaffRole.ADMIN.value and new_role != member.role:
        if acting is not None and acting.id is not None and acting.id == member.id:
            raise ValidationFailed(
                "role", "you cannot remove your own admin role; ask another admin"
            )
        if member.active and _other_active_admins(session, member) == 0:
            raise ValidationFailed(
                "role",
                f"{member.name} is the last active admin; make someone else admin first",
            )
    # Only a new branch is checked (a member at a branch deactivated since stays editable).
    same = branch_id is UNCHANGED or branch_id == member.branch_id
    new_branch = member.branch_id if same else _branch_for(session, branch_id)
    for field_name, after in (
        ("name", new_name),
        ("username", new_user),
        ("role", new_role),
        ("branch_id", new_branch),
    ):
        before = getattr(member, field_name)
        if before != after:
            changes[field_name] = (before, after)
            setattr(member, field_name, after)
    if changes:
        session.add(member)
        session.flush()
        audit.record(
            session=session,
            actor=acting,
            entity="staff",
            entity_id=member.id or 0,
            action="update",
            changes=changes,
        )
    return member


def _branch_for(session: Session, branch_id: object) -> int | None:
    """``branch_id`` as a branch staff can be put at: an active one, or None (every one)."""
    if branch_id is None:
        return None
    branch = session.get(Branch, branch_id) if isinstance(branch_id, int) else None
    if branch is None:
        raise ValidationFailed("branch", "no such branch")
    if not branch.active:
        raise ValidationFailed("branch", f"{branch.name} is deactivated: reactivate it first")
    return branch.id


def set_staff_branch(
    *, session: Session, member_id: int, branch_id: int | None, actor: Staff | None
) -> Staff:
    """Where a staff member works (None: at every branch; the booking form, the day sheet
    and the booking requests offer them there)."""
    return update_staff(session=session, member_id=member_id, branch_id=branch_id, actor=actor)


def set_staff_role(
    *, session: Session, member_id: int, role: StaffRole | str, actor: Staff | None
) -> Staff:
    """Change a staff member's role (admin, reception or therapist)."""
    return update_staff(session=session, member_id=member_id, role=role, actor=actor)


def rename_staff(
    *,
    session: Session,
    member_id: int,
    actor: Staff | None,
    name: str | None = None,
    username: str | None = None,
) -> Staff:
    """Change a staff member's name and/or username (the same rules as adding one)."""
    if name is None and username is None:
        raise ValidationFailed("name", "give a new name or username")
    return update_staff(
        session=session, member_id=member_id, name=name, username=username, actor=actor
    )


def set_staff_active(
    *, session: Session, member_id: int, active: bool, actor: Staff | None
) -> Staff:
    """Deactivate (a departed employee: they can no longer operate the app, their history
    stays) or reactivate a staff member. An admin cannot deactivate themselves, and the last
    active admin cannot be deactivated."""
    acting = _acting_admin(session, actor)
    member = get_member(session=session, member_id=member_id)
    if member.active == active:
        return member
    if active:
        # Back on the staff list: their name and username must still name only them (a
        # name or username given to someone else meanwhile is refused, with what to change).
        _check_unique(
            session,
            name=member.name,
            username=member.username,
            member_id=member.id,
            then="rename one of them first",
        )
    if not active:
        if acting is not None and acting.id is not None and acting.id == member.id:
            raise ValidationFailed("active", "you cannot deactivate yourself; ask another admin")
        if member.role == StaffRole.ADMIN.value and _other_active_admins(session, member) == 0:
            raise ValidationFailed(
                "active",
                f"{member.name} is the last active admin and cannot be deactivated; "
                "make someone else admin first",
            )
    member.active = active
    session.add(member)
    session.flush()
    audit.record(
        session=session,
        actor=acting,
        entity="staff",
        entity_id=member.id or 0,
        action="reactivate" if active else "deactivate",
        changes={"active": (not active, active)},
    )
    return member


def deactivate_staff(*, session: Session, member_id: int, actor: Staff | None) -> Staff:
    return set_staff_active(session=session, member_id=member_id, active=False, actor=actor)


def reactivate_staff(*, session: Session, member_id: int, actor: Staff | None) -> Staff:
    return set_staff_active(session=session, member_id=member_id, active=True, actor=actor)


def save_staff_form(
    *,
    session: Session,
    name: str,
    username: str,
    role: str,
    actor: Staff | None,
    member_id: int | None = None,
    branch_id: int | object | None = UNCHANGED,
) -> Staff:
    """The settings screen's staff dialog as typed: add a member (no ``member_id``) or change
    one's name, username, role and branch in one transaction (``branch_id`` None: every
    branch; not given: unchanged, or every branch for a new member)."""
    if member_id is None:
        return create_staff(
            session=session,
            name=name,
            username=username,
            role=role,
            branch_id=None if branch_id is UNCHANGED else branch_id,  # type: ignore[arg-type]
            actor=actor,
        )
    return update_staff(
        session=session,
        member_id=member_id,
        name=name,
        username=username,
        role=role,
        branch_id=branch_id,
        actor=actor,
    )


def list_staff(
    *, session: Session, branch_id: int | None = None, include_inactive: bool = False
) -> list[Staff]:
    """Active staff by name; ``include_inactive``: the deactivated ones too."""
    stmt = select(Staff)
    if not include_inactive:
        stmt = stmt.where(col(Staff.active).is_(True))
    if branch_id is not None:
        stmt = stmt.where(col(Staff.branch_id) == branch_id)
    return list(session.exec(stmt.order_by(col(Staff.name))))


def find_staff(
    *, session: Session, name_or_username: str, include_inactive: bool = False
) -> Staff | None:
    """Match an active staff member by username, then by name or username (case-insensitive);
    ``include_inactive``: a deactivated member too."""
    text = name_or_username.strip()
    if not text:
        return None
    found = _named_by(session, text)
    if found is not None and (include_inactive or found.active):
        return found
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


def refresh_operator(*, session: Session, operator: Staff) -> bool:
    """Bring an open app's ``operator`` (the object every service call is given) up to date
    with the staff list: a role or name changed meanwhile counts from now on (the object is
    changed in place); a member deactivated or removed meanwhile is refused
    (``InactiveStaff``). Returns whether anything changed."""
    row = session.exec(select(Staff).where(col(Staff.id) == operator.id)).first()
    if row is None:
        raise InactiveStaff(operator.name)
    if not row.active:
        raise InactiveStaff(row.name)
    now = (row.name, row.role, row.branch_id, row.username)
    if (operator.name, operator.role, operator.branch_id, operator.username) == now:
        return False
    operator.name, operator.role, operator.branch_id, operator.username = now
    return True


def resolve_operator(*, session: Session, requested: str | None) -> Staff | None:
    """The staff member running the app: ``--staff``/settings value, else the OS login name.

    A name that matches nobody is refused (``UnknownStaff``) unless the business allows
    unknown staff to read (setting ``unknown_staff_read_only``): then the answer is None and
    every change is refused by the role checks. An OS login (no ``--staff``) that is not on
    the staff list is refused the same way. A deactivated member is refused (``InactiveStaff``).
    """
    ensure_first_admin(session=session, requested=requested)
    name = requested or os_login()
    found = (
        find_staff(session=session, name_or_username=name, include_inactive=True) if name else None
    )
    if found is not None and not found.active:
        raise InactiveStaff(found.name)  # a departed employee: never acts, not even to read
    if found is not None or allows_unknown_staff(session):
        return found
    if name:
        raise UnknownStaff(name)
    return None

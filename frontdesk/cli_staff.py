"""Changing staff members: ``staff set-role``, ``rename``, ``set-branch``, ``deactivate``,
``reactivate``.

Registered on the ``frontdesk staff`` group by frontdesk.cli; the work is done by
frontdesk.data.staff (admins only, every change in the audit log). The acting admin is the
global ``--staff``: ``frontdesk --staff admin staff deactivate rita``.
"""

from __future__ import annotations

from collections.abc import Callable

import click
from sqlmodel import Session

from frontdesk.cli_base import db_option, error_line, fail, say, write_as
from frontdesk.data.errors import FrontdeskError, ValidationFailed
from frontdesk.data.models import Staff

# (session, the member, the acting admin) -> the line to print once committed.
Change = Callable[[Session, Staff, Staff | None], str]


def _line(exc: FrontdeskError) -> str:
    if isinstance(exc, ValidationFailed) and exc.field == "active":
        return exc.message[:1].upper() + exc.message[1:]  # a sentence, not a field
    return error_line(exc)


def _change(ctx: click.Context, db: str | None, name: str, work: Change) -> None:
    """Find ``name`` (active or not), do ``work`` in one transaction, print what it says."""
    from frontdesk.data.staff import find_staff

    def change(session: Session, actor: Staff | None) -> str:
        member = find_staff(session=session, name_or_username=name, include_inactive=True)
        if member is None:
            fail(f"{name!r} is not on the staff list (see frontdesk staff list --all)")
        return work(session, member, actor)

    say(write_as(ctx, db, change, _line))


@click.command("set-role")
@db_option
@click.argument("name")
@click.argument("role", metavar="admin|reception|therapist")
@click.pass_context
def set_role(ctx: click.Context, db: str | None, name: str, role: str) -> None:
    """Change a staff member's role (admins)."""
    from frontdesk.data.staff import set_staff_role

    def work(session: Session, member: Staff, actor: Staff | None) -> str:
        before = member.role
        set_staff_role(session=session, member_id=member.id or 0, role=role, actor=actor)
        if member.role == before:
            return f"{member.name} is already {member.role}"
        return f"{member.name} is now {member.role} (was {before})"

    _change(ctx, db, name, work)


@click.command("rename")
@db_option
@click.argument("name")
@click.option("--name", "new_name", metavar="NAME", help="The new name.")
@click.option("--username", "new_username", metavar="U", help='The new username ("" removes it).')
@click.pass_context
def rename(
    ctx: click.Context,
    db: str | None,
    name: str,
    new_name: str | None,
    new_username: str | None,
) -> None:
    """Change a staff member's name and/or username (admins)."""
    from frontdesk.data.staff import rename_staff

    if new_name is None and new_username is None:
        fail("give the new --name and/or --username")

    def work(session: Session, member: Staff, actor: Staff | None) -> str:
        before = (member.name, member.username)
        rename_staff(
            session=session,
            member_id=member.id or 0,
            name=new_name,
            username=new_username,
            actor=actor,
        )
        if (member.name, member.username) == before:
            return f"Nothing to change: {member.name} ({member.username or 'no username'})"
        return (
            f"Renamed {before[0]} ({before[1] or 'no username'}) to "
            f"{member.name} ({member.username or 'no username'})"
        )

    _change(ctx, db, name, work)


@click.command("deactivate")
@db_option
@click.argument("name")
@click.pass_context
def deactivate(ctx: click.Context, db: str | None, name: str) -> None:
    """Deactivate a staff member who left: they can no longer operate Frontdesk; their
    history stays (admins)."""
    from frontdesk.data.staff import deactivate_staff

    def work(session: Session, member: Staff, actor: Staff | None) -> str:
        was_active = member.active
        deactivate_staff(session=session, member_id=member.id or 0, actor=actor)
        if not was_active:
            return f"{member.name} is already inactive"
        again = member.username or member.name
        return (
            f"Deactivated {member.name}: they can no longer operate Frontdesk "
            f"(frontdesk staff reactivate {again!r} brings them back)"
        )

    _change(ctx, db, name, work)


@click.command("reactivate")
@db_option
@click.argument("name")
@click.pass_context
def reactivate(ctx: click.Context, db: str | None, name: str) -> None:
    """Reactivate a deactivated staff member (admins)."""
    from frontdesk.data.staff import reactivate_staff

    def work(session: Session, member: Staff, actor: Staff | None) -> str:
        was_active = member.active
        reactivate_staff(session=session, member_id=member.id or 0, actor=actor)
        if was_active:
            return f"{member.name} is already active"
        return f"Reactivated {member.name} ({member.role})"

    _change(ctx, db, name, work)


@click.command("set-branch")
@db_option
@click.argument("name")
@click.argument("branch", metavar="BRANCH|every")
@click.pass_context
def set_branch(ctx: click.Context, db: str | None, name: str, branch: str) -> None:
    """Where a staff member works: a branch (name or id), or "every" (at every branch; the
    booking form, the day sheet and booking requests offer them at each) (admins)."""
    from frontdesk.data.catalogue import find_branch
    from frontdesk.data.staff import set_staff_branch

    def work(session: Session, member: Staff, actor: Staff | None) -> str:
        every = branch.strip().lower() in ("every", "all", "none")
        branch_id = None if every else find_branch(session=session, text=branch).id
        set_staff_branch(
            session=session, member_id=member.id or 0, branch_id=branch_id, actor=actor
        )
        where = (
            "every branch" if branch_id is None else find_branch(session=session, text=branch).name
        )
        return f"{member.name} works at {where}"

    _change(ctx, db, name, work)


COMMANDS: list[click.Command] = [set_role, rename, set_branch, deactivate, reactivate]

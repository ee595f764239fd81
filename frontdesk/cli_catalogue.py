"""Command line for the catalogue: ``frontdesk branches ...`` and ``frontdesk services ...``.

Admins add, change, deactivate and reactivate branches and services (a new business has none
until it adds them); everyone may list them. Registered on ``frontdesk.cli.main`` at the end
of that module. A branch or a service is named by its name (any case) or its id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from rich.table import Table
from sqlmodel import Session

from frontdesk.cli_base import acting, db_option, fail, opened, out, say, write_as
from frontdesk.data import catalogue
from frontdesk.data.models import Staff
from frontdesk.data.validation import format_phone
from frontdesk.text import user_text


def _load(ctx: click.Context, db: str | None) -> catalogue.Catalogue:
    with opened(ctx, db) as engine, Session(engine) as session:
        acting(ctx, session)  # an unknown name reads nothing either
        view = catalogue.load_catalogue(session=session)
        session.commit()  # a new database's first admin, made by acting()
        return view


def _state(active: bool) -> str:
    return "active" if active else "deactivated"


# --------------------------------------------------------------------------- branches


@click.group("branches")
def branches() -> None:
    """Branches (locations) of the business: list, add, edit, deactivate, reactivate."""


@branches.command("list")
@db_option
@click.pass_context
def branches_list(ctx: click.Context, db: str | None) -> None:
    """Every branch, deactivated ones too."""
    view = _load(ctx, db)
    if not view.branches:
        say("No branches yet. Add one: frontdesk branches add NAME --address TEXT --phone NUMBER")
        return
    table = Table(header_style="bold")
    for column in ("Id", "Name", "Address", "Phone", "State"):
        table.add_column(column)
    for b in view.branches:
        table.add_row(
            user_text(b.id),
            user_text(b.name),
            user_text(b.address),
            user_text(format_phone(b.phone) if b.phone else ""),
            user_text(_state(b.active)),
        )
    out.print(table)


@branches.command("add")
@db_option
@click.argument("name")
@click.option("--address", default=None, help="Street address.")
@click.option("--phone", default=None, help="Phone (+country code, or of the business's country).")
@click.pass_context
def branches_add(
    ctx: click.Context, db: str | None, name: str, address: str | None, phone: str | None
) -> None:
    """Add a branch (admins)."""
    branch = write_as(
        ctx,
        db,
        lambda s, actor: catalogue.add_branch(
            session=s, name=name, address=address, phone=phone, actor=actor
        ),
    )
    say(f"Added branch {branch.id}: {branch.name}")


@branches.command("edit")
@db_option
@click.argument("branch")
@click.option("--name", default=None, help="New name.")
@click.option("--address", default=None, help='New address ("" clears it).')
@click.option("--phone", default=None, help='New phone ("" clears it).')
@click.pass_context
def branches_edit(
    ctx: click.Context,
    db: str | None,
    branch: str,
    name: str | None,
    address: str | None,
    phone: str | None,
) -> None:
    """Rename a branch or change its address or phone (admins). BRANCH: its name or id."""
    if name is None and address is None and phone is None:
        fail("nothing to change: give --name, --address or --phone")

    def work(s: Session, actor: Staff | None) -> Any:
        row = catalogue.find_branch(session=s, text=branch)
        return catalogue.change_branch(
            session=s, branch_id=row.id or 0, name=name, address=address, phone=phone, actor=actor
        )

    changed = write_as(ctx, db, work)
    say(f"Saved branch {changed.id}: {changed.name}")


def _active_command(
    what: str,
    active: bool,
    set_active: Callable[[Session, str, bool, Staff | None], Any],
    help_text: str,
) -> click.Command:
    """``deactivate`` or ``reactivate`` a branch or a service named by its name or id."""

    @click.command("reactivate" if active else "deactivate", help=help_text)
    @db_option
    @click.argument(what.upper())
    @click.pass_context
    def command(ctx: click.Context, db: str | None, **named: str) -> None:
        changed = write_as(ctx, db, lambda s, actor: set_active(s, named[what], active, actor))
        say(f"{what.capitalize()} {changed.id}: {changed.name} is {_state(changed.active)}")

    return command


def _set_branch_active(s: Session, text: str, active: bool, actor: Staff | None) -> Any:
    row = catalogue.find_branch(session=s, text=text)
    return catalogue.set_branch_active(session=s, branch_id=row.id or 0, active=active, actor=actor)


def _set_service_active(s: Session, text: str, active: bool, actor: Staff | None) -> Any:
    row = catalogue.find_service(session=s, text=text)
    return catalogue.set_service_active(
        session=s, service_id=row.id or 0, active=active, actor=actor
    )


branches.add_command(
    _active_command(
        "branch",
        False,
        _set_branch_active,
        "Stop new bookings at a branch (admins); bookings made keep it. BRANCH: name or id.",
    )
)
branches.add_command(
    _active_command(
        "branch",
        True,
        _set_branch_active,
        "Take a branch back into use (admins). BRANCH: its name or id.",
    )
)


# --------------------------------------------------------------------------- services


@click.group("services")
def services() -> None:
    """Services that can be booked (type, duration, price): list, add, edit, deactivate,
    reactivate."""


@services.command("list")
@db_option
@click.pass_context
def services_list(ctx: click.Context, db: str | None) -> None:
    """Every service by type, deactivated ones too."""
    view = _load(ctx, db)
    if not view.services:
        say(
            "No services yet. Add one: frontdesk services add NAME --type TYPE --minutes 45 "
            "--price 45.00"
        )
        return
    table = Table(header_style="bold")
    for column in ("Id", "Type", "Service", "Minutes", "Price", "State"):
        table.add_column(column)
    for s in view.services:
        table.add_row(
            user_text(s.id),
            user_text(s.type_name),
            user_text(s.name),
            user_text(s.duration_minutes),
            user_text(s.price),
            user_text(_state(s.active)),
        )
    out.print(table)


@services.command("add")
@db_option
@click.argument("name")
@click.option(
    "--type", "type_name", required=True, help="Type (category), e.g. Hair: made when new."
)
@click.option("--minutes", required=True, help="Duration in minutes (5 to 720).")
@click.option("--price", required=True, help="Price, e.g. 45.00.")
@click.pass_context
def services_add(
    ctx: click.Context, db: str | None, name: str, type_name: str, minutes: str, price: str
) -> None:
    """Add a service (admins): bookable at once."""
    service = write_as(
        ctx,
        db,
        lambda s, actor: catalogue.add_service(
            session=s,
            type_name=type_name,
            name=name,
            duration_minutes=minutes,
            price=price,
            actor=actor,
        ),
    )
    say(
        f"Added service {service.id}: {service.name} ({service.duration_minutes} min, "
        f"{catalogue.money_text(service.price_cents)})"
    )


@services.command("edit")
@db_option
@click.argument("service")
@click.option("--name", default=None, help="New name.")
@click.option("--type", "type_name", default=None, help="Another type (made when new).")
@click.option("--minutes", default=None, help="New duration in minutes (5 to 720).")
@click.option("--price", default=None, help="New price, e.g. 50.00.")
@click.pass_context
def services_edit(
    ctx: click.Context,
    db: str | None,
    service: str,
    name: str | None,
    type_name: str | None,
    minutes: str | None,
    price: str | None,
) -> None:
    """Change a service's name, type, duration or price (admins). SERVICE: its name or id.
    Bookings already made keep their times and price."""
    if name is None and type_name is None and minutes is None and price is None:
        fail("nothing to change: give --name, --type, --minutes or --price")

    def work(s: Session, actor: Staff | None) -> Any:
        row = catalogue.find_service(session=s, text=service)
        return catalogue.change_service(
            session=s,
            service_id=row.id or 0,
            name=name,
            type_name=type_name,
            duration_minutes=minutes,
            price=price,
            actor=actor,
        )

    changed = write_as(ctx, db, work)
    say(
        f"Saved service {changed.id}: {changed.name} ({changed.duration_minutes} min, "
        f"{catalogue.money_text(changed.price_cents)})"
    )


services.add_command(
    _active_command(
        "service",
        False,
        _set_service_active,
        "Stop offering a service for new bookings (admins); bookings made keep it. "
        "SERVICE: its name or id.",
    )
)
services.add_command(
    _active_command(
        "service",
        True,
        _set_service_active,
        "Offer a service again (admins). SERVICE: its name or id.",
    )
)


COMMANDS: list[click.Command] = [branches, services]

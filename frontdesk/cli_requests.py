"""Command line for bookings from outside: ``serve`` (the HTTP API), ``tokens``, ``bookings``.

Registered on ``frontdesk.cli.main`` at the end of that module.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from rich.table import Table
from sqlmodel import Session, col, select

from frontdesk.cli_base import acting, db_option, dump_json, error_line, fail, opened, out, say
from frontdesk.data.errors import FrontdeskError
from frontdesk.text import user_text


@click.command("serve")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8700, show_default=True)
@click.pass_context
def serve(ctx: click.Context, db: str | None, host: str, port: int) -> None:
    """Serve the booking API (booking requests, availability, customer lookup) for an online
    booking page or an assistant. Callers need a token: frontdesk tokens add NAME."""
    import uvicorn

    from frontdesk.api import create_app

    with opened(ctx, db) as engine:
        if host not in ("127.0.0.1", "localhost", "::1"):
            say(
                f"Warning: listening on {host}: put it behind HTTPS (a reverse proxy) before "
                "anything outside this machine calls it.",
                console=None,
            )
        say(f"Frontdesk booking API on http://{host}:{port}/api/v1  (OpenAPI: /openapi.json)")
        uvicorn.run(create_app(engine), host=host, port=port, log_level="info")


@click.group("tokens")
def tokens() -> None:
    """API tokens for the booking API (admins): add, list, revoke."""


@tokens.command("add")
@db_option
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(["bookings", "customers:read"]),
    help="What the token may do (repeat; default: bookings).",
)
@click.pass_context
def tokens_add(ctx: click.Context, db: str | None, name: str, scopes: tuple[str, ...]) -> None:
    """Make a token and print it once (only its hash is stored)."""
    from frontdesk.data.api_tokens import create_token

    with opened(ctx, db) as engine, Session(engine) as session:
        actor = acting(ctx, session)
        try:
            new = create_token(session=session, name=name, scopes=scopes, actor=actor)
            session.commit()
        except FrontdeskError as exc:
            session.rollback()
            fail(error_line(exc))
    say(
        f"Token {new.view.name} ({', '.join(new.view.scopes)}). Copy it now, it is not shown again:"
    )
    click.echo(new.token)


@tokens.command("list")
@db_option
@click.pass_context
def tokens_list(ctx: click.Context, db: str | None) -> None:
    from frontdesk.data.api_tokens import list_tokens

    with opened(ctx, db) as engine, Session(engine) as session:
        actor = acting(ctx, session)
        try:
            rows = list_tokens(session=session, actor=actor)
        except FrontdeskError as exc:
            fail(error_line(exc))
    table = Table(header_style="bold")
    for column in ("Name", "Scopes", "Created", "Last used", "Revoked"):
        table.add_column(column)
    for t in rows:
        table.add_row(
            user_text(t.name),
            user_text(", ".join(t.scopes)),
            user_text(f"{t.created_at:%Y-%m-%d %H:%M}"),
            user_text(f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "-"),
            user_text(f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "-"),
        )
    out.print(table)


@tokens.command("revoke")
@db_option
@click.argument("name")
@click.pass_context
def tokens_revoke(ctx: click.Context, db: str | None, name: str) -> None:
    """Stop a token at once."""
    from frontdesk.data.api_tokens import revoke_token

    with opened(ctx, db) as engine, Session(engine) as session:
        actor = acting(ctx, session)
        try:
            revoke_token(session=session, name=name, actor=actor)
            session.commit()
        except FrontdeskError as exc:
            session.rollback()
            fail(error_line(exc))
    say(f"Revoked token {name}")


@click.group("bookings")
def bookings_group() -> None:
    """Book from scripts (matching the customer by phone or email as the API does) and list a
    day's bookings."""


@bookings_group.command("add")
@db_option
@click.option("--phone")
@click.option("--email")
@click.option("--first-name", "first_name", help="Name for a customer not known yet.")
@click.option("--service", required=True, help="Service name or id.")
@click.option("--at", "at", required=True, metavar='"YYYY-MM-DD HH:MM"', help="Start (local).")
@click.option("--staff", "staff_name", help="Staff member (default: the first one free).")
@click.option("--branch", help="Branch name or id (optional with one branch).")
@click.option("--notes")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def bookings_add(
    ctx: click.Context,
    db: str | None,
    phone: str | None,
    email: str | None,
    first_name: str | None,
    service: str,
    at: str,
    staff_name: str | None,
    branch: str | None,
    notes: str | None,
    as_json: bool,
) -> None:
    """Book for the customer with this phone or email (created when nobody has it).

    Exit 0 booked; 3 waiting for review at the desk (phone and email of two customers, or
    another name); 1 refused (blocked customer, slot taken, bad input)."""
    from frontdesk.data import booking_requests as br

    with opened(ctx, db) as engine, Session(engine, expire_on_commit=False) as session:
        actor = acting(ctx, session)
        if actor is None:
            fail("Choose who is operating (--staff) to book appointments")
        try:
            result = br.submit_request(
                session=session,
                data=br.RequestIn(
                    name=first_name,
                    phone=phone,
                    email=email,
                    service=service,
                    start=at,
                    staff=staff_name,
                    branch=branch,
                    notes=notes,
                    source="cli",
                ),
                actor=actor,
                channel="cli",
                confirm=True,
                at_the_desk=True,
            )
            session.commit()
        except FrontdeskError as exc:
            session.rollback()
            message = f"start: {exc}" if isinstance(exc, br.SlotTaken) else error_line(exc)
            fail(message)
        reason = None
        if result.status in ("review", "declined"):
            from frontdesk.data.models import BookingRequest

            row = session.get(BookingRequest, result.request_id)
            reason = row.reason if row else None
    if as_json:
        click.echo(dump_json({**result.as_json(), "reason": reason}))
    elif result.status == "review":
        say(f"Waiting for review at the desk (request #{result.request_id}): {reason}")
    elif result.status == "declined":
        say(f"Refused: the customer is blocked (request #{result.request_id})")
    else:
        when = result.start_at.strftime("%Y-%m-%d %H:%M") if result.start_at else "?"
        made = " (new customer)" if result.customer_created else ""
        say(
            f"Booked {result.customer_code}{made}: {result.service} with {result.staff}, "
            f"{when} (booking #{result.booking_id})"
        )
    if result.status == "review":
        raise SystemExit(3)
    if result.status == "declined":
        raise SystemExit(1)


@bookings_group.command("list")
@db_option
@click.option("--date", "day", required=True, metavar="YYYY-MM-DD")
@click.option("--json", "as_json", is_flag=True, help="Print the bookings as JSON.")
@click.pass_context
def bookings_list(ctx: click.Context, db: str | None, day: str, as_json: bool) -> None:
    """The bookings of one day (every branch), by time."""
    from frontdesk.data.booking_flow import local_tz, parse_day
    from frontdesk.data.models import Booking, Branch, Customer, Service, Staff
    from frontdesk.data.roles import own_bookings_only

    try:
        the_day = parse_day(day)
    except FrontdeskError as exc:
        fail(error_line(exc))
    begin = datetime.combine(the_day, datetime.min.time(), local_tz())
    with opened(ctx, db) as engine, Session(engine) as session:
        actor = acting(ctx, session)
        stmt = (
            select(Booking, Customer, Service, Branch)
            .join(Customer, col(Customer.id) == col(Booking.customer_id))
            .join(Service, col(Service.id) == col(Booking.service_id))
            .join(Branch, col(Branch.id) == col(Booking.branch_id))
            .where(
                col(Booking.start_at) >= begin, col(Booking.start_at) < begin + timedelta(days=1)
            )
            .order_by(col(Booking.start_at), col(Booking.id))
        )
        own = own_bookings_only(actor)
        if own is not None:
            stmt = stmt.where(col(Booking.staff_id) == own)
        rows = []
        for b, c, s, br_ in session.exec(stmt).all():
            member = session.get(Staff, b.staff_id) if b.staff_id else None
            start = b.start_at if b.start_at.tzinfo else b.start_at.replace(tzinfo=UTC)
            rows.append(
                {
                    "id": b.id,
                    "start": start.isoformat(),
                    "customer_code": c.code,
                    "customer": c.label,
                    "service": s.name,
                    "staff": member.name if member else None,
                    "branch": br_.name,
                    "status": b.status,
                    "source": b.source,
                }
            )
    if as_json:
        click.echo(dump_json(rows))
        return
    table = Table(header_style="bold")
    for column in ("Time", "Customer", "Service", "Staff", "Branch", "Status", "Source"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            user_text(str(r["start"])[11:16]),
            user_text(f"{r['customer_code']} {r['customer']}"),
            user_text(r["service"]),
            user_text(r["staff"] or "-"),
            user_text(r["branch"]),
            user_text(r["status"]),
            user_text(r["source"]),
        )
    out.print(table)

"""Frontdesk's command line: the app (default), demo data, customers, checks, settings."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text
from sqlmodel import Session

from frontdesk import __version__, config
from frontdesk.cli_base import (
    _db,
    acting,
    acting_apart,
    cannot_open,
    db_option,
    dump_json,
    err,
    error_line,
    fail,
    opened,
    out,
    requested_staff,
    say,
    upgrading,
)
from frontdesk.cli_catalogue import COMMANDS as _CATALOGUE
from frontdesk.cli_messaging import COMMANDS as _MESSAGING
from frontdesk.cli_requests import bookings_group, serve, tokens
from frontdesk.cli_staff import COMMANDS as _STAFF_CHANGES
from frontdesk.data.errors import FrontdeskError, NotFound, ValidationFailed
from frontdesk.data.models import Customer
from frontdesk.data.outcomes import counted
from frontdesk.text import plain, user_text


def customer_json(session: Session, customer: Customer) -> dict[str, Any]:
    from frontdesk.data.models import Branch, Category

    category = session.get(Category, customer.category_id) if customer.category_id else None
    branch = session.get(Branch, customer.home_branch_id) if customer.home_branch_id else None
    return {
        "id": customer.id,
        "code": customer.code,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "display_name": customer.display_name,
        "email": customer.email,
        "phone": customer.phone,
        "phone_country": customer.phone_country,
        "other_phone": customer.other_phone,
        "gender": customer.gender,
        "date_of_birth": customer.date_of_birth.isoformat() if customer.date_of_birth else None,
        "city": customer.city,
        "country": customer.country,
        "category": category.name if category else None,
        "home_branch": branch.name if branch else None,
        "status": customer.status,
        "blocked": customer.blocked,
        "blocked_reason": customer.blocked_reason,
        "deleted": customer.deleted_at is not None,
        "deleted_at": customer.deleted_at.isoformat() if customer.deleted_at else None,
        "created_via": customer.created_via,
        "created_at": customer.created_at.isoformat(),
        "version": customer.version,
    }


def customers_table(session: Session, customers: list[Customer]) -> Table:
    from frontdesk.data.validation import format_phone

    table = Table(show_lines=False, header_style="bold")
    for column in ("Code", "Name", "Phone", "Email", "Status"):
        table.add_column(column)
    for c in customers:
        status = (
            c.status + (" · blocked" if c.blocked else "") + (" · DELETED" if c.deleted_at else "")
        )
        table.add_row(
            user_text(c.code),
            user_text(c.full_name),
            user_text(format_phone(c.phone)),
            user_text(c.email),
            user_text(status),
        )
    return table


class _Frontdesk(click.Group):
    """``frontdesk`` and its commands: an unexpected error in a command ends it as it ends the
    app, with one short line naming a private crash report and exit status 1, never a
    traceback (its message may quote customer data, control characters included)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own: usage errors, --help, ctrl+c
        except FrontdeskError as exc:  # a refusal no command expected: still one clear line
            fail(error_line(exc))
        except Exception as exc:
            if isinstance(exc, BrokenPipeError):
                raise  # the reader went away (| head): click ends quietly
            from frontdesk.crash import write_crash_report

            crashed(write_crash_report(exc, where="cli"))
            sys.exit(1)


@click.group(
    cls=_Frontdesk,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@db_option
@click.option(
    "--staff", metavar="NAME", default=None, help="Act as this staff member (name or username)."
)
@click.version_option(__version__, prog_name="frontdesk")
@click.pass_context
def main(ctx: click.Context, db: str | None, staff: str | None) -> None:
    """Frontdesk: find the right customer in a few keystrokes. Without a command, starts the app."""
    if ctx.invoked_subcommand is not None:
        return
    from frontdesk.data.db import open_database

    try:
        engine = open_database(db, on_upgrade=upgrading)
    except Exception as exc:
        cannot_open(db, exc)
    from frontdesk.app import OPERATOR_GONE, FrontdeskApp
    from frontdesk.crash import write_crash_report

    operator = requested_staff(staff)
    report: Path | None = None
    try:
        app = FrontdeskApp(engine=engine, staff=operator, settle_memory=True)
        app.run()
        code = app.return_code or 0
        report = app.crash_report
    except FrontdeskError as exc:
        fail(error_line(exc))
    except Exception as exc:
        # Outside the app's own loop (starting or stopping it): the same private report.
        code = 1
        report = write_crash_report(exc, where="cli")
    finally:
        engine.dispose()
    if code == OPERATOR_GONE:
        sys.exit(code)  # said by the app as it closed: not a crash
    if code:
        crashed(report)
        sys.exit(code)


def crashed(report: Path | None) -> None:
    """The one short line after an unexpected error (the details are in the private report)."""
    message = "Frontdesk stopped after an unexpected error."
    if report is not None:
        message += f" A crash report was saved to {report} (private to you)."
    say(message, console=err)


@main.command()
@db_option
@click.option(
    "--customers", "count", type=click.IntRange(0, 5_000_000), default=2000, show_default=True
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--if-empty", is_flag=True, help="Only when the database has no customers yet.")
@click.pass_context
def demo(ctx: click.Context, db: str | None, count: int, seed: int, if_empty: bool) -> None:
    """Fill the database with realistic demo data (branches, staff, services, customers, history)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
    from sqlmodel import select

    from frontdesk.data.demo import generate

    with opened(ctx, db) as engine:
        if if_empty:
            with Session(engine) as session:
                if session.exec(select(Customer.id).limit(1)).first() is not None:
                    out.print("The database already has customers; no demo data added.")
                    return
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=not err.is_terminal,
        ) as progress:
            task = progress.add_task("customers", total=count)
            summary = generate(
                engine=engine,
                customers=count,
                seed=seed,
                progress=lambda n: progress.advance(task, n),
                today_sheet=True,
            )
        out.print(
            f"Added {summary.customers:,} customers, {summary.bookings:,} bookings, "
            f"{summary.orders:,} orders ({summary.refunds:,} refunds), "
            f"{summary.enrolments:,} loyalty members, {summary.notes:,} notes."
            + (
                f" {summary.duplicates:,} customers were entered twice, for the duplicate finder (D)."
                if summary.duplicates
                else ""
            )
        )
        if summary.staff:
            shown, rest = summary.staff[:8], len(summary.staff) - 8
            say(
                "Staff created (username: name, role): "
                + "; ".join(f"{user}: {name}, {role}" for user, name, role in shown)
                + (f"; and {rest:,} more (frontdesk staff list)" if rest > 0 else "")
            )
            say("Start the app as one of them, e.g.: frontdesk --staff rita")


@main.group()
def customers() -> None:
    """Add, find and show customers."""


@customers.command("add")
@db_option
@click.option("--first-name", required=True)
@click.option("--last-name")
@click.option("--phone")
@click.option("--email")
@click.option("--country", metavar="CC", help="Country to read a phone without +code in.")
@click.option(
    "--field",
    "custom",
    multiple=True,
    metavar="KEY=VALUE",
    help="A custom field's value, by its key (repeat for more); required fields must be given.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the customer as JSON.")
@click.option(
    "--staff", metavar="NAME", default=None, help="Record this staff member as the actor."
)
@click.pass_context
def customers_add(
    ctx: click.Context,
    db: str | None,
    first_name: str,
    last_name: str | None,
    phone: str | None,
    email: str | None,
    country: str | None,
    custom: tuple[str, ...],
    as_json: bool,
    staff: str | None,
) -> None:
    """Add a customer (validated like the app: phone in E.164, unique phone and email,
    required custom fields filled)."""
    from frontdesk.data import customers as svc
    from frontdesk.data import fields as custom_fields

    values: dict[str, str] = {}
    for item in custom:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            fail(f"--field {item!r}: give KEY=VALUE")
        values[key.strip()] = value
    with opened(ctx, db) as engine, Session(engine) as session:
        actor = acting(ctx, session, staff)
        try:
            customer = svc.create_customer(
                session=session,
                data=svc.CustomerCreate(
                    first_name=first_name,
                    last_name=last_name,
                    phone=phone,
                    email=email,
                    phone_country=country,
                ),
                actor=actor,
            )
            custom_fields.set_values(
                session=session,
                customer_id=customer.id or 0,
                values=values,
                actor=actor,
                new_customer=True,
            )
            session.commit()
        except FrontdeskError as exc:
            session.rollback()
            if isinstance(exc, ValidationFailed) and exc.field.startswith("cf_"):
                fail(f"--field {exc.field[3:]}: {exc.message}")
            fail(error_line(exc))
        if as_json:
            click.echo(dump_json(customer_json(session, customer)))
        else:
            say(f"Added {customer.code} {customer.full_name}")


@customers.command("find")
@db_option
@click.argument("text")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def customers_find(
    ctx: click.Context, db: str | None, text: str, limit: int, as_json: bool
) -> None:
    """Search by name, phone (any format), email or code; best matches first.

    A merged-away customer's code, phone or email finds the survivor, and says so. A deleted
    customer's exact code, phone or email finds it, marked deleted."""
    from frontdesk.data import customers as svc
    from frontdesk.data.delete_flow import find_deleted

    with opened(ctx, db) as engine, Session(engine) as session:
        acting(ctx, session)  # an unknown name reads nothing either
        found = svc.search(session=session, text=text, limit=limit)
        found += find_deleted(session=session, text=text, limit=limit)[: limit - len(found)]
        notes = svc.search_notes(session=session, text=text)
        if as_json:
            rows = [customer_json(session, c) for c in found]
            for row in rows:
                if row["id"] in notes:
                    row["merged_note"] = notes[row["id"]]
            click.echo(dump_json(rows))
            return
        if not found:
            shown = text if len(text) <= 80 else text[:79] + "…"  # (not all of a pasted page)
            say(f"No customers match {shown!r}.", console=err)
            sys.exit(1)
        out.print(customers_table(session, found))
        for c in found:
            if c.id in notes:
                say(notes[c.id])
            if c.erased_at is not None:
                say(f"{c.code} is ERASED (its personal data is gone for good)")
            elif c.deleted_at is not None:
                say(f"{c.code} is DELETED (frontdesk customers restore {c.code} brings it back)")


@customers.command("show")
@db_option
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def customers_show(ctx: click.Context, db: str | None, code: str, as_json: bool) -> None:
    """Show one customer by code (a merged code shows the surviving customer, and says so)."""
    from datetime import UTC

    from frontdesk.data import customers as svc
    from frontdesk.data.validation import format_phone

    with opened(ctx, db) as engine, Session(engine) as session:
        acting(ctx, session)  # an unknown name reads nothing either
        try:
            customer = svc.get_by_code(session=session, code=code)
        except NotFound:
            fail(f"no customer with code {code}")
        data = customer_json(session, customer)
        asked = svc.normalise_code(code)
        if asked is not None and asked != customer.code:
            data["merged_note"] = f"{asked} was merged into {customer.code}"
        if as_json:
            click.echo(dump_json(data))
            return
        data["phone"] = format_phone(customer.phone)
        data.pop("deleted")
        if note := data.pop("merged_note", None):
            say(note)
        if data.pop("deleted_at") and customer.deleted_at is not None:
            gone = customer.deleted_at
            gone = gone if gone.tzinfo else gone.replace(tzinfo=UTC)
            deleted_at = gone.astimezone().strftime("%Y-%m-%d %H:%M")
            undo = f"(frontdesk customers restore {customer.code} brings it back)"
            if customer.erased_at is not None:
                undo = "and ERASED (its personal data is gone for good: nothing to restore)"
            say(Text(f"DELETED on {deleted_at} {undo}", style="bold"))
        table = Table(show_header=False, box=None)
        table.add_column(style="bold")
        table.add_column()
        for key, value in data.items():
            if value not in (None, ""):
                table.add_row(key.replace("_", " "), user_text(value))
        out.print(table)


def _codes_to_ids(session: Session, codes: tuple[str, ...]) -> list[int]:
    from frontdesk.data import customers as svc

    ids = []
    for code in codes:
        try:
            ids.append(svc.get_by_code(session=session, code=code, follow_merges=False).id or 0)
        except NotFound:
            fail(f"no customer with code {code}")
    return ids


@customers.command("delete")
@db_option
@click.argument("codes", nargs=-1, required=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--staff", metavar="NAME", default=None, help="Act as this staff member.")
@click.pass_context
def customers_delete(
    ctx: click.Context, db: str | None, codes: tuple[str, ...], yes: bool, staff: str | None
) -> None:
    """Delete customers by code (undo: customers restore). Their future bookings are
    cancelled ("customer deleted"), freeing the slots; open orders stay open."""
    from frontdesk.data import delete_flow

    with opened(ctx, db) as engine, Session(engine) as session:
        actor = acting(ctx, session, staff)
        ids = _codes_to_ids(session, codes)
        try:
            delete_flow.check_role(actor, len(ids))
            preview = delete_flow.delete_preview(session=session, customer_ids=ids)
            if not preview.customer_ids:
                say("Nothing to delete: already deleted (or merged into another customer).")
                return
            say(preview.question)
            if not yes and not click.confirm("Delete?", default=False):
                say("Nothing deleted.")
                return
            outcome = delete_flow.delete_customers(
                session=session, customer_ids=ids, actor=actor, bulk=len(ids) > 1
            )
            session.commit()
        except FrontdeskError as exc:
            session.rollback()
            fail(error_line(exc))
        say(f"{outcome.summary}. Undo: frontdesk customers restore {' '.join(codes)}")


@customers.command("restore")
@db_option
@click.argument("codes", nargs=-1, required=True)
@click.option("--staff", metavar="NAME", default=None, help="Act as this staff member.")
@click.pass_context
def customers_restore(
    ctx: click.Context, db: str | None, codes: tuple[str, ...], staff: str | None
) -> None:
    """Undo deleting customers: restores them and re-opens the bookings the delete
    cancelled where the slot is still free (and says which could not be)."""
    from frontdesk.data import delete_flow

    with opened(ctx, db) as engine, Session(engine) as session:
        actor = acting(ctx, session, staff)
        ids = _codes_to_ids(session, codes)
        try:
            outcome = delete_flow.restore_customers(
                session=session, customer_ids=ids, actor=actor, bulk=len(ids) > 1
            )
            session.commit()
        except FrontdeskError as exc:
            session.rollback()
            fail(error_line(exc))
        say(outcome.summary)
        for line in outcome.details:
            say(line, console=err)
        if outcome.problems:
            sys.exit(1)


@customers.command("export-data")
@db_option
@click.argument("code")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE (private, 0600) instead of printing.",
)
@click.option("--overwrite", is_flag=True, help="Replace FILE if it exists.")
@click.option("--staff", metavar="NAME", default=None, help="Act as this staff member.")
@click.pass_context
def customers_export_data(
    ctx: click.Context,
    db: str | None,
    code: str,
    out: Path | None,
    overwrite: bool,
    staff: str | None,
) -> None:
    """Everything stored about one customer, as JSON (for an access request): profile,
    consents with their history, bookings, orders, payments, ledger, notes (visible to the
    customer; all notes for admins) and the audit entries about them."""
    from frontdesk.data.errors import TargetExists
    from frontdesk.data.privacy import export_customer_data, write_private_json
    from frontdesk.data.targets import check_target

    with opened(ctx, db) as engine, Session(engine) as session:
        actor = acting(ctx, session, staff)
        session.commit()
        try:
            if out is not None:  # never the database's files; an existing file if asked
                check_target(session=session, path=out, overwrite=overwrite)
            data = export_customer_data(session=session, code=code, actor=actor)
        except TargetExists:
            fail(f"{out} already exists: nothing written (--overwrite replaces it)")
        except FrontdeskError as exc:
            fail(error_line(exc))
    if out is None:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    write_private_json(out, data)
    say(f"Wrote everything stored about {data['customer']['code']} to {out} (private to you).")


@customers.command("erase")
@db_option
@click.argument("code")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--staff", metavar="NAME", default=None, help="Act as this staff member.")
@click.pass_context
def customers_erase(
    ctx: click.Context, db: str | None, code: str, yes: bool, staff: str | None
) -> None:
    """Erase a customer's personal data for good (admins). Bookings, orders, payments and
    the ledger stay for the accounts, as "Erased customer CODE". Backups taken before keep
    the data: `frontdesk backup` lists them."""
    from frontdesk.data.privacy import erase_customer, erase_preview

    with opened(ctx, db) as engine:
        actor = acting_apart(ctx, engine)
        try:
            with Session(engine) as session:
                preview = erase_preview(session=session, code=code, actor=actor)
        except FrontdeskError as exc:
            fail(error_line(exc))
        say(
            f"Erase {preview.code} {preview.name}? Their name, contacts, address, birth dates, "
            f"photo, notes and custom values go for good ({preview.merged_records} merged "
            f"records too); {preview.bookings} bookings and {preview.orders} orders stay for "
            "the accounts. This cannot be undone."
        )
        if not yes and not click.confirm(f"Type y to erase {preview.code}", default=False):
            say("Nothing erased.")
            return
        try:
            result = erase_customer(
                engine=engine, code=preview.code, actor=actor, data_dir=config.data_dir()
            )
        except FrontdeskError as exc:
            fail(error_line(exc))
    say(f"Erased {result.code}: {result.records} record(s), {result.photos_removed} photo(s).")
    if not result.wal_truncated:
        say(
            "Another desk is reading: the old pages leave the write-ahead log at its next "
            "checkpoint.",
            console=err,
        )


@main.command()
@db_option
@click.option("--repair", is_flag=True, help="Count the live customers again first (admins).")
@click.pass_context
def check(ctx: click.Context, db: str | None, repair: bool) -> None:
    """Check storage integrity and the data invariants (ledger balances, unique keys)."""
    from frontdesk.data import check as checks

    with opened(ctx, db) as engine:
        if repair:
            actor = acting_apart(ctx, engine)
            try:
                checks.repair(engine, actor)
            except FrontdeskError as exc:
                fail(error_line(exc))
        report = checks.run_checks(engine)
    for line in report.passed:
        say(Text.assemble(("✓", "green"), " ", user_text(line)))
    for line in report.failed:
        say(Text.assemble(("✗", "red"), " ", user_text(line)))
    if not report.ok:
        sys.exit(1)


@main.command("backup")
@db_option
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def backup_cmd(ctx: click.Context, db: str | None, file: Path | None) -> None:
    """Copy the database to FILE (default: backups/ next to it), safely while others work."""
    from frontdesk.data import backup

    with opened(ctx, db) as engine:
        actor = acting_apart(ctx, engine)
        try:
            target = file or backup.default_backup_path(engine)
            info = backup.backup(engine, target, actor=actor)
        except FrontdeskError as exc:
            fail(error_line(exc))
    say(
        f"Backed up {counted(info.customers, 'customer')} to {info.path} ({info.size / 1e6:.1f} MB)."
    )
    from frontdesk.data.privacy import backups_before_erasures

    with opened(ctx, db) as engine, Session(engine) as session:
        older = backups_before_erasures(session=session, folder=info.path.parent)
    for path, count in older:
        say(
            f"{path} was taken before {count} erasure(s) and still holds those customers' "
            "data: delete it when you no longer need it.",
            console=err,
        )


@main.command("restore")
@db_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def restore_cmd(ctx: click.Context, db: str | None, file: Path, yes: bool) -> None:
    """Replace the database with the backup FILE (the current one is saved first)."""
    from sqlmodel import func, select

    from frontdesk.data import backup
    from frontdesk.data.roles import require

    with opened(ctx, db) as engine:
        actor = acting_apart(ctx, engine)
        try:
            require(actor, "restore")  # before asking
            incoming = backup.inspect(file)
            again = backup.erased_since(engine, file)
            safety = backup.default_backup_path(engine).with_suffix(".before-restore.db")
            with Session(engine) as session:
                current = session.exec(select(func.count()).select_from(Customer)).one()
            if again:  # said before the question, also with --yes
                say(
                    f"{counted(len(again), 'customer')} erased since this backup was taken "
                    f"({', '.join(again)}) will be erased again after restoring.",
                    console=err,
                )
            if not yes and not click.confirm(
                f"Replace the database ({current:,} customers) with {plain(file)} "
                f"({incoming.customers:,} customers)? "
                f"The current one is saved to {plain(safety)} first.",
                err=True,
            ):
                fail("nothing restored", code=1)
            info = backup.restore(engine, file, safety, actor=actor)
        except FrontdeskError as exc:
            fail(error_line(exc))
    say(
        f"Restored {counted(info.customers, 'customer')} from {file}. "
        f"The previous database is in {safety}."
    )
    if info.erased_again:
        erased = counted(len(info.erased_again), "customer")
        were = "was" if len(info.erased_again) == 1 else "were"
        codes = ", ".join(info.erased_again)
        say(f"{erased} erased since this backup {were} erased again: {codes}.")


@main.command("settings")
@db_option
@click.argument("key", required=False)
@click.argument("value", required=False)
@click.pass_context
def settings_cmd(ctx: click.Context, db: str | None, key: str | None, value: str | None) -> None:
    """Show business settings, or set one: `frontdesk settings default_region NL`."""
    from frontdesk.data.settings import all_settings, change_setting

    with opened(ctx, db) as engine, Session(engine) as session:
        actor = acting(ctx, session)  # an unknown name reads nothing either
        if key is None or value is None:
            values = all_settings(session=session)
            for k, v in sorted(values.items()):
                if key is None or k == key:
                    say(f"{k} = {json.dumps(v)}")
            return
        try:
            stored = change_setting(session=session, key=key, value=value, actor=actor)
            session.commit()
        except FrontdeskError as exc:
            fail(error_line(exc))
        say(f"{key} = {json.dumps(stored)}")


@main.command("report")
@db_option
@click.option("--branch", "branch", help="One branch (name or id); default: all branches.")
@click.option("--from", "date_from", help="First day, YYYY-MM-DD (default: 11 months ago, day 1).")
@click.option("--to", "date_to", help="Last day, YYYY-MM-DD (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--staff", "staff_name", help="Act as this staff member.")
@click.pass_context
def report_cmd(
    ctx: click.Context,
    db: str | None,
    branch: str | None,
    date_from: str | None,
    date_to: str | None,
    as_json: bool,
    staff_name: str | None,
) -> None:
    """The business overview: new and returning customers and revenue per month, active
    customers, retention, no-show and cancellation rates, category mix, top customers
    (admins and reception)."""
    from datetime import date

    from frontdesk.data import insights

    def day(text: str | None, name: str) -> date | None:
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            fail(f"--{name}: a date as YYYY-MM-DD, e.g. 2026-01-31")

    start, end = day(date_from, "from"), day(date_to, "to")
    with opened(ctx, db) as engine, Session(engine) as session:
        actor = acting(ctx, session, staff_name)
        try:
            branch_id = insights.find_branch(session=session, name=branch) if branch else None
            view = insights.business_overview(
                session=session, actor=actor, branch_id=branch_id, date_from=start, date_to=end
            )
        except ValidationFailed as exc:
            fail(f"{exc.field}: {exc.message}")
        except FrontdeskError as exc:
            fail(error_line(exc))
    if as_json:
        click.echo(insights.overview_json(view))
        return
    for row in insights.overview_rows(view):
        say(user_text("  ".join(f"{cell!s:<22}" for cell in row).rstrip()))


@main.group()
def staff() -> None:
    """List, add and change staff members (who operates the app)."""


@staff.command("list")
@db_option
@click.option("--all", "show_all", is_flag=True, help="Show deactivated staff members too.")
@click.pass_context
def staff_list(ctx: click.Context, db: str | None, show_all: bool) -> None:
    from frontdesk.data.staff import list_staff

    with opened(ctx, db) as engine, Session(engine) as session:
        acting(ctx, session)  # an unknown name reads nothing either
        table = Table(header_style="bold")
        columns = ["Id", "Name", "Username", "Role", "Branch"] + (["State"] if show_all else [])
        for column in columns:
            table.add_column(column)
        for s in list_staff(session=session, include_inactive=show_all):
            cells = [
                user_text(s.id),
                user_text(s.name),
                user_text(s.username),
                user_text(s.role),
                user_text(s.branch_id),
            ]
            if show_all:
                cells.append(Text("active") if s.active else Text("inactive", "dim"))
            table.add_row(*cells, style=None if s.active else "dim")
        out.print(table)


@staff.command("add")
@db_option
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "reception", "therapist"]), default="reception")
@click.option("--username", help="OS login name that maps to this staff member.")
@click.option("--branch", metavar="BRANCH", help="Where they work (name); none: at every branch.")
@click.pass_context
def staff_add(
    ctx: click.Context,
    db: str | None,
    name: str,
    role: str,
    username: str | None,
    branch: str | None,
) -> None:
    from frontdesk.data.catalogue import find_branch
    from frontdesk.data.staff import create_staff

    with opened(ctx, db) as engine, Session(engine) as session:
        actor = acting(ctx, session)
        try:
            branch_id = None
            if branch is not None:
                branch_id = find_branch(session=session, text=branch).id
            member = create_staff(
                session=session,
                name=name,
                role=role,
                username=username,
                branch_id=branch_id,
                actor=actor,
            )
            session.commit()
        except FrontdeskError as exc:
            session.rollback()
            fail(error_line(exc))
        say(f"Added staff member {member.id}: {member.name} ({member.role})")


for _command in _STAFF_CHANGES:
    staff.add_command(_command)


@main.command("import")
@db_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="Map a column (field, ignore, note, cf:KEY).",
)
@click.option("--default-country", metavar="CC", help="Country of phones written without +code.")
@click.option(
    "--date-order",
    type=click.Choice(["auto", "dmy", "mdy"]),
    default="auto",
    show_default=True,
    help="Day/month order of dates like 3/4/1980 (auto: that of --default-country, else"
    " of the business's country; month first in the US).",
)
@click.option(
    "--on-duplicate",
    type=click.Choice(["skip", "update", "overwrite", "candidate"]),
    default="skip",
    show_default=True,
    help="A row whose phone/email exists: skip it, fill empty fields, overwrite, or import as a merge candidate.",
)
@click.option("--dry-run", is_flag=True, help="Validate and count only; write nothing.")
@click.option("--tag", help="Tag every imported customer.")
@click.option("--category", help="Category of every imported customer.")
@click.option("--branch", help="Home branch of every imported customer.")
@click.option("--program", help="Enrol every imported customer in this loyalty program.")
@click.option("--points", type=int, default=0, help="Starting balance with --program.")
@click.option(
    "--errors",
    "error_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Error file (CSV).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="Processes validating rows next to the writer (default: by file size and CPUs; 0: none).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def import_cmd(
    ctx: click.Context,
    db: str | None,
    file: Path,
    maps: tuple[str, ...],
    default_country: str | None,
    date_order: str,
    on_duplicate: str,
    dry_run: bool,
    tag: str | None,
    category: str | None,
    branch: str | None,
    program: str | None,
    points: int,
    error_file: Path | None,
    workers: int | None,
    as_json: bool,
) -> None:
    """Import customers from a CSV or XLSX export (Square, Fresha, Vagaro, Shopify, Google, Outlook ...)."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeRemainingColumn

    from frontdesk.data.importing import ImportOptions, count_rows, error_file_for, run_import
    from frontdesk.data.roles import require

    mapping: dict[str, str] = {}
    for item in maps:
        column, sep, target = item.partition("=")
        if not sep:
            fail(f"--map {item!r}: use COLUMN=FIELD")
        mapping[column.strip()] = target.strip()
    if error_file is None and not dry_run:
        error_file = error_file_for(file)
    options = ImportOptions(
        mapping=mapping or None,
        default_country=default_country.upper() if default_country else None,
        date_order=date_order,
        on_duplicate=on_duplicate,
        dry_run=dry_run,
        tag=tag,
        category=category,
        branch=branch,
        program=program,
        points=points,
        error_file=error_file,
        workers=workers,
    )
    with opened(ctx, db) as engine:
        actor = acting_apart(ctx, engine)  # a new database's first admin is committed
        try:
            require(actor, "import")
            show_bar = not as_json and err.is_terminal
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                "{task.completed:,} rows",
                TaskProgressColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=True,
                disable=not show_bar,
                # Redrawn after each batch rather than by a thread of its own: a process
                # without other threads can fork its validating workers (ready at once).
                auto_refresh=False,
            ) as progress:
                # Counting lines is fast (bytes only); it gives the bar an end and an ETA.
                total = count_rows(file) if show_bar else None
                task = progress.add_task("importing", total=total)
                progress.refresh()  # shown at once, before the first batch is in

                def advance(rows: int) -> None:
                    progress.advance(task, rows)
                    progress.refresh()

                summary = run_import(
                    engine=engine, path=file, options=options, actor=actor, progress=advance
                )
        except FrontdeskError as exc:
            fail(error_line(exc))
        except KeyboardInterrupt:
            err.print(
                "Interrupted. The rows imported so far are in, in whole batches; run the same "
                "import again to finish it (rows already in are skipped).",
                highlight=False,
            )
            sys.exit(130)
    if as_json:
        click.echo(json.dumps(summary.as_json()))
    else:
        verb = "Would import" if dry_run else "Imported"
        out.print(
            f"{verb} {summary.imported:,} of {summary.rows:,} rows; updated {summary.updated:,}, "
            f"skipped {summary.skipped:,} duplicates ({summary.duplicates_in_file:,} within the file, "
            f"{summary.duplicates_in_db:,} already in the database), {summary.candidates:,} merge candidates, "
            f"{summary.invalid:,} invalid, {summary.warnings:,} imported with a warning.",
            highlight=False,
        )
        for e in summary.errors[:10]:
            say(f"  record {e.record}: {e.field}: {e.reason}")
        for e in summary.warned[:10]:
            say(f"  record {e.record}: warning: {e.field}: {e.reason} (imported without it)")
        if summary.candidates and not dry_run:
            out.print(
                "Merge candidates wait in the duplicates screen (D) and `frontdesk duplicates`: "
                "merge each into its customer, add it as a new one, or discard it.",
                highlight=False,
            )
        if summary.error_file is not None:
            say(
                f"Every refused or warned-about row is in {summary.error_file} "
                "(fix it and import that file again)."
            )
    if summary.invalid:
        sys.exit(3)


@main.command("export")
@db_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--search", "text", default="", help="Only customers matching this search.")
@click.option("--status", type=click.Choice(["active", "inactive"]))
@click.option("--blocked/--not-blocked", default=None)
@click.option(
    "--plain",
    "plain_values",
    is_flag=True,
    help="CSV values exactly as stored, without the apostrophe that keeps spreadsheets from "
    "running =, +, - or @ as a formula (for mail platforms and other systems).",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace FILE if it exists (without it, an existing file is left alone).",
)
@click.pass_context
def export_cmd(
    ctx: click.Context,
    db: str | None,
    file: Path,
    text: str,
    status: str | None,
    blocked: bool | None,
    plain_values: bool,
    overwrite: bool,
) -> None:
    """Export customers to FILE (.csv, UTF-8 with BOM, or .xlsx), custom fields included.

    Reception exports a search or filter of up to 500 customers; admins export everything.
    An existing FILE is replaced only with --overwrite; the database's own files never."""
    from frontdesk.data.customers import DirectoryFilter
    from frontdesk.data.db import read_engine
    from frontdesk.data.errors import TargetExists
    from frontdesk.data.exporting import export_customers, record_export
    from frontdesk.data.retry import write_transaction

    with opened(ctx, db) as engine:
        actor = acting_apart(ctx, engine)  # a new database's first admin is committed
        # Read without the writer's turn (a long export kept every other desk's saves
        # waiting), then recorded in a short write of its own.
        with Session(read_engine(engine)) as session:
            try:
                count = export_customers(
                    session=session,
                    path=file,
                    filters=DirectoryFilter(status=status, blocked=blocked),
                    text=text,
                    actor=actor,
                    plain=plain_values,
                    overwrite=overwrite,
                )
                session.rollback()
                write_transaction(
                    engine,
                    lambda s: record_export(session=s, path=file, count=count, actor=actor),
                )
            except TargetExists:
                fail(f"{file} already exists: nothing exported (--overwrite replaces it)")
            except FrontdeskError as exc:
                fail(error_line(exc))
            except OSError as exc:
                fail(f"cannot write {file}: {exc.strerror or exc}")
    say(f"Exported {counted(count, 'customer')} to {file}")


@main.command("duplicates")
@db_option
@click.option("--limit", type=int, default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def duplicates_cmd(ctx: click.Context, db: str | None, limit: int, as_json: bool) -> None:
    """List imported rows waiting for a merge decision, then groups of likely duplicates."""
    from frontdesk.data.candidates import pending
    from frontdesk.data.merge import find_duplicates

    with opened(ctx, db) as engine, Session(engine) as session:
        acting(ctx, session)  # an unknown name reads nothing either
        waiting = pending(session=session, limit=limit)
        groups = find_duplicates(session=session, limit=limit)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "reason": f"imported row ({w.source}): {w.reason}",
                        "codes": [w.code],
                        "names": [w.name, w.incoming_name],
                        "candidate_id": w.id,
                    }
                    for w in waiting
                ]
                + [
                    {"reason": g.reason, "codes": list(g.codes), "names": list(g.names)}
                    for g in groups
                ]
            )
        )
        return
    if not groups and not waiting:
        out.print("No likely duplicates found.")
    for w in waiting:
        say(
            f"imported row ({w.source}) waiting: {w.reason}: {w.code} {w.name} <- {w.incoming_name}"
        )
    for g in groups:
        people = ", ".join(f"{c} {n}" for c, n in zip(g.codes, g.names, strict=True))
        say(f"{g.reason}: {people}")


@main.command("merge")
@db_option
@click.argument("survivor")
@click.argument("others", nargs=-1, required=True)
@click.option(
    "--staff", metavar="NAME", default=None, help="Act as this staff member (admins merge 3+)."
)
@click.pass_context
def merge_cmd(
    ctx: click.Context, db: str | None, survivor: str, others: tuple[str, ...], staff: str | None
) -> None:
    """Merge the customers OTHERS into SURVIVOR (by code); their codes keep finding SURVIVOR."""
    from frontdesk.data import customers as svc
    from frontdesk.data.merge import merge_customers

    with opened(ctx, db) as engine, Session(engine) as session:
        try:
            actor = acting(ctx, session, staff)
            keep = svc.get_by_code(session=session, code=survivor, follow_merges=False)
            gone = [
                svc.get_by_code(session=session, code=c, follow_merges=False).id or 0
                for c in others
            ]
            merged = merge_customers(
                session=session, survivor_id=keep.id or 0, other_ids=gone, actor=actor
            )
            session.commit()
        except FrontdeskError as exc:
            session.rollback()
            fail(error_line(exc))
        say(f"Merged {', '.join(others)} into {merged.code} {merged.full_name}")


if __name__ == "__main__":  # pragma: no cover
    main()


@main.command("migrate-db")
@click.option(
    "--from", "source", required=True, metavar="SQLITE_FILE", help="The business's SQLite file."
)
@click.option(
    "--to",
    "target",
    required=True,
    metavar="URL",
    help="An empty PostgreSQL database: postgresql+psycopg://user@host/dbname",
)
@click.option("--json", "as_json", is_flag=True, help="Print the per-table report as JSON.")
@click.pass_context
def migrate_db(ctx: click.Context, source: str, target: str, as_json: bool) -> None:
    """Move a whole business from its SQLite file to an empty PostgreSQL database (admins).

    Every table is copied with its ids in one transaction on the server, then counted and
    checksummed on both sides before it commits: the move lands whole or not at all."""
    from rich.progress import Progress

    from frontdesk.data.db import open_database
    from frontdesk.data.move import move_database
    from frontdesk.data.roles import require

    if not Path(source).is_file():
        fail(f"{source}: no such file")
    with opened(ctx, source) as src:
        actor = acting_apart(ctx, src)
        try:
            require(actor, "move")
        except FrontdeskError as exc:
            fail(error_line(exc))
        try:
            dst = open_database(target)
        except Exception as exc:
            fail(f"cannot open the target database: {str(exc).splitlines()[0]}")
        try:
            with Progress(
                "[progress.description]{task.description}",
                console=err,
                transient=True,
            ) as progress:
                task = progress.add_task("copying", total=None)
                report = move_database(
                    src,
                    dst,
                    progress=lambda name, rows: progress.update(
                        task, description=f"copied {name} ({rows:,} rows)"
                    ),
                )
        except FrontdeskError as exc:
            fail(error_line(exc))
        finally:
            dst.dispose()
    if as_json:
        out.print_json(
            data={
                "rows": report.rows,
                "tables": [
                    {"table": t.name, "rows": t.rows, "checksum": t.checksum} for t in report.tables
                ],
            }
        )
        return
    say(
        f"Moved {report.rows:,} rows in {len(report.tables)} tables; every table's count and "
        "checksum match the file. Start Frontdesk on the server with "
        "FRONTDESK_DATABASE_URL or --db set to the new database."
    )


@main.command("web")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.pass_context
def web(ctx: click.Context, db: str | None, host: str, port: int) -> None:
    """Serve the app in a browser (each browser tab runs its own app, as you).

    Only a browser that opens the address printed at start (it carries a new random key)
    gets the app. Bound to this machine only by default: from elsewhere, use an SSH tunnel
    (ssh -L 8000:127.0.0.1:8000 desk-server) rather than --host 0.0.0.0."""
    import shlex

    from frontdesk.web import KeyedServer, new_key

    target = _db(ctx, db)
    command = [sys.executable, "-m", "frontdesk"]
    if target:
        command += ["--db", str(target)]
    staff = ctx.find_root().params.get("staff")
    if staff:
        command += ["--staff", staff]
    with opened(ctx, db) as engine:
        acting_apart(ctx, engine)  # refuse an unknown --staff before serving anything
    if host not in ("127.0.0.1", "localhost", "::1"):
        say(
            f"Warning: listening on {host} without encryption: the key below crosses the "
            "network in the clear. An SSH tunnel to 127.0.0.1 is safer.",
            console=err,
        )
    server = KeyedServer(shlex.join(command), host=host, port=port, key=new_key())
    say(f"Frontdesk in the browser: {server.address()}")
    say(
        "Open this address: the key in it is new at each start; keep it to yourself, it opens "
        "Frontdesk as you. ctrl+c stops."
    )
    server.serve()


# Messaging commands (notify, email, newsletter, outbox, unsubscribe) live in their own module.

for _command in _MESSAGING:
    main.add_command(_command)


# Bookings from outside: the booking API, its tokens, and booking from scripts.

main.add_command(serve)
main.add_command(tokens)
main.add_command(bookings_group)

# The catalogue: branches and services (admins add and change them).

for _command in _CATALOGUE:
    main.add_command(_command)

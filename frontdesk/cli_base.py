"""What every part of the command line shares: the consoles, the --db option, one-line errors,
user data printed literally, JSON without raw controls, the acting staff member, the database.

``frontdesk.cli`` and its command modules (``cli_messaging``, ``cli_requests``) import these;
nothing here imports them back."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.text import Text
from sqlalchemy import Engine
from sqlmodel import Session

from frontdesk.data.errors import DuplicateCustomer, FrontdeskError, ValidationFailed
from frontdesk.data.models import Staff
from frontdesk.text import user_text

F = TypeVar("F", bound=Callable[..., Any])
out = Console()
err = Console(stderr=True)


def db_option(func: F) -> F:
    return click.option(
        "--db",
        "db",
        metavar="PATH|URL",
        default=None,
        help="Database file or SQLAlchemy URL (default: FRONTDESK_DATABASE_URL, FRONTDESK_DB, "
        "or frontdesk.db in the user data directory).",
    )(func)


def _db(ctx: click.Context, db: str | None) -> str | None:
    """A subcommand's --db wins over the group's."""
    if db:
        return db
    root = ctx.find_root()
    value = root.params.get("db") if root.params else None
    return str(value) if value else None


def fail(message: str | Text, code: int = 1) -> NoReturn:
    """Print one error line and exit; ``message`` is shown literally (it may quote user data)."""
    body = message if isinstance(message, Text) else user_text(message)
    err.print(Text.assemble(("error:", "bold red"), " ", body), soft_wrap=True)
    sys.exit(code)


def cannot_open(database: str | None, exc: Exception) -> NoReturn:
    """One line for a database that cannot be opened: the driver's own words, without
    SQLAlchemy's statement and web address."""
    from sqlalchemy.exc import DBAPIError

    reason = str(exc.orig) if isinstance(exc, DBAPIError) and exc.orig is not None else str(exc)
    if "file is not a database" in reason:
        reason = f"{database or 'the file'} is not a Frontdesk database, or it is damaged"
    fail(f"cannot open the database: {reason.strip()}")


def upgrading(old: str, new: str) -> None:
    """Tell the admin that the database is being upgraded (a big one takes a while)."""
    # ``\r\n``: the app's start may already hold the terminal's keys raw.
    sys.stderr.write(
        f"Upgrading the database from schema {old} to {new}: a large one can take a minute "
        "or two; let it finish.\r\n"
    )
    sys.stderr.flush()


def say(message: str | Text, *, console: Console | None = None) -> None:
    """Print a line that may contain user data: literally, with control characters escaped."""
    line = message if isinstance(message, Text) else user_text(message)
    (console or out).print(line, soft_wrap=True)


# C1 controls and DEL: json.dumps escapes C0 controls only (with ensure_ascii=False).
_JSON_CONTROLS = {code: f"\\u{code:04x}" for code in range(0x7F, 0xA0)}


def dump_json(value: object) -> str:
    """Exact JSON of ``value`` (non-ASCII kept) in which no terminal control is raw."""
    return json.dumps(value, ensure_ascii=False).translate(_JSON_CONTROLS)


def error_line(exc: FrontdeskError) -> str:
    if isinstance(exc, ValidationFailed):
        return f"{exc.field}: {exc.message}"
    if isinstance(exc, DuplicateCustomer):
        return f"duplicate {exc.field}: {exc.existing_code} {exc.existing_name} already has it"
    return str(exc)


def requested_staff(explicit: str | None) -> str | None:
    """Who says they are operating: ``explicit`` (``--staff``), else ``FRONTDESK_STAFF``, else
    ``staff`` in the user settings file; None leaves it to the OS login name."""
    import os

    from frontdesk import config

    return explicit or os.environ.get("FRONTDESK_STAFF") or config.load_user_settings().staff


def acting(ctx: click.Context, session: Session, staff: str | None = None) -> Staff | None:
    """The staff member this command acts as (``--staff`` here or on ``frontdesk``, else
    ``FRONTDESK_STAFF`` or the settings file, else the OS login: :func:`requested_staff`); a
    name that is not on the staff list stops the command with one clear line.

    On a database with no staff yet, that name becomes its first admin, and the command says
    so on stderr once the session commits (a command that fails and rolls back made nobody)."""
    from sqlalchemy import event

    from frontdesk.data.staff import ensure_first_admin, resolve_operator

    requested = requested_staff(staff or ctx.find_root().params.get("staff"))
    try:
        first = ensure_first_admin(session=session, requested=requested)
        actor = resolve_operator(session=session, requested=requested)
    except FrontdeskError as exc:
        fail(error_line(exc))
    if first is not None:
        line = Text.assemble(
            "A new database: ",
            user_text(first.name),
            " is its first admin. Add the team with: frontdesk staff add NAME --role reception",
        )
        event.listen(session, "after_commit", lambda _: say(line, console=err), once=True)
    return actor


def acting_apart(ctx: click.Context, engine: Engine) -> Staff | None:
    """:func:`acting` in a session of its own (committed: a new database's first admin), for
    commands that work on the engine rather than in one session (backup, restore)."""
    with Session(engine, expire_on_commit=False) as session:
        actor = acting(ctx, session)
        session.commit()
        return actor


@contextmanager
def opened(ctx: click.Context, db: str | None) -> Iterator[Engine]:
    from frontdesk.data.db import open_database

    try:
        engine = open_database(_db(ctx, db), on_upgrade=upgrading)
    except Exception as exc:
        cannot_open(_db(ctx, db), exc)
    try:
        yield engine
    finally:
        engine.dispose()


R = TypeVar("R")


def write_as(
    ctx: click.Context,
    db: str | None,
    work: Callable[[Session, Staff | None], R],
    line: Callable[[FrontdeskError], str] = error_line,
) -> R:
    """Run ``work(session, acting staff)`` in one transaction: committed, or one error line
    (``line(error)``) and nothing written."""
    with opened(ctx, db) as engine, Session(engine, expire_on_commit=False) as session:
        actor = acting(ctx, session)
        try:
            result = work(session, actor)
            session.commit()
        except FrontdeskError as exc:
            session.rollback()
            fail(line(exc))
        return result

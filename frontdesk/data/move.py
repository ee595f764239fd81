"""Move a whole business from its SQLite file to an empty PostgreSQL database.

``move_database(source, target)`` copies every table of the schema, ids included, in
dependency order, in ONE transaction on the target: it either lands completely, verified, or
not at all (all-or-nothing). Before it commits, it counts and checksums every table on both
sides and compares them; a difference rolls everything back. Afterwards the target's id
sequences continue after the copied ids.

"Empty" means no business data: a freshly migrated database (which holds the default
settings, categories, note categories and loyalty program) is empty; one with a customer, a
staff member, a booking ... is refused and left as it was.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import DateTime
from sqlmodel import SQLModel

from frontdesk.data import models  # noqa: F401  (registers every table)
from frontdesk.data.db import current_revision, is_sqlite, read_engine
from frontdesk.data.errors import FrontdeskError

# Rows the migrations themselves insert: a target holding only these is still "empty".
SEEDED = frozenset({"setting", "counter", "category", "note_category", "loyalty_program"})
BATCH = 5000
# The PostgreSQL triggers that keep the insight roll-ups (migration 0010), per table.
ROLLUP_TRIGGERS = (
    ("booking", "insight_booking"),
    ("orders", "insight_orders"),
    ("payment", "insight_payment"),
    ("refund", "insight_refund"),
)

Progress = Callable[[str, int], None]


class MoveRefused(FrontdeskError):
    """The move cannot start (wrong kind of source or target, target not empty, ...)."""


class MoveFailed(FrontdeskError):
    """The copy did not verify; nothing was kept on the target."""


@dataclass
class TableMoved:
    name: str
    rows: int
    checksum: str


@dataclass
class MoveReport:
    tables: list[TableMoved] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def tables() -> list[Table]:
    """Every table of the schema, parents before children."""
    return list(SQLModel.metadata.sorted_tables)


def _later_references(table: Table, order: list[str]) -> list[str]:
    """Columns pointing at this table itself or at a table copied later (set afterwards)."""
    here = order.index(table.name)
    return [
        column.name
        for column in table.columns
        for fk in column.foreign_keys
        if order.index(fk.column.table.name) >= here
    ]


def _canonical(value: Any) -> str:
    """One spelling of a value, whichever database it was read from."""
    if value is None:
        return "\x00"
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (float, Decimal)):
        return repr(float(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _ordered(table: Table) -> Any:
    return select(table).order_by(*table.primary_key.columns)


def _rows(conn: Connection, table: Table) -> Iterator[dict[str, Any]]:
    result = conn.execution_options(yield_per=BATCH).execute(_ordered(table))
    for row in result.mappings():
        yield dict(row)


def table_checksum(conn: Connection, table: Table) -> tuple[int, str]:
    """Row count and a checksum of every value, in primary-key order."""
    digest = hashlib.sha256()
    count = 0
    names = [c.name for c in table.columns]
    for row in _rows(conn, table):
        digest.update("\x1f".join(_canonical(row[n]) for n in names).encode())
        digest.update(b"\x1e")
        count += 1
    return count, digest.hexdigest()


def _for_target(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """SQLite hands back naive UTC datetimes: make them explicit for PostgreSQL."""
    for column in table.columns:
        value = row.get(column.name)
        if isinstance(column.type, DateTime) and isinstance(value, datetime) and not value.tzinfo:
            row[column.name] = value.replace(tzinfo=UTC)
    return row


def _busy_tables(conn: Connection) -> list[str]:
    busy = []
    for table in tables():
        if table.name in SEEDED:
            continue
        if conn.execute(select(func.count()).select_from(table)).scalar_one():
            busy.append(table.name)
    return busy


def _reset_sequences(conn: Connection) -> None:
    for table in tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or pk[0].name != "id":
            continue
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 1), '
                f'(SELECT MAX(id) FROM "{table.name}") IS NOT NULL)'
            )
        )


def _copy_table(source: Connection, target: Connection, table: Table, order: list[str]) -> int:
    deferred = _later_references(table, order)
    pk = [c.name for c in table.primary_key.columns]
    later: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    copied = 0

    def flush() -> None:
        if batch:
            target.execute(insert(table), batch)
            batch.clear()

    for row in _rows(source, table):
        row = _for_target(table, row)
        if deferred and any(row[name] is not None for name in deferred):
            later.append({**{k: row[k] for k in pk}, **{n: row[n] for n in deferred}})
            for name in deferred:
                row[name] = None
        batch.append(row)
        copied += 1
        if len(batch) >= BATCH:
            flush()
    flush()
    for values in later:
        where = [table.c[k] == values[k] for k in pk]
        target.execute(update(table).where(*where).values({n: values[n] for n in deferred}))
    return copied


def move_database(
    source: Engine, target: Engine, *, progress: Progress | None = None
) -> MoveReport:
    """Copy every table from the SQLite ``source`` to the empty PostgreSQL ``target``.

    Both must be migrated to the same schema revision (``open_database`` does that). Raises
    ``MoveRefused`` before writing anything, or ``MoveFailed`` after rolling everything back.
    """
    if not is_sqlite(source):
        raise MoveRefused("The source must be a Frontdesk SQLite file")
    if target.dialect.name != "postgresql":
        raise MoveRefused("The target must be a PostgreSQL database (postgresql+psycopg://...)")
    if current_revision(source) != current_revision(target):
        raise MoveRefused(
            f"The two databases are at different schema versions "
            f"({current_revision(source)} and {current_revision(target)})"
        )
    order = [t.name for t in tables()]
    report = MoveReport()
    # Read the source in one snapshot, so that a desk still working cannot tear the copy.
    with read_engine(source).connect() as src, target.connect() as dst:
        try:
            _copy_all(src, dst, order, report, progress)
        except SQLAlchemyError as exc:
            reason = getattr(exc, "orig", None) or exc
            raise MoveFailed(
                f"The copy failed ({str(reason).splitlines()[0]}); nothing was kept on the server"
            ) from exc
        finally:
            src.rollback()
    return report


def _copy_all(
    src: Connection,
    dst: Connection,
    order: list[str],
    report: MoveReport,
    progress: Progress | None,
) -> None:
    # The source is read in one (deferred) transaction: one consistent snapshot of the file.
    with dst.begin():
        # Nobody else writes the target while it fills; refused when it is not empty.
        dst.execute(text("LOCK TABLE customer, staff IN ACCESS EXCLUSIVE MODE"))
        busy = _busy_tables(dst)
        if busy:
            raise MoveRefused(
                "The target database is not empty (it has rows in "
                + ", ".join(busy[:5])
                + ("…" if len(busy) > 5 else "")
                + "): move into a new, empty database"
            )
        for table in reversed(tables()):
            if table.name in SEEDED:
                dst.execute(table.delete())
        # The insight roll-ups are copied as they are: their triggers stay off meanwhile, or
        # every copied booking would be counted a second time (and recounted one by one).
        for table, trigger in ROLLUP_TRIGGERS:
            dst.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
        for table in tables():
            rows = _copy_table(src, dst, table, order)
            if progress:
                progress(table.name, rows)
        for table, trigger in ROLLUP_TRIGGERS:
            dst.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
        _reset_sequences(dst)
        for table in tables():
            expected = table_checksum(src, table)
            got = table_checksum(dst, table)
            if expected != got:
                raise MoveFailed(
                    f"Table {table.name} did not copy exactly ({expected[0]:,} rows in the "
                    f"file, {got[0]:,} on the server); nothing was kept on the server"
                )
            report.tables.append(TableMoved(table.name, got[0], got[1]))

"""Bulk inserts for the import and the demo generator.

Both write tens of thousands of rows per transaction. The ORM's per-object bookkeeping costs
more than validating a row, so these helpers write plain dicts through Core, and on SQLite in
multi-row ``INSERT ... VALUES (...), (...)`` statements: the customer table's full-text index
is kept by a trigger, and FTS5 flushes its pending terms at the end of every statement, so one
statement per row builds the index a row at a time (several times slower than the insert
itself), while one statement per few hundred rows builds it in bulk.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.sql import sqltypes
from sqlmodel import Session

# At most this many bound values per statement (SQLite's own limit is read from the connection).
_MAX_VARIABLES = 30_000
_MAX_ROWS_PER_STATEMENT = 500


def table_of(model: Any) -> Any:
    """The Core table of a model: bulk inserts skip the ORM bookkeeping."""
    return model.__table__


def reserve_ids(session: Session, model: Any, count: int) -> list[int]:
    """Primary keys for ``count`` new rows (the transaction holds the write lock on SQLite)."""
    table = table_of(model)
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        seq = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
        ).scalar_one()
        rows = conn.execute(
            text("SELECT nextval(:s) FROM generate_series(1, :n)"), {"s": seq, "n": count}
        )
        return [int(r[0]) for r in rows]
    start = conn.execute(_highest_id(table)).scalar_one()
    return list(range(start + 1, start + 1 + count))


@cache
def _highest_id(table: Any) -> Any:
    # Built once: building the statement cost more than running it (an import reserves ids
    # for every batch).
    return select(func.coalesce(func.max(table.c.id), 0))


def insert_with_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (dicts of column values) with freshly reserved ids; returns the ids."""
    ids = reserve_ids(session, model, len(rows))
    for row, new_id in zip(rows, ids, strict=True):
        row["id"] = new_id
    bulk_insert(session.connection(), model, rows)
    return ids


# How SQLAlchemy's SQLite DATE stores a date unless told otherwise: what date.isoformat()
# writes, in C (the type's own conversion formats a string in Python: 1 us a value).
_SQLITE_DATE_FORMAT = "%(year)04d-%(month)02d-%(day)02d"


def _bind_processor(column: Any, conn: Connection) -> Callable[[Any], Any] | None:
    """The conversion of ``column``'s values before they are bound (None: as they are)."""
    impl = column.type.dialect_impl(conn.dialect)
    process = impl.bind_processor(conn.dialect)
    if process is None or getattr(impl, "_storage_format", None) != _SQLITE_DATE_FORMAT:
        return process
    if not isinstance(impl, sqltypes.Date):
        return process

    def date_text(value: Any, slow: Callable[[Any], Any] = process) -> Any:
        # (A datetime is a date too: the type's own conversion keeps its date part.)
        return value.isoformat() if type(value) is date else slow(value)

    return date_text


def bulk_insert(conn: Connection, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``model``'s table in the connection's transaction.

    Every row must carry the same keys. On SQLite the rows go in multi-row statements with
    the column types' own conversions applied; elsewhere through Core's ``executemany``.
    """
    if not rows:
        return
    table = table_of(model)
    keys = list(rows[0])
    columns = [table.c[k] for k in keys]
    missing_defaults = any(c.default is not None and c.key not in rows[0] for c in table.columns)
    if conn.dialect.name != "sqlite" or missing_defaults:
        conn.execute(insert(table), rows)
        return
    dbapi = conn.connection.dbapi_connection
    assert isinstance(dbapi, sqlite3.Connection)
    limit = min(_MAX_VARIABLES, dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    per_statement = max(1, min(_MAX_ROWS_PER_STATEMENT, limit // len(columns)))
    processors: list[Callable[[Any], Any] | None] = [_bind_processor(c, conn) for c in columns]
    converters = [(i, p) for i, p in enumerate(processors) if p is not None]
    # Rows of one batch share many values (the batch's timestamp, the same audit payload):
    # each converter remembers its last input object and reuses the output for it.
    last_in: list[Any] = [None] * len(keys)
    last_out: list[Any] = [None] * len(keys)
    values: list[list[Any]] = []
    cells_of = itemgetter(*keys)
    for row in rows:
        if len(row) != len(keys):
            raise ValueError("bulk_insert: every row must have the same columns")
        cells = list(cells_of(row)) if len(keys) > 1 else [row[keys[0]]]
        for i, process in converters:
            value = cells[i]
            if value is None:
                continue
            if value is last_in[i]:
                cells[i] = last_out[i]
            else:
                cells[i] = last_out[i] = process(value)
                last_in[i] = value
        values.append(cells)
    names = ", ".join(conn.dialect.identifier_preparer.quote(k) for k in keys)
    one = "(" + ", ".join("?" * len(keys)) + ")"
    head = f"INSERT INTO {conn.dialect.identifier_preparer.quote(table.name)} ({names}) VALUES "
    cursor = dbapi.cursor()
    try:
        full_sql = head + ", ".join([one] * per_statement)
        for start in range(0, len(values), per_statement):
            chunk = values[start : start + per_statement]
            sql = full_sql if len(chunk) == per_statement else head + ", ".join([one] * len(chunk))
            cursor.execute(sql, [v for cells in chunk for v in cells])
    finally:
        cursor.close()

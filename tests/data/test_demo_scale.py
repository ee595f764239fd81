"""The demo at scale (issue 12): duplicate planting reads one customer in 500, never the whole
table (at a million customers loading every customer took most of the time and gigabytes);
the bulk load writes many rows a statement and no trigger per row, and leaves the schema
whole (or the database untouched when it fails)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, col, func, select

from frontdesk.data import demo
from frontdesk.data.db import open_database
from frontdesk.data.models import Customer


def test_planting_duplicates_loads_no_customer_and_adds_them_after_the_rest(
    tmp_path: Path,
) -> None:
    """The second records are planted while the batches are generated: no customer is read
    back (at a million customers the planting read them and added 2,000 one by one through
    the create service: about 10 s of the demo), and they come after all the others."""
    engine = open_database(tmp_path / "demo.db")
    loaded = 0

    def count(target: object, _context: object) -> None:
        nonlocal loaded
        if isinstance(target, Customer):
            loaded += 1

    event.listen(Customer, "load", count)
    try:
        summary = demo.generate(engine=engine, customers=3000, seed=2, batch_size=700)
    finally:
        event.remove(Customer, "load", count)
    assert loaded == 0
    assert summary.customers == 3000 and summary.duplicates == 3000 // 500
    with Session(engine) as s:
        rows = s.exec(select(Customer).order_by(col(Customer.id))).all()
    assert len(rows) == 3006
    planted, others = rows[3000:], rows[:3000]
    assert [c.code for c in planted] == sorted(c.code for c in planted)
    assert min(c.code for c in planted) > max(c.code for c in others)
    emails = {c.email_key for c in others}
    for c in planted:
        user = (c.email_key or "").partition("@")[0]
        number = user.lstrip("abcdefghijklmnopqrstuvwxyz.")
        # The same customer's number, at another provider: never an email already taken.
        assert number and c.email_key not in emails and c.phone is None
        assert any((o.email_key or "").partition("@")[0].endswith(number) for o in others)


def _schema(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name NOT LIKE 'sqlite_stat%' ORDER BY name"
        ).all()
    return [(t, n, s) for t, n, s in rows]


def _rollups(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        tables = [
            name
            for (name,) in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'insight%'"
            )
        ]
        return {
            table: sorted(conn.exec_driver_sql(f"SELECT * FROM {table}").all()) for table in tables
        }


def test_the_bulk_load_fires_no_trigger_per_row_and_leaves_schema_and_indexes_whole(
    tmp_path: Path,
) -> None:
    """Issue 12: the load writes multi-row statements with the search index's and the
    roll-ups' insert triggers dropped (made up for at the end), and puts every index and
    trigger back."""
    engine = open_database(tmp_path / "demo.db")
    before = _schema(engine)
    fired: list[str] = []
    inserts: list[str] = []

    def trace(sql: str) -> None:
        if sql.startswith("-- TRIGGER"):
            fired.append(sql)
        elif sql.split("(")[0].split()[:3] in (["INSERT", "INTO", t] for t in demo.BULK_TABLES):
            inserts.append(sql)

    @event.listens_for(engine, "connect")
    def _trace(dbapi: Any, _record: Any) -> None:
        dbapi.set_trace_callback(trace)

    engine.dispose()  # connections from here on are traced
    summary = demo.generate(engine=engine, customers=3000, seed=4, today_sheet=True)
    rows = (
        summary.customers
        + summary.bookings
        + summary.orders * 2
        + summary.payments
        + summary.refunds
        + summary.enrolments
        + summary.points_entries
        + summary.notes
    )
    assert rows > 25_000
    # Hundreds of rows a statement, not one. One-row inserts come only from what goes through
    # the services afterwards (the planted duplicates and today's sheet, whose size depends on
    # the time of day the test runs).
    # SQLite reports a statement again at each trigger it fires (a row at a time): a statement
    # reported again is one statement. (Today's sheet's bookings fire the roll-ups' triggers,
    # more of them as the day goes on.)
    inserts = [sql for i, sql in enumerate(inserts) if i == 0 or inserts[i - 1] != sql]
    multi = [sql for sql in inserts if "), (" in sql]
    assert len(multi) < rows // 100, len(multi)
    assert len(inserts) - len(multi) < 100, len(inserts) - len(multi)
    # Triggers fire only for what goes through the services afterwards: the planted
    # duplicates (6) and today's bookings, not for the 3,000 customers and their history.
    assert len(fired) < 400, len(fired)
    assert _schema(engine) == before
    with engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT count(*) FROM customer_fts WHERE customer_fts MATCH '\"c-00\"'"
        ).scalar_one()
    assert found == 3000 + 6  # every customer is in the search index
    loaded = _rollups(engine)
    with engine.begin() as conn:  # the roll-ups equal a recount from the stored rows
        tables, statements = demo._rollups()
        for table in tables:
            conn.exec_driver_sql(f"DELETE FROM {table}")
        for statement in statements:
            conn.exec_driver_sql(statement)
    assert loaded == _rollups(engine)


def test_a_failed_load_leaves_the_database_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = open_database(tmp_path / "demo.db")
    demo.generate(engine=engine, customers=200, seed=3)
    before = _schema(engine)
    with Session(engine) as s:
        customers = s.exec(select(func.count()).select_from(Customer)).one()
    batch = demo._Generator.batch
    calls = 0

    def failing(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("interrupted")
        return batch(self, *args, **kwargs)

    monkeypatch.setattr(demo._Generator, "batch", failing)
    with pytest.raises(RuntimeError):
        demo.generate(engine=engine, customers=1000, seed=4, batch_size=200)
    assert _schema(engine) == before  # indexes and triggers are back
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Customer)).one() == customers


def _settings(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        return {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar_one()
            for name in (
                "journal_mode",
                "foreign_keys",
                "synchronous",
                "temp_store",
                "busy_timeout",
            )
        }


def test_the_load_puts_the_connection_settings_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12: the load writes with a rollback journal, no foreign-key checks per row and no
    flushes; afterwards the file is back in WAL mode and the pooled connection has the app's
    settings. With another connection open the journal cannot change: the load keeps the log
    (at once, not after the busy timeout) and adds the demo all the same."""
    engine = open_database(tmp_path / "demo.db")
    before = _settings(engine)
    assert before["journal_mode"] == "wal" and before["foreign_keys"] == 1
    seen: list[object] = []
    load_settings = demo._Loader._load_settings

    def recording(self: Any) -> None:
        load_settings(self)
        dbapi = self.conn.connection.dbapi_connection
        seen.append(dbapi.execute("PRAGMA journal_mode").fetchone()[0])
        seen.append(dbapi.execute("PRAGMA foreign_keys").fetchone()[0])

    monkeypatch.setattr(demo._Loader, "_load_settings", recording)
    demo.generate(engine=engine, customers=300, seed=2)
    assert seen == ["delete", 0]
    assert _settings(engine) == before
    with engine.connect() as other:
        other.exec_driver_sql("SELECT count(*) FROM customer").scalar_one()
        other.rollback()  # open, in no transaction
        seen.clear()
        demo.generate(engine=engine, customers=300, seed=3)
        assert seen == ["wal", 0]
    assert _settings(engine) == before
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Customer)).one() == 600
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"

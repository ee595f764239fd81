"""What an import costs, counted (never timed): phone parses per row, pattern matches per
number, SQL statements per batch."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, col, func, select

from frontdesk.data import validation
from frontdesk.data.importing import ImportOptions, run_import
from frontdesk.data.models import Customer
from tests.actors import ADMIN


def _file(path: Path, phones: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(["First Name", "Last Name", "Email", "Mobile"])
        for i, phone in enumerate(phones):
            w.writerow([f"Name{i}", "Smith", f"person{i}@example.com", phone])
    return path


def _unique_phones(n: int, start: int = 0) -> list[str]:
    return [f"+1 415 {200 + (start + i) // 10000:03d} {(start + i) % 10000:04d}" for i in range(n)]


def _counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    calls = [0]
    real = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def test_each_phone_is_parsed_once_and_its_patterns_matched_once(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    validation._parsed_phone.cache_clear()
    parses = _counting(monkeypatch, validation, "_international")
    long_way = _counting(monkeypatch, phonenumbers, "parse")
    matches = _counting(monkeypatch, validation, "_number_type_helper")
    path = _file(tmp_path / "people.csv", _unique_phones(120))
    summary = run_import(engine=engine, path=path, options=ImportOptions(), actor=ADMIN)
    assert summary.imported == 120
    assert parses[0] == 120  # one reading per row (no second parse to format it)
    assert long_way[0] == 0  # "+1 415 ..." is read the short way
    # Region and validity of a +1 number in one pass over its patterns (was two).
    assert matches[0] == 120


def test_a_repeated_number_is_parsed_once(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    validation._parsed_phone.cache_clear()
    parses = _counting(monkeypatch, validation, "_international")
    # 40 rows, 10 numbers each written 4 times (the repeats are duplicates of the first).
    phones = _unique_phones(10, start=5000) * 4
    path = _file(tmp_path / "repeats.csv", phones)
    summary = run_import(engine=engine, path=path, options=ImportOptions(), actor=ADMIN)
    assert summary.imported == 10
    assert summary.duplicates_in_file == 30
    assert parses[0] == 10
    # A bad number is remembered with its reason too, and still refuses every row it is on.
    validation._parsed_phone.cache_clear()
    parses[0] = 0
    bad = _file(tmp_path / "bad.csv", ["+1 415 555"] * 5)
    summary = run_import(engine=engine, path=bad, options=ImportOptions(), actor=ADMIN)
    assert summary.invalid == 5
    assert parses[0] == 1
    assert {e.field for e in summary.errors} == {"phone"}


def _statements(engine: Engine, run: Any) -> list[str]:
    """SQL statements the import sends to SQLite (statements run by triggers left out)."""
    seen: list[str] = []

    def checkout(dbapi: Any, _record: Any, _proxy: Any) -> None:
        dbapi.set_trace_callback(seen.append)

    def checkin(dbapi: Any, _record: Any) -> None:
        dbapi.set_trace_callback(None)

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        run()
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)
    # Python's trace callback reports a statement again each time one of its triggers runs
    # (the search index's): an immediate repeat is the same statement running.
    out: list[str] = []
    for sql in seen:
        if not sql.lstrip().startswith("--") and (not out or out[-1] != sql):
            out.append(sql)
    return out


def test_statements_per_batch_do_not_grow_with_its_rows(tmp_path: Path) -> None:
    """The writes of a batch are a fixed number of statements (lookups of the batch's phones
    and emails, codes, multi-row inserts, commit), whatever the number of rows in it."""
    from frontdesk.data.db import open_database

    counts = {}
    for rows in (20, 200):
        engine = open_database(tmp_path / f"c{rows}.db")
        path = _file(tmp_path / f"c{rows}.csv", _unique_phones(rows))
        options = ImportOptions(batch_size=rows)
        summary: list[Any] = []
        statements = _statements(
            engine,
            lambda engine=engine, path=path, options=options, summary=summary: summary.append(
                run_import(engine=engine, path=path, options=options, actor=ADMIN)
            ),
        )
        assert summary[0].imported == rows
        counts[rows] = len(statements)
        with Session(engine) as s:
            assert s.exec(select(func.count(col(Customer.id)))).one() == rows
        engine.dispose()
    assert counts[200] == counts[20]
    assert counts[20] <= 40
    # More batches: the same statements again for each, in one transaction each when
    # commits are asked for after every batch, else in fewer (batches that come within
    # ``commit_seconds`` share one).
    commits = {}
    for seconds in (0, 3600):
        engine = open_database(tmp_path / f"three{seconds}.db")
        path = _file(tmp_path / f"three{seconds}.csv", _unique_phones(60))
        options = ImportOptions(batch_size=20, commit_seconds=seconds)
        statements = _statements(
            engine,
            lambda engine=engine, path=path, options=options: run_import(
                engine=engine, path=path, options=options, actor=ADMIN
            ),
        )
        commits[seconds] = len([s for s in statements if s.strip().upper() == "COMMIT"])
        assert len(statements) <= 3 * counts[20]
        engine.dispose()
    assert commits[0] >= 3 and commits[3600] == commits[0] - 2


def test_a_plain_row_comes_back_from_validation_without_extras(tmp_path: Path) -> None:
    """What a worker process sends back for a row with nothing but its fields: no dict of
    empty extras and no empty warning list (reading those back cost the writer more than
    the row's own values); the writer sees the same extras as before."""
    import pickle

    from frontdesk.data.importing import (
        Prepared,
        _no_extras,
        _paired,
        check_rows,
        guess_mapping,
    )

    headers = ["First Name", "Last Name", "Email", "Mobile", "Tags"]
    batch = [
        (1, ["Ann", "Lee", "ann@example.com", "+1 415 200 0001", ""]),
        (2, ["Bo", "Kim", "bo@example.com", "+1 415 200 0002", "VIP"]),
    ]
    mapping = guess_mapping(headers)
    checked = check_rows(headers, batch, mapping, ImportOptions(), "US")
    plain, tagged = checked
    assert plain[0] is True and plain[2][:2] == (None, None)  # no extras, no warnings
    assert tagged[2][0] is not None and tagged[2][0]["tags"] == ["VIP"]
    # A plain row's whole answer is its values and its keys (no empty containers).
    empties = [x for x in pickle.loads(pickle.dumps(plain))[2] if x in ([], {})]
    assert empties == []
    rows = _paired(batch, checked)
    assert all(isinstance(r, Prepared) for r in rows)
    first, second = rows
    assert first.extras == _no_extras() and first.extras["tags"] == []
    assert first.extras is not rows[0].extras or first.extras is not second.extras
    assert first.warnings == [] and second.extras["tags"] == ["VIP"]
    first.warnings.append(("x", "y"))  # each row's own list
    assert second.warnings == []


def test_dates_are_stored_as_the_date_type_stores_them(engine: Engine) -> None:
    """bulk_insert binds a date with isoformat() on SQLite: the same text as SQLAlchemy's
    own conversion, years before 1000 included."""
    from datetime import date

    from frontdesk.data.bulk import insert_with_ids
    from frontdesk.data.importing import _customer_template

    days = [date(1990, 4, 23), date(5, 1, 1), date(9999, 12, 31)]
    with Session(engine) as session:
        rows = []
        for i, day in enumerate(days):
            row = dict(_customer_template())
            row.update(
                code=f"C-9{i:05d}",
                first_name=f"D{i}",
                phone=f"+3161234000{i}",
                date_of_birth=day,
            )
            rows.append(row)
        ids = insert_with_ids(session, Customer, rows)
        session.commit()
        stored = session.connection().exec_driver_sql(
            f"SELECT date_of_birth FROM customer WHERE id IN ({', '.join(map(str, ids))}) "
            "ORDER BY id"
        )
        assert [r[0] for r in stored] == ["1990-04-23", "0005-01-01", "9999-12-31"]
        read = session.exec(select(Customer).where(col(Customer.id).in_(ids)).order_by(Customer.id))
        assert [c.date_of_birth for c in read] == days

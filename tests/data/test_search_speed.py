"""Search as you type stays cheap (issue 12): counts of statements, never times.

The fast search (``search_rows``, and ``search`` without filters) writes its SQL by hand and
runs it on the driver's connection; these tests pin that it finds exactly what the search
built from SQLAlchemy expressions finds (the filtered path), in the same order, and that the
number of statements a search or a count runs does not grow with the data.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from frontdesk.data import customers as svc
from frontdesk.data import directory, merge, picker
from frontdesk.data.db import open_database
from frontdesk.data.demo import generate
from frontdesk.data.settings import set_setting
from tests.actors import ADMIN

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = open_database(Path(tmp_path_factory.mktemp("speed")) / "demo.db")
    generate(engine=engine, customers=300, seed=7, now=NOW)
    yield engine
    engine.dispose()


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """Every SELECT the session's SQLite connection runs meanwhile (through SQLAlchemy or
    straight on the driver)."""
    seen: list[str] = []
    raw = session.connection().connection.dbapi_connection
    assert isinstance(raw, sqlite3.Connection)

    def trace(sql: str) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            seen.append(sql)

    raw.set_trace_callback(trace)
    try:
        yield seen
    finally:
        raw.set_trace_callback(None)


def queries(session: Session) -> list[str]:
    """Typical queries from the data: names, fragments, phones in any format, emails, codes."""
    rows = session.execute(
        text(
            "SELECT first_name, last_name, email, phone, code FROM customer"
            " WHERE id % 37 = 0 ORDER BY id LIMIT 6"
        )
    ).all()
    out = ["a", "ma", "jon", "smith", "+31", "06 12", "2345678", "@", "c-0000", "nobody-x"]
    for first, last, email, phone, code in rows:
        out += [first[:3], f"{first} {last or ''}".strip(), (email or "x@y.z")[:7]]
        out += [email or "", (phone or "")[-6:], phone or "", code, code.lower().replace("-", "")]
    return [q for q in out if q.strip()]


def test_fast_search_finds_what_the_expression_search_finds(demo: Engine) -> None:
    with Session(demo) as s:
        for query in queries(s):
            for limit in (8, 50):
                expected = [
                    c.id for c in svc._search_filtered(s, query, limit, svc.DirectoryFilter(), None)
                ]
                rows = svc.search_rows(session=s, text=query, limit=limit)
                assert [r.id for r in rows] == expected, query
                full = svc.search(session=s, text=query, limit=limit)
                assert [c.id for c in full] == expected, query
                for row, customer in zip(rows, full, strict=True):
                    assert row == svc.CustomerRow.of(customer)
                    assert (row.label, row.full_name) == (customer.label, customer.full_name)


def test_fast_count_counts_what_the_expression_count_counts(demo: Engine) -> None:
    with Session(demo) as s:
        everyone = svc.DirectoryFilter(status=None, blocked=None)
        active_or_not = svc.DirectoryFilter(customer_ids=None, extra=(text("1 = 1"),))
        for query in queries(s):
            for cap in (5, 1000):
                fast = svc.count_matches(session=s, text=query, cap=cap, filters=everyone)
                built = svc.count_matches(session=s, text=query, cap=cap, filters=active_or_not)
                assert fast == built, query
                listed = svc.search_rows(session=s, text=query, limit=cap + 1)
                # Every customer listed is counted (the count can be larger: the list stops).
                assert fast >= len(listed), query


def test_merged_away_codes_still_find_the_survivor(demo: Engine) -> None:
    with Session(demo) as s:
        a, b = (svc.get_customer(session=s, customer_id=i) for i in (5, 6))
        merge.merge_customers(session=s, survivor_id=a.id or 0, other_ids=[b.id or 0], actor=ADMIN)
        s.commit()
        assert [r.id for r in svc.search_rows(session=s, text=b.code)] == [a.id]
        assert svc.count_matches(session=s, text=b.code) == 1
        assert [m.id for m in picker.matches(session=s, text=b.code)] == [a.id]


@pytest.mark.parametrize("query", ["smith", "jon", "2345678", "+31 6 12", "c-000010", "a@b.c"])
def test_a_search_runs_a_few_statements_whatever_it_finds(demo: Engine, query: str) -> None:
    with Session(demo) as s:
        svc.search_rows(session=s, text=query)  # (the first one reads the schema)
        with statements(s) as seen:
            svc.search_rows(session=s, text=query, limit=50)
        # The region setting, merged-away lookups, exact matches, two name prefixes and the
        # substring index: one statement each at most.
        assert len(seen) <= 6, seen
        with statements(s) as seen:
            svc.search(session=s, text=query, limit=50)
        assert len(seen) <= 7, seen  # and one to load the customers found
        with statements(s) as seen:
            svc.count_matches(session=s, text=query)
        assert len(seen) <= 3, seen  # the region, merged-away lookups, the count


def test_the_region_setting_counts_at_once(demo: Engine) -> None:
    """The search reads the business region each time (no stale copy): a phone typed the
    local way finds its customer as soon as the region changes."""
    with Session(demo) as s:
        phone = s.execute(
            text("SELECT phone FROM customer WHERE phone LIKE '+31%' AND merged_into_id IS NULL")
        ).scalar()
        assert phone is not None
        local = "0" + phone[3:]
        set_setting(session=s, key="default_region", value="NL")
        s.commit()
        nl = [r.phone for r in svc.search_rows(session=s, text=local, limit=3)]
        assert nl[0] == phone
        set_setting(session=s, key="default_region", value="US")
        s.commit()
        assert svc.search_region(s) == "US"


def test_directory_page_deep_in_the_list_runs_the_statements_of_the_first(demo: Engine) -> None:
    with Session(demo) as s:
        first = directory.load_directory_page(session=s, limit=20, with_count=False)
        with statements(s) as seen_first:
            directory.load_directory_page(session=s, after=first.keys[-1], limit=20)
        page = first
        for _ in range(8):
            page = directory.load_directory_page(
                session=s, after=page.keys[-1], limit=20, with_count=False
            )
        with statements(s) as seen_deep:
            directory.load_directory_page(session=s, after=page.keys[-1], limit=20)
        assert len(seen_deep) == len(seen_first)


def test_the_directory_counts_the_live_customers_from_their_tally(demo: Engine) -> None:
    """Opening the directory reads the number of live customers from the one row triggers
    keep (migration 0013): no count at all (counting their index took 120 ms at a million
    customers; reading the customer table 0.3 s and more)."""
    with Session(demo) as s:
        with statements(s) as seen:
            page = directory.load_directory_page(session=s, filters=svc.DirectoryFilter())
        assert not [sql for sql in seen if "count(" in sql.lower()]
        assert [sql for sql in seen if "customer_tally" in sql] == [
            "SELECT live FROM customer_tally WHERE id = 1"
        ]
        live = s.execute(
            text(
                "SELECT count(*) FROM customer WHERE deleted_at IS NULL AND merged_into_id IS NULL"
            )
        ).scalar_one()
        assert page.count == live

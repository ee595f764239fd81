"""Search and paging latency on a big demo database, each next to its floor.

    python benchmarks/search.py [--db PATH] [--customers N] [--repeat R]

For a fixed set of typical queries (real values picked from the database) it prints the
median and p95 of ``customers.search_rows(limit=50)`` (what the palette and the picker
run; the rows a list shows) and of ``customers.search`` (the same customers as full
objects), next to the floor measured in the same run: a bare FTS5 trigram query on the
driver's connection that reads the list's columns of up to 50 matching rows. Goals (issue
12): the median of the per-query ratios within 2x of the floor, p95 under 5 ms.

Then the first directory page, a page deep in the list (next to the first: it must not
cost more) and the capped count (next to the search of the same text).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlmodel import Session, col, select

from benchmarks.common import MILLION, ensure_database, median, p95, timings
from frontdesk.data import customers as svc
from frontdesk.data import directory
from frontdesk.data.db import open_database, read_engine
from frontdesk.data.models import Customer
from frontdesk.data.validation import digits, fold

LIST_COLUMNS = (
    "c.id, c.code, c.first_name, c.last_name, c.display_name, c.email, c.phone, c.gender,"
    " c.category_id, c.home_branch_id, c.status, c.blocked, c.blocked_reason, c.version"
)
FLOOR = (
    f"SELECT {LIST_COLUMNS} FROM customer c JOIN (SELECT rowid FROM customer_fts"
    " WHERE customer_fts MATCH ? LIMIT 50) AS m ON m.rowid = c.id"
)


def pick_queries(session: Session) -> list[tuple[str, str]]:
    """Real values from the database: a common surname, a rare one, fragments, a code."""
    common = session.execute(
        text("SELECT last_name FROM customer GROUP BY last_name ORDER BY COUNT(*) DESC LIMIT 1")
    ).scalar_one()
    total = session.execute(text("SELECT MAX(id) FROM customer")).scalar_one()
    middle = (
        session.exec(
            select(Customer).where(
                col(Customer.id) >= total // 2,
                col(Customer.merged_into_id).is_(None),
                col(Customer.email).is_not(None),
                col(Customer.phone).is_not(None),
            )
        ).first()
        or session.exec(select(Customer).order_by(col(Customer.id).desc())).first()
    )
    assert middle is not None
    email = (middle.email or "someone.rare123@example.com").split("@")[0][-9:]
    phone = digits(middle.phone or "+31612345678")[-7:]
    rare = f"{middle.first_name} {middle.last_name} ".strip()
    return [
        ("common surname", common),
        ("first letters", common[:3].lower()),
        ("rare full name", rare),
        ("email fragment", email),
        ("phone fragment", phone),
        ("phone with +code", "+" + digits(middle.phone or "+31612345678")[:6]),
        ("customer code", middle.code),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=MILLION)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    path = ensure_database(args.db, args.customers)
    engine = read_engine(open_database(path))
    with Session(engine) as session:
        total = session.execute(text("SELECT COUNT(*) FROM customer")).scalar_one()
        raw = session.connection().connection.dbapi_connection
        assert raw is not None
        print(f"database: {path} ({total:,} customers); times in ms\n")
        header = (
            f"{'query':<17} {'text':<20} {'hits':>4} {'floor med':>9} {'p95':>6}"
            f" {'rows med':>8} {'p95':>6} {'ratio':>5}"
            f" {'search med':>10} {'p95':>6} {'ratio':>5}"
        )
        print(header)
        print("-" * len(header))
        ratios: list[float] = []
        full_ratios: list[float] = []
        all_rows: list[float] = []
        for label, query in pick_queries(session):
            hits = len(svc.search_rows(session=session, text=query, limit=50))
            needle = fold(query) if not query.startswith("+") else digits(query)
            phrase = '"' + needle.replace('"', '""') + '"'
            # Side by side, interleaved, so that a busy moment of the machine hits all three.
            floor: list[float] = []
            rows: list[float] = []
            full: list[float] = []

            def bare(p: str = phrase) -> object:
                return raw.execute(FLOOR, (p,)).fetchall()

            def listed(q: str = query) -> object:
                return svc.search_rows(session=session, text=q, limit=50)

            def objects(q: str = query) -> object:
                return svc.search(session=session, text=q, limit=50)

            for _ in range(max(1, args.repeat // 20)):
                floor += timings(bare, 20)
                rows += timings(listed, 20)
                full += timings(objects, 20)
            ratio = median(rows) / max(median(floor), 1e-6)
            full_ratio = median(full) / max(median(floor), 1e-6)
            ratios.append(ratio)
            full_ratios.append(full_ratio)
            all_rows += rows
            print(
                f"{label:<17} {query[:20]:<20} {hits:>4} {median(floor):>9.2f} {p95(floor):>6.2f}"
                f" {median(rows):>8.2f} {p95(rows):>6.2f} {ratio:>5.1f}"
                f" {median(full):>10.2f} {p95(full):>6.2f} {full_ratio:>5.1f}"
            )
        print(
            f"\nsearch_rows: median ratio to the floor {statistics.median(ratios):.1f}x"
            f" (goal <= 2x), p95 over every query {p95(all_rows):.2f} ms (goal <= 5 ms)"
        )
        print(
            f"search (full Customer objects): median ratio {statistics.median(full_ratios):.1f}x\n"
        )
        first = timings(lambda: svc.directory_page(session=session, limit=100), args.repeat)
        middle = svc.directory_page(session=session, after=svc.PageCursor("m", 0), limit=1)[0]
        cursor = svc.cursor_of(middle)
        deep = timings(
            lambda: svc.directory_page(session=session, after=cursor, limit=100), args.repeat
        )
        print(
            f"{'first directory page (100 rows)':<44} median {median(first):6.2f}   p95 {p95(first):6.2f}"
        )
        print(
            f"{'page deep in the list (100 rows)':<44} median {median(deep):6.2f}   p95 {p95(deep):6.2f}"
            f"   ({median(deep) / max(median(first), 1e-6):.1f}x the first page)"
        )
        common = pick_queries(session)[0][1]
        found = timings(lambda: svc.search_rows(session=session, text=common, limit=50), 50)
        counted = timings(lambda: svc.count_matches(session=session, text=common), 50)
        exact = timings(lambda: directory.count_directory(session=session, text=common), 10)
        print(
            f"{'search of ' + repr(common) + ' (50 rows)':<44} median {median(found):6.2f}   p95 {p95(found):6.2f}"
        )
        print(
            f"{'count_matches (capped at 1,000+)':<44} median {median(counted):6.2f}   p95 {p95(counted):6.2f}"
        )
        print(
            f"{'count_directory (exact, the count line)':<44} median {median(exact):6.2f}   p95 {p95(exact):6.2f}"
        )


if __name__ == "__main__":
    main()

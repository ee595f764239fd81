"""Search and paging latency on a 1,000,000-customer database.

    python benchmarks/search.py [--db PATH] [--customers N] [--repeat R]

For a fixed set of queries it prints the median and p95 of ``customers.search(limit=50)``
next to a bare FTS5 query on the same file (the floor), and the time of the first directory
page and of a page deep in the list. Goals: p95 under 5 ms and within 3x of the floor; pages
under 5 ms.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlmodel import Session, col, select

from benchmarks.common import MILLION, ensure_database, median, p95, timings
from frontdesk.data import customers as svc
from frontdesk.data.db import open_database, read_engine
from frontdesk.data.models import Customer
from frontdesk.data.validation import digits, fold


def pick_queries(session: Session) -> list[tuple[str, str]]:
    """Real values from the database: a common surname, a rare one, fragments, a code."""
    common = session.execute(
        text("SELECT last_name FROM customer GROUP BY last_name ORDER BY COUNT(*) DESC LIMIT 1")
    ).scalar_one()
    middle = (
        session.exec(select(Customer).where(col(Customer.id) == 500_000)).first()
        or session.exec(select(Customer).order_by(col(Customer.id).desc())).first()
    )
    assert middle is not None
    email = (middle.email or "someone.rare123@example.com").split("@")[0][-9:]
    phone = digits(middle.phone or "+31612345678")[-7:]
    rare = f"{middle.first_name} {middle.last_name} ".strip()
    return [
        ("common surname", common),
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
        print(f"database: {path} ({total:,} customers)\n")
        header = f"{'query':<18} {'text':<24} {'hits':>5} {'median ms':>10} {'p95 ms':>8} {'floor p95':>10} {'ratio':>6}"
        print(header)
        print("-" * len(header))
        for label, query in pick_queries(session):
            hits = len(svc.search(session=session, text=query, limit=50))
            ours = timings(
                lambda q=query: svc.search(session=session, text=q, limit=50), args.repeat
            )
            needle = fold(query) if not query.startswith("+") else digits(query)
            phrase = '"' + needle.replace('"', '""') + '"'
            floor = timings(
                lambda p=phrase: session.execute(
                    text("SELECT rowid FROM customer_fts WHERE customer_fts MATCH :q LIMIT 50"),
                    {"q": p},
                ).all(),
                args.repeat,
            )
            ratio = p95(ours) / max(p95(floor), 1e-6)
            print(
                f"{label:<18} {query[:24]:<24} {hits:>5} {median(ours):>10.2f} {p95(ours):>8.2f} "
                f"{p95(floor):>10.2f} {ratio:>6.1f}"
            )
        print()
        first = timings(lambda: svc.directory_page(session=session, limit=100), args.repeat)
        middle = svc.directory_page(session=session, after=svc.PageCursor("m", 0), limit=1)[0]
        cursor = svc.cursor_of(middle)
        deep = timings(
            lambda: svc.directory_page(session=session, after=cursor, limit=100), args.repeat
        )
        print(
            f"{'first directory page (100 rows)':<40} median {median(first):6.2f} ms   p95 {p95(first):6.2f} ms"
        )
        print(
            f"{'page deep in the list (100 rows)':<40} median {median(deep):6.2f} ms   p95 {p95(deep):6.2f} ms"
        )
        counted = timings(lambda: svc.count_matches(session=session, text="smith"), 50)
        print(
            f"{'count line (capped at 1,000+)':<40} median {median(counted):6.2f} ms   p95 {p95(counted):6.2f} ms"
        )


if __name__ == "__main__":
    main()

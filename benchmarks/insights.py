"""Insight figures at scale (issue 16), each next to the empty-database figure of the same run.

    python benchmarks/insights.py [--customers N] [--db PATH] [--repeat R]

Builds (or reuses) ``benchmarks/data/demo-N.db`` with the demo generator (``--customers
1000000`` for the issue's goal: 1,000,000 customers, about 2.4 bookings each) and prints the
median and p95 of

- the profile's Overview tab (``insights.load_profile_overview``: the totals, 24 months of
  spending and visits, rhythm, most booked, lifetime and 12-month value) over customers
  spread through the table; goal <= 150 ms;
- the business overview (``insights.business_overview``), all branches and one branch;
  goal <= 1 s;
- the "due back" directory filter's first page and count,

next to the same calls on an empty database measured in the same run. The business overview
and the filters read roll-up tables kept by triggers (migration 0010); a database made before
them is upgraded on open, and the benchmark prints how long that took.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, text
from sqlmodel import Session

from benchmarks.common import DATA, ensure_database, median, p95, timings
from frontdesk.data import customers as svc
from frontdesk.data import directory, insights
from frontdesk.data.db import (
    HEAD_REVISION,
    create_bare_engine,
    current_revision,
    open_database,
    read_engine,
)
from frontdesk.data.models import Branch, Staff

ADMIN = Staff(name="Benchmark", role="admin")


def sample_ids(engine: Engine, n: int = 20) -> list[int]:
    with Session(engine) as s:
        top = s.execute(text("SELECT MAX(id) FROM customer")).scalar_one() or 0
    return [max(1, top * (i + 1) // (n + 1)) for i in range(n)] if top else []


def measure(engine: Engine, repeat: int, now: datetime) -> dict[str, list[float]]:
    ids = sample_ids(engine)
    with Session(engine) as s:
        branch = s.execute(text("SELECT MIN(id) FROM branch")).scalar_one()
        margin, lapsed = insights.margins(s)
    out: dict[str, list[float]] = {}
    with Session(engine) as s:
        if ids:
            profile_times: list[float] = []
            for cid in ids:
                profile_times += timings(
                    lambda cid=cid: insights.load_profile_overview(
                        session=s, customer_id=cid, actor=ADMIN, now=now
                    ),
                    max(1, repeat // 4),
                )
            out["profile overview"] = profile_times
        out["business overview, all branches"] = timings(
            lambda: insights.business_overview(session=s, actor=ADMIN, now=now), repeat
        )
        if branch is not None:
            out["business overview, one branch"] = timings(
                lambda: insights.business_overview(
                    session=s, actor=ADMIN, branch_id=branch, now=now
                ),
                repeat,
            )
        due = directory.AdvancedFilter(due_back_margin=margin, lapsed_for_due=lapsed)
        filters = svc.DirectoryFilter(extra=due.conditions(now), now=now)
        out["due-back filter: first page"] = timings(
            lambda: directory.load_directory_page(
                session=s, filters=filters, limit=100, with_count=False
            ),
            max(1, repeat // 2),
        )
        out["due-back filter: count"] = timings(
            lambda: directory.count_directory(session=s, filters=filters), max(1, repeat // 4)
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=8)
    args = parser.parse_args()
    path = ensure_database(args.db or DATA / f"demo-{args.customers}.db", args.customers)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        empty = open_database(Path(tmp) / "empty.db")
        with Session(empty) as s:  # a branch and one customer without history
            s.add(Branch(name="Main"))
            svc.create_customer(
                session=s,
                data=svc.CustomerCreate(first_name="Empty", email="empty@example.com"),
                actor=ADMIN,
            )
            s.commit()
        floor = measure(read_engine(empty), args.repeat, now)
        empty.dispose()
    bare = create_bare_engine(path)
    revision = current_revision(bare)
    bare.dispose()
    started = time.perf_counter()
    engine = open_database(path)
    if revision != HEAD_REVISION:
        print(
            f"upgraded {path} from revision {revision} in {time.perf_counter() - started:.1f} s "
            "(the roll-ups back-filled)"
        )
    with Session(engine) as s:
        customers = s.execute(text("SELECT COUNT(*) FROM customer")).scalar_one()
        bookings = s.execute(text("SELECT COUNT(*) FROM booking")).scalar_one()
    print(f"{path}: {customers:,} customers, {bookings:,} bookings")
    big = measure(read_engine(engine), args.repeat, now)
    engine.dispose()
    goals = {"profile overview": 150.0, "business overview": 1000.0}
    print(f"{'':36} {'median':>10} {'p95':>10}   {'empty db':>10}   goal")
    for name, values in big.items():
        base = floor.get(name)
        goal = next((f"<= {g:,.0f} ms" for k, g in goals.items() if name.startswith(k)), "")
        empty_text = f"{median(base):8.1f} ms" if base else "         —"
        print(f"{name:36} {median(values):7.1f} ms {p95(values):7.1f} ms   {empty_text}   {goal}")


if __name__ == "__main__":
    main()

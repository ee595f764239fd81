"""Several desks at once: throughput, latency and errors of mixed work from 1, 2, 4, 8 processes.

    python benchmarks/concurrency.py [--seconds S] [--procs 1,2,4,8] [--pg URL | --no-pg]

Each process is one desk: it adds customers, edits them, writes notes and searches, as fast
as it can, for ``--seconds``. For each number of processes the script prints operations per
second, p50 / p99 / max latency of the writes and of all operations, and the errors (a
"database is locked" that reaches a desk counts as one). Goal (issue 13): 0 errors, and the
write p99 at 8 processes within 10x of the write p99 of 1 process (the floor measured in the
same run). Runs on a fresh SQLite file, and on PostgreSQL when a server answers.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from sqlmodel import Session, col, select

from frontdesk.data import customers as svc
from frontdesk.data import notes
from frontdesk.data.db import open_database, read_engine
from frontdesk.data.models import Staff

PG_ADMIN = os.environ.get(
    "FRONTDESK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def desk(url: str, seconds: float, seed: int, queue: mp.Queue, start: Any) -> None:
    """One desk's loop; puts (kind, milliseconds, error or '') tuples on ``queue``.

    A desk is a running app: each process first does one operation of every kind untimed
    (imports, connections and statement caches warm, as after a morning's first minute),
    then all desks start together.
    """
    engine = open_database(url)
    reader = read_engine(engine)  # as the app reads: without taking a writer's turn
    with Session(engine, expire_on_commit=False) as s:
        me = s.exec(select(Staff).where(col(Staff.username) == "bench")).one()
    mine: list[int] = []

    def operation(kind: str, n: int) -> None:
        with Session(reader if kind == "search" else engine) as s:
            if kind == "add":
                c = svc.create_customer(
                    session=s,
                    data=svc.CustomerCreate(
                        first_name=f"Desk{seed}",
                        last_name=f"Customer{n}",
                        email=f"d{seed}-{n}-{uuid.uuid4().hex[:6]}@bench.example",
                    ),
                    actor=me,
                )
                s.commit()
                mine.append(c.id or 0)
            elif kind == "edit":
                cid = mine[n % len(mine)]
                current = svc.get_customer(session=s, customer_id=cid)
                svc.update_customer(
                    session=s,
                    customer_id=cid,
                    data=svc.CustomerUpdate(display_name=f"Seen {n}"),
                    expected_version=current.version,
                    actor=me,
                )
                s.commit()
            elif kind == "note":
                notes.add_note(
                    session=s, customer_id=mine[n % len(mine)], body=f"Called back ({n})", actor=me
                )
                s.commit()
            else:
                svc.search(session=s, text=f"customer{n % 97}", limit=20)

    for n, kind in enumerate(("add", "edit", "note", "search"), start=-4):
        operation(kind, n)
    start.wait()
    results: list[tuple[str, float, str]] = []
    n = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        n += 1
        kind = ("add", "edit", "note", "search", "search")[n % 5]
        started = time.perf_counter()
        error = ""
        try:
            operation(kind, n)
        except Exception as exc:  # every failure that would reach a desk
            error = type(exc).__name__ + ": " + str(exc).splitlines()[0][:80]
        results.append((kind, (time.perf_counter() - started) * 1000, error))
    engine.dispose()
    queue.put(results)


def prepare(url: str) -> None:
    engine = open_database(url)
    with Session(engine) as s:
        if not s.exec(select(Staff).where(col(Staff.username) == "bench")).first():
            s.add(Staff(name="Bench Desk", username="bench", role="admin"))
            s.commit()
    engine.dispose()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def run(url: str, procs: int, seconds: float) -> dict[str, float]:
    queue: mp.Queue = mp.Queue()
    start = mp.Barrier(procs)
    workers = [mp.Process(target=desk, args=(url, seconds, i, queue, start)) for i in range(procs)]
    for w in workers:
        w.start()
    results = [r for _ in workers for r in queue.get()]
    for w in workers:
        w.join()
    writes = [ms for kind, ms, err in results if kind != "search" and not err]
    every = [ms for _, ms, err in results if not err]
    errors = [err for _, _, err in results if err]
    return {
        "ops": len(results) / seconds,
        "p50": statistics.median(every) if every else 0.0,
        "p99": pct(every, 0.99),
        "w_p50": statistics.median(writes) if writes else 0.0,
        "w_p99": pct(writes, 0.99),
        "max": max(every, default=0.0),
        "errors": float(len(errors)),
        "first_error": errors[0] if errors else "",  # type: ignore[dict-item]
    }


def report(label: str, url: str, counts: list[int], seconds: float) -> bool:
    prepare(url)
    print(f"\n{label}: {seconds:g} s per run")
    print(" procs   ops/s   p50 ms   p99 ms  write p50  write p99   max ms  errors")
    rows = {}
    for procs in counts:
        r = run(url, procs, seconds)
        rows[procs] = r
        print(
            f"{procs:>6} {r['ops']:>7.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} {r['w_p50']:>10.1f}"
            f" {r['w_p99']:>10.1f} {r['max']:>8.0f} {int(r['errors']):>7}"
            + (f"  ({r['first_error']})" if r["errors"] else "")
        )
    floor, top = rows[min(counts)]["w_p99"], rows[max(counts)]["w_p99"]
    ratio = top / floor if floor else float("inf")
    errors = sum(int(r["errors"]) for r in rows.values())
    ok = errors == 0 and ratio <= 10
    print(
        f"write p99 at {max(counts)} processes: {top:.1f} ms = {ratio:.1f}x the floor "
        f"({floor:.1f} ms at {min(counts)}); goal <= 10x and 0 errors: "
        + ("MET" if ok else "NOT MET")
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--procs", default="1,2,4,8")
    parser.add_argument("--pg", default=None, help="A PostgreSQL server URL (admin database).")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    counts = [int(p) for p in args.procs.split(",")]
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ok &= report("SQLite (one file, WAL)", str(Path(tmp) / "desks.db"), counts, args.seconds)
    if args.no_pg:
        return 0 if ok else 1
    admin_url = args.pg or PG_ADMIN
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        name = f"fd_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"\nPostgreSQL: skipped ({str(exc).splitlines()[0][:100]})")
        return 0 if ok else 1
    try:
        ok &= report("PostgreSQL", admin_url.rsplit("/", 1)[0] + "/" + name, counts, args.seconds)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0 if ok else 1


if __name__ == "__main__":
    mp.set_start_method("spawn")
    sys.exit(main())

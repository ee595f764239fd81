"""Import throughput on a 100,000-row CSV file.

    python benchmarks/import.py [--rows N] [--runs N]

Prints rows per second of ``frontdesk import`` (full validation: phones, emails, names,
duplicates, batches, audit) next to a bare ``executemany`` of the same already-validated rows
into the same schema (the floor), and the peak memory of the process. Goal: >= 10,000 rows/s.

Also printed: the same rows written in multi-row statements without any checks (what the
writing side of the import can reach at best on this machine) and how many worker processes
validated rows next to the writer (the CLI's and the wizard's automatic choice), and the
import's rate as a share of that multi-row insert's (goal: at least 0.7x, both measured in the
same run). Both floors run without Python's cycle collector, at their best. The import and
the floors run ``--runs`` times in turn (3 by default) on fresh databases, and the medians
are compared: on a shared 2-core machine one run of each swings by a fifth either way.
"""

from __future__ import annotations

import argparse
import csv
import gc
import resource
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert
from sqlmodel import Session, select

from frontdesk.data.bulk import bulk_insert
from frontdesk.data.db import open_database
from frontdesk.data.importing import ImportOptions, _worker_count, run_import
from frontdesk.data.models import Customer

FIRST = ["Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Mia", "Sanne", "Daan", "Léa"]
LAST = ["Smith", "Jones", "Garcia", "de Vries", "Müller", "Rossi", "Martin", "Bakker"]


def write_file(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(["First Name", "Last Name", "Email", "Mobile", "Birthday", "City"])
        for i in range(rows):
            w.writerow(
                [
                    FIRST[i % len(FIRST)],
                    LAST[i % len(LAST)],
                    f"person{i}@example.com",
                    f"+1 415 {200 + i // 10000:03d} {i % 10000:04d}",
                    "1990-04-23",
                    "Springfield",
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--runs", type=int, default=3, help="imports and floors, in turn (medians printed)"
    )
    args = parser.parse_args()
    imports: list[float] = []
    floors: list[float] = []
    multis: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "customers.csv"
        write_file(data, args.rows)
        options = ImportOptions(workers=None)  # as the CLI and the wizard run it
        workers = _worker_count(data, options)
        rows: list[dict[str, object]] = []
        peak = 0.0
        for run in range(max(1, args.runs)):
            engine = open_database(Path(tmp) / f"import-{run}.db")
            started = time.perf_counter()
            summary = run_import(engine=engine, path=data, options=options)
            imports.append(time.perf_counter() - started)
            if not rows:
                # The import's own peak (the floors below hold every row at once).
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                with Session(engine) as s:
                    rows = [c.model_dump(exclude={"id"}) for c in s.exec(select(Customer))]
            engine.dispose()
            # The floors at their best: without Python's cycle collector, which would walk the
            # 100,000 rows held here again and again (the import keeps its own collector quiet).
            gc.freeze()
            gc.disable()
            # The same rows, validated beforehand, inserted with one executemany per batch.
            floor_engine = open_database(Path(tmp) / f"floor-{run}.db")
            started = time.perf_counter()
            with floor_engine.begin() as conn:
                for i in range(0, len(rows), 2000):
                    conn.execute(insert(Customer.__table__), rows[i : i + 2000])  # type: ignore[attr-defined]
            floors.append(time.perf_counter() - started)
            floor_engine.dispose()
            # The same rows in multi-row statements, as the import itself writes them.
            multi_engine = open_database(Path(tmp) / f"multi-{run}.db")
            started = time.perf_counter()
            with multi_engine.begin() as conn:
                for i in range(0, len(rows), 2000):
                    bulk_insert(conn, Customer, [dict(r) for r in rows[i : i + 2000]])
            multis.append(time.perf_counter() - started)
            multi_engine.dispose()
            gc.enable()
            gc.unfreeze()
    n = len(rows)
    elapsed, floor, multi = median(imports), median(floors), median(multis)

    def spread(times: list[float]) -> str:
        each = ", ".join(f"{t:.1f}" for t in times)
        return f"median {median(times):.1f} s; runs {each} s"

    print(
        f"rows in file:                  {summary.rows:,} (imported {summary.imported:,}, invalid {summary.invalid:,})"
    )
    print(f"runs (in turn):                {len(imports):10d}")
    print(
        f"frontdesk import:              {summary.rows / elapsed:10,.0f} rows/s  ({spread(imports)})"
    )
    print(f"bare executemany (the floor):  {n / floor:10,.0f} rows/s  ({spread(floors)})")
    print(f"multi-row insert, no checks:   {n / multi:10,.0f} rows/s  ({spread(multis)})")
    print(f"validation processes:          {workers:10d}")
    print(f"peak memory of the import:     {peak:10,.0f} MB")
    ratios = ", ".join(f"{m / i:.2f}" for m, i in zip(multis, imports, strict=True))
    print(
        f"import / multi-row insert:     {multi / elapsed:10.2f}x  (medians; each run: {ratios};"
        " goal: at least 0.7x)"
    )
    print("goal: at least 10,000 rows/s with full validation")


if __name__ == "__main__":
    main()

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

Each import and each floor runs in a process of its own, as ``frontdesk import`` does: the
import's validating process is a fork of the importing one, and a benchmark process holding
the floors' 100,000 rows made every import after the first a second slower (its worker's copy
of that memory), which no desk's import pays.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

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


def _child(args: argparse.Namespace) -> None:
    """One timed measurement in this fresh process; prints its seconds (and, for the import,
    its counts and peak memory) as one line of JSON."""
    kind, database = args.child, Path(args.db)
    if kind == "import":
        engine = open_database(database)
        options = ImportOptions(workers=None)  # as the CLI and the wizard run it
        started = time.perf_counter()
        summary = run_import(engine=engine, path=Path(args.file), options=options)
        seconds = time.perf_counter() - started
        engine.dispose()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out = {
            "seconds": seconds,
            "rows": summary.rows,
            "imported": summary.imported,
            "invalid": summary.invalid,
            "workers": _worker_count(Path(args.file), options),
            "peak": peak,
        }
        print(json.dumps(out))
        return
    # The floors: the imported customers, read untimed, inserted again without any checks.
    source = open_database(Path(args.source))
    with Session(source) as s:
        rows = [c.model_dump(exclude={"id"}) for c in s.exec(select(Customer))]
    source.dispose()
    # At their best: without Python's cycle collector, which would walk the 100,000 rows held
    # here again and again (the import keeps its own collector quiet).
    gc.freeze()
    gc.disable()
    engine = open_database(database)
    started = time.perf_counter()
    with engine.begin() as conn:
        for i in range(0, len(rows), 2000):
            if kind == "floor":  # one executemany per batch
                conn.execute(insert(Customer.__table__), rows[i : i + 2000])  # type: ignore[attr-defined]
            else:  # multi-row statements, as the import itself writes them
                bulk_insert(conn, Customer, [dict(r) for r in rows[i : i + 2000]])
    seconds = time.perf_counter() - started
    engine.dispose()
    print(json.dumps({"seconds": seconds, "rows": len(rows)}))


def _measure(kind: str, db: Path, **paths: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", kind, "--db", str(db)]
    for name, path in paths.items():
        command += [f"--{name}", str(path)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--runs", type=int, default=3, help="imports and floors, in turn (medians printed)"
    )
    parser.add_argument("--child", choices=["import", "floor", "multi"], help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    imports: list[float] = []
    floors: list[float] = []
    multis: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "customers.csv"
        write_file(data, args.rows)
        first: dict[str, Any] = {}
        for run in range(max(1, args.runs)):
            imported = Path(tmp) / f"import-{run}.db"
            result = _measure("import", imported, file=data)
            imports.append(result["seconds"])
            first = first or result
            source = Path(tmp) / "import-0.db"
            floors.append(
                _measure("floor", Path(tmp) / f"floor-{run}.db", source=source)["seconds"]
            )
            multi = _measure("multi", Path(tmp) / f"multi-{run}.db", source=source)
            multis.append(multi["seconds"])
            n = multi["rows"]
    elapsed, floor, multi_median = median(imports), median(floors), median(multis)

    def spread(times: list[float]) -> str:
        each = ", ".join(f"{t:.1f}" for t in times)
        return f"median {median(times):.1f} s; runs {each} s"

    rows_in_file = first["rows"]
    print(
        f"rows in file:                  {rows_in_file:,} (imported {first['imported']:,}, invalid {first['invalid']:,})"
    )
    print(f"runs (in turn):                {len(imports):10d}")
    print(
        f"frontdesk import:              {rows_in_file / elapsed:10,.0f} rows/s  ({spread(imports)})"
    )
    print(f"bare executemany (the floor):  {n / floor:10,.0f} rows/s  ({spread(floors)})")
    print(f"multi-row insert, no checks:   {n / multi_median:10,.0f} rows/s  ({spread(multis)})")
    print(f"validation processes:          {first['workers']:10d}")
    print(f"peak memory of the import:     {first['peak']:10,.0f} MB")
    ratios = ", ".join(f"{m / i:.2f}" for m, i in zip(multis, imports, strict=True))
    print(
        f"import / multi-row insert:     {multi_median / elapsed:10.2f}x  (medians; each run: {ratios};"
        " goal: at least 0.7x)"
    )
    print("goal: at least 10,000 rows/s with full validation")


if __name__ == "__main__":
    main()

"""The monkey, long: seeded random keys across every screen and modal on a demo database with
hostile data (the same walk as tests/ui/test_monkey.py, which runs a short one).

    python benchmarks/monkey.py --keys 50000 --seed N --size 160x45 [--customers 400]
                                [--staff admin] [--db PATH] [--runs 1]

Prints keys per second, the screens (and tabs) visited, and every distinct failure with its
seed and the last keys sent, so it can be replayed. After a crash the app is started again on
the same database and the walk goes on. Exit status 1 when anything failed.

The database is a fresh temporary demo database with the hostile data unless --db names one
(which is then copied, never changed). Files the walk writes (exports typed by the monkey)
stay in the temporary directory; writes elsewhere are refused.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parse_size(text: str) -> tuple[int, int]:
    cols, _, rows = text.lower().partition("x")
    return int(cols), int(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--size", type=parse_size, default=(160, 45))
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--staff", default="admin")
    parser.add_argument("--db", type=Path, help="walk a copy of this SQLite database")
    parser.add_argument("--runs", type=int, default=1, help="walks with seeds seed, seed+1 ...")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="frontdesk-monkey-") as tmp:
        folder = Path(tmp)
        # Everything the app writes stays here (data dir, crash reports, exports, ~).
        os.environ["FRONTDESK_DATA_DIR"] = str(folder / "data")
        os.environ["FRONTDESK_CONFIG_DIR"] = str(folder / "config")
        os.environ["HOME"] = str(folder)
        os.environ.pop("FRONTDESK_DATABASE_URL", None)
        os.chdir(folder)
        failed = False
        for run in range(args.runs):
            seed = args.seed + run
            failed |= walk(folder / f"run{run}", seed, args)
        return 1 if failed else 0


def walk(folder: Path, seed: int, args: argparse.Namespace) -> bool:
    from frontdesk.app import FrontdeskApp
    from frontdesk.data.db import open_database
    from frontdesk.data.demo import generate
    from tests.ui.conftest import NOW
    from tests.ui.hostile import add_hostile_data, write_hostile_csv
    from tests.ui.monkey_walk import walk_app

    folder.mkdir(parents=True)
    db = folder / "monkey.db"
    started = time.perf_counter()
    if args.db:
        with sqlite3.connect(args.db) as src, sqlite3.connect(db) as dst:
            src.backup(dst)
        engine = open_database(db)
        csv_path: Path | None = write_hostile_csv(folder / "hostile.csv", [])
    else:
        engine = open_database(db)
        generate(engine=engine, customers=args.customers, seed=11, now=NOW)
        data = add_hostile_data(engine, now=NOW, csv_dir=folder)
        csv_path = data.csv_path
    print(
        f"database ready in {time.perf_counter() - started:.1f} s; walking seed={seed} "
        f"size={args.size[0]}x{args.size[1]} keys={args.keys} staff={args.staff}",
        flush=True,
    )

    def log(line: str) -> None:
        if not args.quiet or line.startswith("FAILURE"):
            print(line, flush=True)

    def make_app() -> FrontdeskApp:
        return FrontdeskApp(
            engine=engine, staff=args.staff, clock=lambda: NOW, data_dir=folder / "data"
        )

    try:
        report = asyncio.run(
            walk_app(
                make_app,
                seed=seed,
                keys=args.keys,
                size=args.size,
                tmp_dir=folder.parent,
                import_path=csv_path,
                log=log,
            )
        )
    finally:
        engine.dispose()
    print(report.summary(), flush=True)
    missing = sorted(report.missing())
    if missing:
        print(f"  not reached: {', '.join(missing)}")
    if report.failures:
        print(
            f"replay: python benchmarks/monkey.py --seed {seed} --size "
            f"{args.size[0]}x{args.size[1]} --keys {args.keys} --staff {args.staff}"
        )
    return bool(report.failures)


if __name__ == "__main__":
    sys.exit(main())

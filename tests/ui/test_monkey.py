"""The monkey: thousands of seeded random keys across every screen and modal, on a demo
database full of hostile data. The app must never raise.

A short run is part of the suite (two seeds, two terminal sizes). Replay or lengthen it with
``MONKEY_SEEDS=7,8 MONKEY_KEYS=5000 pytest tests/ui/test_monkey.py``; a long run is
``python benchmarks/monkey.py --keys 50000 --seed N --size 160x45``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from frontdesk.data.db import open_database
from frontdesk.data.demo import generate
from tests.ui.conftest import NOW, make_app
from tests.ui.hostile import add_hostile_data
from tests.ui.monkey_walk import walk_app

SEEDS = [int(s) for s in os.environ.get("MONKEY_SEEDS", "20261102,4711").split(",")]
KEYS = int(os.environ.get("MONKEY_KEYS", "500"))
SIZES = [(120, 36), (160, 45)]


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A demo database with the hostile data, built once; each walk gets a copy."""
    folder = tmp_path_factory.mktemp("monkey-template")
    engine = open_database(folder / "hostile.db")
    generate(engine=engine, customers=400, seed=11, now=NOW)
    data = add_hostile_data(engine, now=NOW, csv_dir=folder)
    engine.dispose()
    assert data.csv_path is not None
    yield folder / "hostile.db", data.csv_path


def _copy_database(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


@pytest.mark.parametrize(
    ("seed", "size"),
    [(seed, SIZES[i % len(SIZES)]) for i, seed in enumerate(SEEDS)],
    ids=lambda v: "x".join(map(str, v)) if isinstance(v, tuple) else str(v),
)
async def test_monkey_never_raises(
    seed: int,
    size: tuple[int, int],
    hostile_db: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    template, csv_path = hostile_db
    _copy_database(template, tmp_path / "monkey.db")
    # Anything the walk writes (an export typed as "out.csv" or "~/x.csv") stays in tmp_path;
    # anything else is refused by the walk's guard.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    engine = open_database(tmp_path / "monkey.db")
    try:
        report = await walk_app(
            lambda: make_app(engine, staff="admin", data_dir=tmp_path / "data"),
            seed=seed,
            keys=KEYS,
            size=size,
            tmp_dir=tmp_path,
            import_path=csv_path,
        )
    finally:
        engine.dispose()
    print(report.summary())
    assert not report.failures, (
        f"the monkey broke the app (replay: MONKEY_SEEDS={seed} MONKEY_KEYS={KEYS} pytest "
        f"tests/ui/test_monkey.py, or python benchmarks/monkey.py --seed {seed} "
        f"--size {size[0]}x{size[1]} --keys {KEYS})\n" + report.summary()
    )
    assert report.keys_sent >= KEYS
    if KEYS >= 400:
        assert not report.missing(), f"the walk never reached {sorted(report.missing())}"

"""Shared helpers of the benchmarks: the big demo database and latency statistics."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).parent / "data"
MILLION = DATA / "million.db"


def ensure_database(path: Path, customers: int) -> Path:
    """Build the demo database with ``frontdesk demo`` unless it is already there."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"building {path} with {customers:,} customers (a few minutes)...", flush=True)
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "frontdesk",
            "demo",
            "--db",
            str(path),
            "--customers",
            str(customers),
        ],
        check=True,
    )
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def byte_compile() -> None:
    """Byte-compile the package, as installing it does, before timing launches and first
    openings: with ``PYTHONDONTWRITEBYTECODE`` set (some shells and sandboxes set it) an
    editable install compiles every module from its source at every launch, which no
    installed desk does (about 50 ms of a launch here, and part of every first opening)."""
    import compileall

    compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "frontdesk"), quiet=1)


def timings(fn: Callable[[], object], repeat: int) -> list[float]:
    fn()  # warm caches once
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

"""How long ``frontdesk demo`` takes to fill a new database, and its peak memory.

    python benchmarks/demo.py [--customers N] [--runs N] [--keep PATH]

Runs ``frontdesk demo --customers N`` (1,000,000 by default) as a user would, in a process of
its own, on a new database in a temporary folder (or at ``--keep PATH``, which must not exist
yet, kept afterwards for the other benchmarks), and prints its wall time, processor time and
peak memory next to the goal (at most 90 s and 500 MB at a million customers). Next to them,
measured in the same run, the time this machine takes for a fixed piece of pure Python
(a floor of the machine's speed: on a shared 2-core machine the same demo swings by a fifth).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

GOAL_SECONDS = 90.0
GOAL_MB = 500.0


def machine_floor() -> float:
    """Seconds for twenty million additions in a Python loop (this machine's speed)."""
    started = time.perf_counter()
    total = 0
    for i in range(20_000_000):
        total += i
    return time.perf_counter() - started


def run_demo(path: Path, customers: int) -> tuple[float, float, float]:
    """(wall seconds, processor seconds, peak MB) of one ``frontdesk demo`` on ``path``."""
    command = [sys.executable, "-m", "frontdesk", "demo", "--db", str(path)]
    command += ["--customers", str(customers)]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    errors = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if child.returncode != 0:
        raise SystemExit(f"frontdesk demo failed ({child.returncode}):\n{errors[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1, help="demos in turn (medians printed)")
    parser.add_argument("--keep", type=Path, help="build the (first) database here and keep it")
    args = parser.parse_args()
    if args.keep is not None and args.keep.exists():
        parser.error(f"{args.keep} exists already: the demo fills a new database")
    walls: list[float] = []
    cpus: list[float] = []
    peaks: list[float] = []
    floors: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(max(1, args.runs)):
            floors.append(machine_floor())
            path = Path(tmp) / f"demo-{run}.db"
            if run == 0 and args.keep is not None:
                args.keep.parent.mkdir(parents=True, exist_ok=True)
                path = args.keep
            wall, cpu, peak = run_demo(path, args.customers)
            walls.append(wall)
            cpus.append(cpu)
            peaks.append(peak)
            if path.parent == Path(tmp):
                for leftover in Path(tmp).glob(f"{path.name}*"):
                    leftover.unlink()
    each = ", ".join(f"{w:.1f}" for w in walls)
    print(f"frontdesk demo --customers {args.customers:,}   ({len(walls)} run(s), in turn)")
    print(f"wall time:        median {median(walls):6.1f} s   (runs {each} s)")
    print(f"processor time:   median {median(cpus):6.1f} s")
    print(f"peak memory:      max    {max(peaks):6.0f} MB")
    print(f"machine floor:    median {median(floors):6.2f} s   (20 million additions in Python)")
    if args.customers == 1_000_000:
        met = median(walls) <= GOAL_SECONDS and max(peaks) <= GOAL_MB
        verdict = "met" if met else "not met"
        print(f"goal: at most {GOAL_SECONDS:.0f} s and {GOAL_MB:.0f} MB at a million: {verdict}")


if __name__ == "__main__":
    main()

"""Booking requests per second and latency through the real HTTP API, next to a floor.

    python benchmarks/api.py [--customers N] [--db PATH] [--requests R] [--concurrency C]

Builds (once) a demo database of N customers (default 20,000; ``--customers 1000000`` for the
issue's figure, in benchmarks/data/million.db), works on a copy of it, starts ``frontdesk
serve``'s app on uvicorn on loopback and sends R booking requests from C clients at once:
half for known customers (their phone in another format: matched, no duplicate), half for
new ones (created), each with its own Idempotency-Key, at times spread over the coming year.
It prints requests per second, median and p95 latency, and the same figures for the floor
measured in the same run on the same server: a bare GET of /openapi.json (HTTP, routing and
JSON, no database).
"""

from __future__ import annotations

import argparse
import random
import shutil
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import uvicorn
from sqlmodel import Session, col, func, select

from benchmarks.common import DATA, MILLION, ensure_database, median, p95
from frontdesk.api import create_app
from frontdesk.data import api_tokens
from frontdesk.data.db import open_database
from frontdesk.data.models import Branch, Customer, Service, Staff
from frontdesk.data.validation import format_phone


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_load(
    url: str, calls: list[tuple[str, str, dict | None, dict]], concurrency: int
) -> tuple[float, list[float], dict[int, int]]:
    """(seconds, latencies in ms, status code counts) of the calls from ``concurrency``
    clients at once."""
    local = threading.local()

    def one(call: tuple[str, str, dict | None, dict]) -> tuple[float, int]:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=url, timeout=60)
        method, path, body, headers = call
        started = time.perf_counter()
        response = client.request(method, path, json=body, headers=headers)
        return (time.perf_counter() - started) * 1000, response.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, calls))
    elapsed = time.perf_counter() - started
    codes: dict[int, int] = {}
    for _, code in results:
        codes[code] = codes.get(code, 0) + 1
    return elapsed, [ms for ms, _ in results], codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--db", type=Path, default=None, help="demo database to copy")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    source = args.db or (
        MILLION if args.customers >= 1_000_000 else DATA / f"demo-{args.customers}.db"
    )
    ensure_database(source, args.customers)
    work = Path(tempfile.mkdtemp(prefix="fd-api-bench-")) / "bench.db"
    shutil.copy(source, work)
    engine = open_database(work)
    rng = random.Random(args.seed)
    admin = Staff(name="Benchmark", role="admin")
    with Session(engine) as s:
        token = api_tokens.create_token(
            session=s, name=f"bench-{time.time_ns()}", scopes=["bookings"], actor=admin
        ).token
        s.commit()
        total = s.exec(select(func.count()).select_from(Customer)).one()
        branch = s.exec(select(Branch).order_by(col(Branch.name))).first()
        service = s.exec(
            select(Service).where(col(Service.active).is_(True)).order_by(col(Service.name))
        ).first()
        assert branch is not None and service is not None
        known = list(
            s.exec(
                select(Customer.phone)
                .where(
                    col(Customer.phone).is_not(None),
                    col(Customer.blocked).is_(False),
                    col(Customer.merged_into_id).is_(None),
                    col(Customer.deleted_at).is_(None),
                )
                .where(col(Customer.id) >= rng.randint(1, max(1, total - 5_000)))
                .limit(args.requests)
            )
        )
    print(f"{total:,} customers; {args.requests} requests from {args.concurrency} clients")

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {token}"}
    base = datetime.now(UTC).date() + timedelta(days=30)
    calls: list[tuple[str, str, dict | None, dict]] = []
    for i in range(args.requests):
        day = base + timedelta(days=i // 20)
        start = f"{day.isoformat()}T{9 + (i % 20) // 2:02d}:{30 * (i % 2):02d}"
        body: dict[str, str] = {
            "service": service.name,
            "branch": branch.name,
            "start": start,
            "source": "benchmark",
        }
        if i % 2 == 0 and known:
            phone = known[(i // 2) % len(known)]
            body["phone"] = format_phone(phone)  # another format than stored: matched
        else:
            body["name"] = f"Bench Guest {i}"
            body["phone"] = f"+31 6 2{rng.randrange(10**7):07d}"
        headers = {**auth, "Idempotency-Key": f"bench-{i}"}
        calls.append(("POST", "/api/v1/booking-requests", body, headers))
    floor_calls = [("GET", "/openapi.json", None, {})] * args.requests

    run_load(url, floor_calls[:20], args.concurrency)  # warm up
    floor_s, floor_ms, _ = run_load(url, floor_calls, args.concurrency)
    req_s, req_ms, codes = run_load(url, calls, args.concurrency)
    server.should_exit = True
    thread.join(10)
    engine.dispose()
    shutil.rmtree(work.parent, ignore_errors=True)

    print(f"{'':28} {'req/s':>8} {'median ms':>10} {'p95 ms':>8}")
    print(
        f"{'floor: GET /openapi.json':28} {args.requests / floor_s:8.0f} "
        f"{median(floor_ms):10.1f} {p95(floor_ms):8.1f}"
    )
    print(
        f"{'POST booking-requests':28} {args.requests / req_s:8.0f} "
        f"{median(req_ms):10.1f} {p95(req_ms):8.1f}"
    )
    print(f"status codes: {dict(sorted(codes.items()))}")
    print(
        f"p95 ratio to the floor: {p95(req_ms) / max(p95(floor_ms), 0.001):.1f}x; "
        f"throughput {args.requests / req_s / (args.requests / floor_s) * 100:.0f}% of the floor"
    )


if __name__ == "__main__":
    main()

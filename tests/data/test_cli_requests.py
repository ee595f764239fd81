"""CLI: tokens add/list/revoke, bookings add (the API's matching) and bookings list."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlmodel import Session, select

from frontdesk.cli import main
from frontdesk.data import api_tokens
from frontdesk.data.db import open_database
from frontdesk.data.models import ApiToken, Customer, Staff
from tests.data.test_booking_requests import make_shop


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def shop_db(tmp_path: Path) -> str:
    db = str(tmp_path / "shop.db")
    engine = open_database(db)
    with Session(engine) as s:
        make_shop(s)
        s.add(Staff(name="Ada", role="admin"))
        s.commit()
    engine.dispose()
    return db


def tomorrow(hour: int = 10) -> str:
    return f"{(datetime.now() + timedelta(days=1)).date().isoformat()} {hour:02d}:00"


def test_tokens_add_prints_once_list_and_revoke(tmp_path: Path) -> None:
    db = shop_db(tmp_path)
    code, _, err = run("--staff", "Rita", "tokens", "add", "--db", db, "site")
    assert code == 1 and "may not manage API tokens" in err
    code, out, _ = run(
        "--staff", "Ada", "tokens", "add", "--db", db, "site", "--scope", "bookings",
        "--scope", "customers:read",
    )  # fmt: skip
    assert code == 0
    token = out.strip().splitlines()[-1]
    assert token.startswith("fdk_")
    engine = open_database(db)
    with Session(engine) as s:
        row = s.exec(select(ApiToken)).one()
        assert row.token_hash == api_tokens.token_hash(token) and row.scopes == [
            "bookings",
            "customers:read",
        ]
    engine.dispose()
    code, out, _ = run("--staff", "Ada", "tokens", "list", "--db", db)
    assert code == 0 and "site" in out and token not in out
    assert run("--staff", "Ada", "tokens", "revoke", "--db", db, "site")[0] == 0
    code, out, _ = run("--staff", "Ada", "tokens", "list", "--db", db)
    assert "site" in out and out.count("-") >= 1


def test_bookings_add_matches_like_the_api_and_lists_the_day(tmp_path: Path) -> None:
    db = shop_db(tmp_path)
    code, out, err = run(
        "--staff", "Rita", "bookings", "add", "--db", db, "--phone", "06 1234 5678",
        "--service", "hair", "--at", tomorrow(), "--json",
    )  # fmt: skip
    assert code == 0, err
    booked = json.loads(out)
    assert booked["status"] == "booked" and booked["customer_code"] == "C-000001"
    assert not booked["customer_created"] and booked["staff"] == "Nina"
    code, out, err = run(
        "--staff", "Rita", "bookings", "add", "--db", db, "--email", "lena@example.com",
        "--first-name", "Lena", "--service", "Haircut", "--at", tomorrow(), "--staff", "Omar",
    )  # fmt: skip
    assert code == 0, err
    assert "(new customer)" in out and "Omar" in out
    code, _, err = run(
        "--staff", "Rita", "bookings", "add", "--db", db, "--email", "x@example.com",
        "--first-name", "X", "--service", "Haircut", "--at", tomorrow(), "--staff", "Nina",
    )  # fmt: skip
    assert code == 1 and "start:" in err and "taken" in err
    code, out, _ = run(
        "--staff", "Rita", "bookings", "add", "--db", db, "--phone", "0612345678",
        "--first-name", "Johannes", "--service", "Haircut", "--at", tomorrow(15),
    )  # fmt: skip
    assert code == 3 and "review" in out
    code, _, err = run(
        "--staff", "Rita", "bookings", "add", "--db", db, "--phone", "12",
        "--service", "Haircut", "--at", tomorrow(),
    )  # fmt: skip
    assert code == 1 and "phone:" in err
    code, out, _ = run(
        "--staff", "Rita", "bookings", "list", "--db", db, "--date", tomorrow()[:10], "--json"
    )
    assert code == 0
    rows = json.loads(out)
    assert [(r["customer_code"], r["staff"], r["status"]) for r in rows] == [
        ("C-000001", "Nina", "confirmed"),
        ("C-000002", "Omar", "confirmed"),
    ]
    code, out, _ = run("--staff", "Rita", "bookings", "list", "--db", db, "--date", tomorrow()[:10])
    assert code == 0 and "C-000001" in out and "C-000002" in out
    engine = open_database(db)
    with Session(engine) as s:
        lena = s.exec(select(Customer).where(Customer.first_name == "Lena")).one()
        assert (lena.created_via, lena.created_source) == ("online", "cli")
    engine.dispose()


def test_serve_answers_on_loopback(tmp_path: Path) -> None:
    """`frontdesk serve` as a process: the OpenAPI document, and 401 without a token."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    db = shop_db(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "frontdesk", "serve", "--db", db, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                document = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "frontdesk serve did not start"
                time.sleep(0.1)
        assert document.status_code == 200
        assert "/api/v1/booking-requests" in document.json()["paths"]
        refused = httpx.get(f"http://127.0.0.1:{port}/api/v1/availability?service=x&date=y")
        assert refused.status_code == 401
    finally:
        proc.terminate()
        proc.wait(10)

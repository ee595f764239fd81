"""The booking API against a real uvicorn server on loopback, called over HTTP with httpx:
tokens (401/403), matching, review, blocked, idempotency, 20 requests at once for one slot,
errors naming the field, and a bounded schemathesis run from /openapi.json (no 5xx)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from frontdesk.api import create_app
from frontdesk.data import api_tokens, notes
from frontdesk.data import customers as svc
from frontdesk.data.models import AuditEvent, Booking, BookingRequest, Customer
from tests.actors import ADMIN, DESK
from tests.data.test_booking_requests import make_shop


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Api:
    url: str
    engine: Engine
    token: str  # bookings + customers:read
    booking_only: str
    revoked: str
    ids: dict[str, int]

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def slot(days: int = 1, hour: int = 10, minute: int = 0) -> str:
    day = datetime.now(UTC).date() + timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}"


@pytest.fixture
def api(any_engine: Engine) -> Iterator[Api]:
    with Session(any_engine) as s:
        ids = make_shop(s)
        token = api_tokens.create_token(
            session=s, name="website", scopes=["bookings", "customers:read"], actor=ADMIN
        ).token
        booking_only = api_tokens.create_token(
            session=s, name="assistant", scopes=["bookings"], actor=ADMIN
        ).token
        revoked = api_tokens.create_token(
            session=s, name="old", scopes=["bookings"], actor=ADMIN
        ).token
        api_tokens.revoke_token(session=s, name="old", actor=ADMIN)
        s.commit()
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(any_engine, tz=UTC), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield Api(f"http://127.0.0.1:{port}", any_engine, token, booking_only, revoked, ids)
    finally:
        server.should_exit = True
        thread.join(10)


def count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


POST = "/api/v1/booking-requests"


def test_tokens_missing_unknown_revoked_or_without_the_scope(api: Api) -> None:
    body = {"phone": "0612345678", "service": "Haircut", "start": slot()}
    for token in (None, "fdk_nonsense", api.revoked):
        with api.client(token) as c:
            r = c.post(POST, json=body)
        assert r.status_code == 401, token
        assert r.json()["error"] == "unauthorized"
    with api.client(api.booking_only) as c:
        r = c.get("/api/v1/customers/lookup", params={"phone": "0612345678"})
    assert r.status_code == 403 and "customers:read" in r.json()["message"]
    assert count(api.engine, BookingRequest) == 0


def test_matching_by_phone_and_email_in_other_formats_makes_no_duplicate(api: Api) -> None:
    before = count(api.engine, Customer)
    with api.client(api.token) as c:
        one = c.post(POST, json={"phone": "06 1234 5678", "service": "haircut", "start": slot()})
        two = c.post(
            POST,
            json={
                "email": "MARIA.GARCIA@example.com",
                "service": "Haircut",
                "start": slot(hour=14),
            },
        )
        new = c.post(
            POST,
            json={
                "name": "Lena de Vries",
                "phone": "+31 6 23456789",
                "service": "Haircut",
                "start": slot(hour=16),
                "source": "website",
            },
        )
    assert one.status_code == 201 and one.json()["customer_code"] == "C-000001"
    assert two.status_code == 201 and two.json()["customer_code"] == "C-000001"
    assert new.status_code == 201 and new.json()["customer_created"] is True
    assert count(api.engine, Customer) == before + 1
    with Session(api.engine) as s:
        lena = s.exec(select(Customer).where(col(Customer.first_name) == "Lena")).one()
        assert (lena.created_via, lena.created_source) == ("online", "website")
        actors = set(
            s.exec(select(AuditEvent.actor_name).where(col(AuditEvent.entity) == "booking_request"))
        )
    assert actors == {"API token website"}


def test_review_cases_wait_for_the_desk(api: Api) -> None:
    with Session(api.engine) as s:
        svc.create_customer(
            session=s,
            actor=ADMIN,
            data=svc.CustomerCreate(first_name="Ben", email="ben@example.com"),
        )
        s.commit()
    with api.client(api.token) as c:
        two = c.post(
            POST,
            json={
                "name": "Maria",
                "phone": "0612345678",
                "email": "ben@example.com",
                "service": "Haircut",
                "start": slot(),
            },
        )
        other = c.post(
            POST,
            json={"name": "Johannes", "phone": "0612345678", "service": "Haircut", "start": slot()},
        )
    for r in (two, other):
        assert r.status_code == 202 and r.json()["status"] == "review"
        assert r.json()["booking_id"] is None and r.json()["customer_code"] is None
    assert count(api.engine, Booking) == 0


def test_a_blocked_customer_is_refused_with_a_reason_to_show(api: Api) -> None:
    with Session(api.engine) as s:
        svc.block_customer(session=s, customer_id=api.ids["maria"], reason="rude", actor=ADMIN)
        s.commit()
    with api.client(api.token) as c:
        r = c.post(POST, json={"phone": "0612345678", "service": "Haircut", "start": slot()})
    assert r.status_code == 409
    body = r.json()
    assert body["error"] == "refused" and body["status"] == "declined"
    assert "contact us" in body["message"] and "rude" not in r.text
    assert count(api.engine, Booking) == 0


def test_the_same_idempotency_key_books_once(api: Api) -> None:
    body = {"name": "Lena", "phone": "0623456789", "service": "Haircut", "start": slot()}
    with api.client(api.token) as c:
        first = c.post(POST, json=body, headers={"Idempotency-Key": "k-1"})
        again = c.post(POST, json=body, headers={"Idempotency-Key": "k-1"})
        other = c.post(
            POST, json={**body, "start": slot(hour=15)}, headers={"Idempotency-Key": "k-1"}
        )
    assert first.status_code == again.status_code == 201
    assert again.json()["replayed"] is True
    assert again.json()["booking_id"] == first.json()["booking_id"]
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"
    assert count(api.engine, Booking) == 1


def test_twenty_requests_at_once_for_one_slot_book_exactly_one(api: Api) -> None:
    start = slot(days=2, hour=11)

    def send(i: int) -> httpx.Response:
        with api.client(api.token) as c:
            return c.post(
                POST,
                json={
                    "name": f"Guest {i}",
                    "email": f"guest{i}@example.com",
                    "service": "Haircut",
                    "staff": "Nina",
                    "start": start,
                },
            )

    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(send, range(20)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 19, codes
    assert all(r.json()["field"] == "start" for r in responses if r.status_code == 409)
    assert count(api.engine, Booking) == 1
    assert count(api.engine, BookingRequest) == 1
    # the 19 refused wrote nothing: no customer was left behind
    with Session(api.engine) as s:
        guests = s.exec(
            select(func.count()).select_from(Customer).where(col(Customer.first_name) == "Guest")
        ).one()
    assert guests == 1


def test_the_same_request_sent_five_times_at_once_books_once(api: Api) -> None:
    body = {"name": "Lena", "phone": "0623456789", "service": "Haircut", "start": slot(hour=9)}

    def send(_: int) -> httpx.Response:
        with api.client(api.token) as c:
            return c.post(POST, json=body, headers={"Idempotency-Key": "twin"})

    with ThreadPoolExecutor(5) as pool:
        responses = list(pool.map(send, range(5)))
    assert [r.status_code for r in responses] == [201] * 5
    assert len({r.json()["booking_id"] for r in responses}) == 1
    assert sum(r.json()["replayed"] for r in responses) == 4
    assert count(api.engine, Booking) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "12", "service": "Haircut"}, "phone"),
        ({"phone": "0612345678", "service": "Massage"}, "service"),
        ({"phone": "0612345678", "service": "Haircut", "start": "2020-01-01T10:00"}, "start"),
        ({"phone": "0612345678"}, "service"),
        ({"phone": "0612345678", "service": "Haircut", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(api: Api, body: dict[str, str], field: str) -> None:
    with api.client(api.token) as c:
        r = c.post(POST, json={"start": slot(), **body})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert count(api.engine, BookingRequest) == 0


def test_a_body_that_is_not_json_names_the_body(api: Api) -> None:
    """Bad JSON said "field": "1" (its place in the text); an empty body "field": null."""
    headers = {"Content-Type": "application/json"}
    with api.client(api.token) as c:
        broken = c.post(POST, content=b'{"phone": ', headers=headers)
        empty = c.post(POST, content=b"", headers=headers)
    assert broken.status_code == 422 and broken.json()["field"] == "body"
    assert "not valid JSON" in broken.json()["message"]
    assert empty.status_code == 422 and empty.json()["field"] == "body"
    assert count(api.engine, BookingRequest) == 0


def test_slot_taken_is_409_naming_start(api: Api) -> None:
    body = {"phone": "0612345678", "service": "Haircut", "staff": "Nina", "start": slot()}
    with api.client(api.token) as c:
        assert c.post(POST, json=body).status_code == 201
        r = c.post(POST, json={**body, "phone": None, "email": "x@example.com", "name": "X"})
    assert r.status_code == 409 and r.json() == {
        "error": "slot_taken",
        "field": "start",
        "message": r.json()["message"],
    }
    assert "next free time" in r.json()["message"]
    with Session(api.engine) as s:
        refused = s.exec(select(AuditEvent).where(col(AuditEvent.action) == "refuse")).one()
    assert refused.actor_name == "API token website"
    assert refused.changes is not None and refused.changes["field"] == [None, "start"]


def test_availability_and_lookup(api: Api) -> None:
    day = slot(days=3)[:10]
    with api.client(api.token) as c:
        c.post(
            POST,
            json={
                "phone": "0612345678",
                "service": "Haircut",
                "staff": "Nina",
                "start": f"{day}T10:00",
            },
        )
        free = c.get("/api/v1/availability", params={"service": "Haircut", "date": day})
        bad = c.get("/api/v1/availability", params={"service": "Haircut", "date": "soon"})
        # The calendar's edges: nothing in the past (0001-01-01 was a server error), and no
        # time offered beyond what can be booked.
        first = c.get("/api/v1/availability", params={"service": "Haircut", "date": "0001-01-01"})
        last = c.get("/api/v1/availability", params={"service": "Haircut", "date": "9999-12-31"})
        with Session(api.engine) as s:
            notes.add_note(session=s, customer_id=api.ids["maria"], body="Owes money", actor=DESK)
            s.commit()
        found = c.get("/api/v1/customers/lookup", params={"email": "maria.garcia@EXAMPLE.com"})
        missing = c.get("/api/v1/customers/lookup", params={"phone": "0623456789"})
    assert free.status_code == 200
    nina = [x["start"][11:16] for x in free.json()["slots"] if x["staff"] == "Nina"]
    omar = [x["start"][11:16] for x in free.json()["slots"] if x["staff"] == "Omar"]
    assert "10:00" not in nina and "09:00" in nina and "10:00" in omar
    assert bad.status_code == 422 and bad.json()["field"] == "date"
    assert first.status_code == 200 and first.json()["slots"] == []
    assert last.status_code == 422 and last.json()["field"] == "date"
    assert "days ahead" in last.json()["message"]
    assert found.status_code == 200
    body = found.json()
    assert body["found"] and body["name"] == "Maria Garcia" and body["points"] == 0
    assert [u["service"] for u in body["upcoming"]] == ["Haircut"]
    assert "Owes" not in found.text
    assert missing.json() == {
        "found": False,
        "code": None,
        "first_name": None,
        "name": None,
        "can_book_online": None,
        "points": None,
        "upcoming": [],
        "notes": [],
    }


def test_fuzzing_from_the_openapi_document_finds_no_server_error(api: Api) -> None:
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    with api.client() as c:
        document = c.get("/openapi.json")
    assert document.status_code == 200
    assert set(document.json()["paths"]) == {
        "/api/v1/booking-requests",
        "/api/v1/availability",
        "/api/v1/customers/lookup",
    }
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    auth = {"Authorization": f"Bearer {api.token}"}
    failures: list[str] = []
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=api.url, headers=auth)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.path} {case.body!r}: {response.status_code}")

        run()
    assert failures == []
    assert time.monotonic() - started < 60

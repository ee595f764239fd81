"""The Requests screen: Q opens it; accept, decline with a reason, resolve a review by linking
an existing customer (the picker) or creating a new one; a therapist only reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.pilot import Pilot
from textual.widgets import DataTable

from frontdesk.data import api_tokens
from frontdesk.data import booking_requests as br
from frontdesk.data.models import Booking, BookingRequest, Branch, Customer, Service
from frontdesk.screens.requests import LinkCustomerScreen, RequestsScreen
from tests.ui.conftest import NOW, SIZE, burst, make_app, settle, wait_until

WEBSITE = api_tokens.TokenView(1, "website", ["bookings"], NOW, None, None)


def seed(engine: Engine) -> dict[str, Any]:
    """A pending request for a new customer and one waiting for review (a known phone with
    another name)."""
    with Session(engine) as s:
        service = s.exec(
            select(Service).where(col(Service.active).is_(True)).order_by(col(Service.name))
        ).first()
        known = s.exec(
            select(Customer)
            .where(
                col(Customer.phone).is_not(None),
                col(Customer.blocked).is_(False),
                col(Customer.merged_into_id).is_(None),
                col(Customer.deleted_at).is_(None),
            )
            .order_by(col(Customer.id))
        ).first()
        assert service is not None and known is not None and known.phone
        branch = s.exec(select(Branch).order_by(col(Branch.name))).first()
        assert branch is not None
        common = {"service": service.name, "branch": branch.name, "source": "website"}
        pending = br.submit_request(
            session=s,
            data=br.RequestIn(
                name="Lena Online",
                phone="+31 6 23456789",
                start=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
                **common,
            ),
            actor=api_tokens.api_actor(WEBSITE),
            channel="website",
            now=NOW,
        )
        review = br.submit_request(
            session=s,
            data=br.RequestIn(
                name="Zebulon Quark",
                phone=known.phone,
                email="zeb@example.com",
                start=datetime(2026, 11, 20, 11, 0, tzinfo=UTC),
                **common,
            ),
            actor=api_tokens.api_actor(WEBSITE),
            channel="website",
            now=NOW,
        )
        s.commit()
        assert (pending.status, review.status) == ("pending", "review")
        return {"pending": pending, "review": review, "known": known.id, "code": known.code}


def status(engine: Engine, request_id: int) -> BookingRequest:
    with Session(engine) as s:
        row = s.get(BookingRequest, request_id)
        assert row is not None
        return row


def rows(app: Any) -> list[str]:
    table = app.screen.query_one("#rq-table", DataTable)
    return [" | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def open_requests(pilot: Pilot[None], count: int = 2) -> None:
    await settle(pilot)
    await burst(pilot, "Q")
    await wait_until(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, RequestsScreen)
            and pilot.app.screen.query_one("#rq-table", DataTable).row_count == count
        ),
    )


async def test_create_for_a_review_then_decline_the_pending_one(demo_engine: Engine) -> None:
    ids = seed(demo_engine)
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await open_requests(pilot)
        lines = rows(app)
        assert lines[0].startswith("review") and "Zebulon Quark" in lines[0]
        assert lines[1].startswith("pending") and "Lena Online" in lines[1]
        await burst(pilot, "c", "y")
        await wait_until(
            pilot, lambda: status(demo_engine, ids["review"].request_id).status == "accepted"
        )
        with Session(demo_engine) as s:
            row = status(demo_engine, ids["review"].request_id)
            made = s.get(Customer, row.customer_id)
            assert made is not None and made.email == "zeb@example.com" and made.phone is None
            assert made.created_via == "online"
        await wait_until(pilot, lambda: rows(app)[0].startswith("pending"))
        await burst(pilot, "d", "fully booked", "enter")
        await wait_until(
            pilot, lambda: status(demo_engine, ids["pending"].request_id).status == "declined"
        )
        with Session(demo_engine) as s:
            booking = s.get(Booking, ids["pending"].booking_id)
            assert booking is not None and booking.status == "cancelled"
        await burst(pilot, "escape")


async def test_link_a_review_to_an_existing_customer_and_accept(demo_engine: Engine) -> None:
    ids = seed(demo_engine)
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await open_requests(pilot)
        await burst(pilot, "l")
        await wait_until(pilot, lambda: isinstance(app.screen, LinkCustomerScreen))
        await burst(pilot, ids["code"], "down", "enter")
        await wait_until(
            pilot, lambda: status(demo_engine, ids["review"].request_id).status == "accepted"
        )
        assert status(demo_engine, ids["review"].request_id).customer_id == ids["known"]
        await wait_until(pilot, lambda: isinstance(app.screen, RequestsScreen))
        await wait_until(pilot, lambda: rows(app)[0].startswith("pending"))
        await burst(pilot, "a")
        await wait_until(
            pilot, lambda: status(demo_engine, ids["pending"].request_id).status == "accepted"
        )
        with Session(demo_engine) as s:
            booking = s.get(Booking, ids["pending"].booking_id)
            assert booking is not None and booking.status == "confirmed"


async def test_a_therapist_reads_but_cannot_decide(demo_engine: Engine) -> None:
    ids = seed(demo_engine)
    with Session(demo_engine) as s:
        from frontdesk.data.models import Staff

        therapist = s.exec(select(Staff).where(col(Staff.role) == "therapist")).first()
        assert therapist is not None and therapist.username
        name = therapist.username
    app = make_app(demo_engine, staff=name)
    async with app.run_test(size=SIZE) as pilot:
        await open_requests(pilot)
        await burst(pilot, "c", "y", "d")
        await settle(pilot)
        assert isinstance(app.screen, RequestsScreen)
        assert status(demo_engine, ids["review"].request_id).status == "review"


def test_requests_screen_snapshot(snap_compare: Any, demo_engine: Engine) -> None:
    seed(demo_engine)
    assert snap_compare(
        make_app(demo_engine, staff="rita"), terminal_size=SIZE, run_before=open_requests
    )


async def test_a_request_arriving_from_outside_shows_up(demo_engine: Engine) -> None:
    """The API (another process) books while the list is open: live refresh shows it."""
    ids = seed(demo_engine)
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await open_requests(pilot)
        with Session(demo_engine) as s:
            service = s.exec(select(Service).order_by(col(Service.name))).first()
            branch = s.exec(select(Branch).order_by(col(Branch.name))).first()
            assert service is not None and branch is not None
            br.submit_request(
                session=s,
                data=br.RequestIn(
                    name="Late Arrival",
                    email="late@example.com",
                    service=service.name,
                    branch=branch.name,
                    start=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
                ),
                actor=api_tokens.api_actor(WEBSITE),
                channel="website",
                now=NOW,
            )
            s.commit()
        await wait_until(pilot, lambda: any("Late Arrival" in line for line in rows(app)))
        assert rows(app)[0].startswith("review") and ids["review"].status == "review"


def test_link_customer_screen_snapshot(snap_compare: Any, demo_engine: Engine) -> None:
    seed(demo_engine)

    async def open_link(pilot: Pilot[None]) -> None:
        await open_requests(pilot)
        await burst(pilot, "l")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, LinkCustomerScreen))
        await settle(pilot)

    assert snap_compare(
        make_app(demo_engine, staff="rita"), terminal_size=SIZE, run_before=open_link
    )

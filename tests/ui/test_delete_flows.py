"""Pilot tests of deleting a customer from the profile: the confirmation says what happens to
their future bookings and open orders, the delete cancels the bookings (freeing the slots),
and undo re-opens them where the slot is still free and says which it could not (issue 11)."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.widgets import DataTable, OptionList

from frontdesk.data import bookings as bk
from frontdesk.data import customers as svc
from frontdesk.data.models import Booking, Customer, Order, Service, Staff
from frontdesk.screens.bulk import BulkActionModal
from frontdesk.screens.common import ConfirmModal
from frontdesk.screens.profile import ProfileScreen
from tests.actors import ADMIN
from tests.ui.conftest import NOW, SIZE, burst, make_app, settle, wait_until


def screen_text(app: Any) -> str:
    svg = app.export_screenshot()
    body = svg[svg.index("<g class") :] if "<g class" in svg else svg
    lines = re.findall(r"<text[^>]*>(.*?)</text>", body)
    return html.unescape("".join(lines)).replace("\xa0", " ")


def messages(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


def statuses(app: Any) -> list[str]:
    table = app.screen.query_one("#b-table", DataTable)
    return [str(table.get_row_at(i)[-1]) for i in range(table.row_count)]


def free_start(s: Session, staff_id: int, minutes: int) -> datetime:
    """A start far ahead of the demo's bookings at which the staff member is free."""
    start = (NOW + timedelta(days=40)).replace(hour=10, minute=0)
    while bk.find_conflict(
        session=s, staff_id=staff_id, start_at=start, end_at=start + timedelta(minutes=minutes)
    ):
        start += timedelta(days=1)
    return start


def maria_with_bookings(engine: Engine) -> dict[str, Any]:
    """Maria Lopez [VIP] with two future bookings with one therapist and an open order."""
    with Session(engine) as s:
        rita = s.exec(select(Staff).where(col(Staff.username) == "rita")).one()
        therapist = s.exec(
            select(Staff)
            .where(col(Staff.role) == "therapist", col(Staff.branch_id) == rita.branch_id)
            .order_by(col(Staff.id))
        ).first()
        service = s.exec(select(Service).where(col(Service.active).is_(True))).first()
        assert therapist is not None and service is not None
        maria = svc.create_customer(
            session=s,
            data=svc.CustomerCreate(
                first_name="Maria", last_name="Lopez [VIP]", email="maria.delete@example.com"
            ),
            actor=ADMIN,
        )
        first_at = free_start(s, therapist.id or 0, service.duration_minutes)
        second_at = free_start(s, therapist.id or 0, service.duration_minutes) + timedelta(days=1)
        ids = []
        for start in (first_at, second_at):
            ids.append(
                bk.create_booking(
                    session=s,
                    customer_id=maria.id or 0,
                    service_id=service.id or 0,
                    branch_id=rita.branch_id or 0,
                    staff_id=therapist.id,
                    start_at=start,
                    actor=ADMIN,
                ).id
            )
        s.add(Order(customer_id=maria.id or 0, branch_id=rita.branch_id or 0, total_cents=900))
        s.commit()
        return {
            "id": maria.id,
            "bookings": ids,
            "first_at": first_at,
            "staff": therapist.id,
            "service": service.id,
            "branch": rita.branch_id,
        }


def states(engine: Engine, maria: dict[str, Any]) -> tuple[bool, list[tuple[str, str | None]]]:
    with Session(engine) as s:
        customer = s.get(Customer, maria["id"])
        assert customer is not None
        rows = [s.get(Booking, b) for b in maria["bookings"]]
        return customer.deleted_at is not None, [
            (b.status, b.cancellation_reason) for b in rows if b is not None
        ]


async def test_delete_from_profile_then_undo(demo_engine: Engine) -> None:
    maria = maria_with_bookings(demo_engine)
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_customer(maria["id"])
        # ctrl+d typed at once, before the profile has loaded: the question waits for it.
        await burst(pilot, "ctrl+d")
        assert isinstance(app.screen, ConfirmModal)
        shown = screen_text(app)
        assert "Delete Maria Lopez [VIP]?" in shown
        assert "2 future bookings will be cancelled; 1 open order stays" in shown  # wraps
        question = app.screen.question
        assert str(question) == (
            "Delete Maria Lopez [VIP]?\n"
            "2 future bookings will be cancelled; 1 open order stays open."
        )
        assert states(demo_engine, maria) == (False, [("confirmed", None)] * 2)

        await burst(pilot, "y")
        assert isinstance(app.screen, ProfileScreen)
        assert states(demo_engine, maria) == (True, [("cancelled", "customer deleted")] * 2)
        await wait_until(pilot, lambda: "DELETED customer" in screen_text(app))
        assert (
            "Deleted 1 customer; 2 future bookings cancelled; 1 open order still open"
            " — press u to undo"
        ) in messages(app)
        await burst(pilot, "2")  # the bookings tab lists them as cancelled
        assert statuses(app) == ["cancelled", "cancelled"]

        # The slot is free: another terminal books someone else into the first one.
        with Session(demo_engine) as s:
            other = s.exec(select(Customer).where(svc.live()).order_by(col(Customer.id))).first()
            assert other is not None
            taker = bk.create_booking(
                session=s,
                customer_id=other.id or 0,
                service_id=maria["service"],
                branch_id=maria["branch"],
                staff_id=maria["staff"],
                start_at=maria["first_at"],
                actor=ADMIN,
            )
            taker_id = taker.id
            other_name, other_code = other.full_name, other.code
            s.commit()

        await burst(pilot, "u")
        deleted, bookings = states(demo_engine, maria)
        assert not deleted
        assert bookings == [("cancelled", "customer deleted"), ("confirmed", None)]
        await wait_until(pilot, lambda: "DELETED customer" not in screen_text(app))
        said = messages(app)
        assert "Restored 1 customer; 1 booking re-opened; 1 booking could not be re-opened" in said
        [why] = [m for m in said if m.startswith(f"Booking #{maria['bookings'][0]} (")]
        assert f"slot taken by {other_code} {other_name}" in why
        assert f"booking #{taker_id})" in why
        assert statuses(app) == ["confirmed", "cancelled"]  # latest first


async def test_therapist_cannot_delete(demo_engine: Engine) -> None:
    maria = maria_with_bookings(demo_engine)
    with Session(demo_engine) as s:
        therapist = s.get(Staff, maria["staff"])
        assert therapist is not None and therapist.username
        username = therapist.username
    app = make_app(demo_engine, staff=username)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_customer(maria["id"])
        await burst(pilot, "ctrl+d")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        assert not app.screen.check_action("delete", ())
        assert states(demo_engine, maria) == (False, [("confirmed", None)] * 2)


async def test_bulk_delete_from_the_directory_then_undo(demo_engine: Engine) -> None:
    maria = maria_with_bookings(demo_engine)
    with Session(demo_engine) as s:
        svc.create_customer(
            session=s,
            data=svc.CustomerCreate(
                first_name="Mario", last_name="Lopez [VIP]", email="mario.delete@example.com"
            ),
            actor=ADMIN,
        )
        s.commit()
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "slash", *"lopez [vip]", "enter")
        await burst(pilot, "ctrl+a")  # select both
        await burst(pilot, "a", "end", "enter")  # bulk: delete
        assert isinstance(app.screen, ConfirmModal)
        assert str(app.screen.question) == (
            "Delete 2 customers?\n2 future bookings will be cancelled; 1 open order stays open."
        )
        await burst(pilot, "y")
        assert states(demo_engine, maria) == (True, [("cancelled", "customer deleted")] * 2)
        assert (
            "Deleted 2 customers; 2 future bookings cancelled; 1 open order still open"
            " — press u to undo"
        ) in messages(app)
        await burst(pilot, "u")
        assert states(demo_engine, maria) == (False, [("confirmed", None)] * 2)
        assert "Restored 2 customers; 2 bookings re-opened" in messages(app)


async def test_bulk_delete_over_the_limit_takes_an_admin(demo_engine: Engine) -> None:
    for staff, disabled in (("rita", True), ("admin", False)):
        app = make_app(demo_engine, staff=staff)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await burst(pilot, "ctrl+a")  # every customer (400) selected
            await burst(pilot, "a")
            choices = app.screen.query_one("#choices", OptionList)
            delete = choices.get_option("delete")
            assert delete.disabled is disabled
            assert ("takes an admin" in str(delete.prompt)) is disabled


async def test_therapist_has_no_bulk_delete(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        nina = s.exec(select(Staff).where(col(Staff.role) == "therapist")).first()
        assert nina is not None and nina.username
    app = make_app(demo_engine, staff=nina.username)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "a")
        assert not isinstance(app.screen, BulkActionModal)  # bulk actions are refused
        with Session(demo_engine) as s:
            assert not s.exec(select(Customer).where(col(Customer.deleted_at).is_not(None))).all()

"""Pilot tests of the desk's booking rules on the booking screen: a start outside the opening
hours, and the same customer already booked then (with another staff member), are refused
under the time field, with what was typed kept and nothing written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select
from textual.widgets import Input, Label

from frontdesk import app as app_module
from frontdesk.data import bookings as bk
from frontdesk.data import customers as svc
from frontdesk.data.models import Booking, Service, Staff
from frontdesk.screens.booking import NewBookingScreen, local_tz
from tests.actors import ADMIN
from tests.ui.conftest import NOW, SIZE, burst, make_app, settle


@pytest.fixture(autouse=True)
def patient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about what the screen says, not the key watchdog: give it room."""
    monkeypatch.setattr(app_module, "KEY_WATCHDOG", 5.0)


def bookings_count(engine: Engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Booking)).one()


def new_customer(engine: Engine, name: str, email: str) -> int:
    """A customer of the test's own (no demo bookings to run into)."""
    with Session(engine) as s:
        customer = svc.create_customer(
            session=s,
            actor=ADMIN,
            data=svc.CustomerCreate(first_name=name, last_name="Rule", email=email),
        )
        s.commit()
        return customer.id or 0


def shown(app: Any, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


DAY = (NOW + timedelta(days=45)).astimezone(local_tz()).date().isoformat()
# Keep the picked customer, Women's cut (typed to find), the date, the time, book.
BEFORE_TIME = ("enter", "enter", "w", "enter", "tab", "tab", DAY, "tab")


async def test_a_start_outside_the_opening_hours_is_refused_under_the_time(
    demo_engine: Engine,
) -> None:
    customer_id = new_customer(demo_engine, "Early", "early.rule@example.com")
    before = bookings_count(demo_engine)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.new_booking(customer_id)
        await burst(pilot, *BEFORE_TIME, "0730", "ctrl+s")
        assert isinstance(app.screen, NewBookingScreen)
        assert shown(app, "#bke-time") == "07:30 is outside the opening hours (09:00-19:00)"
        assert "Fix the marked fields" in shown(app, "#bk-problem")
        assert app.screen.query_one("#bk-time", Input).value == "0730"  # as typed
        assert app.screen.query_one("#bk-date", Input).value == DAY
        # A visit that would end after closing (Women's cut: 60 minutes), typed over it.
        assert app.focused is app.screen.query_one("#bk-time", Input)
        await burst(pilot, "end", *["backspace"] * 4, "1830", "ctrl+s")
        assert isinstance(app.screen, NewBookingScreen)
        assert shown(app, "#bke-time") == (
            "18:30 is outside the opening hours (09:00-19:00): "
            "the 60-minute visit would end at 19:30"
        )
        assert app.screen.query_one("#bk-time", Input).value == "1830"
    assert bookings_count(demo_engine) == before


async def test_the_customer_booked_then_with_someone_else_is_refused(
    demo_engine: Engine,
) -> None:
    customer_id = new_customer(demo_engine, "Twice", "twice.rule@example.com")
    with Session(demo_engine) as s:
        cut = s.exec(select(Service).where(col(Service.name) == "Women's cut")).one()
        rita = s.exec(select(Staff).where(col(Staff.username) == "rita")).one()
        other = s.exec(
            select(Staff)
            .where(col(Staff.role) == "therapist", col(Staff.branch_id) != rita.branch_id)
            .order_by(col(Staff.name))
        ).first()
        assert other is not None and other.branch_id is not None
        start = (
            (NOW + timedelta(days=45))
            .astimezone(local_tz())
            .replace(hour=10, minute=0, second=0, microsecond=0)
        )
        first = bk.create_booking(
            session=s,
            customer_id=customer_id,
            service_id=cut.id or 0,
            branch_id=other.branch_id,
            staff_id=other.id,
            start_at=start,
            actor=ADMIN,
        )
        s.commit()
        first_id, staff_name = first.id, other.name
    before = bookings_count(demo_engine)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.new_booking(customer_id)
        # Another branch, "first free": whoever it would be, the customer is busy then.
        await burst(pilot, *BEFORE_TIME, "1030", "tab", "Back again", "ctrl+s")
        assert isinstance(app.screen, NewBookingScreen)
        message = shown(app, "#bke-time")
        assert message == (
            f"Twice Rule already has booking #{first_id} then: {DAY} 10:00-11:00 Women's cut "
            f"with {staff_name}"
        )
        assert app.screen.query_one("#bk-time", Input).value == "1030"
        assert app.screen.query_one("#bk-notes", Input).value == "Back again"
        # The whole message is on the screen, under the time field.
        label = app.screen.query_one("#bke-time", Label)
        assert label.region.height >= 1 and label.region.width > 0
    assert bookings_count(demo_engine) == before

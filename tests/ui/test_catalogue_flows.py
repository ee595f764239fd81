"""Pilot tests of "Branches & services" (Settings, then B), typed as an admin types: every key
at once. A new business starts with nothing to book; what it adds here is bookable at once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.widgets import DataTable, Input, Label, Select

from frontdesk import app as app_module
from frontdesk.data.models import AuditEvent, Booking, Branch, Customer, Service, ServiceType
from frontdesk.screens.booking import NewBookingScreen, local_tz
from frontdesk.screens.catalogue import CatalogueDialog, CatalogueScreen
from frontdesk.screens.common import ConfirmModal
from frontdesk.screens.profile import ProfileScreen
from frontdesk.screens.settings import SettingsScreen
from tests.ui.conftest import NOW, SIZE, all_keys_handled, settle
from tests.ui.conftest import burst as post_keys

HOSTILE = "[bold]Cut[/]"


@pytest.fixture(autouse=True)
def patient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Room for a loaded machine (see test_booking_flows): these tests are about where keys
    land, not about the key watchdog."""
    monkeypatch.setattr(app_module, "KEY_WATCHDOG", 5.0)


async def burst(pilot: Any, *parts: str) -> None:
    """All the keys at once, then wait until the app has handled every one and settled."""
    await post_keys(pilot, *parts, settle_after=False)
    app = pilot.app
    for _ in range(400):
        await settle(pilot)
        if all_keys_handled(app):
            break
        await pilot.pause(0.05)
    await settle(pilot, 0.1)


def early_app(engine: Engine, staff: str = "admin") -> app_module.FrontdeskApp:
    """The app at 08:00 on the desk's clock (a booking at 10:30 is still to come)."""
    early = NOW.astimezone(local_tz()).replace(hour=8, minute=0)
    app = app_module.FrontdeskApp(engine=engine, staff=staff, clock=lambda: early)
    app.animation_level = "none"
    return app


def cells(table: DataTable[Any]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def message(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Label).render())


async def test_a_new_business_adds_a_branch_and_a_service_and_books_it(
    empty_engine: Engine,
) -> None:
    app = early_app(empty_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Settings, Branches & services, a branch; the Services tab, a service: one burst.
        await burst(
            pilot,
            "S", "B",
            "a", "Main", "tab", "1 High St", "ctrl+s",
            "right",
            "a", "Hair", "tab", "Women's cut", "tab", "45", "tab", "45.00", "ctrl+s",
        )  # fmt: skip
        screen = app.screen
        assert isinstance(screen, CatalogueScreen), screen
        assert cells(screen.query_one("#c-branches-table", DataTable)) == [
            ["Main", "1 High St", "", "active"]
        ]
        services = screen.query_one("#c-services-table", DataTable)
        assert cells(services) == [["Hair", "Women's cut", "45 min", "45.00", "active"]]
        with Session(empty_engine) as s:
            branch = s.exec(select(Branch)).one()
            service = s.exec(select(Service)).one()
            assert (branch.name, branch.address, branch.active) == ("Main", "1 High St", True)
            assert (service.name, service.duration_minutes, service.price_cents) == (
                "Women's cut",
                45,
                4500,
            )
            assert s.exec(select(ServiceType.name)).all() == ["Hair"]
            audited = s.exec(
                select(AuditEvent.entity, AuditEvent.action).where(
                    col(AuditEvent.entity).in_(["branch", "service"])
                )
            ).all()
            assert sorted(audited) == [("branch", "create"), ("service", "create")]
        # Back to the directory and book a walk-in with it: the README's flow, key for key
        # (no therapist yet: "first free" leaves the staff member open).
        await burst(
            pilot,
            "escape", "escape",
            "b", *"2025550143", "ctrl+n", *"Tessa", "ctrl+s",
            "enter", "w", "enter",
            "tab", "tab", "tab", *"1030",
            "ctrl+s",
        )  # fmt: skip
        assert isinstance(app.screen, ProfileScreen), app.screen
        with Session(empty_engine) as s:
            tessa = s.exec(select(Customer).where(col(Customer.first_name) == "Tessa")).one()
            booking = s.exec(select(Booking).where(col(Booking.customer_id) == tessa.id)).one()
            assert (booking.service_id, booking.branch_id, booking.price_cents) == (
                service.id,
                branch.id,
                4500,
            )
            start = booking.start_at.replace(tzinfo=booking.start_at.tzinfo or local_tz())
            local = start.astimezone(local_tz())
            assert (local.hour, local.minute) == (10, 30)
            assert (booking.end_at - booking.start_at).seconds == 45 * 60


async def test_refusals_show_next_to_the_field_and_keep_what_was_typed(
    empty_engine: Engine,
) -> None:
    app = early_app(empty_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(
            pilot,
            "S", "B", "right",
            "a", "Hair", "tab", HOSTILE, "tab", "4", "tab", "-3", "ctrl+s",
        )  # fmt: skip
        modal = app.screen
        assert isinstance(modal, CatalogueDialog)  # still open, nothing typed is lost
        assert "between 5 and 720 minutes" in message(modal, "#cd-2-msg")
        assert modal.focused is modal.query_one("#cd-2", Input)
        assert [i.value for i in modal.query(Input)] == ["Hair", HOSTILE, "4", "-3"]
        # Fix the minutes where the cursor is (the refused value is selected: typing
        # replaces it); the price is refused next.
        await burst(pilot, "45", "ctrl+s")
        assert isinstance(app.screen, CatalogueDialog)
        assert "Cannot be negative" in message(modal, "#cd-3-msg")
        assert modal.focused is modal.query_one("#cd-3", Input)
        await burst(pilot, "30", "ctrl+s")
        screen = app.screen
        assert isinstance(screen, CatalogueScreen)
        table = screen.query_one("#c-services-table", DataTable)
        assert cells(table) == [["Hair", HOSTILE, "45 min", "30.00", "active"]]
        # Escape on a changed dialog asks first; "Keep editing" keeps the typing.
        await burst(pilot, "a", "Nails", "escape")
        assert isinstance(app.screen, ConfirmModal)
        await burst(pilot, "n")
        assert isinstance(app.screen, CatalogueDialog)
        assert app.screen.query_one("#cd-0", Input).value == "Nails"
        await burst(pilot, "escape", "y")
        assert app.screen is screen
        # An unchanged dialog closes at once; escape goes back to the settings.
        await burst(pilot, "down", "enter", "escape")
        assert app.screen is screen
        await burst(pilot, "escape")
        assert isinstance(app.screen, SettingsScreen)
    with Session(empty_engine) as s:
        assert s.exec(select(Service.name)).all() == [HOSTILE]


async def test_deactivate_asks_and_the_booking_form_no_longer_offers_it(
    empty_engine: Engine,
) -> None:
    app = early_app(empty_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(
            pilot,
            "S", "B", "right",
            "a", "Hair", "tab", "Trim", "tab", "15", "tab", "15", "ctrl+s",
            "a", "Hair", "tab", "Women's cut", "tab", "45", "tab", "45", "ctrl+s",
            "down", "d",
        )  # fmt: skip
        assert isinstance(app.screen, ConfirmModal)
        assert "Deactivate the service Women's cut?" in str(
            app.screen.query_one("#question", Label).render()
        )
        await burst(pilot, "y")
        screen = app.screen
        assert isinstance(screen, CatalogueScreen)
        table = screen.query_one("#c-services-table", DataTable)
        assert cells(table)[1][-1] == "deactivated"
        with Session(empty_engine) as s:
            cut = s.exec(select(Service).where(col(Service.name) == "Women's cut")).one()
            assert not cut.active
        # A branch, so that the booking form opens with one; it offers the active service.
        await burst(pilot, "shift+tab", "left", "a", "Main", "ctrl+s", "escape", "escape", "b")
        booking = app.screen
        assert isinstance(booking, NewBookingScreen), booking
        offered = [str(label) for label, _ in booking.query_one("#bk-service", Select)._options]
        assert any("Trim" in o for o in offered) and not any("Women" in o for o in offered)
        await burst(pilot, "escape")
        # And back: reactivate (into the list, to its second row, the key, a question again).
        await burst(pilot, "S", "B", "right", "down", "down", "d", "y")
        states = [row[-1] for row in cells(app.screen.query_one("#c-services-table", DataTable))]
        assert states == ["active", "active"]


async def test_only_admins_reach_it_and_the_palette_opens_it(demo_engine: Engine) -> None:
    desk = early_app(demo_engine, staff="rita")
    async with desk.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Branches & services" not in [c.title for c in desk.get_system_commands(desk.screen)]
        desk.action_catalogue()
        await settle(pilot)
        assert not isinstance(desk.screen, CatalogueScreen)
    app = early_app(demo_engine, staff="admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "ctrl+p", "Branches & services")
        await burst(pilot, "enter")
        screen = app.screen
        assert isinstance(screen, CatalogueScreen), screen
        branches = cells(screen.query_one("#c-branches-table", DataTable))
        assert len(branches) >= 1 and all(row[-1] == "active" for row in branches)

"""The preferred channel in the profile's consent modal (``C``), chosen with keys (issue 15)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col
from textual.widgets import Label

from frontdesk.data.models import Customer
from frontdesk.screens.messaging import ConsentModal
from frontdesk.screens.profile import ProfileScreen
from frontdesk.widgets.select import Select
from tests.ui.conftest import SIZE, make_app, settle, wait_until
from tests.ui.test_directory_flows import keys
from tests.ui.test_messaging_flows import customer_where, open_profile


@pytest.fixture(autouse=True)
def _patient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("frontdesk.app.KEY_WATCHDOG", 5.0)


def preferred(engine: Engine, customer_id: int | None) -> str | None:
    with Session(engine) as s:
        found = s.get(Customer, customer_id)
        assert found is not None
        return found.preferred_channel


def shown(app: object, selector: str) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    widget = screen.query_one(selector)
    if isinstance(widget, Select):
        return str(widget.query_one("SelectCurrent Static#label").render())
    assert isinstance(widget, Label)
    return str(widget.render())


async def open_consents(pilot: object, code: str) -> None:
    app = pilot.app  # type: ignore[attr-defined]
    await open_profile(pilot, code)
    await keys(pilot, "C")
    await wait_until(pilot, lambda: getattr(app.screen, "info", None) is not None)  # type: ignore[arg-type]
    assert isinstance(app.screen, ConsentModal)


async def test_preferred_channel_is_chosen_saved_and_shown(demo_engine: Engine) -> None:
    who = customer_where(
        demo_engine,
        col(Customer.email).is_not(None),
        col(Customer.phone).is_not(None),
        col(Customer.preferred_channel).is_(None),
    )
    app = make_app(demo_engine)  # reception
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_consents(pilot, who.code)
        assert "None (automatic)" in shown(app, "#cs-channel")
        assert "email when there is one" in shown(app, "#cs-channel-msg")

        await keys(pilot, "tab", "enter", "what", "enter")  # WhatsApp
        await wait_until(pilot, lambda: preferred(demo_engine, who.id) == "whatsapp")
        await wait_until(pilot, lambda: app.screen.info.preferred_channel == "whatsapp")  # type: ignore[attr-defined]
        assert "WhatsApp" in shown(app, "#cs-channel")
        assert who.phone and who.phone in shown(app, "#cs-channel-msg")

        # back to none (the blank choice at the top of the list)
        await keys(pilot, "enter", "up", "up", "up", "enter")
        await wait_until(pilot, lambda: preferred(demo_engine, who.id) is None)
        await wait_until(pilot, lambda: app.screen.info.preferred_channel is None)  # type: ignore[attr-defined]
        assert "None (automatic)" in shown(app, "#cs-channel")
        await keys(pilot, "escape")
        assert isinstance(app.screen, ProfileScreen)

    # a fresh app shows what is stored
    with Session(demo_engine) as s:
        found = s.get(Customer, who.id)
        assert found is not None
        found.preferred_channel = "sms"
        s.add(found)
        s.commit()
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_consents(pilot, who.code)
        assert "SMS" in shown(app, "#cs-channel")
        assert preferred(demo_engine, who.id) == "sms"  # showing it saved nothing


async def test_a_channel_without_its_address_is_refused_next_to_the_field(
    demo_engine: Engine,
) -> None:
    who = customer_where(
        demo_engine, col(Customer.email).is_not(None), col(Customer.phone).is_(None)
    )
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_consents(pilot, who.code)
        await keys(pilot, "tab", "enter", "sms", "enter")
        await wait_until(pilot, lambda: "Not saved" in shown(app, "#cs-channel-msg"))
        assert "SMS needs a phone number" in shown(app, "#cs-channel-msg")
        assert app.screen.query_one("#cs-channel-msg").has_class("error")
        await settle(pilot)
        assert "None (automatic)" in shown(app, "#cs-channel")  # back to what is stored
        assert preferred(demo_engine, who.id) is None


async def test_a_therapist_sees_the_channel_but_cannot_change_it(demo_engine: Engine) -> None:
    who = customer_where(demo_engine, col(Customer.email).is_not(None))
    app = make_app(demo_engine, staff="nina.a")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_consents(pilot, who.code)
        assert app.screen.query_one("#cs-channel", Select).disabled
        await keys(pilot, "tab", "enter", "sms", "enter")
        assert preferred(demo_engine, who.id) is None

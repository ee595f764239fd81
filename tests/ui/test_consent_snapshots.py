"""Snapshot of the profile's consent modal (``C``): the consents, the preferred channel just
chosen with what it reaches, and the (empty) history (issue 15)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import col
from textual.pilot import Pilot

from frontdesk.data.models import Customer
from frontdesk.screens.messaging import ConsentModal
from tests.ui.conftest import SIZE, make_app, settle, wait_until
from tests.ui.test_directory_flows import keys
from tests.ui.test_messaging_flows import customer_where


def test_consent_modal_with_preferred_channel(snap_compare: Any, demo_engine: Engine) -> None:
    who = customer_where(
        demo_engine,
        col(Customer.email).is_not(None),
        col(Customer.phone).is_not(None),
    )

    async def consents(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await keys(pilot, "slash", who.code, "enter", "enter")
        await keys(pilot, "C")
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "info", None) is not None)
        assert isinstance(pilot.app.screen, ConsentModal)
        await keys(pilot, "tab", "enter", "sms", "enter")
        await wait_until(
            pilot,
            lambda: pilot.app.screen.info.preferred_channel == "sms",  # type: ignore[attr-defined]
        )
        await settle(pilot)

    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=consents)

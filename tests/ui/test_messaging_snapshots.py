"""Snapshots of the messaging screens (issue 15): the outbox, the compose modal with its
preview, and the newsletter modal with its audience count."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from textual.pilot import Pilot
from textual.widgets import DataTable

from frontdesk.screens.messaging import ComposeModal, NewsletterModal
from frontdesk.screens.outbox import OutboxScreen
from frontdesk.screens.profile import ProfileScreen
from tests.ui.conftest import SIZE, make_app, settle, wait_until
from tests.ui.test_directory_flows import keys
from tests.ui.test_messaging_flows import queue_some, reachable


def test_outbox_screen(snap_compare: Any, demo_engine: Engine) -> None:
    queue_some(demo_engine)

    async def open_outbox(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await keys(pilot, "O")
        await wait_until(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, OutboxScreen)
                and pilot.app.screen.query_one("#ob-table", DataTable).row_count == 4
            ),
        )
        await keys(pilot, "down")  # the failed one: its reason shows below

    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=open_outbox)


def test_compose_modal_with_preview(snap_compare: Any, demo_engine: Engine) -> None:
    who = reachable(demo_engine)

    async def compose(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await keys(pilot, "slash", who.code, "enter", "enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ProfileScreen))
        await keys(pilot, "M")
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "info", None) is not None)
        await keys(pilot, "Your voucher", "enter", "Hello {first_name}, it is **ready**.")
        await keys(pilot, "ctrl+s")
        assert isinstance(pilot.app.screen, ComposeModal)

    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=compose)


def test_newsletter_modal_with_its_audience(snap_compare: Any, demo_engine: Engine) -> None:
    async def compose(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await keys(pilot, "slash", "mar", "enter", "N")
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "count", None) is not None)
        assert isinstance(pilot.app.screen, NewsletterModal)
        await keys(pilot, "Winter news", "enter", "Hello {first_name}, our winter offers.")

    assert snap_compare(
        make_app(demo_engine, staff="admin"), terminal_size=SIZE, run_before=compose
    )

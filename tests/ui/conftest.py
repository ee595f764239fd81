"""Helpers for Pilot and snapshot tests: a demo database and an app with a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from textual.pilot import Pilot
from textual.widgets import Input
from textual.worker import WorkerCancelled

from frontdesk.app import FrontdeskApp
from frontdesk.data.db import open_database
from frontdesk.data.demo import generate

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
SIZE = (120, 36)


@pytest.fixture
def demo_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "demo.db")
    generate(engine=engine, customers=400, seed=11, now=NOW)
    yield engine
    engine.dispose()


@pytest.fixture
def empty_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "empty.db")
    yield engine
    engine.dispose()


def make_app(
    engine: Engine, staff: str | None = "rita", data_dir: Path | None = None
) -> FrontdeskApp:
    return FrontdeskApp(engine=engine, staff=staff, clock=lambda: NOW, data_dir=data_dir)


async def _workers_done(pilot: Pilot[None]) -> None:
    # A superseded exclusive worker ends as cancelled: that is expected, not a failure.
    for _ in range(5):
        try:
            await pilot.app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            await pilot.pause()


async def settle(pilot: Pilot[None], delay: float = 0.0) -> None:
    """Let debounce timers fire and workers finish, then let the screen catch up."""
    await pilot.pause(max(delay, 0.05))
    await _workers_done(pilot)
    await pilot.pause()
    await _workers_done(pilot)
    await pilot.pause()
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False


async def type_text(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*[("space" if ch == " " else ch) for ch in text])
    await settle(pilot, 0.3)

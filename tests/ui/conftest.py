"""Helpers for Pilot and snapshot tests: a demo database and an app with a fixed clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, TextArea
from textual.worker import WorkerCancelled

from frontdesk.app import FrontdeskApp
from frontdesk.data.db import open_database
from frontdesk.data.demo import generate

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
SIZE = (120, 36)


@pytest.fixture(autouse=True)
def _steady_cursors(monkeypatch: pytest.MonkeyPatch) -> None:
    """A focused field's cursor stays shown in every UI test: a blink (every 0.5 s) landing
    between the last key and a snapshot on a loaded machine made pictures differ."""

    def shown(widget: Input | TextArea) -> None:
        widget._cursor_visible = True

    monkeypatch.setattr(Input, "_toggle_cursor", shown)
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", shown)


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


def add_therapist(engine: Engine) -> str:
    """Tara Therapist (username ``tara``) on the staff list; returns her username."""
    from sqlmodel import Session

    from frontdesk.data.staff import create_staff
    from tests.actors import ADMIN

    with Session(engine) as s:
        create_staff(
            session=s, name="Tara Therapist", role="therapist", username="tara", actor=ADMIN
        )
        s.commit()
    return "tara"


def make_app(
    engine: Engine, staff: str | None = "rita", data_dir: Path | None = None
) -> FrontdeskApp:
    app = FrontdeskApp(engine=engine, staff=staff, clock=lambda: NOW, data_dir=data_dir)
    # Scrolls end at once: a focus scroll still animating when the next tab arrives decided
    # (by the machine's load) whether that tab scrolled again, so pictures could differ.
    app.animation_level = "none"
    return app


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
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False  # a snapshot never catches the cursor mid-blink


async def wait_until(
    pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 30.0
) -> None:
    """Wait (on a loaded machine too) until a chain of workers has led to ``condition``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the screen did not reach the expected state in time")
        await pilot.pause(0.05)
    await settle(pilot)


async def type_text(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*[("space" if ch == " " else ch) for ch in text])
    await settle(pilot, 0.3)


def _key_event(key: str) -> events.Key:
    """The Key event a terminal sends for ``key`` (a key name or one character)."""
    import unicodedata

    from textual.app import _character_to_key
    from textual.keys import REPLACED_KEYS, _get_unicode_name_from_key

    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    original = REPLACED_KEYS.get(key, key)
    char: str | None
    try:
        char = unicodedata.lookup(_get_unicode_name_from_key(original))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


def burst_keys(*parts: str) -> list[str]:
    """``burst_keys("n", "Maria", "tab")``: words are typed letter by letter, key names kept."""
    keys: list[str] = []
    for part in parts:
        if len(part) > 1 and (part in _KEY_NAMES or part.startswith(("ctrl+", "shift+", "alt+"))):
            keys.append(part)
        else:
            keys.extend("space" if ch == " " else ch for ch in part)
    return keys


_KEY_NAMES = {
    "tab", "shift+tab", "enter", "escape", "up", "down", "left", "right", "home", "end",
    "pageup", "pagedown", "backspace", "delete", "space", "slash", "question_mark",
}  # fmt: skip


async def burst(pilot: Pilot[None], *parts: str, settle_after: bool = True) -> None:
    """Send every key at once, as a fast typist (or a paste of keystrokes) does.

    Unlike ``pilot.press``, nothing waits between keys: the app receives them all in its queue
    before it has handled the first, exactly as from a terminal under load.
    """
    app = pilot.app
    sent = burst_keys(*parts)
    # The keys the app will have received once these are taken (earlier bursts' included).
    received = max(getattr(app, "keys_received", 0), getattr(app, "_keys_expected", 0))
    app._keys_expected = received + len(sent)  # type: ignore[attr-defined]
    for key in sent:
        event = _key_event(key)
        event.set_sender(app)
        app.post_message(event)
    if settle_after:
        await keys_handled(pilot)
        await settle(pilot, 0.3)


def all_keys_handled(app: Any) -> bool:
    """Every key sent so far has been taken from the app's queue and handled to its end.
    (An empty backlog alone said so too early on a loaded machine: keys still in the app's
    queue, or the last one still being dispatched, are in neither.)"""
    expected = getattr(app, "_keys_expected", 0)
    finished = getattr(app, "keys_finished", expected)
    return (
        finished >= expected
        and not getattr(app, "_key_backlog", None)
        and getattr(app, "_key_in_flight", None) is None
    )


async def keys_handled(pilot: Pilot[None], timeout: float = 30.0) -> None:
    """Wait until the app has handled every key it was sent (a loaded machine is slow)."""
    import asyncio
    import time

    app = pilot.app
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause()
        if all_keys_handled(app):
            return
        await asyncio.sleep(0.02)

"""The outbox keeps the desk's place when it refreshes itself (issue 15): as many rows as were
loaded, the highlighted message still highlighted, or the same place when it left the filter."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col
from textual.widgets import DataTable

from frontdesk.data.message_views import PAGE
from frontdesk.data.messaging import outbox
from frontdesk.data.models import OutboxMessage
from frontdesk.screens.outbox import OutboxScreen
from tests.actors import DESK
from tests.ui.conftest import SIZE, make_app, settle, wait_until
from tests.ui.test_directory_flows import keys
from tests.ui.test_messaging_flows import reachable

MANY = PAGE + 50


@pytest.fixture(autouse=True)
def _patient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("frontdesk.app.KEY_WATCHDOG", 5.0)


def queue_many(engine: Engine, n: int) -> list[int]:
    who = reachable(engine)
    assert who.id is not None
    ids = []
    with Session(engine) as s:
        for i in range(n):
            m = outbox.send_direct(
                session=s, customer_id=who.id, actor=DESK, subject=f"Note {i}", body="Hello."
            )
            assert m.id is not None
            ids.append(m.id)
        s.commit()
    return ids


def another_desk_writes(engine: Engine) -> int:
    """Another desk queues a message (through the service): it comes in at the top."""
    who = reachable(engine, 1)
    assert who.id is not None
    with Session(engine) as s:
        m = outbox.send_direct(
            session=s, customer_id=who.id, actor=DESK, subject="From the other desk", body="Hi."
        )
        s.commit()
        assert m.id is not None
        return m.id


async def open_outbox(pilot: Any, rows: int) -> OutboxScreen:
    """From the directory: ``O``, then wait until the Outbox shows ``rows`` messages."""
    app = pilot.app
    await settle(pilot)
    await keys(pilot, "O")
    await wait_until(pilot, lambda: isinstance(app.screen, OutboxScreen))
    screen = app.screen
    assert isinstance(screen, OutboxScreen)
    await wait_until(pilot, lambda: screen.shown == rows)
    return screen


def highlighted(app: Any) -> str | None:
    screen = app.screen
    assert isinstance(screen, OutboxScreen)
    return screen.highlighted_key()


async def test_a_refresh_keeps_the_highlighted_message_past_the_first_page(
    demo_engine: Engine,
) -> None:
    ids = queue_many(demo_engine, MANY)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_outbox(pilot, PAGE)
        await keys(pilot, "ctrl+end")  # near the end: the next page comes in
        await wait_until(pilot, lambda: screen.shown == MANY)
        await keys(pilot, "ctrl+end", "up", "up", "pageup")
        table = screen.query_one("#ob-table", DataTable)
        row = table.cursor_row
        assert row > PAGE
        key = highlighted(app)
        assert key == str(ids[MANY - 1 - row])

        # another desk queues a message: the screen shows it, the place is kept
        new_id = another_desk_writes(demo_engine)
        await wait_until(pilot, lambda: str(new_id) in screen.rows)
        await settle(pilot)
        assert screen.shown == MANY + 1  # every row that was loaded, and the new one
        assert highlighted(app) == key
        assert table.cursor_row == row + 1
        top = table.scroll_offset.y  # the highlighted row is on screen (below the header)
        assert top < row + 1 < top + table.size.height - 1

        # the queue only: the highlighted one is sent elsewhere, the cursor keeps its index
        await keys(pilot, "shift+tab", "shift+tab", "enter", "q", "enter", "tab", "tab")
        await wait_until(pilot, lambda: screen.where[0] == "queued")
        await wait_until(pilot, lambda: screen.shown == PAGE)
        await keys(pilot, "ctrl+end")
        await wait_until(pilot, lambda: screen.shown == MANY + 1)
        await keys(pilot, "ctrl+end", "up", "up", "up")
        row = table.cursor_row
        key = highlighted(app)
        assert key is not None and row == MANY - 3
        with Session(demo_engine) as s:  # another desk's sender marks it sent
            s.exec(
                update(OutboxMessage)  # type: ignore[call-overload]
                .where(col(OutboxMessage.id) == int(key))
                .values(status="sent")
            )
            s.commit()
        await wait_until(pilot, lambda: key not in screen.rows)
        await settle(pilot)
        assert screen.shown == MANY
        assert table.cursor_row == row
        assert highlighted(app) == str(int(key) - 1)  # the next older one took its place


async def test_a_refresh_during_a_filter_keeps_its_message(demo_engine: Engine) -> None:
    """Another desk writes while the receptionist's filter (an unknown code) is read: the
    refresh waits for that answer instead of superseding it (the message under the filters
    was lost, the list re-read with the old filter), then re-reads the list shown."""
    queue_many(demo_engine, 3)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_outbox(pilot, 3)
        await keys(pilot, "shift+tab", "C-999999")
        new_id = another_desk_writes(demo_engine)
        await pilot.press("enter")
        screen.refresh_data()  # the live refresh, as the filter is being read
        await settle(pilot)
        problem = str(screen.query_one("#ob-problem").render())
        assert "no customer with code" in problem
        await wait_until(pilot, lambda: str(new_id) in screen.rows)  # refreshed after it
        await settle(pilot)
        assert "no customer with code" in str(screen.query_one("#ob-problem").render())
        assert screen.shown == 4

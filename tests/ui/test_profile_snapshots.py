"""Snapshot tests of the customer profile: each tab and each of its modals.

The customer is the hostile VIP of test_profile_flows (markup in the name, address, block
reason, notes, program name; an alert ``Allergy: [nuts]``; the category colour stored as
'gold'), with every time stamp pinned so that the pictures do not change with the clock.
Render them with /work/shared/tools/snap2png and look before ``--snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from textual.pilot import Pilot
from textual.widgets import TextArea

from tests.ui.conftest import NOW, SIZE, burst, make_app, settle
from tests.ui.test_profile_flows import Hostile, make_hostile

Run = Callable[[Pilot[None]], Awaitable[None]]


@pytest.fixture
def hostile(demo_engine: Engine) -> Iterator[tuple[Engine, Hostile]]:
    yield demo_engine, make_hostile(demo_engine, pin=NOW)


def profile_then(customer_id: int, *steps: tuple[str, ...]) -> Run:
    """Open the profile, then press each group of keys (all at once), settling in between."""

    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        pilot.app.open_customer(customer_id)  # type: ignore[attr-defined]
        await settle(pilot)
        for keys in steps:
            await burst(pilot, *keys)
            await settle(pilot, 0.2)
        for area in pilot.app.screen.query(TextArea):
            area.cursor_blink = False  # settle() stills the inputs' cursors, not the text area's
        await pilot.pause()

    return run


def snap(snap_compare: Any, hostile: tuple[Engine, Hostile], *steps: tuple[str, ...]) -> bool:
    engine, who = hostile
    run = profile_then(who.id, *steps)
    return bool(snap_compare(make_app(engine), terminal_size=SIZE, run_before=run))


# --------------------------------------------------------------------------- tabs


def test_overview(snap_compare: Any, hostile: tuple[Engine, Hostile]) -> None:
    """Blocked banner, cut 100-character name, VIP in a fallback colour, the alert."""
    assert snap(snap_compare, hostile)


def test_overview_wide(snap_compare: Any, hostile: tuple[Engine, Hostile]) -> None:
    engine, who = hostile
    run = profile_then(who.id, ("1",))
    assert snap_compare(make_app(engine), terminal_size=(160, 45), run_before=run)


def test_bookings(snap_compare: Any, hostile: tuple[Engine, Hostile]) -> None:
    assert snap(snap_compare, hostile, ("2", "down"))


def test_bookings_filtered_to_nothing(snap_compare: Any, hostile: tuple[Engine, Hostile]) -> None:
    """A date filter with no booking in range: the empty message; escape back to the table."""
    assert snap(snap_compare, hostile, ("2", "slash", "2030-01-01", "escape"))


def test_orders(snap_compare: Any, hostile: tuple[Engine, Hostile]) -> None:
    assert snap(snap_compare, hostile, ("3", "down", "down"))


def test_rewards(snap_compare: Any, hostile: tuple[Engine, Hostile]) -> None:
    """Two enrolments (the second highlighted) and their ledger."""
    assert snap(snap_compare, hostile, ("4", "down"))


def test_notes(snap_compare: Any, hostile: tuple[Engine, Hostile]) -> None:
    """The second note highlighted: its Markdown preview keeps [/] and [b] as typed."""
    assert snap(snap_compare, hostile, ("5", "down"))


def test_timeline(snap_compare: Any, hostile: tuple[Engine, Hostile]) -> None:
    assert snap(snap_compare, hostile, ("6",))


def test_details(snap_compare: Any, hostile: tuple[Engine, Hostile]) -> None:
    assert snap(snap_compare, hostile, ("7",))


# --------------------------------------------------------------------------- modals


def test_enrol_modal(snap_compare: Any, hostile: tuple[Engine, Hostile]) -> None:
    """Enrolled in both programs: remove one first, then n offers it again."""
    assert snap(snap_compare, hostile, ("4", "X", "y"), ("n",))


def test_points_modal_refuses_zero(snap_compare: Any, hostile: tuple[Engine, Hostile]) -> None:
    """On the second enrolment: a, 0, enter (refused next to the field)."""
    assert snap(snap_compare, hostile, ("4", "down", "a"), ("0", "enter"))


def test_note_modal_editing_a_hostile_note(
    snap_compare: Any, hostile: tuple[Engine, Hostile]
) -> None:
    assert snap(snap_compare, hostile, ("5", "down", "down", "enter"))


def test_payment_modal(snap_compare: Any, hostile: tuple[Engine, Hostile]) -> None:
    assert snap(snap_compare, hostile, ("3", "p"), ("45",))


def test_refund_modal_asks_why(snap_compare: Any, hostile: tuple[Engine, Hostile]) -> None:
    """After a payment: R, an amount, enter moves on to the reason."""
    assert snap(snap_compare, hostile, ("3", "p", "45", "enter"), ("R", "20", "enter"))

"""Snapshots of issue 11's "small ways input is lost": what the desk sees when a number is
refused in its dialog, when a booking is already past, and an alert note written in Markdown.
Render them with /work/shared/tools/snap2png and look before ``--snapshot-update``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from frontdesk.data import notes as note_svc
from frontdesk.data.models import Note, NoteCategory, Staff
from tests.ui.conftest import NOW, SIZE, make_app
from tests.ui.test_profile_flows import Hostile, make_hostile
from tests.ui.test_profile_snapshots import profile_then

PATCH = "# Patch test\n- **Severe** nut allergy [x]\n- `epipen` in the *red* bag"


@pytest.fixture
def hostile(demo_engine: Engine) -> Iterator[tuple[Engine, Hostile]]:
    """The hostile VIP of the profile tests, not blocked, with an alert note in Markdown."""
    who = make_hostile(demo_engine, blocked=False, pin=NOW)
    with Session(demo_engine) as s:
        rita = s.exec(select(Staff).where(col(Staff.username) == "rita")).one()
        alert = s.exec(select(NoteCategory).where(col(NoteCategory.is_alert).is_(True))).first()
        note_svc.add_note(
            session=s,
            customer_id=who.id,
            body=PATCH,
            category_id=alert.id if alert else None,
            is_alert=True,
            actor=rita,
        )
        for name in ("created_at", "updated_at"):
            s.execute(
                update(Note)
                .where(getattr(Note, name) > NOW)
                .values({name: NOW})
                .execution_options(synchronize_session=False)
            )
        s.commit()
    yield demo_engine, who


def snap(snap_compare: Any, hostile: tuple[Engine, Hostile], *steps: tuple[str, ...]) -> bool:
    engine, who = hostile
    run = profile_then(who.id, *steps)

    async def steady(pilot: Any) -> None:
        # A toast (e.g. "payment taken") stays until the snapshot, however slow the machine.
        pilot.app.NOTIFICATION_TIMEOUT = 3600
        await run(pilot)

    return bool(snap_compare(make_app(engine), terminal_size=SIZE, run_before=steady))


def test_refund_over_what_was_paid_stays_in_the_dialog(
    snap_compare: Any, hostile: tuple[Engine, Hostile]
) -> None:
    """3, pay 30, R 50 + reason: refused under the amount, both entries kept."""
    assert snap(
        snap_compare,
        hostile,
        ("3",),
        ("p", "30", "enter"),
        ("R", "50", "tab", "Colour [faded]", "enter"),
    )


def test_booking_already_past_asks(snap_compare: Any, hostile: tuple[Engine, Hostile]) -> None:
    """b, service, 10:00 today (the clock says 12:00), ctrl+s: asked, nothing booked yet."""
    assert snap(
        snap_compare,
        hostile,
        ("b",),
        ("enter", "enter", "w", "enter", "tab", "tab", "tab"),
        ("10:00", "ctrl+s"),
    )


def test_alert_note_in_markdown_header_list_and_preview(
    snap_compare: Any, hostile: tuple[Engine, Hostile]
) -> None:
    """5: the alert as one plain line in the header and the list; the preview renders it."""
    assert snap(snap_compare, hostile, ("5",), ("home", "down"))

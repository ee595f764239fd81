"""Snapshot of the settings screen's Staff tab: a hostile name shown literally, a deactivated
member dimmed and marked (render with ../shared/tools/snap2png to review)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from textual.pilot import Pilot

from frontdesk.data.staff import create_staff, deactivate_staff, find_staff
from tests.ui.conftest import SIZE, burst, make_app, settle
from tests.ui.test_staff_tab_flows import downs_to

HOSTILE = "[bold]brackets[/] Bea"


def test_staff_tab(snap_compare: Any, demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        alex = find_staff(session=s, name_or_username="admin")
        create_staff(session=s, name=HOSTILE, username="bea", role="therapist", actor=alex)
        rita = find_staff(session=s, name_or_username="rita")
        assert rita is not None and rita.id is not None
        deactivate_staff(session=s, member_id=rita.id, actor=alex)
        s.commit()

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await burst(pilot, "S", "left", "left", "tab")
        await settle(pilot)

    assert snap_compare(
        make_app(demo_engine, staff="admin"), terminal_size=SIZE, run_before=run_before
    )


def test_staff_dialog_with_a_refusal(snap_compare: Any, demo_engine: Engine) -> None:
    """Bea's dialog (a hostile name, every branch) after a taken username was refused."""
    with Session(demo_engine) as s:
        alex = find_staff(session=s, name_or_username="admin")
        create_staff(session=s, name=HOSTILE, username="bea", role="therapist", actor=alex)
        s.commit()

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        # Settings, the Staff tab, down to Bea (the last row), her username "rita".
        down = downs_to(demo_engine, HOSTILE)
        await burst(pilot, "S", "left", "left", "tab", *down, "enter", "tab", "ctrl+u", "rita")
        await burst(pilot, "ctrl+s")
        await settle(pilot)

    assert snap_compare(
        make_app(demo_engine, staff="admin"), terminal_size=SIZE, run_before=run_before
    )

"""Snapshot of the settings screen's Staff tab: a hostile name shown literally, a deactivated
member dimmed and marked (render with ../shared/tools/snap2png to review)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from textual.pilot import Pilot

from frontdesk.data.staff import create_staff, deactivate_staff, find_staff
from tests.ui.conftest import SIZE, burst, make_app, settle

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

"""Snapshot tests of the day sheet (T): a busy day (arrived, done, late with an alert and a
name with markup, a VIP, cancelled, notes) and an empty day, and the free-times dialog.
Render the SVGs with /work/shared/tools/snap2png and look at them before accepting."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from tests.ui.conftest import SIZE, make_app
from tests.ui.test_booking_snapshots import keys, patient_keys
from tests.ui.test_day_sheet_flows import busy_engine

__all__ = ["busy_engine", "patient_keys"]


def test_day_sheet_busy_day(snap_compare: Any, busy_engine: Engine) -> None:
    assert snap_compare(
        make_app(busy_engine), terminal_size=SIZE, run_before=keys("T", "down", "down")
    )


def test_day_sheet_busy_day_by_staff_wide(snap_compare: Any, busy_engine: Engine) -> None:
    assert snap_compare(make_app(busy_engine), terminal_size=(160, 45), run_before=keys("T", "v"))


def test_day_sheet_empty_day(snap_compare: Any, busy_engine: Engine) -> None:
    assert snap_compare(make_app(busy_engine), terminal_size=SIZE, run_before=keys("T", "]"))


def test_day_sheet_free_times(snap_compare: Any, busy_engine: Engine) -> None:
    assert snap_compare(make_app(busy_engine), terminal_size=SIZE, run_before=keys("T", "f"))

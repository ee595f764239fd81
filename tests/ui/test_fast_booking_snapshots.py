"""Snapshots of the fast booking path: the service list filtered by what was typed, and the
first free start offered under the fields."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from frontdesk import app as app_module
from tests.ui.conftest import SIZE, make_app
from tests.ui.test_booking_snapshots import keys


@pytest.fixture(autouse=True)
def patient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "KEY_WATCHDOG", 5.0)


def test_service_list_filtered_by_typing(snap_compare: Any, demo_engine: Engine) -> None:
    # A pre-filled customer kept with enter; "ma" on the service: Manicure first, the
    # massages still offered, the rest greyed.
    assert snap_compare(
        make_app(demo_engine), terminal_size=SIZE, run_before=keys("b", "enter", "ma")
    )


def test_first_free_start_offered(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(
        make_app(demo_engine), terminal_size=SIZE, run_before=keys("b", "enter", "wom", "enter")
    )

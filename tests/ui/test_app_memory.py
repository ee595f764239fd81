"""The garbage collector kept out of the desk's way (FrontdeskApp.settle_memory): the real
program freezes what the directory made and leaves full collections for idle moments; the
tests' apps (many in one process) do not touch the collector."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from frontdesk import app as app_module
from frontdesk.app import FrontdeskApp
from tests.ui.conftest import NOW, wait_until


@pytest.fixture
def collector() -> Iterator[list[int]]:
    """The generations of the full collections made while the test runs; the collector's
    settings put back after it."""
    thresholds = gc.get_threshold()
    full: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            full.append(2)

    gc.callbacks.append(seen)
    try:
        yield full
    finally:
        gc.callbacks.remove(seen)
        gc.unfreeze()
        gc.set_threshold(*thresholds)


async def test_the_program_freezes_the_start_and_collects_when_idle(
    demo_engine: Engine, collector: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "SETTLE_AFTER", 0.2)
    monkeypatch.setattr(app_module, "IDLE_COLLECT_AFTER", 0.3)
    app = FrontdeskApp(engine=demo_engine, staff="rita", clock=lambda: NOW, settle_memory=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: gc.get_freeze_count() > 0)
        assert gc.get_threshold() == app_module.GC_THRESHOLDS
        # Busy: a key a moment ago, garbage waiting: no full collection.
        for _ in range(app_module.IDLE_COLLECT_MIN):
            gc.collect(1)
        collector.clear()
        await pilot.press("down")
        app._collect_when_idle()
        assert collector == []
        # Idle since the key: one full collection.
        await pilot.pause(0.4)
        for _ in range(app_module.IDLE_COLLECT_MIN):
            gc.collect(1)
        collector.clear()
        app._collect_when_idle()
        assert collector == [2]
        # Nothing new since: none again.
        app._collect_when_idle()
        assert collector == [2]


async def test_an_app_in_the_tests_leaves_the_collector_alone(
    demo_engine: Engine, collector: list[int]
) -> None:
    thresholds = gc.get_threshold()
    frozen = gc.get_freeze_count()
    app = FrontdeskApp(engine=demo_engine, staff="rita", clock=lambda: NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.3)
    assert gc.get_threshold() == thresholds and gc.get_freeze_count() == frozen

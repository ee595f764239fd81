"""Pilot tests of issue 16: the due-back filter (keys pressed), the business overview (G) and
the profile's month figures (m)."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from frontdesk.data import customers as svc
from frontdesk.data import directory, insights
from frontdesk.data.directory import AdvancedFilter
from frontdesk.screens.directory import DirectoryScreen
from frontdesk.screens.insights import InsightsScreen
from frontdesk.screens.profile import ProfileScreen
from tests.actors import ADMIN
from tests.ui.conftest import NOW, SIZE, make_app, settle, wait_until
from tests.ui.test_directory_flows import codes, keys, label, open_panel


@pytest.fixture(autouse=True)
def _patient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("frontdesk.app.KEY_WATCHDOG", 5.0)


def due_back(engine: Engine, **basic: Any) -> tuple[list[str], int, list[int], set[str]]:
    """The first page, the count and every id of the due-back audience (settings' margin)."""
    with Session(engine) as s:
        margin, lapsed = insights.margins(s)
        advanced = AdvancedFilter(due_back_margin=margin, lapsed_for_due=lapsed)
        filters = svc.DirectoryFilter(extra=advanced.conditions(NOW), now=NOW, **basic)
        page = directory.load_directory_page(session=s, filters=filters, limit=100)
        ids = directory.matching_ids(session=s, text="", filters=filters)
        every = {svc.get_customer(session=s, customer_id=i).code for i in ids}
    return [c.code for c in page.rows], page.count or 0, ids, every


async def test_top_customers_by_value_from_the_panel(demo_engine: Engine) -> None:
    """The panel's "Top N by 12-month value": the N listed highest first, counted, and
    selected whole by select-all; the same N the sum over every customer gives."""
    with Session(demo_engine) as s:
        everyone = [int(c) for c, _value in s.execute(insights._top_values(25, NOW))]
        expected = [svc.get_customer(session=s, customer_id=i).code for i in everyone]
    assert len(expected) == 25
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        _modal, tabs = await open_panel(pilot, "#fl-top")
        await keys(pilot, *tabs, "2", "5", "ctrl+s")
        assert isinstance(app.screen, DirectoryScreen)
        assert "top 25 by 12-month value" in label(app, "#chips")
        assert codes(app) == expected
        assert label(app, "#count") == "25 matches"
        await keys(pilot, "ctrl+a")
        await wait_until(pilot, lambda: len(app.screen.selected) == 25)  # type: ignore[attr-defined]
        assert sorted(app.screen.selected) == sorted(everyone)  # type: ignore[attr-defined]


async def test_due_back_filter_from_the_panel(demo_engine: Engine, tmp_path: Path) -> None:
    expected, count, ids, every = due_back(demo_engine)
    assert 0 < count < 400  # the demo has customers past their usual interval, not everyone
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        _modal, tabs = await open_panel(pilot, "#fl-insight")
        # the first choice of "Visit rhythm and value" is "due back": space ticks it
        await keys(pilot, *tabs, "space", "ctrl+s")
        assert isinstance(app.screen, DirectoryScreen)
        assert "due back (+14 days)" in label(app, "#chips")
        assert codes(app) == expected
        assert label(app, "#count") == f"{count:,} matches"
        # select all feeds bulk actions and export: exactly that audience
        await keys(pilot, "ctrl+a")
        await wait_until(pilot, lambda: len(app.screen.selected) == count)  # type: ignore[attr-defined]
        assert sorted(app.screen.selected) == sorted(ids)  # type: ignore[attr-defined]
        await keys(pilot, "escape")  # clears the selection: the export takes the filter
        out = tmp_path / "due.csv"
        await keys(pilot, "E")
        await keys(pilot, *str(out), "enter")
        await wait_until(pilot, out.exists)
        with out.open(encoding="utf-8-sig") as f:
            exported = [row["Code"] for row in csv.DictReader(f)]
        assert set(exported) == every and len(exported) == count
        # with a home branch filter too: the two combine
        await keys(pilot, "f")
        await keys(pilot, "tab", "enter", "down", "enter", "ctrl+s")
        branch = app.screen.filters.branch_id  # type: ignore[attr-defined]
        assert branch is not None
        narrowed, narrowed_count, _, _ = due_back(demo_engine, branch_id=branch)
        assert codes(app) == narrowed and narrowed_count < count
        # x clears the last chip, twice: no filter left
        await keys(pilot, "x", "x")
        assert label(app, "#chips").strip() == ""


async def test_business_overview_for_a_branch_and_exported(
    demo_engine: Engine, tmp_path: Path
) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "G")
        screen = app.screen
        assert isinstance(screen, InsightsScreen)
        await wait_until(pilot, lambda: screen.view is not None)
        with Session(demo_engine) as s:
            whole = insights.business_overview(session=s, actor=ADMIN, now=NOW)
        assert screen.view is not None and screen.view.as_dict() == whole.as_dict()
        assert f"Active customers {whole.active_customers:,}" in label(app, "#bo-headline")
        # the branch select (shift+tab from the charts), the first branch
        await keys(pilot, "shift+tab", "shift+tab", "shift+tab", "enter", "down", "enter")
        await wait_until(pilot, lambda: screen.view is not None and screen.view.branch is not None)
        first_id, first_name = whole.branches[0]
        assert screen.view is not None and screen.view.branch == first_name
        with Session(demo_engine) as s:
            one = insights.business_overview(session=s, actor=ADMIN, branch_id=first_id, now=NOW)
        assert screen.view.as_dict() == one.as_dict()
        out = tmp_path / "figures.csv"
        await keys(pilot, "tab", "tab", "tab", "E")
        await keys(pilot, *str(out), "enter")
        await wait_until(pilot, out.exists)
        assert os.stat(out).st_mode & 0o777 == 0o600
        with out.open(encoding="utf-8-sig") as f:
            lines = list(csv.reader(f))
        assert lines[0][:2] == ["Business overview", first_name]
        assert ["Active customers", str(one.active_customers)] in lines


async def test_a_bad_date_is_said_and_the_figures_open_on_f(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "G")
        screen = app.screen
        assert isinstance(screen, InsightsScreen)
        await wait_until(pilot, lambda: screen.view is not None)
        await keys(pilot, "shift+tab", "shift+tab", "2026-02-30", "enter")
        assert "from: a date as YYYY-MM-DD" in label(app, "#bo-problem")
        assert app.focused is screen.query_one("#bo-from")  # the bad date keeps the focus
        await keys(pilot, *["backspace"] * 10, "2026-09-01", "enter")
        await wait_until(pilot, lambda: screen.view is not None and len(screen.view.months) == 3)
        assert label(app, "#bo-problem").strip() == ""
        assert not screen.query_one("#bo-figures").has_class("shown")
        await keys(pilot, "f")
        assert screen.query_one("#bo-figures").has_class("shown")


async def test_therapists_do_not_get_the_business_overview(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff="nina.a")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "G")
        assert isinstance(app.screen, DirectoryScreen)
        assert not app.may("insights")


async def test_profile_month_figures_on_m(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "enter")
        screen = app.screen
        assert isinstance(screen, ProfileScreen)
        months = screen.query_one("#ov-months")
        assert not months.has_class("shown")
        await keys(pilot, "m")
        assert months.has_class("shown")
        assert months.size.height >= 26  # a title, a header and 24 months
        await keys(pilot, "m")
        assert not months.has_class("shown") and months.size.height == 0

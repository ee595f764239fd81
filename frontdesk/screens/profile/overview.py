"""Tab 1: the customer's figures (visits, cancellations, income, points ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.table import Table
from sqlmodel import Session
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from frontdesk.data import profile as data
from frontdesk.screens.fmt import day, money, when
from frontdesk.screens.profile.tab import ProfileTab


class OverviewTab(ProfileTab):
    NAME = "overview"
    stats: data.CustomerStats | None = None
    DEFAULT_CSS = """
    OverviewTab #p-stats {
        width: 100%;
        height: auto;
        padding: 1 2;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="ov-scroll"):
            yield Static("", id="p-stats")

    def focus_target(self) -> Widget:
        return self.query_one("#ov-scroll")

    def fetch(self, customer_id: int) -> Callable[[Session], Any]:
        now = self.fd.clock()
        return lambda s: data.load_overview_tab(session=s, customer_id=customer_id, now=now)

    def show_data(self, stats: data.CustomerStats) -> None:
        s = stats
        table = Table.grid(padding=(0, 3))
        table.add_column(style="dim", min_width=20, no_wrap=True)
        table.add_column(justify="right", min_width=10, no_wrap=True)
        table.add_column(style="dim", min_width=22, no_wrap=True)
        table.add_column(justify="right", min_width=16, no_wrap=True)
        days = f"{s.days_since_last_visit:,}" if s.days_since_last_visit is not None else "—"
        rows = [
            ("Total visits", f"{s.visits:,}", "Customer since", day(s.customer_since)),
            ("Upcoming bookings", f"{s.upcoming:,}", "First visit", day(s.first_visit)),
            ("Cancellations", f"{s.cancellations:,}", "Last visit", day(s.last_visit)),
            ("No-shows", f"{s.no_shows:,}", "Next visit", when(s.next_visit)),
            ("Total income", money(s.income_cents), "Days since last visit", days),
            (
                "Average visit value",
                money(s.average_visit_cents),
                "Points balance",
                f"{s.points:,}",
            ),
        ]
        for row in rows:
            table.add_row(*row)
        self.query_one("#p-stats", Static).update(table)
        self.stats = stats

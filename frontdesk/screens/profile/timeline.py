"""Tab 6: everything that happened to the customer, newest first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import DataTable

from frontdesk.data import profile as data
from frontdesk.screens.fmt import when
from frontdesk.screens.profile.tab import ProfileTab, RowTable, cell, fill_table


class TimelineTab(ProfileTab):
    NAME = "timeline"
    DEFAULT_CSS = """
    TimelineTab #t-table {
        height: 1fr;
    }
    """

    def compose(self) -> ComposeResult:
        yield RowTable(id="t-table")

    def on_mount(self) -> None:
        self.table.add_columns("When", "What", "")

    def focus_target(self) -> Widget:
        return self.table

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#t-table", DataTable)

    def fetch(self, customer_id: int) -> Callable[[Session], Any]:
        actor = self.operator
        return lambda s: data.load_timeline_tab(session=s, customer_id=customer_id, actor=actor)

    def show_data(self, items: list[data.TimelineItem]) -> None:
        rows = [
            (str(i), [when(item.at), item.kind, cell(item.text)]) for i, item in enumerate(items)
        ]
        fill_table(self.table, rows)

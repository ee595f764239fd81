"""Tab 1: the customer's figures (visits, cancellations, income, points ...), their spending
and visits per month over the last 24 months as charts (the month table on demand, ``m``),
their visit rhythm and their value (issue 16)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Label, Sparkline, Static

from frontdesk.data import insights
from frontdesk.data import profile as data
from frontdesk.data.models import Staff
from frontdesk.screens.fmt import day, money, when
from frontdesk.screens.profile.tab import ProfileTab
from frontdesk.text import user_text

CHART_WIDTH = 48  # two columns a month

STATUS_STYLE = {"on time": "green", "due": "yellow", "lapsed": "red"}


def read_overview(
    customer_id: int, actor: Staff | None, now: datetime
) -> Callable[[Session], insights.ProfileOverview]:
    """The overview tab's read (also what an idle desk reads ahead: see ``first_reads``)."""
    return lambda s: insights.load_profile_overview(
        session=s, customer_id=customer_id, actor=actor, now=now
    )


def month_label(key: str) -> str:
    """'2026-11' -> 'Nov 2026'."""
    names = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    year, month = key.split("-")
    return f"{names[int(month) - 1]} {year}"


def rhythm_text(r: insights.Rhythm) -> Text:
    """The rhythm line: usual interval, expected next visit, status."""
    out = Text()
    if r.last_visit is None:
        return Text("No completed visit yet.", style="dim")
    if r.usual_interval_days is None:
        out.append("Usual interval: — (one visit so far)", style="dim")
    else:
        out.append(f"Usually every {r.usual_interval_days:g} days")
        out.append(" · next visit expected ")
        out.append(day(r.expected_next), style="bold")
    if r.status:
        out.append(" · ")
        out.append(r.status.upper(), style=f"bold {STATUS_STYLE[r.status]}")
        if r.status == "due" and r.last_visit and r.usual_interval_days is not None:
            since = r.last_visit + timedelta(days=int(r.usual_interval_days + r.margin_days) + 1)
            out.append(f" since {day(since)} (margin {r.margin_days} days)", "dim")
        elif r.status == "lapsed":
            out.append(f" (no visit for {r.days_since} days)", "dim")
    return out


class OverviewTab(ProfileTab):
    NAME = "overview"
    HELP = """\
### Overview

- **Lifetime value**: the customer's net income to date — every payment minus every
  refund, over all time (merged records included).
- **12-month value**: the same over the last 365 days.
- **Spending per month**: payments minus refunds by the month the money moved (a refund
  lowers the month it was given back in), over the last 24 months.
- **Visits per month**: completed bookings.
- **Rhythm**: the usual interval is the median number of days between one completed visit
  and the next. *Due* when the days since the last visit exceed it by more than the
  `due_back_margin_days` setting; *lapsed* after `lapsed_after_days` without a visit.

`m` shows or hides the month-by-month figures.
"""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "toggle_months", "Month figures", tooltip="Show the figures per month"),
    ]
    stats: data.CustomerStats | None = None
    overview: insights.ProfileOverview | None = None
    DEFAULT_CSS = """
    OverviewTab #p-stats, OverviewTab #ov-insight {
        width: 100%;
        height: auto;
        padding: 0 2;
    }
    OverviewTab #p-stats { padding: 1 2 0 2; }
    OverviewTab .ov-chart-title { padding: 1 2 0 2; text-style: bold; }
    OverviewTab .ov-chart-row { height: 3; padding: 0 2; }
    OverviewTab Sparkline { width: 48; height: 3; }
    OverviewTab .ov-axis { padding: 0 2; color: $text-muted; }
    OverviewTab .ov-peak { padding: 0 0 0 2; color: $text-muted; width: auto; }
    OverviewTab #ov-months { padding: 1 2; height: auto; display: none; }
    OverviewTab #ov-months.shown { display: block; }
    OverviewTab .gone { display: none; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="ov-scroll"):
            yield Static("", id="p-stats")
            yield Static("", id="ov-insight")
            yield Label(
                "Spending per month (net of refunds)", classes="ov-chart-title", id="ov-spend-title"
            )
            with Horizontal(classes="ov-chart-row", id="ov-spend-row"):
                yield Sparkline([], id="ov-spend", summary_function=max)
                yield Label("", classes="ov-peak", id="ov-spend-peak")
            yield Label("", classes="ov-axis", id="ov-spend-axis")
            yield Label("Visits per month", classes="ov-chart-title")
            with Horizontal(classes="ov-chart-row"):
                yield Sparkline([], id="ov-visits", summary_function=max)
                yield Label("", classes="ov-peak", id="ov-visits-peak")
            yield Label("", classes="ov-axis", id="ov-visits-axis")
            yield Static("", id="ov-months")

    def focus_target(self) -> Widget:
        return self.query_one("#ov-scroll")

    def fetch(self, customer_id: int) -> Callable[[Session], Any]:
        return read_overview(customer_id, self.fd.operator, self.fd.clock())

    def show_data(self, overview: insights.ProfileOverview) -> None:
        s = overview.stats
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
        if s.income_cents is None:  # not for this reader (a therapist sees no money)
            rows[-2] = ("", "", *rows[-2][2:])
            rows[-1] = ("", "", *rows[-1][2:])
        for row in rows:
            table.add_row(*row)
        if overview.insight.own_bookings:  # a therapist's figures: their bookings only
            table.add_row(Text("Counted from your own bookings with this customer", "italic"))
        self.query_one("#p-stats", Static).update(table)
        self.stats = s
        self.overview = overview
        self.show_insight(overview.insight)

    def show_insight(self, ins: insights.CustomerInsight) -> None:
        lines = Table.grid(padding=(0, 1))
        lines.add_column(style="dim", min_width=18, no_wrap=True)
        lines.add_column()
        lines.add_row("Rhythm", rhythm_text(ins.rhythm))
        if ins.shows_money:
            value = Text()
            value.append(money(ins.lifetime_value_cents), style="bold")
            value.append("   12-month value ", style="dim")
            value.append(money(ins.value_12m_cents), style="bold")
            value.append("   (? defines them)", style="dim")
            lines.add_row("Lifetime value", value)
        lines.add_row("Most booked", self.top_text(ins.top_services))
        lines.add_row("With", self.top_text(ins.top_staff))
        self.query_one("#ov-insight", Static).update(lines)

        first, last = month_label(ins.months[0].month), month_label(ins.months[-1].month)
        axis = f"{first}{' ' * max(1, CHART_WIDTH - len(first) - len(last))}{last}"
        for part in ("#ov-spend-title", "#ov-spend-row", "#ov-spend-axis"):
            self.query_one(part).set_class(not ins.shows_money, "gone")
        if ins.shows_money:
            spent = [m.spent_cents or 0 for m in ins.months]
            self.query_one("#ov-spend", Sparkline).data = [float(v) for v in spent]
            self.query_one("#ov-spend-peak", Label).update(
                f"peak {money(max(spent))} · 24 months {money(sum(spent))}"
            )
            self.query_one("#ov-spend-axis", Label).update(axis)
        visits = [m.visits for m in ins.months]
        self.query_one("#ov-visits", Sparkline).data = [float(v) for v in visits]
        self.query_one("#ov-visits-peak", Label).update(
            f"most {max(visits)} in a month · 24 months {sum(visits)}"
        )
        self.query_one("#ov-visits-axis", Label).update(axis)
        self.query_one("#ov-months", Static).update(self.month_table(ins))

    @staticmethod
    def top_text(pairs: list[tuple[str, int]]) -> Text:
        if not pairs:
            return Text("—", style="dim")
        out = Text()
        for i, (name, count) in enumerate(pairs):
            if i:
                out.append(", ")
            out.append_text(user_text(name))
            out.append(f" ×{count}", style="dim")
        return out

    @staticmethod
    def month_table(ins: insights.CustomerInsight) -> Table:
        table = Table(title="Per month (newest first)", title_justify="left", box=None)
        table.add_column("Month", no_wrap=True)
        table.add_column("Visits", justify="right")
        if ins.shows_money:
            table.add_column("Spent (net)", justify="right")
        for m in reversed(ins.months):
            cells = [month_label(m.month), f"{m.visits:,}"]
            if ins.shows_money:
                cells.append(money(m.spent_cents))
            table.add_row(*cells)
        return table

    def action_toggle_months(self) -> None:
        table = self.query_one("#ov-months", Static)
        table.toggle_class("shown")
        if table.has_class("shown"):
            self.call_after_refresh(
                lambda: self.query_one("#ov-scroll", VerticalScroll).scroll_to_widget(
                    table, animate=False, top=True
                )
            )

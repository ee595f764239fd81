"""The business overview (G, or "Business overview" in the palette; admins and reception).

Charts first: revenue, new and returning customers per month, the category mix and the top
customers; the key figures on one line; every figure as a table on demand (``f``); ``E``
writes the figures to a private CSV (or XLSX) file. One branch or all; a period (from/to,
default the last 12 months).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Header, Input, Label, Sparkline, Static

from frontdesk.data import insights
from frontdesk.data.errors import FrontdeskError, ValidationFailed
from frontdesk.screens.common import set_message
from frontdesk.screens.fmt import money
from frontdesk.screens.profile.overview import month_label
from frontdesk.text import user_text
from frontdesk.widgets.base import FrontdeskScreen
from frontdesk.widgets.footer import KeyFooter
from frontdesk.widgets.select import Select

BAR = 30  # width of the category bars


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


class InsightsScreen(FrontdeskScreen[None]):
    """The business at a glance; ``f`` the figures, ``E`` exports them."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("f", "toggle_figures", "Figures", tooltip="Show every figure as a table"),
        Binding("E", "export", "Export CSV", tooltip="Write the figures to a CSV or XLSX file"),
        Binding("ctrl+r", "apply", "Apply", tooltip="Read the branch and dates again"),
    ]
    AUTO_FOCUS = "#bo-scroll"
    DEFAULT_CSS = """
    InsightsScreen #bo-filters { height: auto; }
    InsightsScreen #bo-filters > Select { width: 30; }
    InsightsScreen #bo-filters > Input { width: 24; }
    InsightsScreen #bo-problem { color: $error; padding: 0 1; }
    InsightsScreen #bo-headline { padding: 0 1; height: auto; }
    InsightsScreen .bo-title { padding: 1 1 0 1; text-style: bold; }
    InsightsScreen .bo-row { height: 3; padding: 0 1; }
    InsightsScreen .bo-row > Sparkline { width: 48; height: 3; }
    InsightsScreen .bo-peak { padding: 0 0 0 2; width: auto; color: $text-muted; }
    InsightsScreen .bo-axis { padding: 0 1; color: $text-muted; }
    InsightsScreen #bo-lower { height: auto; padding-top: 1; }
    InsightsScreen #bo-mix, InsightsScreen #bo-top { width: 1fr; height: auto; padding: 0 1; }
    InsightsScreen #bo-figures { display: none; height: auto; padding: 1 1; }
    InsightsScreen #bo-figures.shown { display: block; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.view: insights.BusinessOverview | None = None
        self.branches_loaded = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="bo-filters"):
            yield Select[int]([], prompt="All branches", id="bo-branch")
            yield Input(placeholder="from YYYY-MM-DD", id="bo-from")
            yield Input(placeholder="to YYYY-MM-DD", id="bo-to")
        yield Label("", id="bo-problem")
        with VerticalScroll(id="bo-scroll"):
            yield Static("Loading…", id="bo-headline")
            yield from self.chart("Revenue per month (net of refunds)", "revenue")
            yield from self.chart("New customers per month (first visit)", "new")
            yield from self.chart("Returning customers per month", "returning")
            with Horizontal(id="bo-lower"):
                yield Static("", id="bo-mix")
                yield Static("", id="bo-top")
            yield Static("", id="bo-figures")
        yield KeyFooter()

    def chart(self, title: str, name: str) -> ComposeResult:
        yield Label(title, classes="bo-title")
        with Horizontal(classes="bo-row"):
            yield Sparkline([], id=f"bo-{name}", summary_function=max)
            yield Label("", classes="bo-peak", id=f"bo-{name}-peak")
        yield Label("", classes="bo-axis", id=f"bo-{name}-axis")

    def on_mount(self) -> None:
        self.title = "Business overview"
        set_message(self.query_one("#bo-problem", Label), None)
        self.hold_keys()
        self.action_apply()

    # ------------------------------------------------------------------ loading
    def _branch(self) -> int | None:
        value = self.query_one("#bo-branch", Select).value
        return value if isinstance(value, int) else None

    def _date(self, wid: str, name: str) -> date | None:
        raw = self.query_one(wid, Input).value.strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValidationFailed(name, "a date as YYYY-MM-DD, e.g. 2026-01-31") from None

    @on(Select.Changed, "#bo-branch")
    def branch_changed(self) -> None:
        if self.branches_loaded:
            self.action_apply()

    @on(Input.Submitted)
    def input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.read_filters():
            self.set_focus(self.query_one("#bo-scroll"))

    def action_apply(self) -> None:
        self.read_filters()

    def read_filters(self) -> bool:
        """Load the overview for the branch and dates shown; False (said under the fields,
        the focus on the bad one) when a date cannot be read."""
        problem = self.query_one("#bo-problem", Label)
        try:
            start, end = self._date("#bo-from", "from"), self._date("#bo-to", "to")
        except ValidationFailed as exc:
            set_message(problem, f"{exc.field}: {exc.message}")
            self.set_focus(self.query_one(f"#bo-{exc.field}", Input))
            self.release_keys()
            return False
        actor, now, branch = self.fd.operator, self.fd.clock(), self._branch()

        def failed(exc: Exception) -> None:
            self.release_keys()
            if isinstance(exc, ValidationFailed):
                set_message(problem, f"{exc.field}: {exc.message}")
                return
            self.fd.show_error(exc)

        def shown(view: insights.BusinessOverview) -> None:
            set_message(problem, None)
            self.show(view)
            self.call_after_refresh(self.release_keys)

        self.run_read(
            lambda s: insights.business_overview(
                session=s, actor=actor, branch_id=branch, date_from=start, date_to=end, now=now
            ),
            shown,
            on_error=failed,
            group="business-overview",
        )
        return True

    # ------------------------------------------------------------------ showing
    def show(self, view: insights.BusinessOverview) -> None:
        self.view = view
        if not self.branches_loaded:
            with self.prevent(Select.Changed):
                self.query_one("#bo-branch", Select).set_options(
                    (user_text(name), bid) for bid, name in view.branches
                )
            self.branches_loaded = True
        head = Text()
        head.append(f"{view.branch or 'All branches'}", style="bold")
        head.append(f"  {view.date_from} → {view.date_to}\n", style="dim")
        for label, value in (
            ("Active customers", f"{view.active_customers:,}"),
            ("Retention", pct(view.retention)),
            ("No-shows", pct(view.no_show_rate)),
            ("Cancellations", pct(view.cancellation_rate)),
            (f"Revenue {view.currency}", money(view.revenue_cents)),
        ):
            head.append(f"{label} ", style="dim")
            head.append(value, style="bold")
            head.append("   ")
        self.query_one("#bo-headline", Static).update(head)
        first, last = month_label(view.months[0].month), month_label(view.months[-1].month)
        axis = f"{first}{' ' * max(1, 48 - len(first) - len(last))}{last}"
        series: dict[str, tuple[list[int], str]] = {
            "revenue": (
                [m.revenue_cents for m in view.months],
                "peak {peak} · total {total}",
            ),
            "new": ([m.new_customers for m in view.months], "most {peak} · total {total}"),
            "returning": (
                [m.returning_customers for m in view.months],
                "most {peak} · total {total}",
            ),
        }
        for name, (values, caption) in series.items():
            self.query_one(f"#bo-{name}", Sparkline).data = [float(v) for v in values]
            fmt = money if name == "revenue" else (lambda v: f"{v:,}")
            self.query_one(f"#bo-{name}-peak", Label).update(
                caption.format(peak=fmt(max(values)), total=fmt(sum(values)))
            )
            self.query_one(f"#bo-{name}-axis", Label).update(axis)
        self.query_one("#bo-mix", Static).update(self.mix(view))
        self.query_one("#bo-top", Static).update(self.top(view))
        self.query_one("#bo-figures", Static).update(self.figures(view))

    @staticmethod
    def mix(view: insights.BusinessOverview) -> Text:
        out = Text("Category mix (completed visits)\n", style="bold")
        total = sum(c.visits for c in view.categories)
        if not total:
            out.append("No visits in this period.", style="dim")
            return out
        width = max(len(c.name) for c in view.categories)
        for c in view.categories:
            share = c.visits / total
            out.append_text(user_text(c.name.ljust(width)))
            out.append(" ")
            out.append("█" * max(1, round(share * BAR)), style="cyan")
            out.append(f" {share * 100:.0f}%\n", style="dim")
        return out

    @staticmethod
    def top(view: insights.BusinessOverview) -> Text:
        out = Text(f"Top customers ({view.currency}, net)\n", style="bold")
        if not view.top_customers:
            out.append("No income in this period.", style="dim")
        for t in view.top_customers[:5]:
            out.append(f"{t.code} ", style="dim")
            out.append_text(user_text(t.name[:24].ljust(24)))
            out.append(f" {money(t.value_cents):>10}\n")
        return out

    @staticmethod
    def figures(view: insights.BusinessOverview) -> Table:
        """Every figure, as the CSV export writes them."""
        rows = insights.overview_rows(view)
        grid = Table(box=None, show_header=False, title="Figures", title_justify="left")
        width = max(len(r) for r in rows)
        for _ in range(width):
            grid.add_column(no_wrap=True)
        for row in rows[2:]:  # the title line is the headline already
            cells = [user_text(str(c)) for c in row] + [Text("")] * (width - len(row))
            bold = row and row[0] in {"Month", "Figure", "Category", "Top customer"}
            grid.add_row(*cells, style="bold" if bold else None)
        return grid

    # ------------------------------------------------------------------ actions
    def action_toggle_figures(self) -> None:
        figures = self.query_one("#bo-figures", Static)
        figures.toggle_class("shown")
        if figures.has_class("shown"):
            self.call_after_refresh(
                lambda: self.query_one("#bo-scroll", VerticalScroll).scroll_to_widget(
                    figures, animate=False, top=True
                )
            )

    def action_export(self) -> None:
        from frontdesk.screens.export_dialog import ExportModal

        if self.view is None or self.fd.refuse("insights"):
            return
        view = self.view

        def chosen(choice: Any) -> None:
            if choice is None:
                return
            path = choice.target

            def job() -> tuple[int, str | None]:
                try:
                    rows = insights.export_overview(
                        view=view, path=path, plain=choice.plain, overwrite=choice.overwrite
                    )
                except OSError as exc:
                    return 0, f"Cannot write {path}: {exc.strerror or exc}"
                except FrontdeskError as exc:  # a file that appeared meanwhile
                    return 0, f"Not written: {exc}"
                return rows, None

            def done(result: tuple[int, str | None]) -> None:
                rows, problem = result
                if problem:
                    self.notify(problem, severity="error", markup=False)
                else:
                    self.notify(f"Wrote the figures ({rows} lines) to {path}", markup=False)

            self.run_task(job, done, group="overview-export")

        self.app.push_screen(ExportModal("the figures"), chosen)

    def action_back(self) -> None:
        self.dismiss(None)

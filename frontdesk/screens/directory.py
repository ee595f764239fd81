"""The customer directory: the home screen a receptionist lives in."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from sqlmodel import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static

from frontdesk.data import customers as svc
from frontdesk.data import directory as lookups
from frontdesk.data.models import Customer
from frontdesk.screens.fmt import count_label, day

if TYPE_CHECKING:
    from frontdesk.app import FrontdeskApp

PAGE = 100
SEARCH_PAGE = 50  # rows shown per search (more load on scroll); fewer rows = faster repaint
COUNT_CAP = 1000
DEBOUNCE = 0.03
GENDER = {"female": "F", "male": "M", "other": "O", "unspecified": "–"}


class SearchInput(Input):
    """The search box: down arrow moves to the results."""

    BINDINGS = [Binding("down", "results", "Results", show=False)]

    def action_results(self) -> None:
        screen = self.screen
        if isinstance(screen, DirectoryScreen):
            screen.action_to_table()


@dataclass(frozen=True)
class Loaded:
    generation: int
    rows: list[Customer]
    last_visits: dict[int, datetime]
    alerts: set[int]
    count: int | None
    reset: bool
    exhausted: bool


class DirectoryScreen(Screen[None]):
    """Search, filter, page and act on customers."""

    AUTO_FOCUS = "#search"
    BINDINGS = [
        Binding("slash", "focus_search", "Search"),
        Binding("enter", "open", "Open", show=False),
        Binding("n", "new", "New"),
        Binding("e", "edit", "Edit"),
        Binding("b", "book", "Book"),
        Binding("o", "order", "Order", show=False),
        Binding("f", "filters", "Filters"),
        Binding("space", "toggle_select", "Select"),
        Binding("ctrl+a", "select_all", "Select all"),
        Binding("a", "bulk", "Bulk actions"),
        Binding("u", "undo", "Undo delete", show=False),
        Binding("m", "merge", "Merge selected"),
        Binding("E", "export", "Export", show=False),
        Binding("v", "toggle_overview", "Overview"),
        Binding("x", "clear_last_filter", "Clear filter"),
        Binding("X", "clear_filters", "Clear all filters", show=False),
        Binding("escape", "clear", "Clear", show=False),
    ]

    class Results(Message):
        def __init__(self, loaded: Loaded) -> None:
            super().__init__()
            self.loaded = loaded

    class Overview(Message):
        def __init__(self, customer_id: int, text: Text) -> None:
            super().__init__()
            self.customer_id = customer_id
            self.text = text

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self.filters = svc.DirectoryFilter()
        self.advanced = lookups.AdvancedFilter()
        self.generation = 0
        self.fetching = False
        self.exhausted = False
        self.loaded_ids: list[int] = []
        self.cursor: svc.PageCursor | None = None
        self.selected: set[int] = set()
        self.undo_ids: list[int] = []
        self._debounce: Timer | None = None
        self.lookups = lookups.Lookups()
        self.count: int | None = None
        self.alert_ids: set[int] = set()
        self.shown_versions: list[tuple[int | None, int]] = []

    @property
    def fd(self) -> FrontdeskApp:
        return self.app  # type: ignore[return-value]

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="search-row"):
            yield SearchInput(placeholder="Search name, phone, email or code  ( / )", id="search")
            yield Select[int]([], prompt="Any category", id="category", allow_blank=True)
            yield Select[str](
                [("Active", "active"), ("Inactive", "inactive")],
                prompt="Any status",
                id="status",
                allow_blank=True,
            )
        with Horizontal(id="info-row"):
            yield Label("", id="count")
            yield Label("", id="chips")
        with Horizontal(id="main"):
            with Vertical(id="list"):
                yield DataTable(id="customers", cursor_type="row", zebra_stripes=True)
                yield Static("", id="empty")
            yield Static("", id="quick-overview")
        yield Footer()

    def on_mount(self) -> None:
        self.lookups = self.fd.read(lambda s: lookups.load_lookups(session=s))
        category = self.query_one("#category", Select)
        category.set_options(
            [(f"{c.symbol} {c.name}", c.id) for c in self.lookups.categories.values() if c.id]
        )
        table = self.query_one("#customers", DataTable)
        for label, key, width in (
            (" ", "mark", 1),
            ("Code", "code", 8),
            ("Name", "name", 20),
            ("Email", "email", 21),
            ("Mobile", "mobile", 16),
            ("G", "gender", 1),
            ("Cat", "cat", 3),
            ("Status", "status", 8),
            ("Blk", "blocked", 3),
            ("Branch", "branch", 9),
            ("Last visit", "last", 10),
        ):
            table.add_column(label, key=key, width=width)
        self.query_one("#empty", Static).display = False
        self.query_one("#quick-overview", Static).display = self.app.size.width >= 150
        self.reload()
        self.call_after_refresh(self.action_focus_search)

    # ------------------------------------------------------------------ loading
    def reload(self) -> None:
        self.generation += 1
        self.fetching = True
        self.exhausted = False
        self.cursor = None
        self._fetch(self.generation, self.query_text, self.effective_filters(), None, 0, True)

    def effective_filters(self) -> svc.DirectoryFilter:
        return replace(self.filters, extra=self.advanced.conditions(), now=self.fd.clock())

    def load_more(self) -> None:
        if self.fetching or self.exhausted:
            return
        self.fetching = True
        self._fetch(
            self.generation,
            self.query_text,
            self.effective_filters(),
            self.cursor,
            len(self.loaded_ids),
            False,
        )

    @work(thread=True, exclusive=True, group="directory", exit_on_error=False)
    def _fetch(
        self,
        generation: int,
        text: str,
        filters: svc.DirectoryFilter,
        after: svc.PageCursor | None,
        offset: int,
        reset: bool,
    ) -> None:
        def work(session: Session) -> Loaded:
            if text.strip():
                limit = min(COUNT_CAP, offset + SEARCH_PAGE)
                found = svc.search(session=session, text=text, limit=limit, filters=filters)
                rows = found[offset:]
                exhausted = len(found) < limit or limit >= COUNT_CAP
            else:
                rows = svc.directory_page(session=session, filters=filters, after=after, limit=PAGE)
                exhausted = len(rows) < PAGE
            ids = [c.id for c in rows if c.id is not None]
            visits = svc.last_visits(session=session, customer_ids=ids)
            alerts = lookups.alert_customer_ids(session=session, customer_ids=ids)
            count = (
                svc.count_matches(session=session, text=text, filters=filters, cap=COUNT_CAP)
                if reset
                else None
            )
            return Loaded(generation, rows, visits, alerts, count, reset, exhausted)

        loaded = self.fd.read(work)
        self.post_message(self.Results(loaded))

    def on_directory_screen_results(self, message: Results) -> None:
        loaded = message.loaded
        if loaded.generation != self.generation:
            return  # a newer search or filter superseded this one
        table = self.query_one("#customers", DataTable)
        self.fetching = False
        self.exhausted = loaded.exhausted
        if loaded.reset:
            self.count = loaded.count
            shown = [(c.id, c.version) for c in loaded.rows]
            if shown and shown == self.shown_versions:
                # Same customers, same versions (typing one more letter often gives the same
                # rows): keep the table as it is instead of repainting it.
                self.update_status()
                return
            table.clear()
            self.loaded_ids = []
            self.shown_versions = []
        self.alert_ids |= loaded.alerts
        for customer in loaded.rows:
            if customer.id is None or customer.id in self.loaded_ids:
                continue
            table.add_row(
                *self.cells(customer, loaded.last_visits.get(customer.id)), key=str(customer.id)
            )
            self.loaded_ids.append(customer.id)
            self.shown_versions.append((customer.id, customer.version))
        if loaded.rows:
            self.cursor = svc.cursor_of(loaded.rows[-1])
        self.update_status()
        if loaded.reset and self.loaded_ids:
            table.move_cursor(row=0)
            self.show_overview()

    def cells(self, c: Customer, last_visit: datetime | None) -> list[Any]:
        from frontdesk.data.validation import format_phone

        category = self.lookups.categories.get(c.category_id or 0)
        cat = Text(category.symbol, style=category.colour) if category else Text("")
        branch = self.lookups.branches.get(c.home_branch_id or 0)
        name = Text(c.label)
        if c.id in self.alert_ids:
            name.append(" ⚠", style="bold red")
        return [
            Text("●", style="bold $accent") if c.id in self.selected else Text(" "),
            c.code,
            name,
            c.email or "",
            format_phone(c.phone),
            GENDER.get(c.gender, "–"),
            cat,
            c.status,
            Text("✖", style="bold red") if c.blocked else Text(""),
            branch.name if branch else "",
            day(last_visit) if last_visit else "",
        ]

    def update_status(self) -> None:
        count = self.count or 0
        browsing = not self.query_text.strip() and self.effective_filters().is_empty
        label = count_label(count, COUNT_CAP, "customer" if browsing else "match")
        if self.selected:
            label += f" · {len(self.selected):,} selected"
        # Fixed-size labels: no layout pass needed (a layout costs more than the query).
        self.query_one("#count", Label).update(label, layout=False)
        self.query_one("#chips", Label).update(self.chips_text(), layout=False)
        empty = self.query_one("#empty", Static)
        table = self.query_one("#customers", DataTable)
        if not self.loaded_ids:
            if self.query_text.strip():
                empty.update(
                    f"No customers match '{self.query_text.strip()}' — press n to add one."
                )
            elif not self.effective_filters().is_empty:
                empty.update(
                    "No customers match these filters — press f to change them, or x to clear them."
                )
            else:
                empty.update(
                    "No customers yet — press n to add one, or run `frontdesk demo` for demo data."
                )
            if not empty.display:
                empty.display = True
                table.display = False
        elif not table.display:
            empty.display = False
            table.display = True

    def chips_text(self) -> Text:
        chips = self.active_chips()
        text = Text()
        for label, _key in chips:
            text.append(f" {label} ", style="reverse")
            text.append(" ")
        if chips:
            text.append("x clears the last", style="dim")
        return text

    def active_chips(self) -> list[tuple[str, str]]:
        chips: list[tuple[str, str]] = []
        f = self.filters
        if f.category_id is not None:
            cat = self.lookups.categories.get(f.category_id)
            chips.append((f"category: {cat.name if cat else f.category_id}", "category_id"))
        if f.status:
            chips.append((f"status: {f.status}", "status"))
        if f.blocked is not None:
            chips.append(("blocked" if f.blocked else "not blocked", "blocked"))
        if f.branch_id is not None:
            branch = self.lookups.branches.get(f.branch_id)
            chips.append((f"branch: {branch.name if branch else f.branch_id}", "branch_id"))
        if f.tag_id is not None:
            tag = self.lookups.tags.get(f.tag_id)
            chips.append((f"tag: {tag.name if tag else f.tag_id}", "tag_id"))
        if f.visited_within_days is not None:
            chips.append((f"visited ≤ {f.visited_within_days} days", "visited_within_days"))
        if f.not_visited_for_days is not None:
            chips.append((f"no visit for {f.not_visited_for_days} days", "not_visited_for_days"))
        for label, key in self.advanced.chips(self.lookups):
            chips.append((label, f"advanced:{key}"))
        return chips

    def clear_chip(self, key: str) -> None:
        if key.startswith("advanced:"):
            self.advanced = self.advanced.without(key.split(":", 1)[1])
        else:
            cleared: dict[str, Any] = {key: None}
            self.filters = replace(self.filters, **cleared)
            if key == "category_id":
                self.query_one("#category", Select).clear()
            if key == "status":
                self.query_one("#status", Select).clear()
        self.reload()

    # ------------------------------------------------------------------ events
    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE, partial_search(self, event.value))

    def run_search(self, text: str) -> None:
        if text == self.query_text:
            return
        self.query_text = text
        self.reload()

    @on(Input.Submitted, "#search")
    def search_submitted(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        value = self.query_one("#search", Input).value
        if value != self.query_text:
            self.query_text = value
            self.reload()
        self.query_one("#customers", DataTable).focus()

    @on(Select.Changed, "#category")
    def category_changed(self, event: Select.Changed) -> None:
        value = event.value if isinstance(event.value, int) else None
        if value != self.filters.category_id:
            self.filters = replace(self.filters, category_id=value)
            self.reload()

    @on(Select.Changed, "#status")
    def status_changed(self, event: Select.Changed) -> None:
        value = event.value if isinstance(event.value, str) else None
        if value != self.filters.status:
            self.filters = replace(self.filters, status=value)
            self.reload()

    @on(DataTable.RowHighlighted, "#customers")
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if event.cursor_row >= table.row_count - 10:
            self.load_more()
        self.show_overview()

    @on(DataTable.RowSelected, "#customers")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    # ------------------------------------------------------------------ highlighted row
    def highlighted_id(self) -> int | None:
        table = self.query_one("#customers", DataTable)
        if not self.loaded_ids or table.cursor_row < 0 or table.cursor_row >= len(self.loaded_ids):
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(row_key.value) if row_key.value else None

    def show_overview(self) -> None:
        panel = self.query_one("#quick-overview", Static)
        if not panel.display:
            return
        customer_id = self.highlighted_id()
        if customer_id is None:
            panel.update("")
            return
        self._load_overview(customer_id)

    @work(thread=True, exclusive=True, group="overview", exit_on_error=False)
    def _load_overview(self, customer_id: int) -> None:
        now = self.fd.clock()
        info = self.fd.read(
            lambda s: lookups.quick_overview(session=s, customer_id=customer_id, now=now)
        )
        self.post_message(self.Overview(customer_id, render_overview(info, self.lookups)))

    def on_directory_screen_overview(self, message: Overview) -> None:
        if message.customer_id == self.highlighted_id():
            self.query_one("#quick-overview", Static).update(message.text)

    # ------------------------------------------------------------------ actions
    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_to_table(self) -> None:
        if self.loaded_ids:
            self.query_one("#customers", DataTable).focus()

    def action_clear(self) -> None:
        search = self.query_one("#search", Input)
        if self.selected:
            self.selected.clear()
            self.refresh_marks()
        elif search.value:
            search.value = ""
            self.run_search("")
            search.focus()

    def action_open(self) -> None:
        customer_id = self.highlighted_id()
        if customer_id is not None:
            self.fd.open_customer(customer_id)

    def action_book(self) -> None:
        self.fd.new_booking(
            self.highlighted_id() if self.focused is not self.query_one("#search") else None
        )

    def action_order(self) -> None:
        self.fd.new_order(
            self.highlighted_id() if self.focused is not self.query_one("#search") else None
        )

    def action_new(self) -> None:
        from frontdesk.screens.customer_form import CustomerFormScreen

        def added(customer_id: int | None) -> None:
            self._after_save(customer_id)
            if customer_id is not None:
                self.fd.open_customer(customer_id)

        self.app.push_screen(
            CustomerFormScreen(prefill=lookups.prefill_from_query(self.query_text)), callback=added
        )

    def action_edit(self) -> None:
        from frontdesk.screens.customer_form import CustomerFormScreen

        customer_id = self.highlighted_id()
        if customer_id is not None:
            self.app.push_screen(
                CustomerFormScreen(customer_id=customer_id), callback=self._after_save
            )

    def refresh_lookups(self) -> None:
        self.lookups = self.fd.read(lambda s: lookups.load_lookups(session=s))
        category = self.query_one("#category", Select)
        category.set_options(
            [(f"{c.symbol} {c.name}", c.id) for c in self.lookups.categories.values() if c.id]
        )
        self.reload()

    def _after_save(self, customer_id: int | None) -> None:
        if customer_id is not None:
            self.notify("Customer saved")
            self.lookups = self.fd.read(lambda s: lookups.load_lookups(session=s))
            self.reload()

    def action_filters(self) -> None:
        from frontdesk.screens.filters import FilterModal, FilterResult

        def applied(result: FilterResult | None) -> None:
            if result is None:
                return
            self.filters = replace(
                result.basic, category_id=self.filters.category_id, status=self.filters.status
            )
            self.advanced = result.advanced
            self.reload()

        self.app.push_screen(
            FilterModal(self.filters, self.advanced, self.lookups), callback=applied
        )

    def action_toggle_select(self) -> None:
        customer_id = self.highlighted_id()
        if customer_id is None:
            return
        if customer_id in self.selected:
            self.selected.discard(customer_id)
        else:
            self.selected.add(customer_id)
        self.refresh_marks([customer_id])
        table = self.query_one("#customers", DataTable)
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1)

    def action_select_all(self) -> None:
        self._select_all(self.query_text, self.effective_filters())

    @work(thread=True, exclusive=True, group="select-all", exit_on_error=False)
    def _select_all(self, text: str, filters: svc.DirectoryFilter) -> None:
        ids = self.fd.read(lambda s: lookups.matching_ids(session=s, text=text, filters=filters))
        self.app.call_from_thread(self._selected_all, ids)

    def _selected_all(self, ids: list[int]) -> None:
        self.selected = set(ids)
        self.refresh_marks()
        self.notify(f"{len(ids):,} customers selected")

    def refresh_marks(self, ids: list[int] | None = None) -> None:
        table = self.query_one("#customers", DataTable)
        for customer_id in ids if ids is not None else self.loaded_ids:
            mark = Text("●", style="bold") if customer_id in self.selected else Text(" ")
            try:
                table.update_cell(str(customer_id), "mark", mark)
            except Exception:
                continue
        self.update_status()

    def action_bulk(self) -> None:
        from frontdesk.screens.bulk import BulkActionModal, BulkRequest

        targets = sorted(self.selected)
        if not targets:
            customer_id = self.highlighted_id()
            if customer_id is None:
                self.notify("Select customers with space first (ctrl+a selects all matching)")
                return
            targets = [customer_id]

        def chosen(request: BulkRequest | None) -> None:
            if request is not None:
                self._run_bulk(request, targets)

        self.app.push_screen(BulkActionModal(len(targets), self.lookups), callback=chosen)

    @work(thread=True, exclusive=True, group="bulk", exit_on_error=False)
    def _run_bulk(self, request: Any, targets: list[int]) -> None:
        outcome = lookups.apply_bulk(
            engine=self.fd.engine, request=request, customer_ids=targets, actor=self.fd.operator
        )
        self.app.call_from_thread(self._bulk_done, request, outcome)

    def _bulk_done(self, request: Any, outcome: lookups.BulkOutcome) -> None:
        if request.action == "delete":
            self.undo_ids = outcome.changed_ids
            self.selected.difference_update(outcome.changed_ids)
            self.notify(
                f"Deleted {len(outcome.changed_ids):,} customers — press u to undo", timeout=8
            )
        else:
            self.notify(outcome.summary)
        for problem in outcome.problems[:3]:
            self.notify(problem, severity="warning")
        self.lookups = self.fd.read(lambda s: lookups.load_lookups(session=s))
        self.reload()

    def action_undo(self) -> None:
        if not self.undo_ids:
            self.notify("Nothing to undo")
            return
        from frontdesk.screens.bulk import BulkRequest

        ids, self.undo_ids = self.undo_ids, []
        self._run_bulk(BulkRequest(action="restore"), ids)

    def action_merge(self) -> None:
        from frontdesk.screens.merge import MergeScreen

        chosen = sorted(self.selected)
        if len(chosen) < 2:
            self.notify("Select two customers (space) to merge them", severity="warning")
            return
        if len(chosen) > 2 and (self.fd.operator is None or self.fd.operator.role != "admin"):
            self.notify("Only admins merge more than two at once", severity="error")
            return

        def merged(survivor: int | None) -> None:
            if survivor is not None:
                self.selected.clear()
                self.reload()

        self.app.push_screen(MergeScreen(chosen), merged)

    def action_export(self) -> None:
        from frontdesk.screens.common import PromptModal

        what = (
            f"the {len(self.selected):,} selected"
            if self.selected
            else "the customers in this list"
        )

        def to_file(path_text: str | None) -> None:
            if path_text:
                self._export(Path(path_text).expanduser())

        self.app.push_screen(
            PromptModal(f"Export {what} to (.csv or .xlsx)", placeholder="~/customers.csv"), to_file
        )

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _export(self, path: Path) -> None:
        from frontdesk.data.exporting import export_customers

        ids = sorted(self.selected) or None
        try:
            count = self.fd.read(
                lambda s: export_customers(
                    session=s,
                    path=path,
                    filters=self.effective_filters(),
                    text=self.query_text,
                    ids=ids,
                )
            )
        except OSError as exc:
            self.app.call_from_thread(self.notify, f"Cannot write {path}: {exc}", severity="error")
            return
        self.app.call_from_thread(self.notify, f"Exported {count:,} customers to {path}")

    def action_clear_last_filter(self) -> None:
        chips = self.active_chips()
        if chips:
            self.clear_chip(chips[-1][1])

    def action_clear_filters(self) -> None:
        self.filters = svc.DirectoryFilter()
        self.advanced = lookups.AdvancedFilter()
        self.query_one("#category", Select).clear()
        self.query_one("#status", Select).clear()
        self.reload()

    def action_toggle_overview(self) -> None:
        panel = self.query_one("#quick-overview", Static)
        panel.display = not panel.display
        self.show_overview()


def partial_search(screen: DirectoryScreen, text: str) -> Any:
    return lambda: screen.run_search(text)


def render_overview(info: lookups.QuickOverview | None, lk: lookups.Lookups) -> Text:
    from frontdesk.data.validation import format_phone

    if info is None:
        return Text("")
    c = info.customer
    text = Text()
    text.append(f"{c.label}\n", style="bold")
    text.append(f"{c.code}", style="dim")
    category = lk.categories.get(c.category_id or 0)
    if category:
        text.append(f"  {category.symbol} {category.name}", style=category.colour)
    text.append("\n")
    if c.blocked:
        text.append(f"BLOCKED: {c.blocked_reason}\n", style="bold white on red")
    if c.status != "active":
        text.append(f"{c.status}\n", style="yellow")
    text.append("\n")
    if c.phone:
        text.append(f"☎ {format_phone(c.phone)}\n")
    if c.email:
        text.append(f"✉ {c.email}\n")
    for alert in info.alerts:
        text.append(f"\n⚠ {alert}\n", style="bold red")
    text.append("\n")
    text.append(f"Points: {info.points:,}\n")
    text.append(f"Last visit: {day(info.last_visit)}\n")
    text.append(f"Next visit: {day(info.next_visit)}\n")
    return text

"""The customer directory: the home screen a receptionist lives in.

Each load is one use-case service (``load_directory_page``: the rows of a search or a page,
the exact count, last visits and alerts) run off the UI thread. The table holds a window of
the result that grows as you scroll either way; ``home`` / ``end`` read the first / last page
of the whole result by keyset. Every value a customer typed is shown literally.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache, partial
from pathlib import Path
from time import monotonic
from typing import Any, ClassVar, Self

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.geometry import Size
from textual.reactive import Reactive
from textual.timer import Timer
from textual.widgets import DataTable, Header, Input, Label, Static
from textual.widgets.data_table import ColumnKey
from textual.widgets.data_table import RowKey as DTRowKey

from frontdesk.data import customers as svc
from frontdesk.data import directory as lookups
from frontdesk.data.directory import DirectoryPage, RowKey, count_directory, load_directory_page
from frontdesk.data.errors import FrontdeskError
from frontdesk.data.models import Customer
from frontdesk.data.outcomes import counted
from frontdesk.data.validation import format_phone
from frontdesk.screens.common import category_text
from frontdesk.screens.fmt import day
from frontdesk.text import fit, note_summary, safe_style, user_text
from frontdesk.widgets.base import FrontdeskScreen
from frontdesk.widgets.footer import KeyFooter
from frontdesk.widgets.inputs import SteadyInput
from frontdesk.widgets.select import Select

PAGE = 100
SEARCH_PAGE = 50
MAX_ROWS = 1000  # rows kept in the table while scrolling back up
DEBOUNCE = 0.03
# While typing a search, a count that took longer than COUNT_SLOW waits until the typing
# pauses for COUNT_DELAY (over a million customers a count can take half a second).
COUNT_DELAY = 0.4
COUNT_SLOW = 0.05
COUNT_FROM = 3  # while typing, a shorter text is counted once the typing pauses
# After a change on another desk the count is re-read once things are quiet for this long.
LIVE_COUNT_DELAY = 2.0
GENDER = {"female": "F", "male": "M", "other": "O", "unspecified": "–"}
OVERVIEW_WIDTH = 36  # #quick-overview in app.tcss
OVERVIEW_FROM = 150  # terminal width from which the overview shows by default

# (key, label, content width); None: the width follows the terminal (see column_widths).
COLUMNS: list[tuple[str, str, int | None]] = [
    ("mark", " ", 1),
    ("code", "Code", 8),
    ("name", "Name", None),
    ("email", "Email", None),
    ("mobile", "Mobile", 17),  # "+33 6 01 37 37 37"
    ("gender", "G", 1),
    ("cat", "Cat", 3),
    ("status", "Status", 8),
    ("blocked", "Blk", 3),
    ("branch", "Branch", None),
    ("last", "Last visit", 10),
]
# Flexible columns: (minimum, maximum, share of the room left), in the order leftovers go.
FLEX = {"email": (16, 40, 5), "name": (14, 32, 4), "branch": (8, 20, 1)}
GAP = 1  # blank cells after each column (the table itself adds no padding)
SCROLLBAR = 2


def column_widths(table_width: int, code_width: int = 8) -> dict[str, int]:
    """Content width of every column for a table this wide: the room left by the fixed
    columns goes to email, name and branch (a value longer than its column ends in "…")."""
    widths = {key: width for key, _label, width in COLUMNS if width is not None}
    widths["code"] = max(widths["code"], code_width)
    room = table_width - sum(widths.values()) - GAP * len(COLUMNS) - SCROLLBAR
    flexible = {key: low for key, (low, _high, _share) in FLEX.items()}
    room -= sum(flexible.values())
    while room > 0:
        growing = [k for k, (_low, high, _s) in FLEX.items() if flexible[k] < high]
        if not growing:
            break
        shares = sum(FLEX[k][2] for k in growing)
        given = 0
        for key in growing:
            high, share = FLEX[key][1], FLEX[key][2]
            step = min(high - flexible[key], room * share // shares)
            flexible[key] += step
            given += step
        if given == 0:  # less room than shares: one column at a time, in order
            flexible[growing[0]] += 1
            given = 1
        room -= given
    return widths | flexible


@lru_cache(maxsize=8192)
def shown_phone(e164: str | None) -> str:
    """A stored phone as shown (parsing is the dearest part of a row: remembered)."""
    return format_phone(e164)


@lru_cache(maxsize=256)
def colour_style(colour: str | None) -> Style:
    return safe_style(colour)


class SearchInput(SteadyInput):
    """The search box: down arrow moves to the results; ``/`` selects what was typed."""

    BINDINGS = [
        Binding("down", "results", "Results", show=False),
        Binding("enter", "leave", "Results", show=False),
        Binding("slash", "select_all", "Select the search text", show=False, priority=True),
    ]

    def action_results(self) -> None:
        screen = self.screen
        if isinstance(screen, DirectoryScreen):
            screen.leave_search(leave_box=False)

    def action_leave(self) -> None:
        # At once, not by a Submitted message: the next key typed must find focus moved.
        screen = self.screen
        if isinstance(screen, DirectoryScreen):
            screen.leave_search(leave_box=True)


_JOIN = Text("\n")


class CustomerTable(DataTable[Text]):
    """The results: ``home`` / ``end`` go to the first / last customer of the whole result."""

    BINDINGS = [
        Binding("home", "screen.first_customer", "First customer", show=False),
        Binding("end", "screen.last_customer", "Last customer", show=False),
    ]

    # The table's box is fixed by its CSS (1fr both ways), not by its rows: a new number of
    # rows (50 found, then 5, then 100 when the box is cleared) needs the scrollbar updated,
    # not the whole screen laid out again (issue 12: the slowest keystrokes were these).
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=True)

    def watch_virtual_size(self, size: Size) -> None:
        if self.is_mounted and self.container_size:
            # Scrollbar lengths; one that comes or goes (display) lays the screen out itself.
            self._scroll_update(size)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (row, column) -> the cell drawn and its segments (see _render_cell)
        self._segments: dict[tuple[DTRowKey, ColumnKey], tuple[Text, list[Segment]]] = {}

    def clear(self, columns: bool = False) -> Self:
        self._segments.clear()
        return super().clear(columns)

    def _update_dimensions(self, new_rows: Iterable[DTRowKey]) -> None:
        """Columns of a fixed width need no cell measured: DataTable measures every cell of
        every new row (a syscall for the terminal size each), only to size columns whose
        width is automatic."""
        rows = list(new_rows)
        if not any(c.auto_width for c in self.columns.values()) and not any(
            (row := self.rows.get(key)) is not None and (row.label is not None or row.auto_height)
            for key in rows
        ):
            rows = []  # only the scrollable size is recomputed
        super()._update_dimensions(rows)

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """A one-line text cell drawn straight from its segments (issue 12).

        DataTable draws a cell through Rich's padding, styling and line splitting, which was
        most of a keystroke's time: every change to the table redraws every visible cell. A
        cell of this table is a one-line ``Text`` already cut to its column, so the same
        segments (tested against DataTable's own drawing) come from the text itself; anything
        else is drawn by DataTable."""
        if row_index < self.fixed_rows or column_index < max(self.fixed_columns, 0):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        cache_key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cached = self._cell_render_cache.get(cache_key)
        if cached is not None:
            return cached
        cells = self._get_row_renderables(row_index).cells
        cell = cells[column_index] if column_index < len(cells) else None
        row = self.rows.get(row_key)
        if (
            not isinstance(cell, Text)
            or row is None
            or row.height != 1
            or self.cell_padding
            or "\n" in cell.plain
            or "\t" in cell.plain
            or cell.cell_len > width
        ):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        console = self.app.console
        pre = console.get_style(
            base_style
            + Style.from_meta({"row": row_index, "column": column_index})
            + component_style
        )
        # (joined as Rich does: the text's own style becomes a span, so it is drawn). A cell's
        # segments do not change with the cursor, the hover or a repaint: kept while the cell is.
        kept = self._segments.get((row_key, column_key))
        if kept is None or kept[0] is not cell:
            kept = (cell, list(_JOIN.join([cell]).render(console, end="")))
            self._segments[row_key, column_key] = kept
        line = list(kept[1])
        room = width - cell.cell_len
        if room > 0:
            line.append(Segment(" " * room, Style.null()))
        lines = [list(Segment.apply_style(line, pre, console.get_style(post_style)))]
        self._cell_render_cache[cache_key] = lines
        return lines


@dataclass(frozen=True)
class _Load:
    generation: int
    mode: str  # start | refresh | after | before | end
    keep: int | None = None  # customer to keep highlighted (refresh)
    count_after: float | None = None  # count the result this long after showing the rows


class DirectoryScreen(FrontdeskScreen[None]):
    """Search, filter, page and act on customers."""

    AUTO_FOCUS = "#customers"
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
        Binding("U", "deleted", "Deleted customers", show=False, tooltip="Find and restore"),
        Binding("m", "merge", "Merge selected"),
        Binding("E", "export", "Export", show=False),
        Binding("N", "newsletter", "Newsletter", show=False),
        Binding("v", "toggle_overview", "Overview"),
        Binding("x", "clear_last_filter", "Clear filter"),
        Binding("X", "clear_filters", "Clear all filters", show=False),
        Binding("escape", "clear", "Clear", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self.filters = svc.DirectoryFilter()
        self.advanced = lookups.AdvancedFilter()
        self.generation = 0
        self.fetching = False
        self.rows: list[Customer] = []
        self.keys: list[RowKey] = []
        # Row index of every customer shown: a page deep in the list checks its rows in
        # constant time (issue 12).
        self.loaded_ids: dict[int, int] = {}
        self.more_before = False
        self.more_after = False
        self.selected: set[int] = set()
        self.undo_ids: list[int] = []
        self.first_page_shown = False  # (the app's start-up work waits for it)
        self._debounce: Timer | None = None
        self.lookups = lookups.Lookups()
        self.count: int | None = None
        self.last_visits: dict[int, datetime] = {}
        self.alert_ids: set[int] = set()
        self.merged_notes: dict[int, str] = {}
        self.widths: dict[str, int] = {}
        self._focus_pending: bool | None = None  # focus the results once they are read
        self.counting = False  # the count shown is not (yet) the current result's
        self.count_generation = 0
        self.count_cost = 0.0  # seconds the last count took
        self._count_timer: Timer | None = None
        self._early_count: int | None = None  # the generation of the count started on mount
        self._early_result: tuple[int, float] | None = None
        self._overview_reading = False  # a quick overview is being read
        self._overview_again = False  # the highlight moved meanwhile: read again after

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
                yield CustomerTable(
                    id="customers", cursor_type="row", zebra_stripes=True, cell_padding=0
                )
                yield Static("", id="empty")
            yield Static("", id="quick-overview")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#empty", Static).display = False
        self.query_one("#quick-overview", Static).display = self.app.size.width >= OVERVIEW_FROM
        self.set_columns()
        # Keys typed before the first page is shown wait for it (``b`` books the first row).
        self.hold_keys()
        self.refresh_lookups()
        # The count of every customer runs meanwhile, beside the lookups and the first page
        # (serially they added up); it is shown with the first page (see ``_count``).
        self._early_count = self._new_count()
        self.run_read(
            self._count_work("", self.effective_filters()),
            partial(self._early_counted, self._early_count),
            group="directory-count",
        )

    def on_resize(self, event: Resize) -> None:
        self.set_columns()

    def table_width(self) -> int:
        overview = self.query_one("#quick-overview", Static).display
        return self.app.size.width - (OVERVIEW_WIDTH if overview else 0)

    def set_columns(self, *, refill: bool = True, code_width: int | None = None) -> bool:
        """Size the columns to the terminal and the codes shown (``code_width``: the longest
        code, when the caller knows it); True when they changed (the table is then rebuilt,
        and refilled unless the caller fills it)."""
        if code_width is None:
            code_width = max((len(c.code) for c in self.rows), default=8)
        widths = column_widths(self.table_width(), code_width)
        if widths == self.widths:
            return False
        self.widths = widths
        table = self.query_one("#customers", CustomerTable)
        row = table.cursor_row
        table.clear(columns=True)
        for key, label, _width in COLUMNS:
            table.add_column(label, key=key, width=widths[key] + GAP)
        if refill and self.rows:
            self.fill_table(row)
        return True

    # ------------------------------------------------------------------ loading
    def refresh_lookups(self) -> None:
        """Reload the small reference tables (after settings changed), then the list."""
        self.run_read(
            lambda s: lookups.load_lookups(session=s),
            self._lookups_loaded,
            group="lookups",
            on_error=self._load_failed,
        )

    def _lookups_loaded(self, loaded: lookups.Lookups) -> None:
        self.lookups = loaded
        category = self.query_one("#category", Select)
        category.set_options(
            [
                (category_text(c.symbol, c.name, c.colour), c.id)
                for c in loaded.categories.values()
                if c.id
            ]
        )
        if self.filters.category_id in loaded.categories:
            category.value = self.filters.category_id
        if self.rows:
            self.refresh_list()
        else:
            self.reload()

    def effective_filters(self) -> svc.DirectoryFilter:
        return self.advanced.applied(self.filters, self.fd.clock())

    def reload(self, *, hold: bool = True) -> None:
        """New filters or a new search: the first page, then the count.

        Keys typed meanwhile wait for the new rows (``hold``), except while typing a search
        (then the count also waits until the typing pauses).
        """
        # A text of one or two letters matches a large part of the customers: its count would
        # run while the next letters are typed (issue 12: the third key was the slowest).
        short = len(self.query_text.strip()) < COUNT_FROM
        typing = not hold and (short or self.count_cost > COUNT_SLOW)
        self._load("start", count_after=COUNT_DELAY if typing else 0.0, hold=hold)

    def refresh_list(self) -> None:
        """After a change (save, bulk action, merge): re-read the rows shown, keep the place."""
        self._load("refresh", count_after=0.0, keep=self.highlighted_id(), hold=True)

    def refresh_data(self) -> None:
        """Another desk changed something: re-read the rows shown, keep the place, never make
        keys wait (the count follows a moment later)."""
        if self.fetching or not self.is_mounted:
            return
        self._load("refresh", count_after=LIVE_COUNT_DELAY, keep=self.highlighted_id())

    def load_more(self) -> None:
        if not self.fetching and self.more_after and self.keys:
            self._load("after")

    def load_before(self) -> None:
        if not self.fetching and self.more_before and self.keys:
            self._load("before")

    def _load(
        self,
        mode: str,
        *,
        count_after: float | None = None,
        keep: int | None = None,
        hold: bool = False,
    ) -> None:
        """Read a page (one service call off the UI thread); the rows never wait for the
        count, which can take a few hundred milliseconds over a million customers."""
        if mode in ("start", "refresh", "end"):
            self.generation += 1  # supersedes every load in flight
        if hold:
            self.hold_keys()  # released when the rows are shown (or the load failed)
        if count_after is not None:
            self.counting = True
        load = _Load(self.generation, mode, keep, count_after)
        text, filters = self.query_text, self.effective_filters()
        after = self.keys[-1] if mode == "after" else None
        before = self.keys[0] if mode == "before" else None
        start_at = self.keys[0] if mode == "refresh" and self.keys else None
        around = keep if mode == "refresh" else None
        if mode == "refresh":
            limit = max(PAGE, min(len(self.rows), MAX_ROWS))
        elif mode == "start" and text.strip():
            limit = SEARCH_PAGE  # as you type: fewer rows, faster repaint (more on scroll)
        else:
            limit = PAGE
        self.fetching = True
        actor = self.fd.operator
        self.run_read(
            lambda s: load_directory_page(
                session=s,
                actor=actor,
                text=text,
                filters=filters,
                after=after,
                before=before,
                start_at=start_at,
                around=around,
                from_end=mode == "end",
                limit=limit,
                with_count=False,
            ),
            partial(self._show_page, load),
            group="directory" if mode in ("start", "refresh", "end") else "directory-more",
            on_error=self._load_failed,
        )

    def _new_count(self) -> int:
        """A new count supersedes the one waiting or running."""
        if self._count_timer is not None:
            self._count_timer.stop()
        self.count_generation += 1
        return self.count_generation

    def _count_work(
        self, text: str, filters: svc.DirectoryFilter
    ) -> Callable[[Session], tuple[int, float]]:
        actor = self.fd.operator

        def count(session: Session) -> tuple[int, float]:
            started = monotonic()
            found = count_directory(session=session, text=text, filters=filters, actor=actor)
            return found, monotonic() - started

        return count

    def _count(self, delay: float) -> None:
        """Count the result exactly (after ``delay``: typing on makes this count moot)."""
        early, self._early_count = self._early_count, None
        if (
            early is not None
            and early == self.count_generation
            and delay <= 0  # (a later count: another desk may have changed something)
            and not self.query_text.strip()
            and self.effective_filters().is_empty
        ):
            # The list of every customer, counted since the screen opened: shown now, or as
            # soon as that count is done.
            if self._early_result is not None:
                self._counted(early, self._early_result)
            return
        generation = self._new_count()
        work = self._count_work(self.query_text, self.effective_filters())

        def start() -> None:
            self.run_read(work, partial(self._counted, generation), group="directory-count")

        if delay > 0:
            self._count_timer = self.set_timer(delay, start)
        else:
            start()

    def _early_counted(self, generation: int, counted: tuple[int, float]) -> None:
        """The count started on mount: kept until the first page is shown (a count shown
        before the rows would say "N customers" above an empty table)."""
        if self._early_count == generation:
            self._early_result = counted
        else:
            self._counted(generation, counted)

    def _counted(self, generation: int, counted: tuple[int, float]) -> None:
        if counted[1]:
            self.count_cost = counted[1]
        if generation == self.count_generation:
            self.count = counted[0]
            self.counting = False
            self.update_status()

    def _load_failed(self, error: Exception) -> None:
        """The app shows what went wrong; the screen stays usable (keys flow, loads retry)."""
        self.fetching = False
        self._focus_pending = None
        self.release_keys()
        if isinstance(error, FrontdeskError):
            self.notify(str(error), severity="error", markup=False)

    def _show_page(self, load: _Load, page: DirectoryPage) -> None:
        if load.generation != self.generation:
            return  # a newer search, filter or jump superseded this one
        self.fetching = False
        self.first_page_shown = True
        if load.count_after is not None:
            if page.more_before or page.more_after or load.mode not in ("start", "refresh"):
                self._count(load.count_after)
            else:
                self._counted(self._new_count(), (len(page.rows), 0.0))  # all of it is here
        self.last_visits.update(page.last_visits)
        self.alert_ids |= page.alerts
        if load.mode not in ("after", "before"):
            # "C-000123 was merged into C-000045": why a merged-away code/phone/email lists them.
            self.merged_notes = dict(page.notes)
        table = self.query_one("#customers", CustomerTable)
        if load.mode == "after":
            table_rows = len(self.rows)
            for customer, key in zip(page.rows, page.keys, strict=True):
                if customer.id is None or customer.id in self.loaded_ids:
                    continue
                self.loaded_ids[customer.id] = len(self.rows)
                self.rows.append(customer)
                self.keys.append(key)
            self.more_after = page.more_after
            longest = max((len(c.code) for c in page.rows), default=0)
            # (a longer code: the table is rebuilt instead)
            if not self.set_columns(code_width=max(longest, self.widths.get("code", 8))):
                for customer in self.rows[table_rows:]:
                    table.add_row(*self.cells(customer), key=str(customer.id))
        elif load.mode == "before":
            fresh = [
                (c, k)
                for c, k in zip(page.rows, page.keys, strict=True)
                if c.id not in self.loaded_ids
            ]
            row = table.cursor_row + len(fresh)
            self.rows = [c for c, _k in fresh] + self.rows
            self.keys = [k for _c, k in fresh] + self.keys
            self.more_before = page.more_before
            if len(self.rows) > MAX_ROWS:
                del self.rows[MAX_ROWS:], self.keys[MAX_ROWS:]
                self.more_after = True
            self.loaded_ids = {c.id or 0: i for i, c in enumerate(self.rows)}
            self.fill_table(row)
        else:
            same = [(c.id, c.version) for c in page.rows] == [(c.id, c.version) for c in self.rows]
            self.more_before, self.more_after = page.more_before, page.more_after
            if same and self.rows and load.mode == "start":
                # Typing one more letter often gives the same rows: keep the table as it is.
                self.keys = list(page.keys)
                self.update_status()
                self._loaded()
                return
            previous = table.cursor_row
            self.rows, self.keys = list(page.rows), list(page.keys)
            self.loaded_ids = {c.id or 0: i for i, c in enumerate(self.rows)}
            if load.mode == "end":
                row = len(self.rows) - 1
            elif load.mode == "refresh":
                row = (
                    self.loaded_ids[load.keep]
                    if load.keep in self.loaded_ids
                    else min(previous, len(self.rows) - 1)
                )
            else:
                row = 0
            self.fill_table(max(row, 0))
        self.update_status()
        self._loaded()

    def _loaded(self) -> None:
        """A load finished: focus the results if the user asked for them meanwhile, and let
        the keys typed meanwhile through."""
        if self._focus_pending is not None and not self.fetching:
            self.focus_results(leave_box=self._focus_pending)
            self._focus_pending = None
        self.release_keys()

    def fill_table(self, cursor_row: int) -> None:
        table = self.query_one("#customers", CustomerTable)
        self.set_columns(refill=False)
        with self.app.batch_update():
            table.clear()
            for customer in self.rows:
                table.add_row(*self.cells(customer), key=str(customer.id))
            if self.rows:
                table.move_cursor(row=min(cursor_row, len(self.rows) - 1), animate=False)
        self.show_overview()

    def cells(self, c: Customer) -> list[Text]:
        category = self.lookups.categories.get(c.category_id or 0)
        branch = self.lookups.branches.get(c.home_branch_id or 0)
        name = user_text(c.label)
        if c.id in self.alert_ids:
            name = fit(name, self.widths["name"] - 2)
            name.append(" ⚠", style="bold red")
        last = self.last_visits.get(c.id or 0)
        values = [
            Text("●", style="bold") if c.id in self.selected else Text(" "),
            user_text(c.code),
            name,
            user_text(c.email),
            user_text(shown_phone(c.phone)),
            Text(GENDER.get(c.gender, "–")),
            user_text(category.symbol, colour_style(category.colour)) if category else Text(""),
            user_text(c.status),
            Text("✖", style="bold red") if c.blocked else Text(""),
            user_text(branch.name if branch else ""),
            Text(day(last) if last else ""),
        ]
        return [
            fit(value, self.widths[key])
            for value, (key, _l, _w) in zip(values, COLUMNS, strict=True)
        ]

    def update_status(self) -> None:
        count = self.count or 0
        browsing = not self.query_text.strip() and self.effective_filters().is_empty
        noun = (
            ("customer" if count == 1 else "customers")
            if browsing
            else ("match" if count == 1 else "matches")
        )
        label = Text("counting…" if self.count is None else f"{count:,} {noun}")
        if self.counting:
            label.stylize("dim")  # the count of the previous search, until the new one
        if self.selected:
            label.append(f" · {len(self.selected):,} selected")
        # Fixed-size labels: no layout pass needed (a layout costs more than the query).
        self.query_one("#count", Label).update(label, layout=False)
        self.query_one("#chips", Label).update(self.chips_text(), layout=False)
        empty = self.query_one("#empty", Static)
        table = self.query_one("#customers", CustomerTable)
        if not self.loaded_ids:
            if self.query_text.strip():
                message = Text("No customers match '")
                message.append_text(user_text(self.query_text.strip()))
                message.append("' — press n to add one.")
            elif not self.effective_filters().is_empty:
                message = Text(
                    "No customers match these filters — press f to change them, or x to clear them."
                )
            else:
                message = Text(
                    "No customers yet — press n to add one, or run `frontdesk demo` for demo data."
                )
            empty.update(message, layout=False)  # its box is fixed (1fr): a repaint
            if not empty.display:
                if self.focused is table:
                    self.set_focus(None)  # letters stay actions: "press n to add one"
                empty.display = True
                table.display = False
        elif not table.display:
            empty.display = False
            table.display = True
            if self.focused is None:
                self.set_focus(table)

    def chips_text(self) -> Text:
        chips = self.active_chips()
        text = Text()
        for label, _key in chips:
            text.append_text(user_text(f" {label} ", "reverse"))
            text.append(" ")
        if chips:
            text.append("x clears the last", style="dim")
        for note in dict.fromkeys(self.merged_notes.values()):
            text.append("  ↪ ", style="yellow")
            text.append_text(user_text(note, "yellow"))
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
        """A key typed with no search being read searches at once; while one is read, the
        search waits for a pause in the typing (``DEBOUNCE``): the latest text wins."""
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        if not self.fetching:
            self.run_search(event.value)
        else:
            self._debounce = self.set_timer(DEBOUNCE, partial(self.run_search, event.value))

    def run_search(self, text: str) -> None:
        if text == self.query_text:
            return
        self.query_text = text
        self.reload(hold=False)  # typing never waits for the results

    def leave_search(self, *, leave_box: bool) -> None:
        """``down`` / ``enter`` in the search box: on to the results of what was typed.

        When they are still being read, the keys typed next wait for them (``down down
        enter`` opens the third match, ``enter n`` adds a customer when nothing matched).
        """
        if self._debounce is not None:
            self._debounce.stop()
        value = self.query_one("#search", Input).value
        if value != self.query_text:
            self.query_text = value
            self.reload()
        if self.fetching:
            self._focus_pending = leave_box
            self.hold_keys()
        else:
            self.focus_results(leave_box=leave_box)

    def focus_results(self, *, leave_box: bool) -> None:
        if self.loaded_ids:
            self.set_focus(self.query_one("#customers", CustomerTable))
        elif leave_box:
            self.set_focus(None)  # nothing matched: letters are actions ("n" adds them)

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
        # Where the cursor is now (the event may be older than the last refill).
        row, count = event.data_table.cursor_row, event.data_table.row_count
        if row >= count - 10:
            self.load_more()
            if row == count - 1 and self.fetching:
                self.hold_keys()  # at the last row shown: the next "down" needs the next page
        elif row < 10:
            self.load_before()
            if row == 0 and self.fetching:
                self.hold_keys()
        self.show_overview()

    @on(DataTable.RowSelected, "#customers")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    # ------------------------------------------------------------------ highlighted row
    def highlighted_id(self) -> int | None:
        table = self.query_one("#customers", CustomerTable)
        if not self.loaded_ids or not 0 <= table.cursor_row < table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(row_key.value) if row_key.value else None

    def show_overview(self) -> None:
        panel = self.query_one("#quick-overview", Static)
        if not panel.display:
            return
        customer_id = self.highlighted_id()
        if customer_id is None:
            panel.update("", layout=False)
            return
        if self._overview_reading:
            # One read at a time (issue 12): holding an arrow key down moves the highlight
            # faster than a customer's figures are read; the last row highlighted is read
            # when the read in flight is done.
            self._overview_again = True
            return
        self._overview_reading = True
        now, actor = self.fd.clock(), self.fd.operator
        self.run_read(
            lambda s: lookups.quick_overview(
                session=s, customer_id=customer_id, now=now, actor=actor
            ),
            partial(self._overview_loaded, customer_id),
            group="overview",
            exclusive=False,
            on_error=self._overview_failed,
        )

    def _overview_loaded(self, customer_id: int, info: lookups.QuickOverview | None) -> None:
        self._overview_reading = False
        if customer_id == self.highlighted_id():
            # The panel's box is fixed (width 36, the height left): only it is repainted.
            panel = self.query_one("#quick-overview", Static)
            panel.update(render_overview(info, self.lookups), layout=False)
        if self._overview_again:
            self._overview_again = False
            if customer_id != self.highlighted_id():
                self.show_overview()

    def _overview_failed(self, error: Exception) -> None:
        self._overview_reading = self._overview_again = False

    # ------------------------------------------------------------------ actions
    def action_focus_search(self) -> None:
        self.set_focus(self.query_one("#search", Input))

    def action_to_table(self) -> None:
        self.leave_search(leave_box=False)

    def action_first_customer(self) -> None:
        """``home``: the first customer of the whole result."""
        table = self.query_one("#customers", CustomerTable)
        if self.more_before:
            self._load("start", hold=True)
        elif self.rows:
            table.move_cursor(row=0, animate=False)

    def action_last_customer(self) -> None:
        """``end``: the last customer of the whole result."""
        table = self.query_one("#customers", CustomerTable)
        if self.more_after:
            self._load("end", hold=True)
        elif self.rows:
            table.move_cursor(row=len(self.rows) - 1, animate=False)

    def action_clear(self) -> None:
        search = self.query_one("#search", Input)
        if self.selected:
            self.selected.clear()
            self.refresh_marks()
        elif search.value:
            # Back to how the directory opens: the whole list, focused, so the next letters
            # are actions again (they went into the search box: "b" typed a "b").
            search.value = ""
            self.leave_search(leave_box=True)

    def action_open(self) -> None:
        customer_id = self.highlighted_id()
        if customer_id is not None:
            self.fd.open_customer(customer_id)

    def action_book(self) -> None:
        self.fd.new_booking(
            self.highlighted_id() if self.focused is not self.query_one("#search") else None
        )

    # action -> the permission it needs (data/roles.py): the footer and the keys panel hide
    # what the operator's role may not do; pressed anyway, the app says why (app.on_key).
    NEEDS: ClassVar[dict[str, str]] = {
        "new": "customers.write",
        "edit": "customers.write",
        "book": "book",
        "order": "order",
        "bulk": "customers.write",
        "undo": "customers.delete",
        "deleted": "customers.delete",
        "merge": "merge",
        "export": "export",
        "newsletter": "newsletter.send",
    }

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("toggle_select", "select_all"):
            # A selection is for bulk actions, merging and exporting.
            return any(self.fd.may(p) for p in ("customers.write", "merge", "export"))
        needed = self.NEEDS.get(action)
        return needed is None or self.fd.may(needed)

    def action_order(self) -> None:
        self.fd.new_order(
            self.highlighted_id() if self.focused is not self.query_one("#search") else None
        )

    def action_new(self) -> None:
        def added(customer_id: int | None) -> None:
            self._after_save(customer_id)
            if customer_id is not None:
                self.fd.open_customer(customer_id)

        self.fd.new_customer(lookups.prefill_from_query(self.query_text), then=added)

    def action_edit(self) -> None:
        from frontdesk.screens.customer_form import CustomerFormScreen

        customer_id = self.highlighted_id()
        if customer_id is not None and not self.fd.refuse("customers.write"):
            self.app.push_screen(
                CustomerFormScreen(customer_id=customer_id), callback=self._after_save
            )

    def _after_save(self, customer_id: int | None) -> None:
        if customer_id is not None:
            self.notify("Customer saved")
            self._load("refresh", count_after=0.0, keep=customer_id, hold=True)

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
        table = self.query_one("#customers", CustomerTable)
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1)

    def action_select_all(self) -> None:
        text, filters, actor = self.query_text, self.effective_filters(), self.fd.operator
        self.run_read(
            lambda s: lookups.matching_ids(session=s, text=text, filters=filters, actor=actor),
            self._selected_all,
            group="select-all",
        )

    def _selected_all(self, ids: list[int]) -> None:
        self.selected = set(ids)
        self.refresh_marks()
        self.notify(f"{len(ids):,} customers selected")

    def refresh_marks(self, ids: list[int] | None = None) -> None:
        table = self.query_one("#customers", CustomerTable)
        shown = self.loaded_ids
        for customer_id in ids if ids is not None else list(shown):
            if customer_id not in shown:
                continue
            mark = Text("●", style="bold") if customer_id in self.selected else Text(" ")
            table.update_cell(str(customer_id), "mark", mark)
        self.update_status()

    def action_bulk(self) -> None:
        from frontdesk.screens.bulk import BulkActionModal, BulkRequest, ConsentRequest

        if self.fd.refuse("customers.write"):
            return
        targets = sorted(self.selected)
        if not targets:
            customer_id = self.highlighted_id()
            if customer_id is None:
                self.notify("Select customers with space first (ctrl+a selects all matching)")
                return
            targets = [customer_id]

        def chosen(request: BulkRequest | ConsentRequest | None) -> None:
            if isinstance(request, ConsentRequest):
                self._run_consent(request, targets)
            elif request is not None:
                self._run_bulk(request, targets)

        self.app.push_screen(BulkActionModal(len(targets), self.lookups, targets), callback=chosen)

    def _run_bulk(self, request: lookups.BulkRequest, targets: list[int]) -> None:
        engine, actor = self.fd.engine, self.fd.operator
        if request.action in ("delete", "restore"):
            # One transaction: future bookings cancelled, re-opened on undo where still free.
            from frontdesk.data import delete_flow

            now = self.fd.clock()
            run = (
                delete_flow.delete_customers
                if request.action == "delete"
                else delete_flow.restore_customers
            )

            def done(outcome: lookups.BulkOutcome) -> None:
                self.release_keys()
                self._bulk_done(request, outcome)

            def failed(error: Exception) -> None:
                self.release_keys()
                self.notify(str(error), severity="error", markup=False)

            self.hold_keys()  # u typed at once undoes this delete, not nothing
            self.run_write(
                lambda s: run(session=s, customer_ids=targets, actor=actor, bulk=True, now=now),
                done,
                group="bulk",
                on_error=failed,
            )
            return
        self.run_task(
            lambda: lookups.apply_bulk(
                engine=engine, request=request, customer_ids=targets, actor=actor
            ),
            partial(self._bulk_done, request),
            group="bulk",
        )

    def _run_consent(self, request: Any, targets: list[int]) -> None:
        """Subscribe / unsubscribe the selection (a transaction per batch, off the UI thread);
        every change recorded with this desk as its source."""
        from frontdesk.data.messaging.consent import set_consent_bulk

        engine, actor = self.fd.engine, self.fd.operator
        purpose, granted = request.purpose, request.granted

        def done(changed: int) -> None:
            what = "subscribed to" if granted else "unsubscribed from"
            self.notify(f"{changed:,} customers {what} the {purpose}", timeout=8)
            self.refresh_list()

        self.run_task(
            lambda: set_consent_bulk(
                engine=engine, customer_ids=targets, purpose=purpose, granted=granted, actor=actor
            ),
            done,
            group="bulk",
        )

    def _bulk_done(self, request: lookups.BulkRequest, outcome: lookups.BulkOutcome) -> None:
        if request.action == "delete":
            self.undo_ids = outcome.changed_ids
            self.selected.difference_update(outcome.changed_ids)
            self.notify(f"{outcome.summary} — press u to undo", timeout=10)
        else:
            self.notify(outcome.summary, timeout=10 if request.action == "restore" else 5)
        details = getattr(outcome, "details", outcome.problems)  # bookings not re-opened
        for problem in details[:5]:
            self.notify(problem, severity="warning", markup=False, timeout=20)
        if len(details) > 5:
            self.notify(f"… and {len(details) - 5:,} more", severity="warning", timeout=20)
        self.refresh_list()

    def action_undo(self) -> None:
        if not self.undo_ids:
            self.notify("Nothing to undo")
            return
        ids, self.undo_ids = self.undo_ids, []
        self._run_bulk(lookups.BulkRequest(action="restore"), ids)

    def action_deleted(self) -> None:
        """The deleted customers, to find one deleted long ago and restore them."""
        from frontdesk.screens.deleted import DeletedScreen

        if self.fd.refuse("customers.delete"):
            return

        def closed(restored: int | None) -> None:
            if restored:
                self.refresh_list()

        self.app.push_screen(DeletedScreen(), closed)

    def action_merge(self) -> None:
        from frontdesk.screens.merge import MergeScreen

        if self.fd.refuse("merge"):
            return
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
                self._load("refresh", count_after=0.0, keep=survivor, hold=True)

        self.app.push_screen(MergeScreen(chosen), merged)

    def action_export(self) -> None:
        from frontdesk.data.exporting import is_full
        from frontdesk.data.roles import EXPORT_SELECTION_LIMIT
        from frontdesk.screens.export_dialog import ExportModal

        if self.fd.refuse("export"):
            return
        ids = sorted(self.selected) or None
        if (
            is_full(self.effective_filters(), self.query_text, ids)
            or len(self.selected) > EXPORT_SELECTION_LIMIT
        ) and self.fd.refuse("export.full"):
            return
        what = (
            f"the {len(self.selected):,} selected"
            if self.selected
            else "the customers in this list"
        )

        def to_file(choice: Any) -> None:
            if choice is not None:
                self._export(choice.target, plain=choice.plain, overwrite=choice.overwrite)

        self.app.push_screen(ExportModal(what), to_file)

    def _export(self, path: Path, *, plain: bool = False, overwrite: bool = False) -> None:
        from frontdesk.data.errors import FrontdeskError
        from frontdesk.data.exporting import export_customers, record_export

        ids = sorted(self.selected) or None
        filters, text, app = self.effective_filters(), self.query_text, self.fd
        actor = app.operator

        def job() -> tuple[int, str | None]:
            try:
                count = app.read(
                    lambda s: export_customers(
                        session=s,
                        path=path,
                        filters=filters,
                        text=text,
                        ids=ids,
                        actor=actor,
                        plain=plain,
                        overwrite=overwrite,
                    )
                )
            except OSError as exc:
                return 0, f"Cannot write {path}: {exc.strerror or exc}"
            except FrontdeskError as exc:  # e.g. more than the desk may export
                return 0, f"Not exported: {exc}"
            try:  # the file is complete: into the audit log, in a write of its own
                app.write(lambda s: record_export(session=s, path=path, count=count, actor=actor))
            except FrontdeskError as exc:
                return count, (
                    f"Exported {counted(count, 'customer')} to {path}, but the audit log could "
                    f"not record it: {exc}"
                )
            return count, None

        self.run_task(job, self._exported(path), group="export")

    def _exported(self, path: Path) -> Any:
        def done(result: tuple[int, str | None]) -> None:
            count, problem = result
            if problem:
                self.notify(problem, severity="error", markup=False)
            else:
                self.notify(f"Exported {counted(count, 'customer')} to {path}", markup=False)

        return done

    def action_newsletter(self) -> None:
        """A newsletter to this list (the search and filters shown): counted, confirmed,
        queued with progress, then sent in the background (admins)."""
        from frontdesk.screens.messaging import NewsletterModal

        if self.fd.refuse("newsletter.send"):
            return
        parts = [f"search “{self.query_text.strip()}”"] if self.query_text.strip() else []
        parts += [label for label, _key in self.active_chips()]
        description = ", ".join(parts) or "everyone"

        def queued(result: Any) -> None:
            if result is None:
                return
            self.notify(
                f"Newsletter #{result.newsletter_id}: {result.queued:,} messages queued; "
                "sending in the background (see the outbox, O)",
                timeout=10,
            )
            self.fd.send_outbox_soon()

        self.app.push_screen(
            NewsletterModal(self.query_text, self.effective_filters(), description), queued
        )

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
        self.set_columns()
        self.show_overview()


def render_overview(info: lookups.QuickOverview | None, lk: lookups.Lookups) -> Text:
    """The quick overview of the highlighted customer: every stored value shown literally."""
    if info is None:
        return Text("")
    c = info.customer
    text = Text()
    text.append_text(user_text(c.label, "bold"))
    text.append("\n")
    text.append_text(user_text(c.code, "dim"))
    category = lk.categories.get(c.category_id or 0)
    if category:
        text.append("  ")
        text.append_text(category_text(category.symbol, category.name, category.colour))
    text.append("\n")
    if c.blocked:
        text.append_text(user_text(f"BLOCKED: {c.blocked_reason or ''}", "bold white on red"))
        text.append("\n")
    if c.status != "active":
        text.append_text(user_text(c.status, "yellow"))
        text.append("\n")
    text.append("\n")
    if c.phone:
        text.append_text(user_text(f"☎ {format_phone(c.phone)}"))
        text.append("\n")
    if c.email:
        text.append_text(user_text(f"✉ {c.email}"))
        text.append("\n")
    for alert in info.alerts:
        text.append("\n")
        text.append("⚠ ", style="bold red")
        text.append_text(note_summary(alert, "bold red"))
        text.append("\n")
    text.append("\n")
    text.append(f"Points: {info.points:,}\n")
    text.append(f"Last visit: {day(info.last_visit)}\n")
    text.append(f"Next visit: {day(info.next_visit)}\n")
    return text

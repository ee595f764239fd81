"""What every profile tab shares: lazy loading, writes that reload what changed, keyed rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from rich.text import Text
from sqlmodel import Session
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Input

from frontdesk.data.errors import FrontdeskError, ValidationFailed
from frontdesk.screens.common import ConfirmModal
from frontdesk.text import user_text
from frontdesk.widgets.base import DataWidget
from frontdesk.widgets.select import Select

T = TypeVar("T")
R = TypeVar("R")

STATUS_STYLE = {
    "completed": "green",
    "cancelled": "red",
    "no_show": "bold red",
    "pending": "yellow",
    "confirmed": "cyan",
    "paid": "green",
    "part_paid": "yellow",
    "open": "yellow",
    "refunded": "red",
    "part_refunded": "magenta",
}


@runtime_checkable
class ProfileHost(Protocol):
    """What a tab needs of the profile screen it sits on (the screen imports the tabs, so
    they know it by this shape, not by its class)."""

    customer_id: int

    def hold(self) -> object: ...

    def release(self, token: object) -> None: ...

    def reload_after_change(self, what: str = "all", select: int | None = None) -> None: ...


def status_text(status: str, sep: str = "-") -> Text:
    return Text(status.replace("_", sep), style=STATUS_STYLE.get(status, ""))


def cell(value: object | None) -> Text:
    """A table cell showing stored text literally."""
    return user_text(value)


def prompt_check(parse: Callable[[str], object]) -> Callable[[str], str | None]:
    """A PromptModal check from a parser that raises ValidationFailed."""

    def check(text: str) -> str | None:
        try:
            parse(text)
        except ValidationFailed as exc:
            return exc.message
        return None

    return check


class FieldBar(Horizontal):
    """A row of filter fields above a tab's table: ``escape`` (or ``enter`` in a text field)
    goes to the table.

    While a field has focus, keys type into it (digits too: the app keeps single-key screen
    actions such as the tab numbers away from text fields); ``escape`` leaves the field for
    the table, and then ``1``-``7`` switch tabs again. Both are bindings, so the focus has
    moved before the next typed key is handled.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "To the table", tooltip="Leave the field for the table"),
        Binding("enter", "submit", "To the table", show=False, priority=True),
    ]

    def __init__(self, *children: Widget, table: str, id: str | None = None) -> None:
        super().__init__(*children, id=id)
        self.table = table

    def action_leave(self) -> None:
        self.screen.set_focus(self.screen.query_one(self.table))

    def action_submit(self) -> None:
        if not isinstance(self.screen.focused, Input):
            raise SkipAction()  # enter opens a select
        self.action_leave()


class RowTable(DataTable[Any]):
    """A table of keyed rows (row key = the id of what the row shows); ``home``/``end`` go to
    the first/last row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "first_row", "First row", show=False),
        Binding("end", "last_row", "Last row", show=False),
    ]

    def __init__(self, *, id: str, zebra_stripes: bool = True) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=zebra_stripes)

    def action_first_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_last_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)


def highlighted_key(table: DataTable[Any]) -> str | None:
    """The key of the row under the cursor (row keys are the ids of what they show)."""
    if table.row_count == 0:
        return None
    row = min(max(table.cursor_row, 0), table.row_count - 1)
    key, _ = table.coordinate_to_cell_key(Coordinate(row, 0))
    return key.value


def highlighted_id(table: DataTable[Any]) -> int | None:
    key = highlighted_key(table)
    return int(key) if key is not None and key.lstrip("-").isdigit() else None


def fill_table(
    table: DataTable[Any],
    rows: Iterable[tuple[str, Sequence[object]]],
    *,
    select: str | None = None,
) -> None:
    """Replace the rows, keeping the cursor on the same row (by key) when it is still there.

    ``select`` puts the cursor on that row instead (e.g. a note just added). A row that is
    gone leaves the cursor at the same position (the next row moves up under it).
    """
    keep = select or highlighted_key(table)
    index = table.cursor_row
    rows = list(rows)
    table.clear()
    fix_column_widths(table, [cells for _, cells in rows])
    keys = []
    for key, cells in rows:
        table.add_row(*cells, key=key)
        keys.append(key)
    if not keys:
        return
    target = keys.index(keep) if keep in keys else min(max(index, 0), len(keys) - 1)
    table.move_cursor(row=target, animate=False, scroll=True)


def _cell_width(value: object) -> int:
    text = value if isinstance(value, Text) else Text(str(value))
    return max((line.cell_len for line in text.split()), default=0)


def fix_column_widths(table: DataTable[Any], rows: Sequence[Sequence[object]]) -> None:
    """Give each column the width of its label or widest cell now, as ``fill_table`` of
    screens/common.py does: a table left to measure its columns does so when it is next idle,
    and a screen drawn before that (a modal opened at once, a loaded machine) shows the
    header and the rows at other widths."""
    for i, column in enumerate(table.ordered_columns):
        width = column.label.cell_len
        for cells in rows:
            if i < len(cells):
                width = max(width, _cell_width(cells[i]))
        column.width = column.content_width = width
        column.auto_width = False


class ProfileTab(DataWidget):
    """One tab of the customer profile.

    Loads its data (one use-case service, off the UI thread) the first time it is shown,
    and again when :meth:`ProfileHost.reload_after_change` says that what it shows has
    changed. Keys typed meanwhile wait for the rows, so ``2 down x`` acts on the second
    booking even when the database is slow.
    """

    DEFAULT_CSS = """
    ProfileTab {
        width: 1fr;
        height: 1fr;
        layout: vertical;
    }
    """

    NAME: ClassVar[str] = ""  # the TabPane id and the name used by reload_after_change
    # action -> the permission it needs (data/roles.py): the footer hides the keys of what
    # the operator's role may not do, and those keys do nothing (the service refuses too)
    NEEDS: ClassVar[dict[str, str]] = {}
    # The screen it is on, given before it is mounted (the first tab loads while it mounts).
    host: ProfileHost | None = None

    def __init__(self) -> None:
        super().__init__(id=f"{self.NAME}-tab")
        self.stale = True  # load when shown next
        self.loaded = False  # shown its data at least once
        self._seq = 0
        self._select: str | None = None  # the row to highlight after the next load

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        needed = self.NEEDS.get(action)
        return needed is None or self.fd.may(needed)

    # ---------------------------------------------------------------- to implement
    def fetch(self, customer_id: int) -> Callable[[Session], Any]:
        """The read to run (one service call); filters are read here, on the UI thread."""
        raise NotImplementedError

    def show_data(self, data: Any) -> None:
        raise NotImplementedError

    def focus_target(self) -> Widget:
        """Where the focus goes when the tab is opened with its number key."""
        return self

    # ---------------------------------------------------------------- loading
    @property
    def profile(self) -> ProfileHost:
        if self.host is not None:
            return self.host
        screen = self.screen
        assert isinstance(screen, ProfileHost)
        return screen

    def shown(self) -> None:
        """The tab became the active one: load it if it has never loaded or is stale."""
        if self.stale:
            self.load()

    def load(self, select: str | None = None) -> None:
        """(Re)load; typed keys wait until the rows are shown."""
        if select is not None:
            self._select = select
        self.stale = False
        self._seq += 1
        seq = self._seq
        screen = self.profile
        token = screen.hold()

        def then(data: Any) -> None:
            if seq == self._seq:
                self.show_data(data)
                self.loaded = True
                self._select = None
            screen.release(token)

        def failed(error: Exception) -> None:
            if seq == self._seq:
                self.stale = True
                if isinstance(error, FrontdeskError):
                    self.notify(str(error), severity="error", markup=False, timeout=8)
            screen.release(token)

        self.run_read(
            self.fetch(screen.customer_id),
            then,
            group=f"profile-{self.NAME}",
            on_error=failed,
        )

    def select_next(self, key: str) -> None:
        """Highlight the row with this key after the next load."""
        self._select = key

    def take_selection(self) -> str | None:
        """The row to put the cursor on after this load (once)."""
        return self._select

    def refill_select(self, select: Select[int], options: Iterable[tuple[str, int]]) -> None:
        """Give ``select`` these (name, value) options, keeping the chosen value when it is
        still offered; no ``Select.Changed`` is sent."""
        chosen = select.value
        pairs = list(options)
        with self.prevent(Select.Changed):
            select.set_options([(Text(name), value) for name, value in pairs])
            if isinstance(chosen, int) and any(value == chosen for _, value in pairs):
                select.value = chosen

    # ---------------------------------------------------------------- asking and writing
    def ask(self, modal: Screen[R], answered: Callable[[R], None]) -> None:
        """Open ``modal``; ``answered(result)`` when it closes.

        Keys typed ahead wait on the profile from the moment the modal closes until
        ``answered`` has opened the next modal or finished the change it started, so that
        ``X reason enter down X`` never lands a key in between.
        """
        screen = self.profile
        token = screen.hold()

        def done(result: R | None) -> None:
            try:
                answered(result)  # type: ignore[arg-type]
            finally:
                screen.release(token)

        self.app.push_screen(modal, done)

    def write(
        self,
        work: Callable[[Session], T],
        *,
        changed: str,
        done: str | Callable[[T], str] | None,
        select: Callable[[T], str | None] | None = None,
        on_error: Callable[[FrontdeskError], bool] | None = None,
    ) -> None:
        """Run one use-case service; then reload what ``changed`` touches and say ``done``.

        Keys typed after the action wait until the reloaded rows are on screen. A refused
        change (a ``FrontdeskError``) is shown as an error message, unless ``on_error``
        handles it (returns True).
        """
        screen = self.profile
        token = screen.hold()

        def then(result: T) -> None:
            if select is not None:
                self._select = select(result)
            screen.reload_after_change(changed)
            screen.release(token)
            message = done(result) if callable(done) else done
            if message:
                self.notify(message, markup=False)

        def failed(error: Exception) -> None:
            screen.release(token)
            if isinstance(error, FrontdeskError) and not (on_error and on_error(error)):
                self.notify(str(error), severity="error", markup=False, timeout=8)

        self.run_write(work, then, group=f"profile-write-{self.NAME}", on_error=failed)

    def saved(self, message: str | None, *, changed: str, select: str | None = None) -> None:
        """A modal saved a change itself: reload what ``changed`` touches and say ``message``
        (keys typed meanwhile wait for the reloaded rows, as after :meth:`write`)."""
        if select is not None:
            self._select = select
        self.profile.reload_after_change(changed)
        if message:
            self.notify(message, markup=False)

    def confirm_write(
        self,
        question: str | Text,
        work: Callable[[Session], T],
        *,
        yes: str,
        no: str = "No",
        changed: str,
        done: str,
    ) -> None:
        """Ask ``question`` (a ConfirmModal); on yes run ``work`` as :meth:`write` does."""

        def confirmed(answer: bool | None) -> None:
            if answer:
                self.write(work, changed=changed, done=done)

        self.ask(ConfirmModal(question, yes, no), confirmed)

    @property
    def operator(self) -> Any:
        return self.fd.operator

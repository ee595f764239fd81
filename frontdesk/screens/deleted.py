"""Deleted customers: find a customer deleted some time ago and bring them back.

Opened with ``U`` in the directory (``u`` there undoes only the delete just made) or with
"Deleted customers" in the command palette, by the roles that delete and restore. The list
(``delete_flow.list_deleted``) shows the deleted customers that can be restored, most recently
deleted first, with who deleted them; the search box filters it as you type. ``r`` (or
``enter``) on a row asks, then restores the customer with ``delete_flow.restore_customers``
(the bookings the delete cancelled are re-opened where the slot is still free, and it says
which could not be). A refused restore (their phone or email is another live customer's now)
is said as an error and changes nothing. Every value a customer typed is shown literally.

The screen closes with the number of customers restored, so that the directory re-reads.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Input, Static

from frontdesk.data import delete_flow
from frontdesk.data.delete_flow import DeletedList, DeletedRow
from frontdesk.data.outcomes import counted
from frontdesk.data.validation import format_phone
from frontdesk.screens.common import ConfirmModal
from frontdesk.screens.fmt import when
from frontdesk.text import fit, join, user_text
from frontdesk.widgets.base import FrontdeskScreen
from frontdesk.widgets.footer import KeyFooter
from frontdesk.widgets.inputs import SteadyInput

# (key, label, content width); None: shares the room left (see column_widths).
COLUMNS: list[tuple[str, str, int | None]] = [
    ("code", "Code", 9),
    ("name", "Name", None),
    ("phone", "Phone", 17),  # "+33 6 01 37 37 37"
    ("email", "Email", None),
    ("deleted", "Deleted", 16),  # "2026-11-02 12:00"
    ("by", "By", 16),
]
PADDING = 2  # the table's cell padding, both sides of every column
SCROLLBAR = 2
NOTICES = 5  # bookings not re-opened listed one by one; the rest counted


def column_widths(table_width: int) -> dict[str, int]:
    """Content width of each column for a table this wide: name and email share the rest
    (at least 12 each; a longer value ends in "…")."""
    widths = {key: width for key, _label, width in COLUMNS if width is not None}
    room = table_width - sum(widths.values()) - PADDING * len(COLUMNS) - SCROLLBAR
    name = max(12, room // 2)
    return widths | {"name": name, "email": max(12, room - name)}


class DeletedSearch(SteadyInput):
    """The search box: ``down`` or ``enter`` moves to the list (once it shows what was
    typed: a key typed right after waits for it)."""

    BINDINGS = [
        Binding("down", "screen.to_results", "Results", show=False),
        Binding("enter", "screen.to_results", "Results", show=False),
    ]


class DeletedScreen(FrontdeskScreen[int]):
    """The deleted customers that can be restored; closes with how many were restored."""

    DEFAULT_CSS = """
    DeletedScreen #dl-search {
        width: 1fr;
        height: 3;
    }
    DeletedScreen #dl-count {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    DeletedScreen #dl-table {
        height: 1fr;
    }
    """
    AUTO_FOCUS = "#dl-search"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("r", "restore", "Restore", tooltip="Restore the highlighted customer"),
        Binding("slash", "focus_search", "Search"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.rows: dict[str, DeletedRow] = {}
        self.total = 0
        self.generation = 0  # of the list asked for last
        self.shown_generation = -1  # of the list shown
        self.focus_pending = False  # move to the list once it shows what was typed
        self.restored = 0
        self.widths = column_widths(120)

    def compose(self) -> ComposeResult:
        yield Header()
        yield DeletedSearch(
            placeholder="Search deleted customers: name, code, phone or email", id="dl-search"
        )
        yield Static("", id="dl-count")
        yield DataTable(id="dl-table", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Deleted customers"
        self.widths = column_widths(self.app.size.width)
        table = self.query_one("#dl-table", DataTable)
        for key, label, _width in COLUMNS:
            table.add_column(label, key=key, width=self.widths[key])
        self.load()

    # ------------------------------------------------------------------ the list
    def load(self) -> None:
        """Read the list for the text typed (the latest answer wins)."""
        self.generation += 1
        generation, text, actor = self.generation, self.text, self.fd.operator
        limit = delete_flow.DELETED_LIMIT

        def failed(error: Exception) -> None:
            if generation == self.generation:
                self.shown_generation = generation
                self._leave_search()
                self.notify(str(error), severity="error", markup=False)

        self.run_read(
            lambda s: delete_flow.list_deleted(session=s, actor=actor, text=text, limit=limit),
            lambda listed: self.show(generation, listed),
            group="deleted-list",
            exclusive=False,
            on_error=failed,
        )

    def refresh_data(self) -> None:
        """Another desk deleted or restored someone: read the list again, keeping the place."""
        if self.is_mounted:
            self.load()

    def show(self, generation: int, listed: DeletedList) -> None:
        if generation != self.generation:
            return  # a later text was typed meanwhile: its answer follows
        self.shown_generation = generation
        table = self.query_one("#dl-table", DataTable)
        keep = self.highlighted()
        table.clear()
        self.rows = {}
        for row in listed.rows:
            key = str(row.id)
            self.rows[key] = row
            table.add_row(*self.cells(row), key=key)
        if keep is not None and str(keep.id) in self.rows:
            table.move_cursor(row=table.get_row_index(str(keep.id)), animate=False)
        self.total = listed.total
        self.update_count()
        self._leave_search()

    def cells(self, row: DeletedRow) -> list[Text]:
        w = self.widths
        by = user_text(row.deleted_by) if row.deleted_by else Text("—", style="dim")
        return [
            fit(user_text(row.code), w["code"]),
            fit(user_text(row.name, "bold"), w["name"]),
            fit(user_text(format_phone(row.phone) if row.phone else ""), w["phone"]),
            fit(user_text(row.email or ""), w["email"]),
            Text(when(row.deleted_at)),
            fit(by, w["by"]),
        ]

    def update_count(self) -> None:
        shown = len(self.rows)
        if shown == 0:
            line = (
                join(Text("No deleted customer matches"), user_text(self.text.strip(), "bold"))
                if self.text.strip()
                else Text("No deleted customers.")
            )
        elif self.total > shown:
            line = Text(
                f"The {shown:,} most recently deleted of {self.total:,} shown: type to narrow · "
                "r restores"
            )
        else:
            line = Text(
                f"{counted(shown, 'deleted customer')}, most recently deleted first · r restores"
            )
        self.query_one("#dl-count", Static).update(line)

    def highlighted(self) -> DeletedRow | None:
        table = self.query_one("#dl-table", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.rows.get(key or "")

    # ------------------------------------------------------------------ keys
    @on(Input.Changed, "#dl-search")
    def searched(self, event: Input.Changed) -> None:
        event.stop()
        if event.value != self.text:  # (read already if down / enter came first)
            self.text = event.value
            self.load()

    def action_to_results(self) -> None:
        """``down`` / ``enter`` in the search box: to the list, once it shows the text typed
        (so that ``r`` typed at once restores a customer the search found)."""
        typed = self.query_one("#dl-search", Input).value
        if typed != self.text:  # its Changed message has not come yet
            self.text = typed
            self.load()
        if self.shown_generation == self.generation:
            self.set_focus(self.query_one("#dl-table", DataTable))  # at once: the next key finds it
            return
        if not self.focus_pending:
            self.focus_pending = True
            self.hold_keys()

    def _leave_search(self) -> None:
        if self.focus_pending:
            self.focus_pending = False
            self.set_focus(self.query_one("#dl-table", DataTable))  # at once: the next key finds it
            self.release_keys()

    def action_focus_search(self) -> None:
        self.set_focus(self.query_one("#dl-search", Input))

    @on(DataTable.RowSelected, "#dl-table")
    def selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_restore()

    def action_back(self) -> None:
        self.dismiss(self.restored)

    # ------------------------------------------------------------------ restore
    def action_restore(self) -> None:
        if self.fd.refuse("customers.delete"):
            return
        row = self.highlighted()
        if row is None:
            self.notify("No deleted customer to restore here")
            return
        question = join(
            Text("Restore "), user_text(f"{row.code} {row.name}", "bold"), Text("?"), sep=""
        )
        question.append(
            "\nThey are back in the directory; the bookings their delete cancelled are "
            "re-opened where the time is still free."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._restore(row)

        self.app.push_screen(ConfirmModal(question, "Restore", "Keep deleted"), answered)

    def _restore(self, row: DeletedRow) -> None:
        actor, now = self.fd.operator, self.fd.clock()

        def done(outcome: delete_flow.RestoreOutcome) -> None:
            self.release_keys()
            if not outcome.changed_ids:
                # Refused (their phone or email is someone else's now): nothing changed.
                for problem in outcome.problems:
                    self.notify(
                        f"Not restored: {problem}", severity="error", markup=False, timeout=20
                    )
                if not outcome.problems:
                    self.notify(f"{row.code} is not deleted any more", markup=False)
                self.load()  # as it is now (erased or restored meanwhile: gone from the list)
                return
            self.restored += len(outcome.changed_ids)
            self.notify(outcome.summary, markup=False, timeout=10)
            details = outcome.details
            for line in details[:NOTICES]:
                self.notify(line, severity="warning", markup=False, timeout=20)
            if len(details) > NOTICES:
                more = len(details) - NOTICES
                self.notify(f"… and {more:,} more", severity="warning", timeout=20)
            self._remove(row)

        def failed(error: Exception) -> None:
            self.release_keys()
            self.notify(str(error), severity="error", markup=False, timeout=20)

        self.hold_keys()  # keys typed at once act on the list as it is after the restore
        self.run_write(
            lambda s: delete_flow.restore_customers(
                session=s, customer_ids=[row.id], actor=actor, now=now
            ),
            done,
            group="deleted-restore",
            on_error=failed,
        )

    def _remove(self, row: DeletedRow) -> None:
        key = str(row.id)
        if key in self.rows:
            del self.rows[key]
            self.query_one("#dl-table", DataTable).remove_row(key)
            self.total = max(0, self.total - 1)
        self.update_count()

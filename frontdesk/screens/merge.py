"""Duplicate finder and merge screen.

Both screens read what they show through one use case of :mod:`frontdesk.data.merge_flow`
and write through one service per key, all off the UI thread. Names, values, file names
and notes are user data: every cell is built with :func:`frontdesk.text.user_text`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from frontdesk.data import candidates
from frontdesk.data import merge as data
from frontdesk.data.merge_flow import (
    DuplicatesPage,
    MergeView,
    ignore_group,
    load_duplicates,
    load_merge_view,
)
from frontdesk.data.validation import format_phone
from frontdesk.screens.common import fill_table
from frontdesk.text import join, plain, user_text
from frontdesk.widgets.base import FrontdeskScreen
from frontdesk.widgets.footer import KeyFooter

KEPT = "bold green"


def shown(name: str, value: Any, view: MergeView | None = None) -> str:
    """A field's value as the merge table shows it (a plain string, controls escaped)."""
    if value in (None, ""):
        return "—"
    if name in ("phone", "other_phone"):
        return plain(format_phone(value))
    if view is not None and name in ("category_id", "home_branch_id"):
        names = view.category_names if name == "category_id" else view.branch_names
        return plain(names.get(value, f"#{value}"))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return plain(value)


def _key(customer: Any) -> str:
    return str(customer.id) if customer.id is not None else "import"


def _short(value: str, limit: int = 80) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class MergeScreen(FrontdeskScreen[int | None]):
    """Customers side by side; pick the value to keep per field; ctrl+s merges into the first.

    With ``candidate_id`` the second column is an imported row waiting for a decision
    (merge candidate): ctrl+s puts the chosen values on the customer, ``a`` adds the row as a
    customer of its own, ``x`` discards it.
    """

    BINDINGS = [
        Binding("enter", "choose", "Keep this value"),
        Binding("s", "survivor", "Make survivor"),
        Binding("a", "add_separately", "Add as new customer"),
        Binding("x", "discard", "Discard row"),
        Binding("ctrl+s", "merge", "Merge", priority=True),
        Binding("escape", "back", "Back"),
    ]
    AUTO_FOCUS = "#merge-table"

    def __init__(self, customer_ids: list[int], candidate_id: int | None = None) -> None:
        super().__init__()
        self.customer_ids = list(dict.fromkeys(customer_ids))
        self.candidate_id = candidate_id
        self.view: MergeView | None = None
        self.people: list[Any] = []
        self.chosen: dict[str, Any] = {}
        self.busy = False

    @property
    def source(self) -> str:
        return self.view.source if self.view is not None else ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="merge-help")
        yield DataTable(id="merge-table", cursor_type="cell")
        yield KeyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "survivor":
            return self.candidate_id is None
        if action in ("add_separately", "discard"):
            return self.candidate_id is not None
        return True

    def on_mount(self) -> None:
        self.hold_keys()  # enter / s / ctrl+s act on what the table shows
        self.title = "Merge customers" if self.candidate_id is None else "Merge an imported row"
        self.query_one("#merge-help", Static).update("Loading…")
        ids, candidate_id = self.customer_ids, self.candidate_id
        self.run_read(
            lambda s: load_merge_view(session=s, customer_ids=ids, candidate_id=candidate_id),
            then=self.loaded,
            on_error=self.not_loaded,
        )

    def loaded(self, view: MergeView) -> None:
        self.view = view
        self.people = view.people
        self.chosen = view.chosen
        self.render_table()
        self.call_after_refresh(self.release_keys)

    def not_loaded(self, exc: Exception) -> None:
        self.query_one("#merge-help", Static).update(
            join(Text("Cannot show this merge:", style="bold"), user_text(str(exc)))
        )
        self.release_keys()

    def column_label(self, index: int, customer: Any) -> Text:
        if customer.id is None:
            return join(Text("IMPORTED"), user_text(f"({self.source})"))
        if self.candidate_id is not None:
            return join(Text("CUSTOMER"), user_text(customer.code))
        return join(Text("SURVIVOR" if index == 0 else ""), user_text(customer.code))

    def render_table(self) -> None:
        view = self.view
        if view is None:
            return
        columns: list[tuple[str | Text, str]] = [(Text("Field"), "field")]
        columns += [(self.column_label(i, c), _key(c)) for i, c in enumerate(self.people)]
        rows: list[tuple[str, list[Text]]] = []
        for name in view.fields:
            cells: list[Text] = [Text(name.replace("_id", "").replace("_", " "))]
            for c in self.people:
                value = getattr(c, name)
                kept = value == self.chosen.get(name) and value not in (None, "")
                mark = "✔ " if kept else "  "
                cells.append(user_text(mark + shown(name, value, view), KEPT if kept else ""))
            rows.append((name, cells))
        fill_table(self.query_one("#merge-table", DataTable), columns, rows)
        self.query_one("#merge-help", Static).update(self.help_text(view))

    def help_text(self, view: MergeView) -> Text:
        if self.candidate_id is None:
            return Text(
                "Everything (bookings, orders, payments, refunds, notes, tags, custom fields, "
                "points) moves to the survivor; a phone or email not kept stays on it as a "
                "secondary one. The others become tombstones: their codes, phones and emails "
                "still find it. enter keeps the highlighted value, s makes that column the "
                "survivor, ctrl+s merges."
            )
        text = Text(
            "An imported row that matched this customer. enter keeps the highlighted value; "
            "ctrl+s puts the kept values (and the row's note and tags) on the customer; a adds "
            "the row as a customer of its own (without the phone or email already taken); "
            "x discards it."
        )
        brings: list[Text] = []
        if view.brings_note:
            brings.append(join(Text("note"), user_text(f"“{_short(view.brings_note)}”")))
        if view.brings_tags:
            brings.append(join(Text("tags"), user_text(", ".join(view.brings_tags))))
        if view.brings_custom:
            brings.append(Text(f"{view.brings_custom} custom field values"))
        if brings:
            text.append("\nThe row also brings: ")
            text.append_text(join(*brings, sep="; "))
            text.append(".")
        return text

    def _person_at_cursor(self) -> tuple[Any, str | None]:
        table = self.query_one("#merge-table", DataTable)
        if table.row_count == 0:
            return None, None
        row_key, col_key = table.coordinate_to_cell_key(table.cursor_coordinate)
        if col_key.value in (None, "field"):
            return None, None
        person = next((c for c in self.people if _key(c) == col_key.value), None)
        return person, row_key.value

    def action_choose(self) -> None:
        person, field_name = self._person_at_cursor()
        if person is None or field_name is None:
            return
        self.chosen[field_name] = getattr(person, field_name)
        table = self.query_one("#merge-table", DataTable)
        coordinate = table.cursor_coordinate
        self.render_table()
        table.move_cursor(row=coordinate.row, column=coordinate.column)

    @on(DataTable.CellSelected)
    def cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.action_choose()

    def action_survivor(self) -> None:
        person, _ = self._person_at_cursor()
        if person is None or self.candidate_id is not None:
            return
        self.people.remove(person)
        self.people.insert(0, person)
        self.chosen = data.default_choices(self.people[0], self.people[1:])
        table = self.query_one("#merge-table", DataTable)
        row = table.cursor_coordinate.row
        self.render_table()
        table.move_cursor(row=row, column=1)

    def _write(self, work: Callable[[Session], object], done: str) -> None:
        if self.busy or self.view is None:
            return
        self.busy = True
        survivor_id = self.people[0].id

        def finished(_: object) -> None:
            self.notify(done, markup=False)
            self.dismiss(survivor_id)

        def failed(exc: Exception) -> None:
            self.busy = False
            self.notify(str(exc), severity="error", timeout=8, markup=False)

        self.run_write(work, then=finished, on_error=failed)

    def action_merge(self) -> None:
        """One key: the table on screen is what gets merged."""
        if self.view is None:
            return
        survivor = self.people[0]
        chosen = dict(self.chosen)
        actor = self.fd.operator
        candidate_id = self.candidate_id
        if candidate_id is not None:
            self._write(
                lambda s: candidates.merge_candidate(
                    session=s, candidate_id=candidate_id, chosen=chosen, actor=actor
                ),
                f"Merged the imported row into {plain(survivor.code)}",
            )
            return
        survivor_id = survivor.id
        others = [c.id for c in self.people[1:]]
        names = ", ".join(plain(c.code) for c in self.people[1:])
        self._write(
            lambda s: data.merge_customers(
                session=s, survivor_id=survivor_id, other_ids=others, chosen=chosen, actor=actor
            ),
            f"Merged {names} into {plain(survivor.code)}",
        )

    def _decide(self, decision: Callable[..., object], done: str) -> None:
        """Add or discard the imported row (candidate mode only)."""
        candidate_id = self.candidate_id
        if candidate_id is None:
            return
        actor = self.fd.operator
        self._write(lambda s: decision(session=s, candidate_id=candidate_id, actor=actor), done)

    def action_add_separately(self) -> None:
        self._decide(candidates.add_as_customer, "Added the imported row as a new customer")

    def action_discard(self) -> None:
        self._decide(candidates.discard, "Discarded the imported row")

    def action_back(self) -> None:
        self.dismiss(None)


class DuplicatesScreen(FrontdeskScreen[None]):
    """Imported rows waiting for a decision (merge candidates), then likely duplicates."""

    BINDINGS = [
        Binding("enter", "open", "Merge"),
        Binding("i", "ignore", "Not duplicates"),
        Binding("x", "discard", "Discard imported row"),
        Binding("escape", "back", "Back"),
    ]
    AUTO_FOCUS = "#dup-table"

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[candidates.PendingCandidate | data.DuplicateGroup] = []
        self.loaded_once = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "enter opens the highlighted line side by side to merge it; i remembers that customers "
            "are not duplicates; x discards an imported row.",
            id="dup-help",
        )
        yield DataTable(id="dup-table", cursor_type="row")
        yield Static("", id="dup-empty", classes="empty")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Likely duplicates"
        self.query_one("#dup-empty", Static).update("Looking for duplicates…")
        self.reload()

    def reload(self) -> None:
        """Read the lines again; enter / i / x typed meanwhile wait for them."""
        self.hold_keys()

        def failed(_: Exception) -> None:
            self.release_keys()

        self.run_read(lambda s: load_duplicates(session=s), then=self.show, on_error=failed)

    def show(self, page: DuplicatesPage) -> None:
        self.loaded_once = True
        self.rows = [*page.waiting, *page.groups]
        table = self.query_one("#dup-table", DataTable)
        row = table.cursor_row
        lines: list[tuple[str, list[Text]]] = []
        for i, item in enumerate(self.rows):
            if isinstance(item, candidates.PendingCandidate):
                reason = join(
                    Text("imported row"),
                    user_text(f"({item.source}):"),
                    user_text(item.reason),
                )
                people = join(
                    join(user_text(item.code), user_text(item.name)),
                    user_text(item.incoming_name or "(no name)"),
                    sep="  ←  ",
                )
            else:
                reason = user_text(item.reason)
                people = join(
                    *[
                        join(user_text(code), user_text(name))
                        for code, name in zip(item.codes, item.names, strict=True)
                    ],
                    sep=", ",
                )
            lines.append((str(i), [reason, people]))
        fill_table(table, [("Reason", "reason"), ("Customers", "customers")], lines, max_width=80)
        if self.rows:
            table.move_cursor(row=min(row, len(self.rows) - 1))
        count = len(page.waiting)
        parts = [self.app.sub_title] if self.app.sub_title else []
        if count:
            parts.append(f"{count} imported row{'s' if count != 1 else ''} waiting")
        self.sub_title = " · ".join(parts)
        empty = self.query_one("#dup-empty", Static)
        empty.update("No likely duplicates found." if not self.rows else "")
        empty.display = not self.rows
        table.display = bool(self.rows)
        self.call_after_refresh(self.release_keys)

    def current(self) -> candidates.PendingCandidate | data.DuplicateGroup | None:
        table = self.query_one("#dup-table", DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowSelected, "#dup-table")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        item = self.current()
        if item is None:
            return
        if isinstance(item, candidates.PendingCandidate):
            self.app.push_screen(
                MergeScreen([item.customer_id], candidate_id=item.id), lambda _: self.reload()
            )
            return
        ids = list(item.customer_ids)
        admin = self.fd.operator is not None and self.fd.operator.role == "admin"
        if len(ids) > 2 and not admin:
            self.notify(
                "Only admins merge more than two at once; merging the first two", severity="warning"
            )
            ids = ids[:2]
        self.app.push_screen(MergeScreen(ids), lambda _: self.reload())

    def action_ignore(self) -> None:
        item = self.current()
        if item is None:
            return
        if isinstance(item, candidates.PendingCandidate):
            self.notify(
                "An imported row: x discards it, enter merges or adds it", severity="warning"
            )
            return
        ids, actor = list(item.customer_ids), self.fd.operator

        def done(_: int) -> None:
            self.notify("Remembered: not duplicates")
            self.reload()

        self.run_write(lambda s: ignore_group(session=s, customer_ids=ids, actor=actor), then=done)

    def action_discard(self) -> None:
        item = self.current()
        if not isinstance(item, candidates.PendingCandidate):
            self.notify("x discards imported rows; i marks customers as not duplicates")
            return
        candidate_id, actor = item.id, self.fd.operator

        def done(_: object) -> None:
            self.notify("Discarded the imported row")
            self.reload()

        def failed(exc: Exception) -> None:
            self.notify(str(exc), severity="error", markup=False)
            self.reload()

        self.run_write(
            lambda s: candidates.discard(session=s, candidate_id=candidate_id, actor=actor),
            then=done,
            on_error=failed,
        )

    def action_back(self) -> None:
        self.dismiss(None)

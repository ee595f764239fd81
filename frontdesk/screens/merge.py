"""Duplicate finder and merge screen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from frontdesk.data import customers as svc
from frontdesk.data import merge as data
from frontdesk.data.errors import FrontdeskError
from frontdesk.data.validation import format_phone
from frontdesk.screens.common import ConfirmModal

if TYPE_CHECKING:
    from frontdesk.app import FrontdeskApp


def shown(name: str, value: Any) -> str:
    if value in (None, ""):
        return "—"
    if name == "phone" or name == "other_phone":
        return format_phone(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class MergeScreen(Screen[int | None]):
    """Customers side by side; pick the value to keep per field; ctrl+s merges into the first."""

    BINDINGS = [
        Binding("enter", "choose", "Keep this value"),
        Binding("s", "survivor", "Make survivor"),
        Binding("ctrl+s", "merge", "Merge", priority=True),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, customer_ids: list[int]) -> None:
        super().__init__()
        self.customer_ids = list(dict.fromkeys(customer_ids))
        self.people: list[Any] = []
        self.chosen: dict[str, Any] = {}

    @property
    def fd(self) -> FrontdeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="merge-help")
        yield DataTable(id="merge-table", cursor_type="cell")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Merge customers"
        from frontdesk.data.directory import load_lookups

        self.people = self.fd.read(
            lambda s: [svc.get_customer(session=s, customer_id=i) for i in self.customer_ids]
        )
        self.lookups = self.fd.read(lambda s: load_lookups(session=s))
        self.chosen = data.default_choices(self.people[0], self.people[1:])
        self.render_table()

    def render_table(self) -> None:
        table = self.query_one("#merge-table", DataTable)
        table.clear(columns=True)
        table.add_column("Field", key="field")
        for i, c in enumerate(self.people):
            label = f"{'SURVIVOR ' if i == 0 else ''}{c.code}"
            table.add_column(label, key=str(c.id))
        for name in data.MERGE_FIELDS:
            cells: list[Any] = [name.replace("_id", "").replace("_", " ")]
            for c in self.people:
                value = getattr(c, name)
                mark = "✔ " if value == self.chosen.get(name) and value not in (None, "") else "  "
                cells.append(
                    Text(mark + shown(name, value), style="bold green" if mark.strip() else "")
                )
            table.add_row(*cells, key=name)
        self.query_one("#merge-help", Static).update(
            "Everything (bookings, orders, payments, refunds, notes, tags, custom fields, points) moves to the "
            "survivor; the others become tombstones whose codes still find it. enter keeps the highlighted value, "
            "s makes that column the survivor, ctrl+s merges."
        )

    def action_choose(self) -> None:
        table = self.query_one("#merge-table", DataTable)
        row_key, col_key = table.coordinate_to_cell_key(table.cursor_coordinate)
        if col_key.value == "field" or row_key.value is None:
            return
        person = next(c for c in self.people if str(c.id) == col_key.value)
        self.chosen[row_key.value] = getattr(person, row_key.value)
        coordinate = table.cursor_coordinate
        self.render_table()
        table.move_cursor(row=coordinate.row, column=coordinate.column)

    @on(DataTable.CellSelected)
    def cell_selected(self) -> None:
        self.action_choose()

    def action_survivor(self) -> None:
        table = self.query_one("#merge-table", DataTable)
        _, col_key = table.coordinate_to_cell_key(table.cursor_coordinate)
        if col_key.value in (None, "field"):
            return
        person = next(c for c in self.people if str(c.id) == col_key.value)
        self.people.remove(person)
        self.people.insert(0, person)
        self.chosen = data.default_choices(self.people[0], self.people[1:])
        self.render_table()

    def action_merge(self) -> None:
        survivor = self.people[0]
        others = [c.id for c in self.people[1:]]
        names = ", ".join(c.code for c in self.people[1:])

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            try:
                self.fd.write(
                    lambda s: data.merge_customers(
                        session=s,
                        survivor_id=survivor.id,
                        other_ids=others,
                        chosen=self.chosen,
                        actor=self.fd.operator,
                    )
                )
            except FrontdeskError as exc:
                self.notify(str(exc), severity="error", timeout=8)
                return
            self.notify(f"Merged {names} into {survivor.code}")
            self.dismiss(survivor.id)

        self.app.push_screen(
            ConfirmModal(f"Merge {names} into {survivor.code} {survivor.full_name}?", "Merge"),
            confirmed,
        )

    def action_back(self) -> None:
        self.dismiss(None)


class DuplicatesScreen(Screen[None]):
    BINDINGS = [
        Binding("enter", "open", "Merge group"),
        Binding("i", "ignore", "Not duplicates"),
        Binding("escape", "back", "Back"),
    ]

    @property
    def fd(self) -> FrontdeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="dup-table", cursor_type="row")
        yield Static("", id="dup-empty", classes="empty")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Likely duplicates"
        self.query_one("#dup-table", DataTable).add_columns("Reason", "Customers")
        self.reload()

    def reload(self) -> None:
        self.groups = self.fd.read(lambda s: data.find_duplicates(session=s))
        table = self.query_one("#dup-table", DataTable)
        table.clear()
        for i, g in enumerate(self.groups):
            people = ", ".join(f"{c} {n}" for c, n in zip(g.codes, g.names, strict=True))
            table.add_row(g.reason, people, key=str(i))
        self.query_one("#dup-empty", Static).update(
            "No likely duplicates found." if not self.groups else ""
        )
        table.display = bool(self.groups)

    def current(self) -> data.DuplicateGroup | None:
        table = self.query_one("#dup-table", DataTable)
        if not self.groups or table.cursor_row < 0:
            return None
        return self.groups[table.cursor_row]

    @on(DataTable.RowSelected, "#dup-table")
    def row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        group = self.current()
        if group is None:
            return
        if len(group.customer_ids) > 2 and (
            self.fd.operator is None or self.fd.operator.role != "admin"
        ):
            self.notify(
                "Only admins merge more than two at once; merging the first two", severity="warning"
            )
        ids = list(group.customer_ids)
        if self.fd.operator is None or self.fd.operator.role != "admin":
            ids = ids[:2]
        self.app.push_screen(MergeScreen(ids), lambda _: self.reload())

    def action_ignore(self) -> None:
        group = self.current()
        if group is None:
            return
        ids = group.customer_ids

        def work(s: Any) -> None:
            for i, a in enumerate(ids):
                for b in ids[i + 1 :]:
                    data.ignore_pair(session=s, first_id=a, second_id=b, actor=self.fd.operator)

        self.fd.write(work)
        self.notify("Remembered: not duplicates")
        self.reload()

    def action_back(self) -> None:
        self.dismiss(None)

"""Duplicate finder and merge screen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from frontdesk.data import candidates
from frontdesk.data import customers as svc
from frontdesk.data import merge as data
from frontdesk.data.errors import FrontdeskError
from frontdesk.data.validation import format_phone

if TYPE_CHECKING:
    from frontdesk.app import FrontdeskApp


def shown(name: str, value: Any, lookups: Any = None) -> str:
    if value in (None, ""):
        return "—"
    if name == "phone" or name == "other_phone":
        return format_phone(value)
    if lookups is not None and name in ("category_id", "home_branch_id"):
        table = lookups.categories if name == "category_id" else lookups.branches
        row = table.get(value)
        return row.name if row is not None else f"#{value}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _key(customer: Any) -> str:
    return str(customer.id) if customer.id is not None else "import"


class MergeScreen(Screen[int | None]):
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

    def __init__(self, customer_ids: list[int], candidate_id: int | None = None) -> None:
        super().__init__()
        self.customer_ids = list(dict.fromkeys(customer_ids))
        self.candidate_id = candidate_id
        self.source = ""
        self.brings = ""
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "survivor":
            return self.candidate_id is None
        if action in ("add_separately", "discard"):
            return self.candidate_id is not None
        return True

    def on_mount(self) -> None:
        from frontdesk.data.directory import load_lookups

        self.lookups = self.fd.read(lambda s: load_lookups(session=s))
        candidate_id = self.candidate_id
        if candidate_id is None:
            self.title = "Merge customers"
            self.people = self.fd.read(
                lambda s: [svc.get_customer(session=s, customer_id=i) for i in self.customer_ids]
            )
            self.chosen = data.default_choices(self.people[0], self.people[1:])
        else:
            self.title = "Merge an imported row"

            def load(s: Any) -> tuple[list[Any], dict[str, Any], Any]:
                row = candidates.get_pending(session=s, candidate_id=candidate_id)
                customer = svc.get_customer(session=s, customer_id=row.customer_id)
                customer = svc.resolve(session=s, customer=customer)
                chosen = candidates.default_choices(session=s, customer=customer, candidate=row)
                incoming = candidates.incoming_customer(session=s, candidate=row)
                return [customer, incoming], chosen, row

            self.people, self.chosen, row = self.fd.read(load)
            self.source = row.source
            extras = row.extras or {}
            brings = [
                f"note “{extras['note']}”" if extras.get("note") else "",
                f"tags {', '.join(extras['tags'])}" if extras.get("tags") else "",
                f"{len(extras['custom'])} custom field values" if extras.get("custom") else "",
            ]
            self.brings = "; ".join(b for b in brings if b)
        self.render_table()

    def render_table(self) -> None:
        table = self.query_one("#merge-table", DataTable)
        table.clear(columns=True)
        table.add_column("Field", key="field")
        for i, c in enumerate(self.people):
            if c.id is None:
                label = f"IMPORTED ({self.source})"
            elif self.candidate_id is not None:
                label = f"CUSTOMER {c.code}"
            else:
                label = f"{'SURVIVOR ' if i == 0 else ''}{c.code}"
            table.add_column(label, key=_key(c))
        for name in data.MERGE_FIELDS:
            cells: list[Any] = [name.replace("_id", "").replace("_", " ")]
            for c in self.people:
                value = getattr(c, name)
                mark = "✔ " if value == self.chosen.get(name) and value not in (None, "") else "  "
                cells.append(
                    Text(
                        mark + shown(name, value, self.lookups),
                        style="bold green" if mark.strip() else "",
                    )
                )
            table.add_row(*cells, key=name)
        if self.candidate_id is None:
            help_text = (
                "Everything (bookings, orders, payments, refunds, notes, tags, custom fields, points) moves to the "
                "survivor; the others become tombstones whose codes still find it. enter keeps the highlighted value, "
                "s makes that column the survivor, ctrl+s merges."
            )
        else:
            help_text = (
                "An imported row that matched this customer. enter keeps the highlighted value; ctrl+s puts the "
                "kept values (and the row's note and tags) on the customer; a adds the row as a customer of its own "
                "(without the phone or email already taken); x discards it."
            )
            if self.brings:
                help_text += f"\nThe row also brings: {self.brings}."
        self.query_one("#merge-help", Static).update(help_text)

    def _person_at_cursor(self) -> tuple[Any, str | None]:
        table = self.query_one("#merge-table", DataTable)
        row_key, col_key = table.coordinate_to_cell_key(table.cursor_coordinate)
        if col_key.value in (None, "field"):
            return None, None
        person = next(c for c in self.people if _key(c) == col_key.value)
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
    def cell_selected(self) -> None:
        self.action_choose()

    def action_survivor(self) -> None:
        person, _ = self._person_at_cursor()
        if person is None or self.candidate_id is not None:
            return
        self.people.remove(person)
        self.people.insert(0, person)
        self.chosen = data.default_choices(self.people[0], self.people[1:])
        self.render_table()

    def _write(self, work: Any, done: str) -> None:
        try:
            self.fd.write(work)
        except FrontdeskError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.notify(done)
        self.dismiss(self.people[0].id)

    def action_merge(self) -> None:
        """One key: the table on screen is what gets merged."""
        survivor = self.people[0]
        candidate_id = self.candidate_id
        if candidate_id is not None:
            self._write(
                lambda s: candidates.merge_candidate(
                    session=s, candidate_id=candidate_id, chosen=self.chosen, actor=self.fd.operator
                ),
                f"Merged the imported row into {survivor.code}",
            )
            return
        others = [c.id for c in self.people[1:]]
        names = ", ".join(c.code for c in self.people[1:])
        self._write(
            lambda s: data.merge_customers(
                session=s,
                survivor_id=survivor.id,
                other_ids=others,
                chosen=self.chosen,
                actor=self.fd.operator,
            ),
            f"Merged {names} into {survivor.code}",
        )

    def _decide(self, decision: Any, done: str) -> None:
        """Add or discard the imported row (candidate mode only)."""
        candidate_id = self.candidate_id
        if candidate_id is None:
            return
        self._write(
            lambda s: decision(session=s, candidate_id=candidate_id, actor=self.fd.operator), done
        )

    def action_add_separately(self) -> None:
        self._decide(candidates.add_as_customer, "Added the imported row as a new customer")

    def action_discard(self) -> None:
        self._decide(candidates.discard, "Discarded the imported row")

    def action_back(self) -> None:
        self.dismiss(None)


class DuplicatesScreen(Screen[None]):
    """Imported rows waiting for a decision (merge candidates), then likely duplicates."""

    BINDINGS = [
        Binding("enter", "open", "Merge"),
        Binding("i", "ignore", "Not duplicates"),
        Binding("x", "discard", "Discard imported row"),
        Binding("escape", "back", "Back"),
    ]

    @property
    def fd(self) -> FrontdeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "enter opens the highlighted line side by side to merge it; i remembers that customers "
            "are not duplicates; x discards an imported row.",
            id="dup-help",
        )
        yield DataTable(id="dup-table", cursor_type="row")
        yield Static("", id="dup-empty", classes="empty")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Likely duplicates"
        self.query_one("#dup-table", DataTable).add_columns("Reason", "Customers")
        self.reload()

    def reload(self) -> None:
        def load(s: Any) -> tuple[list[candidates.PendingCandidate], list[data.DuplicateGroup]]:
            return candidates.pending(session=s), data.find_duplicates(session=s)

        waiting, groups = self.fd.read(load)
        self.rows: list[candidates.PendingCandidate | data.DuplicateGroup] = [*waiting, *groups]
        table = self.query_one("#dup-table", DataTable)
        table.clear()
        for i, item in enumerate(self.rows):
            if isinstance(item, candidates.PendingCandidate):
                reason = f"imported row ({item.source}): {item.reason}"
                people = f"{item.code} {item.name}  ←  {item.incoming_name or '(no name)'}"
            else:
                reason = item.reason
                people = ", ".join(f"{c} {n}" for c, n in zip(item.codes, item.names, strict=True))
            table.add_row(reason, people, key=str(i))
        count = len(waiting)
        parts = [self.app.sub_title] if self.app.sub_title else []
        if waiting:
            parts.append(f"{count} imported row{'s' if count != 1 else ''} waiting")
        self.sub_title = " · ".join(parts)
        empty = self.query_one("#dup-empty", Static)
        empty.update("No likely duplicates found." if not self.rows else "")
        empty.display = not self.rows
        table.display = bool(self.rows)

    def current(self) -> candidates.PendingCandidate | data.DuplicateGroup | None:
        table = self.query_one("#dup-table", DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowSelected, "#dup-table")
    def row_selected(self) -> None:
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
        if len(item.customer_ids) > 2 and (
            self.fd.operator is None or self.fd.operator.role != "admin"
        ):
            self.notify(
                "Only admins merge more than two at once; merging the first two", severity="warning"
            )
        ids = list(item.customer_ids)
        if self.fd.operator is None or self.fd.operator.role != "admin":
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
        ids = item.customer_ids

        def work(s: Any) -> None:
            for i, a in enumerate(ids):
                for b in ids[i + 1 :]:
                    data.ignore_pair(session=s, first_id=a, second_id=b, actor=self.fd.operator)

        self.fd.write(work)
        self.notify("Remembered: not duplicates")
        self.reload()

    def action_discard(self) -> None:
        item = self.current()
        if not isinstance(item, candidates.PendingCandidate):
            self.notify("x discards imported rows; i marks customers as not duplicates")
            return
        candidate_id = item.id
        try:
            self.fd.write(
                lambda s: candidates.discard(
                    session=s, candidate_id=candidate_id, actor=self.fd.operator
                )
            )
        except FrontdeskError as exc:
            self.notify(str(exc), severity="error")
        else:
            self.notify("Discarded the imported row")
        self.reload()

    def action_back(self) -> None:
        self.dismiss(None)

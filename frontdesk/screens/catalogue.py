"""Branches & services (admins): what a business books from.

Two tabs, one list each (deactivated rows are shown dimmed): ``a`` adds, ``enter`` or ``e``
edits, ``d`` deactivates or reactivates after a question. Every read and write runs off the UI
thread through :mod:`frontdesk.data.catalogue`. A dialog saves while it is open: a value the
service refuses is shown under its field and nothing typed is lost; escape on a changed
dialog asks before it throws the typing away. Names and addresses are user data: shown
literally.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.suggester import SuggestFromList
from textual.widgets import DataTable, Header, Input, Label, TabbedContent, TabPane

from frontdesk.data import catalogue
from frontdesk.data.catalogue import BranchRow, Catalogue, ServiceRow
from frontdesk.data.validation import format_phone
from frontdesk.screens.common import ConfirmModal, SavingDialog, discard_or_stay, fill_table
from frontdesk.text import join, user_text
from frontdesk.widgets.base import FrontdeskScreen
from frontdesk.widgets.footer import KeyFooter

__all__ = ["CatalogueDialog", "CatalogueScreen", "DialogField"]

# What a dialog saves: the session work for what was typed (built by the screen).
Saver = Callable[[Session], object]

BRANCHES, SERVICES = "c-branches", "c-services"
COLUMNS = {
    BRANCHES: ("Branch", "Address", "Phone", "State"),
    SERVICES: ("Type", "Service", "Minutes", "Price", "State"),
}


@dataclass(frozen=True)
class DialogField:
    """One line of a dialog: its label, the service field whose refusal shows under it, and
    what it starts with."""

    label: str
    field: str
    value: str = ""
    suggestions: Sequence[str] = ()


class CatalogueDialog(SavingDialog):
    """Add or change a branch or a service: labelled lines; ctrl+s (or enter) saves.

    The dialog stays open while it saves; a refusal (``ValidationFailed``) is shown under the
    field it names, which takes the focus, with everything typed kept. It closes with what the
    service returned. Escape closes at once when nothing was changed, else asks first."""

    DEFAULT_CSS = """
    #catalogue-dialog {
        overflow-y: auto;
    }
    """
    AUTO_FOCUS = "#cd-0"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]
    PREFIX = "cd"

    def __init__(
        self, title: str, fields: Sequence[DialogField], save: Callable[[list[str]], Saver]
    ) -> None:
        super().__init__()
        self.title_text = title
        self.fields = list(fields)
        self.save = save
        # The service's field names -> the line each is typed on (cd-0, cd-1 ...).
        self.FIELD_OF = {spec.field: str(i) for i, spec in enumerate(self.fields)}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="catalogue-dialog"):
            yield Label(
                join(user_text(self.title_text), Text("· ctrl+s saves")), classes="dialog-title"
            )
            for i, spec in enumerate(self.fields):
                yield Label(Text(spec.label))
                suggester = (
                    SuggestFromList(spec.suggestions, case_sensitive=False)
                    if spec.suggestions
                    else None
                )
                yield Input(spec.value, id=f"cd-{i}", suggester=suggester)
                yield self.message_line(f"cd-{i}-msg")
            yield self.message_line("cd-error")

    def typed(self) -> list[str]:
        return [self.query_one(f"#cd-{i}", Input).value for i in range(len(self.fields))]

    @property
    def changed(self) -> bool:
        return self.typed() != [spec.value for spec in self.fields]

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        self.save_with(self.save(self.typed()))

    def action_cancel(self) -> None:
        if self.saving:  # a save under way closes the dialog itself
            return
        discard_or_stay(self, "Discard what you typed?", changed=self.changed)


class CatalogueScreen(FrontdeskScreen[None]):
    """Branches and services of the business (admins)."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("a", "add", "Add"),
        Binding("enter,e", "edit", "Edit"),
        Binding("d", "toggle_active", "Deactivate / reactivate"),
        Binding("down", "into_list", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view = Catalogue([], [], [])
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="catalogue-tabs"):
            with TabPane("Branches", id=BRANCHES):
                yield DataTable(id=f"{BRANCHES}-table", cursor_type="row")
            with TabPane("Services", id=SERVICES):
                yield DataTable(id=f"{SERVICES}-table", cursor_type="row")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Branches & services"
        for tab, columns in COLUMNS.items():
            fill_table(self.table(tab), _columns(columns), [])
        self.reload()

    @property
    def tab(self) -> str:
        return str(self.query_one("#catalogue-tabs", TabbedContent).active)

    def table(self, tab: str | None = None) -> DataTable[Text]:
        return self.query_one(f"#{tab or self.tab}-table", DataTable)

    def action_into_list(self) -> None:
        """``down`` on the row of tabs goes into the tab's list."""
        self.set_focus(self.table())

    @on(TabbedContent.TabActivated)
    def tab_changed(self) -> None:
        self.refresh_bindings()

    # ------------------------------------------------------------------ loading
    def reload(self, focus: tuple[str, int | None] | None = None, *, hold: bool = True) -> None:
        """Read both lists again; ``focus`` = (tab, row id) puts the cursor on that row.
        Keys typed meanwhile (enter on a row, d) wait until the lists are shown."""
        if hold:
            self.hold_keys()

        def loaded(view: Catalogue) -> None:
            self.show(view, focus)
            if hold:
                self.call_after_refresh(self.release_keys)

        def failed(_: Exception) -> None:
            if hold:
                self.release_keys()

        self.run_read(
            lambda s: catalogue.load_catalogue(session=s),
            then=loaded,
            on_error=failed,
            group="catalogue-load",
        )

    def refresh_data(self) -> None:
        self.reload(hold=False)

    def show(self, view: Catalogue, focus: tuple[str, int | None] | None = None) -> None:
        self.view = view
        self.loaded = True
        lists: dict[str, Sequence[BranchRow | ServiceRow]] = {
            BRANCHES: view.branches,
            SERVICES: view.services,
        }
        for tab, rows in lists.items():
            table = self.table(tab)
            keep_row = table.cursor_row
            fill_table(table, _columns(COLUMNS[tab]), [(str(r.id), cells(r)) for r in rows])
            wanted = focus[1] if focus is not None and focus[0] == tab else None
            if wanted is not None and any(r.id == wanted for r in rows):
                table.move_cursor(row=table.get_row_index(str(wanted)))
            elif rows:
                table.move_cursor(row=min(keep_row, len(rows) - 1))

    def current(self) -> BranchRow | ServiceRow | None:
        table = self.table()
        if not self.loaded or table.row_count == 0:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        rows: Sequence[BranchRow | ServiceRow] = (
            self.view.branches if self.tab == BRANCHES else self.view.services
        )
        return next((r for r in rows if str(r.id) == key.value), None)

    # ------------------------------------------------------------------ actions
    def action_back(self) -> None:
        self.dismiss(None)

    def action_add(self) -> None:
        if self.loaded:
            self.edit(None)

    @on(DataTable.RowSelected)
    def row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit()  # enter on a row (the table takes the key before the screen)

    def action_edit(self) -> None:
        row = self.current()
        if row is not None:
            self.edit(row)

    def edit(self, row: BranchRow | ServiceRow | None) -> None:
        tab, actor = self.tab, self.fd.operator
        row_id = row.id if row is not None else None

        def after(result: object) -> None:
            if result is None:
                return
            name = getattr(result, "name", "")
            what = "Branch" if tab == BRANCHES else "Service"
            verb = "added" if row_id is None else "saved"
            self.notify(f"{what} {verb}: {name}", markup=False)
            self.reload(focus=(tab, getattr(result, "id", row_id)))

        if tab == BRANCHES:
            branch = row if isinstance(row, BranchRow) else None
            fields = [
                DialogField("Name", "name", branch.name if branch else ""),
                DialogField("Address", "address", branch.address if branch else ""),
                DialogField(
                    "Phone (+country code, or of the business's country)",
                    "phone",
                    format_phone(branch.phone) if branch and branch.phone else "",
                ),
            ]

            def save_branch(v: list[str]) -> Saver:
                if branch is None:
                    return lambda s: catalogue.add_branch(
                        session=s, name=v[0], address=v[1], phone=v[2], actor=actor
                    )
                return lambda s: catalogue.change_branch(
                    session=s,
                    branch_id=branch.id,
                    name=v[0],
                    address=v[1],
                    phone=v[2],
                    actor=actor,
                )

            title = "New branch" if branch is None else "Branch"
            self.app.push_screen(CatalogueDialog(title, fields, save_branch), after)
            return
        service = row if isinstance(row, ServiceRow) else None
        fields = [
            DialogField(
                "Type (e.g. Hair: made when new)",
                "type",
                service.type_name if service else "",
                suggestions=self.view.types,
            ),
            DialogField("Name", "name", service.name if service else ""),
            DialogField(
                "Duration in minutes (5 to 720)",
                "duration",
                str(service.duration_minutes) if service else "",
            ),
            DialogField("Price (e.g. 45.00)", "price", service.price if service else ""),
        ]

        def save_service(v: list[str]) -> Saver:
            if service is None:
                return lambda s: catalogue.add_service(
                    session=s,
                    type_name=v[0],
                    name=v[1],
                    duration_minutes=v[2],
                    price=v[3],
                    actor=actor,
                )
            return lambda s: catalogue.change_service(
                session=s,
                service_id=service.id,
                type_name=v[0],
                name=v[1],
                duration_minutes=v[2],
                price=v[3],
                actor=actor,
            )

        title = "New service" if service is None else "Service"
        self.app.push_screen(CatalogueDialog(title, fields, save_service), after)

    def action_toggle_active(self) -> None:
        row = self.current()
        if row is None:
            return
        tab, actor, active = self.tab, self.fd.operator, not row.active
        what = "branch" if tab == BRANCHES else "service"
        row_id = row.id

        def work(s: Session) -> Any:
            if tab == BRANCHES:
                return catalogue.set_branch_active(
                    session=s, branch_id=row_id, active=active, actor=actor
                )
            return catalogue.set_service_active(
                session=s, service_id=row_id, active=active, actor=actor
            )

        def done(_: object) -> None:
            state = "taken back into use" if active else "deactivated"
            self.notify(f"{what.capitalize()} {state}: {row.name}", markup=False)
            self.reload(focus=(tab, row_id))

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_write(work, then=done)

        yes = "Reactivate" if active else "Deactivate"
        question = Text.assemble(f"{yes} the {what} ", user_text(row.name, "bold"), "?")
        if not active:
            question.append(" It is no longer offered for new bookings; bookings made keep it.")
        self.app.push_screen(ConfirmModal(question, yes), confirmed)


def _columns(labels: Sequence[str]) -> list[tuple[str | Text, str]]:
    return [(label, label.lower()) for label in labels]


def cells(row: BranchRow | ServiceRow) -> list[Text]:
    """A row of a list; a deactivated one is dimmed and says so."""
    style = "" if row.active else "dim"
    state = Text("active") if row.active else Text("deactivated", "italic dim")
    if isinstance(row, BranchRow):
        return [
            user_text(row.name, style),
            user_text(row.address, style),
            user_text(format_phone(row.phone) if row.phone else "", style),
            state,
        ]
    return [
        user_text(row.type_name, style),
        user_text(row.name, style),
        Text(f"{row.duration_minutes} min", style),
        Text(row.price, style),
        state,
    ]

"""Settings for admins: custom fields, categories, tags, loyalty programs, note categories."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    Select,
    Switch,
    TabbedContent,
    TabPane,
)

from frontdesk.data import fields, notes, rewards
from frontdesk.data.errors import FrontdeskError
from frontdesk.data.models import FieldType
from frontdesk.data.tags import create_tag, save_category
from frontdesk.screens.common import ConfirmModal

if TYPE_CHECKING:
    from frontdesk.app import FrontdeskApp

TYPES = [(t.value.replace("_", " "), t.value) for t in FieldType]


@dataclass(frozen=True)
class FieldForm:
    label: str
    key: str
    type: str
    required: bool
    choices: list[str]
    help_text: str


class FieldModal(ModalScreen[FieldForm | None]):
    AUTO_FOCUS = "#fd-label"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, initial: FieldForm | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.initial = initial

    def compose(self) -> ComposeResult:
        i = self.initial
        with Vertical(classes="dialog"):
            yield Label("Custom field  ·  ctrl+s saves", classes="dialog-title")
            yield Label("Label")
            yield Input(i.label if i else "", id="fd-label")
            yield Label("Key (empty: made from the label)")
            yield Input(i.key if i else "", id="fd-key")
            yield Label("Type")
            yield Select[str](TYPES, id="fd-type", allow_blank=False, value=i.type if i else "text")
            yield Label("Choices (comma separated, for choice types)")
            yield Input(", ".join(i.choices) if i else "", id="fd-choices")
            yield Label("Help text")
            yield Input(i.help_text if i else "", id="fd-help")
            yield Label("Required")
            yield Switch(i.required if i else False, id="fd-required")
            yield Label("", id="fd-error", classes="error")

    def action_save(self) -> None:
        label = self.query_one("#fd-label", Input).value.strip()
        if not label:
            self.query_one("#fd-error", Label).update("Label is required")
            return
        self.dismiss(
            FieldForm(
                label=label,
                key=self.query_one("#fd-key", Input).value.strip(),
                type=str(self.query_one("#fd-type", Select).value),
                required=self.query_one("#fd-required", Switch).value,
                choices=[
                    c.strip()
                    for c in self.query_one("#fd-choices", Input).value.split(",")
                    if c.strip()
                ],
                help_text=self.query_one("#fd-help", Input).value,
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)


class LineModal(ModalScreen[list[str] | None]):
    """A few labelled one-line inputs (name, symbol ...)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, title: str, labels: list[str], values: list[str] | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.labels = labels
        self.values = values or [""] * len(labels)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"{self.title_text}  ·  ctrl+s saves", classes="dialog-title")
            for i, (label, value) in enumerate(zip(self.labels, self.values, strict=True)):
                yield Label(label)
                yield Input(value, id=f"ln-{i}")

    def on_mount(self) -> None:
        self.query_one("#ln-0", Input).focus()

    def on_input_submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        self.dismiss([self.query_one(f"#ln-{i}", Input).value for i in range(len(self.labels))])

    def action_cancel(self) -> None:
        self.dismiss(None)


class SettingsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("a", "add", "Add"),
        Binding("enter", "edit", "Edit"),
        Binding("z", "archive", "Archive / restore field"),
        Binding("delete", "delete", "Delete field"),
        Binding("K", "move(-1)", "Move up"),
        Binding("J", "move(1)", "Move down"),
    ]

    @property
    def fd(self) -> FrontdeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="settings-tabs"):
            with TabPane("Custom fields", id="s-fields"):
                yield DataTable(id="s-fields-table", cursor_type="row")
            with TabPane("Categories", id="s-categories"):
                yield DataTable(id="s-categories-table", cursor_type="row")
            with TabPane("Tags", id="s-tags"):
                yield DataTable(id="s-tags-table", cursor_type="row")
            with TabPane("Loyalty programs", id="s-programs"):
                yield DataTable(id="s-programs-table", cursor_type="row")
            with TabPane("Note categories", id="s-notecats"):
                yield DataTable(id="s-notecats-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Settings"
        self.query_one("#s-fields-table", DataTable).add_columns(
            "Label", "Key", "Type", "Required", "Choices", "State", "Values"
        )
        self.query_one("#s-categories-table", DataTable).add_columns("Symbol", "Name", "Colour")
        self.query_one("#s-tags-table", DataTable).add_columns("Tag")
        self.query_one("#s-programs-table", DataTable).add_columns(
            "Program", "Unit", "Active", "Expiry (days)", "Per currency unit", "Per visit"
        )
        self.query_one("#s-notecats-table", DataTable).add_columns("Category", "Alert")
        self.reload()

    @property
    def tab(self) -> str:
        return str(self.query_one("#settings-tabs", TabbedContent).active)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("archive", "delete", "move"):
            return self.tab == "s-fields"
        return True

    @on(TabbedContent.TabActivated)
    def tab_changed(self) -> None:
        self.refresh_bindings()

    def reload(self) -> None:
        from frontdesk.data.directory import load_lookups

        def load(s: Any) -> tuple[Any, ...]:
            defs = fields.list_fields(session=s, include_archived=True)
            counts = {f.id: fields.count_values(session=s, field_id=f.id or 0) for f in defs}
            return (
                defs,
                counts,
                load_lookups(session=s),
                rewards.list_programs(session=s),
                notes.list_categories(session=s),
            )

        defs, counts, lk, programs, notecats = self.fd.read(load)
        self.rows: dict[str, list[Any]] = {
            "s-fields": defs,
            "s-categories": list(lk.categories.values()),
            "s-tags": list(lk.tags.values()),
            "s-programs": programs,
            "s-notecats": notecats,
        }
        t = self.query_one("#s-fields-table", DataTable)
        t.clear()
        for f in defs:
            t.add_row(
                f.label,
                f.key,
                f.type.replace("_", " "),
                "yes" if f.required else "",
                ", ".join(f.choices or []),
                "archived" if f.archived else "active",
                str(counts[f.id]),
                key=str(f.id),
            )
        t = self.query_one("#s-categories-table", DataTable)
        t.clear()
        for c in lk.categories.values():
            t.add_row(c.symbol, c.name, c.colour, key=str(c.id))
        t = self.query_one("#s-tags-table", DataTable)
        t.clear()
        for tag in lk.tags.values():
            t.add_row(tag.name, key=str(tag.id))
        t = self.query_one("#s-programs-table", DataTable)
        t.clear()
        for p in programs:
            t.add_row(
                p.name + (" (default)" if p.is_default else ""),
                p.unit,
                "yes" if p.active else "no",
                str(p.default_expiry_days or ""),
                str(p.points_per_currency_unit or ""),
                str(p.points_per_visit or ""),
                key=str(p.id),
            )
        t = self.query_one("#s-notecats-table", DataTable)
        t.clear()
        for n in notecats:
            t.add_row(n.name, "yes" if n.is_alert else "", key=str(n.id))

    def current(self) -> Any:
        table = self.query_one(f"#{self.tab}-table", DataTable)
        if table.row_count == 0:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return next((r for r in self.rows[self.tab] if str(r.id) == key.value), None)

    def save(self, work: Any, done: str) -> None:
        try:
            self.fd.write(work)
        except FrontdeskError as exc:
            self.notify(str(exc), severity="error", timeout=6)
            return
        self.notify(done)
        self.reload()

    def action_add(self) -> None:
        self.edit(None)

    @on(DataTable.RowSelected)
    def row_selected(self) -> None:
        self.action_edit()  # enter on a row (the table takes the key before the screen)

    def action_edit(self) -> None:
        row = self.current()
        if row is not None:
            self.edit(row)

    def edit(self, row: Any) -> None:
        tab = self.tab
        row_id = row.id if row is not None else None
        if tab == "s-fields":
            initial = (
                FieldForm(
                    row.label,
                    row.key,
                    row.type,
                    row.required,
                    list(row.choices or []),
                    row.help_text or "",
                )
                if row
                else None
            )

            def done(form: FieldForm | None) -> None:
                if form:
                    self.save(
                        lambda s: fields.save_field(
                            session=s,
                            label=form.label,
                            key=form.key or None,
                            type=form.type,
                            required=form.required,
                            choices=form.choices,
                            help_text=form.help_text,
                            field_id=row_id,
                        ),
                        "Field saved",
                    )

            self.app.push_screen(FieldModal(initial), done)
        elif tab == "s-categories":
            values = [row.name, row.symbol, row.colour] if row else None

            def cat_done(v: list[str] | None) -> None:
                if v:
                    self.save(
                        lambda s: save_category(
                            session=s, name=v[0], symbol=v[1], colour=v[2], category_id=row_id
                        ),
                        "Category saved",
                    )

            self.app.push_screen(
                LineModal("Category", ["Name", "Symbol (e.g. ★)", "Colour (e.g. gold)"], values),
                cat_done,
            )
        elif tab == "s-tags":
            if row is not None:
                self.notify(
                    "Tags are added here; rename by adding the new one and bulk-moving customers"
                )
                return

            def tag_done(v: list[str] | None) -> None:
                if v:
                    self.save(lambda s: create_tag(session=s, name=v[0]), "Tag added")

            self.app.push_screen(LineModal("New tag", ["Name"]), tag_done)
        elif tab == "s-programs":
            values = (
                [
                    row.name,
                    row.unit,
                    str(row.default_expiry_days or ""),
                    str(row.points_per_currency_unit),
                    str(row.points_per_visit),
                    "yes" if row.active else "no",
                ]
                if row
                else ["", "points", "", "0", "0", "yes"]
            )

            def program_done(v: list[str] | None) -> None:
                if not v:
                    return
                try:
                    expiry = int(v[2]) if v[2].strip() else None
                    per_unit, per_visit = int(v[3] or 0), int(v[4] or 0)
                except ValueError:
                    self.notify(
                        "Expiry, points per unit and per visit are whole numbers", severity="error"
                    )
                    return
                self.save(
                    lambda s: rewards.save_program(
                        session=s,
                        name=v[0],
                        unit=v[1],
                        default_expiry_days=expiry,
                        points_per_currency_unit=per_unit,
                        points_per_visit=per_visit,
                        active=v[5].strip().lower() not in ("no", "n", "false", "0"),
                        program_id=row_id,
                    ),
                    "Program saved",
                )

            labels = [
                "Name",
                "Unit (points, credits ...)",
                "Default expiry in days (empty: never)",
                "Points per currency unit paid",
                "Points per completed visit",
                "Active (yes/no)",
            ]
            self.app.push_screen(LineModal("Loyalty program", labels, values), program_done)
        elif tab == "s-notecats":
            values = [row.name, "yes" if row.is_alert else "no"] if row else ["", "no"]

            def note_done(v: list[str] | None) -> None:
                if v:
                    alert = v[1].strip().lower() in ("yes", "y", "true", "1")
                    self.save(
                        lambda s: notes.save_category(
                            session=s, name=v[0], is_alert=alert, category_id=row_id
                        ),
                        "Note category saved",
                    )

            self.app.push_screen(
                LineModal("Note category", ["Name", "Alert category (yes/no)"], values), note_done
            )

    def action_move(self, direction: int) -> None:
        row = self.current()
        if row is None:
            return
        self.save(
            lambda s: fields.move_field(session=s, field_id=row.id, direction=direction),
            "Order changed",
        )
        table = self.query_one("#s-fields-table", DataTable)
        table.move_cursor(row=table.get_row_index(str(row.id)))

    def action_archive(self) -> None:
        row = self.current()
        if row is not None:
            self.save(
                lambda s: fields.archive_field(
                    session=s, field_id=row.id, archived=not row.archived
                ),
                "Field restored" if row.archived else "Field archived (values kept)",
            )

    def action_delete(self) -> None:
        row = self.current()
        if row is None:
            return
        count = self.fd.read(lambda s: fields.count_values(session=s, field_id=row.id))

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.save(
                    lambda s: fields.delete_field(session=s, field_id=row.id),
                    f"Field deleted with {count} values",
                )

        self.app.push_screen(
            ConfirmModal(
                f"Delete the field {row.label!r} and its {count:,} values? This cannot be undone.",
                "Delete",
            ),
            confirmed,
        )

    def action_back(self) -> None:
        self.dismiss(None)

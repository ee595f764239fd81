"""Settings for admins: custom fields, categories, tags, loyalty programs, note categories,
message templates, staff (Staff tab: add, change, deactivate / reactivate; also ``frontdesk
staff``) and the business settings (Business tab, also ``frontdesk settings``).

Every read and write runs off the UI thread through one use-case service of
:mod:`frontdesk.data.settings_flow`. A dialog saves while it is open: a value the service
refuses (``ValidationFailed``) is shown under the field it belongs to and nothing typed is lost.
Names, labels and stored colours are user data: shown literally, colours through ``safe_style``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.widgets import (
    DataTable,
    Header,
    Input,
    Label,
    Switch,
    TabbedContent,
    TabPane,
)

from frontdesk.data import fields, settings_flow
from frontdesk.data import staff as staff_service
from frontdesk.data import tags as tags_service
from frontdesk.data.business_settings import (
    GROUPS,
    SECRET_SOURCES,
    BusinessSetting,
    save_business_setting,
)
from frontdesk.data.colours import DEFAULT_COLOUR, to_hex
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.messaging import templates as tpl
from frontdesk.data.models import FieldType
from frontdesk.data.outcomes import counted
from frontdesk.data.settings_flow import (
    FieldForm,
    ProgramForm,
    SettingsPage,
    add_tag_form,
    load_settings_page,
    save_category_form,
    save_field_form,
    save_note_category_form,
    save_program_form,
)
from frontdesk.screens.common import (
    ConfirmModal,
    SavingDialog,
    discard_or_stay,
    fill_table,
    set_message,
)
from frontdesk.screens.messaging import TemplateForm, TemplateModal
from frontdesk.screens.staff_admin import STAFF_COLUMNS, StaffForm, StaffModal, staff_cells
from frontdesk.text import join, safe_colour, safe_style, user_text
from frontdesk.widgets.base import FrontdeskModal, FrontdeskScreen
from frontdesk.widgets.footer import KeyFooter
from frontdesk.widgets.select import Select

__all__ = [
    "BusinessSettingModal",
    "FieldForm",
    "FieldModal",
    "LineModal",
    "SettingsScreen",
    "colour_hint",
]

TYPES = [(Text(t.value.replace("_", " ")), t.value) for t in FieldType]

# What a dialog saves: the session work for what was typed (built by the screen).
Saver = Callable[[Session], object]


def _message_for(exc: Exception) -> Text:
    if isinstance(exc, ValidationFailed):
        return user_text(exc.message)
    return user_text(f"Not saved: {exc}")


def message_label(label_id: str, text: Text | None = None, *, error: bool = False) -> Label:
    """The line under a field for its message or hint; hidden while there is none."""
    label = Label(text or "", id=label_id, classes="field-msg error" if error else "field-msg")
    label.display = bool(text)
    return label


def colour_cell(colour: str | None) -> Text:
    """A stored colour: a swatch drawn in it and its value; one that cannot be drawn says so."""
    if safe_colour(colour) is None:
        return join(Text("  "), user_text(colour), Text("(unreadable: edit to fix)", "italic dim"))
    return join(Text("██", style=safe_style(colour)), user_text(colour))


def colour_hint(value: str) -> Text:
    """What a typed colour will be stored as, drawn in that colour (pure, no database)."""
    if not value.strip():
        return join(
            Text("██", style=safe_style(DEFAULT_COLOUR)), Text(f"empty: grey ({DEFAULT_COLOUR})")
        )
    found = to_hex(value)
    if found is None:
        return Text("#rrggbb or a colour name such as gold, teal, light blue", style="italic")
    return join(Text("██", style=safe_style(found)), Text(f"stored as {found}"))


class FieldModal(SavingDialog):
    """Add or change a custom field; ctrl+s saves through ``save`` and closes on success
    (with the form; what the service returned is in ``result``)."""

    AUTO_FOCUS = "#fd-label"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]
    PREFIX = "fd"
    # Service field name -> the widget it is shown under.
    FIELD_OF = {"help_text": "help"}

    def __init__(
        self,
        initial: FieldForm | None = None,
        *,
        save: Callable[[FieldForm], Saver] | None = None,
    ) -> None:
        super().__init__()
        self.initial = initial
        self.save = save

    def compose(self) -> ComposeResult:
        i = self.initial
        line = self.message_line
        with Vertical(classes="dialog", id="field-dialog"):
            yield Label("Custom field  ·  ctrl+s saves", classes="dialog-title")
            yield Label("Label")
            yield Input(i.label if i else "", id="fd-label")
            yield line("fd-label-msg")
            yield Label("Key (empty: made from the label)")
            yield Input(i.key if i else "", id="fd-key")
            yield line("fd-key-msg")
            yield Label("Type")
            yield Select[str](TYPES, id="fd-type", allow_blank=False, value=i.type if i else "text")
            yield line("fd-type-msg")
            yield Label("Choices (comma separated, for choice types)")
            yield Input(", ".join(i.choices) if i else "", id="fd-choices")
            yield line("fd-choices-msg")
            yield Label("Help text")
            yield Input(i.help_text if i else "", id="fd-help")
            yield line("fd-help-msg")
            yield Label("Required")
            yield Switch(i.required if i else False, id="fd-required")
            yield line("fd-error")

    def form(self) -> FieldForm:
        return FieldForm(
            label=self.query_one("#fd-label", Input).value.strip(),
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

    def action_save(self) -> None:
        if self.saving:
            return
        form = self.form()
        self.clear_messages()
        if self.save is None:
            if not form.label:
                self.show_error(ValidationFailed("label", "Label is required"))
                return
            self.dismiss(form)
            return
        self.save_with(self.save(form), closing_with=form)

    def action_cancel(self) -> None:
        if self.saving:
            return  # a save under way closes the dialog itself
        # As the other settings dialogs: what was typed is not thrown away without a question.
        start = self.initial or FieldForm("", "", "text", False, [], "")
        discard_or_stay(self, "Discard your changes?", changed=self.form() != start)


class LineModal(FrontdeskModal[list[str] | None]):
    """A few labelled one-line inputs (name, symbol ...); ctrl+s (or enter) saves.

    With ``save`` the dialog stays open while the values are saved, and a value the service
    refuses is shown under its input: ``fields`` names the service field of each input.
    ``hints`` shows, under an input, what is being typed will become (e.g. a colour swatch).
    """

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]
    AUTO_FOCUS = "#ln-0"

    def __init__(
        self,
        title: str | Text,
        labels: Sequence[str],
        values: Sequence[str] | None = None,
        *,
        fields: Sequence[str] | None = None,
        save: Callable[[list[str]], Saver] | None = None,
        hints: dict[int, Callable[[str], Text]] | None = None,
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.labels = list(labels)
        self.values = list(values) if values is not None else [""] * len(self.labels)
        self.fields = list(fields or [])
        self.save = save
        self.hints = hints or {}
        self.saving = False
        self.result: object = None  # what ``save`` returned (the saved row)

    def compose(self) -> ComposeResult:
        title = self.title_text if isinstance(self.title_text, Text) else user_text(self.title_text)
        with Vertical(classes="dialog", id="line-dialog"):
            yield Label(join(title, Text(" ·  ctrl+s saves"), sep=" "), classes="dialog-title")
            for i, (label, value) in enumerate(zip(self.labels, self.values, strict=True)):
                yield Label(Text(label))
                yield Input(value, id=f"ln-{i}")
                hint = self.hints.get(i)
                yield message_label(f"ln-{i}-msg", hint(value) if hint else None)
            yield message_label("ln-error", error=True)

    def on_input_changed(self, event: Input.Changed) -> None:
        index = self._index_of(event.input)
        if index is None:
            return
        message = self.query_one(f"#ln-{index}-msg", Label)
        message.remove_class("error")
        hint = self.hints.get(index)
        set_message(message, hint(event.value) if hint else None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    @staticmethod
    def _index_of(widget: Any) -> int | None:
        widget_id = getattr(widget, "id", None) or ""
        if not widget_id.startswith("ln-"):
            return None
        try:
            return int(widget_id[3:])
        except ValueError:
            return None

    def typed(self) -> list[str]:
        return [self.query_one(f"#ln-{i}", Input).value for i in range(len(self.labels))]

    def action_save(self) -> None:
        if self.saving:
            return
        values = self.typed()
        if self.save is None:
            self.dismiss(values)
            return
        set_message(self.query_one("#ln-error", Label), None)
        self.saving = True

        def done(result: object) -> None:
            self.result = result
            self.dismiss(values)

        self.run_write(self.save(values), then=done, on_error=self.show_error)

    def show_error(self, exc: Exception) -> None:
        self.saving = False
        field_name = exc.field if isinstance(exc, ValidationFailed) else None
        if field_name is None or field_name not in self.fields:
            set_message(self.query_one("#ln-error", Label), _message_for(exc))
            return
        index = self.fields.index(field_name)
        message = self.query_one(f"#ln-{index}-msg", Label)
        message.add_class("error")
        set_message(message, _message_for(exc))
        self.set_focus(self.query_one(f"#ln-{index}", Input))

    def action_cancel(self) -> None:
        if self.saving:
            return  # the save closes the dialog (or shows what it refused)
        changed = self.typed() != self.values
        discard_or_stay(self, "Discard your changes?", changed=changed)


class BusinessSettingModal(FrontdeskModal[BusinessSetting | None]):
    """Change one business setting: a line to type, or a Select for yes/no and choices.

    Enter (in the line) or ctrl+s saves through ``save`` while the dialog stays open; a value
    the service refuses is shown under the field and what was typed stays."""

    AUTO_FOCUS = "#bs-value"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self, setting: BusinessSetting, *, save: Callable[[str], Saver] | None = None
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.setting = setting
        self.save = save
        self.saving = False

    def compose(self) -> ComposeResult:
        info = self.setting.info
        with Vertical(classes="dialog", id="setting-dialog"):
            yield Label(
                Text.assemble((info.label, "bold"), f" ({info.key})  ·  ctrl+s saves"),
                classes="dialog-title",
            )
            yield Label(Text(info.description), classes="muted")
            if info.options:
                options = [(Text(o), o) for o in info.options]
                start = self.setting.text if self.setting.text in info.options else info.options[0]
                yield Select[str](options, id="bs-value", allow_blank=False, value=start)
            else:
                yield Input(self.setting.text, id="bs-value")
            yield message_label("bs-value-msg", error=True)

    def typed(self) -> str:
        widget = self.query_one("#bs-value")
        if isinstance(widget, Input):
            return widget.value
        return str(self.query_one("#bs-value", Select).value)

    def on_input_changed(self, event: Input.Changed) -> None:
        set_message(self.query_one("#bs-value-msg", Label), None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        if self.saving:
            return
        value = self.typed()
        if self.save is None:
            self.dismiss(self.setting)
            return
        set_message(self.query_one("#bs-value-msg", Label), None)
        self.saving = True
        self.hold_keys()  # keys typed after enter wait for the outcome (e.g. a fix)
        self.run_write(self.save(value), then=self.saved, on_error=self.show_error)

    def saved(self, result: object) -> None:
        self.dismiss(result if isinstance(result, BusinessSetting) else self.setting)

    def show_error(self, exc: Exception) -> None:
        self.saving = False
        self.release_keys()
        message = _message_for(exc)
        message.plain = message.plain[:1].upper() + message.plain[1:]  # "Must be ..."
        set_message(self.query_one("#bs-value-msg", Label), message)
        self.set_focus(self.query_one("#bs-value"))

    def action_cancel(self) -> None:
        if self.saving:
            return  # the save closes the dialog (or shows what it refused)
        info = self.setting.info
        start = self.setting.text
        if info.options and start not in info.options:
            start = info.options[0]
        discard_or_stay(self, f"Discard the change to {info.label}?", changed=self.typed() != start)


def business_rows(settings: Sequence[BusinessSetting]) -> list[tuple[str, list[Text]]]:
    """The Business tab: a heading row per group, then its settings (key, cells)."""
    rows: list[tuple[str, list[Text]]] = []
    for group in GROUPS:
        rows.append((f"group:{group}", [Text(group, "bold"), Text(""), Text("")]))
        for setting in settings:
            if setting.info.group != group:
                continue
            if not setting.info.editable:
                value = Text("not shown here", "italic dim")
            elif setting.text == "":
                value = Text("(empty)", "dim")
            else:
                value = user_text(setting.text)
                if setting.is_default:
                    value.append(" (default)", "dim")
            rows.append(
                (
                    setting.key,
                    [Text("  " + setting.info.label), value, Text(setting.info.description)],
                )
            )
    return rows


TABLES = {
    "s-fields": ("Label", "Key", "Type", "Required", "Choices", "State", "Values"),
    "s-categories": ("Symbol", "Name", "Colour"),
    "s-tags": ("Tag", "Colour"),
    "s-programs": ("Program", "Unit", "Active", "Expiry (days)", "Per currency unit", "Per visit"),
    "s-notecats": ("Category", "Alert"),
    "s-templates": ("Template", "Channel", "Subject", "Body"),
    "s-staff": STAFF_COLUMNS,
    "s-business": ("Setting", "Value", "About"),
}


def _customers(number: int, *, capital: bool = False) -> str:
    """ "1 customer", "1,234 customers" (capitalised to begin a sentence)."""
    said = counted(number, "customer")
    return said[:1].upper() + said[1:] if capital else said


def _columns(labels: Sequence[str]) -> list[tuple[str | Text, str]]:
    return [(label, label.lower()) for label in labels]


class SettingsScreen(FrontdeskScreen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("a", "add", "Add"),
        Binding("enter", "edit", "Edit"),
        Binding("e", "edit", "Edit", show=False),
        Binding("z", "archive", "Archive / restore field"),
        Binding("d", "toggle_active", "Deactivate / reactivate"),
        Binding("delete", "delete", "Delete"),
        Binding("K", "move(-1)", "Move up"),
        Binding("J", "move(1)", "Move down"),
        Binding("down", "into_list", show=False),
        Binding("B", "app.catalogue", "Services", tooltip="Branches & services"),
        *(
            Binding(str(n), f"show_tab({n})", f"Tab {n}", show=False, tooltip="Go to that tab")
            for n in range(1, 9)
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.page = SettingsPage()
        self.rows: dict[str, list[Any]] = {tab: [] for tab in TABLES}
        self.templates: list[Any] = []
        self.business: list[BusinessSetting] = []
        self.loaded = False

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
            with TabPane("Message templates", id="s-templates"):
                yield DataTable(id="s-templates-table", cursor_type="row")
            if self.fd.may("staff"):  # staff: admins only
                with TabPane("Staff", id="s-staff"):
                    yield DataTable(id="s-staff-table", cursor_type="row")
            if self.fd.may("settings"):  # business settings: admins only
                with TabPane("Business", id="s-business"):
                    yield DataTable(id="s-business-table", cursor_type="row")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Settings"
        for tab, columns in TABLES.items():
            if not self.query(f"#{tab}-table"):
                continue
            fill_table(self.query_one(f"#{tab}-table", DataTable), _columns(columns), [])
        self.reload()

    @property
    def tab(self) -> str:
        return str(self.query_one("#settings-tabs", TabbedContent).active)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "delete":
            return self.tab in ("s-fields", "s-tags", "s-categories", "s-templates")
        if action in ("archive", "move"):
            return self.tab == "s-fields"
        if action == "toggle_active":
            return self.tab == "s-staff"
        if action == "add":
            return self.tab != "s-business"
        return True

    @on(TabbedContent.TabActivated)
    def tab_changed(self) -> None:
        self.refresh_bindings()

    def action_show_tab(self, number: int) -> None:
        """``1``-``8``: the tab with that number (from the left), its list focused."""
        tabs = self.query_one("#settings-tabs", TabbedContent)
        panes = [pane.id for pane in tabs.query(TabPane) if pane.id]
        if 1 <= number <= len(panes):
            tabs.active = panes[number - 1]
            self.action_into_list()

    def action_into_list(self) -> None:
        """``down`` on the row of tabs goes into the tab's list (it did nothing: ``tab`` did
        it). The lists take ``down`` themselves once focused."""
        tables = self.query(f"#{self.tab}-table")
        if tables:
            self.set_focus(tables.first(DataTable))

    # ------------------------------------------------------------------ loading
    def reload(self, focus: tuple[str, int | str | None] | None = None) -> None:
        """Read every list again; ``focus`` = (tab, row id) puts the cursor on that row.

        Keys typed meanwhile (enter on a row, K / J) wait until the lists are shown."""
        self.hold_keys()

        def loaded(page: SettingsPage) -> None:
            self.templates, self.business = list(page.templates), page.business
            self.show(page, focus)
            self.call_after_refresh(self.release_keys)

        def failed(_: Exception) -> None:
            self.release_keys()

        self.run_read(lambda s: load_settings_page(session=s), then=loaded, on_error=failed)

    def show(self, page: SettingsPage, focus: tuple[str, int | str | None] | None = None) -> None:
        self.page = page
        self.loaded = True
        self.rows = {
            "s-fields": page.fields,
            "s-categories": page.categories,
            "s-tags": page.tags,
            "s-programs": page.programs,
            "s-notecats": page.note_categories,
            "s-templates": self.templates,
            "s-staff": page.staff,
        }
        for tab, rows in self.rows.items():
            if not self.query(f"#{tab}-table"):
                continue  # a tab this operator does not see
            table = self.query_one(f"#{tab}-table", DataTable)
            wanted = focus[1] if focus is not None and focus[0] == tab else None
            keep_row = table.cursor_row
            fill_table(
                table,
                _columns(TABLES[tab]),
                [(str(row.id), self.cells(tab, row)) for row in rows],
            )
            if wanted is not None and str(wanted) in {str(r.id) for r in rows}:
                table.move_cursor(row=table.get_row_index(str(wanted)))
            elif rows:
                table.move_cursor(row=min(keep_row, len(rows) - 1))
        if self.query("#s-business-table"):
            self.show_business(focus[1] if focus and focus[0] == "s-business" else None)

    def show_business(self, focus: object = None) -> None:
        table = self.query_one("#s-business-table", DataTable)
        keep_row = table.cursor_row
        rows = business_rows(self.business)
        fill_table(table, _columns(TABLES["s-business"]), rows)
        keys = [key for key, _ in rows]
        if focus is not None and str(focus) in keys:
            table.move_cursor(row=keys.index(str(focus)))
        else:
            table.move_cursor(row=self._setting_row(min(keep_row, len(rows) - 1)))

    def _setting_row(self, row: int) -> int:
        """``row``, or the first setting after it when it is a group's heading (the tab
        opened on the "Business" heading, where enter did nothing)."""
        table = self.query_one("#s-business-table", DataTable)
        settings = {s.key for s in self.business}
        for index in range(max(row, 0), table.row_count):
            key, _ = table.coordinate_to_cell_key(Coordinate(index, 0))
            if key.value in settings:
                return index
        return row

    def cells(self, tab: str, row: Any) -> list[Text]:
        if tab == "s-fields":
            return [
                user_text(row.label),
                user_text(row.key),
                Text(row.type.replace("_", " ")),
                Text("yes" if row.required else ""),
                user_text(", ".join(row.choices or [])),
                Text("archived" if row.archived else "active"),
                Text(f"{self.page.value_counts.get(row.id, 0):,}"),
            ]
        if tab == "s-categories":
            return [
                user_text(row.symbol, safe_style(row.colour, "bold")),
                user_text(row.name),
                colour_cell(row.colour),
            ]
        if tab == "s-tags":
            return [user_text(row.name), colour_cell(row.colour)]
        if tab == "s-programs":
            return [
                join(user_text(row.name), Text("(default)" if row.is_default else "")),
                user_text(row.unit),
                Text("yes" if row.active else "no"),
                Text(str(row.default_expiry_days or "")),
                Text(str(row.points_per_currency_unit or "")),
                Text(str(row.points_per_visit or "")),
            ]
        if tab == "s-templates":
            return [
                user_text(row.name),
                Text(row.channel),
                user_text(row.subject or ""),
                user_text((row.body or "").replace("\n", " ")[:60]),
            ]
        if tab == "s-staff":
            me = self.fd.operator.id if self.fd.operator is not None else None
            return staff_cells(row, self.page.branch_names, me)
        return [user_text(row.name), Text("yes" if row.is_alert else "")]

    def current(self) -> Any:
        table = self.query_one(f"#{self.tab}-table", DataTable)
        if table.row_count == 0:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return next((r for r in self.rows[self.tab] if str(r.id) == key.value), None)

    def saved(self, done: str, tab: str, row_id: int | str | None = None) -> None:
        self.notify(done, markup=False)
        self.reload(focus=(tab, row_id))

    # ------------------------------------------------------------------ actions
    def action_add(self) -> None:
        self.edit(None)

    @on(DataTable.RowSelected)
    def row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit()  # enter on a row (the table takes the key before the screen)

    def action_edit(self) -> None:
        if not self.loaded:
            return
        if self.tab == "s-business":
            self.edit_setting()
            return
        row = self.current()
        if row is not None:
            self.edit(row)

    def current_setting(self) -> BusinessSetting | None:
        table = self.query_one("#s-business-table", DataTable)
        if table.row_count == 0:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return next((s for s in self.business if s.key == key.value), None)

    def edit_setting(self) -> None:
        """Enter on a business setting: its dialog (a secret: where it comes from); on a
        group's heading, the group's first setting's."""
        table = self.query_one("#s-business-table", DataTable)
        if table.row_count and self.current_setting() is None:
            table.move_cursor(row=self._setting_row(table.cursor_row))
        setting = self.current_setting()
        if setting is None:
            return
        if not setting.info.editable:
            self.notify(SECRET_SOURCES.get(setting.key, ""), markup=False, timeout=8)
            return
        key, actor = setting.key, self.fd.operator

        def save(value: str) -> Saver:
            return lambda s: save_business_setting(session=s, key=key, value=value, actor=actor)

        def after(answer: BusinessSetting | None) -> None:
            if answer is not None:
                done = f"{answer.info.label}: {answer.text or '(empty)'}"
                self.saved(done, "s-business", key)

        self.app.push_screen(BusinessSettingModal(setting, save=save), after)

    def edit(self, row: Any) -> None:
        tab = self.tab
        row_id: int | None = row.id if row is not None else None
        actor = self.fd.operator

        def open_dialog(
            modal: FieldModal | LineModal | TemplateModal | StaffModal, done: str
        ) -> None:
            def after(answer: object) -> None:
                if answer is not None:
                    saved_id = getattr(modal.result, "id", None) or row_id
                    self.saved(done, tab, saved_id)

            self.app.push_screen(modal, after)

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

            def save_field(form: FieldForm) -> Saver:
                return lambda s: save_field_form(session=s, form=form, field_id=row_id, actor=actor)

            open_dialog(FieldModal(initial, save=save_field), "Field saved")
        elif tab == "s-categories":
            values = [row.name, row.symbol, row.colour] if row else ["", "", ""]

            def save_category(v: list[str]) -> Saver:
                return lambda s: save_category_form(
                    session=s,
                    name=v[0],
                    symbol=v[1],
                    colour=v[2],
                    category_id=row_id,
                    actor=actor,
                )

            open_dialog(
                LineModal(
                    "Category",
                    [
                        "Name",
                        "Symbol (one or two characters, e.g. ★)",
                        "Colour (e.g. gold, #ffd700)",
                    ],
                    values,
                    fields=["name", "symbol", "colour"],
                    save=save_category,
                    hints={2: colour_hint},
                ),
                "Category saved",
            )
        elif tab == "s-tags":
            if row is None:

                def save_tag(v: list[str]) -> Saver:
                    return lambda s: add_tag_form(session=s, name=v[0], actor=actor)

                open_dialog(
                    LineModal("New tag", ["Name"], fields=["name"], save=save_tag), "Tag added"
                )
                return
            tag_id = row.id

            def change_tag(v: list[str]) -> Saver:
                return lambda s: settings_flow.change_tag_form(
                    session=s, tag_id=tag_id, name=v[0], colour=v[1], actor=actor
                )

            open_dialog(
                LineModal(
                    "Tag (its customers keep it)",
                    ["Name", "Colour (e.g. gold, #ffd700)"],
                    [row.name, row.colour],
                    fields=["name", "colour"],
                    save=change_tag,
                    hints={1: colour_hint},
                ),
                "Tag saved",
            )
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

            def save_program(v: list[str]) -> Saver:
                form = ProgramForm(*v)
                return lambda s: save_program_form(
                    session=s, form=form, program_id=row_id, actor=actor
                )

            labels = [
                "Name",
                "Unit (points, credits ...)",
                "Default expiry in days (empty: never)",
                "Points per currency unit paid",
                "Points per completed visit",
                "Active (yes/no)",
            ]
            names = [
                "name",
                "unit",
                "default_expiry_days",
                "points_per_currency_unit",
                "points_per_visit",
                "active",
            ]
            open_dialog(
                LineModal("Loyalty program", labels, values, fields=names, save=save_program),
                "Program saved",
            )
        elif tab == "s-templates":
            template = (
                TemplateForm(row.name, row.channel, row.subject or "", row.body) if row else None
            )

            def save_template(form: TemplateForm) -> Saver:
                return lambda s: tpl.save_template(
                    session=s,
                    name=form.name,
                    channel=form.channel,
                    subject=form.subject or None,
                    body=form.body,
                    actor=actor,
                    template_id=row_id,
                )

            open_dialog(TemplateModal(template, save=save_template), "Template saved")
        elif tab == "s-staff":
            member = None
            if row:
                at = str(row.branch_id) if row.branch_id is not None else ""
                member = StaffForm(row.name, row.username or "", row.role, at)

            def save_member(form: StaffForm) -> Saver:
                return lambda s: staff_service.save_staff_form(
                    session=s,
                    name=form.name,
                    username=form.username,
                    role=form.role,
                    branch_id=int(form.branch) if form.branch else None,
                    member_id=row_id,
                    actor=actor,
                )

            open_dialog(
                StaffModal(
                    member,
                    save=save_member,
                    branches=self.page.branch_choices(row.branch_id if row else None),
                ),
                "Staff member saved" if row else "Staff member added",
            )
        elif tab == "s-notecats":
            values = [row.name, "yes" if row.is_alert else "no"] if row else ["", "no"]

            def save_note_category(v: list[str]) -> Saver:
                return lambda s: save_note_category_form(
                    session=s, name=v[0], alert=v[1], category_id=row_id, actor=actor
                )

            open_dialog(
                LineModal(
                    "Note category",
                    ["Name", "Alert category (yes/no)"],
                    values,
                    fields=["name", "is_alert"],
                    save=save_note_category,
                ),
                "Note category saved",
            )

    def action_move(self, direction: int) -> None:
        row = self.current()
        if row is None:
            return
        field_id = row.id
        self.run_write(
            lambda s: settings_flow.move_field(
                session=s, field_id=field_id, direction=direction, actor=self.fd.operator
            ),
            then=lambda _: self.reload(focus=("s-fields", field_id)),
        )

    def action_archive(self) -> None:
        row = self.current()
        if row is None:
            return
        field_id, archived = row.id, not row.archived
        done = "Field archived (values kept)" if archived else "Field restored"
        self.run_write(
            lambda s: settings_flow.archive_field(
                session=s, field_id=field_id, archived=archived, actor=self.fd.operator
            ),
            then=lambda _: self.saved(done, "s-fields", field_id),
        )

    def action_delete(self) -> None:
        """``delete``: the highlighted custom field (with its values), tag (taken off its
        customers), category (its customers left without one) or template, after a question
        that says how much goes with it."""
        row = self.current()
        if row is None:
            return
        tab, actor, row_id = self.tab, self.fd.operator, row.id
        if tab == "s-templates":
            self.delete_template(row)
        elif tab == "s-fields":
            self._delete_counted(
                lambda s: fields.count_values(session=s, field_id=row_id),
                lambda s: settings_flow.delete_field(session=s, field_id=row_id, actor=actor),
                lambda n: join(
                    Text("Delete the field"),
                    user_text(row.label, "bold"),
                    Text(f"and its {counted(n, 'value')}? This cannot be undone."),
                ),
                lambda gone: f"Field deleted with {counted(gone, 'value')}",
            )
        elif tab == "s-tags":
            self._delete_counted(
                lambda s: tags_service.tag_use(session=s, tag_id=row_id),
                lambda s: settings_flow.delete_tag(session=s, tag_id=row_id, actor=actor),
                lambda n: Text.assemble(
                    "Delete the tag ",
                    user_text(row.name, "bold"),
                    f"? It is taken off {_customers(n)}." if n else "? No customer has it.",
                ),
                lambda had: f"Tag deleted (taken off {_customers(had)})",
            )
        elif tab == "s-categories":
            self._delete_counted(
                lambda s: tags_service.category_use(session=s, category_id=row_id),
                lambda s: settings_flow.delete_category(session=s, category_id=row_id, actor=actor),
                lambda n: Text.assemble(
                    "Delete the category ",
                    user_text(row.name, "bold"),
                    f"? {_customers(n, capital=True)} in it {'is' if n == 1 else 'are'} left"
                    " without a category."
                    if n
                    else "? No customer is in it.",
                ),
                lambda had: f"Category deleted ({_customers(had)} now without one)",
            )

    def _delete_counted(
        self,
        count: Callable[[Session], int],
        delete: Callable[[Session], int],
        question: Callable[[int], Text],
        done: Callable[[int], str],
    ) -> None:
        """Count what goes with the item (off the UI thread), ask, then delete it. Keys typed
        meanwhile wait for the question ("delete y" at once answers it)."""
        tab = self.tab

        def ask(number: int) -> None:
            def confirmed(yes: bool | None) -> None:
                if yes:
                    self.run_write(delete, then=lambda gone: self.saved(done(gone), tab))

            self.app.push_screen(ConfirmModal(question(number), "Delete"), confirmed)
            self.release_keys()

        def failed(error: Exception) -> None:
            self.release_keys()
            self.fd.show_error(error)

        self.hold_keys()
        self.run_read(count, then=ask, group="count", on_error=failed)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_toggle_active(self) -> None:
        """``d`` on the Staff tab: deactivate the highlighted member (they can no longer
        operate the app; their history stays) or reactivate them, after a question."""
        row = self.current() if self.loaded and self.tab == "s-staff" else None
        if row is None:
            return
        member_id, active, actor = row.id, not row.active, self.fd.operator
        if not active and actor is not None and actor.id == member_id:
            self.notify("You cannot deactivate yourself; ask another admin", severity="error")
            return
        verb = "Reactivate" if active else "Deactivate"
        done = f"{row.name} {'reactivated' if active else 'deactivated'}"

        def refused(exc: Exception) -> None:
            said = exc.message if isinstance(exc, ValidationFailed) else str(exc)
            self.notify(said[:1].upper() + said[1:], severity="error", markup=False)

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_write(
                    lambda s: staff_service.set_staff_active(
                        session=s, member_id=member_id, active=active, actor=actor
                    ),
                    then=lambda _: self.saved(done, "s-staff", member_id),
                    on_error=refused,
                )

        what = (
            Text("? They can operate Frontdesk again.")
            if active
            else Text("? They can no longer operate Frontdesk; their history stays.")
        )
        question = Text.assemble(f"{verb} ", user_text(row.name, "bold"), what)
        self.app.push_screen(ConfirmModal(question, verb), confirmed)

    def delete_template(self, row: Any) -> None:
        template_id, actor = row.id, self.fd.operator

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_write(
                    lambda s: tpl.delete_template(session=s, template_id=template_id, actor=actor),
                    then=lambda _: self.saved("Template deleted", "s-templates"),
                )

        question = Text.assemble("Delete the template ", user_text(row.name, "bold"), "?")
        self.app.push_screen(ConfirmModal(question, "Delete"), confirmed)

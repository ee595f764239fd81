"""The import wizard: choose a file, check the column mapping, preview (dry run), import.

Reading the file, the preview and the import run off the UI thread (``run_task``) through the
use cases of :mod:`frontdesk.data.import_flow`. A value that cannot be used is shown next to
its field. Column headers, example cells and row errors come from the file: user data, shown
literally.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.widgets import DataTable, Header, Input, Label, ProgressBar, Static

from frontdesk.data import importing
from frontdesk.data.errors import FrontdeskError, ValidationFailed
from frontdesk.data.import_flow import (
    FilePreview,
    ImportChoices,
    ImportForm,
    WizardRun,
    inspect_file,
    load_import_choices,
    run_wizard_import,
)
from frontdesk.screens.common import ChoiceModal, fill_table, set_message
from frontdesk.text import join, user_text
from frontdesk.widgets.base import FrontdeskScreen
from frontdesk.widgets.footer import KeyFooter
from frontdesk.widgets.select import Select

# Service field -> the wizard's widget (its message label is ``#<id>-msg``).
FIELD_WIDGETS = {
    "path": "im-path",
    "default_country": "im-country",
    "tag": "im-tag",
    "category": "im-category",
    "branch": "im-branch",
    "program": "im-program",
    "points": "im-points",
}


class ImportProgress(Message):
    """From the import's thread: the row count is known (``total``) or rows were done."""

    def __init__(self, total: int | None = None, advance: int = 0, start: bool = False) -> None:
        super().__init__()
        self.total = total
        self.advance = advance
        self.start = start


class ImportScreen(FrontdeskScreen[None]):
    BINDINGS = [
        Binding("ctrl+o", "load", "Load file", priority=True),
        Binding("ctrl+r", "preview", "Preview", priority=True),
        Binding("ctrl+s", "run", "Import", priority=True),
        Binding("escape", "back", "Back"),
    ]
    AUTO_FOCUS = "#im-path"

    def __init__(self, path: str = "") -> None:
        super().__init__()
        self.initial_path = path
        self.headers: list[str] = []
        self.mapping: dict[str, str] = {}
        self.samples: list[list[str]] = []
        self.choices = ImportChoices()
        self.previewed = False
        self.generation = 0  # the newest preview or import; older results are not shown
        self.importing = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Grid(id="import-grid"):
            with Vertical(classes="field"):
                yield Label("File (CSV or XLSX)")
                yield Input(self.initial_path, id="im-path", placeholder="/path/to/customers.csv")
                yield Label("", id="im-path-msg", classes="field-msg error")
            with Vertical(classes="field"):
                yield Label("Default country of phones")
                yield Input(id="im-country", placeholder="e.g. NL (empty: business setting)")
                yield Label("", id="im-country-msg", classes="field-msg error")
            with Vertical(classes="field"):
                yield Label("Dates are")
                yield Select[str](
                    [
                        (Text("as in the default country"), "auto"),
                        (Text("day/month/year"), "dmy"),
                        (Text("month/day/year"), "mdy"),
                    ],
                    id="im-order",
                    allow_blank=False,
                    value="auto",
                )
            with Vertical(classes="field"):
                yield Label("When a customer already exists")
                yield Select[str](
                    [
                        (Text("skip the row"), "skip"),
                        (Text("fill empty fields"), "update"),
                        (Text("overwrite"), "overwrite"),
                        (Text("import as merge candidate"), "candidate"),
                    ],
                    id="im-dup",
                    allow_blank=False,
                    value="skip",
                )
            with Vertical(classes="field"):
                yield Label("Tag every imported customer")
                yield Input(id="im-tag")
                yield Label("", id="im-tag-msg", classes="field-msg error")
            with Vertical(classes="field"):
                yield Label("Category of every imported customer")
                yield Select[str]([], id="im-category", prompt="(from the file, or none)")
                yield Label("", id="im-category-msg", classes="field-msg error")
            with Vertical(classes="field"):
                yield Label("Home branch of every imported customer")
                yield Select[str]([], id="im-branch", prompt="(none)")
                yield Label("", id="im-branch-msg", classes="field-msg error")
            with Vertical(classes="field"):
                yield Label("Enrol every imported customer in")
                yield Select[str]([], id="im-program", prompt="(no loyalty program)")
                yield Label("", id="im-program-msg", classes="field-msg error")
            with Vertical(classes="field"):
                yield Label("Starting points balance")
                yield Input("0", id="im-points", type="integer")
                yield Label("", id="im-points-msg", classes="field-msg error")
        yield Label(
            "Column mapping (enter changes the highlighted column's field)", classes="section"
        )
        yield DataTable(id="im-mapping", cursor_type="row")
        yield ProgressBar(id="im-progress", show_eta=True)
        yield Static("", id="im-summary")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.hold_keys()  # the selects get their options first
        self.title = "Import customers"
        self.render_mapping()
        self.query_one("#im-progress", ProgressBar).display = False
        for label in self.query(".field-msg").results(Label):
            label.display = False

        def failed(_: Exception) -> None:
            self.release_keys()

        self.run_read(
            lambda s: load_import_choices(session=s),
            then=self.choices_loaded,
            on_error=failed,
            group="import-choices",
        )

    def choices_loaded(self, choices: ImportChoices) -> None:
        self.choices = choices
        for selector, names in (
            ("#im-category", choices.categories),
            ("#im-branch", choices.branches),
            ("#im-program", choices.programs),
        ):
            self.query_one(selector, Select).set_options((user_text(n), n) for n in names)
        self.call_after_refresh(self.release_keys)
        if self.initial_path:
            self.action_load()

    # ------------------------------------------------------------------ messages
    def summary(self, *lines: Text | str) -> None:
        parts = [line if isinstance(line, Text) else Text(line) for line in lines]
        self.query_one("#im-summary", Static).update(join(*parts, sep="\n"))

    def clear_messages(self) -> None:
        for label in self.query(".field-msg").results(Label):
            set_message(label, None)

    def show_problem(self, exc: Exception) -> None:
        """A refused value next to its field; anything else in the summary."""
        if isinstance(exc, ValidationFailed) and exc.field in FIELD_WIDGETS:
            widget_id = FIELD_WIDGETS[exc.field]
            set_message(self.query_one(f"#{widget_id}-msg", Label), user_text(exc.message))
            self.summary(user_text(f"Cannot import: {exc}"))
            self.set_focus(self.query_one(f"#{widget_id}"))
        elif isinstance(exc, FrontdeskError):
            self.summary(user_text(f"Cannot import: {exc}"))
        else:  # never leave the screen saying "Checking…" forever
            self.summary(
                user_text(
                    f"The import stopped: {type(exc).__name__}. Batches already imported stay; "
                    "importing the file again completes it."
                )
            )

    # ------------------------------------------------------------------ the file
    def form(self) -> ImportForm:
        return ImportForm(
            path=self.query_one("#im-path", Input).value,
            mapping=dict(self.mapping),
            country=self.query_one("#im-country", Input).value,
            date_order=str(self.query_one("#im-order", Select).value),
            on_duplicate=str(self.query_one("#im-dup", Select).value),
            tag=self.query_one("#im-tag", Input).value,
            category=self._chosen("#im-category"),
            branch=self._chosen("#im-branch"),
            program=self._chosen("#im-program"),
            points=self.query_one("#im-points", Input).value,
        )

    def _chosen(self, selector: str) -> str | None:
        value = self.query_one(selector, Select).value
        return None if value is Select.NULL else str(value)

    def action_load(self) -> None:
        if self.importing:
            self.notify("An import is running; wait for it to finish", severity="warning")
            return
        path = self.query_one("#im-path", Input).value
        custom = list(self.choices.custom_fields)  # columns headed with a field's label
        self.clear_messages()
        self.summary("Reading the file…")

        def failed(exc: Exception) -> None:
            self.headers = []
            self.render_mapping()
            self.show_problem(exc)

        self.run_task(
            lambda: inspect_file(path=path, custom=custom),
            then=self.loaded,
            on_error=failed,
            group="import-file",
        )

    def loaded(self, preview: FilePreview) -> None:
        self.headers = preview.headers
        self.samples = preview.samples
        self.mapping = preview.mapping
        self.previewed = False
        self.render_mapping()
        self.action_preview()

    @on(Select.Changed, "#im-dup")
    def duplicate_policy_changed(self) -> None:
        if self.headers:
            self.action_preview()  # the preview counts what this policy would do

    @on(Input.Submitted, "#im-path")
    def path_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_load()

    @on(Input.Changed)
    def typed(self, event: Input.Changed) -> None:
        for message in self.query(f"#{event.input.id}-msg").results(Label):
            set_message(message, None)

    def render_mapping(self) -> None:
        table = self.query_one("#im-mapping", DataTable)
        row = table.cursor_row
        lines: list[tuple[str, list[Text]]] = []
        for i, header in enumerate(self.headers):
            example = next((r[i] for r in self.samples if i < len(r) and r[i].strip()), "")
            cells = [
                user_text(header),
                user_text(example[:40]),
                user_text(self.mapping.get(header, "ignore")),
            ]
            lines.append((str(i), cells))  # by position: a file may repeat a header
        columns: list[tuple[str | Text, str]] = [
            ("Column", "column"),
            ("Example", "example"),
            ("Goes to", "target"),
        ]
        fill_table(table, columns, lines)
        if self.headers:
            table.move_cursor(row=min(row, len(self.headers) - 1))

    @on(DataTable.RowSelected, "#im-mapping")
    def change_mapping(self, event: DataTable.RowSelected) -> None:
        event.stop()
        header = self.headers[int(str(event.row_key.value))]
        options: list[tuple[str | Text, str]] = [
            (Text(f), f) for f in importing.FIELDS if f != "note"
        ]
        options += [(Text("(ignore)"), "ignore"), (Text("into a note"), "note")]
        options += [
            (join(Text("custom field:"), user_text(label)), f"cf:{key}")
            for label, key in self.choices.custom_fields
        ]

        def chosen(value: str | None) -> None:
            if value is not None:
                self.mapping[header] = value
                self.render_mapping()
                self.action_preview()

        title = join(Text("Column"), user_text(header, "bold"), Text("goes to"))
        self.app.push_screen(ChoiceModal(title, options), chosen)

    # ------------------------------------------------------------------ preview and import
    def action_preview(self) -> None:
        if not self.headers or self.importing:
            return
        self.summary("Checking the file (dry run)…")
        self._start_import(dry=True)

    def action_run(self) -> None:
        if self.importing:
            return
        if not self.previewed:
            self.notify("Load and preview the file first (ctrl+o)", severity="warning")
            return
        self.summary("Importing…")
        self.importing = True
        self._start_import(dry=False)

    def _start_import(self, *, dry: bool) -> None:
        self.clear_messages()
        form = self.form()
        engine, actor = self.fd.engine, self.fd.operator
        self.generation += 1
        generation = self.generation

        def started(total: int | None) -> None:
            self.post_message(ImportProgress(total=total, start=True))

        def progress(rows: int) -> None:
            self.post_message(ImportProgress(advance=rows))

        def done(result: WizardRun) -> None:
            if not dry:
                self.importing = False
                # The bar counted an estimate of the rows (it stayed at 87% once done).
                bar = self.query_one("#im-progress", ProgressBar)
                if bar.display:
                    rows = max(result.summary.rows, 1)
                    bar.update(total=rows, progress=rows)
            if generation == self.generation:
                self.show_summary(result)

        def failed(exc: Exception) -> None:
            if not dry:
                self.importing = False
            if generation == self.generation:
                self.show_problem(exc)

        self.run_task(
            lambda: run_wizard_import(
                engine=engine,
                form=form,
                dry_run=dry,
                actor=actor,
                started=started,
                progress=progress,
            ),
            then=done,
            on_error=failed,
            group="import",
            exclusive=False,
        )

    def on_import_progress(self, message: ImportProgress) -> None:
        bar = self.query_one("#im-progress", ProgressBar)
        if message.start:
            bar.update(total=message.total, progress=0)
            bar.display = True
        if message.advance:
            bar.advance(message.advance)

    def show_summary(self, result: WizardRun) -> None:
        summary, dry = result.summary, result.dry_run
        self.previewed = True
        head = "Preview (nothing written yet): would import" if dry else "Imported"
        lines: list[Text | str] = [
            f"{head} {summary.imported:,} new of {summary.rows:,} rows · "
            f"{summary.duplicates_in_db:,} already exist "
            f"· {summary.duplicates_in_file:,} repeated in the file · {summary.invalid:,} invalid"
            + (f" · {summary.warnings:,} with a warning" if summary.warnings else "")
            + (f" · {summary.updated:,} updated" if summary.updated else "")
            + (f" · {summary.candidates:,} merge candidates" if summary.candidates else "")
        ]
        if summary.candidates and not dry:
            lines.append(
                "Merge candidates wait in the duplicates screen (D): merge, add or discard each."
            )
        for e in summary.errors[:8]:
            lines.append(user_text(f"  record {e.record}: {e.field}: {e.reason}"))
        for e in summary.warned[: max(0, 8 - len(summary.errors))]:
            lines.append(
                user_text(f"  record {e.record}: warning: {e.field}: {e.reason} (left out)")
            )
        if dry:
            lines.append("ctrl+s imports; enter on a column changes where it goes.")
        elif result.error_file:
            lines.append(
                user_text(
                    f"Refused and warned-about rows are in {result.error_file}: "
                    "fix them and import that file."
                )
            )
        self.summary(*lines)

    def action_back(self) -> None:
        if self.importing:
            self.notify(
                "The import is running: wait for it to finish (batches already imported stay)",
                severity="warning",
            )
            return
        self.dismiss(None)

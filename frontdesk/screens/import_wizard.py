"""The import wizard: choose a file, check the column mapping, preview (dry run), import."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Label, ProgressBar, Select, Static

from frontdesk.data import importing
from frontdesk.data.errors import FrontdeskError, ValidationFailed
from frontdesk.screens.common import ChoiceModal

if TYPE_CHECKING:
    from frontdesk.app import FrontdeskApp


class ImportScreen(Screen[None]):
    BINDINGS = [
        Binding("ctrl+o", "load", "Load file", priority=True),
        Binding("ctrl+r", "preview", "Preview", priority=True),
        Binding("ctrl+s", "run", "Import", priority=True),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, path: str = "") -> None:
        super().__init__()
        self.initial_path = path
        self.headers: list[str] = []
        self.mapping: dict[str, str] = {}
        self.samples: list[list[str]] = []
        self.previewed = False

    @property
    def fd(self) -> FrontdeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with Grid(id="import-grid"):
            with Vertical(classes="field"):
                yield Label("File (CSV or XLSX)")
                yield Input(self.initial_path, id="im-path", placeholder="/path/to/customers.csv")
            with Vertical(classes="field"):
                yield Label("Default country of phones")
                yield Input(id="im-country", placeholder="e.g. NL (empty: business setting)")
            with Vertical(classes="field"):
                yield Label("Dates are")
                yield Select[str](
                    [("day/month/year", "dmy"), ("month/day/year", "mdy")],
                    id="im-order",
                    allow_blank=False,
                    value="dmy",
                )
            with Vertical(classes="field"):
                yield Label("When a customer already exists")
                yield Select[str](
                    [
                        ("skip the row", "skip"),
                        ("fill empty fields", "update"),
                        ("overwrite", "overwrite"),
                        ("import as merge candidate", "candidate"),
                    ],
                    id="im-dup",
                    allow_blank=False,
                    value="skip",
                )
            with Vertical(classes="field"):
                yield Label("Tag every imported customer")
                yield Input(id="im-tag")
            with Vertical(classes="field"):
                yield Label("Category of every imported customer")
                yield Select[str]([], id="im-category", prompt="(from the file, or none)")
            with Vertical(classes="field"):
                yield Label("Home branch of every imported customer")
                yield Select[str]([], id="im-branch", prompt="(none)")
            with Vertical(classes="field"):
                yield Label("Enrol every imported customer in")
                yield Select[str]([], id="im-program", prompt="(no loyalty program)")
            with Vertical(classes="field"):
                yield Label("Starting points balance")
                yield Input("0", id="im-points", type="integer")
        yield Label(
            "Column mapping (enter changes the highlighted column's field)", classes="section"
        )
        yield DataTable(id="im-mapping", cursor_type="row")
        yield ProgressBar(id="im-progress", show_eta=True)
        yield Static("", id="im-summary")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Import customers"
        from frontdesk.data.directory import load_lookups

        known = self.fd.read(lambda s: load_lookups(session=s))
        self.query_one("#im-category", Select).set_options(
            (c.name, c.name) for c in known.categories.values()
        )
        self.query_one("#im-branch", Select).set_options(
            (b.name, b.name) for b in known.branches.values()
        )
        self.query_one("#im-program", Select).set_options(
            (p.name, p.name) for p in known.programs.values() if p.active
        )
        self.query_one("#im-mapping", DataTable).add_columns("Column", "Example", "Goes to")
        self.query_one("#im-progress", ProgressBar).display = False
        if self.initial_path:
            self.action_load()

    def options(self) -> importing.ImportOptions:
        country = self.query_one("#im-country", Input).value.strip().upper() or None
        return importing.ImportOptions(
            mapping=dict(self.mapping),
            default_country=country,
            date_order=str(self.query_one("#im-order", Select).value),
            on_duplicate=str(self.query_one("#im-dup", Select).value),
            tag=self.query_one("#im-tag", Input).value.strip() or None,
            category=self._chosen("#im-category"),
            branch=self._chosen("#im-branch"),
            program=self._chosen("#im-program"),
            points=self._points(),
            workers=None,  # large files are validated in worker processes
        )

    def _points(self) -> int:
        text = self.query_one("#im-points", Input).value.strip() or "0"
        try:
            points = int(text)
        except ValueError:
            raise ValidationFailed("points", f"{text!r} is not a whole number") from None
        if points < 0:
            raise ValidationFailed("points", "cannot be negative")
        return points

    def _chosen(self, selector: str) -> str | None:
        value = self.query_one(selector, Select).value
        return None if value is Select.NULL else str(value)

    @property
    def path(self) -> Path:
        return Path(self.query_one("#im-path", Input).value.strip()).expanduser()

    def action_load(self) -> None:
        summary = self.query_one("#im-summary", Static)
        if not self.path.is_file():
            summary.update(f"No file at {self.path}")
            return
        try:
            source = importing.open_source(self.path)
        except Exception as exc:  # unreadable file: say so, keep the form
            summary.update(f"Cannot read {self.path}: {exc}")
            return
        self.headers = source.headers
        self.samples = [cells for _, (_record, cells) in zip(range(3), source.rows, strict=False)]
        self.mapping = importing.guess_mapping(self.headers)
        self.render_mapping()
        self.action_preview()

    @on(Select.Changed, "#im-dup")
    def duplicate_policy_changed(self) -> None:
        if self.headers:
            self.action_preview()  # the preview counts what this policy would do

    @on(Input.Submitted, "#im-path")
    def path_submitted(self) -> None:
        self.action_load()

    def render_mapping(self) -> None:
        table = self.query_one("#im-mapping", DataTable)
        table.clear()
        for i, header in enumerate(self.headers):
            example = next((row[i] for row in self.samples if i < len(row) and row[i].strip()), "")
            table.add_row(header, example[:40], self.mapping.get(header, "ignore"), key=header)

    @on(DataTable.RowSelected, "#im-mapping")
    def change_mapping(self, event: DataTable.RowSelected) -> None:
        header = str(event.row_key.value)
        options = [(f, f) for f in importing.FIELDS if f != "note"] + [
            ("(ignore)", "ignore"),
            ("into a note", "note"),
        ]
        options += [(f"custom field: {f.label}", f"cf:{f.key}") for f in self.fd.read(self._fields)]

        def chosen(value: str | None) -> None:
            if value is not None:
                self.mapping[header] = value
                self.render_mapping()
                self.action_preview()

        self.app.push_screen(ChoiceModal(f"Column {header!r} goes to", options), chosen)

    @staticmethod
    def _fields(session: Any) -> list[Any]:
        from frontdesk.data import fields

        return fields.list_fields(session=session)

    def _checked_options(self) -> importing.ImportOptions | None:
        try:
            return self.options()
        except ValidationFailed as exc:
            self.query_one("#im-summary", Static).update(f"Cannot import: {exc}")
            self.notify(f"Starting points {exc.message}", severity="error")
            self.query_one("#im-points", Input).focus()
            return None

    def action_preview(self) -> None:
        if not self.headers:
            return
        options = self._checked_options()
        if options is None:
            return
        self.query_one("#im-summary", Static).update("Checking the file (dry run)…")
        self._run(options, dry=True)

    def action_run(self) -> None:
        if not self.previewed:
            self.notify("Load and preview the file first (ctrl+o)", severity="warning")
            return
        options = self._checked_options()
        if options is None:
            return
        self.query_one("#im-summary", Static).update("Importing…")
        self._run(options, dry=False)

    @work(thread=True, exclusive=True, group="import", exit_on_error=False)
    def _run(self, options: importing.ImportOptions, dry: bool) -> None:
        options.dry_run = dry
        progress = None
        if not dry:
            options.error_file = self.path.with_name(self.path.stem + ".errors.csv")
            self.app.call_from_thread(self._start_bar, importing.count_rows(self.path))

            def progress(rows: int) -> None:
                self.app.call_from_thread(self.query_one("#im-progress", ProgressBar).advance, rows)

        try:
            summary = importing.run_import(
                engine=self.fd.engine,
                path=self.path,
                options=options,
                actor=self.fd.operator,
                progress=progress,
            )
        except FrontdeskError as exc:
            self.app.call_from_thread(
                self.query_one("#im-summary", Static).update, f"Cannot import: {exc}"
            )
            return
        except Exception as exc:  # never leave the screen saying "Checking…" forever
            self.app.call_from_thread(
                self.query_one("#im-summary", Static).update,
                f"The import stopped: {type(exc).__name__}: {exc}. Batches already imported stay; "
                "importing the file again completes it.",
            )
            return
        self.app.call_from_thread(self._done, summary, dry, options.error_file)

    def _start_bar(self, total: int | None) -> None:
        bar = self.query_one("#im-progress", ProgressBar)
        bar.update(total=total, progress=0)
        bar.display = True

    def _done(self, summary: importing.ImportSummary, dry: bool, error_file: Path | None) -> None:
        self.previewed = True
        head = "Preview (nothing written yet): would import" if dry else "Imported"
        lines = [
            f"{head} {summary.imported:,} new of {summary.rows:,} rows · {summary.duplicates_in_db:,} already exist "
            f"· {summary.duplicates_in_file:,} repeated in the file · {summary.invalid:,} invalid"
            + (f" · {summary.updated:,} updated" if summary.updated else "")
            + (f" · {summary.candidates:,} merge candidates" if summary.candidates else "")
        ]
        if summary.candidates and not dry:
            lines.append(
                "Merge candidates wait in the duplicates screen (D): merge, add or discard each."
            )
        for e in summary.errors[:8]:
            lines.append(f"  record {e.record}: {e.field}: {e.reason}")
        if dry:
            lines.append("ctrl+s imports; enter on a column changes where it goes.")
        elif summary.invalid and error_file:
            lines.append(f"Invalid rows are in {error_file}: fix them and import that file.")
        self.query_one("#im-summary", Static).update("\n".join(lines))

    def action_back(self) -> None:
        self.dismiss(None)

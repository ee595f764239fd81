"""The export dialog: where to write the customers, and whether CSV values are protected
against spreadsheets running them as formulas (the default) or written as stored.

Before it closes, the dialog has the file vetted off the UI thread (``check_target``): a
refusal (the database's own file, a folder that does not exist ...) shows under the field with
the typed path kept, and an existing file is replaced only after a "Replace it?" question (the
choice then says ``overwrite``). The export itself runs after the dialog closed, so that a
long one does not hold the desk.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label

from frontdesk.data.errors import FrontdeskError, TargetExists, ValidationFailed
from frontdesk.data.targets import check_target
from frontdesk.screens.common import ConfirmModal
from frontdesk.text import user_text
from frontdesk.widgets.base import FrontdeskModal
from frontdesk.widgets.select import Select


@dataclass(frozen=True)
class ExportChoice:
    path: str
    plain: bool  # CSV values as stored (no apostrophe before =, +, - or @)
    overwrite: bool = False  # the user said to replace the existing file

    @property
    def target(self) -> Path:
        return Path(self.path).expanduser()


class _CannotWrite(FrontdeskError):
    """The check's OSError, as the sentence shown under the field."""


class ExportModal(FrontdeskModal[ExportChoice | None]):
    """Path (enter or ctrl+s exports) and how CSV values are written; escape cancels."""

    AUTO_FOCUS = "#export-path"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "export", "Export", priority=True),
    ]

    def __init__(self, what: str) -> None:
        super().__init__(classes="dialog-screen")
        self.what = what
        self.checking: ExportChoice | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="export-dialog"):
            yield Label(user_text(f"Export {self.what} to (.csv or .xlsx)"), classes="dialog-title")
            yield Input(placeholder="~/customers.csv", id="export-path")
            yield Label("", id="export-path-error", classes="error")
            yield Label("CSV values")
            yield Select[str](
                [
                    (Text("protected for spreadsheets ('=…)"), "guard"),
                    (Text("exactly as stored (mail platforms)"), "plain"),
                ],
                id="export-values",
                allow_blank=False,
                value="guard",
            )
            yield Label("XLSX cells are always text, without an apostrophe.", classes="dim")

    def on_input_changed(self, event: Input.Changed) -> None:
        self._say("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_export()

    def _say(self, message: str) -> None:
        self.query_one("#export-path-error", Label).update(user_text(message))

    def action_export(self) -> None:
        path = self.query_one("#export-path", Input).value.strip()
        if not path:
            self._say("Type the file to write.")
            self.set_focus(self.query_one("#export-path", Input))
            return
        plain = self.query_one("#export-values", Select).value == "plain"
        choice = ExportChoice(path=path, plain=plain)
        self._vet(choice)

    def _vet(self, choice: ExportChoice) -> None:
        if self.checking is not None:
            return
        self.checking = choice
        self.hold_keys()  # keys typed after enter wait for the outcome (a question, or done)
        app = self.fd

        def job() -> ExportChoice:
            try:
                app.read(
                    lambda s: check_target(
                        session=s, path=choice.target, overwrite=choice.overwrite
                    )
                )
            except OSError as exc:
                raise _CannotWrite(f"Cannot write {choice.target}: {exc.strerror or exc}") from exc
            return choice

        self.run_task(job, self._accepted, group="export-check", on_error=self._refused)

    def _accepted(self, choice: ExportChoice) -> None:
        self.dismiss(choice)

    def _refused(self, exc: Exception) -> None:
        choice, self.checking = self.checking, None
        self.release_keys()
        if isinstance(exc, TargetExists) and choice is not None:
            self._ask_to_replace(choice, exc)
            return
        if isinstance(exc, ValidationFailed):
            message = exc.message
        elif isinstance(exc, _CannotWrite):
            message = str(exc)
        elif isinstance(exc, FrontdeskError):
            message = f"Not exported: {exc}"
        else:  # the app reports it too
            message = "Not exported: an unexpected error."
        self._say(message)
        self.set_focus(self.query_one("#export-path", Input))

    def _ask_to_replace(self, choice: ExportChoice, exc: TargetExists) -> None:
        def answered(replace_it: bool | None) -> None:
            if replace_it:
                self._vet(replace(choice, overwrite=True))
            else:
                self._say(f"{exc.path} already exists: not replaced.")
                self.set_focus(self.query_one("#export-path", Input))

        self.app.push_screen(
            ConfirmModal(f"{exc.path} already exists. Replace it?", yes="Replace", no="Keep it"),
            answered,
        )

    def action_cancel(self) -> None:
        self.dismiss(None)

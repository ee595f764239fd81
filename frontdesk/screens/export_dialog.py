"""The export dialog: where to write the customers, and whether CSV values are protected
against spreadsheets running them as formulas (the default) or written as stored."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label

from frontdesk.text import user_text
from frontdesk.widgets.base import FrontdeskModal
from frontdesk.widgets.select import Select


@dataclass(frozen=True)
class ExportChoice:
    path: str
    plain: bool  # CSV values as stored (no apostrophe before =, +, - or @)


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
        self.query_one("#export-path-error", Label).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_export()

    def action_export(self) -> None:
        path = self.query_one("#export-path", Input).value.strip()
        if not path:
            self.query_one("#export-path-error", Label).update("Type the file to write.")
            self.set_focus(self.query_one("#export-path", Input))
            return
        plain = self.query_one("#export-values", Select).value == "plain"
        self.dismiss(ExportChoice(path=path, plain=plain))

    def action_cancel(self) -> None:
        self.dismiss(None)

"""Modals of the Rewards and Notes tabs: enrol, add/redeem points, add/edit a note."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Switch, TextArea


@dataclass(frozen=True)
class PointsRequest:
    enrolment_id: int
    points: int
    reason: str


@dataclass(frozen=True)
class EnrolRequest:
    program_id: int
    starting_balance: int
    expires_on: date | None
    notes: str


@dataclass(frozen=True)
class NoteRequest:
    body: str
    category_id: int | None
    visibility: str
    pinned: bool
    is_alert: bool

    def values(self) -> dict[str, Any]:
        """The keyword arguments of notes.add_note / notes.update_note."""
        return asdict(self)


class _Form(ModalScreen[object]):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def error(self, message: str) -> None:
        self.query_one("#m-error", Label).update(message)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PointsModal(_Form):
    """Add (sign +1) or redeem (sign -1) points on one of the customer's enrolments."""

    AUTO_FOCUS = "#m-points"

    def __init__(self, sign: int, enrolments: list[tuple[str, int, int]]) -> None:
        super().__init__(classes="dialog-screen")
        self.sign = sign
        self.enrolments = enrolments  # (label, enrolment id, balance)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Add points" if self.sign > 0 else "Redeem points", classes="dialog-title")
            yield Label("Program")
            yield Select[int](
                [
                    (f"{label} (balance {balance:,})", eid)
                    for label, eid, balance in self.enrolments
                ],
                id="m-program",
                allow_blank=False,
                value=self.enrolments[0][1],
            )
            yield Label("Points")
            yield Input(id="m-points", type="integer")
            yield Label("Reason")
            yield Input(id="m-reason")
            yield Label("", id="m-error", classes="error")

    def on_input_submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        raw = self.query_one("#m-points", Input).value.strip()
        if not raw.isdigit() or int(raw) <= 0:
            self.error("Enter a whole number of points above zero.")
            return
        reason = self.query_one("#m-reason", Input).value.strip()
        if not reason:
            self.error("Give a reason.")
            self.query_one("#m-reason", Input).focus()
            return
        eid = self.query_one("#m-program", Select).value
        assert isinstance(eid, int)
        self.dismiss(PointsRequest(eid, self.sign * int(raw), reason))


class EnrolModal(_Form):
    AUTO_FOCUS = "#m-program"

    def __init__(self, programs: list[tuple[str, int]]) -> None:
        super().__init__(classes="dialog-screen")
        self.programs = programs

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Enrol in a loyalty program", classes="dialog-title")
            yield Label("Program")
            yield Select[int](
                self.programs, id="m-program", allow_blank=False, value=self.programs[0][1]
            )
            yield Label("Starting balance")
            yield Input("0", id="m-balance", type="integer")
            yield Label("Expires on (YYYY-MM-DD, empty: the program's default)")
            yield Input(id="m-expires")
            yield Label("Notes")
            yield Input(id="m-notes")
            yield Label("", id="m-error", classes="error")

    def action_save(self) -> None:
        raw = self.query_one("#m-balance", Input).value.strip() or "0"
        if not raw.isdigit():
            self.error("The starting balance is a whole number of zero or more.")
            return
        expires_text = self.query_one("#m-expires", Input).value.strip()
        try:
            expires = date.fromisoformat(expires_text) if expires_text else None
        except ValueError:
            self.error("Expiry date as YYYY-MM-DD.")
            return
        program = self.query_one("#m-program", Select).value
        assert isinstance(program, int)
        self.dismiss(
            EnrolRequest(program, int(raw), expires, self.query_one("#m-notes", Input).value)
        )


class NoteModal(_Form):
    """Add or edit a note (Markdown body)."""

    AUTO_FOCUS = "#m-body"

    def __init__(
        self,
        categories: list[tuple[str, int]],
        *,
        title: str = "New note",
        initial: NoteRequest | None = None,
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.categories = categories
        self.title_text = title
        self.initial = initial

    def compose(self) -> ComposeResult:
        initial = self.initial
        with Vertical(classes="dialog", id="note-dialog"):
            yield Label(
                f"{self.title_text}  ·  ctrl+s saves, escape cancels", classes="dialog-title"
            )
            yield TextArea(initial.body if initial else "", id="m-body", language="markdown")
            with Horizontal(classes="note-row"):
                yield Select[int](
                    self.categories,
                    id="m-category",
                    prompt="No category",
                    value=initial.category_id if initial and initial.category_id else Select.NULL,
                )
                yield Select[str](
                    [("Staff only", "staff"), ("Customer visible", "customer")],
                    id="m-visibility",
                    allow_blank=False,
                    value=initial.visibility if initial else "staff",
                )
            with Horizontal(classes="note-row"):
                yield Label("Pinned ")
                yield Switch(initial.pinned if initial else False, id="m-pinned")
                yield Label("  Alert (shown everywhere) ")
                yield Switch(initial.is_alert if initial else False, id="m-alert")
            yield Label("", id="m-error", classes="error")

    def action_save(self) -> None:
        body = self.query_one("#m-body", TextArea).text.strip()
        if not body:
            self.error("The note is empty.")
            return
        category = self.query_one("#m-category", Select).value
        visibility = self.query_one("#m-visibility", Select).value
        self.dismiss(
            NoteRequest(
                body=body,
                category_id=category if isinstance(category, int) else None,
                visibility=str(visibility),
                pinned=self.query_one("#m-pinned", Switch).value,
                is_alert=self.query_one("#m-alert", Switch).value,
            )
        )

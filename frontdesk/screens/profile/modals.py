"""Modals of the profile's tabs: enrol, add/redeem points, add/edit a note.

Each dismisses with a small request (or None on escape); the tab that opened it turns the
request into one service call.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, ClassVar, TypeVar

from rich.text import Text
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, Switch, TextArea

from frontdesk.screens.base import FrontdeskModal
from frontdesk.text import plain, user_text

R = TypeVar("R")


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


class _Form(FrontdeskModal[R | None]):
    """A small form: ``ctrl+s`` saves, ``escape`` cancels, the problem shows under it.

    ``enter`` in a one-line field moves on or saves (see :meth:`action_enter`) at once, as a
    binding, so that the keys typed after it never land in the field it leaves.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "enter", "Save", show=False, priority=True),
    ]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")

    def error(self, message: str, field: str | None = None) -> None:
        self.query_one("#m-error", Label).update(Text(message))
        if field is not None:
            self.set_focus(self.query_one(field))

    def on_input_changed(self) -> None:
        self.query_one("#m-error", Label).update("")

    def action_save(self) -> None:
        raise NotImplementedError

    # ``enter`` in the first field moves on to the second while that one is empty.
    MOVE_ON: ClassVar[dict[str, str]] = {}

    def action_enter(self) -> None:
        """``enter`` in a one-line field moves on or saves; elsewhere (a select) it is theirs."""
        focused = self.focused
        if not isinstance(focused, Input):
            raise SkipAction()
        target = self.MOVE_ON.get(focused.id or "")
        if target and not self.query_one(f"#{target}", Input).value.strip():
            if self.field_ok(focused.id or ""):
                self.set_focus(self.query_one(f"#{target}"))
            return
        self.action_save()

    def field_ok(self, field: str) -> bool:
        """Check one field before ``enter`` moves on from it (shows the problem)."""
        return True

    def action_cancel(self) -> None:
        self.dismiss(None)


class PointsModal(_Form[PointsRequest]):
    """Add (sign +1) or redeem (sign -1) points on one of the customer's enrolments."""

    AUTO_FOCUS = "#m-points"

    def __init__(
        self, sign: int, enrolments: list[tuple[str, int, int]], selected: int | None = None
    ) -> None:
        super().__init__()
        self.sign = sign
        self.enrolments = enrolments  # (program, enrolment id, balance)
        self.selected = selected if selected is not None else enrolments[0][1]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="points-dialog"):
            yield Label(
                "Add points" if self.sign > 0 else "Redeem points",
                classes="dialog-title",
            )
            yield Label("Program")
            yield Select[int](
                [
                    (user_text(f"{program} (balance {balance:,})"), eid)
                    for program, eid, balance in self.enrolments
                ],
                id="m-program",
                allow_blank=False,
                value=self.selected,
            )
            yield Label("Points")
            yield Input(id="m-points", type="integer", placeholder="e.g. 50")
            yield Label("Reason")
            yield Input(id="m-reason", placeholder="e.g. Birthday gift")
            yield Label("", id="m-error", classes="error m-error")

    MOVE_ON: ClassVar[dict[str, str]] = {"m-points": "m-reason"}

    def field_ok(self, field: str) -> bool:
        raw = self.query_one("#m-points", Input).value.strip()
        if not raw.isdigit() or int(raw) <= 0:
            self.error("Enter a whole number of points above zero.", "#m-points")
            return False
        return True

    def action_save(self) -> None:
        if not self.field_ok("m-points"):
            return
        raw = self.query_one("#m-points", Input).value.strip()
        reason = self.query_one("#m-reason", Input).value.strip()
        if not reason:
            self.error("Give a reason.", "#m-reason")
            return
        eid = self.query_one("#m-program", Select).value
        assert isinstance(eid, int)
        self.dismiss(PointsRequest(eid, self.sign * int(raw), reason))


class EnrolModal(_Form[EnrolRequest]):
    """Enrol the customer in one of the programs they are not in yet."""

    AUTO_FOCUS = "#m-program"

    def __init__(self, programs: list[tuple[str, int]]) -> None:
        super().__init__()
        self.programs = programs

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="enrol-dialog"):
            yield Label("Enrol in a loyalty program", classes="dialog-title")
            yield Label("Program")
            yield Select[int](
                [(user_text(name), pid) for name, pid in self.programs],
                id="m-program",
                allow_blank=False,
                value=self.programs[0][1],
            )
            yield Label("Starting balance")
            yield Input("0", id="m-balance", type="integer")
            yield Label("Expires on (YYYY-MM-DD, empty: the program's default)")
            yield Input(id="m-expires", placeholder="YYYY-MM-DD")
            yield Label("Notes")
            yield Input(id="m-notes")
            yield Label("", id="m-error", classes="error m-error")

    def action_save(self) -> None:
        raw = self.query_one("#m-balance", Input).value.strip() or "0"
        if not raw.isdigit():
            self.error("The starting balance is a whole number of zero or more.", "#m-balance")
            return
        expires_text = self.query_one("#m-expires", Input).value.strip()
        try:
            expires = date.fromisoformat(expires_text) if expires_text else None
        except ValueError:
            self.error("Expiry date as YYYY-MM-DD.", "#m-expires")
            return
        program = self.query_one("#m-program", Select).value
        assert isinstance(program, int)
        notes = self.query_one("#m-notes", Input).value
        self.dismiss(EnrolRequest(program, int(raw), expires, notes))


@dataclass(frozen=True)
class MoneyRequest:
    amount: str  # as typed; checked here, parsed again by the service
    method: str = "card"
    reason: str = ""


class _MoneyForm(_Form[MoneyRequest]):
    AUTO_FOCUS = "#m-amount"

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def check_amount(self) -> str | None:
        from frontdesk.data.errors import ValidationFailed
        from frontdesk.data.orders import parse_money

        raw = self.query_one("#m-amount", Input).value
        try:
            if parse_money(raw) <= 0:
                self.error("The amount must be above zero.", "#m-amount")
                return None
        except ValidationFailed as exc:
            self.error(f"Amount: {exc.message}", "#m-amount")
            return None
        return raw.strip()


class PaymentModal(_MoneyForm):
    """Take a payment: the amount (``enter`` saves) and the method (card unless changed)."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="payment-dialog"):
            yield Label(Text(self.title_text), classes="dialog-title")
            yield Label("Amount")
            yield Input(id="m-amount", placeholder="e.g. 45.00")
            yield Label("Method")
            yield Select[str](
                [("Card", "card"), ("Cash", "cash"), ("Other", "other")],
                id="m-method",
                allow_blank=False,
                value="card",
            )
            yield Label("", id="m-error", classes="error m-error")

    def action_save(self) -> None:
        amount = self.check_amount()
        if amount is not None:
            method = self.query_one("#m-method", Select).value
            self.dismiss(MoneyRequest(amount, method=str(method)))


class RefundModal(_MoneyForm):
    """Refund part or all of what was paid: the amount, then why."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="refund-dialog"):
            yield Label(Text(self.title_text), classes="dialog-title")
            yield Label("Amount")
            yield Input(id="m-amount", placeholder="e.g. 10.00")
            yield Label("Reason")
            yield Input(id="m-reason", placeholder="e.g. Colour faded")
            yield Label("", id="m-error", classes="error m-error")

    MOVE_ON: ClassVar[dict[str, str]] = {"m-amount": "m-reason"}

    def field_ok(self, field: str) -> bool:
        return self.check_amount() is not None

    def action_save(self) -> None:
        amount = self.check_amount()
        if amount is None:
            return
        reason = self.query_one("#m-reason", Input).value.strip()
        if not reason:
            self.error("Say why the money is refunded.", "#m-reason")
            return
        self.dismiss(MoneyRequest(amount, reason=reason))


class NoteModal(_Form[NoteRequest]):
    """Add or edit a note (Markdown body, category, visibility, pinned, alert)."""

    DEFAULT_CSS = """
    NoteModal #note-dialog {
        width: 90;
    }
    NoteModal #m-body {
        height: 10;
    }
    NoteModal .note-row {
        height: auto;
        margin-top: 1;
    }
    NoteModal .note-row Select {
        width: 1fr;
    }
    """
    AUTO_FOCUS = "#m-body"

    def __init__(
        self,
        categories: list[tuple[str, int]],
        *,
        title: str = "New note",
        initial: NoteRequest | None = None,
    ) -> None:
        super().__init__()
        self.categories = categories
        self.title_text = title
        self.initial = initial

    def compose(self) -> ComposeResult:
        initial = self.initial
        with Vertical(classes="dialog", id="note-dialog"):
            yield Label(
                Text(f"{self.title_text}  ·  ctrl+s saves, escape cancels"), classes="dialog-title"
            )
            yield TextArea(
                plain(initial.body, multiline=True) if initial else "",
                id="m-body",
                language="markdown",
            )
            with Horizontal(classes="note-row"):
                yield Select[int](
                    [(user_text(name), cid) for name, cid in self.categories],
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
            yield Label("", id="m-error", classes="error m-error")

    def on_text_area_changed(self) -> None:
        self.query_one("#m-error", Label).update("")

    def action_save(self) -> None:
        body = self.query_one("#m-body", TextArea).text.strip()
        if not body:
            self.error("The note is empty.", "#m-body")
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

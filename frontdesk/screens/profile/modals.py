"""Modals of the profile's tabs: enrol, add/redeem points, add/edit a note.

Each dismisses with a small request (or None on escape); the tab that opened it turns the
request into one service call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, ClassVar, Generic, TypeVar

from rich.text import Text
from sqlmodel import Session
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Switch, TextArea

from frontdesk.data.errors import FrontdeskError, InsufficientPoints, ValidationFailed
from frontdesk.data.rewards import MAX_POINTS
from frontdesk.screens.common import discard_or_stay
from frontdesk.screens.field_input import (
    clear_field_error,
    error_id,
    labelled,
    read_money,
    read_whole,
    show_field_error,
)
from frontdesk.text import plain, user_text
from frontdesk.widgets.base import FrontdeskModal
from frontdesk.widgets.select import Select

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


class _Form(FrontdeskModal[Any], Generic[R]):
    """A small form: ``ctrl+s`` saves, ``escape`` cancels, a problem shows under its field.

    A form with a ``DISCARD_QUESTION`` asks it on ``escape`` when something was changed
    (:meth:`changed`), as the customer and booking forms do; unchanged, it closes at once.

    ``enter`` in a one-line field moves on or saves (see :meth:`action_enter`) at once, as a
    binding, so that the keys typed after it never land in the field it leaves.

    With ``save`` (the request -> the service call to run), the form saves by itself and
    closes only once the service has accepted: a refusal (``ValidationFailed(field, ...)``,
    too few points ...) shows under the field it is about, and everything typed stays. It
    then dismisses with what the service returned (without ``save``: with the request).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "enter", "Save", show=False, priority=True),
    ]

    # A service's field name -> the id of the input it is about (the rest shows at the bottom).
    SERVICE_FIELDS: ClassVar[dict[str, str]] = {}

    def __init__(self, save: Callable[[Any], Callable[[Session], Any]] | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.save = save
        self.saving = False
        self.discard_question = self.DISCARD_QUESTION

    def error(self, message: str, field: str | None = None) -> None:
        """Show ``message`` under ``field`` (``#id``) when it has a message line, else at the
        bottom of the form; the cursor goes to the field."""
        input_id = field.lstrip("#") if field else None
        if input_id and self.query(f"#{error_id(input_id)}"):
            show_field_error(self, input_id, message)
            return
        self.query_one("#m-error", Label).update(Text(message))
        if field is not None:
            self.set_focus(self.query_one(field))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id:
            clear_field_error(self, event.input.id)
        self.query_one("#m-error", Label).update("")

    def action_save(self) -> None:
        raise NotImplementedError

    def finish(self, request: Any) -> None:
        """The fields are fine: save through the service (``save``) or hand the request back."""
        if self.save is None:
            self.dismiss(request)
            return
        if self.saving:
            return
        self.saving = True
        self.hold_keys()  # keys typed after saving wait for the outcome
        self.run_write(self.save(request), self._saved, group="modal-save", on_error=self._refused)

    def _saved(self, result: Any) -> None:
        self.dismiss(result)

    def _refused(self, exc: Exception) -> None:
        self.saving = False
        self.release_keys()
        if isinstance(exc, ValidationFailed):
            input_id = self.SERVICE_FIELDS.get(exc.field)
            if input_id is not None:
                self.error(_sentence(exc.message), f"#{input_id}")
            else:
                self.error(str(exc))
        elif isinstance(exc, InsufficientPoints) and "points" in self.SERVICE_FIELDS:
            self.error(_sentence(str(exc)), f"#{self.SERVICE_FIELDS['points']}")
        elif isinstance(exc, FrontdeskError):
            self.error(str(exc))
        else:
            self.error("Not saved: an unexpected error (see the message).")

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

    # Asked on ``escape`` when :meth:`changed` (None: the form closes at once); the
    # instance's ``discard_question`` may say more (e.g. an edit rather than a new one).
    DISCARD_QUESTION: ClassVar[str | None] = None

    def changed(self) -> bool:
        """True when closing now would lose something typed or chosen."""
        return False

    def action_cancel(self) -> None:
        if self.discard_question is None:
            self.dismiss(None)
            return
        discard_or_stay(self, self.discard_question, changed=self.changed())


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


class PointsModal(_Form[PointsRequest]):
    """Add (sign +1) or redeem (sign -1) points on one of the customer's enrolments."""

    AUTO_FOCUS = "#m-points"
    SERVICE_FIELDS: ClassVar[dict[str, str]] = {"points": "m-points", "reason": "m-reason"}

    def __init__(
        self,
        sign: int,
        enrolments: list[tuple[str, int, int]],
        selected: int | None = None,
        *,
        save: Callable[[PointsRequest], Callable[[Session], Any]] | None = None,
    ) -> None:
        super().__init__(save)
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
            yield from labelled("Points", Input(id="m-points", placeholder="e.g. 50"))
            yield from labelled("Reason", Input(id="m-reason", placeholder="e.g. Birthday gift"))
            yield Label("", id="m-error", classes="error m-error")

    MOVE_ON: ClassVar[dict[str, str]] = {"m-points": "m-reason"}

    def points(self) -> int | None:
        return read_whole(
            self, "m-points", what="a number of points", minimum=1, maximum=MAX_POINTS
        )

    def field_ok(self, field: str) -> bool:
        return self.points() is not None

    def action_save(self) -> None:
        points = self.points()
        if points is None:
            return
        reason = self.query_one("#m-reason", Input).value.strip()
        if not reason:
            self.error("Give a reason.", "#m-reason")
            return
        eid = self.query_one("#m-program", Select).value
        assert isinstance(eid, int)
        self.finish(PointsRequest(eid, self.sign * points, reason))


class EnrolModal(_Form[EnrolRequest]):
    """Enrol the customer in one of the programs they are not in yet."""

    AUTO_FOCUS = "#m-program"
    SERVICE_FIELDS: ClassVar[dict[str, str]] = {
        "starting_balance": "m-balance",
        "expires_on": "m-expires",
        "notes": "m-notes",
    }

    def __init__(
        self,
        programs: list[tuple[str, int]],
        *,
        save: Callable[[EnrolRequest], Callable[[Session], Any]] | None = None,
    ) -> None:
        super().__init__(save)
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
            yield from labelled("Starting balance", Input("0", id="m-balance"))
            yield from labelled(
                "Expires on (YYYY-MM-DD, empty: the program's default)",
                Input(id="m-expires", placeholder="YYYY-MM-DD"),
            )
            yield from labelled("Notes", Input(id="m-notes"))
            yield Label("", id="m-error", classes="error m-error")

    def action_save(self) -> None:
        balance = read_whole(
            self, "m-balance", what="a starting balance", empty=0, maximum=MAX_POINTS
        )
        if balance is None:
            return
        expires_text = self.query_one("#m-expires", Input).value.strip()
        try:
            expires = date.fromisoformat(expires_text) if expires_text else None
        except ValueError:
            self.error("Expiry date as YYYY-MM-DD, e.g. 2027-12-31.", "#m-expires")
            return
        program = self.query_one("#m-program", Select).value
        assert isinstance(program, int)
        notes = self.query_one("#m-notes", Input).value
        self.finish(EnrolRequest(program, balance, expires, notes))


@dataclass(frozen=True)
class MoneyRequest:
    amount: str  # as typed; checked here, parsed again by the service
    method: str = "card"
    reason: str = ""


class _MoneyForm(_Form[MoneyRequest]):
    AUTO_FOCUS = "#m-amount"
    SERVICE_FIELDS: ClassVar[dict[str, str]] = {"amount": "m-amount", "reason": "m-reason"}

    def __init__(
        self,
        title: str,
        *,
        save: Callable[[MoneyRequest], Callable[[Session], Any]] | None = None,
    ) -> None:
        super().__init__(save)
        self.title_text = title

    def check_amount(self) -> str | None:
        """The amount as typed when it can be used (else None, with the message under it)."""
        if read_money(self, "m-amount") is None:
            return None
        return self.query_one("#m-amount", Input).value.strip()


class PaymentModal(_MoneyForm):
    """Take a payment: the amount (``enter`` saves) and the method (card unless changed).

    ``amount`` fills the amount (the order's due). Like every pre-filled field in the app,
    it is selected when the dialog opens: ``enter`` takes it, the first key typed replaces it.
    """

    def __init__(
        self,
        title: str,
        *,
        amount: str = "",
        save: Callable[[MoneyRequest], Callable[[Session], Any]] | None = None,
    ) -> None:
        super().__init__(title, save=save)
        self.amount = amount

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="payment-dialog"):
            yield Label(Text(self.title_text), classes="dialog-title")
            amount = Input(self.amount, id="m-amount", placeholder="e.g. 45.00")
            yield from labelled("Amount", amount)
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
            self.finish(MoneyRequest(amount, method=str(method)))


class RefundModal(_MoneyForm):
    """Refund part or all of what was paid: the amount, then why."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="refund-dialog"):
            yield Label(Text(self.title_text), classes="dialog-title")
            yield from labelled("Amount", Input(id="m-amount", placeholder="e.g. 10.00"))
            yield from labelled("Reason", Input(id="m-reason", placeholder="e.g. Colour faded"))
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
        self.finish(MoneyRequest(amount, reason=reason))


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
    DISCARD_QUESTION = "Discard this note?"

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
        if initial is not None:
            self.discard_question = "Discard your changes to this note?"

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

    def _shown(self) -> tuple[str, int | None, str, bool, bool]:
        """What the form holds now: body (as typed), category, visibility, pinned, alert."""
        category = self.query_one("#m-category", Select).value
        return (
            self.query_one("#m-body", TextArea).text,
            category if isinstance(category, int) else None,
            str(self.query_one("#m-visibility", Select).value),
            self.query_one("#m-pinned", Switch).value,
            self.query_one("#m-alert", Switch).value,
        )

    def changed(self) -> bool:
        initial = self.initial
        if initial is None:
            opened: tuple[str, int | None, str, bool, bool] = ("", None, "staff", False, False)
        else:
            opened = (
                plain(initial.body, multiline=True),
                initial.category_id or None,
                initial.visibility,
                initial.pinned,
                initial.is_alert,
            )
        return self._shown() != opened

    def action_save(self) -> None:
        body = self.query_one("#m-body", TextArea).text.strip()
        if not body:
            self.error("The note is empty.", "#m-body")
            return
        category = self.query_one("#m-category", Select).value
        visibility = self.query_one("#m-visibility", Select).value
        self.finish(
            NoteRequest(
                body=body,
                category_id=category if isinstance(category, int) else None,
                visibility=str(visibility),
                pinned=self.query_one("#m-pinned", Switch).value,
                is_alert=self.query_one("#m-alert", Switch).value,
            )
        )

"""Numbers typed in a dialog: read them, and say what is wrong right under the field.

Every numeric dialog (payment, refund, points, starting balance ...) reads its fields with
:func:`read_money` / :func:`read_whole`. A value that cannot be used shows its message on
the line under the field (the label ``#<input id>-error``, as the customer form does), marks
the field, and puts the cursor back in it; nothing typed is lost and the dialog stays open.
The same line shows a refusal of the service (``ValidationFailed(field, ...)``) after saving.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.dom import DOMNode
from textual.widgets import Input, Label

from frontdesk.data.errors import ValidationFailed
from frontdesk.data.orders import parse_money
from frontdesk.text import user_text

__all__ = [
    "clear_field_error",
    "error_id",
    "labelled",
    "parse_whole",
    "read_money",
    "read_whole",
    "show_field_error",
]


def error_id(input_id: str) -> str:
    """The id of the message line under the field ``input_id``."""
    return f"{input_id}-error"


def labelled(label: str, field: Input) -> ComposeResult:
    """A field with its label above and its (empty) message line under it."""
    yield Label(label)
    yield field
    message = Label("", id=error_id(field.id or ""), classes="field-error")
    message.display = False  # shown with a message only
    yield message


def show_field_error(
    screen: DOMNode, input_id: str, message: str | None, *, focus: bool = True
) -> bool:
    """Show ``message`` under the field (no message clears it); False when there is no such
    field (the caller shows the message elsewhere)."""
    found = screen.query(f"#{error_id(input_id)}")
    if not found:
        return False
    label = found.first(Label)
    label.update(user_text(message) if message else "")
    label.display = bool(message)
    field = screen.query_one(f"#{input_id}", Input)
    field.set_class(bool(message), "invalid")
    if message and focus:
        field.focus()
    return True


def clear_field_error(screen: DOMNode, input_id: str) -> None:
    show_field_error(screen, input_id, None, focus=False)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def parse_whole(
    text: str,
    field: str,
    *,
    what: str,
    minimum: int = 0,
    maximum: int | None = None,
    empty: int | None = None,
) -> int:
    """A whole number typed as ``text`` ("1,000" and "+25" are read too); raises
    ``ValidationFailed(field, message)`` naming ``what`` when it cannot be used."""
    raw = (text or "").strip().replace(" ", "").replace("_", "")
    if not raw:
        if empty is not None:
            return empty
        raise ValidationFailed(field, f"Enter {what}.")
    digits = raw.lstrip("+")
    if "," in digits and all(part.isdigit() for part in digits.split(",")):
        digits = digits.replace(",", "")
    if raw.startswith("-") or not digits.isdigit():
        hint = "zero or more" if minimum <= 0 else f"{minimum} or more"
        raise ValidationFailed(
            field, f"{text.strip()!r} is not {what}: use a whole number ({hint})."
        )
    if len(digits) > 12:  # (a number of a thousand digits is not read)
        said = f"Enter at most {maximum:,}." if maximum is not None else "That number is too large."
        raise ValidationFailed(field, said)
    value = int(digits)
    if value < minimum:
        raise ValidationFailed(field, f"Enter {minimum:,} or more.")
    if maximum is not None and value > maximum:
        raise ValidationFailed(field, f"Enter at most {maximum:,}.")
    return value


def read_whole(
    screen: DOMNode,
    input_id: str,
    *,
    what: str,
    minimum: int = 0,
    maximum: int | None = None,
    empty: int | None = None,
) -> int | None:
    """The whole number in field ``input_id``, or None after showing why it cannot be used."""
    text = screen.query_one(f"#{input_id}", Input).value
    try:
        value = parse_whole(
            text, input_id, what=what, minimum=minimum, maximum=maximum, empty=empty
        )
    except ValidationFailed as exc:
        show_field_error(screen, input_id, exc.message)
        return None
    clear_field_error(screen, input_id)
    return value


def read_money(
    screen: DOMNode, input_id: str, *, allow_zero: bool = False, empty: int | None = None
) -> int | None:
    """The amount in field ``input_id`` in cents ("45", "45.50", "45,50"), or None after
    showing why it cannot be used."""
    text = screen.query_one(f"#{input_id}", Input).value
    if not text.strip() and empty is not None:
        clear_field_error(screen, input_id)
        return empty
    try:
        cents = parse_money(text, input_id)
    except ValidationFailed as exc:
        message = exc.message if "amount" in exc.message else f"the amount {exc.message}"
        show_field_error(screen, input_id, _sentence(message) + ".")
        return None
    if cents <= 0 and not allow_zero:
        show_field_error(screen, input_id, "The amount must be above zero.")
        return None
    clear_field_error(screen, input_id)
    return cents

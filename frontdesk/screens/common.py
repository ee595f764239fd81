"""Small reusable modals: confirm, ask for a line of text, pick from a list, read notes.

Their question, title and option texts often carry user data (a customer's name, a column
header from an imported file): a ``str`` is shown literally, never parsed as markup; a
``rich.text.Text`` is shown as built (for emphasis made from :func:`frontdesk.text.user_text`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Input, Label, OptionList
from textual.widgets.option_list import Option

from frontdesk.data.errors import FrontdeskError, ValidationFailed
from frontdesk.text import plain, safe_style, user_text
from frontdesk.widgets.base import FrontdeskModal

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from textual.widgets import Markdown

__all__ = [
    "ChoiceModal",
    "ConfirmModal",
    "InfoModal",
    "PromptModal",
    "SavingDialog",
    "category_text",
    "discard_or_stay",
    "fill_table",
    "literal",
    "safe_markdown",
    "set_message",
]


def literal(value: str | Text) -> Text:
    """``value`` as a renderable: a ``Text`` as built, a ``str`` shown exactly as written."""
    if isinstance(value, Text):
        return value
    return user_text(value, multiline=True)


def set_message(label: Label, message: str | Text | None) -> None:
    """Show ``message`` under a field (a ``str`` literally); no message hides the line."""
    label.update(literal(message) if message else "")
    label.display = bool(message)


def fill_table(
    table: DataTable[Text],
    columns: Sequence[tuple[str | Text, str]],
    rows: Sequence[tuple[str, Sequence[Text]]],
    *,
    max_width: int = 60,
) -> None:
    """Replace what ``table`` shows: ``columns`` as (label, key), ``rows`` as (key, cells).

    Column widths are measured here and given to the table, so the header and the rows are
    always drawn with the same widths (a table that measures them itself later can leave a
    header drawn at the widths it had before the rows arrived)."""
    labels = [literal(label) for label, _ in columns]
    widths = [label.cell_len for label in labels]
    for _, cells in rows:
        for i, cell in enumerate(cells[: len(widths)]):
            widths[i] = max(widths[i], min(cell.cell_len, max_width))
    table.clear(columns=True)
    for label, (_, key), width in zip(labels, columns, widths, strict=True):
        table.add_column(label, key=key, width=width)
    for key, cells in rows:
        table.add_row(*cells, key=key)


def category_text(symbol: str | None, name: str | None, colour: str | None) -> Text:
    """A category as shown in lists: its symbol in its stored colour (never fails), its name."""
    out = Text()
    out.append_text(user_text(symbol, safe_style(colour, "bold")))
    if symbol:
        out.append(" ")
    out.append_text(user_text(name))
    return out


def _plain_markdown() -> MarkdownIt:
    """CommonMark without links, images, autolinks or raw HTML: a note can never become a
    link to click (``[x](file:///etc/passwd)`` and ``<https://...>`` stay text)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").disable(
        ["link", "image", "autolink", "html_inline", "html_block", "reference"]
    )


def safe_markdown(markdown: str, **kwargs: str | None) -> Markdown:
    """A Markdown widget for user text: controls shown escaped, no links, nothing opened."""
    from textual.widgets import Markdown  # loaded with the first one shown, not at start-up

    return Markdown(
        plain(markdown, multiline=True), parser_factory=_plain_markdown, open_links=False, **kwargs
    )


class ConfirmModal(FrontdeskModal[bool]):
    """A yes/no question: y confirms; n or escape declines (enter presses the focused button,
    "No" at first)."""

    AUTO_FOCUS = "#no"
    BINDINGS = [
        Binding("y", "yes", "Yes"),
        Binding("n,escape", "no", "No"),
    ]

    def __init__(self, question: str | Text, yes: str = "Yes", no: str = "No") -> None:
        super().__init__(classes="dialog-screen")
        self.question = question
        self.yes_label = yes
        self.no_label = no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(literal(self.question), classes="dialog-title", id="question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(Text(f"{self.yes_label} (y)"), id="yes", variant="error")
                yield Button(Text(f"{self.no_label} (n)"), id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)


def discard_or_stay(screen: Screen[Any], question: str, *, changed: bool) -> None:
    """``escape`` on a form: it closes (with None) at once when nothing was changed, else
    only after ``question`` ("Discard ...?") is answered yes; "Keep editing" goes back to
    the form with everything typed (the customer, booking, order and note forms)."""
    if not changed:
        screen.dismiss(None)
        return

    def answer(discard: bool | None) -> None:
        if discard:
            screen.dismiss(None)

    screen.app.push_screen(ConfirmModal(question, "Discard", "Keep editing"), answer)


class SavingDialog(FrontdeskModal[Any]):
    """A settings dialog that saves while it is open (a custom field, a staff member, a
    branch or a service): ``save_with(work)`` runs the service call off the UI thread, with
    the keys typed meanwhile held; the dialog closes with what the service returned, or shows
    its refusal (``ValidationFailed``) under the field it names, which takes the focus, with
    everything typed kept.

    Its widgets are named from ``PREFIX``: the input of a field ``#{PREFIX}-{name}``, its
    message line ``#{PREFIX}-{name}-msg`` (:func:`message_line`), and ``#{PREFIX}-error`` for
    what is about no field. ``FIELD_OF`` maps a service's field name to ``name`` (default:
    the same name, when the dialog has that message line).
    """

    PREFIX = "dialog"
    FIELD_OF: dict[str, str] = {}

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")
        self.saving = False
        self.result: Any = None  # what the service returned

    @staticmethod
    def message_line(label_id: str) -> Label:
        """A message line under a field, hidden while it has nothing to say."""
        label = Label("", id=label_id, classes="field-msg error")
        label.display = False
        return label

    def clear_messages(self) -> None:
        for label in self.query(".field-msg").results(Label):
            set_message(label, None)

    def on_input_changed(self, event: Input.Changed) -> None:
        widget_id = event.input.id or ""
        if self.is_mounted and widget_id.startswith(f"{self.PREFIX}-"):
            found = self.query(f"#{widget_id}-msg").results(Label)
            for label in found:
                set_message(label, None)

    def save_with(self, work: Callable[[Session], Any], closing_with: Any = None) -> None:
        """Save through ``work``; once it is done, close with ``closing_with`` (or, when
        None, with what ``work`` returned)."""
        if self.saving:
            return
        self.clear_messages()
        self.saving = True
        self.hold_keys()  # keys typed after saving wait for the outcome (e.g. a fix)

        def done(result: Any) -> None:
            self.result = result
            self.release_keys()
            self.dismiss(result if closing_with is None else closing_with)

        self.run_write(work, then=done, on_error=self.show_error)

    def show_error(self, exc: Exception) -> None:
        self.saving = False
        self.release_keys()
        if isinstance(exc, ValidationFailed):
            name = self.FIELD_OF.get(exc.field, exc.field)
            text = exc.message[:1].upper() + exc.message[1:]  # "A username has no spaces"
            lines = self.query(f"#{self.PREFIX}-{name}-msg").results(Label)
            for label in lines:
                set_message(label, text)
                self.set_focus(self.query_one(f"#{self.PREFIX}-{name}"))
                return
            said = exc.message
        else:
            said = str(exc)
        set_message(self.query_one(f"#{self.PREFIX}-error", Label), f"Not saved: {said}")


class PromptModal(FrontdeskModal[str | None]):
    """Ask for one line of text (e.g. a block reason). Enter confirms, escape cancels.

    ``check`` (optional) returns a message for a value that cannot be used; the modal then
    stays open and shows it under the field.

    ``save`` (optional: the answer -> the service call to run) saves from the modal, which
    closes only once the service accepted, with what it returned: a refusal shows under the
    field and the answer stays.
    """

    AUTO_FOCUS = "#answer"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        question: str | Text,
        *,
        placeholder: str = "",
        required: bool = True,
        value: str = "",
        check: Callable[[str], str | None] | None = None,
        save: Callable[[str], Callable[[Session], Any]] | None = None,
        explain: Callable[[FrontdeskError], str | None] | None = None,
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.question = question
        self.placeholder = placeholder
        self.required = required
        self.initial = value
        self.check = check
        self.save = save
        self.explain = explain  # the sentence for a refusal (None: the error's own)
        self.saving = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(literal(self.question), classes="dialog-title", id="question")
            yield Input(plain(self.initial), placeholder=self.placeholder, id="answer")
            yield Label("", id="answer-error", classes="error")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#answer-error", Label).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        problem = "This cannot be empty." if self.required and not value else None
        if problem is None and self.check is not None:
            problem = self.check(value)
        if problem:
            self.query_one("#answer-error", Label).update(user_text(problem))
            return
        if self.save is None:
            self.dismiss(value)
            return
        if self.saving:
            return
        self.saving = True
        self.hold_keys()  # keys typed after enter wait for the outcome
        self.run_write(self.save(value), self._saved, group="modal-save", on_error=self._refused)

    def _saved(self, result: Any) -> None:
        self.dismiss(result)

    def _refused(self, exc: Exception) -> None:
        self.saving = False
        self.release_keys()
        if isinstance(exc, FrontdeskError):
            message = (self.explain(exc) if self.explain else None) or str(exc)
        else:
            message = "Not saved: an unexpected error."
        self.query_one("#answer-error", Label).update(user_text(message))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceModal(FrontdeskModal[str | None]):
    """Pick one option from a list (arrow keys and enter; escape cancels).

    ``options`` are ``(label, key)`` pairs; a label may be user data (shown literally) or a
    ``Text`` (e.g. a category in its colour).
    """

    AUTO_FOCUS = "#choices"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str | Text, options: Sequence[tuple[str | Text, str]]) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.options = list(options)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(literal(self.title_text), classes="dialog-title", id="question")
            yield OptionList(
                *[Option(literal(label), id=key) for label, key in self.options], id="choices"
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class InfoModal(FrontdeskModal[None]):
    """Read-only Markdown text (e.g. a booking's notes). Escape or enter closes.

    The text is user data: it is shown as Markdown for its emphasis and lists, but control
    characters are shown escaped and links are never made (nor opened).
    """

    AUTO_FOCUS = "#info-body"
    BINDINGS = [Binding("escape,enter", "close", "Close")]

    def __init__(self, title: str | Text, markdown: str) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(literal(self.title_text), classes="dialog-title", id="question")
            with VerticalScroll(id="info-body"):
                yield safe_markdown(self.markdown)

    def action_close(self) -> None:
        self.dismiss(None)

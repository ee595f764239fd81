"""The customer picker: type a name, phone, email or code; pick with arrows and enter.

Used by the new-booking and new-order screens. When nothing matches, the screen's ctrl+n
opens the add-customer modal pre-filled from the typed text (:meth:`CustomerPicker.prefill`);
the new customer comes straight back (:meth:`CustomerPicker.added`).

Keys typed ahead land where they were meant: ``enter`` or ``down`` typed before the results
of the text arrived wait for them (the screen holds later keys meanwhile), and choosing a
customer holds later keys until the customer is shown and focus has moved on.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from frontdesk.data import picker as data
from frontdesk.data.directory import prefill_from_query
from frontdesk.data.models import CreatedVia
from frontdesk.text import join, note_summary, safe_style, user_text
from frontdesk.widgets.base import DataWidget

HINT_EMPTY = "Type to find the customer · ctrl+n adds a new one"
HINT_MATCHES = "↓ and enter pick · ctrl+n adds a new customer"
HINT_PICKED = "enter keeps this customer · type to find another · ctrl+e edits them"
SEARCH_DELAY = 0.03


def day(value: datetime | None) -> str:
    return value.astimezone().date().isoformat() if value is not None else "—"


def _picker_of(widget: Widget) -> CustomerPicker | None:
    return next((n for n in widget.ancestors if isinstance(n, CustomerPicker)), None)


class PickerInput(Input):
    """The search box: ``enter`` and ``down`` act inside the key's own handling (not through
    a message), so that the keys typed after them wait for what they start."""

    BINDINGS = [Binding("down", "matches", "Matches", show=False)]

    def action_matches(self) -> None:
        picker = _picker_of(self)
        if picker is not None:
            picker.request_matches()

    async def action_submit(self) -> None:
        picker = _picker_of(self)
        if picker is not None:
            picker.request_submit()


class MatchList(OptionList):
    """The matches: ``enter`` (or a click) picks the highlighted customer at once."""

    def action_select(self) -> None:
        picker = _picker_of(self)
        index = self.highlighted
        if picker is None or index is None:
            return
        option = self.get_option_at_index(index)
        if option.id:
            picker.pick(int(option.id))


class CustomerPicker(DataWidget):
    """Search-as-you-type customer chooser. Posts ``Picked`` when a customer is chosen.

    ``after_pick`` names the field that takes the focus once the receptionist has chosen a
    customer (the service of a booking, the first line of an order).
    """

    class Picked(Message):
        def __init__(
            self,
            picker: CustomerPicker,
            customer: data.PickedCustomer | None,
            prefilled: bool = False,
        ) -> None:
            super().__init__()
            self.picker = picker
            self.customer = customer
            # True when the screen pre-filled the customer (the receptionist did not choose yet).
            self.prefilled = prefilled

        @property
        def control(self) -> CustomerPicker:
            return self.picker

    def __init__(
        self, *, for_booking: bool = True, after_pick: str | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.for_booking = for_booking
        self.after_pick = after_pick
        # The business's phone region (the screen sets it from its form): the add-customer
        # modal opens with it, without loading anything.
        self.phone_region: str | None = None
        self.customer: data.PickedCustomer | None = None
        self.results: list[data.PickerMatch] = []
        self._results_for: str = ""  # the text the shown results belong to
        self._debounce: Timer | None = None
        self._picked_text = ""
        self._intent: str | None = None  # "submit" / "matches", waiting for the results
        self._holding = False
        self._loading_pick = False
        self._search_seq = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box"):
            yield PickerInput(placeholder="Customer: name, phone, email or code", id="picker-input")
            yield MatchList(id="picker-matches")
            yield Static("", id="picker-selected")
            yield Static("", id="picker-hint", classes="muted")

    def on_mount(self) -> None:
        self.query_one("#picker-matches", OptionList).display = False
        self.query_one("#picker-selected", Static).display = False
        self.hint(HINT_EMPTY)

    # ------------------------------------------------------------------ keys wait for us
    def _hold(self) -> None:
        hold = getattr(self.screen, "hold_keys", None)
        if hold is not None:
            hold()
            self._holding = True

    def _release(self) -> None:
        if self._holding:
            self._holding = False
            self.screen.release_keys()  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ typing
    @property
    def text(self) -> str:
        return self.query_one("#picker-input", Input).value

    def hint(self, message: str | Text) -> None:
        self.query_one("#picker-hint", Static).update(
            message if isinstance(message, Text) else Text(message)
        )

    @property
    def searching(self) -> bool:
        """True while the shown results are not those of the typed text."""
        return bool(self.text.strip()) and self._results_for != self.text

    @on(Input.Changed, "#picker-input")
    def typed(self, event: Input.Changed) -> None:
        event.stop()
        if self.customer is not None and event.value != self._picked_text:
            # Typing replaces the chosen (or pre-filled) customer: no extra key to clear it.
            self._unpick()
        if self._debounce is not None:
            self._debounce.stop()
        value = event.value
        if not value.strip():
            self._search_seq += 1  # whatever is still on its way is out of date
            self._show_results(value, [])
            return
        self._debounce = self.set_timer(SEARCH_DELAY, lambda: self.lookup(value))

    def lookup(self, text: str) -> None:
        self._search_seq += 1
        seq = self._search_seq

        def found(matches: list[data.PickerMatch]) -> None:
            # A search that finished after a later one started (a thread worker cannot be
            # stopped) must not show its results over the later one's, or over the pick.
            if seq == self._search_seq:
                self._show_results(text, matches)

        self.run_read(
            lambda s: data.matches(session=s, text=text),
            found,
            group="picker-search",
            on_error=self._search_failed,
        )

    def refresh_data(self) -> None:
        """Another desk changed something: the chosen customer (blocked meanwhile? a new
        phone?) or the matches shown are read again, without making keys wait."""
        if self.customer is not None and not self._loading_pick and self._intent is None:
            customer_id = self.customer.match.id

            def reloaded(chosen: data.PickedCustomer) -> None:
                still = self.customer is not None and self.customer.match.id == customer_id
                if not still or self._loading_pick:
                    return
                if self._render_picked(chosen):
                    self.customer = chosen
                else:  # blocked on another desk meanwhile: no longer the chosen customer
                    self.customer = None
                    self.query_one("#picker-selected", Static).display = False
                    self.post_message(self.Picked(self, None))

            self.run_read(
                lambda s: data.picked(session=s, customer_id=customer_id),
                reloaded,
                group="picker-live",
            )
        elif self.customer is None and self.text.strip() and not self.searching:
            self.lookup(self.text)

    def _search_failed(self, _error: Exception) -> None:
        self._intent = None
        self._release()

    def _show_results(self, text: str, found: list[data.PickerMatch]) -> None:
        if text != self.text:
            return  # stale: a later search is on its way
        if self.customer is not None and text == self._picked_text and self._intent is None:
            return  # chosen from these results already
        self.results = found
        self._results_for = text
        options = self.query_one("#picker-matches", OptionList)
        options.clear_options()
        options.add_options([Option(self.describe(m), id=str(m.id)) for m in found])
        options.display = bool(found)
        if text.strip() and not found:
            self.hint(
                join(
                    Text("No customer matches '"),
                    user_text(text.strip()),
                    Text("' — ctrl+n adds them"),
                    sep="",
                )
            )
        elif found:
            self.hint(HINT_MATCHES)
        elif self.customer is None:
            self.hint(HINT_EMPTY)
        intent, self._intent = self._intent, None
        if intent == "submit":
            self._submit()
        elif intent == "matches":
            self.focus_matches()
        if intent is not None and not self._loading_pick:
            self._release()

    def _wait_for_results(self, intent: str) -> None:
        """``enter``/``down`` came before the results: do it when they arrive."""
        self._intent = intent
        self._hold()
        if self._debounce is not None:
            self._debounce.stop()
        self.lookup(self.text)

    def request_submit(self) -> None:
        """``enter`` in the search box: keep the chosen customer, pick the only match, or go
        to the matches (once the results of the typed text are in)."""
        if self.customer is None and self.searching:
            self._wait_for_results("submit")
            return
        self._submit()

    def _submit(self) -> None:
        if self.customer is not None and self.text == self._picked_text:
            self.move_on()  # keep the chosen customer
        elif len(self.results) == 1:
            self.pick(self.results[0].id)
        elif self.results:
            self.focus_matches()

    def request_matches(self) -> None:
        if self.searching:
            self._wait_for_results("matches")
            return
        self.focus_matches()

    def move_on(self) -> None:
        """Focus the field after the customer (at once, before the next key)."""
        target = self.screen.query(self.after_pick).first() if self.after_pick else None
        if target is not None and target.focusable:
            self.screen.set_focus(target)
        else:
            self.screen.focus_next()

    def describe(self, m: data.PickerMatch) -> Text:
        """One match: name, code, category (in its colour), alert; contacts; blocked reason."""
        text = Text()
        text.append_text(user_text(m.name, "bold"))
        text.append(" · ")
        text.append_text(user_text(m.code, "dim"))
        if m.category:
            text.append(" · ")
            text.append_text(user_text(m.category, safe_style(m.category_colour)))
        if m.has_alert:
            text.append("  ⚠ alert", style="bold red")
        text.append("\n  ")
        details = [m.phone or "no phone", m.email or "no email", f"last visit {day(m.last_visit)}"]
        text.append_text(user_text(" · ".join(details), "dim"))
        if m.blocked:
            text.append("\n  BLOCKED: ", style="bold red")
            text.append_text(user_text(m.blocked_reason, "bold red"))
        elif m.status != "active":
            text.append_text(user_text(f"  ({m.status})", "yellow"))
        if m.note:  # the text named a merged-away customer: say whom it found instead
            text.append("\n  ↪ ", style="yellow")
            text.append_text(user_text(m.note, "yellow"))
        return text

    def focus_matches(self) -> None:
        options = self.query_one("#picker-matches", OptionList)
        if self.results:
            self.screen.set_focus(options)
            if options.highlighted is None:
                options.highlighted = 0

    # ------------------------------------------------------------------ picking
    def pick(self, customer_id: int) -> None:
        """Load the chosen customer; later keys wait until they are shown."""
        self._hold()
        self._loading_pick = True

        def failed(_error: Exception) -> None:
            self._loading_pick = False
            self._release()

        self.run_read(
            lambda s: data.picked(session=s, customer_id=customer_id),
            self._picked_loaded,
            group="picker-pick",
            on_error=failed,
        )

    def _picked_loaded(self, chosen: data.PickedCustomer) -> None:
        self._loading_pick = False
        self.show_picked(chosen)
        self._release()

    def show_picked(self, chosen: data.PickedCustomer, prefilled: bool = False) -> bool:
        """Show the chosen customer (refused for a booking when blocked); True when taken."""
        if not self._render_picked(chosen):
            return False
        self.customer = chosen
        self.query_one("#picker-matches", OptionList).display = False
        self._picked_text = self.text
        self.hint(HINT_PICKED)
        self.post_message(self.Picked(self, chosen, prefilled))
        if not prefilled:
            self.move_on()
        return True

    def _render_picked(self, chosen: data.PickedCustomer) -> bool:
        """Draw the chosen customer's line; False (and why) when a booking may not take them."""
        m = chosen.match
        if self.for_booking and m.blocked:
            self.query_one("#picker-hint", Static).update(
                Text.assemble(
                    user_text(m.name),
                    f" ({m.code}) is blocked: ",
                    user_text(m.blocked_reason),
                    " — cannot be booked",
                    style="bold red",
                )
            )
            return False
        selected = self.query_one("#picker-selected", Static)
        text = Text()
        text.append("✔ ", style="green")
        text.append_text(user_text(m.name, "bold"))
        text.append(" · ")
        contact = " · ".join(p for p in (m.code, m.phone, m.email) if p)
        text.append_text(user_text(contact, "dim"))
        if m.category:
            text.append(" · ")
            text.append_text(user_text(m.category, safe_style(m.category_colour)))
        if m.blocked:
            text.append("\nBLOCKED: ", style="bold red")
            text.append_text(user_text(m.blocked_reason, "bold red"))
        for alert in chosen.alerts:
            text.append("\n⚠ ", style="bold red")
            text.append_text(note_summary(alert, "bold red"))
        selected.update(text)
        selected.display = True
        return True

    def _unpick(self) -> None:
        self.customer = None
        self.query_one("#picker-selected", Static).display = False
        self.hint(HINT_EMPTY)
        self.post_message(self.Picked(self, None))

    def action_clear(self) -> None:
        self._unpick()
        picker_input = self.query_one("#picker-input", Input)
        picker_input.value = ""
        self.screen.set_focus(picker_input)

    # ------------------------------------------------------------------ add / edit
    @property
    def created_via(self) -> CreatedVia:
        return CreatedVia.BOOKING if self.for_booking else CreatedVia.ORDER

    def prefill(self) -> dict[str, str]:
        """The add-customer form's fields from the typed text (digits: phone, words: names)."""
        return prefill_from_query(self.text)

    def added(self, chosen: data.PickedCustomer | None) -> None:
        """The add-customer modal closed (it held this screen's keys as it closed): show the
        new customer and move on, or return to the typed text; then let waiting keys in."""
        if chosen is not None:
            self.show_picked(chosen)
        else:
            self.focus_input()
        self.screen.release_keys()  # type: ignore[attr-defined]

    def focus_input(self) -> None:
        self.screen.set_focus(self.query_one("#picker-input", Input))

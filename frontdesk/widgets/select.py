"""The app's Select: its focus moves happen at once, so that keys typed ahead land in order.

Textual's ``Select`` opens its list with ``overlay.focus()`` and takes the chosen option
through two messages and another ``focus()``, all deferred. The app hands over the next key as
soon as the previous one has bubbled back, which can be before those deferred steps: with
``enter`` ``w`` ``enter`` typed at speed, the ``w`` reached the closed select instead of the
list, and a ``tab`` after the second ``enter`` left from the list instead of the select.
This :class:`Select` (also called ``InstantSelect``) opens, chooses and closes inside the key's
own handling, and its type-to-search never lands on the blank choice: a ``ctrl+s`` typed
straight after the ``enter`` that chose saves the choice. Screens import ``Select`` from here,
never from ``textual.widgets`` (tests/ui/test_select_race.py checks).
"""

from __future__ import annotations

from typing import TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Select as TextualSelect
from textual.widgets._select import SelectCurrent, SelectOverlay

T = TypeVar("T")


class InstantOverlay(SelectOverlay):
    """The list of the app's :class:`Select`: ``enter`` and ``escape`` act at once."""

    def _find_search_match(self, query: str) -> int | None:
        """Type-to-search as Textual does (earliest match in the prompt wins), except that the
        blank choice ("Choose a service") is never a match: ``c`` finds "Colour"."""
        select = self.parent
        blank = (
            {i for i, (_p, value) in enumerate(select._options) if value is TextualSelect.NULL}
            if isinstance(select, TextualSelect)
            else set()
        )
        best: int | None = None
        lowest: int | None = None
        query = query.lower()
        for index, option in enumerate(self._options):
            if index in blank:
                continue
            prompt = option.prompt
            if isinstance(prompt, Text):
                found = prompt.plain.lower().find(query)
            elif isinstance(prompt, str):
                found = prompt.lower().find(query)
            else:
                continue
            if found != -1 and (lowest is None or found < lowest):
                best, lowest = index, found
        return best

    def action_select(self) -> None:
        select = self.parent
        if isinstance(select, Select) and self.highlighted is not None:
            select.choose(self.highlighted)
        else:
            super().action_select()

    def action_dismiss(self) -> None:
        select = self.parent
        if isinstance(select, Select):
            select.close_list()
        else:
            super().action_dismiss()


class Select(TextualSelect[T]):
    """``Select`` with immediate focus moves (same API): the app's select."""

    def compose(self) -> ComposeResult:
        yield SelectCurrent(self.prompt)
        yield InstantOverlay(type_to_search=self._type_to_search).data_bind(
            compact=TextualSelect.compact
        )

    def _watch_expanded(self, expanded: bool) -> None:
        super()._watch_expanded(expanded)
        if expanded and self.is_attached:
            overlay = self.query_one(SelectOverlay)
            self.screen.set_focus(overlay, scroll_visible=False)

    @on(SelectOverlay.Dismiss)
    def _keep_reopened_list(self, event: SelectOverlay.Dismiss) -> None:
        """The list lost the focus, but was opened again since (keys typed at speed): this
        late dismissal must not close the new list."""
        if event.lost_focus and self.query_one(SelectOverlay).has_focus:
            event.prevent_default()
            event.stop()

    def choose(self, index: int) -> None:
        """Take option ``index`` of the list, close it and focus the select."""
        value = self._options[index][1]
        if value != self.value:
            self.value = value
        self.screen.set_focus(self)
        self.expanded = False

    def close_list(self) -> None:
        self.screen.set_focus(self)
        self.expanded = False


# Its first name (booking, order and quick add build ``InstantSelect``): the same class.
InstantSelect = Select

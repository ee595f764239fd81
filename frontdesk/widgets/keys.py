"""Where typed keys may go: readiness of a screen and the widgets that take letters."""

from __future__ import annotations

from functools import lru_cache
from time import monotonic
from typing import Any

from textual import events
from textual.keys import _character_to_key
from textual.widgets import (
    Checkbox,
    Input,
    ListView,
    OptionList,
    RadioSet,
    Select,
    SelectionList,
    Switch,
    TextArea,
)

# Widgets where a letter is text or a choice, never a screen action.
TYPING_WIDGETS: tuple[type, ...] = (
    Input,
    TextArea,
    OptionList,  # SelectionList and the Select overlay are option lists too
    SelectionList,
    ListView,
    Select,
    Checkbox,
    Switch,
    RadioSet,
)


class KeyReadiness:
    """Mixin for screens: keys typed before the screen is ready wait for it, in order.

    A screen is ready once it is mounted and shown (so ``AUTO_FOCUS`` has chosen the field)
    and, if it called :meth:`hold_keys` to load what it shows, once it calls
    :meth:`release_keys`.
    """

    _keys_mounted: bool = False
    _keys_held_since: float | None = None

    def _on_mount(self, event: events.Mount) -> None:
        # Textual calls the Mount handler of every class in the MRO, this one included. (A
        # screen mounted off screen, the form built ahead, is ready once it has settled.)
        node: Any = self
        node.call_after_refresh(self._keys_ready)

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Shown: Textual's own resume handler (after this one on the class hierarchy) chooses
        # the focus and lays the screen out. Ready right after it, not once the screen has no
        # change left to draw: the form's choices arriving, laid out and drawn, kept keys
        # typed at its first opening waiting 70 ms more.
        if not self._keys_mounted:
            node: Any = self
            node.call_next(self._keys_ready)

    def _keys_ready(self) -> None:
        self._keys_mounted = True
        self._kick()

    def hold_keys(self) -> None:
        """Keep typed keys waiting until :meth:`release_keys` (data loading)."""
        self._keys_held_since = monotonic()

    def release_keys(self) -> None:
        self._keys_held_since = None
        self._kick()

    def _kick(self) -> None:
        node: Any = self
        app = node.app
        drain = getattr(app, "drain_keys", None)
        if drain is not None:
            app.call_next(drain)

    def accepts_keys(self, hold_limit: float) -> bool:
        if not self._keys_mounted:
            return False
        held = self._keys_held_since
        return held is None or monotonic() - held > hold_limit


def screen_accepts_keys(screen: Any, hold_limit: float) -> bool:
    if isinstance(screen, KeyReadiness):
        return screen.accepts_keys(hold_limit)
    return True


@lru_cache(maxsize=256)
def is_printable_key(key: str) -> bool:
    """True for a key that types a character (``a``, ``A``, ``space``, ``slash`` ...)."""
    if len(key) == 1:
        return key.isprintable()
    if "+" in key:
        return False
    return key in _PRINTABLE_NAMES


# Every key name Textual gives a printable character (``slash``, ``minus``, ``space`` ...).
_PRINTABLE_NAMES = frozenset(
    _character_to_key(chr(code))
    for code in range(0x20, 0x2500)
    if chr(code).isprintable() and not chr(code).isalnum()
)

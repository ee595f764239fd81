"""Text fields that type without laying out their whole screen again."""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class SteadyInput(Input):
    """An ``Input`` of a fixed size (its CSS gives width and height, not ``auto``).

    Textual's ``Input`` records the width of its text as its virtual size on every keystroke,
    and a virtual size change lays out the whole screen again (every widget arranged), though
    a field's box does not change with what is typed. Here the size is still recorded (the
    field scrolls by it) but only the field is repainted.
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=True)

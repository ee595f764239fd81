"""User data on screen: always literal text, never markup or terminal control.

Every piece of user data (names, notes, addresses, reasons, tags ...) reaches the TUI and the
CLI through :func:`user_text` (a ``rich.text.Text`` built from the value, so ``[/]`` is shown
as typed) or :func:`plain` (a ``str`` with control characters made visible). Stored colours
go through :func:`safe_style`, which never raises.
"""

from __future__ import annotations

import re

from rich.color import Color, ColorParseError
from rich.errors import StyleSyntaxError
from rich.style import Style
from rich.text import Text

from frontdesk.data.colours import to_hex
from frontdesk.data.note_text import markdown_summary

# C0 and C1 controls and DEL; newline and tab are handled by the caller's choice.
# Bidirectional overrides and isolates are shown too: they reorder what a line seems to say.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\n":
        return "⏎"
    if char == "\t":
        return " "
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain(value: object | None, *, multiline: bool = False) -> str:
    """``value`` as a string that is safe to print: controls shown as ``\\x1b`` etc."""
    if value is None:
        return ""
    text = str(value)
    pattern = _CONTROL if multiline else _CONTROL_SINGLE_LINE
    return pattern.sub(_escape, text)


def user_text(
    value: object | None, style: str | Style = "", *, multiline: bool = False, end: str = ""
) -> Text:
    """A renderable showing ``value`` literally (markup and controls are not interpreted)."""
    return Text(plain(value, multiline=multiline), style=style, end=end)


def join(*parts: Text | str, sep: str = " ") -> Text:
    """Join ``Text`` parts (and literal strings) into one ``Text``."""
    out = Text()
    first = True
    for part in parts:
        if not part:
            continue
        if not first:
            out.append(sep)
        out.append(part if isinstance(part, Text) else Text(part))
        first = False
    return out


def safe_colour(colour: str | None) -> str | None:
    """A colour rich can draw for ``colour``, or None when it cannot be read."""
    if not colour:
        return None
    # The data layer's reading first (CSS names such as "gold" that rich does not know),
    # then rich's own names (e.g. "bright_red").
    value = to_hex(colour) or colour.strip().lower()
    try:
        Color.parse(value)
    except (ColorParseError, ValueError):
        return None
    return value


def safe_style(colour: str | None, extra: str = "") -> Style:
    """A style for a stored colour; an unreadable colour falls back to no colour."""
    parsed = safe_colour(colour)
    try:
        base = Style.parse(extra) if extra else Style()
    except StyleSyntaxError:
        base = Style()
    if parsed is None:
        return base
    return base + Style(color=parsed)


def note_summary(
    markdown: str | None, style: str | Style = "", *, max_length: int | None = None
) -> Text:
    """A note (Markdown) as one line of plain text: "# Patch test\n- **Severe**" shows as
    "Patch test · Severe", controls escaped, never read as markup."""
    return user_text(markdown_summary(markdown, max_length), style)


def fit(text: Text, width: int) -> Text:
    """``text`` cut to ``width`` cells, with "…" where it was cut."""
    if text.cell_len > width:
        text.truncate(width, overflow="ellipsis")
    return text

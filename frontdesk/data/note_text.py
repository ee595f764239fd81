"""A note's Markdown as one plain line, for lists, headers, cards and the timeline.

``# Patch test\\n- **Severe** nut allergy`` becomes ``Patch test · Severe nut allergy``:
the text of every block (heading, paragraph, list item, code) without its markup, blocks
joined with " · ". Links, images and raw HTML are never made: ``[x](file:///etc)`` and
``<b>`` stay as typed, exactly as the note view shows them.

The result is plain text, never markup; control characters are shown escaped (``\\x1b``)
and line breaks and tabs become spaces, so a summary is always one line. Pure Python: the
CLI, the read models and the screens all use it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the parser is loaded when a note is first shown, not at start-up
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

SEPARATOR = " · "

_SPACES = re.compile(r"\s+")
# C0/C1 controls, DEL and the bidirectional overrides/isolates (as frontdesk.text shows them).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    """CommonMark without links, images, autolinks or raw HTML (the note view's rules)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").disable(
        ["link", "image", "autolink", "html_inline", "html_block", "reference"]
    )


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def _one_line(text: str) -> str:
    return _CONTROL.sub(_escape, _SPACES.sub(" ", text.replace("\t", " "))).strip()


def markdown_blocks(markdown: str | None) -> list[str]:
    """The plain text of each block of ``markdown`` (one line each, empty blocks left out)."""
    if not markdown or not markdown.strip():
        return []
    blocks: list[str] = []
    for token in _parser().parse(markdown):
        if token.type == "inline":
            text = _inline_text(token)
        elif token.type in ("fence", "code_block"):
            text = token.content
        else:
            continue
        line = _one_line(text)
        if line:
            blocks.append(line)
    return blocks


def markdown_summary(markdown: str | None, max_length: int | None = None) -> str:
    """``markdown`` as one plain line: blocks without markup, joined with " · ".

    ``max_length`` cuts the line (ending with "…") for narrow places.
    """
    line = SEPARATOR.join(markdown_blocks(markdown))
    if max_length is not None and len(line) > max_length:
        line = line[: max(max_length - 1, 0)].rstrip(" ·") + "…"
    return line


__all__ = ["SEPARATOR", "markdown_blocks", "markdown_summary"]

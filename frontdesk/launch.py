"""The ``frontdesk`` command's first step, before anything heavy is imported.

Starting the app takes a moment (Python loads the interface and opens the database). A
receptionist types ahead meanwhile: ``b``, a phone number, ``ctrl+s``. In the terminal's normal
("cooked") mode those keys would be echoed over the screen, ``ctrl+s`` would freeze the terminal
(XOFF) instead of reaching the app, and ``enter`` would arrive as another key. So when the
command is about to start the app on a terminal, the terminal takes keys as they are straight
away (no echo, no line editing, no flow control; ``ctrl+c`` still stops it), and the keys wait,
in order, for the app; the terminal's own settings come back when the command ends.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

# The options the command takes before a subcommand, and whether each takes a value.
_GLOBAL_OPTIONS = {"--db": True, "--staff": True}


def starts_app(args: Sequence[str]) -> bool:
    """True when ``frontdesk ARGS`` starts the app (no subcommand, no help or version)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in _GLOBAL_OPTIONS:
            skip = _GLOBAL_OPTIONS[name] and "=" not in arg
            continue
        return False  # a subcommand, --help, --version or an unknown option
    return True


def hold_typed_keys(fd: int) -> Callable[[], None] | None:
    """Put terminal ``fd`` in the mode the app reads keys in; returns how to undo it."""
    try:
        import termios
    except ImportError:  # not a POSIX terminal
        return None
    try:
        before = termios.tcgetattr(fd)
    except termios.error:
        return None
    held = termios.tcgetattr(fd)
    held[0] &= ~(termios.IXON | termios.ICRNL)  # iflag: ctrl+s/ctrl+q and enter as typed
    held[3] &= ~(termios.ICANON | termios.ECHO | termios.IEXTEN)  # lflag: no line editing
    held[6][termios.VMIN] = 1
    held[6][termios.VTIME] = 0
    try:
        termios.tcsetattr(fd, termios.TCSANOW, held)  # TCSANOW: keys already typed stay
    except termios.error:
        return None

    def restore() -> None:
        try:
            termios.tcsetattr(fd, termios.TCSANOW, before)
        except termios.error:
            pass

    return restore


def main() -> None:
    restore = None
    if starts_app(sys.argv[1:]) and sys.stdin.isatty():
        restore = hold_typed_keys(sys.stdin.fileno())
    try:
        from frontdesk.cli import main as cli_main

        cli_main()
    finally:
        if restore is not None:
            restore()

"""Crash reports: a private file with the traceback (no local variables), never the screen.

A traceback printed to the terminal after a crash shows customer data (notes, timelines) to
whoever stands at the desk and ends up in scrollback. Instead the app writes the report to
``<data dir>/crash/`` with mode 0600 and prints one short line naming the file.
"""

from __future__ import annotations

import os
import platform
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from frontdesk import __version__


def crash_dir() -> Path:
    from frontdesk import config

    path = config.data_dir() / "crash"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def write_crash_report(error: BaseException, *, where: str = "app") -> Path | None:
    """Write ``error``'s traceback (frames only, no locals) to a private file; return its path."""
    try:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        path = crash_dir() / f"crash-{stamp}-{os.getpid()}.txt"
        lines = [
            f"Frontdesk {__version__} crash report ({where})\n",
            f"time: {datetime.now(UTC).isoformat()}\n",
            f"python: {sys.version.split()[0]} on {platform.platform()}\n",
            f"error type: {type(error).__module__}.{type(error).__qualname__}\n\n",
        ]
        # Only the frames (file, line, function, source line): no local variables and no
        # exception message, which may quote customer data.
        for exc in _chain(error):
            lines.append(f"{type(exc).__module__}.{type(exc).__qualname__}\n")
            lines.extend(traceback.format_tb(exc.__traceback__))
            lines.append("\n")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as out:
            out.writelines(lines)
        return path
    except Exception:  # reporting a crash must never raise a second one
        return None


def _chain(error: BaseException, limit: int = 50) -> list[BaseException]:
    """``error`` and what led to it, the earliest first.

    Follows causes and contexts, the members of an exception group, and the error inside a
    failed worker (Textual's ``WorkerFailed`` carries it without a traceback of its own).
    """
    seen: list[BaseException] = []
    pending: list[BaseException] = [error]
    while pending and len(seen) < limit:
        current = pending.pop()
        if any(current is known for known in seen):
            continue
        seen.append(current)
        inner = getattr(current, "error", None)
        if isinstance(inner, BaseException):
            pending.append(inner)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        earlier = current.__cause__ or current.__context__
        if earlier is not None:
            pending.append(earlier)
    return list(reversed(seen))

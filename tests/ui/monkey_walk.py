"""A seeded random walk of keys through the whole app (the "monkey"), shared by the test
(tests/ui/test_monkey.py, a short run) and the script (benchmarks/monkey.py, a long run).

The walk sends bursts of keys at once, as a fast typist or a paste does: the app's real
bindings of the moment (read from ``app.active_bindings``, so it follows the screens as they
change), navigation keys, control keys, hostile text and, now and then, a short "route" that
opens a screen the walk has not reached yet (profile tabs, booking, order, settings, import,
duplicates and merge, filters, bulk actions, the command palette, the day sheet and its free
times, outbox, requests, business overview, audit log, newsletter, a message and consents from
the profile ...). When it stays on one screen too long it presses escape.

It never presses ctrl+q / ctrl+c, and while it runs a guard refuses every file write outside
the temporary directories (an export typed to ``/etc/x`` gets a PermissionError, which the app
must show as an error like any other OSError).

What counts as a failure: an exception that escapes to the app (it ends the app), an
"Unexpected error" shown by the app (``show_error`` / a notification with that title), the app
exiting by itself, or keys that never drain (the app stopped taking keys).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.ui.conftest import _key_event

# Keys the walk never sends: they leave the app (or the process).
NEVER = frozenset({"ctrl+q", "ctrl+c", "ctrl+z", "ctrl+backslash", "ctrl+d+ctrl+q"})

NAVIGATION = [
    "tab", "shift+tab", "enter", "escape", "up", "down", "left", "right", "home", "end",
    "pageup", "pagedown", "space", "backspace", "delete", "slash",
]  # fmt: skip
CONTROL_KEYS = [
    "ctrl+s", "ctrl+p", "ctrl+n", "ctrl+l", "ctrl+r", "ctrl+o", "ctrl+k", "ctrl+e", "ctrl+t",
    "ctrl+a", "ctrl+u", "ctrl+w", "ctrl+d", "ctrl+x", "ctrl+f", "ctrl+home", "ctrl+end",
    "shift+up", "shift+down", "shift+left", "shift+right",
]  # fmt: skip
# Letters and digits of the app's actions (also read live from the active bindings).
ACTION_KEYS = [
    *"nebofavmxXuSIDEcdwtrpRKJzB1234567TOQGLNMC", "question_mark", "slash", "enter",
]  # fmt: skip
# Text typed into fields: hostile, plausible (so that forms sometimes save) and random.
WORDS = [
    "[/]", "[bold]x", "Allergy: [nuts]", "[link=file:///etc/passwd]x[/link]", "\\x1b[2J",
    "Maria", "Lopez", "busy", "twin", "ctrl", "vip", "Zoë", "王", "maria@example.com",
    "+31612345678", "0612 345 678", "2026-11-05", "05/11/2026", "12:30", "25.00", "-3", "0",
    "999999999", "a@b", "NL", "US", "x" * 60, "  ", "%s", "'; drop table customer; --",
]  # fmt: skip
PRINTABLE = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    " []/\\:;.,-_+@#'\"!?()*&%$=<>{}|~`^é王👩"
)

# Where the routes lead: name -> keys typed on the directory (table focused).
ROUTES: dict[str, list[str]] = {
    "profile": ["enter"],
    "booking": ["b"],
    "order": ["o"],
    "settings": ["S"],
    "import": ["I"],
    "duplicates": ["D"],
    "merge-from-duplicates": ["D", "enter"],
    "merge-selected": ["space", "down", "space", "m"],
    "filters": ["f"],
    "bulk": ["space", "down", "space", "a"],
    "palette": ["ctrl+p"],
    "new-customer": ["n"],
    "edit-customer": ["e"],
    "export": ["E"],
    "help": ["question_mark"],
    "quick-add": ["b", "Z", "z", "q", "space", "N", "o", "b", "o", "d", "y", "ctrl+n"],
    "day-sheet": ["T"],
    "free-slots": ["T", "f"],
    "outbox": ["O"],
    "requests": ["Q"],
    "insights": ["G"],
    "audit": ["L"],
    "newsletter": ["N"],
    "compose": ["enter", "M"],
    "consents": ["enter", "C"],
}
# Routes whose last key waits until the screen before it has loaded (a burst of its own).
LAST_KEY_APART = {"merge-from-duplicates", "free-slots", "compose", "consents"}
PROFILE_TABS = ["1", "2", "3", "4", "5", "6", "7"]
# Searches that find the hostile customers (tests/ui/hostile.py).
SEARCHES = ["busy", "busy", "ctrl", "blocked", "survivor", "twin", "vip", "maximiliana", "merged"]
_PROFILE_TAB_NAMES = ["overview", "bookings", "orders", "rewards", "notes", "timeline", "details"]

# Screens (type names) the short run must reach; profile tabs are "ProfileScreen:<tab>".
MUST_REACH = {
    "DirectoryScreen",
    "ProfileScreen",
    *(f"ProfileScreen:{tab}" for tab in _PROFILE_TAB_NAMES),
    "CustomerFormScreen",
    "NewBookingScreen",
    "NewOrderScreen",
    "SettingsScreen",
    "ImportScreen",
    "DuplicatesScreen",
    "MergeScreen",
    "FilterModal",
    "BulkActionModal",
    "CommandPalette",
    "DaySheetScreen",
    "FreeSlotsModal",
    "OutboxScreen",
    "RequestsScreen",
    "InsightsScreen",
    "AuditScreen",
    "NewsletterModal",
    "ComposeModal",
    "ConsentModal",
}

TAIL = 50
FOCUS_TABLE = "<focus the table>"  # a route step, not a key
DRAIN_LIMIT = 20.0  # seconds for a burst's keys to be taken (the app holds keys 10 s at most)
SETTLE_LIMIT = 15.0  # seconds for workers to finish after a burst


@dataclass
class Failure:
    seed: int
    size: tuple[int, int]
    key_index: int
    kind: str  # crash | unexpected-error | exited | keys-stuck
    error: str
    where: str
    screens: list[str]
    tail: list[str]
    details: str = ""

    def line(self) -> str:
        keys = " ".join(self.tail)
        return (
            f"seed={self.seed} size={self.size[0]}x{self.size[1]} key#{self.key_index} "
            f"{self.kind}: {self.error} at {self.where} | screens {' > '.join(self.screens)} "
            f"| last keys: {keys}"
        )

    @property
    def signature(self) -> tuple[str, str, str]:
        return (self.kind, self.error.split(":")[0], self.where)


@dataclass
class WalkReport:
    seed: int
    size: tuple[int, int]
    keys_sent: int = 0
    seconds: float = 0.0
    visited: Counter[str] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    refused_writes: list[str] = field(default_factory=list)
    quits_refused: int = 0
    covered_at: int | None = None  # keys sent when every screen of MUST_REACH was reached

    @property
    def keys_per_second(self) -> float:
        return self.keys_sent / self.seconds if self.seconds else 0.0

    def missing(self) -> set[str]:
        return {name for name in MUST_REACH if name not in self.visited}

    def summary(self) -> str:
        screens = ", ".join(f"{name} {n}" for name, n in sorted(self.visited.items()))
        lines = [
            f"monkey seed={self.seed} size={self.size[0]}x{self.size[1]}: "
            f"{self.keys_sent} keys in {self.seconds:.1f} s ({self.keys_per_second:.0f} keys/s), "
            f"{len(self.visited)} screens/tabs"
            + (f" (all reached by key {self.covered_at})" if self.covered_at else "")
            + f", {len(self.failures)} failures",
            f"  visited: {screens}",
        ]
        if self.refused_writes:
            lines.append(f"  refused writes outside tmp: {self.refused_writes[:5]}")
        for failure, count in self.distinct():
            times = f" ({count} times)" if count > 1 else ""
            lines.append(f"  FAILURE{times} " + failure.line())
            if failure.details:
                lines.append("    " + failure.details.replace("\n", "\n    "))
        return "\n".join(lines)

    def distinct(self) -> list[tuple[Failure, int]]:
        """One failure per kind, error type and place (the first seen), with its count."""
        first: dict[tuple[str, str, str], Failure] = {}
        counts: Counter[tuple[str, str, str]] = Counter()
        for failure in self.failures:
            first.setdefault(failure.signature, failure)
            counts[failure.signature] += 1
        return [(f, counts[sig]) for sig, f in first.items()]


# --------------------------------------------------------------------------- write guard

_guard_roots: list[str] | None = None
_guard_refused: list[str] = []
_guard_installed = False
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_PATH_EVENTS = {
    "os.mkdir", "os.remove", "os.rename", "os.rmdir", "os.truncate", "os.chmod", "os.link",
    "os.symlink", "shutil.rmtree", "shutil.copyfile", "shutil.move", "os.utime",
}  # fmt: skip


def _outside(path: Any) -> str | None:
    if _guard_roots is None or isinstance(path, int):
        return None
    try:
        text = os.fsdecode(path)
    except TypeError:
        return None
    if "__pycache__" in text or text in ("/dev/null", "nul"):
        return None
    full = os.path.realpath(os.path.abspath(os.path.expanduser(text)))
    if any(full == root or full.startswith(root + os.sep) for root in _guard_roots):
        return None
    return full


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _guard_roots is None:
        return
    if event == "open":
        path, mode, flags = (*args, None, None, None)[:3]
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and mode is None and bool(flags & _WRITE_FLAGS)
        )
        if not writes:
            return
        targets: tuple[Any, ...] = (path,)
    elif event in _PATH_EVENTS:
        targets = tuple(a for a in args[:2] if isinstance(a, (str, bytes, os.PathLike)))
    else:
        return
    for target in targets:
        outside = _outside(target)
        if outside is not None:
            _guard_refused.append(f"{event} {outside}")
            raise PermissionError(13, "the monkey test refuses writes outside tmp", outside)


@contextmanager
def writes_only_under(*roots: Path) -> Iterator[list[str]]:
    """While inside, refuse (PermissionError) any file write outside ``roots`` and the
    system temporary directory; yields the list of refused writes."""
    global _guard_roots, _guard_installed
    if not _guard_installed:
        sys.addaudithook(_audit)  # cannot be removed: it is inert outside this block
        _guard_installed = True
    allowed = {os.path.realpath(p) for p in (*map(str, roots), tempfile.gettempdir())}
    _guard_refused.clear()
    _guard_roots = sorted(allowed)
    try:
        yield _guard_refused
    finally:
        _guard_roots = None


# --------------------------------------------------------------------------- the walk


def _where(error: BaseException) -> str:
    """file:line of the innermost frame in frontdesk/ (else the innermost frame)."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "/frontdesk/" in f.filename and "/tests/" not in f.filename]
    chosen = ours or list(frames)
    if not chosen:
        return "?"
    frame = chosen[-1]
    name = frame.filename
    cut = name.rfind("/frontdesk/")
    if cut >= 0:
        name = name[cut + 1 :]
    elif "site-packages/" in name:
        name = name.split("site-packages/", 1)[1]
    return f"{name}:{frame.lineno} in {frame.name}"


def _short(error: BaseException) -> str:
    message = str(error).replace("\n", " ")
    if len(message) > 160:
        message = message[:157] + "..."
    return f"{type(error).__name__}: {message}"


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return list(reversed(seen))


def _stack_trace(error: BaseException) -> str:
    """The frontdesk frames of every exception in the chain, then the last frames."""
    lines = []
    for exc in _chain(error):
        ours = [
            f"{f.filename[f.filename.rfind('/frontdesk/') + 1 :]}:{f.lineno} {f.name}"
            for f in traceback.extract_tb(exc.__traceback__)
            if "/frontdesk/" in f.filename
        ]
        message = str(exc).split("\n")[0][:200]
        lines.append(f"{type(exc).__name__}: {message}")
        if ours:
            lines.append("  frontdesk frames: " + " > ".join(ours))
    tail = "".join(traceback.format_exception(error, limit=-8)).rstrip()
    return "\n".join(lines) + "\n" + tail


class MonkeyWalk:
    """Drive ``app`` (already running under ``pilot``) with ``keys`` random keys."""

    def __init__(
        self,
        pilot: Pilot[Any],
        *,
        seed: int,
        size: tuple[int, int],
        import_path: Path | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.pilot = pilot
        self.app: Any = pilot.app
        self.seed = seed
        self.rng = random.Random(seed)
        self.size = size
        self.import_path = import_path
        self.log = log
        self.report = WalkReport(seed=seed, size=size)
        self.tail: deque[str] = deque(maxlen=TAIL)
        self.errors: list[tuple[BaseException | None, str]] = []
        self.reported = False  # inside show_error (its notification is not counted twice)
        self.where_key = ""
        self.keys_on_screen = 0
        self.keys_away = 0  # keys since the walk was last on the directory
        self.bursts = 0
        self.pending: deque[list[str]] = deque()  # the rest of a route
        self.focus_tries = 0
        self.trace = bool(os.environ.get("MONKEY_TRACE"))
        self._patch_app()

    # ------------------------------------------------------------------ app hooks
    def _patch_app(self) -> None:
        app = self.app
        original_show_error = app.show_error
        original_notify = app.notify

        def show_error(error: BaseException | None) -> None:
            from frontdesk.data.errors import FrontdeskError

            if error is not None and not isinstance(error, FrontdeskError):
                self.errors.append((error, "show_error"))
                self.reported = True
            try:
                original_show_error(error)
            finally:
                self.reported = False

        def notify(message: str, *args: Any, **kwargs: Any) -> None:
            if kwargs.get("title") == "Unexpected error" and not self.reported:
                self.errors.append((None, str(message)))
            original_notify(message, *args, **kwargs)

        async def no_quit(*_: Any, **__: Any) -> None:
            self.report.quits_refused += 1

        app.show_error = show_error
        app.notify = notify
        app.action_quit = no_quit  # the palette's "Quit" command: stay in the walk

    def log_line(self, line: str) -> None:
        if self.log:
            self.log(line)

    def _screens(self) -> list[str]:
        names = []
        for screen in self.app.screen_stack:
            name = type(screen).__name__
            tab = self._active_tab(screen)
            names.append(f"{name}:{tab}" if tab else name)
        return names

    @staticmethod
    def _active_tab(screen: Any) -> str:
        from textual.widgets import TabbedContent

        try:
            tabbed = screen.query(TabbedContent).first()
        except Exception:
            return ""
        return str(tabbed.active or "")

    def _record_visit(self) -> None:
        try:
            screen = self.app.screen
        except Exception:
            return
        name = type(screen).__name__
        self.report.visited[name] += 1
        for base in type(screen).__mro__[1:]:
            if base.__name__ in MUST_REACH:  # e.g. a subclass of the command palette
                self.report.visited[base.__name__] += 1
        tab = self._active_tab(screen)
        if tab:
            self.report.visited[f"{name}:{tab}"] += 1
        if self._at_home():
            self.keys_away = 0
        key = f"{len(self.app.screen_stack)}:{name}:{tab}"
        if key != self.where_key:
            self.where_key = key
            self.keys_on_screen = 0

    def _fail(self, kind: str, error: BaseException | None, text: str = "") -> None:
        if error is not None:
            short, where, details = _short(error), _where(error), _stack_trace(error)
        else:
            short, where, details = text, self._crash_report_where(), ""
        failure = Failure(
            seed=self.seed,
            size=self.size,
            key_index=self.report.keys_sent,
            kind=kind,
            error=short,
            where=where,
            screens=self._safe_screens(),
            tail=list(self.tail),
            details=details,
        )
        self.report.failures.append(failure)
        if self.log:
            self.log("FAILURE " + failure.line())

    def _safe_screens(self) -> list[str]:
        try:
            return self._screens()
        except Exception:
            return ["?"]

    @staticmethod
    def _crash_report_where() -> str:
        """The newest crash report's innermost frontdesk frame, when the app wrote one."""
        from frontdesk import config

        folder = config.data_dir() / "crash"
        reports = sorted(folder.glob("crash-*.txt"), key=lambda p: p.stat().st_mtime)
        if not reports:
            return "?"
        last = ""
        for line in reports[-1].read_text(encoding="utf-8").splitlines():
            if line.strip().startswith('File "') and "/frontdesk/" in line:
                last = line.strip()
        return f"{last} (crash report {reports[-1].name})" if last else str(reports[-1])

    def _check(self) -> bool:
        """Record what went wrong since the last check; False when the app is gone."""
        for error, text in self.errors:
            self._fail("unexpected-error", error, text)
        self.errors.clear()
        app = self.app
        exception = getattr(app, "_exception", None)
        if exception is not None:
            self._fail("crash", exception)
            return False
        if app.return_code is not None or not app.is_running:
            self._fail("exited", None, f"the app exited (return code {app.return_code})")
            return False
        return True

    # ------------------------------------------------------------------ sending keys
    async def _send(self, keys: list[str]) -> bool:
        app = self.app
        for key in keys:
            if key in NEVER:
                continue
            event = _key_event(key)
            event.set_sender(app)
            app.post_message(event)
            self.tail.append(key)
            self.report.keys_sent += 1
            self.keys_on_screen += 1
            self.keys_away += 1
        return await self._drain()

    async def _drain(self) -> bool:
        app = self.app
        deadline = time.monotonic() + DRAIN_LIMIT
        await asyncio.sleep(0)
        while getattr(app, "_key_backlog", None) or getattr(app, "_key_in_flight", None):
            if not app.is_running or getattr(app, "_exception", None) is not None:
                return self._check()
            if time.monotonic() > deadline:
                backlog = len(getattr(app, "_key_backlog", ()))
                self._fail(
                    "keys-stuck", None, f"{backlog} keys still waiting after {DRAIN_LIMIT:.0f} s"
                )
                app._key_backlog.clear()
                app._key_in_flight = None
                break
            await asyncio.sleep(0.005)
        try:
            await self.pilot.pause()
        except Exception:
            pass
        return self._check()

    async def _settle(self) -> bool:
        from textual.worker import WorkerCancelled

        app = self.app
        deadline = time.monotonic() + SETTLE_LIMIT
        while time.monotonic() < deadline:
            try:
                await asyncio.wait_for(app.workers.wait_for_complete(), deadline - time.monotonic())
                break
            except WorkerCancelled:
                await asyncio.sleep(0.01)
            except TimeoutError:
                break
        try:
            await self.pilot.pause()
        except Exception:
            pass
        return self._check()

    # ------------------------------------------------------------------ choosing keys
    def _bindings(self) -> list[str]:
        try:
            keys = list(self.app.active_bindings)
        except Exception:
            return []
        return [k for k in keys if k not in NEVER]

    def _text(self) -> list[str]:
        rng = self.rng
        if rng.random() < 0.5:
            word = rng.choice(WORDS)
        else:
            word = "".join(rng.choice(PRINTABLE) for _ in range(rng.randint(1, 8)))
        return ["space" if ch == " " else ch for ch in word]

    def _burst(self) -> list[str]:
        rng = self.rng
        bound = self._bindings()
        keys: list[str] = []
        for _ in range(rng.randint(1, 4)):
            roll = rng.random()
            if roll < 0.30 and bound:
                keys.append(rng.choice(bound))
            elif roll < 0.50:
                keys.append(rng.choice(NAVIGATION))
            elif roll < 0.62:
                keys.append(rng.choice(ACTION_KEYS))
            elif roll < 0.72:
                keys.append(rng.choice(CONTROL_KEYS))
            else:
                keys.extend(self._text())
        return keys

    def _at_home(self) -> bool:
        return len(self.app.screen_stack) <= 2 and type(self.app.screen).__name__ == (
            "DirectoryScreen"
        )

    def _route(self) -> list[list[str]]:
        """Bursts that lead from the directory to a screen not reached yet (or any)."""
        rng = self.rng
        from textual.widgets import Input

        phases: list[list[str]] = []
        if isinstance(self.app.focused, Input):
            # Clear the search (the table reloads), then go down into the table.
            phases.append(["escape", "escape"])
        phases.append([FOCUS_TABLE])
        unvisited = [
            name
            for name, targets in _ROUTE_TARGETS.items()
            if any(target not in self.report.visited for target in targets)
        ]
        if unvisited and rng.random() < 0.8:
            name = rng.choice(unvisited)
        elif rng.random() < 0.3:
            name = "profile"  # seven tabs and most of the actions and modals
        else:
            name = rng.choice(list(ROUTES))
        keys = ["down"] * rng.randint(1, 3 if self._exploring() else 8) + ROUTES[name]
        if name == "profile" and rng.random() < 0.5:
            # Search for a hostile customer first (busy ones have several rows on every tab).
            phases.append(["slash", *rng.choice(SEARCHES)])
            keys = ["down"] + ["down"] * rng.randint(0, 2) + ["enter"]
        phases.append(keys)
        if name == "profile":
            phases.append(self._profile_tab())
        if name == "merge-from-duplicates":
            phases[-1] = keys[:-1]  # the duplicates load first; then open a group
            phases.append(["down"] * rng.randint(0, 3) + ["enter"])
        elif name in LAST_KEY_APART:
            phases[-1] = keys[:-1]  # the screen loads first; then its key
            phases.append(keys[-1:])
        if name == "import" and self.import_path is not None and rng.random() < 0.7:
            phases.append([*str(self.import_path), rng.choice(["enter", "ctrl+o"])])
            phases.append(["ctrl+r"])
        return phases

    def _profile_tab(self) -> list[str]:
        """On a profile: go to a tab not seen yet (or any)."""
        missing = [
            k
            for k, tab in zip(PROFILE_TABS, _PROFILE_TAB_NAMES, strict=True)
            if f"ProfileScreen:{tab}" not in self.report.visited
        ]
        return [self.rng.choice(missing or PROFILE_TABS)]

    def _tabs_missing(self) -> bool:
        return any(f"ProfileScreen:{tab}" not in self.report.visited for tab in _PROFILE_TAB_NAMES)

    def _exploring(self) -> bool:
        """True while some screen the walk must reach has not been reached."""
        return bool(self.report.missing())

    def _next(self) -> list[str]:
        rng = self.rng
        while self.pending:
            burst = self.pending.popleft()
            if burst != [FOCUS_TABLE]:
                return burst
            # Tab until the directory's table has focus (at most a few times).
            from textual.widgets import DataTable

            if isinstance(self.app.focused, DataTable) or self.focus_tries >= 8:
                self.focus_tries = 0
                continue
            self.focus_tries += 1
            self.pending.appendleft([FOCUS_TABLE])
            return [rng.choice(["tab", "tab", "shift+tab"])]
        try:
            depth = len(self.app.screen_stack)
            name = type(self.app.screen).__name__
        except Exception:
            return ["escape"]
        exploring = self._exploring()
        if name == "ProfileScreen" and rng.random() < (0.85 if self._tabs_missing() else 0.1):
            from textual.widgets import Input

            lead = ["escape"] if isinstance(self.app.focused, Input) else []
            return lead + self._profile_tab()
        if self.keys_away > (12 if exploring else 250) or depth > 6:
            # Time to go home: escape, and discard what a form asks about.
            return ["y"] if name == "ConfirmModal" else ["escape"]
        if self.keys_on_screen > (40 if exploring else 120) and not self._at_home():
            self.keys_on_screen = 0
            if name == "ConfirmModal" and rng.random() < 0.5:
                return [rng.choice(["y", "n"])]
            return ["escape"] * rng.randint(1, 2)
        route_odds = 0.9 if exploring else 0.2
        if name == "DirectoryScreen" and self._at_home() and rng.random() < route_odds:
            self.pending.extend(self._route())
            return self.pending.popleft()
        return self._burst()

    # ------------------------------------------------------------------ run
    async def run(self, keys: int) -> WalkReport:
        started = time.perf_counter()
        self._record_visit()
        alive = await self._settle()
        while alive and self.report.keys_sent < keys:
            burst = self._next()
            before = self._safe_screens()[-1]
            focus = type(self.app.focused).__name__
            alive = await self._send(burst)
            if self.trace:
                self.log_line(
                    f"    {before} [{focus}] {' '.join(burst)} -> {self._safe_screens()[-1]}"
                )
            self.bursts += 1
            if alive and (self.pending or self.rng.random() < 0.2):
                alive = await self._settle()
            if alive:
                self._record_visit()
                if self.report.covered_at is None and not self.report.missing():
                    self.report.covered_at = self.report.keys_sent
            if self.log and self.bursts % 50 == 0:
                self.log(
                    f"  {self.report.keys_sent} keys, {len(self.report.visited)} screens/tabs, "
                    f"{len(self.report.failures)} failures; now {' > '.join(self._safe_screens())}"
                    f" focus {type(self.app.focused).__name__}"
                )
        self.report.seconds = time.perf_counter() - started
        self.report.refused_writes = list(_guard_refused)
        return self.report


_ROUTE_TARGETS: dict[str, tuple[str, ...]] = {
    "profile": tuple(f"ProfileScreen:{tab}" for tab in _PROFILE_TAB_NAMES),
    "booking": ("NewBookingScreen",),
    "order": ("NewOrderScreen",),
    "settings": ("SettingsScreen",),
    "import": ("ImportScreen",),
    "duplicates": ("DuplicatesScreen",),
    "merge-from-duplicates": ("MergeScreen",),
    "merge-selected": ("MergeScreen",),
    "filters": ("FilterModal",),
    "bulk": ("BulkActionModal",),
    "palette": ("CommandPalette",),
    "new-customer": ("CustomerFormScreen",),
    "edit-customer": ("CustomerFormScreen",),
    "export": ("ExportModal",),
    "quick-add": ("QuickAddModal",),
    "day-sheet": ("DaySheetScreen",),
    "free-slots": ("FreeSlotsModal",),
    "outbox": ("OutboxScreen",),
    "requests": ("RequestsScreen",),
    "insights": ("InsightsScreen",),
    "audit": ("AuditScreen",),
    "newsletter": ("NewsletterModal",),
    "compose": ("ComposeModal",),
    "consents": ("ConsentModal",),
}


async def walk_app(
    make_app: Callable[[], Any],
    *,
    seed: int,
    keys: int,
    size: tuple[int, int],
    tmp_dir: Path,
    import_path: Path | None = None,
    log: Callable[[str], None] | None = None,
    restarts: int = 20,
) -> WalkReport:
    """Run apps from ``make_app`` headless at ``size`` and walk ``keys`` keys in all.

    When a crash ends the app, a new one is started on the same database and the walk goes on
    (so that one run finds more than the first failure), at most ``restarts`` times. Every
    failure ends up in the report. Writes outside ``tmp_dir`` (and the system temporary
    directory) are refused meanwhile.
    """
    total = WalkReport(seed=seed, size=size)
    rng = random.Random(seed)
    with writes_only_under(tmp_dir):
        for attempt in range(restarts + 1):
            run_seed = seed if attempt == 0 else rng.randrange(2**31)
            report = await _walk_once(
                make_app(), run_seed, keys - total.keys_sent, size, import_path, log
            )
            report.seed = seed if attempt == 0 else run_seed
            for failure in report.failures:
                failure.seed = report.seed
            total.keys_sent += report.keys_sent
            total.seconds += report.seconds
            total.visited.update(report.visited)
            total.failures.extend(report.failures)
            total.quits_refused += report.quits_refused
            if total.covered_at is None and report.covered_at is not None:
                total.covered_at = total.keys_sent - report.keys_sent + report.covered_at
            elif total.covered_at is None and not total.missing():
                total.covered_at = total.keys_sent
            total.refused_writes.extend(report.refused_writes)
            if total.keys_sent >= keys or not any(
                f.kind in ("crash", "exited") for f in report.failures
            ):
                break
            if log:
                log(f"  restarting the app (walk seed {report.seed} ended)")
    return total


async def _walk_once(
    app: Any,
    seed: int,
    keys: int,
    size: tuple[int, int],
    import_path: Path | None,
    log: Callable[[str], None] | None,
) -> WalkReport:
    walk: MonkeyWalk | None = None
    report = WalkReport(seed=seed, size=size)
    started = time.perf_counter()
    try:
        async with app.run_test(size=size) as pilot:
            walk = MonkeyWalk(pilot, seed=seed, size=size, import_path=import_path, log=log)
            report = await walk.run(keys)
    except Exception as exc:  # Pilot re-raises what ended the app
        if walk is not None:
            report = walk.report
            report.seconds = time.perf_counter() - started
            if not any(f.kind == "crash" for f in report.failures):
                walk._fail("crash", exc)
        else:
            report.failures.append(
                Failure(seed, size, 0, "crash", _short(exc), _where(exc), [], [], _stack_trace(exc))
            )
    if app.return_code not in (None, 0) and not report.failures:
        report.failures.append(
            Failure(
                seed,
                size,
                report.keys_sent,
                "exited",
                f"return code {app.return_code}",
                "?",
                [],
                [],
            )
        )
    return report

"""The Textual application: screens, global keys, command palette."""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session
from textual import events, work
from textual.actions import parse as parse_action
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette, Hit, Hits, Provider
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from frontdesk.crash import write_crash_report
from frontdesk.data import customers as customer_svc
from frontdesk.data import roles
from frontdesk.data.changes import ChangeWatch
from frontdesk.data.db import read_engine
from frontdesk.data.errors import FrontdeskError, InactiveStaff
from frontdesk.data.models import Staff, utcnow
from frontdesk.data.retry import write_transaction
from frontdesk.data.staff import ensure_first_admin, refresh_operator, resolve_operator
from frontdesk.data.validation import format_phone
from frontdesk.text import plain, user_text
from frontdesk.widgets.base import Desk, LiveData
from frontdesk.widgets.keys import TYPING_WIDGETS, is_printable_key, screen_accepts_keys

if TYPE_CHECKING:
    from textual.timer import Timer

    from frontdesk.screens.customer_form import CustomerFormScreen

T = TypeVar("T")


class CustomerCommands(Provider):
    """Command palette: type part of a name, phone, email or code to jump to a profile (a
    merged-away customer's code, phone or email finds the survivor, saying so)."""

    async def search(self, query: str) -> Hits:
        app = self.app
        if not isinstance(app, FrontdeskApp) or len(query.strip()) < 2:
            return
        found, notes = await app.run_in_thread(
            lambda s: (
                customer_svc.search_rows(session=s, text=query, limit=12),
                customer_svc.search_notes(session=s, text=query),
            )
        )
        for rank, customer in enumerate(found):
            assert customer.id is not None
            phone = format_phone(customer.phone)
            detail = plain(" · ".join(p for p in (customer.code, phone, customer.email or "") if p))
            display = user_text(customer.full_name)
            display.append("  ")
            display.append(detail, style="dim")
            note = notes.get(customer.id)
            if note:  # a merged-away code, phone or email found the survivor: say so
                display.append("  ↪ ", style="yellow")
                display.append_text(user_text(note, "yellow"))
                detail = f"{detail} {plain(note)}"
            yield Hit(
                score=1.0 - rank / 100,
                match_display=display,
                command=partial(app.open_customer, customer.id),
                text=f"{plain(customer.full_name)} {detail}",
                help="Open the customer's profile",
            )


class KeyDone(Message):
    """Follows a key through the widgets it bubbles through; reaching the app, the key is done."""

    def __init__(self, key: events.Key, bounces: int = 0) -> None:
        super().__init__()
        self.key = key
        self.bounces = bounces


# A key whose journey has not finished after this long no longer holds back the next ones
# (its widget was removed, or a handler is waiting for a modal).
# How often the app asks the database whether another desk changed something (seconds).
LIVE_INTERVAL = 1.0
# The garbage collector (settle_memory): tuned this long after the start (the directory is
# shown by then), full collections after 100 second-generation ones instead of 10, and one
# after this many seconds without a key (when at least IDLE_COLLECT_MIN second-generation
# collections happened since the last full one: an idle desk does not collect every time).
EXPIRE_AFTER = 1.0  # seconds after start-up: loyalty points past their expiry written off
SETTLE_AFTER = 2.0
GC_THRESHOLDS = (700, 10, 100)
IDLE_COLLECT_AFTER = 5.0
IDLE_COLLECT_MIN = 3
# The new customer form is built off screen once the desk has been this long without a key.
PREPARE_AFTER_IDLE = 1.0
# From SETTLE_AFTER on, the form is also built a few widgets at a time between keys: a step
# this often while some remain (stage_new_customer_form).
STAGE_EVERY = 0.02
KEY_WATCHDOG = 3.0
# The exit status when the app closes because its operator was deactivated (not a crash).
OPERATOR_GONE = 4
# How many times a key's ``KeyDone`` goes round again while what the key started (a message
# such as ``Input.Submitted``, a deferred focus move) is still waiting in some queue.
MAX_BOUNCES = 25
# A screen that holds keys while it loads releases them after this long at the latest.
HOLD_WATCHDOG = 10.0


class SafeCommandPalette(CommandPalette):
    """The command palette, minus a Textual 8.2 crash.

    ``pageup``/``pagedown`` while the list has options but has not laid them out yet raise
    ``KeyError`` in ``OptionList._move_page``; moving by a page then simply does nothing.
    """

    def _action_command_list(self, action: str) -> None:
        try:
            super()._action_command_list(action)
        except (KeyError, IndexError):
            pass


# The longest operator name the header shows whole: with the title and the clock, a longer
# one pushed the role off the header at 120 columns.
HEADER_NAME_MAX = 48


def operator_line(operator: Staff) -> str:
    """The header's "name · role", the name cut short (…) so that the role always shows; a
    name stored before control characters were refused is shown escaped."""
    name = plain(operator.name)
    if len(name) > HEADER_NAME_MAX:
        name = name[: HEADER_NAME_MAX - 1].rstrip() + "…"
    return f"{name} · {plain(operator.role)}"


class FrontdeskApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Frontdesk"
    COMMANDS = App.COMMANDS | {CustomerCommands}
    BINDINGS = [
        Binding("question_mark", "toggle_keys", "Keys", tooltip="Show every key of this screen"),
        Binding("b", "new_booking", "Book", show=False, tooltip="New booking"),
        Binding("o", "new_order", "Order", show=False, tooltip="New order"),
        Binding("S", "settings", "Settings", show=False, tooltip="Settings"),
        Binding("I", "import", "Import", show=False, tooltip="Import customers"),
        Binding("D", "duplicates", "Duplicates", show=False, tooltip="Find duplicates"),
        Binding("L", "audit", "Audit log", show=False, tooltip="Who changed what (admins)"),
        Binding("G", "insights", "Business overview", show=False, tooltip="The business in charts"),
        Binding("T", "day_sheet", "Day sheet", show=False, tooltip="The day's bookings"),
        Binding("O", "outbox", "Outbox", show=False, tooltip="Messages queued, sent and failed"),
        Binding("Q", "requests", "Requests", show=False, tooltip="Booking requests from outside"),
    ]

    def __init__(
        self,
        *,
        engine: Engine,
        staff: str | None = None,
        data_dir: Path | None = None,
        clock: Callable[[], datetime] | None = None,
        settle_memory: bool = False,
    ) -> None:
        super().__init__()
        self.engine = engine
        # The real program (not the tests, which run many apps in one process) tunes the
        # garbage collector once the directory is up: see settle_memory().
        self.settles_memory = settle_memory
        self.reader = read_engine(engine)
        self.requested_staff = staff
        self.data_dir = data_dir
        # The app's idea of 'now' (tests pin it so that relative dates are stable).
        self.clock: Callable[[], datetime] = clock or utcnow
        # Who is operating is settled before the first frame (not on the UI thread).
        # A new database gets its first admin here (and says so on the first frame); a name
        # that is not on the staff list stops the start with UnknownStaff (a clear line).
        with Session(self.engine, expire_on_commit=False) as session:
            self.first_admin = ensure_first_admin(session=session, requested=staff)
            self.operator: Staff | None = resolve_operator(session=session, requested=staff)
            # Who the header says is operating (the live refresh says when that changes).
            self.shown_operator: tuple[str, str] | None = None
            session.commit()
        # Live refresh: the first reading is taken before any screen reads its data, so a
        # change saved elsewhere in between is not mistaken for the starting point.
        self.changes = ChangeWatch(self.engine)
        self.changes.changed()
        self.crash_report: Path | None = None
        self._new_form: CustomerFormScreen | None = None  # kept for the next new customer
        # Its steps while it is built a few widgets at a time (stage_new_customer_form).
        self._staging: Iterator[Callable[[], Awaitable[None]]] | None = None
        self._staging_busy = False
        self._stage_timer: Timer | None = None
        # Typed-ahead keys wait here, in order, until the screen is ready and the key before
        # them has been fully handled (see on_event).
        self._key_backlog: deque[events.Key] = deque()
        self._key_in_flight: events.Key | None = None
        self._key_started = 0.0
        self._kick_pending = False
        self._key_target: Widget | None = None
        # Keys taken from the terminal, and keys whose handling has ended: equal when every
        # key typed so far has been handled (what a test typing at full speed waits for).
        self.keys_received = 0
        self.keys_finished = 0

    # ------------------------------------------------------------------ data helpers
    def read(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a read-only session (call from a worker thread)."""
        with Session(self.reader, expire_on_commit=False) as session:
            return work(session)

    def write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one write transaction; commits when it returns. A transaction the
        database gave up for another desk's (deadlock, serialization) is tried again, then
        refused with one clear sentence (``retry.Contended``)."""
        operator = self.operator
        if operator is None or operator.id is None:
            return write_transaction(self.engine, work)

        def as_staff_now(session: Session) -> T:
            # Every write acts as the staff list has the operator now: deactivated meanwhile
            # (another desk, the CLI), nothing is written; a role changed counts at once.
            refresh_operator(session=session, operator=operator)
            return work(session)

        return write_transaction(self.engine, as_staff_now)

    async def run_in_thread(self, work: Callable[[Session], T]) -> T:
        import asyncio

        return await asyncio.to_thread(self.read, work)

    # ------------------------------------------------------------------ lifecycle
    def on_mount(self) -> None:
        from frontdesk.screens.directory import DirectoryScreen

        if self.operator:
            # A name stored before control characters were refused is shown escaped.
            self.sub_title = operator_line(self.operator)
            self.shown_operator = (self.operator.name, self.operator.role)
        else:
            self.sub_title = "read-only (not on the staff list)"
        self.push_screen(DirectoryScreen())
        # Live refresh: what another desk saves shows here within about a second.
        self.set_interval(LIVE_INTERVAL, self.watch_changes)
        if self.settles_memory:
            self.set_timer(SETTLE_AFTER, self.settle_memory)
        if self.first_admin is not None:
            self.notify(
                f"A new database: {plain(self.first_admin.name)} is its first admin. "
                "Add the team with: frontdesk staff add NAME --role reception",
                title="Welcome",
                timeout=15,
                markup=False,
            )
        # Not before the first screen is up: at a million customers its scan of every
        # enrolment (a write) took 50 ms beside the directory's first page and count.
        self.set_timer(EXPIRE_AFTER, self._expire_when_up)

    @property
    def _background_screens(self) -> list[Screen[Any]]:
        """The screens under the top one that show through it: none under an opaque screen.

        Textual counts the screen just under the top one as visible even when the top one
        covers it whole; a repaint of that screen (the one push_screen asks of the directory
        it covers) then repaints the whole screen on top again, and that screen laid out and
        styled itself at every terminal resize. Modals (translucent) still show the screens
        under them; a covered screen catches up when it comes back (its resume lays out and
        repaints it at the terminal's size, and refreshes what changed meanwhile)."""
        stack = self._screen_stack
        if not stack or stack[-1].styles.background.a == 1:
            return []
        return list(super()._background_screens)

    def settle_memory(self) -> None:
        """Keep Python's full garbage collections out of the way of the desk.

        A full collection walks every object of the process (160,000 once the directory is
        up): opening a profile or the form made one in most openings, 200-700 ms on a busy
        machine. The objects alive once the directory is shown (modules, styles, the
        directory) stay for the whole session, so they are frozen out of every later
        collection (``gc.freeze``), and full collections wait for many more young ones
        (:data:`GC_THRESHOLDS`); instead one runs whenever the desk has been idle for
        :data:`IDLE_COLLECT_AFTER` seconds, so unreachable cycles are still freed."""
        import gc

        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        self.set_interval(IDLE_COLLECT_AFTER, self._collect_when_idle)
        self._preparing = self.preparations()
        self._prepare_timer = self.set_interval(PREPARE_AFTER_IDLE / 2, self._prepare_when_idle)
        self.prepare_profile()
        if self.may("customers.write"):
            self.stage_new_customer_form()

    def preparations(self) -> Iterator[Callable[[], None]]:
        """What is made ready before it is first asked for, one step each time the desk has
        been idle for :data:`PREPARE_AFTER_IDLE` (a key typed meanwhile is never kept waiting
        by more than one step)."""
        if self.may("customers.write"):
            yield self.prepare_new_customer_form

    def _prepare_when_idle(self) -> None:
        from time import monotonic

        if monotonic() - self._key_started < PREPARE_AFTER_IDLE or self._key_backlog:
            return
        step = next(self._preparing, None)
        if step is None:
            self._prepare_timer.stop()
        else:
            step()

    def prepare_profile(self) -> None:
        """Load the profile's code (its screen, seven tabs and their services) ahead, and
        read what a profile shows first (its header and overview) for the customer the list
        highlights: the database's statements are compiled and cached, its pages read (the
        first read took three times as long as later ones, while the screen was being
        built). All of it off the UI thread, from the settling on: a desk typing without a
        pause since start-up never gave the idle second this once waited for, and its first
        profile loaded the code while the key waited (167-190 ms, against 102-110 ms)."""
        import importlib

        from frontdesk.screens.directory import DirectoryScreen

        screen = self.screen
        customer_id = screen.highlighted_id() if isinstance(screen, DirectoryScreen) else None
        operator, now = self.operator, self.clock()

        def rehearse(session: Session) -> None:
            profile = importlib.import_module("frontdesk.screens.profile")
            profile.load_tabs()
            if customer_id is None:
                return
            try:
                profile.first_reads(customer_id, operator, now)(session)
            except FrontdeskError:
                pass  # (a role that may not read profiles: nothing to prepare)

        self.run_worker(
            partial(self.read, rehearse),
            thread=True,
            group="prepare-profile",
            exit_on_error=False,
        )

    def prepare_new_customer_form(self) -> None:
        """Build the new customer form before it is first asked for (the desk idle a moment),
        so that even the first ``n`` only shows it. Composing, mounting, styling and laying out
        its widgets off screen is what made a first opening slow. (In the running app
        :meth:`stage_new_customer_form` has usually begun it by then: this step then has
        nothing to do.)"""
        from frontdesk.screens.customer_form import CustomerFormScreen

        if self._new_form is not None:
            return
        form = CustomerFormScreen()
        mounted = self._keep_off_screen(form)

        async def lay_out() -> None:
            await mounted
            self._lay_out_off_screen(form)

        self.call_later(lay_out)

    def _keep_off_screen(self, form: CustomerFormScreen) -> Any:
        """Install ``form`` as the kept new-customer form and mount it without showing it;
        returns what to await for the mount. Textual mounts a screen as push_screen shows it;
        this is the same first step of push_screen's (no public call mounts a screen without
        showing it)."""
        self.install_screen(form, "new-customer")
        self._new_form = form
        _form, mounted = self._get_screen(form)
        return mounted

    def _lay_out_off_screen(self, form: CustomerFormScreen) -> None:
        """The kept form's first layout, at the terminal's size (a third of a first opening's
        time: the first ``n`` after an idle start-up took 110-119 ms, then 77-80 ms at a
        million customers). Textual's own layout step (private; no public call lays out a
        screen that is not shown): a screen not current is only laid out."""
        if not form.is_current:
            form._refresh_layout(self.size)

    def stage_new_customer_form(self) -> None:
        """Build the new customer form off screen a few widgets at a time, between keys, from
        the start of the day: a desk typing without a pause since start-up never gives
        :meth:`prepare_new_customer_form` its idle second, and its first ``n`` then composed
        the whole form (173-205 ms on a quiet machine, against 63-66 ms for a prepared one).
        A step runs only when no key waits or is being handled, so a key typed meanwhile
        waits for one step at most (a few widgets mounted)."""
        from frontdesk.screens.customer_form import CustomerFormScreen

        if self._new_form is not None:
            return
        form = CustomerFormScreen(staged=True)
        mounted = self._keep_off_screen(form)  # its bare frame
        self._staging = None
        self._staging_busy = True

        async def begin() -> None:
            await mounted
            self._staging = form.build_steps()
            self._staging_busy = False

        self.call_later(begin)
        self._stage_timer = self.set_interval(STAGE_EVERY, self._stage_step)

    def _stage_step(self) -> None:
        form = self._new_form
        if form is None or self._staging is None:
            if form is None and self._stage_timer is not None:
                self._stage_timer.stop()
            return
        if self._staging_busy or self._key_backlog or self._key_in_flight is not None:
            return
        step = next(self._staging, None)
        if step is None:
            # Every widget is in: its first layout, a step of its own, and the building is done.
            self._staging = None
            if self._stage_timer is not None:
                self._stage_timer.stop()
            self._lay_out_off_screen(form)
            return
        self._staging_busy = True

        async def run(step: Callable[[], Awaitable[None]] = step) -> None:
            try:
                await step()
            except Exception:
                if form is self._new_form:
                    raise
                # (dropped meanwhile by an early ``n``: its widgets need not arrive)
            finally:
                self._staging_busy = False

        self.call_later(run)

    def _drop_partial_form(self) -> None:
        """``n`` came before the staged form was complete: that one is dropped (a whole new
        form is composed instead, as without staging)."""
        form, self._new_form = self._new_form, None
        if form is None:
            return
        self._staging = None
        if self._stage_timer is not None:
            self._stage_timer.stop()
        self.uninstall_screen(form)
        form.remove()

    def _collect_when_idle(self) -> None:
        import gc
        from time import monotonic

        idle = monotonic() - self._key_started >= IDLE_COLLECT_AFTER
        if idle and not self._key_backlog and gc.get_count()[2] >= IDLE_COLLECT_MIN:
            gc.collect()

    @work(thread=True, exclusive=True, group="live-refresh", exit_on_error=False)
    def watch_changes(self) -> None:
        """Off the UI thread: ask the database whether anything changed since last time
        (and then whether the operator is still on the staff list as before)."""
        if self.changes.changed():
            operator = self.operator
            if operator is not None and operator.id is not None:
                try:
                    with Session(self.reader) as session:
                        refresh_operator(session=session, operator=operator)
                except InactiveStaff as gone:
                    self.call_from_thread(self.operator_gone, str(gone))
                    return
                except Exception:  # read again at the next change (the screens refresh)
                    pass
                # (changed here, or by a write of this desk's that found it changed)
                if (operator.name, operator.role) != self.shown_operator:
                    self.call_from_thread(self.operator_changed)
            self.call_from_thread(self.data_changed)

    def operator_changed(self) -> None:
        """The operator's role or name was changed at another desk: said, and the keys of
        the screen follow the new role."""
        operator = self.operator
        if operator is None:
            return
        before = self.shown_operator
        self.sub_title = operator_line(operator)
        self.shown_operator = (operator.name, operator.role)
        if before is None or before[1] != operator.role:
            self.notify(f"You are now {operator.role}", markup=False, timeout=10)
        self.screen.refresh_bindings()

    def operator_gone(self, reason: str) -> None:
        """The operator was deactivated at another desk: the app closes (a departed
        employee's terminal reads nothing more)."""
        if self.return_code == OPERATOR_GONE:
            return  # closing already (another change came meanwhile)
        self.exit(return_code=OPERATOR_GONE, message=user_text(f"Frontdesk closed: {reason}."))

    def data_changed(self) -> None:
        for screen in list(self.screen_stack):
            if isinstance(screen, LiveData):
                screen.data_changed()

    def on_unmount(self) -> None:
        watch = getattr(self, "changes", None)
        if watch is not None:
            watch.close()

    def _expire_when_up(self, waited: int = 0) -> None:
        """Write off expired points once the directory shows its first page (a slow start
        outlasted the timer: the write ran beside the first page's read), or after 5 s more."""
        from frontdesk.screens.directory import DirectoryScreen

        try:
            screen = self.screen
        except Exception:  # the app is closing: no screen any more, nothing to do
            return
        if isinstance(screen, DirectoryScreen) and not screen.first_page_shown and waited < 20:
            self.set_timer(0.25, partial(self._expire_when_up, waited + 1))
            return
        self.expire_points()

    @work(thread=True, exclusive=True, group="expire-points", exit_on_error=False)
    def expire_points(self) -> None:
        """Write off expired loyalty balances by explicit ledger entries (on opening)."""
        from frontdesk.data import rewards

        today = self.clock().astimezone().date()
        expired = self.write(lambda s: rewards.expire_points(session=s, today=today))
        if expired:
            self.call_from_thread(
                self.notify, f"Expired points written off for {expired} enrolments"
            )

    def deliver_screenshot(
        self,
        filename: str | None = None,
        path: str | None = None,
        time_format: str | None = None,
    ) -> str | None:
        """The palette's "Screenshot": an SVG of the screen, which shows customers' names,
        phones and emails, so it is written privately (0600, in the data folder's
        ``screenshots``; Textual's own went to the Downloads folder, readable by everyone)."""
        from frontdesk import config
        from frontdesk.data.privacy import write_private_text

        svg = self.export_screenshot()
        folder = Path(path) if path else (self.data_dir or config.data_dir()) / "screenshots"
        stamp = datetime.now().strftime(time_format or "%Y-%m-%d-%H%M%S-%f")
        target = folder / (filename or f"Frontdesk-{stamp}.svg")

        def save() -> None:
            try:
                write_private_text(target, svg)
            except OSError as exc:
                message = plain(f"Could not save the screenshot: {exc.strerror or exc}")
                self.call_from_thread(self.notify, message, severity="error", markup=False)
            else:
                message = plain(f"Screenshot saved to {target}")
                self.call_from_thread(self.notify, message, markup=False)

        self.run_worker(save, thread=True, group="screenshot", exit_on_error=False)
        return None

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        commands = [
            ("New customer", "Add a customer (n)", self.action_new_customer, "customers.write"),
            ("Directory", "Back to the customer directory", self.action_directory, "read"),
            ("New booking", "Book an appointment (b)", self.action_new_booking, "book"),
            (
                "Settings",
                "Custom fields, categories, tags, loyalty programs (S)",
                self.action_settings,
                "settings",
            ),
            (
                "Branches & services",
                "Add and change branches and the services booked (S, then B)",
                self.action_catalogue,
                "settings",
            ),
            (
                "New order",
                "Sell services, packages or products (o)",
                self.action_new_order,
                "order",
            ),
            ("Import customers", "From a CSV or XLSX file (I)", self.action_import, "import"),
            (
                "Find duplicates",
                "Review likely duplicates and imported rows (D)",
                self.action_duplicates,
                "merge",
            ),
            ("Audit log", "Who changed what and when (L)", self.action_audit, "audit"),
            (
                "Deleted customers",
                "Find a deleted customer and restore them (U in the directory)",
                self.action_deleted_customers,
                "customers.delete",
            ),
            (
                "Outbox",
                "Messages queued, sent and failed; retry, send now (O)",
                self.action_outbox,
                "outbox.read",
            ),
            (
                "Newsletter",
                "To the directory's search and filters, counted before it is sent (N)",
                self.action_newsletter,
                "newsletter.send",
            ),
            (
                "Business overview",
                "Revenue, new and returning customers, retention, top customers (G)",
                self.action_insights,
                "insights",
            ),
            (
                "Day sheet",
                "The day's bookings: arrivals, late, free times (T)",
                self.action_day_sheet,
                "read",
            ),
            (
                "Booking requests",
                "From the online booking page or an assistant: accept, decline, review (Q)",
                self.action_requests,
                "read",
            ),
        ]
        from frontdesk.screens.profile import ProfileScreen

        if isinstance(screen, ProfileScreen):
            commands += [
                (
                    "Audit log of this customer",
                    "Who changed what (L)",
                    screen.action_customer_audit,
                    "audit",
                ),
                (
                    "Copy of this customer's data",
                    "For an access request: a private JSON file (X)",
                    screen.action_export_data,
                    "export",
                ),
                (
                    "Erase this customer",
                    "Remove the person, keep the accounts (ctrl+x)",
                    screen.action_erase,
                    "erase",
                ),
            ]
        for title, help_text, callback, permission in commands:
            if self.may(permission):
                yield SystemCommand(title, help_text, callback)

    # ------------------------------------------------------------------ keys
    async def on_event(self, event: events.Event) -> None:
        """Keys from the terminal are handled strictly one after the other.

        Textual forwards a key to the focused widget's queue and runs non-priority bindings
        (``tab`` moving focus, a screen's letter keys) only when the key has bubbled back to
        the app, while the next keys are already being forwarded. Typed at speed, text then
        overtakes a focus move and lands in the wrong field. Here each key waits until the
        previous one has finished its journey (a ``KeyDone`` message follows it), and until the
        screen on top has loaded what it needs (``FrontdeskScreen.hold_keys``).
        """
        if isinstance(event, events.Key) and not event.is_forwarded:
            self.keys_received += 1
            self._key_backlog.append(event)
            await self.drain_keys()
            return
        await super().on_event(event)

    async def drain_keys(self) -> None:
        """Handle waiting keys while the screen accepts them and none is in flight."""
        from time import monotonic

        while True:
            if self._key_in_flight is not None:
                # (Also with no key waiting: a key whose KeyDone never came back is given up
                # on, so that the app counts it handled and its idle work runs again.)
                target = self._key_target
                gone = target is None or not target.is_attached or target._closing
                if not gone and monotonic() - self._key_started < KEY_WATCHDOG:
                    self._schedule_kick(KEY_WATCHDOG)
                    return
                self._key_done()
            if not self._key_backlog:
                return
            try:
                screen = self.screen
            except Exception:
                return
            if not screen_accepts_keys(screen, HOLD_WATCHDOG):
                self._schedule_kick(0.1)
                return
            event = self._key_backlog.popleft()
            await self._dispatch_key_event(event)

    def _schedule_kick(self, delay: float) -> None:
        """One timer at a time looks at waiting keys again (a watchdog, not the normal path)."""
        if not self._kick_pending:
            self._kick_pending = True
            self.set_timer(delay, self._kick_keys)

    def _kick_keys(self) -> None:
        self._kick_pending = False
        self.call_next(self.drain_keys)

    async def _dispatch_key_event(self, event: events.Key) -> None:
        from time import monotonic

        focused = self.focused
        try:
            await super().on_event(event)  # priority bindings, then to the focused widget
        except BaseException:
            self.keys_finished += 1
            raise
        if not event.is_forwarded:
            self.keys_finished += 1  # handled by a binding of the app's, here
            return
        target = focused if focused is not None else self.screen
        self._key_in_flight = event
        self._key_target = target
        self._key_started = monotonic()
        done = KeyDone(event)
        done.set_sender(target)
        target.post_message(done)
        self._schedule_kick(KEY_WATCHDOG)  # the watchdog, should the KeyDone never return

    def _key_done(self) -> None:
        """The key in flight has been handled (or given up on by the watchdog)."""
        if self._key_in_flight is not None:
            self._key_in_flight = None
            self.keys_finished += 1

    async def on_key_done(self, message: KeyDone) -> None:
        if message.key is not self._key_in_flight:
            return
        if message.bounces < MAX_BOUNCES:
            # What the key set off (Input.Submitted, Select.Changed, a focus() callback ...)
            # may still be queued: the key is done when the screen has nothing left to do.
            busy = self._busy_node()
            if busy is not None:
                again = KeyDone(message.key, message.bounces + 1)
                again.set_sender(busy)
                busy.post_message(again)
                return
        self._key_done()
        await self.drain_keys()

    def _busy_node(self) -> App[None] | Widget | None:
        """The app, or the deepest widget of the top screen, with messages still queued."""
        if self._message_queue.qsize():
            return self
        busy: Widget | None = None
        try:
            nodes = list(self.screen.walk_children(with_self=True))
        except Exception:
            return None
        for node in nodes:
            if isinstance(node, Widget) and node.is_attached and node._message_queue.qsize():
                busy = node
        return busy

    async def _check_bindings(self, key: str, priority: bool = False) -> bool:
        # A letter typed into a text field, list, select or checkbox group never fires a
        # screen's or the app's single-letter action; the widget's own keys still work.
        if priority or not (is_printable_key(key) and isinstance(self.focused, TYPING_WIDGETS)):
            return await super()._check_bindings(key, priority)
        for namespace, bindings in self.screen._modal_binding_chain:
            if isinstance(namespace, (Screen, App)):
                break  # only the focused widget and its containers, not screen or app keys
            for binding in bindings.key_to_bindings.get(key, ()):
                if not binding.priority and await self.run_action(binding.action, namespace):
                    return True
        return False

    # ------------------------------------------------------------------ failures
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place where a failed worker becomes a visible message."""
        if event.state != WorkerState.ERROR:
            return
        self.show_error(event.worker.error)

    def show_error(self, error: BaseException | None) -> None:
        if error is None:
            return
        if isinstance(error, FrontdeskError):
            self.notify(str(error), severity="error", markup=False)
            return
        path = write_crash_report(error, where="worker")
        where = f" Details were saved to {path}." if path else ""
        self.notify(
            f"Something went wrong ({type(error).__name__}); nothing else was changed.{where}",
            title="Unexpected error",
            severity="error",
            timeout=15,
            markup=False,
        )

    def _handle_exception(self, error: Exception) -> None:
        # Textual lets an error with a ``__rich__`` method print itself (``panic``); every
        # unexpected error here goes the same way: a crash report, never the error on screen.
        self._return_code = 1
        if self._exception is None:
            self._exception = error
            self._exception_event.set()
        self._fatal_error()

    def _fatal_error(self) -> None:
        """An unexpected error ends the app: a private crash report, never a traceback."""
        import sys

        error = self._exception or sys.exc_info()[1]
        self.bell()
        if error is not None:
            self.crash_report = write_crash_report(error, where="app")
        self._close_messages_no_wait()

    # ------------------------------------------------------------------ roles
    # Keys of what the operator's role cannot do say so (the app's own keys are not in the
    # footer); the palette lists only what the role can do (DESIGN.md section 7).
    def may(self, permission: str) -> bool:
        return roles.allowed(self.operator, permission)

    # action -> the permission it needs: the keys panel and the footer hide an app key the
    # operator's role may not use; pressed anyway, it says why (on_key).
    NEEDS: ClassVar[dict[str, str]] = {
        "new_booking": "book",
        "new_order": "order",
        "settings": "settings",
        "import": "import",
        "duplicates": "merge",
        "audit": "audit",
        "insights": "insights",
        "outbox": "outbox.read",
    }

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        needed = self.NEEDS.get(action)
        return needed is None or self.may(needed)

    def on_key(self, event: events.Key) -> None:
        """A key that the operator's role may not use says why, instead of nothing.

        Such a key is hidden: its screen's (or tab's, or the app's) ``check_action`` turns it
        down, so no binding runs and the key reaches the app unhandled. The permission is
        the one its node's ``NEEDS`` names for the action. (A letter typed into a field never
        gets here: the field takes it.)"""
        if is_printable_key(event.key) and isinstance(self.focused, TYPING_WIDGETS):
            return  # no letter is an action there (_check_bindings), for any role
        try:
            screen = self.screen
        except Exception:  # no screen (closing)
            return
        needed = self._blocked_by_role(event.key, screen)
        if needed is not None and event.key not in screen.active_bindings:  # none took it
            self.refuse(needed)

    def _blocked_by_role(self, key: str, screen: Screen[Any]) -> str | None:
        """The permission the operator lacks for a binding of ``key`` in the focus chain."""
        nodes = (self.focused or screen).ancestors_with_self
        for node in nodes:
            if node is self and isinstance(screen, ModalScreen):
                break  # a dialog has no app keys
            # (Textual's map of the node's bindings by key, as its binding check reads it.)
            for binding in node._bindings.key_to_bindings.get(key, ()):
                # "change('complete')", "screen.first_customer": the action's own name, in
                # the NEEDS of the node that runs it.
                target, action, _arguments = parse_action(binding.action)
                runs = {"app": self, "screen": screen}.get(target, node)
                # A node whose rule depends on the row (a note someone else wrote) says so
                # itself; else its NEEDS.
                needed_for = getattr(runs, "needed_for", None)
                if callable(needed_for):
                    needed = needed_for(action)
                else:
                    needed = (getattr(runs, "NEEDS", None) or {}).get(action)
                if needed is not None and not self.may(needed):
                    return str(needed)
        return None

    def refuse(self, permission: str) -> bool:
        """True (and a message) when the operator may not do ``permission``."""
        if self.may(permission):
            return False
        self.notify(
            str(roles.NotAllowed(permission, self.operator)), severity="warning", markup=False
        )
        return True

    # ------------------------------------------------------------------ actions
    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            self.push_screen(SafeCommandPalette(id="--command-palette"))

    def action_toggle_keys(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_directory(self) -> None:
        from frontdesk.screens.directory import DirectoryScreen

        while len(self.screen_stack) > 1 and not isinstance(self.screen, DirectoryScreen):
            self.pop_screen()

    def open_customer(self, customer_id: int) -> None:
        from frontdesk.screens.profile import ProfileScreen

        self.push_screen(ProfileScreen(customer_id))

    def action_settings(self) -> None:
        if self.refuse("settings"):
            return
        from frontdesk.screens.settings import SettingsScreen

        def closed(_: None) -> None:
            from frontdesk.screens.directory import DirectoryScreen

            for screen in self.screen_stack:
                if isinstance(screen, DirectoryScreen):
                    screen.refresh_lookups()

        self.push_screen(SettingsScreen(), closed)

    def action_catalogue(self) -> None:
        """Branches & services (admins): what the business books from."""
        if self.refuse("settings"):
            return
        from frontdesk.screens.catalogue import CatalogueScreen

        if isinstance(self.screen, CatalogueScreen):
            return
        self.push_screen(CatalogueScreen(), lambda _: self._refresh_directory())

    def action_import(self) -> None:
        if self.refuse("import"):
            return
        from frontdesk.screens.import_wizard import ImportScreen

        self.push_screen(ImportScreen(), lambda _: self._refresh_directory())

    def action_audit(self, customer_code: str | None = None) -> None:
        if self.refuse("audit"):
            return
        from frontdesk.screens.audit import AuditScreen

        self.push_screen(AuditScreen(customer_code))

    def action_deleted_customers(self) -> None:
        """The deleted customers (reception and admins): find one and restore them."""
        if self.refuse("customers.delete"):
            return
        from frontdesk.screens.deleted import DeletedScreen

        if isinstance(self.screen, DeletedScreen):
            return

        def closed(restored: int | None) -> None:
            from frontdesk.screens.directory import DirectoryScreen

            if restored:
                for screen in self.screen_stack:
                    if isinstance(screen, DirectoryScreen):
                        screen.refresh_list()

        self.push_screen(DeletedScreen(), closed)

    def send_outbox_soon(self) -> None:
        """Send what is due in the outbox in a background worker (the desk never waits on a
        mail server); one sender at a time, it picks up what was queued meanwhile."""
        if any(w.group == "outbox-send" and w.is_running for w in self.workers):
            return
        self._send_outbox()

    @work(thread=True, group="outbox-send", exit_on_error=False)
    def _send_outbox(self) -> None:
        from frontdesk.data.messaging.outbox import send_queue

        report = send_queue(self.engine)
        if report.sent or report.failed:
            failed = f", {report.failed:,} failed (see the outbox, O)" if report.failed else ""
            self.call_from_thread(
                self.notify, f"Outbox: {report.sent:,} sent{failed}", markup=False
            )

    def action_newsletter(self) -> None:
        """Back to the directory and compose a newsletter to its list."""
        from frontdesk.screens.directory import DirectoryScreen

        self.action_directory()
        if isinstance(self.screen, DirectoryScreen):
            self.screen.action_newsletter()

    def action_outbox(self, customer_code: str | None = None) -> None:
        if self.refuse("outbox.read"):
            return
        from frontdesk.screens.outbox import OutboxScreen

        if isinstance(self.screen, OutboxScreen):
            return
        self.push_screen(OutboxScreen(customer_code))

    def action_day_sheet(self) -> None:
        from frontdesk.screens.day_sheet import DaySheetScreen

        if isinstance(self.screen, DaySheetScreen):
            return
        self.push_screen(DaySheetScreen())

    def action_requests(self) -> None:
        from frontdesk.screens.requests import RequestsScreen

        if isinstance(self.screen, RequestsScreen):
            return
        self.push_screen(RequestsScreen())

    def action_insights(self) -> None:
        if self.refuse("insights"):
            return
        from frontdesk.screens.insights import InsightsScreen

        self.push_screen(InsightsScreen())

    def action_duplicates(self) -> None:
        if self.refuse("merge"):
            return
        from frontdesk.screens.merge import DuplicatesScreen

        self.push_screen(DuplicatesScreen(), lambda _: self._refresh_directory())

    def _refresh_directory(self) -> None:
        from frontdesk.screens.directory import DirectoryScreen

        for screen in self.screen_stack:
            if isinstance(screen, DirectoryScreen):
                screen.refresh_lookups()

    def action_new_booking(self) -> None:
        self.new_booking()

    def action_new_order(self) -> None:
        self.new_order()

    def new_booking(self, customer_id: int | None = None, follow_up: bool = False) -> None:
        if self.refuse("book"):
            return
        from frontdesk.screens.booking import NewBookingScreen

        def booked(result: tuple[int, int] | None) -> None:
            if result is not None:  # (the form said what it booked)
                self.show_customer(result[1], changed="booking", select=result[0])

        self.push_screen(
            NewBookingScreen(customer_id=customer_id, follow_up=follow_up), callback=booked
        )

    def new_order(self, customer_id: int | None = None) -> None:
        if self.refuse("order"):
            return
        from frontdesk.screens.order import NewOrderScreen

        def ordered(result: tuple[int, int] | None) -> None:
            if result is not None:
                self.notify(f"Order #{result[0]} saved")
                self.show_customer(result[1], changed="order", select=result[0])

        self.push_screen(NewOrderScreen(customer_id=customer_id), callback=ordered)

    def show_customer(
        self, customer_id: int, *, changed: str = "all", select: int | None = None
    ) -> None:
        """Open the profile, or show the change at once when it is the screen below."""
        from frontdesk.screens.profile import ProfileScreen

        if isinstance(self.screen, ProfileScreen) and self.screen.customer_id == customer_id:
            self.screen.reload_after_change(changed, select=select)
        else:
            self.open_customer(customer_id)

    def action_new_customer(self) -> None:
        def saved(customer_id: int | None) -> None:
            if customer_id is not None:
                self.notify("Customer saved")
                self.open_customer(customer_id)

        self.new_customer(then=saved)

    def new_customer(
        self,
        prefill: dict[str, str] | None = None,
        then: Callable[[int | None], None] | None = None,
    ) -> None:
        """Open the new customer form; ``then`` gets the saved customer's id (None: closed).

        The form closed last time is kept and shown again, blank (composing and styling its
        hundred widgets was most of an opening's time); a new one is made when it is open."""
        if self.refuse("customers.write"):
            return
        from frontdesk.screens.customer_form import CustomerFormScreen

        form = self._new_form
        if form is not None and not form.complete:
            self._drop_partial_form()
            form = None
        if form is not None and form.reusable:
            form.reopen(prefill)
        else:
            form = CustomerFormScreen(prefill=prefill)
            if self._new_form is None:
                self.install_screen(form, "new-customer")  # kept when it closes
                self._new_form = form
        self.push_screen(form, callback=then)


# Screens know the app only as a Desk (widgets.base): the app must keep that promise.
_DESK: type[Desk] = FrontdeskApp

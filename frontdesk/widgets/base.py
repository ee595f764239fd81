"""The base every screen, modal and data-showing widget shares.

- ``fd``: typed access to the app (engine, operator, clock), described by :class:`Desk`.
- ``run_read`` / ``run_write``: run one use-case service in a thread worker
  (``exit_on_error=False``) and come back on the UI thread by message with the result.
  A :class:`~frontdesk.data.errors.FrontdeskError` goes to ``on_error`` when one is given
  (e.g. to show it next to a field); anything else reaches the app's single
  ``Worker.StateChanged`` handler (the message does not bubble, so every node passes it on to
  ``FrontdeskApp.show_error``), which shows it and, for an unexpected error, writes a crash
  report.

No screen calls a service on the UI thread.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlmodel import Session
from textual import events
from textual._context import active_app  # a worker thread's app (see ``deliver``)
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from frontdesk.data.errors import FrontdeskError
from frontdesk.widgets.keys import KeyReadiness

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from sqlalchemy import Engine

    from frontdesk.data.models import Staff

T = TypeVar("T")
R = TypeVar("R")


class Desk(Protocol):
    """What screens use of the app. The app (``frontdesk.app.FrontdeskApp``) opens screens, so
    screens know it only by this description (no import back: no circle)."""

    engine: Engine
    operator: Staff | None
    clock: Callable[[], datetime]
    data_dir: Path | None

    def read(self, work: Callable[[Session], T]) -> T: ...
    def write(self, work: Callable[[Session], T]) -> T: ...
    def may(self, permission: str) -> bool: ...
    def refuse(self, permission: str) -> bool: ...
    def show_error(self, error: BaseException | None) -> None: ...
    def open_customer(self, customer_id: int) -> None: ...
    def new_booking(self, customer_id: int | None = None, follow_up: bool = False) -> None: ...
    def new_order(self, customer_id: int | None = None) -> None: ...
    def new_customer(
        self,
        prefill: dict[str, str] | None = None,
        then: Callable[[int | None], None] | None = None,
    ) -> None: ...
    def send_outbox_soon(self) -> None: ...
    def action_audit(self, customer_code: str | None = None) -> None: ...


class DataReady(Message, bubble=False):
    """A worker finished: call ``then(result)`` on the UI thread."""

    def __init__(self, then: Callable[[Any], None] | None, result: Any) -> None:
        super().__init__()
        self.then = then
        self.result = result


class DataFailed(Message, bubble=False):
    """A worker failed: call ``on_error(error)`` on the UI thread."""

    def __init__(self, on_error: Callable[[Exception], None], error: Exception) -> None:
        super().__init__()
        self.on_error = on_error
        self.error = error


# While a worker's job runs, the interpreter hands its lock (the GIL) from the UI thread to
# the job every half millisecond instead of every 5 ms. A read makes a dozen database calls;
# after each one (SQLite works without the lock) the job waited up to 5 ms for the UI thread
# to let go of it: a profile's 10 ms read took 200-280 ms while the screen was being built,
# its data arrived after the first layouts and every late answer cost the screen another.
WORK_SWITCH_INTERVAL = 0.0005
_switching = threading.Lock()
_jobs_running = 0
_usual_interval = sys.getswitchinterval()


@contextmanager
def quick_switching() -> Iterator[None]:
    """Run the block with :data:`WORK_SWITCH_INTERVAL`; the usual interval comes back when
    the last job running ends."""
    global _jobs_running, _usual_interval
    with _switching:
        if _jobs_running == 0:
            _usual_interval = sys.getswitchinterval()
            sys.setswitchinterval(WORK_SWITCH_INTERVAL)
        _jobs_running += 1
    try:
        yield
    finally:
        with _switching:
            _jobs_running -= 1
            if _jobs_running == 0:
                sys.setswitchinterval(_usual_interval)


def deliver(app: Any, node: Any, message: Message) -> None:
    """From a worker thread: hand ``message`` to ``node`` through ``app`` (the app that ran
    the work, taken on the UI thread).

    A worker thread has no app in its context, and a node finds one from there only through
    its parents: a widget not mounted yet (a profile's first tab loads while it mounts) or
    cut from its screen has none, and Textual raised. With the app given, a node not yet
    mounted gets the message once it is; a closed one drops it (nothing left to show it on).
    """
    token = active_app.set(app)
    try:
        node.post_message(message)
    except RuntimeError:  # the app has stopped: its event loop is closed
        pass
    finally:
        active_app.reset(token)


class DataMixin:
    """``run_read`` / ``run_write`` for any DOM node (screen, modal or widget)."""

    @property
    def fd(self) -> Desk:
        return self.app  # type: ignore[attr-defined]

    def run_read(
        self,
        work: Callable[[Session], T],
        then: Callable[[T], None] | None = None,
        *,
        group: str = "read",
        exclusive: bool = True,
        on_error: Callable[[Exception], None] | None = None,
    ) -> Worker[None]:
        """Run ``work`` in a read-only session off the UI thread; ``then(result)`` after."""
        return self._run(
            work, then, write=False, group=group, exclusive=exclusive, on_error=on_error
        )

    def run_write(
        self,
        work: Callable[[Session], T],
        then: Callable[[T], None] | None = None,
        *,
        group: str = "write",
        exclusive: bool = False,
        on_error: Callable[[Exception], None] | None = None,
    ) -> Worker[None]:
        """Run ``work`` in one write transaction off the UI thread; ``then(result)`` after."""
        return self._run(
            work, then, write=True, group=group, exclusive=exclusive, on_error=on_error
        )

    def run_task(
        self,
        job: Callable[[], T],
        then: Callable[[T], None] | None = None,
        *,
        group: str = "task",
        exclusive: bool = True,
        on_error: Callable[[Exception], None] | None = None,
    ) -> Worker[None]:
        """Run a blocking ``job`` that opens its own sessions (import, export, bulk)."""
        node: Any = self
        app = node.app  # on the UI thread: the worker's thread has no app of its own

        def run() -> None:
            try:
                with quick_switching():
                    result = job()
            except Exception as exc:
                node._failed(app, exc, on_error)
                return
            deliver(app, node, DataReady(then, result))

        return node.run_worker(
            run,
            thread=True,
            group=group,
            exclusive=exclusive,
            exit_on_error=False,
            description=group,
        )

    def _run(
        self,
        work: Callable[[Session], T],
        then: Callable[[T], None] | None,
        *,
        write: bool,
        group: str,
        exclusive: bool,
        on_error: Callable[[Exception], None] | None,
    ) -> Worker[None]:
        app = self.fd

        def job() -> T:
            return app.write(work) if write else app.read(work)

        return self.run_task(job, then, group=group, exclusive=exclusive, on_error=on_error)

    def _failed(
        self, app: Any, exc: Exception, on_error: Callable[[Exception], None] | None
    ) -> None:
        """Called in the worker thread: hand the error to ``on_error``, re-raise the rest."""
        node: Any = self
        if on_error is not None:
            deliver(app, node, DataFailed(on_error, exc))
            if isinstance(exc, FrontdeskError):
                return  # expected: the screen shows it where it belongs
        raise exc

    def _on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Worker.StateChanged does not bubble: every node that runs workers passes failures
        # to the app's one handler (``FrontdeskApp.show_error``).
        if event.state == WorkerState.ERROR:
            self.fd.show_error(event.worker.error)

    def on_data_ready(self, message: DataReady) -> None:
        if message.then is not None:
            message.then(message.result)

    def on_data_failed(self, message: DataFailed) -> None:
        message.on_error(message.error)


class LiveData:
    """Live refresh: the app calls :meth:`data_changed` on every screen of the stack when
    another desk (or this one) changed the database. The screen on top re-reads what it shows
    (:meth:`refresh_data`) at once; one underneath does so when it comes back on top."""

    _stale = False

    def refresh_data(self) -> None:
        """Re-read what the screen shows, keeping the user's place (never holding keys).
        Screens that show data override this; a form never overwrites what is being typed."""

    def data_changed(self) -> None:
        screen: Any = self
        if screen.is_current and screen.is_mounted:
            self.refresh_data()
        else:
            # Underneath, or pushed and still composing (its widgets are not there yet):
            # it re-reads when it is resumed, which Textual sends once it is mounted.
            self._stale = True

    _resumed = False
    # A screen the app keeps and shows again (the new customer form) is not restyled when it
    # comes back unless the app's styles changed meanwhile (a theme change).
    KEEP_STYLES = False
    _styled_at: int | None = None

    def _styles_version(self) -> int:
        # Textual counts its style changes (a theme change adds one); no public name for it.
        return int(getattr(self, "app")._css_update_count)  # noqa: B009

    def _on_mount(self, event: events.Mount) -> None:
        # Found by Textual's naming convention on every class of the MRO, as below.
        self._styled_at = self._styles_version()

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Found by Textual's naming convention on every class of the MRO (Screen's own
        # ``_on_screen_resume`` runs after this one); a decorated handler would not be, in a
        # plain mixin.
        styled_at = self._styles_version()
        if styled_at == self._styled_at and (self.KEEP_STYLES or not self._resumed):
            # A pushed screen was styled as it mounted: Textual would restyle every widget
            # of it again (a quarter of the styling work of opening a profile).
            event.refresh_styles = False
        self._resumed = True
        self._styled_at = styled_at
        if self._stale:
            self._stale = False
            self.refresh_data()


class FrontdeskScreen(LiveData, KeyReadiness, DataMixin, Screen[R]):
    """A full screen with the data helpers; typed-ahead keys wait until it is ready."""

    async def _on_resize(self, event: events.Resize) -> None:
        # A screen's first layout sends it a Resize of the size it was just laid out at:
        # Textual would lay out and draw the whole screen (and the screens under it) again
        # for nothing, as a profile or the form opens. A real change of the terminal size
        # still goes to Textual's handler (found after this one on the class hierarchy).
        if event.size == self.outer_size:
            event.prevent_default()


class FrontdeskModal(LiveData, KeyReadiness, DataMixin, ModalScreen[R]):
    """A modal with the data helpers; typed-ahead keys wait until it is ready."""


class DataWidget(DataMixin, Widget):
    """A widget (e.g. a profile tab) with the data helpers."""

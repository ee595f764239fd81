"""The key mechanism: typed-ahead keys land in order, letters in typing widgets stay text,
and every worker failure is shown.

These use small screens of their own (built on the real screen base) pushed onto the real
app, so they test the mechanism itself; the flows of each screen are tested in their files.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Label, SelectionList

from frontdesk.data.errors import ValidationFailed
from frontdesk.widgets.base import FrontdeskModal, FrontdeskScreen
from tests.ui.conftest import SIZE, burst, make_app, settle, wait_until

SECRET = "Allergy: peanuts (customer text that must never be shown or saved)"


class SlowForm(FrontdeskScreen[None]):
    """Loads for a while before the user may type, like the edit form on a big database."""

    AUTO_FOCUS = "#first"
    BINDINGS = [Binding("o", "letter_action", "An action on a letter")]

    def __init__(self) -> None:
        super().__init__()
        self.letter_actions = 0

    def compose(self) -> ComposeResult:
        yield Input(id="first")
        yield Input(id="last")
        yield SelectionList[int](("Unpaid", 1), ("No-shows", 2), id="tags")
        yield Input(id="email")

    def on_mount(self) -> None:
        self.hold_keys()
        self.run_read(self._load, then=self._loaded)

    @staticmethod
    def _load(session: Session) -> str:
        time.sleep(0.4)  # a slow query
        return "Loaded"

    def _loaded(self, value: str) -> None:
        # Filling the fields must not overwrite what was typed: keys wait until here.
        self.query_one("#first", Input).value = ""
        self.release_keys()

    def action_letter_action(self) -> None:
        self.letter_actions += 1


class Picker(FrontdeskModal[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        yield Input(id="modal-input")

    def action_cancel(self) -> None:
        self.dismiss(None)


class Failing(FrontdeskScreen[None]):
    def __init__(self) -> None:
        super().__init__()
        self.errors: list[Exception] = []

    def compose(self) -> ComposeResult:
        yield Label("failing")

    @staticmethod
    def _boom(session: Session) -> None:
        raise RuntimeError(SECRET)

    @staticmethod
    def _invalid(session: Session) -> None:
        raise ValidationFailed("email", "not an email address")


async def test_keys_typed_while_a_screen_loads_land_in_order(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = SlowForm()
        await app.push_screen(form)
        # Everything at once, before the screen has loaded: text, tab, text, tab ...
        await burst(pilot, "Maria", "tab", "Lopez", "tab", "tab", "maria@example.com")
        await settle(pilot, 0.6)
        assert form.query_one("#first", Input).value == "Maria"
        assert form.query_one("#last", Input).value == "Lopez"
        assert form.query_one("#email", Input).value == "maria@example.com"
        assert app.focused is form.query_one("#email", Input)


async def test_the_app_counts_keys_received_and_finished(demo_engine: Engine) -> None:
    """Every key taken from the terminal is counted once received and once its handling has
    ended (a forwarded key when its KeyDone comes back, an app binding's at once), so that a
    caller can wait for every key typed so far: the two are equal only then."""
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = SlowForm()
        await app.push_screen(form)
        before = app.keys_received
        assert app.keys_finished == before
        await burst(pilot, "Ann", "tab", "Bo", "ctrl+p", "escape")
        assert app.keys_received == before + 8
        assert app.keys_finished == app.keys_received
        assert form.query_one("#first", Input).value == "Ann"
        assert form.query_one("#last", Input).value == "Bo"


async def test_a_key_whose_done_never_returns_is_given_up_on(demo_engine: Engine) -> None:
    """The watchdog also runs with no key waiting: a last key whose KeyDone was lost does not
    stay "in flight" (counted unhandled, idle work waiting) until the next key."""
    from textual import events

    from frontdesk import app as app_module

    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lost = events.Key("x", "x")
        app.keys_received += 1
        app._key_in_flight, app._key_target = lost, app.screen
        app._key_started = time.monotonic() - app_module.KEY_WATCHDOG - 0.1
        finished = app.keys_finished
        await app.drain_keys()
        assert app._key_in_flight is None and app.keys_finished == finished + 1
        assert app.keys_finished == app.keys_received
        # A key sent now puts its watchdog in place (a kick is pending while it is in flight).
        await burst(pilot, "down", settle_after=False)
        await pilot.pause()
        assert app._kick_pending or app._key_in_flight is None


async def test_focus_moves_are_never_overtaken_by_text(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = SlowForm()
        await app.push_screen(form)
        await settle(pilot, 0.6)
        # Ready screen, keys at full speed: tab must move focus before the next letter.
        # (A field entered again selects its text, hence `end`.)
        await burst(pilot, "Ma", "tab", "Lo", "shift+tab", "end", "ria", "tab", "end", "pez")
        assert form.query_one("#first", Input).value == "Maria"
        assert form.query_one("#last", Input).value == "Lopez"


async def test_letters_in_a_list_are_not_actions(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = SlowForm()
        await app.push_screen(form)
        await settle(pilot, 0.6)
        await burst(pilot, "tab", "tab", "Unpaid no-shows")
        assert isinstance(app.focused, SelectionList)
        assert form.letter_actions == 0, "the 'o' in 'no-shows' fired the screen's action"
        assert app.screen is form
        # The list's own keys still work (space toggles the highlighted option).
        await burst(pilot, "down", "space")
        assert form.query_one("#tags", SelectionList).selected
        # Outside typing widgets the letter is the action.
        form.set_focus(None)
        await burst(pilot, "o")
        assert form.letter_actions == 1


async def test_keys_after_a_modal_closes_go_to_the_screen_below(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = SlowForm()
        await app.push_screen(form)
        await settle(pilot, 0.6)
        app.push_screen(Picker())
        await burst(pilot, "abc", "escape", "Maria")
        assert app.screen is form
        assert form.query_one("#first", Input).value == "Maria"


async def test_an_unexpected_worker_failure_is_shown_with_a_private_report(
    demo_engine: Engine, tmp_path: Path
) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = Failing()
        await app.push_screen(screen)
        screen.run_read(Failing._boom, then=lambda _: None)
        await settle(pilot)
        notes = list(app._notifications)
        assert any(n.title == "Unexpected error" for n in notes)
        assert not any("peanuts" in n.message for n in notes)
        reports = list((tmp_path / "data" / "crash").glob("crash-*.txt"))
        assert len(reports) == 1
        assert reports[0].stat().st_mode & 0o777 == 0o600
        assert "peanuts" not in reports[0].read_text()
        assert app.is_running


async def test_an_expected_failure_goes_to_the_screen(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = Failing()
        await app.push_screen(screen)
        screen.run_write(Failing._invalid, then=lambda _: None, on_error=screen.errors.append)
        await settle(pilot)
        assert [str(e) for e in screen.errors] == ["email: not an email address"]
        assert not list(app._notifications)
        # Without an on_error the one app handler shows it.
        screen.run_write(Failing._invalid, then=lambda _: None)
        await settle(pilot)
        assert [n.message for n in app._notifications] == ["email: not an email address"]


async def test_work_finishing_after_its_screen_closed_is_dropped(
    demo_engine: Engine, tmp_path: Path
) -> None:
    """A read still running when its screen is closed (escape typed at once) finds the
    screen gone: its result is dropped, nothing is reported as an error. (A worker thread
    that has never reached the app before cannot find it from a closed screen: Textual
    raised there, and the failure showed as an unexpected error.)"""
    import threading

    from frontdesk.widgets.base import DataReady, DataWidget, deliver

    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = Failing()
        await app.push_screen(screen)
        go = threading.Event()
        results: list[int] = []
        screen.run_read(lambda _s: int(go.wait(10)), then=results.append)
        screen.run_read(
            lambda s: go.wait(10) and Failing._invalid(s),
            on_error=lambda e: results.append(2),
            group="other",
        )
        app.pop_screen()
        await wait_until(pilot, lambda: not screen.is_attached)
        go.set()
        await pilot.pause(0.3)
        await settle(pilot)
        assert results == []  # dropped: the screen is gone
        raised: list[BaseException] = []

        # A widget whose screen is being closed as its read ends: cut from its parent, not
        # yet closed. From a fresh pool thread (no app in its context) Textual raised there.
        cut = DataWidget()
        await app.screen.mount(cut)
        await cut.remove()

        def fresh_thread() -> None:  # no app in its context, as a new pool thread
            try:
                deliver(app, cut, DataReady(results.append, 3))
            except BaseException as exc:
                raised.append(exc)

        thread = threading.Thread(target=fresh_thread)
        thread.start()
        thread.join()
        await pilot.pause(0.3)
        await settle(pilot)
        assert raised == [] and results == []
        assert not list(app._notifications)
        assert not list((tmp_path / "data" / "crash").glob("crash-*.txt"))
        assert app.is_running


async def test_work_started_before_its_widget_is_mounted_arrives_once_it_is(
    demo_engine: Engine,
) -> None:
    """A profile's first tab starts its read while it is being mounted. When the read ended
    first, its worker thread could not reach the app through the unmounted tab: the result
    was dropped, the tab never showed its data and the keys typed meanwhile waited for ever
    (about one profile opening in ten at a million customers)."""
    from frontdesk.widgets.base import DataWidget

    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        results: list[int] = []
        tab = DataWidget()
        worker = tab.run_read(lambda _s: 7, then=results.append)
        await worker.wait()  # the read has ended: the tab is still not mounted
        assert not tab.is_attached and results == []
        await app.screen.mount(tab)
        await pilot.pause(0.1)
        await settle(pilot)
        assert results == [7]
        assert not list(app._notifications)


async def test_work_runs_with_a_short_switch_interval_and_puts_it_back(
    demo_engine: Engine,
) -> None:
    """While a worker's job runs, the interpreter switches threads every half millisecond
    (a read waited up to 5 ms for the UI thread after each of its database calls: 200-280 ms
    for a 10 ms profile read while the screen was being built); the usual interval comes
    back when the last job ends, also when two jobs overlap and one fails."""
    import sys
    import threading

    from frontdesk.widgets.base import WORK_SWITCH_INTERVAL, DataWidget

    usual = sys.getswitchinterval()
    assert usual != WORK_SWITCH_INTERVAL
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        node = DataWidget()
        await app.screen.mount(node)
        first_in, go = threading.Event(), threading.Event()
        seen: list[float] = []

        def slow(_s: Session) -> float:
            first_in.set()
            go.wait(10)
            return sys.getswitchinterval()

        def failing(_s: Session) -> float:
            first_in.wait(10)
            seen.append(sys.getswitchinterval())
            raise ValidationFailed("email", "not an email address")

        slow_job = node.run_read(slow, then=seen.append, group="a")
        failed_job = node.run_read(failing, on_error=lambda _e: None, group="b")
        await failed_job.wait()
        assert sys.getswitchinterval() == WORK_SWITCH_INTERVAL  # the slow one still runs
        go.set()
        await slow_job.wait()
        await settle(pilot)
        assert seen == [WORK_SWITCH_INTERVAL, WORK_SWITCH_INTERVAL]
        assert sys.getswitchinterval() == usual

"""An unexpected error: a short line, a private crash report without customer data, exit != 0."""

from __future__ import annotations

import errno
import os
import pty
import re
import select
import stat
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlmodel import Session
from textual import work
from textual.worker import WorkerFailed

import frontdesk.app
from frontdesk.app import FrontdeskApp
from frontdesk.crash import write_crash_report
from frontdesk.data.db import open_database
from frontdesk.data.models import Customer

# Subclasses defined outside frontdesk/ keep the app's stylesheet.
CSS_PATH = str(Path(frontdesk.app.__file__).with_name("app.tcss"))

# Customer data that must never reach a crash report or the terminal.
FIRST = "Serafina"
LAST = "Nutallergic"
NOTE = "Allergy: nuts, anaphylaxis"


def _customer_data() -> dict[str, str]:
    # Built at run time so that no frame's source line quotes the values themselves.
    return {"first": FIRST, "last": LAST, "note": NOTE}


def _save_note(customer: dict[str, str]) -> None:
    secret = customer["note"]  # a local variable holding customer data
    try:
        int(secret)
    except ValueError as exc:
        raise RuntimeError(f"cannot save the note of {customer['first']}: {secret}") from exc


def _leaks(text: str) -> list[str]:
    return [value for value in (FIRST, LAST, NOTE, "nuts", "anaphylaxis") if value in text]


def _crash_dir() -> Path:
    return Path(os.environ["FRONTDESK_DATA_DIR"]) / "crash"


def test_report_is_private_and_has_frames_but_no_values() -> None:
    try:
        _save_note(_customer_data())
    except RuntimeError as exc:
        path = write_crash_report(exc, where="test")
    assert path is not None and path.parent == _crash_dir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    report = path.read_text(encoding="utf-8")
    # The frames are there: both exceptions of the chain, the functions and the lines.
    assert "builtins.ValueError" in report and "builtins.RuntimeError" in report
    assert "_save_note" in report and "test_crash.py" in report
    assert "int(secret)" in report  # source lines name variables, never their values
    # No local variable values and no exception messages (they quote customer data).
    assert _leaks(report) == []
    assert "invalid literal" not in report  # ValueError's message quotes the value


def test_two_reports_do_not_overwrite_each_other() -> None:
    first = write_crash_report(ValueError(NOTE))
    second = write_crash_report(ValueError(NOTE))
    assert first and second and first != second
    assert {p.name for p in _crash_dir().iterdir()} == {first.name, second.name}


def test_a_report_that_cannot_be_written_gives_none(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("FRONTDESK_DATA_DIR", str(blocker))
    assert write_crash_report(RuntimeError(NOTE)) is None


def test_failed_worker_report_holds_the_worker_frames() -> None:
    """Textual's WorkerFailed has no traceback of its own: the report follows its error."""
    try:
        _save_note(_customer_data())
    except RuntimeError as exc:
        failed = WorkerFailed(exc)
    path = write_crash_report(failed)
    assert path is not None
    report = path.read_text(encoding="utf-8")
    assert "textual.worker.WorkerFailed" in report and "_save_note" in report
    assert _leaks(report) == []


def test_exception_group_members_are_reported() -> None:
    try:
        try:
            _save_note(_customer_data())
        except RuntimeError as exc:
            raise ExceptionGroup("several", [exc]) from None
    except ExceptionGroup as group:
        path = write_crash_report(group)
    assert path is not None
    report = path.read_text(encoding="utf-8")
    assert "_save_note" in report and _leaks(report) == []


# --------------------------------------------------------------------------- the app


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "crash.db"
    engine = open_database(path)
    with Session(engine) as session:
        session.add(
            Customer(
                code="C-000001",
                first_name=FIRST,
                last_name=LAST,
                city=NOTE,
                email="serafina@example.com",
                email_key="serafina@example.com",
            )
        )
        session.commit()
    engine.dispose()
    return path


class CrashingApp(FrontdeskApp):
    """The app with a bug: mounting reads a customer and fails with its data in hand."""

    CSS_PATH = CSS_PATH

    def on_mount(self) -> None:
        with Session(self.engine) as session:
            customer = session.get(Customer, 1)
        assert customer is not None
        secret = customer.city
        raise RuntimeError(f"cannot show {customer.full_name}: {secret}")


async def test_unexpected_error_in_the_app_writes_a_report(db: Path) -> None:
    engine = open_database(db)
    app = CrashingApp(engine=engine, staff=None)
    with pytest.raises(RuntimeError):  # run_test re-raises it for the test's sake
        async with app.run_test() as pilot:
            await pilot.pause()
    engine.dispose()
    assert app.return_code == 1
    assert app.crash_report is not None and app.crash_report.parent == _crash_dir()
    assert stat.S_IMODE(app.crash_report.stat().st_mode) == 0o600
    report = app.crash_report.read_text(encoding="utf-8")
    assert "on_mount" in report and _leaks(report) == []


class WorkerCrashApp(FrontdeskApp):
    CSS_PATH = CSS_PATH

    def on_mount(self) -> None:
        super().on_mount()
        self.load_alert()

    @work(thread=True, exit_on_error=False)
    def load_alert(self) -> None:
        _save_note(_customer_data())


async def test_failed_worker_is_a_message_and_a_report_not_a_crash(db: Path) -> None:
    engine = open_database(db)
    app = WorkerCrashApp(engine=engine, staff=None)
    async with app.run_test() as pilot:
        for _ in range(250):
            await pilot.pause(0.02)
            if any("RuntimeError" in n.message for n in app._notifications):
                break
        # The first start of this database also says who its first admin is: not an error.
        messages = [n.message for n in app._notifications if n.severity == "error"]
        assert app.is_running
    engine.dispose()
    assert app.return_code in (None, 0)
    assert len(messages) == 1 and "RuntimeError" in messages[0], messages
    assert _leaks(messages[0]) == []
    reports = list(_crash_dir().iterdir())
    assert len(reports) == 1 and str(reports[0]) in messages[0]
    assert stat.S_IMODE(reports[0].stat().st_mode) == 0o600
    assert "_save_note" in reports[0].read_text(encoding="utf-8")


SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from sqlmodel import Session

    import frontdesk.app
    from frontdesk.data.models import Customer


    class CrashingApp(frontdesk.app.FrontdeskApp):
        CSS_PATH = str(Path(frontdesk.app.__file__).with_name("app.tcss"))

        def on_mount(self):
            with Session(self.engine) as session:
                customer = session.get(Customer, 1)
            secret = customer.city
            raise RuntimeError(f"cannot show {customer.full_name}: {secret}")


    frontdesk.app.FrontdeskApp = CrashingApp
    from frontdesk.cli import main

    sys.argv[0] = "frontdesk"
    main()
    """
)


def _run_in_terminal(args: list[str], timeout: float = 60.0) -> tuple[int, str]:
    """Run ``args`` with a pseudo-terminal as stdin/stdout/stderr; (exit code, all output)."""
    import fcntl
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError as exc:  # EIO: the child closed the terminal
                if exc.errno != errno.EIO:
                    raise
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_the_real_app_exits_non_zero_with_one_line_and_no_traceback(
    db: Path, tmp_path: Path
) -> None:
    script = tmp_path / "crashing.py"
    script.write_text(SCRIPT, encoding="utf-8")
    code, output = _run_in_terminal(
        [sys.executable, str(script), "--db", str(db), "--staff", "admin"]
    )
    assert code == 1, output
    assert "Traceback" not in output and "RuntimeError" not in output
    assert _leaks(output) == [], output
    found = re.findall(r"A crash report was saved to (\S+) \(private to you\)\.", output)
    assert len(found) == 1, output
    report = Path(found[0])
    assert report.parent == _crash_dir()
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    text = report.read_text(encoding="utf-8")
    assert "on_mount" in text and _leaks(text) == []
    # After the app has left the screen, the message is one short line.
    after = output[output.rindex("Frontdesk stopped") :]
    assert after.strip().count("\n") == 0 and len(after.strip()) < 300


def test_an_error_while_starting_the_app_is_reported_the_same_way(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside the app's loop (building it, before its first frame): same line, same report."""
    from click.testing import CliRunner

    from frontdesk.cli import main

    class BrokenApp(FrontdeskApp):
        def __init__(self, **kwargs: object) -> None:
            note = _customer_data()["note"]
            raise RuntimeError(f"cannot start for {note}")

    monkeypatch.setattr(frontdesk.app, "FrontdeskApp", BrokenApp)
    result = CliRunner().invoke(main, ["--db", str(db)], catch_exceptions=False)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and _leaks(result.stderr) == []
    assert "Traceback" not in result.stderr
    found = re.findall(r"saved to (\S+) \(private to you\)\.", result.stderr)
    assert len(found) == 1 and Path(found[0]).parent == _crash_dir()
    report = Path(found[0]).read_text(encoding="utf-8")
    assert "in __init__" in report and _leaks(report) == []


def test_a_known_error_while_starting_is_an_error_line_not_a_crash(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from frontdesk.cli import main
    from frontdesk.data.errors import ValidationFailed

    class RefusingApp(FrontdeskApp):
        def __init__(self, **kwargs: object) -> None:
            raise ValidationFailed("staff", "no such staff member")

    monkeypatch.setattr(frontdesk.app, "FrontdeskApp", RefusingApp)
    result = CliRunner().invoke(main, ["--db", str(db)], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr == "error: staff: no such staff member\n"
    assert not _crash_dir().exists() or not any(_crash_dir().iterdir())


# --------------------------------------------------------------------------- CLI commands


def test_an_unexpected_error_in_a_command_is_one_line_and_a_report(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from frontdesk.cli import main
    from frontdesk.data import customers

    def broken(**kwargs: object) -> None:
        _save_note(_customer_data())

    monkeypatch.setattr(customers, "get_by_code", broken)
    result = CliRunner().invoke(
        main, ["--db", str(db), "customers", "show", "C-000001"], catch_exceptions=False
    )
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and _leaks(result.stderr) == []
    assert "Traceback" not in result.stderr
    found = re.findall(r"saved to (\S+) \(private to you\)\.", result.stderr)
    assert len(found) == 1 and Path(found[0]).parent == _crash_dir()
    report = Path(found[0])
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    text = report.read_text(encoding="utf-8")
    assert "_save_note" in text and "customers_show" in text and _leaks(text) == []


def test_a_refusal_no_command_expected_is_an_error_line(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from frontdesk.cli import main
    from frontdesk.data import customers
    from frontdesk.data.errors import ValidationFailed

    def refusing(**kwargs: object) -> None:
        raise ValidationFailed("code", "is not a customer code")

    monkeypatch.setattr(customers, "get_by_code", refusing)
    result = CliRunner().invoke(
        main, ["--db", str(db), "customers", "show", "C-000001"], catch_exceptions=False
    )
    assert result.exit_code == 1
    assert result.stderr == "error: code: is not a customer code\n"
    assert not _crash_dir().exists() or not any(_crash_dir().iterdir())

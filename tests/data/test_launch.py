"""Keys typed while the app is still starting reach it, in order, on a real terminal (a pty):
``ctrl+s`` is not taken by the terminal's flow control, nothing is echoed over the screen, and
the terminal's own settings come back when the app ends."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from frontdesk.data.db import open_database
from frontdesk.data.demo import generate
from frontdesk.data.models import Customer
from frontdesk.launch import starts_app


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        ([], True),
        (["--db", "x.db", "--staff", "rita"], True),
        (["--db=x.db"], True),
        (["--db", "x.db", "demo"], False),
        (["customers", "find", "Ann"], False),
        (["--help"], False),
        (["--version"], False),
    ],
)
def test_which_commands_start_the_app(args: list[str], starts: bool) -> None:
    assert starts_app(args) is starts


def test_keys_typed_while_the_app_starts_reach_it(tmp_path: Path) -> None:
    db = tmp_path / "desk.db"
    engine = open_database(db)
    generate(engine=engine, customers=30, seed=3)
    engine.dispose()

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    cooked = termios.tcgetattr(slave)
    assert cooked[3] & termios.ICANON and cooked[0] & termios.IXON  # a terminal as it comes
    env = {**os.environ, "TERM": "xterm-256color", "FRONTDESK_CONFIG_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "frontdesk", "--db", str(db), "--staff", "rita"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    shown = bytearray()

    def drain() -> None:  # the app must never block on a full terminal
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        # The command takes the terminal's keys as they are first thing; then, while Python is
        # still loading the app and opening the database, a new customer saved with ctrl+s.
        # (Keys typed before the command runs at all are the shell's.)
        deadline = time.monotonic() + 30
        while termios.tcgetattr(slave)[3] & termios.ICANON:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.005)
        os.write(master, b"nPetra\tTypeahead\t\tpetra@example.com\x13")
        assert b"\x1b[?1049h" not in bytes(shown)  # typed before the app drew anything
        deadline = time.monotonic() + 90
        found = None
        while found is None and time.monotonic() < deadline:
            time.sleep(0.5)
            assert proc.poll() is None, bytes(shown[-2000:]).decode(errors="replace")
            engine = open_database(db)
            with Session(engine) as s:
                found = s.exec(
                    select(Customer).where(col(Customer.last_name) == "Typeahead")
                ).first()
            engine.dispose()
        assert found is not None, "the typed-ahead customer was not saved"
        assert found.first_name == "Petra"
        os.write(master, b"\x11")  # ctrl+q quits
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    after = termios.tcgetattr(slave)
    assert after[3] & termios.ICANON and after[3] & termios.ECHO  # the terminal's own settings
    assert after[0] & termios.IXON and after[0] & termios.ICRNL
    os.close(slave)
    os.close(master)
    reader.join(timeout=5)
    assert b"Petra" not in bytes(shown).split(b"\x1b[?1049h")[0]  # not echoed before the app

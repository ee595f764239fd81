"""SQLite writers take turns on a private lock file; a turn ends with commit or rollback."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from frontdesk.data.db import FairConnection, open_database, read_engine


def test_a_writer_waits_for_the_turn_and_gets_it_when_the_other_commits(tmp_path: Path) -> None:
    db = tmp_path / "desk.db"
    engine = open_database(db)
    writers = Path(f"{db}-writers")
    assert writers.exists() and stat.S_IMODE(os.stat(writers).st_mode) == 0o600
    order: list[str] = []
    with engine.connect() as first:
        first.execute(text("UPDATE counter SET value = value + 1 WHERE name = 'customer'"))
        assert isinstance(first.connection.dbapi_connection, FairConnection)

        def second_desk() -> None:
            with engine.begin() as second:
                second.execute(
                    text("UPDATE counter SET value = value + 10 WHERE name = 'customer'")
                )
                order.append("second wrote")

        thread = threading.Thread(target=second_desk)
        thread.start()
        time.sleep(0.3)
        assert order == []  # still waiting for its turn
        # Readers never wait for a turn.
        with read_engine(engine).connect() as reader:
            assert reader.execute(text("SELECT COUNT(*) FROM staff")).scalar_one() == 0
        order.append("first commits")
        first.commit()
        thread.join(5)
    assert order == ["first commits", "second wrote"]
    with engine.connect() as conn:
        value = conn.execute(text("SELECT value FROM counter WHERE name = 'customer'")).scalar_one()
    assert value == 11


def test_a_rollback_ends_the_turn(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "desk.db")
    with engine.connect() as conn:
        conn.execute(text("UPDATE counter SET value = 5 WHERE name = 'customer'"))
        conn.rollback()
        assert conn.connection.dbapi_connection._turn is None  # type: ignore[union-attr]
    with engine.begin() as conn:  # would wait 10 s if the turn were still taken
        conn.execute(text("UPDATE counter SET value = 6 WHERE name = 'customer'"))


def test_a_turn_not_given_within_the_busy_timeout_is_refused_and_then_handed_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from frontdesk.data import db as db_module
    from frontdesk.data.errors import DatabaseBusy

    engine = open_database(tmp_path / "desk.db")
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 300)
    with engine.connect() as first:
        first.execute(text("UPDATE counter SET value = 1 WHERE name = 'customer'"))
        started = time.monotonic()
        with (
            pytest.raises(DatabaseBusy, match=r"stayed busy for 0\.3 s"),
            engine.begin() as second,
        ):
            second.execute(text("UPDATE counter SET value = 2 WHERE name = 'customer'"))
        assert 0.25 < time.monotonic() - started < 5
        first.commit()
    # The given-up wait hands the turn straight back: the next writer is not blocked.
    with engine.begin() as third:
        third.execute(text("UPDATE counter SET value = 3 WHERE name = 'customer'"))
    with engine.connect() as conn:
        value = conn.execute(text("SELECT value FROM counter WHERE name = 'customer'")).scalar_one()
    assert value == 3

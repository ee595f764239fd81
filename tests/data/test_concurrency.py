"""Several processes at once: no duplicate, no lost update, no 'database is locked'."""

from __future__ import annotations

import multiprocessing as mp
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, func, select

from frontdesk.data import customers as C
from frontdesk.data.db import open_database
from frontdesk.data.errors import DuplicateCustomer
from frontdesk.data.models import Customer
from tests.actors import ADMIN


def _add_same_phone(url: str, name: str, barrier: mp.synchronize.Barrier, out: mp.Queue) -> None:  # type: ignore[type-arg]
    engine = open_database(url)
    barrier.wait()
    try:
        with Session(engine) as s:
            c = C.create_customer(
                actor=ADMIN, session=s, data=C.CustomerCreate(first_name=name, phone="+31612345678")
            )
            s.commit()
            out.put(("ok", c.code))
    except DuplicateCustomer as exc:
        out.put(("dup", exc.existing_code))
    except Exception as exc:  # pragma: no cover - reported to the test
        out.put(("error", repr(exc)))


def _bump_counter(url: str, rounds: int, barrier: mp.synchronize.Barrier, out: mp.Queue) -> None:  # type: ignore[type-arg]
    """Read-then-write: read a customer, then update it with its version (retry on stale)."""
    engine = open_database(url)
    barrier.wait()
    errors = 0
    done = 0
    while done < rounds:
        try:
            with Session(engine) as s:
                c = C.get_by_code(session=s, code="C-000001")
                n = int(c.city or "0")
                C.update_customer(
                    session=s,
                    customer_id=c.id or 0,
                    data=C.CustomerUpdate(city=str(n + 1)),
                    expected_version=c.version,
                )
                s.commit()
                done += 1
        except Exception as exc:
            if "locked" in str(exc):
                errors += 1
                out.put(("locked", repr(exc)))
                return
            raise
    out.put(("ok", errors))


def _target(engine: Engine, tmp_path: Path) -> str:
    if engine.dialect.name == "sqlite":
        return str(engine.url.database)
    return engine.url.render_as_string(hide_password=False)


def test_two_processes_adding_the_same_phone(any_engine: Engine, tmp_path: Path) -> None:
    url = _target(any_engine, tmp_path)
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    out = ctx.Queue()
    procs = [ctx.Process(target=_add_same_phone, args=(url, n, barrier, out)) for n in ("A", "B")]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    kinds = sorted(r[0] for r in results)
    assert kinds == ["dup", "ok"], results
    winner = next(r[1] for r in results if r[0] == "ok")
    loser = next(r[1] for r in results if r[0] == "dup")
    assert winner == loser
    with Session(any_engine) as s:
        assert s.exec(select(func.count()).select_from(Customer)).one() == 1


def test_eight_processes_read_then_write_never_lock_or_lose_updates(engine: Engine) -> None:
    with Session(engine) as s:
        C.create_customer(
            actor=ADMIN,
            session=s,
            data=C.CustomerCreate(first_name="Shared", email="s@example.com"),
        )
        s.commit()
    url = str(engine.url.database)
    ctx = mp.get_context("spawn")
    workers, rounds = 8, 15
    barrier = ctx.Barrier(workers)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_bump_counter, args=(url, rounds, barrier, out)) for _ in range(workers)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(r[0] == "ok" for r in results), results
    with Session(engine) as s:
        c = C.get_by_code(session=s, code="C-000001")
        assert c.city == str(workers * rounds)
        assert c.version == 1 + workers * rounds


def test_database_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "private" / "fd.db"
    engine = open_database(path)
    with Session(engine) as s:
        C.create_customer(
            actor=ADMIN, session=s, data=C.CustomerCreate(first_name="A", email="a@example.com")
        )
        s.commit()
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if candidate.exists():
                assert stat.S_IMODE(os.stat(candidate).st_mode) == 0o600, candidate


def test_sqlite_pragmas(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL


def test_ledger_is_append_only_in_the_database(any_engine: Engine) -> None:
    with Session(any_engine) as s:
        c = C.create_customer(
            actor=ADMIN, session=s, data=C.CustomerCreate(first_name="A", email="a@example.com")
        )
        s.commit()
        s.execute(
            text(
                "INSERT INTO loyalty_enrolment (customer_id, program_id, balance, enrolled_at, version) VALUES (:c, 1, 5, CURRENT_TIMESTAMP, 1)"
            ),
            {"c": c.id},
        )
        s.execute(
            text(
                "INSERT INTO points_entry (enrolment_id, customer_id, program_id, points, action, balance_after, at) "
                "VALUES (1, :c, 1, 5, 'added', 5, CURRENT_TIMESTAMP)"
            ),
            {"c": c.id},
        )
        s.commit()
    for statement in ("UPDATE points_entry SET points = 50", "DELETE FROM points_entry"):
        with Session(any_engine) as s, pytest.raises(Exception, match="append-only"):
            s.execute(text(statement))
            s.commit()

"""Backups of the embedded database: consistent copies, restore, refusals."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from frontdesk.data import backup
from frontdesk.data import customers as svc
from frontdesk.data.check import run_checks
from frontdesk.data.db import HEAD_REVISION
from frontdesk.data.errors import InvalidState, ValidationFailed
from frontdesk.data.models import Customer
from tests.actors import ADMIN


def count(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(Customer)).one())


def add(engine: Engine, name: str, phone: str) -> None:
    with Session(engine) as s:
        svc.create_customer(
            actor=ADMIN, session=s, data=svc.CustomerCreate(first_name=name, phone=phone)
        )
        s.commit()


def test_backup_and_restore(engine: Engine, tmp_path: Path) -> None:
    add(engine, "Ada", "+14155550101")
    copy = backup.backup(engine, tmp_path / "copies" / "one.db", actor=ADMIN)
    assert (copy.customers, copy.revision) == (1, HEAD_REVISION)
    assert stat.S_IMODE(copy.path.stat().st_mode) == 0o600
    with pytest.raises(ValidationFailed, match="exists already"):
        backup.backup(engine, copy.path, actor=ADMIN)
    add(engine, "Bob", "+14155550102")
    assert count(engine) == 2
    restored = backup.restore(engine, copy.path, tmp_path / "copies" / "before.db", actor=ADMIN)
    assert restored.customers == 1 and count(engine) == 1
    with Session(engine) as s:  # search still works: the FTS index came with the copy
        assert [c.first_name for c in svc.search(session=s, text="ada")] == ["Ada"]
    assert backup.inspect(tmp_path / "copies" / "before.db").customers == 2  # nothing lost
    assert run_checks(engine).ok
    add(engine, "Cy", "+14155550103")  # the restored database takes writes


def test_restore_refuses_what_is_not_a_frontdesk_backup(engine: Engine, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    with pytest.raises(ValidationFailed, match="not a Frontdesk database"):
        backup.restore(engine, junk, tmp_path / "safety.db", actor=ADMIN)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(ValidationFailed, match="not a Frontdesk database"):
        backup.inspect(other)
    newer = backup.backup(engine, tmp_path / "newer.db", actor=ADMIN).path
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(ValidationFailed, match="newer Frontdesk"):
        backup.restore(engine, newer, tmp_path / "safety.db", actor=ADMIN)
    assert not (tmp_path / "safety.db").exists()  # refused before touching anything


def test_postgres_is_left_to_its_own_tools(any_engine: Engine, tmp_path: Path) -> None:
    if any_engine.dialect.name == "sqlite":
        assert backup.backup(any_engine, tmp_path / "x.db", actor=ADMIN).customers == 0
        return
    with pytest.raises(InvalidState, match="pg_dump"):
        backup.backup(any_engine, tmp_path / "x.db", actor=ADMIN)


def test_cli_backup_and_restore(tmp_path: Path) -> None:
    from frontdesk.cli import main

    db = str(tmp_path / "cli.db")
    run = CliRunner().invoke
    assert (
        run(
            main, ["customers", "add", "--db", db, "--first-name", "Ada", "--phone", "+14155550101"]
        ).exit_code
        == 0
    )
    made = run(main, ["backup", "--db", db])
    assert made.exit_code == 0 and "Backed up 1 customer to" in made.stdout
    copy = next((tmp_path / "backups").glob("cli-*.db"))
    run(main, ["customers", "add", "--db", db, "--first-name", "Bob", "--phone", "+14155550102"])
    refused = run(main, ["restore", "--db", db, str(copy)], input="n\n")
    assert refused.exit_code == 1 and "nothing restored" in refused.stderr
    done = run(main, ["restore", "--db", db, str(copy)], input="y\n")
    assert done.exit_code == 0, done.output
    assert "Restored 1 customer from" in " ".join(done.stdout.split())
    found = run(main, ["customers", "find", "--db", db, "Bob"])
    assert found.exit_code == 1 and "No customers match" in found.stderr
    # A pasted page is not said back whole.
    pasted = run(main, ["customers", "find", "--db", db, "x" * 100_000])
    assert pasted.exit_code == 1 and len(pasted.stderr) < 200

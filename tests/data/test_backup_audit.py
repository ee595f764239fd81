"""Backups, restores and exports in the audit log; a restore re-applies later erasures."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from frontdesk.cli import main
from frontdesk.data import backup
from frontdesk.data import customers as svc
from frontdesk.data.audit_text import describe_data_event
from frontdesk.data.check import run_checks
from frontdesk.data.db import open_database
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.exporting import export_customers, record_export
from frontdesk.data.models import AuditEvent, Customer, Staff
from frontdesk.data.privacy import ERASED_NAME, erase_customer
from frontdesk.data.staff import create_staff
from tests.actors import ADMIN, DESK
from tests.data.test_privacy import LAST, SECRETS, shop  # noqa: F401  (a fixture)


def add(engine: Engine, name: str, phone: str) -> str:
    with Session(engine) as s:
        c = svc.create_customer(
            actor=ADMIN, session=s, data=svc.CustomerCreate(first_name=name, phone=phone)
        )
        s.commit()
        return c.code


def events(engine: Engine, entity: str) -> list[AuditEvent]:
    with Session(engine) as s:
        stmt = select(AuditEvent).where(col(AuditEvent.entity) == entity)
        return list(s.exec(stmt.order_by(col(AuditEvent.id))))


def said(event: AuditEvent) -> str:
    return describe_data_event(event.action, event.actor_name, event.changes)


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_backup_is_recorded(engine: Engine, tmp_path: Path) -> None:
    add(engine, "Ada", "+14155550101")
    made = backup.backup(engine, tmp_path / "copies" / "frontdesk-2026-11-29.db", actor=ADMIN)
    (event,) = events(engine, "database")
    assert (event.action, event.actor_name) == ("backup", "Test admin")
    assert said(event) == "Backup made by Test admin: frontdesk-2026-11-29.db"
    assert private(made.path)
    # The audit log shows it in its own words (it showed "database #0 backup" before).
    from frontdesk.data.audit_log import load_audit_page

    with Session(engine) as s:
        page = load_audit_page(session=s, viewer=ADMIN)
    assert page.rows[0].what == "Backup made by Test admin: frontdesk-2026-11-29.db"
    # The copy holds what was there when it was taken, not its own record.
    assert backup.inspect(made.path).customers == 1


def test_a_backup_never_goes_over_the_databases_own_files(engine: Engine, tmp_path: Path) -> None:
    """Over the rollback journal, a backup was reported made and then deleted by SQLite as a
    stale journal; every file of the database is refused, nothing is recorded."""
    url = engine.url.database
    if engine.dialect.name != "sqlite" or not url:
        pytest.skip("PostgreSQL has its own backup tools")
    for suffix in ("", "-journal", "-wal", "-shm", "-writers"):
        with pytest.raises(ValidationFailed) as refused:
            backup.backup(engine, Path(f"{url}{suffix}"), actor=ADMIN)
        assert "writing there would destroy it" in refused.value.message
    assert not events(engine, "database")
    # A folder that is not there yet is made, and private, with the ones above it.
    made = backup.backup(engine, tmp_path / "usb" / "copies" / "b.db", actor=ADMIN)
    for folder in (tmp_path / "usb", tmp_path / "usb" / "copies"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert private(made.path)


def test_restore_erases_again_whom_the_backup_still_holds(engine: Engine, tmp_path: Path) -> None:
    ada = add(engine, "Ada", "+14155550101")
    bob = add(engine, "Bob", "+14155550102")
    copy = backup.backup(engine, tmp_path / "copies" / "old.db", actor=ADMIN).path
    erase_customer(engine=engine, code=ada, actor=ADMIN)
    erase_customer(engine=engine, code=bob, actor=ADMIN)
    add(engine, "Cy", "+14155550103")
    assert backup.erased_since(engine, copy) == [ada, bob]  # said before asking
    safety = tmp_path / "copies" / "before.db"
    restored = backup.restore(engine, copy, safety, actor=ADMIN)
    assert restored.customers == 2 and restored.erased_again == (ada, bob)
    assert restored.safety_copy == safety
    with Session(engine) as s:
        for code in (ada, bob):
            person = svc.get_by_code(session=s, code=code)
            assert person.erased_at is not None and person.first_name == ERASED_NAME
            assert person.phone is None
        assert svc.search(session=s, text="ada") == []
        erased = s.exec(select(AuditEvent).where(col(AuditEvent.action) == "erase")).all()
        assert len(erased) == 2  # re-applied, each recorded
    # The restore is recorded in the restored database, with the safety copy's name.
    # (The backup's own record was made after the copy: it is not in it.)
    (event,) = events(engine, "database")
    assert event.action == "restore_backup"
    assert said(event) == (
        "Backup restored by Test admin: old.db (the database it replaced is in before.db; "
        "2 customers erased since were erased again)"
    )
    # The safety copy still works: a sound backup of the replaced database, private.
    assert private(safety) and backup.inspect(safety).customers == 3
    assert backup.erased_since(engine, safety) == []  # it holds them erased
    assert private(Path(str(engine.url.database)))
    assert sorted(p.name for p in (tmp_path).iterdir() if p.name.startswith(".")) == []
    assert run_checks(engine).ok
    # Nothing left to re-apply: a second restore of the same backup erases them again too.
    again = backup.restore(engine, copy, tmp_path / "copies" / "before-2.db", actor=ADMIN)
    assert again.erased_again == (ada, bob)
    add(engine, "Dee", "+14155550104")  # the restored database takes writes


def test_a_backup_from_another_database_is_not_erased_by_code(
    engine: Engine, tmp_path: Path
) -> None:
    """Only the same record is erased again: same id, code and creation time."""
    ada = add(engine, "Ada", "+14155550101")
    other = tmp_path / "data" / "other.db"
    far = open_database(other)
    namesake = add(far, "Zoe", "+14155550109")
    copy = backup.backup(far, tmp_path / "other-copy.db", actor=ADMIN).path
    far.dispose()
    assert namesake == ada  # the same code, another person
    erase_customer(engine=engine, code=ada, actor=ADMIN)
    assert backup.erased_since(engine, copy) == []
    restored = backup.restore(engine, copy, tmp_path / "safety.db", actor=ADMIN)
    assert restored.erased_again == ()
    with Session(engine) as s:
        assert svc.get_by_code(session=s, code=ada).first_name == "Zoe"


def test_restore_by_someone_the_backup_does_not_know(engine: Engine, tmp_path: Path) -> None:
    ada = add(engine, "Ada", "+14155550101")
    copy = backup.backup(engine, tmp_path / "old.db", actor=ADMIN).path
    with Session(engine, expire_on_commit=False) as s:
        alex = create_staff(session=s, name="Alex Admin", role="admin", username="alex")
        s.commit()
    erase_customer(engine=engine, code=ada, actor=alex)
    restored = backup.restore(engine, copy, tmp_path / "safety.db", actor=alex)
    assert restored.erased_again == (ada,)
    with Session(engine) as s:
        assert s.exec(select(Staff).where(col(Staff.username) == "alex")).first() is None
    event = events(engine, "database")[-1]
    assert (event.actor_id, event.actor_name) == (None, "Alex Admin")  # named, no dangling id
    assert said(event).endswith("1 customer erased since was erased again)")


def test_restore_of_a_merged_and_erased_customer_leaves_nothing(
    shop: tuple[Path, Path, str],  # noqa: F811
) -> None:
    """The privacy suite's customer (a merged old record, contacts, a note, a booking):
    erased after the backup, then the backup restored: gone from the database's files."""
    db, _, code = shop
    engine = open_database(db)
    try:
        with Session(engine, expire_on_commit=False) as s:
            admin = s.exec(select(Staff).where(col(Staff.username) == "admin")).one()
        copy = backup.backup(engine, db.parent / "backups" / "old.db", actor=admin).path
        erase_customer(engine=engine, code=code, actor=admin)
        restored = backup.restore(engine, copy, db.parent / "backups" / "safety.db", actor=admin)
        # The person's record and the old one merged into it (both erased, as the preview
        # lists them).
        assert restored.erased_again[0] == code and len(restored.erased_again) == 2
        with Session(engine) as s:
            records = s.exec(select(Customer).where(col(Customer.first_name) == ERASED_NAME))
            assert len(list(records)) == 2
            assert svc.search(session=s, text=LAST.lower(), limit=5) == []
    finally:
        engine.dispose()
    for path in db.parent.iterdir():  # the database and its companions; backups/ keeps them
        if path.is_file():
            blob = path.read_bytes()
            assert not [s for s in SECRETS if s.encode() in blob], path.name
            assert private(path), path.name


def test_exports_are_recorded_with_their_count(engine: Engine, tmp_path: Path) -> None:
    for i in range(3):
        add(engine, f"Vip{i}", f"+1415555011{i}")
    out = tmp_path / "vip.csv"
    with Session(engine) as s:
        count = export_customers(session=s, path=out, text="vip", actor=DESK)
        record_export(session=s, path=out, count=count, actor=DESK)
        s.commit()
    assert count == 3 and private(out)
    (event,) = events(engine, "export")
    assert event.changes == {"file": [None, "vip.csv"], "customers": [None, 3]}
    assert said(event) == "Export of 3 customers by Test desk: vip.csv"


def test_cli_export_backup_and_restore_are_recorded(tmp_path: Path) -> None:
    db = str(tmp_path / "data" / "cli.db")
    run = CliRunner().invoke
    staff = ["--staff", "Alex Admin"]
    for name, phone in (("Ada", "+14155550101"), ("Bob", "+14155550102")):
        args = ["customers", "add", "--db", db, "--first-name", name, "--phone", phone]
        added = run(main, [*staff, *args])
        assert added.exit_code == 0, added.output
    out = tmp_path / "all [red]customers.csv"  # a file name is text, never markup
    exported = run(main, [*staff, "export", "--db", db, str(out)])
    assert exported.exit_code == 0, exported.output
    assert private(out)
    made = run(main, [*staff, "backup", "--db", db])
    assert made.exit_code == 0, made.output
    copy = next((tmp_path / "data" / "backups").glob("cli-*.db"))
    engine = open_database(db)
    with Session(engine) as s:
        ada = s.exec(select(Customer).where(col(Customer.first_name) == "Ada")).one().code
    before = [said(e) for e in events(engine, "export") + events(engine, "database")]
    engine.dispose()
    assert before == [
        "Export of 2 customers by Alex Admin: all [red]customers.csv",
        f"Backup made by Alex Admin: {copy.name}",
    ]
    erased = run(main, [*staff, "customers", "erase", ada, "--yes", "--db", db])
    assert erased.exit_code == 0, erased.output
    refused = run(main, [*staff, "restore", "--db", db, str(copy)], input="n\n")
    assert refused.exit_code == 1
    assert f"1 customer erased since this backup was taken ({ada})" in refused.stderr
    done = run(main, [*staff, "restore", "--db", db, str(copy)], input="y\n")
    assert done.exit_code == 0, done.output
    text = " ".join(done.stdout.split())
    assert "Restored 2 customers" in text
    assert f"1 customer erased since this backup was erased again: {ada}." in text
    engine = open_database(db)
    try:
        lines = [said(e) for e in events(engine, "export") + events(engine, "database")]
        with Session(engine) as s:
            assert svc.get_by_code(session=s, code=ada).erased_at is not None
    finally:
        engine.dispose()
    # The restored database: as the backup had it (the export, not the backup's own record,
    # made after the copy), and the restore.
    assert lines[0] == "Export of 2 customers by Alex Admin: all [red]customers.csv"
    assert lines[1].startswith(f"Backup restored by Alex Admin: {copy.name} (")
    assert ".before-restore.db; 1 customer erased since was erased again)" in lines[1]
    assert len(lines) == 2
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert private(path), path


def test_only_admins_restore_and_nothing_is_touched(engine: Engine, tmp_path: Path) -> None:
    from frontdesk.data.roles import NotAllowed

    copy = backup.backup(engine, tmp_path / "old.db", actor=ADMIN).path
    with pytest.raises(NotAllowed):
        backup.restore(engine, copy, tmp_path / "safety.db", actor=DESK)
    assert not (tmp_path / "safety.db").exists()
    assert [
        p for p in Path(str(engine.url.database)).parent.iterdir() if "restoring" in p.name
    ] == []
    assert os.path.exists(copy)


def test_a_staging_copy_is_never_left_behind(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = add(engine, "Ada", "+14155550101")
    copy = backup.backup(engine, tmp_path / "old.db", actor=ADMIN).path
    erase_customer(engine=engine, code=ada, actor=ADMIN)
    from frontdesk.data import privacy

    def broken(**_: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(privacy, "erase_customer", broken)
    with pytest.raises(sqlite3.OperationalError):
        backup.restore(engine, copy, tmp_path / "safety.db", actor=ADMIN)
    folder = Path(str(engine.url.database)).parent
    assert [p.name for p in folder.iterdir() if "restoring" in p.name] == []
    assert not (tmp_path / "safety.db").exists()  # failed before anything was replaced
    with Session(engine) as s:  # the live database as it was: still erased
        assert svc.get_by_code(session=s, code=ada).erased_at is not None


def test_a_backup_that_merged_an_erased_record_into_someone_else_is_refused(
    engine: Engine, tmp_path: Path
) -> None:
    """Two lines of history: in the newer backup Bob was merged into Ada; here (restored from
    an older one) Bob alone was erased. Erasing him again there would erase Ada: refused,
    nothing replaced."""
    from frontdesk.data.merge import merge_customers

    ada = add(engine, "Ada", "+14155550101")
    bob = add(engine, "Bob", "+14155550102")
    older = backup.backup(engine, tmp_path / "older.db", actor=ADMIN).path
    with Session(engine) as s:
        survivor = svc.get_by_code(session=s, code=ada)
        merged = svc.get_by_code(session=s, code=bob)
        merge_customers(
            session=s, survivor_id=survivor.id or 0, other_ids=[merged.id or 0], actor=ADMIN
        )
        s.commit()
    newer = backup.backup(engine, tmp_path / "newer.db", actor=ADMIN).path
    backup.restore(engine, older, tmp_path / "safety-1.db", actor=ADMIN)
    erase_customer(engine=engine, code=bob, actor=ADMIN)
    from frontdesk.data.errors import InvalidState

    with pytest.raises(InvalidState, match=f"merged into {ada}"):
        backup.restore(engine, newer, tmp_path / "safety-2.db", actor=ADMIN)
    assert not (tmp_path / "safety-2.db").exists()
    with Session(engine) as s:  # as it was: Ada here, Bob erased
        assert svc.get_by_code(session=s, code=ada).first_name == "Ada"
        assert svc.get_by_code(session=s, code=bob).erased_at is not None


def test_a_save_at_another_desk_during_the_swap_waits_and_lands(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the safety copy to the swap another desk's save waits for its turn: an erasure
    made then is not undone by the swap, a new customer is not in neither file; both land in
    the restored database once it is in place."""
    import threading
    import time

    ada = add(engine, "Ada", "+14155550101")
    bob = add(engine, "Bob", "+14155550102")
    copy = backup.backup(engine, tmp_path / "old.db", actor=ADMIN).path
    erase_customer(engine=engine, code=ada, actor=ADMIN)
    real = backup._prepare
    calls: list[int] = []
    desk: list[threading.Thread] = []

    def other_desk() -> None:
        erase_customer(engine=engine, code=bob, actor=ADMIN)
        add(engine, "Cy", "+14155550103")

    def spy(*args: object, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 2:  # the second pass: the turn is held by the restore
            thread = threading.Thread(target=other_desk)
            thread.start()
            desk.append(thread)
            time.sleep(0.3)
            assert thread.is_alive(), "the other desk's erasure did not wait for the swap"
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(backup, "_prepare", spy)
    restored = backup.restore(engine, copy, tmp_path / "safety.db", actor=ADMIN)
    desk[0].join(timeout=30)
    assert not desk[0].is_alive()
    assert restored.erased_again == (ada,)
    with Session(engine) as s:
        assert svc.get_by_code(session=s, code=bob).erased_at is not None
        names = {c.first_name for c in s.exec(select(Customer))}
    assert "Cy" in names and "Bob" not in names and "Ada" not in names


def test_the_preview_counts_as_the_restore_does(shop: tuple[Path, Path, str]) -> None:  # noqa: F811
    """A customer erased with a record merged into them: the preview and the result name the
    same customers."""
    db, _, code = shop
    engine = open_database(db)
    try:
        with Session(engine, expire_on_commit=False) as s:
            admin = s.exec(select(Staff).where(col(Staff.username) == "admin")).one()
        copy = backup.backup(engine, db.parent / "backups" / "old.db", actor=admin).path
        erase_customer(engine=engine, code=code, actor=admin)
        preview = backup.erased_since(engine, copy)
        restored = backup.restore(engine, copy, db.parent / "backups" / "safety.db", actor=admin)
        assert sorted(preview) == sorted(restored.erased_again) and len(preview) >= 1
    finally:
        engine.dispose()


def test_a_restore_failing_before_the_swap_leaves_no_safety_copy(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from frontdesk.data.errors import InvalidState

    ada = add(engine, "Ada", "+14155550101")
    copy = backup.backup(engine, tmp_path / "old.db", actor=ADMIN).path
    erase_customer(engine=engine, code=ada, actor=ADMIN)
    real = backup._prepare
    calls: list[int] = []

    def spy(*args: object, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise InvalidState("the second pass failed")
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(backup, "_prepare", spy)
    with pytest.raises(InvalidState):
        backup.restore(engine, copy, tmp_path / "safety.db", actor=ADMIN)
    assert not (tmp_path / "safety.db").exists()
    assert not list(tmp_path.glob(".*restoring*"))
    with Session(engine) as s:  # nothing replaced: Ada stays erased
        assert svc.get_by_code(session=s, code=ada).erased_at is not None

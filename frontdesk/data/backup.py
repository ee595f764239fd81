"""Backups of the embedded SQLite database: consistent copies taken while the desk works,
and restoring one.

A backup uses SQLite's online backup API, so it is a consistent snapshot even while other
terminals write; it is checked (``PRAGMA integrity_check``) before it gets its final name and
is private (0600). Restoring first saves the current database next to it, then copies the
backup in through the same API (other connections see the old or the new database, never a
mix), then migrates it to this version's schema if it was made by an older one.

Erasures outlive a restore. A backup taken before a customer was erased still holds the
person; restoring it must not bring them back. So the backup is first copied to a private
staging file next to the database and brought to this version's schema there; every customer
erased in the current database (``customer.erased_at``) whose record the backup holds
unerased (the same id, code and creation time: the same record, never a namesake from
another database) is erased again there with :func:`privacy.erase_customer`, and the restore
is recorded in its audit log; only then does the staging copy replace the live database, in
one step. Other desks see the current database or the restored one with the erasures
re-applied, never the erased people; a failure before that step leaves everything as it was.
:func:`erased_since` says beforehand how many will be erased again.

Backups, restores and exports are recorded in the audit log (entity ``database``, actions
``backup`` and ``restore_backup``; exports in :mod:`frontdesk.data.exporting`), with the file
names, never a path's folders (``file``) and, for a restore, the safety copy's name.

PostgreSQL has its own tools (``pg_dump``/``pg_restore``); these functions say so.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from frontdesk.data import audit
from frontdesk.data.db import (
    HEAD_REVISION,
    alembic_config,
    create_bare_engine,
    is_sqlite,
    migrate,
    read_engine,
)
from frontdesk.data.errors import InvalidState, ValidationFailed
from frontdesk.data.models import Staff
from frontdesk.data.roles import require
from frontdesk.data.targets import refuse_database_file

# The audit log's record kind for backups and restores (entity id 0: the database itself).
AUDIT_ENTITY = "database"


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size: int
    customers: int
    revision: str


@dataclass(frozen=True)
class RestoreInfo(BackupInfo):
    """What a restore brought back: the backup's :class:`BackupInfo`, where the database
    that was replaced went, and the codes of the customers erased again (erased in the
    replaced database after the backup was taken)."""

    safety_copy: Path | None = None
    erased_again: tuple[str, ...] = ()


def _database_path(engine: Engine) -> Path:
    if not is_sqlite(engine) or not engine.url.database or engine.url.database == ":memory:":
        raise InvalidState(
            "backups here are for the embedded SQLite database; for PostgreSQL use pg_dump and "
            "pg_restore"
        )
    return Path(engine.url.database)


def default_backup_path(engine: Engine, now: datetime | None = None) -> Path:
    """``backups/<name>-YYYYmmdd-HHMMSS.db`` next to the database."""
    db = _database_path(engine)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return db.parent / "backups" / f"{db.stem}-{stamp}.db"


def _private_folders(folder: Path) -> None:
    """Make ``folder`` and any missing folder above it, each readable by its owner only (a
    plain ``mkdir -p`` left the ones above readable by everyone)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        each.mkdir(mode=0o700, exist_ok=True)  # (made meanwhile by another process: kept)


def _private(path: Path) -> None:
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


def inspect(path: Path) -> BackupInfo:
    """What a backup file holds; refuses a file that is not a sound Frontdesk database."""
    if not path.is_file():
        raise ValidationFailed("file", f"no file at {path}")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            customers = conn.execute("SELECT COUNT(*) FROM customer").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        raise ValidationFailed("file", f"{path} is not a Frontdesk database") from None
    if check != "ok":
        raise ValidationFailed("file", f"{path} is damaged: {check}")
    if revision is None:
        raise ValidationFailed("file", f"{path} is not a Frontdesk database")
    return BackupInfo(path, path.stat().st_size, int(customers), str(revision[0]))


def backup(engine: Engine, target: Path, *, actor: Staff | None) -> BackupInfo:
    """Copy the live database to ``target`` (which must not exist yet). Admins only.

    Recorded in the audit log once the copy is complete ("Backup made by ...: NAME")."""
    require(actor, "backup")
    with Session(engine) as session:
        # Never one of the database's own files: a backup written over its rollback journal
        # was reported made, then deleted by SQLite as a stale journal.
        refuse_database_file(session=session, path=target)
    info = _copy(engine, target)
    with Session(engine) as session:
        audit.record(
            session=session,
            actor=actor,
            entity=AUDIT_ENTITY,
            entity_id=0,
            action="backup",
            changes={"file": (None, info.path.name), "customers": (None, info.customers)},
        )
        session.commit()
    return info


def _copy(engine: Engine, target: Path, *, check_copy: bool = True) -> BackupInfo:
    """A consistent copy of the live database at ``target`` (private), integrity-checked
    unless ``check_copy`` is False (the safety copy of a restore, taken while every other
    desk's saves wait: a full check of a large file outlasted their wait)."""
    _database_path(engine)
    if target.exists():
        raise ValidationFailed("file", f"{target} exists already; choose another name")
    _private_folders(target.parent)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    os.close(fd)
    try:
        copy = sqlite3.connect(partial)
        try:
            with engine.connect() as conn:
                source = conn.connection.dbapi_connection
                assert isinstance(source, sqlite3.Connection)
                source.backup(copy)
                conn.rollback()
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            check = copy.execute("PRAGMA integrity_check").fetchone()[0] if check_copy else "ok"
        finally:
            copy.close()
        if check != "ok":
            raise InvalidState(f"the copy failed its integrity check: {check}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _private(target)
    return inspect(target)


def _records(conn: sqlite3.Connection | None, sql: str) -> dict[int, tuple[str, str]]:
    if conn is None:
        return {}
    return {int(row[0]): (str(row[1]), str(row[2])) for row in conn.execute(sql)}


_ERASED = "SELECT id, code, created_at FROM customer WHERE erased_at IS NOT NULL"
_UNERASED = "SELECT id, code, created_at FROM customer WHERE erased_at IS NULL"


def _erased_now(engine: Engine) -> dict[int, tuple[str, str]]:
    """The live database's erased customers: id -> (code, created_at as stored)."""
    with read_engine(engine).connect() as conn:
        rows = {int(r[0]): (str(r[1]), str(r[2])) for r in conn.exec_driver_sql(_ERASED).fetchall()}
        conn.rollback()
    return rows


def _to_erase_again(erased: dict[int, tuple[str, str]], conn: sqlite3.Connection) -> list[str]:
    """Codes of the records in ``conn``'s database that are erased in ``erased`` (the live
    database) and not in it: the same id, code and creation time, so the same record."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(customer)")}
    sql = _UNERASED if "erased_at" in columns else _UNERASED.split(" WHERE ")[0]
    unerased = _records(conn, sql)
    return [
        code for cid, (code, made) in sorted(erased.items()) if unerased.get(cid) == (code, made)
    ]


def erased_since(engine: Engine, source: Path) -> list[str]:
    """Codes of the customers erased in the live database that the backup at ``source`` still
    holds (taken before their erasure): :func:`restore` erases them again."""
    _database_path(engine)
    erased = _erased_now(engine)
    if not erased:
        return []
    conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        return _to_erase_again(erased, conn)
    except sqlite3.DatabaseError:
        raise ValidationFailed("file", f"{source} is not a Frontdesk database") from None
    finally:
        conn.close()


def _stand_in(actor: Staff | None, session: Session) -> Staff | None:
    """The actor as the restored database knows them: the same id only when that staff row
    is the same person (a backup may predate them or give the id to someone else)."""
    if actor is None:
        return None
    same = session.get(Staff, actor.id) if actor.id is not None else None
    return Staff(
        id=actor.id if same is not None and same.name == actor.name else None,
        name=actor.name,
        role=actor.role,
    )


def _staging_path(db: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{db.name}.restoring-", suffix=".db", dir=db.parent)
    os.close(fd)  # mkstemp: readable by its owner only
    return Path(name)


def _remove_staging(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal", "-writers"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _prepare(
    staged: Engine, erased: dict[int, tuple[str, str]], done: list[str], actor: Staff | None
) -> None:
    """Erase again, in the staging copy, the customers erased in the live database that it
    holds unerased (those not in ``done`` yet, which it extends).

    A record the backup has merged into another customer is erased with that customer (the
    same person, as erasure always goes); when that customer is not erased in the live
    database (a backup from another line of history), nothing is guessed: InvalidState."""
    from frontdesk.data.customers import get_by_code
    from frontdesk.data.privacy import erase_customer

    with staged.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        conn.rollback()
        codes = [c for c in _to_erase_again(erased, raw) if c not in done]
    if not codes:
        return
    with Session(staged) as session:
        who = _stand_in(actor, session)
    for code in codes:
        with Session(staged) as session:
            person = get_by_code(session=session, code=code)  # merges followed
            if person.erased_at is not None:  # erased with a record merged into them
                done.append(code)  # (counted as the preview counts it: erased again)
                continue
            if person.code != code and person.id not in erased:
                raise InvalidState(
                    f"{code} is erased here, but the backup has it merged into {person.code}, "
                    "who is not: erasing it again there would erase them too. Nothing restored"
                )
        erase_customer(engine=staged, code=code, actor=who)
        done.append(code)


def restore(engine: Engine, source: Path, safety_copy: Path, *, actor: Staff | None) -> RestoreInfo:
    """Replace the live database with the backup at ``source``. Admins only.

    The current database is saved to ``safety_copy`` first. Customers erased in the current
    database since the backup was taken are erased again (see the module's docstring), and
    the restore is recorded in the restored database's audit log. Returns what was restored.
    """
    require(actor, "restore")
    db = _database_path(engine)
    info = inspect(source)
    if source.resolve() == db.resolve():
        raise ValidationFailed("file", "that is the database itself")
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    known = {s.revision for s in scripts.walk_revisions()}
    if info.revision not in known:
        raise ValidationFailed(
            "file",
            f"{source} was made by a newer Frontdesk (schema {info.revision}; this one knows up "
            f"to {HEAD_REVISION}): upgrade Frontdesk first",
        )
    staging = _staging_path(db)
    erased_again: list[str] = []
    try:
        incoming = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            target = sqlite3.connect(staging)
            try:
                incoming.backup(target)
            finally:
                target.close()
        except sqlite3.Error as exc:
            raise InvalidState(f"could not read {source}: {exc}") from None
        finally:
            incoming.close()
        staged = create_bare_engine(staging)
        try:
            migrate(staged)
            _prepare(staged, _erased_now(engine), erased_again, actor)  # the slow part
            with engine.connect() as conn:
                live = conn.connection.dbapi_connection
                assert isinstance(live, sqlite3.Connection)
                conn.rollback()
                # From the safety copy to the swap, the writer's turn is held: another desk's
                # save (an erasure, a new customer) waits, instead of landing in neither the
                # safety copy nor the restored database, or being undone by the swap.
                take_turn = getattr(live, "take_turn", None)
                if take_turn is not None:
                    take_turn()
                try:
                    _swap(engine, staged, live, source, safety_copy, info, erased_again, actor)
                finally:
                    end_turn = getattr(live, "end_turn", None)
                    if end_turn is not None:
                        end_turn()
        finally:
            staged.dispose()
    finally:
        _remove_staging(staging)
    migrate(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        conn.rollback()
    _private(db)
    return RestoreInfo(
        info.path,
        info.size,
        info.customers,
        info.revision,
        safety_copy=safety_copy,
        erased_again=tuple(erased_again),
    )


def _swap(
    engine: Engine,
    staged: Engine,
    live: sqlite3.Connection,
    source: Path,
    safety_copy: Path,
    info: BackupInfo,
    erased_again: list[str],
    actor: Staff | None,
) -> None:
    """With the writer's turn held: the safety copy, the erasures made meanwhile, the
    restore's audit event, then the staging copy into the live database (``live``). A
    failure before the swap removes the safety copy (nothing was replaced)."""
    _copy(engine, safety_copy, check_copy=False)
    swapping = False
    try:
        # Erased by another desk while the first pass ran: erased in the incoming copy too.
        _prepare(staged, _erased_now(engine), erased_again, actor)
        with Session(staged) as session:
            audit.record(
                session=session,
                actor=_stand_in(actor, session),
                entity=AUDIT_ENTITY,
                entity_id=0,
                action="restore_backup",
                changes={
                    "file": (None, source.name),
                    "safety_copy": (None, safety_copy.name),
                    "customers": (None, info.customers),
                    "erased_again": (None, len(erased_again)),
                },
            )
            session.commit()
        with staged.connect() as out:
            copy = out.connection.dbapi_connection
            assert isinstance(copy, sqlite3.Connection)
            out.rollback()
            swapping = True
            copy.backup(live)
    except sqlite3.Error as exc:
        if not swapping:
            safety_copy.unlink(missing_ok=True)
        raise InvalidState(f"could not restore: {exc}") from None
    except BaseException:
        if not swapping:
            safety_copy.unlink(missing_ok=True)
        raise

"""Backups of the embedded SQLite database: consistent copies taken while the desk works,
and restoring one.

A backup uses SQLite's online backup API, so it is a consistent snapshot even while other
terminals write; it is checked (``PRAGMA integrity_check``) before it gets its final name and
is private (0600). Restoring first saves the current database next to it, then copies the
backup in through the same API (other connections see the old or the new database, never a
mix), then migrates it to this version's schema if it was made by an older one.

PostgreSQL has its own tools (``pg_dump``/``pg_restore``); these functions say so.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from frontdesk.data.db import HEAD_REVISION, alembic_config, is_sqlite, migrate
from frontdesk.data.errors import InvalidState, ValidationFailed
from frontdesk.data.models import Staff
from frontdesk.data.roles import require


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size: int
    customers: int
    revision: str


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
    """Copy the live database to ``target`` (which must not exist yet). Admins only."""
    require(actor, "backup")
    return _copy(engine, target)


def _copy(engine: Engine, target: Path) -> BackupInfo:
    _database_path(engine)
    if target.exists():
        raise ValidationFailed("file", f"{target} exists already; choose another name")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
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
            check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            copy.close()
        if check != "ok":
            raise InvalidState(f"the copy failed its integrity check: {check}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _private(target)
    return inspect(target)


def restore(engine: Engine, source: Path, safety_copy: Path, *, actor: Staff | None) -> BackupInfo:
    """Replace the live database with the backup at ``source``. Admins only.

    The current database is saved to ``safety_copy`` first. Returns what was restored.
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
    _copy(engine, safety_copy)
    incoming = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        with engine.connect() as conn:
            live = conn.connection.dbapi_connection
            assert isinstance(live, sqlite3.Connection)
            conn.rollback()
            incoming.backup(live)
    except sqlite3.Error as exc:
        raise InvalidState(f"could not restore: {exc}") from None
    finally:
        incoming.close()
    migrate(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        conn.rollback()
    _private(db)
    return info

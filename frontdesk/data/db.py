"""Opening databases: engine factory, SQLite pragmas, private files, migrations at start.

``open_database(path_or_url)`` is the one way every part of Frontdesk (CLI, app, scripts,
tests) gets an engine. Sessions are ordinary ``sqlmodel.Session(engine)``.

SQLite connections run in WAL mode with foreign keys on, a 10 s busy timeout and
``synchronous=NORMAL`` (in WAL mode this never corrupts the database; a power cut may lose the
last transactions, which is the trade SQLite recommends for WAL). Every transaction begins
``IMMEDIATE`` so that read-then-write sequences from several processes queue on the write
lock instead of failing with "database is locked" when they upgrade. Read-only work can use
:func:`read_engine`, whose transactions begin DEFERRED and never wait for writers.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlmodel import Session

from frontdesk import config
from frontdesk.data.errors import DatabaseBusy, FrontdeskError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest migration; tests check it against the migrations directory.
HEAD_REVISION = "0013"
# The one-row table of the live customers' number (SQLite; migration 0013).
TALLY = "customer_tally"
TALLY_MIGRATION = "0013_customer_tally.py"
BUSY_TIMEOUT_MS = 10_000
# Schema objects made by raw SQL in migrations, not by the models (search index).
UNMODELLED_INDEXES = frozenset({"ix_customer_search_trgm"})


def migration_module(filename: str) -> Any:
    """A migration's module, for its statements (the back-fills and triggers that the demo's
    load and ``frontdesk check --repair`` run again)."""
    import importlib.util

    path = Path(__file__).parent / "migrations" / "versions" / filename
    spec = importlib.util.spec_from_file_location(f"frontdesk_{Path(filename).stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic filter: leave the FTS virtual table, the live-customer tally (SQLite tables the
    migrations keep by triggers) and the trigram index out of comparisons."""
    if type_ == "table" and name and (name.startswith("customer_fts") or name == TALLY):
        return False
    return not (type_ == "index" and name in UNMODELLED_INDEXES)


def _is_url(target: str) -> bool:
    return "://" in target


def database_url(path_or_url: str | os.PathLike[str] | None = None) -> str:
    target = config.resolve_database(str(path_or_url) if path_or_url else None)
    if _is_url(target):
        return target
    return f"sqlite:///{Path(target).expanduser().resolve()}"


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def _private_file(path: Path) -> None:
    """Create ``path`` (and its directory) readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


def secure_sqlite_files(path: Path) -> None:
    """Make the database and its WAL/SHM companions private (mode 0600)."""
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        if candidate.exists():
            os.chmod(candidate, stat.S_IRUSR | stat.S_IWUSR)


class FairConnection(sqlite3.Connection):
    """A SQLite connection whose write transactions take turns fairly across processes.

    SQLite makes a writer that finds the file locked sleep and retry (1, 2, 5 ... 100 ms): a
    writer that has waited long sleeps long while newcomers slip in, so with eight desks
    writing at once the slowest write took seconds. Here a writer first takes a turn on a
    small lock file next to the database (``NAME-writers``, private), waiting in the kernel
    (woken as soon as it is free; given up after the busy timeout), and only then begins
    ``IMMEDIATE``; the turn ends with the commit or the rollback. Readers never take a turn.
    """

    writers: Path | None = None
    _file: int | None = None  # the lock file, open as long as the connection
    _turn: int | None = None

    def take_turn(self) -> None:
        if self.writers is None or self._turn is not None:
            return
        if self._file is None:
            self._file = os.open(self.writers, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._turn = self._file
            return
        except BlockingIOError:
            pass
        # Taken: wait in the kernel (woken the moment it is free, no sleeping back-off), in a
        # helper thread so that the wait can end after the busy timeout like SQLite's own, on
        # the file opened again for the wait (an abandoned wait hands its turn back by itself).
        fd = os.open(self.writers, os.O_CREAT | os.O_RDWR, 0o600)
        got = threading.Event()
        guard = threading.Lock()
        abandoned = False

        def wait() -> None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with guard:
                if abandoned:  # gave up meanwhile: hand the turn straight back
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)
                    return
                got.set()

        threading.Thread(target=wait, name="frontdesk-writer-turn", daemon=True).start()
        if not got.wait(BUSY_TIMEOUT_MS / 1000):
            with guard:
                if not got.is_set():
                    abandoned = True
                    raise DatabaseBusy(BUSY_TIMEOUT_MS / 1000)
        self._turn = fd

    def end_turn(self) -> None:
        fd, self._turn = self._turn, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                if fd != self._file:
                    os.close(fd)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.end_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.end_turn()
            lock_file, self._file = self._file, None
            if lock_file is not None:
                os.close(lock_file)


def _install_sqlite_events(engine: Engine, writers: Path | None = None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy (not pysqlite) decide when transactions begin.
        dbapi_connection.isolation_level = None
        if isinstance(dbapi_connection, FairConnection):
            dbapi_connection.writers = writers
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-32000")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        dbapi = conn.connection.dbapi_connection
        fair = mode == "IMMEDIATE" and isinstance(dbapi, FairConnection)
        if fair:
            dbapi.take_turn()  # type: ignore[union-attr]
        try:
            conn.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            if fair:
                dbapi.end_turn()  # type: ignore[union-attr]
            raise


def create_bare_engine(path_or_url: str | os.PathLike[str] | None = None) -> Engine:
    """An engine with Frontdesk's connection settings, without running migrations."""
    url = make_url(database_url(path_or_url))
    if url.get_backend_name() == "sqlite":
        db_path = url.database
        writers = None
        if db_path and db_path != ":memory:":
            _private_file(Path(db_path))
            writers = Path(f"{db_path}-writers")
            _private_file(writers)
        engine = create_engine(
            url,
            connect_args={
                "timeout": BUSY_TIMEOUT_MS / 1000,
                "check_same_thread": False,
                "factory": FairConnection,
            },
        )
        _install_sqlite_events(engine, writers)
        return engine
    return create_engine(url, pool_pre_ping=True)


def open_database(
    path_or_url: str | os.PathLike[str] | None = None,
    *,
    on_upgrade: Callable[[str, str], None] | None = None,
) -> Engine:
    """Return a ready engine: connection settings applied and the schema migrated to head.

    ``on_upgrade(from_revision, to_revision)`` is called before an existing database is
    upgraded (a big one can take minutes: the caller says so), not for a new one."""
    engine = create_bare_engine(path_or_url)
    migrate(engine, on_upgrade=on_upgrade)
    if is_sqlite(engine) and engine.url.database and engine.url.database != ":memory:":
        secure_sqlite_files(Path(engine.url.database))
    return engine


def read_engine(engine: Engine) -> Engine:
    """A view of ``engine`` whose SQLite transactions begin DEFERRED (for read-only work)."""
    return engine.execution_options(sqlite_begin="DEFERRED")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        except Exception:
            conn.rollback()
            return None
        conn.rollback()
    return row[0] if row else None


def alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


class NewerDatabase(FrontdeskError):
    """The database was made or upgraded by a newer Frontdesk: it is left as it is."""


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def migrate(
    engine: Engine,
    revision: str = "head",
    *,
    on_upgrade: Callable[[str, str], None] | None = None,
) -> None:
    """Bring the schema to ``revision`` (default head). Cheap when it is already there."""
    if revision == "head":
        current = current_revision(read_engine(engine))
        if current == HEAD_REVISION:
            return
        if current is not None and not _known_revision(current):
            raise NewerDatabase(
                f"the database's schema ({current}) is newer than this Frontdesk knows "
                f"({HEAD_REVISION}): it was made or upgraded by a newer version; run that "
                "version, or install it here"
            )
        if current is not None and on_upgrade is not None:
            on_upgrade(current, HEAD_REVISION)
    from alembic import command

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # One migrator at a time across processes.
            conn.execute(text("SELECT pg_advisory_xact_lock(727274)"))
        if revision == "base":
            command.downgrade(alembic_config(conn), revision)
        else:
            command.upgrade(alembic_config(conn), revision)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

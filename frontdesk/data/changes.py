"""A cheap check whether another desk changed the database (for live refresh).

SQLite: ``PRAGMA data_version`` on one long-lived connection in autocommit mode: its value
changes when any other connection commits (several SSH sessions on one file). It never
opens a transaction, so an idle app holds no read snapshot and the WAL can checkpoint.

PostgreSQL: ``pg_current_wal_lsn()``: it moves whenever anything is written. It can move for
writes to other databases on the same server too; that only costs a refresh.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine

from frontdesk.data.db import is_sqlite


class ChangeWatch:
    """``changed()`` is True when the database changed since the previous call."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Any = None
        self._last: object = None
        self._lock = threading.Lock()
        self._closed = False

    def _query(self) -> str:
        return "PRAGMA data_version" if is_sqlite(self.engine) else "SELECT pg_current_wal_lsn()"

    def _read(self) -> object:
        if self._connection is None:
            # A raw DB-API connection: no SQLAlchemy transaction is begun around the query.
            self._connection = self.engine.raw_connection()
            if not is_sqlite(self.engine):
                self._connection.driver_connection.autocommit = True
        cursor = self._connection.cursor()
        try:
            cursor.execute(self._query())
            row = cursor.fetchone()
        finally:
            cursor.close()
        return row[0] if row else None

    def changed(self) -> bool:
        with self._lock:
            if self._closed:
                return False
            try:
                value = self._read()
            except Exception:
                self._drop()  # the server went away: start over next time, say nothing now
                return False
            first = self._last is None
            moved = value != self._last
            self._last = value
            return moved and not first

    def close(self) -> None:
        """For good: waits for a check in flight on another thread (closing a SQLite
        connection while another thread uses it crashes the process)."""
        with self._lock:
            self._closed = True
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                pass
            self._connection = None

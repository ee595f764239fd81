"""Write transactions that survive a busy moment: retried when the database broke a lock cycle
(PostgreSQL "deadlock detected") or refused a serialization, then refused plainly.

Nothing is wrong with the work itself in those cases: the database chose this transaction
to give way to another desk's. Trying the whole transaction again (new reads, new locks) is
what the database asks for; after a few tries the desk gets one clear sentence instead of a
traceback.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from frontdesk.data.errors import FrontdeskError

T = TypeVar("T")

ATTEMPTS = 4
CONFLICT_CODES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure


class Contended(FrontdeskError):
    """Another desk kept changing the same records; nothing was saved."""

    def __init__(self) -> None:
        super().__init__(
            "Another desk was changing the same records at the same moment; nothing was "
            "saved — try again"
        )


def is_conflict(exc: BaseException) -> bool:
    """A deadlock or serialization failure (the transaction may simply be tried again)."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code in CONFLICT_CODES


def write_transaction(
    engine: Engine, work: Callable[[Session], T], *, attempts: int = ATTEMPTS
) -> T:
    """Run ``work`` in one write transaction and commit; try again on a conflict."""
    for attempt in range(attempts):
        try:
            with Session(engine, expire_on_commit=False) as session:
                result = work(session)
                session.commit()
                return result
        except DBAPIError as exc:
            if not is_conflict(exc):
                raise
            if attempt == attempts - 1:
                raise Contended() from exc
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover

"""The live-refresh change check, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from frontdesk.data.changes import ChangeWatch
from frontdesk.data.settings import set_setting


def test_a_commit_elsewhere_is_seen_once(any_engine: Engine) -> None:
    watch = ChangeWatch(any_engine)
    try:
        assert watch.changed() is False  # the first look only takes a reading
        assert watch.changed() is False
        with Session(any_engine) as s:
            set_setting(session=s, key="business_name", value="Elsewhere")
            s.commit()
        assert watch.changed() is True
        assert watch.changed() is False
    finally:
        watch.close()

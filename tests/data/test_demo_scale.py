"""The demo's duplicate planting reads one customer in 500, never the whole table (issue 12:
at a million customers loading every customer took most of the time and gigabytes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event
from sqlmodel import Session, func, select

from frontdesk.data import demo
from frontdesk.data.db import open_database
from frontdesk.data.models import Customer


def test_planting_duplicates_loads_only_the_customers_it_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = open_database(tmp_path / "demo.db")
    monkeypatch.setattr(demo, "PLANT_DUPLICATES_FROM", 10**9)  # planted below, counted
    demo.generate(engine=engine, customers=3000, seed=2)
    with Session(engine) as s:
        before = s.exec(select(func.count()).select_from(Customer)).one()
    loaded = 0

    def count(target: object, _context: object) -> None:
        nonlocal loaded
        if isinstance(target, Customer):
            loaded += 1

    event.listen(Customer, "load", count)
    try:
        planted = demo._plant_duplicates(engine, 3000, 2)
    finally:
        event.remove(Customer, "load", count)
    assert planted == 3000 // 500
    assert loaded <= 3000 // 500 + 5  # the originals it copies, not 3,000 customers
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Customer)).one() == before + planted

"""The deleted customers that can still be restored (the "Deleted customers" screen's list):
not the live ones, not the erased ones, not the merged-away ones; most recently deleted first,
with who deleted them; filtered by name, code, phone or email; only for the roles that delete."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from frontdesk.data import customers as svc
from frontdesk.data import delete_flow as flow
from frontdesk.data.merge import merge_customers
from frontdesk.data.models import Customer
from frontdesk.data.privacy import erase_customer
from frontdesk.data.roles import NotAllowed
from tests.actors import ADMIN, DESK, THERAPIST


def _add(s: Session, first: str, last: str, **extra: Any) -> Customer:
    return svc.create_customer(
        session=s, data=svc.CustomerCreate(first_name=first, last_name=last, **extra), actor=ADMIN
    )


def _delete(engine: Engine, customer_id: int, actor: Any = DESK) -> None:
    with Session(engine) as s:
        flow.delete_customers(session=s, customer_ids=[customer_id], actor=actor)
        s.commit()


@pytest.fixture
def people(any_engine: Engine) -> dict[str, Customer]:
    """Live Lena; deleted Aaron (first), Bea, Carl (last); erased Erin; Max merged into Lena."""
    with Session(any_engine, expire_on_commit=False) as s:
        people = {
            "lena": _add(s, "Lena", "Live", email="lena@example.com"),
            "aaron": _add(s, "Aaron", "Smith", email="aaron@example.com", phone="+31612345678"),
            "bea": _add(s, "Bea", "Jones", email="bea@example.org"),
            "carl": _add(s, "Carl", "Smith", email="carl@example.net"),
            "erin": _add(s, "Erin", "Erased", email="erin@example.com"),
            "max": _add(s, "Max", "Merged", email="max@example.com"),
        }
        s.commit()
    _delete(any_engine, people["aaron"].id or 0)
    _delete(any_engine, people["bea"].id or 0, actor=ADMIN)
    _delete(any_engine, people["carl"].id or 0)
    erase_customer(engine=any_engine, code=people["erin"].code, actor=ADMIN)
    with Session(any_engine) as s:
        merge_customers(
            session=s,
            survivor_id=people["lena"].id or 0,
            other_ids=[people["max"].id or 0],
            actor=ADMIN,
        )
        s.commit()
    return people


def _names(engine: Engine, text: str = "", actor: Any = DESK, limit: int = 200) -> list[str]:
    with Session(engine) as s:
        listed = flow.list_deleted(session=s, actor=actor, text=text, limit=limit)
    return [row.name for row in listed.rows]


def test_lists_only_restorable_deleted_customers_newest_first(
    any_engine: Engine, people: dict[str, Customer]
) -> None:
    with Session(any_engine) as s:
        listed = flow.list_deleted(session=s, actor=DESK)
    assert [r.name for r in listed.rows] == ["Carl Smith", "Bea Jones", "Aaron Smith"]
    assert listed.total == 3 and listed.more == 0
    carl, bea, aaron = listed.rows
    assert aaron.code == people["aaron"].code
    assert aaron.phone == "+31612345678" and aaron.email == "aaron@example.com"
    assert (aaron.deleted_by, bea.deleted_by) == ("Test desk", "Test admin")
    assert carl.deleted_at >= bea.deleted_at >= aaron.deleted_at
    assert carl.deleted_at.tzinfo is not None


def test_a_restored_then_deleted_again_customer_moves_to_the_top(
    any_engine: Engine, people: dict[str, Customer]
) -> None:
    aaron = people["aaron"].id or 0
    with Session(any_engine) as s:
        flow.restore_customers(session=s, customer_ids=[aaron], actor=DESK)
        s.commit()
    assert _names(any_engine) == ["Carl Smith", "Bea Jones"]
    _delete(any_engine, aaron, actor=ADMIN)
    with Session(any_engine) as s:
        first = flow.list_deleted(session=s, actor=DESK).rows[0]
    assert (first.name, first.deleted_by) == ("Aaron Smith", "Test admin")


def test_filters_by_name_code_phone_and_email(
    any_engine: Engine, people: dict[str, Customer]
) -> None:
    assert _names(any_engine, "smi") == ["Carl Smith", "Aaron Smith"]
    assert _names(any_engine, "  BEA ") == ["Bea Jones"]
    assert _names(any_engine, people["bea"].code) == ["Bea Jones"]
    assert _names(any_engine, people["bea"].code.lower().replace("-", "")[-4:]) == ["Bea Jones"]
    assert _names(any_engine, "+31 6 1234") == ["Aaron Smith"]
    assert _names(any_engine, "example.org") == ["Bea Jones"]
    assert _names(any_engine, "AARON@EXAMPLE") == ["Aaron Smith"]
    # Erased and merged-away customers are not found by their old details either.
    assert _names(any_engine, "erin") == [] and _names(any_engine, "max@example") == []
    assert _names(any_engine, "lena") == []
    assert _names(any_engine, "100%_") == []  # wildcards are literal


def test_caps_the_rows_and_says_how_many_more(
    any_engine: Engine, people: dict[str, Customer]
) -> None:
    with Session(any_engine) as s:
        listed = flow.list_deleted(session=s, actor=ADMIN, limit=2)
    assert [r.name for r in listed.rows] == ["Carl Smith", "Bea Jones"]
    assert listed.total == 3 and listed.more == 1


def test_a_therapist_may_not_list_deleted_customers(
    any_engine: Engine, people: dict[str, Customer]
) -> None:
    with Session(any_engine) as s, pytest.raises(NotAllowed):
        flow.list_deleted(session=s, actor=THERAPIST)
    with Session(any_engine) as s, pytest.raises(NotAllowed):
        flow.list_deleted(session=s, actor=None)

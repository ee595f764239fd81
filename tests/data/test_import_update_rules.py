"""What an import's update or overwrite of an existing customer may change: a block stays
(lifted at the desk only), another customer's second phone or email is not given away, a new
customer never takes a phone or email some live customer has as a second one, and a dry run
counts what the import then does."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from frontdesk.data import contacts
from frontdesk.data import customers as svc
from frontdesk.data.errors import DuplicateCustomer
from frontdesk.data.importing import ImportOptions, run_import
from tests.actors import ADMIN

HEAD = "First name,Last name,Mobile,Email,Blocked,City\n"


def add(engine: Engine, **values: object) -> int:
    with Session(engine) as s:
        c = svc.create_customer(session=s, actor=ADMIN, data=svc.CustomerCreate(**values))  # type: ignore[arg-type]
        s.commit()
        return c.id or 0


def test_an_overwrite_keeps_a_block_and_its_dry_run_says_what_it_will_do(
    any_engine: Engine, tmp_path: Path
) -> None:
    james = add(any_engine, first_name="James", last_name="Miller", phone="+14152754087")
    with Session(any_engine) as s:
        svc.block_customer(session=s, customer_id=james, reason="Repeated no-shows", actor=ADMIN)
        s.commit()
    path = tmp_path / "vip.csv"
    path.write_text(HEAD + "James,Miller,+1 415-275-4087,new@example.com,no,Leiden\n")
    options = ImportOptions(on_duplicate="overwrite", dry_run=True)
    preview = run_import(engine=any_engine, path=path, options=options, actor=ADMIN)
    done = run_import(
        engine=any_engine, path=path, options=ImportOptions(on_duplicate="overwrite"), actor=ADMIN
    )
    assert (preview.updated, preview.skipped) == (done.updated, done.skipped) == (1, 0)
    with Session(any_engine) as s:
        c = svc.get_customer(session=s, customer_id=james)
        assert (c.blocked, c.blocked_reason) == (True, "Repeated no-shows")
        assert (c.city, c.email) == ("Leiden", "new@example.com")
    assert [(w.field, w.reason) for w in done.warned] == [
        ("blocked", "still blocked: a block is lifted at the desk")
    ]


def test_another_customers_second_phone_is_not_given_away(
    any_engine: Engine, tmp_path: Path
) -> None:
    maria = add(any_engine, first_name="Maria", phone="+14155552671")
    olga = add(any_engine, first_name="Olga", email="olga@example.com")
    with Session(any_engine) as s:
        contacts.add_contact_point(
            session=s, customer_id=maria, text="+1 650 555 2671", actor=ADMIN
        )
        s.commit()
    path = tmp_path / "olga.csv"
    path.write_text(HEAD + "Olga,,+1 650 555 2671,olga@example.com,,Utrecht\n")
    done = run_import(
        engine=any_engine, path=path, options=ImportOptions(on_duplicate="update"), actor=ADMIN
    )
    assert done.updated == 1
    with Session(any_engine) as s:
        o = svc.get_customer(session=s, customer_id=olga)
        assert (o.city, o.phone) == ("Utrecht", None)
    assert [(w.field, w.reason) for w in done.warned] == [
        ("phone", "left out: C-000001 Maria has this phone")
    ]
    with Session(any_engine) as s:
        # ... and a new customer with it is Maria again: refused, naming her.
        with pytest.raises(DuplicateCustomer) as refused:
            svc.create_customer(
                session=s,
                actor=ADMIN,
                data=svc.CustomerCreate(first_name="Mia", phone="+1 650 555 2671"),
            )
        assert refused.value.existing_id == maria

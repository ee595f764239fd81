"""Snapshot of the "Deleted customers" screen (``U`` in the directory): most recently deleted
first, who deleted them, a hostile name shown literally and a 100-character name cut to its
column, the list focused (render with ../shared/tools/snap2png to review)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col
from textual.pilot import Pilot

from frontdesk.data import customers as svc
from frontdesk.data import delete_flow as flow
from frontdesk.data.models import Customer
from frontdesk.data.staff import find_staff
from tests.actors import ADMIN
from tests.ui.conftest import NOW, SIZE, burst, make_app, settle

PEOPLE = [  # first name, last name, phone, email; deleted this many days before NOW
    ("[bold]Aaron", "[VIP]", "+31 6 11112222", "aaron@example.com", 1),
    (
        "Zed",
        "L" + "o" * 97 + "ng",
        "+44 7911 123456",
        "zed.with.a.very.long.address@example.com",
        3,
    ),
    ("Berta", "Gone", None, "berta@example.org", 20),
]


def test_deleted_customers(snap_compare: Any, demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        rita = find_staff(session=s, name_or_username="rita")
        alex = find_staff(session=s, name_or_username="admin")
        for i, (first, last, phone, email, days) in enumerate(PEOPLE):
            customer = svc.create_customer(
                session=s,
                data=svc.CustomerCreate(first_name=first, last_name=last, phone=phone, email=email),
                actor=ADMIN,
            )
            flow.delete_customers(
                session=s, customer_ids=[customer.id or 0], actor=rita if i else alex, now=NOW
            )
            # Fixed times: the picture does not depend on when the test runs.
            s.exec(
                update(Customer)
                .where(col(Customer.id) == customer.id)
                .values(deleted_at=NOW - timedelta(days=days))
            )
        s.commit()

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await burst(pilot, "U", "down")  # to the list: its keys in the footer
        await settle(pilot)

    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=run_before)

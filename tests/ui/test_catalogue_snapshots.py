"""Snapshots of "Branches & services" (Settings, then B): the services list with a hostile
name and a deactivated service, and the service dialog with a refusal under its field.
Render them with /work/shared/tools/snap2png and look before ``--snapshot-update``."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from frontdesk.data import catalogue, staff
from tests.actors import ADMIN
from tests.ui.conftest import SIZE, make_app
from tests.ui.test_snapshots import press, steps

HOSTILE = "[bold]Cut[/]"


@pytest.fixture
def shop(empty_engine: Engine) -> Engine:
    with Session(empty_engine) as s:
        staff.create_staff(session=s, name="admin", username="admin", role="admin")  # no toast
        catalogue.add_branch(
            session=s, name="Main", address="1 High St", phone="+44 20 7946 0000", actor=ADMIN
        )
        north = catalogue.add_branch(session=s, name="North", address="9 Dock Rd", actor=ADMIN)
        catalogue.set_branch_active(session=s, branch_id=north.id or 0, active=False, actor=ADMIN)
        for type_name, name, minutes, price in [
            ("Hair", "Women's cut", "45", "45.00"),
            ("Hair", HOSTILE, "30", "20"),
            ("Nails", "Manicure", "30", "25.50"),
            ("Massage", "Deep tissue", "90", "1,080.00"),
        ]:
            catalogue.add_service(
                session=s,
                type_name=type_name,
                name=name,
                duration_minutes=minutes,
                price=price,
                actor=ADMIN,
            )
        hostile = catalogue.find_service(session=s, text=HOSTILE)
        catalogue.set_service_active(
            session=s, service_id=hostile.id or 0, active=False, actor=ADMIN
        )
        s.commit()
    return empty_engine


def test_services_list(snap_compare: Any, shop: Engine) -> None:
    run = steps(press("S", "B", "right", "down"))
    assert snap_compare(make_app(shop, staff="admin"), terminal_size=SIZE, run_before=run)


def test_service_dialog_with_a_refusal(snap_compare: Any, shop: Engine) -> None:
    run = steps(
        press("S", "B", "right", "a", "Hair", "tab", "women's CUT", "tab", "45", "tab", "45"),
        press("ctrl+s"),
    )
    assert snap_compare(make_app(shop, staff="admin"), terminal_size=SIZE, run_before=run)

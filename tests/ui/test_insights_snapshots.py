"""Snapshot tests of issue 16 on the deterministic demo (400 customers, seed 11, NOW):
the profile's charts (as reception and as a therapist), a therapist's Rewards tab, its month figures, the business
overview and its figures. Render them with /work/shared/tools/snap2png and look."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from frontdesk.data.models import Booking
from tests.ui.conftest import SIZE, make_app
from tests.ui.test_snapshots import open_customer, press, steps

TALL = (120, 45)


def regular(engine: Engine) -> int:
    """The demo customer with the most completed visits (the lowest id of those)."""
    with Session(engine) as s:
        visits = func.count().label("n")
        row = s.exec(
            select(col(Booking.customer_id), visits)
            .where(col(Booking.status) == "completed")
            .group_by(col(Booking.customer_id))
            .order_by(visits.desc(), col(Booking.customer_id))
        ).first()
    assert row is not None
    return int(row[0])


def test_profile_charts(snap_compare: Any, demo_engine: Engine) -> None:
    run = steps(open_customer(regular(demo_engine)))
    assert snap_compare(make_app(demo_engine), terminal_size=TALL, run_before=run)


def test_profile_charts_for_a_therapist(snap_compare: Any, demo_engine: Engine) -> None:
    """The therapist who saw the regular customer most: their own visits with them (the
    line under the figures says so), no money."""
    from sqlalchemy import text
    from sqlmodel import Session

    customer_id = regular(demo_engine)
    with Session(demo_engine) as s:
        username = s.execute(
            text(
                "SELECT st.username FROM booking b JOIN staff st ON st.id = b.staff_id"
                " WHERE b.customer_id = :c AND b.status = 'completed'"
                " AND st.role = 'therapist' AND st.username IS NOT NULL"
                " GROUP BY st.id ORDER BY COUNT(*) DESC, st.id LIMIT 1"
            ),
            {"c": customer_id},
        ).scalar_one()
    run = steps(open_customer(customer_id))
    app = make_app(demo_engine, staff=username)
    assert snap_compare(app, terminal_size=TALL, run_before=run)


def test_rewards_tab_for_a_therapist(snap_compare: Any, demo_engine: Engine) -> None:
    """A therapist's ledger leaves out the points a payment earned, and says so."""
    from tests.ui.test_roles import _busy_customer, _points_earned_on_payment

    customer_id, username, _name, _theirs = _busy_customer(demo_engine)
    _points_earned_on_payment(demo_engine, customer_id)
    run = steps(open_customer(customer_id), press("4"))
    assert snap_compare(make_app(demo_engine, staff=username), terminal_size=SIZE, run_before=run)


def test_profile_month_figures(snap_compare: Any, demo_engine: Engine) -> None:
    run = steps(open_customer(regular(demo_engine)), press("m"))
    assert snap_compare(make_app(demo_engine), terminal_size=TALL, run_before=run)


def test_business_overview(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(make_app(demo_engine), terminal_size=TALL, run_before=steps(press("G")))


def test_business_overview_figures(snap_compare: Any, demo_engine: Engine) -> None:
    run = steps(press("G"), press("f"))
    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=run)

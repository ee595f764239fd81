"""Insight figures against hand-computed fixtures (issue 16).

The world, at NOW = 2026-11-02 12:00 UTC (default period 2025-12-01 .. 2026-11-02):

- Ann (Main): completed Cut/Nina 2026-05-04, 06-03, 08-02, 09-01 and Manicure/Omar 07-13
  (gaps 30, 40, 20, 30 days: median 30); cancelled 10-01, no-show 10-10, confirmed 11-10.
  Money: +50.00 on 2025-10-15 (an old product order), +40.00 05-04, +40.00 06-03,
  +30.00 07-13, refund -10.00 08-15.  Lifetime 150.00; last 12 months 100.00.
- Bob (Main): completed Cut/Omar 2026-10-17, +40.00 that day.
- Carl (Main): completed Cut 2025-03-10 only (lapsed).
- Dana (North): completed Manicure 2025-06-01 and 2026-02-01, +30.00 on 2026-02-01.
"""

from __future__ import annotations

import csv
import importlib
import os
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlmodel import Session, col

from frontdesk.data import customers as svc
from frontdesk.data import insights
from frontdesk.data.directory import AdvancedFilter, count_directory, matching_ids
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.merge import merge_customers
from frontdesk.data.models import (
    Booking,
    Branch,
    Order,
    Payment,
    Refund,
    Service,
    ServiceType,
    Staff,
)
from frontdesk.data.roles import NotAllowed
from frontdesk.data.settings import set_setting
from tests.actors import ADMIN, DESK, THERAPIST

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 10, 0, tzinfo=UTC)


@pytest.fixture
def w(any_session: Session) -> dict[str, int]:
    s = any_session
    main, north = Branch(name="Main"), Branch(name="North")
    hair, nails = ServiceType(name="Hair"), ServiceType(name="Nails")
    s.add_all([main, north, hair, nails])
    s.flush()
    cut = Service(service_type_id=hair.id or 0, name="Cut", duration_minutes=30, price_cents=4000)
    mani = Service(
        service_type_id=nails.id or 0, name="Manicure", duration_minutes=45, price_cents=3000
    )
    nina, omar = Staff(name="Nina", role="therapist"), Staff(name="Omar", role="therapist")
    s.add_all([cut, mani, nina, omar])
    s.flush()
    ids: dict[str, int] = {"main": main.id or 0, "north": north.id or 0}

    def person(name: str, branch: Branch, created: datetime) -> int:
        c = svc.create_customer(
            actor=ADMIN,
            session=s,
            data=svc.CustomerCreate(
                first_name=name, email=f"{name.lower()}@example.com", home_branch_id=branch.id
            ),
        )
        c.created_at = created
        s.add(c)
        s.flush()
        return c.id or 0

    for name, branch, created in (
        ("Ann", main, at(2025, 1, 5)),
        ("Bob", main, at(2026, 11, 1)),
        ("Carl", main, at(2024, 6, 1)),
        ("Dana", north, at(2025, 5, 1)),
    ):
        ids[name.lower()] = person(name, branch, created)

    def book(
        who: str, service: Service, when: datetime, status: str, staff: Staff, b: Branch
    ) -> int:
        bk = Booking(
            customer_id=ids[who],
            service_id=service.id or 0,
            branch_id=b.id or 0,
            staff_id=staff.id,
            start_at=when,
            end_at=when + timedelta(minutes=30),
            status=status,
            price_cents=service.price_cents,
        )
        s.add(bk)
        s.flush()
        return bk.id or 0

    def pay(who: str, cents: int, when: datetime, b: Branch) -> int:
        order = Order(customer_id=ids[who], branch_id=b.id or 0, total_cents=cents, status="paid")
        s.add(order)
        s.flush()
        s.add(Payment(order_id=order.id or 0, amount_cents=cents, at=when))
        s.flush()
        return order.id or 0

    ids["ann_may"] = book("ann", cut, at(2026, 5, 4), "completed", nina, main)
    book("ann", cut, at(2026, 6, 3), "completed", nina, main)
    ids["ann_jul"] = book("ann", mani, at(2026, 7, 13), "completed", omar, main)
    ids["ann_aug"] = book("ann", cut, at(2026, 8, 2), "completed", nina, main)
    ids["ann_sep"] = book("ann", cut, at(2026, 9, 1), "completed", nina, main)
    book("ann", cut, at(2026, 10, 1), "cancelled", nina, main)
    book("ann", cut, at(2026, 10, 10), "no_show", nina, main)
    book("ann", cut, at(2026, 11, 10), "confirmed", nina, main)
    book("bob", cut, at(2026, 10, 17), "completed", omar, main)
    book("carl", cut, at(2025, 3, 10), "completed", nina, main)
    book("dana", mani, at(2025, 6, 1), "completed", omar, north)
    book("dana", mani, at(2026, 2, 1), "completed", omar, north)
    pay("ann", 5000, at(2025, 10, 15), main)
    pay("ann", 4000, at(2026, 5, 4), main)
    pay("ann", 4000, at(2026, 6, 3), main)
    ids["ann_jul_order"] = pay("ann", 3000, at(2026, 7, 13), main)
    s.add(
        Refund(order_id=ids["ann_jul_order"], amount_cents=1000, reason="late", at=at(2026, 8, 15))
    )
    pay("bob", 4000, at(2026, 10, 17), main)
    pay("dana", 3000, at(2026, 2, 1), north)
    s.commit()
    return ids


def months(view: insights.CustomerInsight) -> dict[str, tuple[int, int | None]]:
    return {m.month: (m.visits, m.spent_cents) for m in view.months if m.visits or m.spent_cents}


# --------------------------------------------------------------------------- one customer


def test_customer_figures_by_hand(any_session: Session, w: dict[str, int]) -> None:
    view = insights.customer_insight(session=any_session, customer_id=w["ann"], actor=DESK, now=NOW)
    assert len(view.months) == 24
    assert view.months[0].month == "2024-12" and view.months[-1].month == "2026-11"
    assert months(view) == {
        "2025-10": (0, 5000),
        "2026-05": (1, 4000),
        "2026-06": (1, 4000),
        "2026-07": (1, 3000),
        "2026-08": (1, -1000),  # the refund lowers the month it was given back in
        "2026-09": (1, 0),
    }
    assert view.lifetime_value_cents == 15000
    assert view.value_12m_cents == 10000
    r = view.rhythm
    assert r.visits == 5 and r.last_visit == date(2026, 9, 1)
    assert r.usual_interval_days == 30.0
    assert r.expected_next == date(2026, 10, 1)
    assert r.days_since == 62
    assert r.status == "due"  # 62 > 30 + 14
    assert view.top_services == [("Cut", 4), ("Manicure", 1)]
    assert view.top_staff == [("Nina", 4), ("Omar", 1)]


def test_rhythm_status_follows_the_settings(any_session: Session, w: dict[str, int]) -> None:
    s = any_session
    set_setting(session=s, key="due_back_margin_days", value="40")
    s.commit()
    view = insights.customer_insight(session=s, customer_id=w["ann"], actor=DESK, now=NOW)
    assert view.rhythm.status == "on time"  # 62 <= 30 + 40
    set_setting(session=s, key="lapsed_after_days", value="62")
    s.commit()
    view = insights.customer_insight(session=s, customer_id=w["ann"], actor=DESK, now=NOW)
    assert view.rhythm.status == "lapsed"
    bob = insights.customer_insight(session=s, customer_id=w["bob"], actor=DESK, now=NOW)
    assert bob.rhythm.usual_interval_days is None and bob.rhythm.status is None  # one visit
    carl = insights.customer_insight(session=s, customer_id=w["carl"], actor=DESK, now=NOW)
    assert carl.rhythm.status == "lapsed" and carl.lifetime_value_cents == 0
    with pytest.raises(ValidationFailed):
        set_setting(session=s, key="lapsed_after_days", value="0")
    with pytest.raises(ValidationFailed):
        set_setting(session=s, key="due_back_margin_days", value="soon")


def test_median_of_an_odd_and_an_even_number_of_gaps() -> None:
    assert insights.rhythm_status(None, None, 14, 180) is None
    assert insights.rhythm_status(44, 30.0, 14, 180) == "on time"
    assert insights.rhythm_status(45, 30.0, 14, 180) == "due"
    assert insights.rhythm_status(180, 30.0, 14, 180) == "lapsed"
    assert insights.rhythm_status(200, None, 14, 180) == "lapsed"


def test_exact_after_merge_refund_cancellation_and_deletion(
    any_session: Session, w: dict[str, int]
) -> None:
    s = any_session
    merge_customers(session=s, survivor_id=w["ann"], other_ids=[w["bob"]], actor=ADMIN)
    s.commit()
    view = insights.customer_insight(session=s, customer_id=w["ann"], actor=DESK, now=NOW)
    # Bob's visit and payment are Ann's now: gaps 30, 40, 20, 30, 46 (median 30)
    assert months(view)["2026-10"] == (1, 4000)
    assert view.lifetime_value_cents == 19000 and view.value_12m_cents == 14000
    assert view.rhythm.visits == 6 and view.rhythm.days_since == 16
    assert view.rhythm.usual_interval_days == 30.0 and view.rhythm.status == "on time"
    assert view.top_staff == [("Nina", 4), ("Omar", 2)]
    # a refund of the May payment, given in October
    s.add(
        Refund(
            order_id=w["ann_jul_order"], amount_cents=500, reason="goodwill", at=at(2026, 10, 20)
        )
    )
    # the August visit cancelled, the July visit's booking deleted
    aug = s.get(Booking, w["ann_aug"])
    assert aug is not None
    aug.status = "cancelled"
    s.add(aug)
    jul = s.get(Booking, w["ann_jul"])
    s.delete(jul)
    s.commit()
    view = insights.customer_insight(session=s, customer_id=w["ann"], actor=DESK, now=NOW)
    assert months(view)["2026-10"] == (1, 3500)
    assert "2026-08" in months(view) and months(view)["2026-08"] == (0, -1000)
    assert view.lifetime_value_cents == 18500 and view.value_12m_cents == 13500
    # visits 05-04, 06-03, 09-01, 10-17: gaps 30, 90, 46 -> median 46
    assert view.rhythm.visits == 4 and view.rhythm.usual_interval_days == 46.0
    assert view.rhythm.expected_next == date(2026, 12, 2)
    assert view.top_services == [("Cut", 4)]
    # a refund after NOW does not count yet
    s.add(
        Refund(order_id=w["ann_jul_order"], amount_cents=500, reason="later", at=at(2026, 11, 20))
    )
    s.commit()
    later = insights.customer_insight(session=s, customer_id=w["ann"], actor=DESK, now=NOW)
    assert later.lifetime_value_cents == 18500


def test_a_median_between_two_gaps(any_session: Session, w: dict[str, int]) -> None:
    s = any_session
    # without the September visit: gaps 30, 40, 20 -> median 30; without June: 70, 20 -> 45
    s.delete(s.get(Booking, w["ann_sep"]))
    s.commit()
    view = insights.customer_insight(session=s, customer_id=w["ann"], actor=DESK, now=NOW)
    assert view.rhythm.usual_interval_days == 30.0
    may = s.get(Booking, w["ann_may"])
    assert may is not None
    may.start_at = at(2026, 5, 19)  # gaps 15, 40, 20 -> 20
    may.end_at = may.start_at + timedelta(minutes=30)
    s.add(may)
    s.commit()
    view = insights.customer_insight(session=s, customer_id=w["ann"], actor=DESK, now=NOW)
    assert view.rhythm.usual_interval_days == 20.0
    s.delete(s.get(Booking, w["ann_jul"]))  # gaps 15, 60 -> 37.5
    s.commit()
    view = insights.customer_insight(session=s, customer_id=w["ann"], actor=DESK, now=NOW)
    assert view.rhythm.usual_interval_days == 37.5
    assert view.rhythm.expected_next == date(2026, 8, 2) + timedelta(days=38)


def test_a_therapist_sees_no_money_and_only_their_own_visits(
    any_session: Session, w: dict[str, int]
) -> None:
    """Nina's view of Ann: her four cuts (not Omar's manicure in July), her own rhythm
    (every month or so), her next booking; no money. The desk sees all of Ann's visits."""
    s = any_session
    nina = s.exec(select(Staff).where(col(Staff.name) == "Nina")).one()[0]
    view = insights.customer_insight(session=s, customer_id=w["ann"], actor=nina, now=NOW)
    assert not view.shows_money and view.own_bookings
    assert view.lifetime_value_cents is None and view.value_12m_cents is None
    assert all(m.spent_cents is None for m in view.months)
    assert view.rhythm.status == "due" and view.top_services == [("Cut", 4)]
    assert view.top_staff == [("Nina", 4)] and view.rhythm.visits == 4
    assert sum(m.visits for m in view.months) == 4
    overview = insights.load_profile_overview(session=s, customer_id=w["ann"], actor=nina, now=NOW)
    assert overview.stats.visits == 4 and overview.stats.income_cents is None
    assert overview.stats.cancellations == 1 and overview.stats.no_shows == 1
    desk = insights.load_profile_overview(session=s, customer_id=w["ann"], actor=DESK, now=NOW)
    assert desk.stats.visits == 5 and not desk.insight.own_bookings
    assert desk.insight.top_staff == [("Nina", 4), ("Omar", 1)]
    # Omar's view of Ann: his one manicure; none of Nina's bookings, past or to come.
    omar = s.exec(select(Staff).where(col(Staff.name) == "Omar")).one()[0]
    his = insights.load_profile_overview(session=s, customer_id=w["ann"], actor=omar, now=NOW)
    assert his.stats.visits == 1 and his.stats.upcoming == 0 and his.stats.next_visit is None
    assert his.stats.cancellations == 0 and his.insight.top_services == [("Manicure", 1)]
    # The directory's panel follows the same rule: Nina's next booking with Ann; none for Omar.
    from frontdesk.data.directory import quick_overview

    panel = quick_overview(session=s, customer_id=w["ann"], now=NOW, actor=omar)
    assert panel is not None and panel.next_visit is None
    assert panel.last_visit is not None and panel.last_visit.month == 7
    panel = quick_overview(session=s, customer_id=w["ann"], now=NOW, actor=nina)
    assert panel is not None and panel.next_visit is not None
    # So does the list's "Last visit" column: Omar's last visit with Ann, not Nina's later one.
    from frontdesk.data.directory import load_directory_page

    page = load_directory_page(session=s, actor=omar, text="Ann")
    assert page.last_visits[w["ann"]].month == 7
    page = load_directory_page(session=s, actor=DESK, text="Ann")
    assert page.last_visits[w["ann"]].month == 9
    # A therapist who is no staff member of this database sees no visits at all.
    none = insights.customer_insight(session=s, customer_id=w["ann"], actor=THERAPIST, now=NOW)
    assert none.rhythm.visits == 0 and none.top_services == []


# --------------------------------------------------------------------------- directory filters


def listed(s: Session, advanced: AdvancedFilter, **basic: object) -> set[int]:
    filters = svc.DirectoryFilter(extra=advanced.conditions(NOW), now=NOW, **basic)  # type: ignore[arg-type]
    ids = set(matching_ids(session=s, text="", filters=filters))
    assert count_directory(session=s, filters=filters) == len(ids)
    return ids


def test_directory_filters(any_session: Session, w: dict[str, int]) -> None:
    s = any_session
    due = AdvancedFilter(due_back_margin=14, lapsed_for_due=180)
    assert listed(s, due) == {w["ann"]}  # Bob: one visit; Carl: lapsed; Dana: 274 <= 483+14
    assert listed(s, replace(due, due_back_margin=40)) == set()  # 62 <= 70
    assert listed(s, AdvancedFilter(lapsed_days=180)) == {w["carl"], w["dana"]}  # 604, 274 days
    assert listed(s, AdvancedFilter(lapsed_days=300)) == {w["carl"]}
    assert listed(s, AdvancedFilter(new_this_month=True)) == {w["bob"]}
    # 12-month value: Ann 100.00, Bob 40.00, Dana 30.00, Carl nothing
    assert listed(s, AdvancedFilter(top_value=2)) == {w["ann"], w["bob"]}
    assert listed(s, AdvancedFilter(top_value=10)) == {w["ann"], w["bob"], w["dana"]}
    # they combine with each other and with the basic filters
    assert listed(s, AdvancedFilter(top_value=10, lapsed_days=180)) == {w["dana"]}
    assert listed(s, AdvancedFilter(lapsed_days=180), branch_id=w["north"]) == {w["dana"]}
    assert listed(s, due, branch_id=w["north"]) == set()
    assert AdvancedFilter(due_back_margin=14).chips(
        __import__("frontdesk.data.directory", fromlist=["Lookups"]).Lookups()
    ) == [("due back (+14 days)", "due_back_margin")]
    assert AdvancedFilter(lapsed_for_due=90).is_empty
    assert AdvancedFilter(due_back_margin=3).without("due_back_margin").is_empty


def test_due_back_feeds_the_export(any_session: Session, w: dict[str, int], tmp_path: Path) -> None:
    from frontdesk.data.exporting import export_customers

    s = any_session
    filters = svc.DirectoryFilter(extra=AdvancedFilter(due_back_margin=14).conditions(NOW), now=NOW)
    out = tmp_path / "due.csv"
    assert (
        export_customers(session=s, path=out, filters=filters, text="", ids=None, actor=DESK) == 1
    )
    with out.open(encoding="utf-8-sig") as f:
        assert [r["First name"] for r in csv.DictReader(f)] == ["Ann"]


def test_lookups_carry_the_settings(any_session: Session, w: dict[str, int]) -> None:
    from frontdesk.data.directory import load_lookups

    s = any_session
    set_setting(session=s, key="due_back_margin_days", value=7)
    s.commit()
    lk = load_lookups(session=s)
    assert (lk.due_margin_days, lk.lapsed_days) == (7, 180)


# --------------------------------------------------------------------------- the business


def test_business_overview_by_hand(any_session: Session, w: dict[str, int]) -> None:
    view = insights.business_overview(session=any_session, actor=DESK, now=NOW)
    assert (view.date_from, view.date_to) == (date(2025, 12, 1), date(2026, 11, 2))
    got = {
        m.month: (m.new_customers, m.returning_customers, m.visits, m.revenue_cents)
        for m in view.months
    }
    assert len(view.months) == 12
    assert {k: v for k, v in got.items() if any(v)} == {
        "2026-02": (0, 1, 1, 3000),  # Dana's first visit was in 2025
        "2026-05": (1, 0, 1, 4000),  # Ann's first visit
        "2026-06": (0, 1, 1, 4000),
        "2026-07": (0, 1, 1, 3000),
        "2026-08": (0, 1, 1, -1000),
        "2026-09": (0, 1, 1, 0),
        "2026-10": (1, 0, 1, 4000),  # Bob
    }
    assert view.active_customers == 3
    # last year's (2024-11-03 .. 2025-11-02) visitors: Carl, Dana; back this year: Dana
    assert (view.last_year_customers, view.retained, view.retention) == (2, 1, 0.5)
    assert (view.settled_bookings, view.no_shows, view.cancellations) == (9, 1, 1)
    assert view.no_show_rate == pytest.approx(1 / 9)
    assert view.revenue_cents == 17000
    assert [(c.name, c.visits, c.value_cents) for c in view.categories] == [
        ("Hair", 5, 20000),
        ("Nails", 2, 6000),
    ]
    assert [(t.name, t.value_cents, t.visits) for t in view.top_customers] == [
        ("Ann", 10000, 5),
        ("Bob", 4000, 1),
        ("Dana", 3000, 1),
    ]


def test_business_overview_per_branch_and_period(any_session: Session, w: dict[str, int]) -> None:
    s = any_session
    north = insights.business_overview(session=s, actor=ADMIN, branch_id=w["north"], now=NOW)
    assert north.branch == "North"
    assert north.active_customers == 1 and north.revenue_cents == 3000
    assert (north.last_year_customers, north.retained) == (1, 1)
    assert [(c.name, c.visits) for c in north.categories] == [("Nails", 1)]
    assert [t.name for t in north.top_customers] == ["Dana"]
    spring = insights.business_overview(
        session=s, actor=ADMIN, date_from=date(2026, 5, 1), date_to=date(2026, 6, 30), now=NOW
    )
    assert [m.month for m in spring.months] == ["2026-05", "2026-06"]
    assert spring.revenue_cents == 8000 and spring.active_customers == 1
    assert [(m.new_customers, m.returning_customers) for m in spring.months] == [(1, 0), (0, 1)]
    with pytest.raises(ValidationFailed):
        insights.business_overview(
            session=s, actor=ADMIN, date_from=date(2026, 6, 1), date_to=date(2026, 5, 1), now=NOW
        )


def test_business_overview_after_a_merge(any_session: Session, w: dict[str, int]) -> None:
    s = any_session
    merge_customers(session=s, survivor_id=w["ann"], other_ids=[w["bob"]], actor=ADMIN)
    s.commit()
    view = insights.business_overview(session=s, actor=DESK, now=NOW)
    assert view.active_customers == 2
    october = next(m for m in view.months if m.month == "2026-10")
    assert (october.new_customers, october.returning_customers) == (0, 1)  # Ann's again
    assert (view.top_customers[0].name, view.top_customers[0].value_cents) == ("Ann", 14000)


def test_therapists_may_not_see_the_business(any_session: Session, w: dict[str, int]) -> None:
    with pytest.raises(NotAllowed):
        insights.business_overview(session=any_session, actor=THERAPIST, now=NOW)
    with pytest.raises(NotAllowed):
        insights.business_overview(session=any_session, actor=None, now=NOW)


def test_figures_export_privately_and_as_json(
    any_session: Session, w: dict[str, int], tmp_path: Path
) -> None:
    view = insights.business_overview(session=any_session, actor=DESK, now=NOW)
    out = tmp_path / "figures.csv"
    rows = insights.export_overview(view=view, path=out)
    assert os.stat(out).st_mode & 0o777 == 0o600
    with out.open(encoding="utf-8-sig") as f:
        lines = list(csv.reader(f))
    assert len(lines) == rows
    assert ["2026-05", "1", "0", "1", "40.00"] in lines
    assert ["Retention", "50.0%"] in lines
    assert ["Ann", "10", "'-10.00"] not in lines and ["2026-08", "0", "1", "1", "'-10.00"] in lines
    data = __import__("json").loads(insights.overview_json(view))
    assert data["retention"] == 0.5 and data["revenue_cents"] == 17000
    assert insights.find_branch(session=any_session, name="north") == w["north"]
    with pytest.raises(ValidationFailed):
        insights.find_branch(session=any_session, name="South")


# --------------------------------------------------------------------------- command line


def test_report_command(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner
    from sqlmodel import select

    from frontdesk.cli import main
    from frontdesk.data.db import open_database
    from frontdesk.data.demo import generate

    db = tmp_path / "report.db"
    engine = open_database(db)
    generate(engine=engine, customers=120, seed=3, now=NOW)
    with Session(engine) as s:
        branch = s.exec(select(Branch).order_by(Branch.name)).first()  # type: ignore[arg-type]
        assert branch is not None
        expected = insights.business_overview(
            session=s,
            actor=ADMIN,
            branch_id=branch.id,
            date_from=date(2026, 5, 1),
            date_to=date(2026, 10, 31),
        )
    engine.dispose()
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(main, ["--db", str(db), "report", *args], catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = run(
        "--staff", "rita", "--branch", branch.name.upper(), "--from", "2026-05-01",
        "--to", "2026-10-31", "--json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data == json.loads(insights.overview_json(expected))
    assert data["branch"] == branch.name and len(data["months"]) == 6
    code, out, _ = run("--staff", "admin", "--from", "2026-05-01", "--to", "2026-10-31")
    assert code == 0 and "Active customers" in out and "2026-10" in out
    code, _, err = run("--staff", "nina.a")
    assert code == 1 and "may not see the business overview" in err
    code, _, err = run("--staff", "admin", "--to", "2026-31-12")
    assert code == 1 and "--to: a date as YYYY-MM-DD" in err
    code, _, err = run("--staff", "admin", "--branch", "Atlantis")
    assert code == 1 and "no branch called 'Atlantis'" in err


def test_the_filters_agree_with_every_profile_on_the_demo(tmp_path: Path) -> None:
    """Each demo customer is listed by "due back" / "lapsed" exactly when their profile
    says DUE / LAPSED (the filter's per-customer median is that customer's own)."""
    from sqlmodel import select

    from frontdesk.data.db import open_database
    from frontdesk.data.demo import generate
    from frontdesk.data.models import Customer

    engine = open_database(tmp_path / "demo.db")
    generate(engine=engine, customers=150, seed=5, now=NOW)
    with Session(engine) as s:
        ids = [c.id or 0 for c in s.exec(select(Customer).where(svc.live()))]
        status = {
            cid: insights.customer_insight(
                session=s, customer_id=cid, actor=DESK, now=NOW
            ).rhythm.status
            for cid in ids
        }
        for name, advanced in (
            ("due", AdvancedFilter(due_back_margin=14, lapsed_for_due=180)),
            ("lapsed", AdvancedFilter(lapsed_days=180)),
        ):
            listed_ids = set(
                matching_ids(
                    session=s,
                    text="",
                    filters=svc.DirectoryFilter(extra=advanced.conditions(NOW), now=NOW),
                )
            )
            expected = {cid for cid, st in status.items() if st == name}
            assert listed_ids == expected, name
        assert {"due", "on time"} <= set(status.values())
    engine.dispose()


def test_the_top_by_value_are_listed_highest_first(any_session: Session, w: dict[str, int]) -> None:
    from frontdesk.data.directory import load_directory_page

    s = any_session
    dana = svc.get_customer(session=s, customer_id=w["dana"])
    svc.update_customer(  # first by name, last by value
        session=s,
        customer_id=w["dana"],
        data=svc.CustomerUpdate(first_name="Aaron"),
        expected_version=dana.version,
        actor=ADMIN,
    )
    s.commit()
    by_name = svc.DirectoryFilter(extra=AdvancedFilter(top_value=10).conditions(NOW), now=NOW)
    by_value = replace(by_name, rank_by_value=10)

    def ids(page: object) -> list[int]:
        return [c.id for c in page.rows]  # type: ignore[attr-defined]

    assert ids(load_directory_page(session=s, filters=by_name)) == [w["dana"], w["ann"], w["bob"]]
    page = load_directory_page(session=s, filters=by_value)
    assert ids(page) == [w["ann"], w["bob"], w["dana"]] and page.count == 3
    # paged by keyset in that order, from either end
    first = load_directory_page(session=s, filters=by_value, limit=1)
    second = load_directory_page(session=s, filters=by_value, after=first.keys[-1], limit=1)
    last = load_directory_page(session=s, filters=by_value, from_end=True, limit=1)
    before_last = load_directory_page(session=s, filters=by_value, before=last.keys[0], limit=1)
    assert [ids(p) for p in (first, second, before_last, last)] == [
        [w["ann"]],
        [w["bob"]],
        [w["bob"]],
        [w["dana"]],
    ]
    assert first.more_after and not first.more_before and last.more_before
    # the top two only; a search keeps its own order (best match first)
    two = replace(by_value, extra=AdvancedFilter(top_value=2).conditions(NOW), rank_by_value=2)
    assert ids(load_directory_page(session=s, filters=two)) == [w["ann"], w["bob"]]
    assert ids(load_directory_page(session=s, text="bob", filters=by_value)) == [w["bob"]]


# --------------------------------------------------------------------------- the roll-ups

ROLLUPS = {  # table: (key columns, figure columns) — rows whose figures are all 0 are left out
    "insight_day": ("day, branch_id, service_id, status, month_day", "bookings, price_cents"),
    "insight_money": ("day, branch_id, month_day", "cents"),
    "insight_visit": ("customer_id, scope, day, month_day, prev_day", ""),
    "insight_gap": ("scope, day, prev_day, month_day", "n"),
    "insight_payer": ("scope, customer_id", "paid_cents"),
    "insight_rhythm": ("customer_id, last_day, median_gap", ""),
}


def rollups(s: Session) -> dict[str, set[tuple[object, ...]]]:
    out = {}
    for table, (keys, figures) in ROLLUPS.items():
        columns = f"{keys}, {figures}" if figures else keys
        where = " OR ".join(f"{f} <> 0" for f in figures.split(", ")) if figures else "1 = 1"
        out[table] = set(
            map(tuple, s.execute(text(f"SELECT {columns} FROM {table} WHERE {where}")).all())
        )
    return out


def recounted(s: Session) -> dict[str, set[tuple[object, ...]]]:
    """The roll-ups as the migration's back-fill statements make them from the stored rows
    (in this transaction, rolled back afterwards), checked against its ``fill``."""
    migration = importlib.import_module("frontdesk.data.migrations.versions.0010_insight_rollups")
    pg = s.get_bind().dialect.name == "postgresql"
    s.commit()
    for table in ROLLUPS:
        s.execute(text(f"DELETE FROM {table}"))
    for statement in migration.backfill(pg):
        s.execute(text(statement))
    out = rollups(s)
    s.rollback()
    # The upgrade's and the demo's back-fill (on SQLite the visits, gaps and rhythm in one
    # pass, not these statements) makes the same rows.
    migration.fill(s.connection(), pg)
    assert rollups(s) == out
    s.rollback()
    return out


def test_rollups_stay_exact_through_every_kind_of_write(
    any_session: Session, w: dict[str, int]
) -> None:
    """Status changes, a reschedule to another day and branch, a service and price change, a
    deletion, a new booking, refunds, a payment taken back, an order moved to another branch
    and a merge: the triggers' roll-ups equal a recount from scratch after each step."""
    s = any_session
    assert rollups(s) == recounted(s)

    def booking(key: str) -> Booking:
        b = s.get(Booking, w[key])
        assert b is not None
        return b

    aug = booking("ann_aug")
    aug.status = "cancelled"  # a completed visit cancelled
    s.add(aug)
    may = booking("ann_may")  # her first visit moves to North, a day later, as a manicure
    may.start_at, may.end_at = at(2026, 5, 5), at(2026, 5, 5) + timedelta(minutes=30)
    may.branch_id, may.price_cents = w["north"], 3100
    s.add(may)
    s.commit()
    assert rollups(s) == recounted(s)

    s.delete(booking("ann_jul"))
    s.add(
        Booking(
            customer_id=w["carl"],
            service_id=may.service_id,
            branch_id=w["main"],
            start_at=at(2026, 10, 20),
            end_at=at(2026, 10, 20) + timedelta(minutes=30),
            status="completed",
            price_cents=4000,
        )
    )
    s.add(Refund(order_id=w["ann_jul_order"], amount_cents=700, reason="x", at=at(2026, 9, 1)))
    s.commit()
    assert rollups(s) == recounted(s)

    order = s.get(Order, w["ann_jul_order"])
    assert order is not None
    order.branch_id = w["north"]  # the order was rung up at the wrong branch
    s.add(order)
    payment = s.execute(
        select(Payment).where(col(Payment.order_id) == w["ann_jul_order"])
    ).scalar_one()
    payment.amount_cents, payment.at = 3500, at(2026, 7, 14)
    s.add(payment)
    s.commit()
    assert rollups(s) == recounted(s)

    merge_customers(session=s, survivor_id=w["ann"], other_ids=[w["bob"]], actor=ADMIN)
    s.commit()
    assert rollups(s) == recounted(s)
    for refund in s.execute(select(Refund)).scalars():
        s.delete(refund)
    s.commit()
    s.delete(payment)
    s.commit()
    assert rollups(s) == recounted(s)


def test_business_overview_after_deletions_and_status_changes(
    any_session: Session, w: dict[str, int]
) -> None:
    s = any_session
    dana_2025 = s.execute(
        select(Booking).where(
            col(Booking.customer_id) == w["dana"], col(Booking.start_at) < at(2026, 1, 1)
        )
    ).scalar_one()
    s.delete(dana_2025)  # Dana's first visit is now February's: new then, not last year's
    bob = s.execute(select(Booking).where(col(Booking.customer_id) == w["bob"])).scalar_one()
    bob.status = "no_show"
    s.add(bob)
    s.commit()
    view = insights.business_overview(session=s, actor=DESK, now=NOW)
    got = {m.month: (m.new_customers, m.returning_customers, m.visits) for m in view.months}
    assert got["2026-02"] == (1, 0, 1) and got["2026-10"] == (0, 0, 0)
    assert view.active_customers == 2
    assert (view.last_year_customers, view.retained) == (1, 0)  # Carl, who did not come back
    assert (view.settled_bookings, view.no_shows, view.cancellations) == (9, 2, 1)
    assert [(c.name, c.visits) for c in view.categories] == [("Hair", 4), ("Nails", 2)]
    # Bob's payment still counts: money is counted by the day it moved, not by visits
    assert [(t.name, t.value_cents, t.visits) for t in view.top_customers][:2] == [
        ("Ann", 10000, 5),
        ("Bob", 4000, 0),
    ]


def payers(s: Session, branch_id: int, prefix: str, payments: list[tuple[int, datetime]]) -> None:
    """Twenty customers ``prefix``00..19, each paying ``payments`` (cents, when), the i-th
    adding i cents to the last one, one order per payment."""
    for i in range(20):
        c = svc.create_customer(
            actor=ADMIN,
            session=s,
            data=svc.CustomerCreate(
                first_name=f"{prefix}{i:02d}", email=f"{prefix.lower()}{i}@example.com"
            ),
        )
        for n, (cents, when) in enumerate(payments):
            cents += i if n == len(payments) - 1 else 0
            order = Order(customer_id=c.id or 0, branch_id=branch_id, total_cents=cents)
            s.add(order)
            s.flush()
            s.add(Payment(order_id=order.id or 0, amount_cents=cents, at=when))


def test_top_customers_sought_among_the_biggest_payers_are_exact(
    any_session: Session, w: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty customers paid a lot before the period and a little in it; one paid more in
    it than any of them, though less in all: the walk down the biggest payers finds them,
    as the sum over everyone does."""
    s = any_session
    main = s.get(Branch, w["main"])
    assert main is not None
    payers(s, main.id or 0, "Big", [(100_000, at(2026, 9, 15)), (100, at(2026, 10, 5))])
    small = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Sm", email="sm@example.com")
    )
    order = Order(customer_id=small.id or 0, branch_id=main.id or 0, total_cents=500)
    s.add(order)
    s.flush()
    s.add(Payment(order_id=order.id or 0, amount_cents=500, at=at(2026, 10, 6)))
    s.commit()

    def top() -> list[tuple[str, int]]:
        view = insights.business_overview(
            session=s, actor=ADMIN, date_from=date(2026, 10, 1), date_to=date(2026, 11, 2), now=NOW
        )
        return [(t.name, t.value_cents) for t in view.top_customers]

    monkeypatch.setattr(insights, "TOP_CUSTOMERS", 1)  # sought among 8, then 64 payers
    assert top() == [("Bob", 4000)]
    monkeypatch.setattr(insights, "TOP_CUSTOMERS", 3)
    walked = top()
    assert walked == [("Bob", 4000), ("Sm", 500), ("Big19", 119)]
    monkeypatch.setattr(insights, "PAYER_WALK", 0)  # everyone summed
    assert top() == walked


def test_the_business_overview_reads_the_rollups_not_the_bookings(
    any_session: Session, w: dict[str, int]
) -> None:
    """Its statements are the same few however many bookings there are, and the only one
    that reads bookings or payments counts the ten leaders' visits and sums the money of the
    biggest payers only (the top customers)."""
    s = any_session
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(" ".join(statement.split()))

    engine = s.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        insights.business_overview(session=s, actor=ADMIN, now=NOW)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    reads = [q for q in seen if q.upper().startswith(("SELECT", "WITH"))]
    assert len(reads) == 8
    raw = [q for q in reads if re.search(r"\b(FROM|JOIN) (booking|payment|refund)\b", q)]
    assert len(raw) == 1 and "insight_payer" in raw[0] and "LIMIT" in raw[0]


def test_the_top_by_value_page_sums_no_one_outside_the_biggest_payers(
    any_session: Session, w: dict[str, int]
) -> None:
    """A page of the top customers by value and its count read the top ids once, among the
    biggest payers (insight_payer), and then use those ids: no statement sums the year's
    money of every customer (each statement of a page and its count did: 800 ms apiece at a
    million customers). The ids are the ones the sum over everyone gives."""
    from frontdesk.data.directory import load_directory_page

    s = any_session
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    by_value = svc.DirectoryFilter(rank_by_value=2, now=NOW)
    bind = s.get_bind()
    event.listen(bind, "before_cursor_execute", seen)
    try:
        page = load_directory_page(session=s, filters=by_value)
        counted = count_directory(session=s, filters=by_value)
        selected = matching_ids(session=s, text="", filters=by_value)
    finally:
        event.remove(bind, "before_cursor_execute", seen)
    assert [c.id for c in page.rows] == [w["ann"], w["bob"]] and page.count == counted == 2
    assert sorted(selected) == sorted([w["ann"], w["bob"]])
    summed = [q for q in statements if "value12" in q]
    assert summed and all("insight_payer" in q for q in summed), summed
    everyone = [int(c) for c, _value in s.execute(insights._top_values(2, NOW))]
    assert insights.top_value_ids(s, 2, NOW) == everyone == [w["ann"], w["bob"]]
    # The panel's filter as the directory applies it; a reader that does not read the ids
    # first (the export's pages, a newsletter's audience) still gets only those customers.
    applied = AdvancedFilter(top_value=2).applied(svc.DirectoryFilter(), NOW)
    assert applied.rank_by_value == 2 and applied.top_ids is None
    assert svc.count_matches(session=s, text="", filters=applied) == 2
    pages = svc.directory_page(session=s, filters=applied)
    assert sorted(c.id for c in pages) == sorted(everyone)
    # A ranking given without the ids or the condition that finds them is refused, rather
    # than dropped (every customer counted and listed).
    with pytest.raises(ValueError, match="rank_by_value"):
        svc.count_matches(session=s, text="", filters=by_value)
    with pytest.raises(ValueError, match="rank_by_value"):
        svc.search(session=s, text="", filters=by_value)


def test_the_top_by_value_walk_goes_past_big_payers_of_other_years(
    any_session: Session, w: dict[str, int]
) -> None:
    """Twenty customers paid a lot more than a year ago and a little within it: the top
    customers by 12-month value (Ann, Bob, Dana) are not among the eight biggest payers, so
    the walk widens (8, then 64 payers) and still finds exactly what the sum over everyone
    gives, in order."""
    s = any_session
    main = s.get(Branch, w["main"])
    assert main is not None
    payers(s, main.id or 0, "Old", [(200_000, at(2025, 6, 1)), (100, at(2026, 10, 5))])
    s.commit()
    for n in (1, 2, 3, 5, 30):
        everyone = [int(c) for c, _value in s.execute(insights._top_values(n, NOW))]
        assert insights.top_value_ids(s, n, NOW) == everyone, n
    assert insights.top_value_ids(s, 3, NOW) == [w["ann"], w["bob"], w["dana"]]


def test_a_visit_marked_done_before_its_start_is_in_the_chart(
    any_session: Session, w: dict[str, int]
) -> None:
    """Marked done at 11:13 for 15:00: "Total visits" counted it, the chart did not."""
    s = any_session
    booking = s.get(Booking, w["ann_sep"])
    assert booking is not None
    later = Booking(
        customer_id=w["bob"],
        service_id=booking.service_id,
        branch_id=w["main"],
        staff_id=booking.staff_id,
        start_at=NOW + timedelta(hours=3),  # later today
        end_at=NOW + timedelta(hours=3, minutes=30),
        status="completed",
        price_cents=4000,
    )
    s.add(later)
    s.commit()
    view = insights.customer_insight(session=s, customer_id=w["bob"], actor=DESK, now=NOW)
    assert months(view)["2026-11"][0] == 1

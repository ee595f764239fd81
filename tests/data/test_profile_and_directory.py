"""Service tests: statistics are exact, the advanced filter, bulk actions, prefill."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from frontdesk.data import customers as svc
from frontdesk.data import directory, profile
from frontdesk.data.models import (
    Booking,
    Branch,
    Customer,
    LoyaltyEnrolment,
    Order,
    OrderLine,
    Package,
    Payment,
    PointsEntry,
    Refund,
    Service,
    ServiceType,
    Staff,
)
from frontdesk.data.tags import create_tag, tag_ids_of
from tests.actors import ADMIN

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def world(any_session: Session) -> dict[str, int]:
    s = any_session
    branch = Branch(name="Main")
    s.add(branch)
    stype = ServiceType(name="Hair")
    other_type = ServiceType(name="Nails")
    s.add_all([stype, other_type])
    s.flush()
    cut = Service(service_type_id=stype.id or 0, name="Cut", duration_minutes=30, price_cents=4000)
    mani = Service(
        service_type_id=other_type.id or 0, name="Manicure", duration_minutes=45, price_cents=3000
    )
    package = Package(name="Spa day", price_cents=15000)
    staff = Staff(name="Nina", role="therapist")
    s.add_all([cut, mani, package, staff])
    s.flush()
    ann = svc.create_customer(
        actor=ADMIN,
        session=s,
        data=svc.CustomerCreate(first_name="Ann", email="ann@example.com", consent_marketing=True),
    )
    bob = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Bob", email="bob@example.com")
    )
    s.flush()

    def book(customer: Customer, service: Service, days: int, status: str) -> Booking:
        start = NOW + timedelta(days=days)
        b = Booking(
            customer_id=customer.id or 0,
            service_id=service.id or 0,
            branch_id=branch.id or 0,
            staff_id=staff.id,
            start_at=start,
            end_at=start + timedelta(minutes=service.duration_minutes),
            status=status,
            price_cents=service.price_cents,
        )
        s.add(b)
        s.flush()
        return b

    visit1 = book(ann, cut, -60, "completed")
    book(ann, cut, -30, "completed")
    book(ann, cut, -20, "cancelled")
    book(ann, cut, -10, "no_show")
    book(ann, cut, 5, "confirmed")
    book(bob, mani, -5, "completed")
    order = Order(
        customer_id=ann.id or 0,
        branch_id=branch.id or 0,
        booking_id=visit1.id,
        total_cents=19000,
        status="part_refunded",
    )
    s.add(order)
    s.flush()
    s.add(
        OrderLine(
            order_id=order.id or 0,
            kind="service",
            service_id=cut.id,
            description="Cut",
            unit_price_cents=4000,
            total_cents=4000,
        )
    )
    s.add(
        OrderLine(
            order_id=order.id or 0,
            kind="package",
            package_id=package.id,
            description="Spa day",
            unit_price_cents=15000,
            total_cents=15000,
        )
    )
    s.add(Payment(order_id=order.id or 0, method="card", amount_cents=19000))
    s.add(Refund(order_id=order.id or 0, amount_cents=2500, reason="Late start"))
    enrol = LoyaltyEnrolment(customer_id=ann.id or 0, program_id=1, balance=40)
    s.add(enrol)
    s.flush()
    s.add(
        PointsEntry(
            enrolment_id=enrol.id or 0,
            customer_id=ann.id or 0,
            program_id=1,
            points=40,
            action="added",
            balance_after=40,
        )
    )
    ids = {
        "ann": ann.id or 0,
        "bob": bob.id or 0,
        "cut": cut.id or 0,
        "mani": mani.id or 0,
        "hair": stype.id or 0,
        "package": package.id or 0,
        "branch": branch.id or 0,
    }
    s.commit()  # no attribute access after this: it would open a new write transaction
    return ids


def test_statistics_are_exact(any_session: Session, world: dict[str, int]) -> None:
    ann = svc.get_customer(session=any_session, customer_id=world["ann"])
    stats = profile.customer_stats(session=any_session, customer=ann, now=NOW)
    assert (stats.visits, stats.upcoming, stats.cancellations, stats.no_shows) == (2, 1, 1, 1)
    assert stats.income_cents == 19000 - 2500
    assert stats.average_visit_cents == round(16500 / 2)
    assert (
        stats.first_visit is not None
        and stats.first_visit.date() == (NOW - timedelta(days=60)).date()
    )
    assert stats.last_visit is not None and stats.days_since_last_visit == 30
    assert (
        stats.next_visit is not None and stats.next_visit.date() == (NOW + timedelta(days=5)).date()
    )
    assert stats.points == 40


def test_profile_lists(any_session: Session, world: dict[str, int]) -> None:
    data = profile.load_profile(session=any_session, customer_id=world["ann"], now=NOW)
    assert len(data.bookings) == 5 and data.bookings[0].status == "confirmed"
    assert [o.items for o in data.orders] == ["Cut, Spa day"]
    assert (data.orders[0].paid_cents, data.orders[0].refunded_cents) == (19000, 2500)
    kinds = {item.kind for item in data.timeline}
    assert {"booking", "order", "payment", "refund", "points", "profile"} <= kinds
    assert data.timeline == sorted(data.timeline, key=lambda i: i.at, reverse=True)
    only_cut = profile.list_bookings(
        session=any_session,
        customer_id=world["ann"],
        service_id=world["cut"],
        date_from=(NOW - timedelta(days=25)).date(),
        date_to=NOW.date(),
    )
    assert [b.status for b in only_cut] == ["no_show", "cancelled"]


def ids(
    session: Session, adv: directory.AdvancedFilter, basic: svc.DirectoryFilter | None = None
) -> set[int]:
    f = basic or svc.DirectoryFilter()
    from dataclasses import replace

    return {
        c.id or 0
        for c in svc.directory_page(session=session, filters=replace(f, extra=adv.conditions()))
    }


def test_advanced_filter(any_session: Session, world: dict[str, int]) -> None:
    s, ann, bob = any_session, world["ann"], world["bob"]
    A = directory.AdvancedFilter
    assert ids(s, A(service_types_used=(world["hair"],))) == {ann}
    assert ids(s, A(services_used=(world["mani"],))) == {bob}
    assert ids(s, A(service_types_never=(world["hair"],))) == {bob}
    assert ids(s, A(services_never=(world["cut"],))) == {bob}
    assert ids(s, A(packages_purchased=(world["package"],))) == {ann}
    assert ids(s, A(consents=("marketing",))) == {ann}
    window = A(
        booking_from=(NOW + timedelta(days=1)).date(),
        booking_to=(NOW + timedelta(days=10)).date(),
        booking_statuses=("pending", "confirmed"),
    )
    assert ids(s, window) == {ann}
    assert ids(s, A(booking_from=(NOW - timedelta(days=6)).date(), booking_to=NOW.date())) == {bob}
    recent = svc.DirectoryFilter(visited_within_days=7, now=NOW)
    assert ids(s, A(), recent) == {bob}
    assert ids(s, A(), svc.DirectoryFilter(not_visited_for_days=7, now=NOW)) == {ann}
    assert A(services_used=(1,)).without("services_used").is_empty
    assert window.without("booking_range").is_empty


def test_bulk_actions(any_engine: Engine, world: dict[str, int]) -> None:
    both = [world["ann"], world["bob"]]
    with Session(any_engine) as s:
        tag = create_tag(session=s, name="Student")
        tag_id = tag.id or 0
        s.commit()
    out = directory.apply_bulk(
        engine=any_engine,
        request=directory.BulkRequest(action="add_tag", tag_id=tag_id),
        customer_ids=both,
        actor=ADMIN,
    )
    assert sorted(out.changed_ids) == sorted(both)
    out = directory.apply_bulk(
        engine=any_engine,
        request=directory.BulkRequest(action="set_category", category_id=1),
        customer_ids=both,
        actor=ADMIN,
    )
    out = directory.apply_bulk(
        engine=any_engine,
        request=directory.BulkRequest(action="block", reason="Unpaid"),
        customer_ids=both,
        actor=ADMIN,
    )
    out = directory.apply_bulk(
        engine=any_engine,
        request=directory.BulkRequest(action="delete"),
        customer_ids=both,
        actor=ADMIN,
    )
    with Session(any_engine) as s:
        for cid in both:
            c = svc.get_customer(session=s, customer_id=cid)
            assert c.category_id == 1 and c.blocked and c.deleted_at is not None
            assert tag_ids_of(session=s, customer_id=cid) == {tag_id}
        # Someone takes Ann's email while she is deleted: her restore is reported, Bob's works.
        svc.create_customer(
            actor=ADMIN,
            session=s,
            data=svc.CustomerCreate(first_name="Other", email="ann@example.com"),
        )
        s.commit()
    out = directory.apply_bulk(
        engine=any_engine,
        request=directory.BulkRequest(action="restore"),
        customer_ids=both,
        actor=ADMIN,
    )
    assert out.changed_ids == [world["bob"]]
    assert len(out.problems) == 1 and "already has this email" in out.problems[0]


def test_prefill_from_query() -> None:
    assert directory.prefill_from_query("anna de vries 06 1234 5678") == {
        "first_name": "Anna",
        "last_name": "de Vries",
        "phone": "06 1234 5678",
    }
    # Surnames typed in small letters get their capital; what was typed with capitals stays.
    assert directory.prefill_from_query("maria lopez") == {
        "first_name": "Maria",
        "last_name": "Lopez",
    }
    assert directory.prefill_from_query("jan van der berg") == {
        "first_name": "Jan",
        "last_name": "van der Berg",
    }
    assert directory.prefill_from_query("ana garcia-lopez") == {
        "first_name": "Ana",
        "last_name": "Garcia-Lopez",
    }
    assert directory.prefill_from_query("Ian McAllister") == {
        "first_name": "Ian",
        "last_name": "McAllister",
    }
    assert directory.prefill_from_query("[bold] de") == {
        "first_name": "[bold]",
        "last_name": "De",
    }
    assert directory.prefill_from_query("bob@example.com") == {"email": "bob@example.com"}
    assert directory.prefill_from_query("+31 6 12") == {"phone": "+31 6 12"}
    assert directory.prefill_from_query("") == {}
    # A customer's code searched for is not a name (nor a phone) for a new customer.
    assert directory.prefill_from_query("C-000248") == {}
    assert directory.prefill_from_query("c248 anna") == {"first_name": "Anna"}
    assert directory.prefill_from_query("C3PO") == {"first_name": "C3PO"}


def test_matching_ids_for_select_all(any_session: Session, world: dict[str, int]) -> None:
    got = directory.matching_ids(session=any_session, text="", filters=svc.DirectoryFilter())
    assert set(got) == {world["ann"], world["bob"]}
    assert directory.matching_ids(
        session=any_session, text="bob", filters=svc.DirectoryFilter()
    ) == [world["bob"]]
    assert select  # keep import used
    assert date


# --------------------------------------------------------------------------- directory pages


def _walk(s: Session, text: str, filters: svc.DirectoryFilter | None = None) -> list[int]:
    """Every row of the result, page by page from the start."""
    out: list[int] = []
    after = None
    while True:
        page = directory.load_directory_page(
            session=s, text=text, filters=filters, after=after, limit=23, with_count=False
        )
        out += [c.id or 0 for c in page.rows]
        assert page.more_before == (after is not None)
        if not page.more_after:
            return out
        after = page.keys[-1]


def _walk_back(s: Session, text: str, filters: svc.DirectoryFilter | None = None) -> list[int]:
    """Every row of the result, page by page from the end."""
    page = directory.load_directory_page(
        session=s, text=text, filters=filters, from_end=True, limit=23, with_count=False
    )
    assert not page.more_after
    out = [c.id or 0 for c in page.rows]
    while page.more_before:
        page = directory.load_directory_page(
            session=s, text=text, filters=filters, before=page.keys[0], limit=23, with_count=False
        )
        assert page.more_after
        out = [c.id or 0 for c in page.rows] + out
    return out


@pytest.fixture
def crowd(any_session: Session) -> Session:
    s = any_session
    first = ["Ann", "Anna", "Hannah", "Joanne", "Bob", "[/]", 'Zo"e', "Émile"]
    last = ["Smith", "Annan", "de Vries", "Jansen", "Smithers", None]
    n = 0
    for _round in range(3):
        for f in first:
            for last_name in last:
                n += 1
                svc.create_customer(
                    actor=ADMIN,
                    session=s,
                    data=svc.CustomerCreate(
                        first_name=f,
                        last_name=last_name,
                        email=f"p{n}@{'anna.example' if n % 7 == 0 else 'example'}.com",
                        status="inactive" if n % 5 == 0 else "active",
                    ),
                )
        s.flush()
    s.commit()
    return s


@pytest.mark.parametrize("text", ["", "ann", "an", "smith", "c-000017", "[/]", 'zo"e', "p1"])
def test_directory_pages_both_ways_and_count(crowd: Session, text: str) -> None:
    s = crowd
    first = directory.load_directory_page(session=s, text=text, limit=23)
    forward, backward = _walk(s, text), _walk_back(s, text)
    assert forward == backward  # the same order read from either end
    assert len(forward) == len(set(forward)) == first.count  # the count is exact
    # The first page is the search's best matches, in the search's order.
    expected = (
        svc.search(session=s, text=text, limit=23)
        if text
        else svc.directory_page(session=s, limit=23)
    )
    assert [c.id for c in first.rows] == [c.id for c in expected]
    # Select-all takes every match, not only the first thousand or the best ones.
    assert sorted(
        directory.matching_ids(session=s, text=text, filters=svc.DirectoryFilter())
    ) == sorted(forward)


def test_directory_filters_combine_with_search_and_both_ends(crowd: Session) -> None:
    s = crowd
    inactive = svc.DirectoryFilter(status="inactive")
    rows = _walk(s, "ann", inactive)
    assert rows and rows == _walk_back(s, "ann", inactive)
    statuses = {svc.get_customer(session=s, customer_id=i).status for i in rows}
    assert statuses == {"inactive"}
    page = directory.load_directory_page(session=s, text="ann", filters=inactive)
    assert page.count == len(rows)


def test_directory_refresh_in_place_and_exact_code_first(crowd: Session) -> None:
    s = crowd
    everyone = _walk(s, "")
    first = directory.load_directory_page(session=s, limit=30)
    again = directory.load_directory_page(session=s, start_at=first.keys[10], limit=5)
    assert [c.id for c in again.rows] == everyone[10:15]
    assert again.more_before and again.more_after
    top = directory.load_directory_page(session=s, start_at=first.keys[0], limit=5)
    assert not top.more_before
    # A customer who is not on the page any more (their name moved them) is followed.
    far = everyone[-20]
    followed = directory.load_directory_page(session=s, start_at=first.keys[0], around=far, limit=9)
    ids = [c.id for c in followed.rows]
    assert ids == everyone[-23:-14] and ids.index(far) == 3
    assert followed.more_before and followed.more_after
    kept = directory.load_directory_page(
        session=s, start_at=first.keys[0], around=everyone[2], limit=9
    )
    assert [c.id for c in kept.rows] == everyone[:9]  # on the page: nothing moves
    code = svc.get_customer(session=s, customer_id=everyone[-1]).code
    found = directory.load_directory_page(session=s, text=code.lower())
    assert [c.code for c in found.rows] == [code] and found.count == 1


def test_directory_page_shows_last_visits_and_alerts(
    any_session: Session, world: dict[str, int]
) -> None:
    from frontdesk.data.models import Note

    any_session.add(Note(customer_id=world["bob"], body="Allergy: [nuts]", is_alert=True))
    any_session.commit()
    page = directory.load_directory_page(session=any_session)
    assert page.count == 2 and {c.id for c in page.rows} == {world["ann"], world["bob"]}
    assert page.alerts == {world["bob"]}
    assert set(page.last_visits) == {world["ann"], world["bob"]}

"""Service tests: branches and services (the catalogue) an admin adds, changes, deactivates
and reactivates, and that are bookable at once (desk, API) on a new database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, col, select

from frontdesk.data import audit_log, booking_flow, bookings, catalogue, staff
from frontdesk.data import booking_requests as br
from frontdesk.data import customers as svc
from frontdesk.data.audit_text import describe_catalogue_event
from frontdesk.data.errors import NotFound, ValidationFailed
from frontdesk.data.models import AuditEvent, Branch, Service, ServiceType
from frontdesk.data.roles import NotAllowed
from frontdesk.data.settings import set_setting
from tests.actors import ADMIN, DESK, THERAPIST

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
HOSTILE = "[bold]Cut[/]"


def refused(field: str, call: object, *, says: str = "") -> ValidationFailed:
    with pytest.raises(ValidationFailed) as err:
        call()  # type: ignore[operator]
    assert err.value.field == field, err.value
    assert says.lower() in err.value.message.lower(), err.value.message
    return err.value


def events(s: Session, entity: str) -> list[AuditEvent]:
    return list(
        s.exec(
            select(AuditEvent).where(col(AuditEvent.entity) == entity).order_by(col(AuditEvent.id))
        )
    )


def add_cut(s: Session, name: str = "Women's cut", **kw: str) -> Service:
    values = {"type_name": "Hair", "duration_minutes": "45", "price": "45.00", **kw}
    return catalogue.add_service(session=s, name=name, actor=ADMIN, **values)  # type: ignore[arg-type]


def customer(s: Session) -> int:
    maria = svc.create_customer(
        session=s, actor=ADMIN, data=svc.CustomerCreate(first_name="Maria", email="m@example.com")
    )
    return maria.id or 0


def book(s: Session, branch_id: int, service_id: int, customer_id: int, time: str = "10:00") -> int:
    booked = booking_flow.book_appointment(
        session=s,
        request=booking_flow.BookingRequest(
            customer_id=customer_id,
            branch_id=branch_id,
            service_id=service_id,
            staff_id=None,
            day="2026-11-03",
            time=time,
        ),
        actor=DESK,
        tz=UTC,
        now=NOW,
    )
    return booked.booking_id


# --------------------------------------------------------------------------- branches


def test_add_a_branch_stores_it_checked_and_audited(session: Session) -> None:
    s = session
    set_setting(session=s, key="default_region", value="GB")
    branch = catalogue.add_branch(
        session=s,
        name="  North   Street ",
        address="12 High St",
        phone="020 7946 0000",
        actor=ADMIN,
    )
    s.commit()
    assert (branch.name, branch.address, branch.phone) == (
        "North Street",
        "12 High St",
        "+442079460000",
    )
    assert branch.active
    [event] = events(s, "branch")
    assert (event.action, event.entity_id, event.actor_name) == ("create", branch.id, "Test admin")
    line = describe_catalogue_event("branch", event.action, event.actor_name, event.changes)
    assert line == "Branch added by Test admin: North Street (12 High St, +44 20 7946 0000)"


def test_only_admins_add_or_change_branches(session: Session) -> None:
    s = session
    for actor in (DESK, THERAPIST, None):
        with pytest.raises(NotAllowed):
            catalogue.add_branch(session=s, name="North", actor=actor)
    branch = catalogue.add_branch(session=s, name="North", actor=ADMIN)
    with pytest.raises(NotAllowed):
        catalogue.change_branch(session=s, branch_id=branch.id or 0, name="South", actor=DESK)
    with pytest.raises(NotAllowed):
        catalogue.set_branch_active(session=s, branch_id=branch.id or 0, active=False, actor=DESK)


def test_branch_names_are_unique_whatever_the_case_or_accents(session: Session) -> None:
    s = session
    catalogue.add_branch(session=s, name="Café Central", actor=ADMIN)
    refused(
        "name",
        lambda: catalogue.add_branch(session=s, name="CAFE central", actor=ADMIN),
        says="already exists",
    )
    refused(
        "name", lambda: catalogue.add_branch(session=s, name="   ", actor=ADMIN), says="required"
    )
    refused(
        "name",
        lambda: catalogue.add_branch(session=s, name="42", actor=ADMIN),
        says="needs a letter",
    )
    refused(
        "name",
        lambda: catalogue.add_branch(session=s, name="x" * 101, actor=ADMIN),
        says="too long",
    )


@pytest.mark.parametrize("bad", ["\x1b[2J", "a\x00b", "Csi\x9b2J", "x\x7fy", "two\nlines"])
@pytest.mark.parametrize("field", ["name", "address", "phone"])
def test_branch_fields_refuse_control_characters(session: Session, field: str, bad: str) -> None:
    values = {"name": "North", "address": None, "phone": None, field: f"Value {bad} here"}
    refused(field, lambda: catalogue.add_branch(session=session, actor=ADMIN, **values))  # type: ignore[arg-type]


def test_a_phone_that_is_not_one_is_refused(session: Session) -> None:
    refused(
        "phone", lambda: catalogue.add_branch(session=session, name="N", phone="12", actor=ADMIN)
    )
    refused(
        "phone",
        lambda: catalogue.add_branch(session=session, name="N", phone="call us", actor=ADMIN),
    )


def test_change_a_branch_renames_clears_and_audits_what_changed(session: Session) -> None:
    s = session
    north = catalogue.add_branch(
        session=s, name="North", address="1 A St", phone="+31 20 123 4567", actor=ADMIN
    )
    catalogue.add_branch(session=s, name="South", actor=ADMIN)
    refused(
        "name",
        lambda: catalogue.change_branch(
            session=s, branch_id=north.id or 0, name="south", actor=ADMIN
        ),
        says="already exists",
    )
    # Its own name in another case is a rename, not a duplicate.
    catalogue.change_branch(session=s, branch_id=north.id or 0, name="NORTH", actor=ADMIN)
    catalogue.change_branch(
        session=s, branch_id=north.id or 0, name="North Side", address="", phone="", actor=ADMIN
    )
    s.commit()
    assert (north.name, north.address, north.phone) == ("North Side", None, None)
    updates = [e for e in events(s, "branch") if e.action == "update"]
    assert updates[-1].changes == {
        "name": ["NORTH", "North Side"],
        "address": ["1 A St", None],
        "phone": ["+31201234567", None],
    }
    line = describe_catalogue_event("branch", "update", "Ada", updates[-1].changes)
    assert line.startswith("Branch changed by Ada: Name: NORTH → North Side; Address: 1 A St → —")
    # Nothing changed: nothing audited.
    before = len(events(s, "branch"))
    catalogue.change_branch(session=s, branch_id=north.id or 0, name="North Side", actor=ADMIN)
    assert len(events(s, "branch")) == before
    with pytest.raises(NotFound):
        catalogue.change_branch(session=s, branch_id=999, name="X", actor=ADMIN)


def test_a_deactivated_branch_takes_no_new_bookings_but_keeps_its_bookings(
    session: Session,
) -> None:
    s = session
    main = catalogue.add_branch(session=s, name="Main", actor=ADMIN)
    north = catalogue.add_branch(session=s, name="North", actor=ADMIN)
    cut = add_cut(s)
    maria = customer(s)
    kept = book(s, north.id or 0, cut.id or 0, maria)
    catalogue.set_branch_active(session=s, branch_id=north.id or 0, active=False, actor=ADMIN)
    s.commit()
    form = booking_flow.load_booking_form(session=s, now=NOW)
    assert [b.name for b in form.branches] == ["Main"] and form.branch_id == main.id
    refused("branch_id", lambda: book(s, north.id or 0, cut.id or 0, maria, "12:00"))
    s.rollback()
    assert bookings.get_booking(session=s, booking_id=kept).branch_id == north.id
    with pytest.raises(ValidationFailed):  # the API does not find it either
        br._find_named(s, Branch, "North", "branch", "branch")
    last = events(s, "branch")[-1]
    assert (last.action, last.changes) == (
        "deactivate",
        {"name": ["North", "North"], "active": [True, False]},
    )
    assert describe_catalogue_event("branch", "deactivate", "Ada", last.changes) == (
        "Branch deactivated by Ada: North"
    )
    # Adding it again is refused with the way out; reactivating brings it back.
    refused(
        "name",
        lambda: catalogue.add_branch(session=s, name="north", actor=ADMIN),
        says="reactivate it",
    )
    s.rollback()
    catalogue.set_branch_active(session=s, branch_id=north.id or 0, active=True, actor=ADMIN)
    form = booking_flow.load_booking_form(session=s, now=NOW)
    assert [b.name for b in form.branches] == ["Main", "North"]
    assert events(s, "branch")[-1].action == "reactivate"


# --------------------------------------------------------------------------- services


def test_add_a_service_makes_its_type_and_is_audited(session: Session) -> None:
    s = session
    cut = add_cut(s)
    colour = add_cut(s, "Colour", type_name="  hair ", duration_minutes="90 min", price="1,234.50")
    s.commit()
    [hair] = s.exec(select(ServiceType)).all()  # "hair" is the type "Hair": made once
    assert hair.name == "Hair" and cut.service_type_id == colour.service_type_id == hair.id
    assert (cut.name, cut.duration_minutes, cut.price_cents, cut.active) == (
        "Women's cut",
        45,
        4500,
        True,
    )
    assert (colour.duration_minutes, colour.price_cents) == (90, 123450)
    first = events(s, "service")[0]
    assert first.changes == {
        "name": [None, "Women's cut"],
        "type": [None, "Hair"],
        "duration_minutes": [None, 45],
        "price_cents": [None, 4500],
    }
    assert describe_catalogue_event("service", "create", "Ada", first.changes) == (
        "Service added by Ada: Women's cut (Hair, 45 min, 45.00)"
    )


def test_only_admins_add_or_change_services(session: Session) -> None:
    s = session
    for actor in (DESK, THERAPIST, None):
        with pytest.raises(NotAllowed):
            catalogue.add_service(
                session=s,
                type_name="Hair",
                name="Cut",
                duration_minutes=30,
                price="10",
                actor=actor,
            )
    cut = add_cut(s)
    with pytest.raises(NotAllowed):
        catalogue.change_service(session=s, service_id=cut.id or 0, price="1", actor=DESK)
    with pytest.raises(NotAllowed):
        catalogue.set_service_active(session=s, service_id=cut.id or 0, active=False, actor=DESK)


@pytest.mark.parametrize(
    ("minutes", "ok"),
    [("4", False), ("5", True), ("720", True), ("721", False), ("0", False), ("-30", False),
     ("abc", False), ("", False), ("45.5", False), ("60 minutes", True), (45, True), (721, False)],
)  # fmt: skip
def test_duration_is_5_to_720_minutes(session: Session, minutes: str | int, ok: bool) -> None:
    def call() -> Service:
        return add_cut(session, duration_minutes=minutes)  # type: ignore[arg-type]

    if ok:
        assert 5 <= call().duration_minutes <= 720
    else:
        refused("duration", call)


@pytest.mark.parametrize(
    ("price", "cents"),
    [("45.00", 4500), ("45", 4500), ("45,50", 4550), ("0", 0), ("1,000,000.00", 100_000_000),
     ("-1", None), ("abc", None), ("", None), ("1000000.01", None), ("12.345", None)],
)  # fmt: skip
def test_price_is_money_text_not_negative(session: Session, price: str, cents: int | None) -> None:
    if cents is None:
        refused("price", lambda: add_cut(session, price=price))
    else:
        assert add_cut(session, price=price).price_cents == cents


def test_service_names_are_unique_across_types_whatever_the_case(session: Session) -> None:
    s = session
    add_cut(s)
    refused("name", lambda: add_cut(s, "WOMEN'S CUT", type_name="Nails"), says="already exists")
    refused("name", lambda: add_cut(s, ""), says="required")
    refused("name", lambda: add_cut(s, "123"), says="needs a letter")
    refused("type", lambda: add_cut(s, "Trim", type_name=" "), says="choose a type")


@pytest.mark.parametrize("bad", ["\x1b[2J", "a\x00b", "Csi\x9b2J", "x\x7fy", "two\nlines"])
@pytest.mark.parametrize("field", ["name", "type_name", "duration_minutes", "price"])
def test_service_fields_refuse_control_characters(session: Session, field: str, bad: str) -> None:
    names = {"type_name": "type", "duration_minutes": "duration"}
    refused(names.get(field, field), lambda: add_cut(session, **{field: f"4{bad}5"}))  # type: ignore[arg-type]


def test_a_hostile_name_is_stored_as_typed(session: Session) -> None:
    s = session
    catalogue.add_branch(session=s, name="Main", actor=ADMIN)
    add_cut(s, HOSTILE)
    s.commit()
    view = catalogue.load_catalogue(session=s)
    assert [r.name for r in view.services] == [HOSTILE]
    assert catalogue.find_service(session=s, text="[BOLD]cut[/]").name == HOSTILE


def test_change_a_service_keeps_bookings_made_as_they_were(session: Session) -> None:
    s = session
    main = catalogue.add_branch(session=s, name="Main", actor=ADMIN)
    cut = add_cut(s)
    maria = customer(s)
    made = book(s, main.id or 0, cut.id or 0, maria)
    catalogue.change_service(
        session=s,
        service_id=cut.id or 0,
        name="Long cut",
        duration_minutes="60",
        price="50",
        type_name="Styling",
        actor=ADMIN,
    )
    s.commit()
    old = bookings.get_booking(session=s, booking_id=made)
    assert old.price_cents == 4500 and (old.end_at - old.start_at).seconds == 45 * 60
    new = bookings.get_booking(
        session=s, booking_id=book(s, main.id or 0, cut.id or 0, maria, "14:00")
    )
    assert new.price_cents == 5000 and (new.end_at - new.start_at).seconds == 60 * 60
    styling = s.exec(select(ServiceType).where(col(ServiceType.name) == "Styling")).one()
    assert cut.service_type_id == styling.id
    update = events(s, "service")[-1]
    assert update.action == "update"
    assert describe_catalogue_event("service", "update", "Ada", update.changes) == (
        "Service changed by Ada: Name: Women's cut → Long cut; Duration: 45 min → 60 min; "
        "Price: 45.00 → 50.00; Type: Hair → Styling"
    )
    add_cut(s, "Trim")
    refused(
        "name",
        lambda: catalogue.change_service(
            session=s, service_id=cut.id or 0, name="TRIM", actor=ADMIN
        ),
        says="already exists",
    )
    refused(
        "price",
        lambda: catalogue.change_service(
            session=s, service_id=cut.id or 0, price="-5", actor=ADMIN
        ),
    )


def test_a_deactivated_service_is_not_offered_but_bookings_keep_it(session: Session) -> None:
    s = session
    main = catalogue.add_branch(session=s, name="Main", actor=ADMIN)
    cut = add_cut(s)
    trim = add_cut(s, "Trim", duration_minutes="15", price="15")
    maria = customer(s)
    made = book(s, main.id or 0, cut.id or 0, maria)
    catalogue.set_service_active(session=s, service_id=cut.id or 0, active=False, actor=ADMIN)
    s.commit()
    assert [x.name for x in bookings.list_services(session=s)] == ["Trim"]
    form = booking_flow.load_booking_form(session=s, now=NOW)
    assert [x.name for x in form.services] == ["Trim"]
    refused("service_id", lambda: book(s, main.id or 0, cut.id or 0, maria, "15:00"))
    s.rollback()
    with pytest.raises(ValidationFailed):
        br._find_named(s, Service, "Women's cut", "service", "service")
    assert bookings.get_booking(session=s, booking_id=made).service_id == cut.id
    view = catalogue.load_catalogue(session=s)
    assert [(r.name, r.active) for r in view.services] == [("Trim", True), ("Women's cut", False)]
    assert [
        r.name for r in catalogue.load_catalogue(session=s, include_inactive=False).services
    ] == ["Trim"]
    catalogue.set_service_active(session=s, service_id=cut.id or 0, active=True, actor=ADMIN)
    assert [x.name for x in bookings.list_services(session=s)] == ["Trim", "Women's cut"]
    assert trim.active


def test_a_failed_write_leaves_nothing_behind(session: Session) -> None:
    s = session
    refused("duration", lambda: add_cut(s, type_name="Brand new type", duration_minutes="1"))
    s.rollback()
    assert s.exec(select(ServiceType)).all() == [] and s.exec(select(Service)).all() == []
    assert events(s, "service") == []


def test_find_by_name_or_id_inactive_ones_too(session: Session) -> None:
    s = session
    north = catalogue.add_branch(session=s, name="North", actor=ADMIN)
    catalogue.set_branch_active(session=s, branch_id=north.id or 0, active=False, actor=ADMIN)
    assert catalogue.find_branch(session=s, text="north").id == north.id
    assert catalogue.find_branch(session=s, text=str(north.id)).id == north.id
    with pytest.raises(NotFound):
        catalogue.find_branch(session=s, text="South")


# --------------------------------------------------------------------------- bookable at once


def test_a_new_database_books_what_was_just_added(session: Session) -> None:
    """Nothing but what the admin added: the desk's form offers it and books it, and the API
    finds it by name (with a therapist at the branch)."""
    s = session
    assert booking_flow.load_booking_form(session=s, now=NOW).services == []
    main = catalogue.add_branch(session=s, name="Main", actor=ADMIN)
    cut = add_cut(s)
    s.commit()
    form = booking_flow.load_booking_form(session=s, now=NOW)
    assert [b.name for b in form.branches] == ["Main"] and form.branch_id == main.id
    assert [(x.name, x.duration_minutes, x.price_cents) for x in form.services] == [
        ("Women's cut", 45, 4500)
    ]
    made = book(s, main.id or 0, cut.id or 0, customer(s))
    s.commit()
    assert bookings.get_booking(session=s, booking_id=made).price_cents == 4500
    staff.create_staff(session=s, name="Nina", role="therapist", branch_id=main.id, actor=ADMIN)
    s.commit()
    slots = br.availability(
        session=s, service="women's cut", branch=None, day="2026-11-04", now=NOW, tz=UTC
    )
    assert slots.service == "Women's cut" and slots.branch == "Main" and slots.slots


def test_the_audit_log_reads_catalogue_events(session: Session) -> None:
    s = session
    add_cut(s, HOSTILE)
    s.commit()
    page = audit_log.load_audit_page(session=s, viewer=ADMIN)
    [row] = [r for r in page.rows if r.entity == "service"]
    assert row.what == f"Service added by Test admin: {HOSTILE} (Hair, 45 min, 45.00)"


def test_a_change_in_the_audit_log_names_what_it_changed(session: Session) -> None:
    """A price change alone said "Service changed by ...: Price: 45.00 -> 50.00" (which one?)."""
    s = session
    cut = add_cut(s, HOSTILE)
    main = catalogue.add_branch(session=s, name="Main", actor=ADMIN)
    s.commit()
    catalogue.change_service(session=s, service_id=cut.id or 0, price="50.00", actor=ADMIN)
    catalogue.change_branch(session=s, branch_id=main.id or 0, address="1 High St", actor=ADMIN)
    s.commit()
    rows = audit_log.load_audit_page(session=s, viewer=ADMIN).rows
    said = [r.what for r in rows if r.entity in ("service", "branch")]
    assert f"Service {HOSTILE} changed by Test admin: Price: 45.00 → 50.00" in said
    assert "Branch Main changed by Test admin: Address: — → 1 High St" in said


def test_the_desk_and_the_api_book_the_same_person_on_a_new_database(session: Session) -> None:
    """The owner (the first admin, at no branch) is the one who can be booked: the desk's
    "first free" books them, as the API does (the desk left the booking without anyone)."""
    s = session
    owner = staff.create_staff(session=s, name="Olga Owner", role="admin")
    main = catalogue.add_branch(session=s, name="Main", actor=ADMIN)
    cut = add_cut(s)
    s.commit()
    maria = customer(s)
    made = book(s, main.id or 0, cut.id or 0, maria)
    s.commit()
    assert bookings.get_booking(session=s, booking_id=made).staff_id == owner.id
    assert [m.name for m in br.bookable_staff(s, main.id or 0)] == ["Olga Owner"]
    # A therapist at the branch comes first from then on, at both.
    nina = staff.create_staff(
        session=s, name="Nina", role="therapist", branch_id=main.id, actor=owner
    )
    s.commit()
    made = book(s, main.id or 0, cut.id or 0, maria, "11:00")
    assert bookings.get_booking(session=s, booking_id=made).staff_id == nina.id
    assert [m.name for m in br.bookable_staff(s, main.id or 0)] == ["Nina"]

"""Service tests: booking requests from outside (matching, review, blocked, idempotency,
slots), availability, lookup, the desk's decisions, API tokens."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from frontdesk.data import api_tokens, bookings, notes, rewards
from frontdesk.data import booking_requests as br
from frontdesk.data import customers as svc
from frontdesk.data.errors import InvalidState, ValidationFailed
from frontdesk.data.models import (
    ApiToken,
    AuditEvent,
    Booking,
    BookingRequest,
    Branch,
    ContactPoint,
    Customer,
    Service,
    ServiceType,
    Staff,
)
from frontdesk.data.roles import NotAllowed
from frontdesk.data.settings import set_setting
from tests.actors import ADMIN, DESK, THERAPIST

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
TOMORROW_10 = "2026-11-03T10:00"
WEBSITE = api_tokens.TokenView(1, "website", ["bookings"], NOW, None, None)
API = api_tokens.api_actor(WEBSITE)


def make_shop(s: Session, *, therapists: tuple[str, ...] = ("Nina", "Omar")) -> dict[str, int]:
    """A branch, a 60-minute service, therapists, Maria (NL phone + email); committed."""
    set_setting(session=s, key="default_region", value="NL")
    branch = Branch(name="Main")
    stype = ServiceType(name="Hair")
    s.add_all([branch, stype])
    s.flush()
    cut = Service(service_type_id=stype.id or 0, name="Haircut", duration_minutes=60)
    s.add(cut)
    ids = {"branch": branch.id or 0}
    for name in therapists:
        member = Staff(name=name, role="therapist", branch_id=branch.id)
        s.add(member)
        s.flush()
        ids[name.lower()] = member.id or 0
    s.add(Staff(name="Rita", role="reception", branch_id=branch.id))
    s.flush()
    maria = svc.create_customer(
        session=s,
        actor=ADMIN,
        data=svc.CustomerCreate(
            first_name="Maria",
            last_name="Garcia",
            phone="+31 6 12345678",
            email="Maria.Garcia@Example.com",
        ),
    )
    ids["cut"] = cut.id or 0
    ids["maria"] = maria.id or 0
    s.commit()
    return ids


def submit(s: Session, key: str | None = None, **fields: str) -> br.RequestResult:
    values = {"service": "Haircut", "start": TOMORROW_10, **fields}
    result = br.submit_request(
        session=s,
        data=br.RequestIn(**values),
        actor=API,
        channel="website",
        idempotency_key=key,
        now=NOW,
        tz=UTC,
    )
    s.commit()
    return result


def customers(s: Session) -> int:
    return int(s.exec(select(func.count()).select_from(Customer)).one())


@pytest.fixture
def shop(any_session: Session) -> dict[str, int]:
    return make_shop(any_session)


def test_a_new_customer_is_created_online_and_the_slot_is_held(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    r = submit(s, name="Lena de Vries", phone="06 23456789", source="website")
    assert r.status == "pending" and r.customer_created and r.booking_id
    lena = s.exec(select(Customer).where(col(Customer.first_name) == "Lena")).one()
    assert (lena.last_name, lena.phone) == ("de Vries", "+31623456789")
    assert (lena.created_via, lena.created_source) == ("online", "website")
    booking = s.get(Booking, r.booking_id)
    assert booking is not None and booking.status == "pending" and booking.source == "online"
    assert booking.staff_id == shop["nina"]  # the first one free
    event = s.exec(select(AuditEvent).where(col(AuditEvent.entity) == "booking_request")).one()
    assert event.actor_name == "API token website"
    assert event.changes and event.changes["token"] == [None, "website"]


@pytest.mark.parametrize(
    "fields",
    [
        {"phone": "0612345678"},
        {"phone": "0031 6 1234 5678"},
        {"email": "MARIA.garcia@example.COM"},
        {"phone": "+31612345678", "email": "maria.garcia@example.com", "name": "maria"},
        {"phone": "06-12345678", "name": "María G."},
    ],
)
def test_matching_by_phone_or_email_as_the_desk_does(
    any_session: Session, shop: dict[str, int], fields: dict[str, str]
) -> None:
    before = customers(any_session)
    r = submit(any_session, **fields)
    assert r.status == "pending" and not r.customer_created
    assert r.customer_code == "C-000001"
    assert customers(any_session) == before


def test_secondary_contacts_and_merged_away_customers_find_the_survivor(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    s.add(ContactPoint(customer_id=shop["maria"], kind="phone", value="+31611111111"))
    old = svc.create_customer(
        session=s, actor=ADMIN, data=svc.CustomerCreate(first_name="Maria", email="old@example.com")
    )
    old.merged_into_id = shop["maria"]
    s.add(old)
    s.commit()
    assert submit(s, phone="06 11111111").customer_code == "C-000001"
    r = submit(s, email="OLD@example.com", start="2026-11-03T14:00")
    assert r.customer_code == "C-000001" and not r.customer_created


def test_phone_and_email_of_two_customers_wait_for_review(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    svc.create_customer(
        session=s, actor=ADMIN, data=svc.CustomerCreate(first_name="Ben", email="ben@example.com")
    )
    s.commit()
    before = customers(s)
    r = submit(s, name="Maria", phone="0612345678", email="ben@example.com")
    assert r.status == "review" and r.booking_id is None and r.customer_code is None
    assert customers(s) == before
    row = s.get(BookingRequest, r.request_id)
    assert row is not None and "C-000002 Ben" in (row.reason or "")


def test_a_clearly_different_name_waits_for_review(
    any_session: Session, shop: dict[str, int]
) -> None:
    r = submit(any_session, name="Johannes Bakker", phone="0612345678")
    assert r.status == "review"
    assert not br.name_differs("Maria Garcia", any_session.get(Customer, shop["maria"]))  # type: ignore[arg-type]


def test_a_blocked_customer_is_refused_with_a_reason_to_show(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    svc.block_customer(session=s, customer_id=shop["maria"], reason="owes money", actor=ADMIN)
    s.commit()
    r = submit(s, phone="0612345678")
    assert r.status == "declined" and r.booking_id is None
    assert "owes" not in r.message and "contact us" in r.message
    assert s.exec(select(func.count()).select_from(Booking)).one() == 0


def test_the_same_idempotency_key_books_once(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    first = submit(s, key="abc-1", name="Lena", phone="0623456789")
    again = submit(s, key="abc-1", name="Lena", phone="0623456789")
    assert again.replayed and again.request_id == first.request_id
    assert again.booking_id == first.booking_id
    assert s.exec(select(func.count()).select_from(Booking)).one() == 1
    with pytest.raises(br.KeyReused):
        submit(s, key="abc-1", name="Lena", phone="0623456789", start="2026-11-03T15:00")


def test_a_taken_slot_writes_nothing(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    assert submit(s, phone="0612345678").staff == "Nina"
    assert submit(s, name="Ben", email="ben@example.com").staff == "Omar"
    before = customers(s)
    with pytest.raises(br.SlotTaken) as taken:
        submit(s, name="Cleo", email="cleo@example.com")
    s.rollback()
    assert taken.value.suggestion is not None
    assert customers(s) == before  # Cleo was not left behind
    with pytest.raises(br.SlotTaken):
        submit(s, name="Dan", email="dan@example.com", staff="Nina", start="2026-11-03T10:30")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"phone": "12"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "0612345678", "service": "Massage"}, "service"),
        ({"phone": "0612345678", "start": "2026-11-01T10:00"}, "start"),
        ({"phone": "0612345678", "start": "tomorrow"}, "start"),
        ({"name": "Lena"}, "phone"),
        ({"phone": "0623456789"}, "name"),  # a new customer needs a name
        ({"phone": "0612345678", "notes": "a\x1bb"}, "notes"),
        # Refused as at the desk, never cut to 100 characters.
        ({"name": "L" * 150, "phone": "0623456789"}, "name"),
        ({"name": "Lena " + "V" * 101, "phone": "0623456789"}, "name"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    any_session: Session, shop: dict[str, int], fields: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as bad:
        submit(any_session, **fields)
    any_session.rollback()
    assert bad.value.field == field
    assert any_session.exec(select(func.count()).select_from(BookingRequest)).one() == 0


def test_auto_confirm_books_at_once(any_session: Session, shop: dict[str, int]) -> None:
    set_setting(session=any_session, key="auto_confirm_requests", value="yes")
    r = submit(any_session, phone="0612345678")
    assert r.status == "booked"
    booking = any_session.get(Booking, r.booking_id)
    assert booking is not None and booking.status == "confirmed"


def test_the_desk_accepts_and_declines(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    one = submit(s, phone="0612345678")
    two = submit(s, name="Lena", phone="0623456789")
    view = br.accept_request(session=s, request_id=one.request_id, actor=DESK)
    s.commit()
    assert view.status == "accepted"
    assert s.get(Booking, one.booking_id).status == "confirmed"  # type: ignore[union-attr]
    with pytest.raises(ValidationFailed):
        br.decline_request(session=s, request_id=two.request_id, reason=" ", actor=DESK)
    with pytest.raises(NotAllowed):
        br.decline_request(session=s, request_id=two.request_id, reason="x", actor=THERAPIST)
    br.decline_request(session=s, request_id=two.request_id, reason="fully booked", actor=DESK)
    s.commit()
    cancelled = s.get(Booking, two.booking_id)
    assert cancelled is not None and cancelled.status == "cancelled"
    assert "fully booked" in (cancelled.cancellation_reason or "")
    with pytest.raises(InvalidState):
        br.accept_request(session=s, request_id=two.request_id, actor=DESK)
    listed = br.list_requests(session=s, actor=DESK)
    assert [v.status for v in listed] == ["declined", "accepted"]


def test_resolving_a_review_links_or_creates(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    first = submit(s, name="Johannes", phone="0612345678")
    second = submit(
        s, name="Johannes", phone="0612345678", email="jo@example.com", start="2026-11-03T15:00"
    )
    other = submit(s, name="Lena", phone="0623456789", start="2026-11-04T10:00")
    listed = br.list_requests(session=s, actor=DESK)
    assert [v.status for v in listed] == ["review", "review", "pending"]
    # A new customer for the first one: only a phone was given, and it is Maria's.
    with pytest.raises(ValidationFailed) as taken:
        br.resolve_review(session=s, request_id=first.request_id, actor=DESK)
    assert taken.value.message.startswith("the phone belongs to another customer")
    s.rollback()
    linked = br.resolve_review(
        session=s, request_id=first.request_id, actor=DESK, customer_id=shop["maria"]
    )
    s.commit()
    assert linked.status == "accepted" and linked.customer_id == shop["maria"]
    assert s.get(Booking, linked.booking_id).status == "confirmed"  # type: ignore[union-attr]
    made = br.resolve_review(session=s, request_id=second.request_id, actor=DESK)
    s.commit()
    jo = s.get(Customer, made.customer_id)
    assert jo is not None and jo.first_name == "Johannes"
    assert (jo.phone, jo.email) == (None, "jo@example.com")  # the phone stays Maria's
    assert jo.created_via == "online"
    assert other.status == "pending"


def test_availability_follows_the_desk_rules(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    bookings.create_booking(
        session=s,
        customer_id=shop["maria"],
        service_id=shop["cut"],
        branch_id=shop["branch"],
        staff_id=shop["nina"],
        start_at=datetime(2026, 11, 3, 10, 0, tzinfo=UTC),
        actor=DESK,
    )
    s.commit()
    free = br.availability(
        session=s, service="haircut", branch="Main", day="2026-11-03", now=NOW, tz=UTC
    )
    nina = {x.start.strftime("%H:%M") for x in free.slots if x.staff == "Nina"}
    omar = {x.start.strftime("%H:%M") for x in free.slots if x.staff == "Omar"}
    assert "09:00" in nina and "09:15" not in nina and "10:30" not in nina and "11:00" in nina
    assert "10:00" in omar and "18:00" in omar and "18:15" not in omar
    today = br.availability(
        session=s, service="Haircut", branch=None, day=date(2026, 11, 2), now=NOW, tz=UTC
    )
    assert min(x.start for x in today.slots) > NOW
    with pytest.raises(ValidationFailed) as bad:
        br.availability(session=s, service="Haircut", branch=None, day="02/11", now=NOW, tz=UTC)
    assert bad.value.field == "date"
    # a control character (NUL: PostgreSQL refuses it in a query) is bad input, not a crash
    for service, branch, field in (
        ("Hair\x00cut", "Main", "service"),
        ("Haircut", "Ma\x00in", "branch"),
    ):
        with pytest.raises(ValidationFailed) as bad:
            br.availability(
                session=s, service=service, branch=branch, day="2026-11-03", now=NOW, tz=UTC
            )
        assert bad.value.field == field


def test_lookup_says_name_upcoming_and_points_never_staff_notes(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    submit(s, phone="0612345678")
    program = rewards.default_program(session=s)
    rewards.enrol(
        session=s,
        customer_id=shop["maria"],
        program_id=program.id or 0,
        starting_balance=40,
        actor=DESK,
    )
    notes.add_note(session=s, customer_id=shop["maria"], body="Owes 20 euros", actor=DESK)
    notes.add_note(
        session=s, customer_id=shop["maria"], body="Likes tea", visibility="customer", actor=DESK
    )
    s.commit()
    found = br.lookup(session=s, email="maria.GARCIA@example.com", now=NOW)
    assert found is not None and found.name == "Maria Garcia" and found.points == 40
    assert [u.service for u in found.upcoming] == ["Haircut"]
    assert found.notes == ["Likes tea"]
    assert br.lookup(session=s, phone="0623456789", now=NOW) is None


def test_tokens_are_made_by_admins_stored_hashed_and_revoked(any_engine: Engine) -> None:
    with Session(any_engine) as s:
        with pytest.raises(NotAllowed):
            api_tokens.create_token(session=s, name="site", scopes=["bookings"], actor=DESK)
        new = api_tokens.create_token(
            session=s, name="site", scopes=["bookings", "customers:read"], actor=ADMIN
        )
        s.commit()
        row = s.exec(select(ApiToken)).one()
        assert row.token_hash != new.token and new.token not in row.token_hash
        assert row.token_hash == api_tokens.token_hash(new.token)
        assert api_tokens.authenticate(session=s, token=new.token, scope="bookings").name == "site"
        with pytest.raises(api_tokens.TokenRefused):
            api_tokens.authenticate(session=s, token=new.token + "x", scope="bookings")
        with pytest.raises(ValidationFailed):
            api_tokens.create_token(session=s, name="site", scopes=["bookings"], actor=ADMIN)
        with pytest.raises(ValidationFailed):
            api_tokens.create_token(session=s, name="x", scopes=["everything"], actor=ADMIN)
        only = api_tokens.create_token(
            session=s, name="bot", scopes=["customers:read"], actor=ADMIN
        )
        s.commit()
        with pytest.raises(api_tokens.ScopeMissing):
            api_tokens.authenticate(session=s, token=only.token, scope="bookings")
        api_tokens.revoke_token(session=s, name="site", actor=ADMIN)
        s.commit()
        with pytest.raises(api_tokens.TokenRefused):
            api_tokens.authenticate(session=s, token=new.token, scope="bookings")
        assert [t.name for t in api_tokens.list_tokens(session=s, actor=ADMIN)] == ["bot", "site"]


def test_start_with_an_offset_is_read_on_the_desk_clock(
    any_session: Session, shop: dict[str, int]
) -> None:
    r = submit(any_session, phone="0612345678", start="2026-11-03T11:00+01:00")
    assert r.start_at == datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    assert r.end_at is not None and r.end_at - r.start_at == timedelta(hours=1)


def test_a_booking_longer_than_a_day_still_blocks_its_staff_member(
    any_session: Session, shop: dict[str, int]
) -> None:
    """The overlap checks look back as far as the longest service (at least a day)."""
    s = any_session
    retreat = Service(service_type_id=1, name="Retreat", duration_minutes=50 * 60)
    s.add(retreat)
    s.commit()
    submit(s, phone="0612345678", service="Retreat", staff="Nina", start="2026-11-03T09:00")
    with pytest.raises(br.SlotTaken):
        submit(s, name="Ben", email="ben@example.com", staff="Nina", start="2026-11-05T09:00")
    s.rollback()
    free = br.availability(
        session=s, service="Haircut", branch="Main", day="2026-11-04", now=NOW, tz=UTC
    )
    assert {x.staff for x in free.slots} == {"Omar"}


def test_a_staff_member_is_named_by_name_or_username(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    omar = s.get(Staff, shop["omar"])
    assert omar is not None
    omar.username = "omar.k"
    s.add(omar)
    s.commit()
    # Nina is free at 10:00 too, so only the username can have chosen Omar.
    assert submit(s, phone="0612345678", staff="OMAR.K").staff == "Omar"
    with pytest.raises(ValidationFailed, match=r"unknown staff member 'omar\.x'"):
        submit(s, name="Ben", email="ben@example.com", staff="omar.x")
    # Outside the opening hours, or with someone who is not booked at the branch: refused.
    with pytest.raises(ValidationFailed, match=r"03:00 is outside the opening hours"):
        submit(s, name="Ben", email="ben@example.com", start="2026-11-03T03:00")
    with pytest.raises(ValidationFailed, match=r"18:30 is outside the opening hours"):
        submit(s, name="Ben", email="ben@example.com", start="2026-11-03T18:30")
    # Someone who is not booked at the branch is unknown to the caller, who is told only
    # the names that can be booked (it listed the whole staff, admins included).
    with pytest.raises(ValidationFailed) as refused:
        submit(s, name="Ben", email="ben@example.com", staff="Rita")
    assert refused.value.message == "unknown staff member 'Rita' (known: Nina, Omar)"
    # An unknown service names the ones there are (the caller can correct it).
    with pytest.raises(ValidationFailed, match=r"unknown service 'Massage' \(known: Haircut\)"):
        submit(s, name="Ben", email="ben@example.com", service="Massage")


def test_the_requests_list_follows_merges_and_cancellations(
    any_session: Session, shop: dict[str, int]
) -> None:
    """A finished request named the merged-away customer, and still said "booked" once its
    booking was cancelled."""
    s = any_session
    made = submit(s, name="Ben Twin", email="ben.twin@example.com")
    assert made.customer_created and made.booking_id is not None
    ben = s.exec(select(Customer).where(col(Customer.email) == "ben.twin@example.com")).one()
    ben.merged_into_id = shop["maria"]  # as a merge leaves them
    s.add(ben)
    s.commit()
    (view,) = [v for v in br.list_requests(session=s, actor=DESK) if v.id == made.request_id]
    maria = s.get(Customer, shop["maria"])
    assert maria is not None
    assert view.customer == f"{maria.code} {maria.full_name}" and view.customer_id == maria.id
    assert view.shown_status == view.status
    bookings.change_status(
        session=s, booking_id=made.booking_id, action="cancel", reason="Ill", actor=DESK, now=NOW
    )
    s.commit()
    (view,) = [v for v in br.list_requests(session=s, actor=DESK) if v.id == made.request_id]
    assert view.shown_status == f"{view.status} · booking cancelled"


def test_requests_read_as_sentences_in_the_audit_log(
    any_session: Session, shop: dict[str, int]
) -> None:
    """It showed "Booking request #5 create (booking_id, customer_created, ...)"."""
    from frontdesk.data.audit_log import AuditFilter, load_audit_page
    from frontdesk.data.delete_flow import delete_customers

    s = any_session
    made = submit(s, name="Ben Twin", email="ben.twin@example.com")
    with pytest.raises(ValidationFailed):
        submit(s, name="Ben", email="ben@example.com", start="2026-11-03T03:00")
    br.record_refusal(
        session=s, actor=API, channel="website", field="start", message="03:00 is outside"
    )
    s.commit()
    page = load_audit_page(session=s, viewer=ADMIN, where=AuditFilter(entity="booking_request"))
    lines = [r.what for r in reversed(page.rows)]
    assert lines == [
        f"Booking request #{made.request_id} from website: held for the desk to accept "
        f"(booking #{made.booking_id}, new customer)",
        "Booking request from website refused: start: 03:00 is outside",
    ]
    ben = s.exec(select(Customer).where(col(Customer.email) == "ben.twin@example.com")).one()
    delete_customers(session=s, customer_ids=[ben.id or 0], actor=ADMIN, now=NOW)
    s.commit()
    page = load_audit_page(session=s, viewer=ADMIN, where=AuditFilter(entity="deletion"))
    assert [r.what for r in page.rows] == [
        f"Deleting the customer cancelled 1 booking (#{made.booking_id})"
    ]

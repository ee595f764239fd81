"""Service tests of issue 11, "small ways input is lost": refunds refused on their field,
a booking already past, enrolment notes, note summaries and a timeline a person can read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from frontdesk.data import booking_flow as flow
from frontdesk.data import bookings as bk
from frontdesk.data import customers as svc
from frontdesk.data import orders as od
from frontdesk.data import profile, profile_actions, rewards
from frontdesk.data.audit_text import (
    Names,
    change_text,
    colour_name,
    describe_customer_event,
    value_text,
)
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.models import Booking, Branch, Category, Service, ServiceType, Staff
from frontdesk.data.note_text import markdown_summary
from frontdesk.screens.field_input import parse_whole
from tests.actors import ADMIN

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def desk(any_session: Session) -> dict[str, int]:
    s = any_session
    branch = Branch(name="Main")
    stype = ServiceType(name="Hair")
    s.add_all([branch, stype])
    s.flush()
    cut = Service(service_type_id=stype.id or 0, name="Cut", duration_minutes=60, price_cents=4500)
    nina = Staff(name="Nina", role="therapist", branch_id=branch.id)
    s.add_all([cut, nina])
    s.flush()
    ann = svc.create_customer(
        session=s, data=svc.CustomerCreate(first_name="Ann", email="ann@example.com"), actor=ADMIN
    )
    ids = {
        "branch": branch.id or 0,
        "cut": cut.id or 0,
        "nina": nina.id or 0,
        "ann": ann.id or 0,
    }
    s.commit()
    return ids


# --------------------------------------------------------------------------- refunds


def test_refund_refuses_text_and_too_much_on_the_amount_field(
    any_session: Session, desk: dict[str, int]
) -> None:
    s = any_session
    order = od.create_order(
        session=s,
        customer_id=desk["ann"],
        branch_id=desk["branch"],
        lines=[od.LineInput(kind="service", service_id=desk["cut"])],
        actor=ADMIN,
    )
    od.take_payment(session=s, order_id=order.id or 0, amount_cents=3000, actor=ADMIN)
    s.commit()
    for amount, words in [("ten", "not an amount"), ("", "enter an amount"), ("50", "at most")]:
        with pytest.raises(ValidationFailed) as err:
            profile_actions.change_order(
                session=s,
                order_id=order.id or 0,
                action="refund",
                actor=ADMIN,
                amount=amount,
                reason="Colour faded",
            )
        assert err.value.field == "amount" and words in err.value.message
        s.rollback()
    with pytest.raises(ValidationFailed) as err:
        profile_actions.change_order(
            session=s, order_id=order.id or 0, action="refund", actor=ADMIN, amount="5", reason=""
        )
    assert err.value.field == "reason"


@pytest.mark.parametrize(
    ("text", "value"),
    [("25", 25), ("+25", 25), ("1,000", 1000), (" 7 ", 7), ("", 0)],
)
def test_whole_numbers_read_as_typed(text: str, value: int) -> None:
    assert parse_whole(text, "points", what="points", empty=0) == value


@pytest.mark.parametrize("text", ["ten", "-5", "2.5", "1e3", "0"])
def test_whole_numbers_refused_with_a_message(text: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_whole(text, "m-points", what="a number of points", minimum=1)
    assert err.value.field == "m-points" and err.value.message


# --------------------------------------------------------------------------- bookings


def request(desk: dict[str, int], day: str, time: str, **kw: object) -> flow.BookingRequest:
    return flow.BookingRequest(
        customer_id=desk["ann"],
        branch_id=desk["branch"],
        service_id=desk["cut"],
        staff_id=desk["nina"],
        day=day,
        time=time,
        **kw,  # type: ignore[arg-type]
    )


def test_a_start_already_past_is_asked_about_not_booked(
    any_session: Session, desk: dict[str, int]
) -> None:
    s = any_session
    with pytest.raises(flow.StartInPast) as err:
        flow.book_appointment(
            session=s, request=request(desk, "2026-11-02", "10:00"), actor=ADMIN, tz=UTC, now=NOW
        )
    assert err.value.shown == "10:00" and "already past" in str(err.value)
    with pytest.raises(flow.StartInPast) as other_day:
        flow.book_appointment(
            session=s, request=request(desk, "2026-11-01", "10:00"), actor=ADMIN, tz=UTC, now=NOW
        )
    assert other_day.value.shown == "2026-11-01 10:00"
    s.rollback()
    assert not s.exec(select(Booking)).all()


def test_a_walk_in_that_happened_is_recorded_completed(
    any_session: Session, desk: dict[str, int]
) -> None:
    s = any_session
    booked = flow.book_appointment(
        session=s,
        request=request(desk, "2026-11-02", "10:00", walk_in=True),
        actor=ADMIN,
        tz=UTC,
        now=NOW,
    )
    s.commit()
    assert booked.status == "completed"
    b = bk.get_booking(session=s, booking_id=booked.booking_id)
    assert (b.status, b.source) == ("completed", "walk-in")
    assert bk._aware(b.start_at) == NOW.replace(hour=10)
    stats = profile.customer_stats(
        session=s, customer=svc.get_customer(session=s, customer_id=desk["ann"]), now=NOW
    )
    assert stats.visits == 1


def test_now_and_later_are_booked_confirmed(any_session: Session, desk: dict[str, int]) -> None:
    s = any_session
    # a start a few minutes ago is "now" (the customer is at the desk), later is later
    for time in ("11:57", "15:00"):
        booked = flow.book_appointment(
            session=s, request=request(desk, "2026-11-02", time), actor=ADMIN, tz=UTC, now=NOW
        )
        assert booked.status == "confirmed"
    # without a clock (scripts, imports) nothing is asked
    booked = flow.book_appointment(
        session=s, request=request(desk, "2026-10-01", "09:00"), actor=ADMIN, tz=UTC
    )
    assert booked.status == "confirmed"
    assert flow.is_past(NOW - timedelta(minutes=6), NOW)
    assert not flow.is_past(NOW - flow.PAST_GRACE, NOW)


# --------------------------------------------------------------------------- rewards


def test_enrolment_notes_are_in_the_rewards_tab(any_session: Session, desk: dict[str, int]) -> None:
    s = any_session
    program = rewards.default_program(session=s)
    rewards.enrol(
        session=s,
        customer_id=desk["ann"],
        program_id=program.id or 0,
        notes="Joined at the **summer** fair [x]",
        actor=ADMIN,
    )
    s.commit()
    tab = profile.load_rewards_tab(session=s, customer_id=desk["ann"])
    assert [e.notes for e in tab.enrolments] == ["Joined at the **summer** fair [x]"]


# --------------------------------------------------------------------------- notes


@pytest.mark.parametrize(
    ("markdown", "summary"),
    [
        ("# Patch test\n- **Severe** nut allergy", "Patch test · Severe nut allergy"),
        ("Likes tea\nwith *milk*", "Likes tea with milk"),
        ("1. one\n2. two\n\n> quoted `code`", "one · two · quoted code"),
        ("[b]bold?[/b] [x](file:///etc/passwd) <b>", "[b]bold?[/b] [x](file:///etc/passwd) <b>"),
        ("red \x1b[31m\tand\u202eevil", "red \\x1b[31m and\\u202eevil"),
        ("```\nline one\nline two\n```", "line one line two"),
        ("", ""),
        ("   \n\n  ", ""),
    ],
)
def test_markdown_summary_is_one_plain_line(markdown: str, summary: str) -> None:
    assert markdown_summary(markdown) == summary


def test_markdown_summary_cuts_long_notes() -> None:
    cut = markdown_summary("# Patch test\n\n" + "word " * 40, max_length=30)
    assert len(cut) == 30 and cut.endswith("…") and cut.startswith("Patch test · word")


# --------------------------------------------------------------------------- timeline


def test_timeline_values_as_a_person_reads_them() -> None:
    names = Names(categories={3: "★ VIP"}, branches={1: "Harbour"})
    assert value_text("blocked", True) == "yes" and value_text("blocked", None) == "—"
    assert change_text("blocked", None, True) == "Blocked: no → yes"
    assert change_text("date_of_birth", None, "1990-04-23") == "Date of birth: — → 1990-04-23"
    assert change_text("category_id", None, 3, names) == "Category: — → ★ VIP"
    assert change_text("home_branch_id", 1, 9, names) == "Home branch: Harbour → branch #9"
    assert change_text("consent_marketing", False, True) == "Marketing: no → yes"
    assert colour_name("#FFD700") == "gold" and colour_name("#123456") == "#123456"
    assert value_text("colour", "#ff0000") == "red"
    assert value_text("phone", "+31612345678") != "+31612345678"  # shown formatted
    moment = value_text("deleted_at", "2026-11-02T12:00:00+00:00")
    assert len(moment) == 16 and moment.startswith("2026-11-0")  # a date and a time, local
    block = describe_customer_event(
        "block", "Rita", {"blocked": [False, True], "blocked_reason": [None, "owes money"]}
    )
    assert block == "Blocked by Rita: owes money"
    assert describe_customer_event("unblock", "Rita", {"blocked": [True, False]}) == (
        "Unblocked by Rita"
    )
    custom = describe_customer_event(
        "custom_fields",
        "Rita",
        {"custom: hair": ["", "Red"]},
        Names(fields={"hair": "Hair colour"}),
    )
    assert custom == "Custom fields changed by Rita: Hair colour: — → Red"


def test_timeline_of_a_blocked_and_edited_customer(
    any_session: Session, desk: dict[str, int]
) -> None:
    s = any_session
    vip = Category(name="Gold club", symbol="★")
    s.add(vip)
    s.flush()
    cid = desk["ann"]
    svc.block_customer(session=s, customer_id=cid, reason="owes [money]", actor=ADMIN)
    svc.unblock_customer(session=s, customer_id=cid, actor=ADMIN)
    current = svc.get_customer(session=s, customer_id=cid)
    svc.update_customer(
        session=s,
        customer_id=cid,
        data=svc.CustomerUpdate(date_of_birth=date(1990, 4, 23), category_id=vip.id),
        expected_version=current.version,
        actor=ADMIN,
    )
    s.commit()
    texts = [i.text for i in profile.load_timeline_tab(session=s, customer_id=cid)]
    joined = "\n".join(texts)
    assert "True" not in joined and "False" not in joined and "blocked:" not in joined
    assert "Blocked by Test admin: owes [money]" in texts
    assert "Unblocked by Test admin" in texts
    changed = next(t for t in texts if t.startswith("Profile changed"))
    assert "Date of birth: — → 1990-04-23" in changed and "Category: — → ★ Gold club" in changed


def test_timeline_notes_are_summaries(any_session: Session, desk: dict[str, int]) -> None:
    from frontdesk.data import notes as note_svc

    s = any_session
    note_svc.add_note(
        session=s,
        customer_id=desk["ann"],
        body="# Patch test\n- **Severe** nut allergy",
        actor=ADMIN,
    )
    s.commit()
    texts = [i.text for i in profile.load_timeline_tab(session=s, customer_id=desk["ann"])]
    assert "Note (general): Patch test · Severe nut allergy" in texts
    assert not s.exec(select(Booking).where(col(Booking.customer_id) == desk["ann"])).all()

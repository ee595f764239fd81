"""Service tests: the points ledger invariants, notes, custom fields."""

from __future__ import annotations

import multiprocessing as mp
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, text
from sqlmodel import Session, col, select

from frontdesk.data import customers as svc
from frontdesk.data import directory, fields, notes, rewards
from frontdesk.data.check import run_checks
from frontdesk.data.db import open_database
from frontdesk.data.errors import InsufficientPoints, ValidationFailed
from frontdesk.data.models import LoyaltyEnrolment, PointsEntry
from tests.actors import ADMIN


def new_customer(s: Session, name: str = "Ann") -> int:
    c = svc.create_customer(
        actor=ADMIN,
        session=s,
        data=svc.CustomerCreate(first_name=name, email=f"{name.lower()}@example.com"),
    )
    cid = c.id or 0
    s.commit()
    return cid


def assert_ledger_ok(s: Session, enrolment_id: int) -> None:
    e = s.get(LoyaltyEnrolment, enrolment_id)
    assert e is not None
    s.refresh(e)
    entries = s.exec(
        select(PointsEntry)
        .where(col(PointsEntry.enrolment_id) == enrolment_id)
        .order_by(col(PointsEntry.id))
    ).all()
    assert e.balance == sum(x.points for x in entries)
    assert e.balance == (entries[-1].balance_after if entries else 0)
    running = 0
    for x in entries:
        running += x.points
        assert running == x.balance_after >= 0


def test_default_program_exists(any_session: Session) -> None:
    assert rewards.default_program(session=any_session).name == "Reward points"


def test_enrol_add_redeem_and_refuse_overdraw(any_session: Session) -> None:
    s = any_session
    cid = new_customer(s)
    program = rewards.default_program(session=s)
    e = rewards.enrol(
        session=s,
        customer_id=cid,
        program_id=program.id or 0,
        starting_balance=100,
        notes="Welcome",
        actor=ADMIN,
    )
    s.commit()
    eid = e.id or 0
    rewards.change_points(session=s, enrolment_id=eid, points=50, reason="Birthday", actor=ADMIN)
    rewards.change_points(
        session=s, enrolment_id=eid, points=-120, reason="Free blow-dry", actor=ADMIN
    )
    s.commit()
    with pytest.raises(InsufficientPoints) as err:
        rewards.change_points(
            session=s, enrolment_id=eid, points=-31, reason="Too much", actor=ADMIN
        )
    assert err.value.balance == 30
    s.rollback()
    with pytest.raises(ValidationFailed):
        rewards.change_points(session=s, enrolment_id=eid, points=5, reason="  ", actor=ADMIN)
    s.rollback()
    with pytest.raises(ValidationFailed, match="already enrolled"):
        rewards.enrol(session=s, customer_id=cid, program_id=program.id or 0, actor=ADMIN)
    s.rollback()
    assert_ledger_ok(s, eid)
    actions = s.exec(
        select(PointsEntry.action)
        .where(col(PointsEntry.enrolment_id) == eid)
        .order_by(col(PointsEntry.id))
    ).all()
    assert actions == ["added", "added", "redeemed"]


def test_request_id_applies_once(any_session: Session) -> None:
    s = any_session
    cid = new_customer(s)
    e = rewards.enrol(session=s, customer_id=cid, program_id=1, actor=ADMIN)
    s.commit()
    first = rewards.change_points(
        session=s,
        enrolment_id=e.id or 0,
        points=10,
        reason="Promo",
        request_id="req-1",
        actor=ADMIN,
    )
    again = rewards.change_points(
        session=s,
        enrolment_id=e.id or 0,
        points=10,
        reason="Promo",
        request_id="req-1",
        actor=ADMIN,
    )
    s.commit()
    assert first.id == again.id
    assert s.get(LoyaltyEnrolment, e.id).balance == 10  # type: ignore[union-attr]


def test_expiry_writes_an_entry_and_removal_keeps_ledger(any_session: Session) -> None:
    s = any_session
    cid = new_customer(s)
    program = rewards.save_program(
        session=s, name="Spa credits", unit="credits", default_expiry_days=30, actor=ADMIN
    )
    e = rewards.enrol(
        session=s,
        customer_id=cid,
        program_id=program.id or 0,
        starting_balance=40,
        today=date(2026, 1, 1),
        actor=ADMIN,
    )
    s.commit()
    assert e.expires_on == date(2026, 1, 31)
    assert rewards.expire_points(session=s, today=date(2026, 1, 31)) == 0
    assert rewards.expire_points(session=s, today=date(2026, 2, 1)) == 1
    s.commit()
    assert_ledger_ok(s, e.id or 0)
    last = s.exec(
        select(PointsEntry)
        .where(col(PointsEntry.enrolment_id) == e.id)
        .order_by(col(PointsEntry.id).desc())
    ).first()
    assert last is not None and last.action == "expired" and last.points == -40
    rewards.change_expiry(
        session=s, enrolment_id=e.id or 0, expires_on=date(2027, 1, 1), actor=ADMIN
    )
    rewards.remove_enrolment(session=s, enrolment_id=e.id or 0, actor=ADMIN)
    s.commit()
    assert (
        s.exec(
            select(func.count())
            .select_from(PointsEntry)
            .where(col(PointsEntry.enrolment_id) == e.id)
        ).one()
        == 2
    )
    # Removed: can enrol again, fresh.
    rewards.enrol(session=s, customer_id=cid, program_id=program.id or 0, actor=ADMIN)
    s.commit()


def test_an_expiry_date_already_gone_is_refused(any_session: Session) -> None:
    """A typo of the year gave points that could be spent until the next write-off."""
    s = any_session
    cid = new_customer(s)
    program = rewards.default_program(session=s)
    today = date(2026, 11, 29)
    with pytest.raises(ValidationFailed) as refused:
        rewards.enrol(
            session=s,
            customer_id=cid,
            program_id=program.id or 0,
            starting_balance=50,
            expires_on=date(2020, 1, 1),
            today=today,
            actor=ADMIN,
        )
    assert refused.value.field == "expires_on" and "in the past" in refused.value.message
    s.rollback()
    e = rewards.enrol(
        session=s,
        customer_id=cid,
        program_id=program.id or 0,
        expires_on=today,  # today itself is fine
        today=today,
        actor=ADMIN,
    )
    with pytest.raises(ValidationFailed):
        rewards.change_expiry(
            session=s,
            enrolment_id=e.id or 0,
            expires_on=today - timedelta(days=1),
            today=today,
            actor=ADMIN,
        )


def test_points_beyond_the_ceiling_are_refused_not_crashed(any_session: Session) -> None:
    """A number past the database's whole numbers stopped an import with an error report;
    every way in refuses it under its field."""
    s = any_session
    cid = new_customer(s)
    program = rewards.default_program(session=s)
    huge = 99_999_999_999_999_999_999
    with pytest.raises(ValidationFailed) as refused:
        rewards.enrol(
            session=s,
            customer_id=cid,
            program_id=program.id or 0,
            starting_balance=huge,
            actor=ADMIN,
        )
    assert refused.value.field == "starting_balance"
    s.rollback()
    e = rewards.enrol(
        session=s,
        customer_id=cid,
        program_id=program.id or 0,
        starting_balance=rewards.MAX_POINTS,
        actor=ADMIN,
    )
    with pytest.raises(ValidationFailed) as over:  # one more would pass the ceiling
        rewards.change_points(
            session=s, enrolment_id=e.id or 0, points=1, reason="Gift", actor=ADMIN
        )
    assert over.value.field == "points"
    s.rollback()
    for per_visit, per_unit, days, field in (
        (huge, 0, None, "points_per_visit"),
        (0, rewards.MAX_EARNING + 1, None, "points_per_currency_unit"),
        (0, 0, 10**9, "default_expiry_days"),
    ):
        with pytest.raises(ValidationFailed) as bad:
            rewards.save_program(
                session=s,
                name="Big",
                points_per_visit=per_visit,
                points_per_currency_unit=per_unit,
                default_expiry_days=days,
                actor=ADMIN,
            )
        assert bad.value.field == field
        s.rollback()


def test_earning_rules(any_session: Session) -> None:
    from frontdesk.data import bookings as bk
    from frontdesk.data import orders as od
    from frontdesk.data.models import Branch, Service, ServiceType
    from tests.data.test_bookings_orders import AFTER, DAY

    s = any_session
    cid = new_customer(s)
    program = rewards.default_program(session=s)
    rewards.save_program(
        session=s,
        program_id=program.id,
        name=program.name,
        points_per_currency_unit=2,
        points_per_visit=10,
        actor=ADMIN,
    )
    e = rewards.enrol(session=s, customer_id=cid, program_id=program.id or 0, actor=ADMIN)
    branch, stype = Branch(name="B"), ServiceType(name="T")
    s.add_all([branch, stype])
    s.flush()
    service = Service(
        service_type_id=stype.id or 0, name="Cut", duration_minutes=30, price_cents=4550
    )
    s.add(service)
    s.flush()
    b = bk.create_booking(
        session=s,
        customer_id=cid,
        service_id=service.id or 0,
        branch_id=branch.id or 0,
        staff_id=None,
        start_at=DAY,
        actor=ADMIN,
    )
    bk.change_status(session=s, booking_id=b.id or 0, action="complete", actor=ADMIN, now=AFTER)
    order = od.order_for_booking(session=s, booking_id=b.id or 0, actor=ADMIN)
    od.take_payment(session=s, order_id=order.id or 0, amount_cents=4550, actor=ADMIN)
    od.refund(session=s, order_id=order.id or 0, amount_cents=1000, reason="Late", actor=ADMIN)
    s.commit()
    s.refresh(e)
    assert e.balance == 10 + 2 * 45 - 2 * 10
    assert_ledger_ok(s, e.id or 0)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ops=st.lists(
        st.tuples(st.sampled_from(["add", "redeem", "expire", "merge"]), st.integers(1, 200)),
        max_size=25,
    )
)
def test_ledger_invariants_hold_for_any_sequence(
    tmp_path: Path, ops: list[tuple[str, int]]
) -> None:
    engine = open_database(tmp_path / f"ledger-{abs(hash(tuple(ops)))}.db")
    with Session(engine) as s:
        cid = new_customer(s)
        e = rewards.enrol(
            session=s, customer_id=cid, program_id=1, expires_on=date(2030, 1, 1), actor=ADMIN
        )
        s.commit()
        eid = e.id or 0
        for op, n in ops:
            try:
                if op == "add":
                    rewards.change_points(
                        session=s, enrolment_id=eid, points=n, reason="add", actor=ADMIN
                    )
                elif op == "redeem":
                    rewards.change_points(
                        session=s, enrolment_id=eid, points=-n, reason="redeem", actor=ADMIN
                    )
                elif op == "merge":
                    rewards.change_points(
                        session=s,
                        enrolment_id=eid,
                        points=n,
                        reason="merged in",
                        action="merged",
                        actor=ADMIN,
                    )
                else:
                    rewards.expire_points(session=s, today=date(2030, 1, 2))
                    rewards.change_expiry(
                        session=s, enrolment_id=eid, expires_on=date(2030, 1, 1), actor=ADMIN
                    )
                s.commit()
            except InsufficientPoints:
                s.rollback()
        assert_ledger_ok(s, eid)
    assert run_checks(engine).ok
    engine.dispose()


def _redeem(url: str, eid: int, barrier: mp.synchronize.Barrier, out: mp.Queue) -> None:  # type: ignore[type-arg]
    engine = open_database(url)
    barrier.wait()
    try:
        with Session(engine) as s:
            rewards.change_points(
                session=s, enrolment_id=eid, points=-70, reason="race", actor=ADMIN
            )
            s.commit()
        out.put("ok")
    except InsufficientPoints:
        out.put("refused")
    except Exception as exc:  # pragma: no cover
        out.put(repr(exc))


def test_two_processes_redeeming_cannot_overdraw(any_engine: Engine) -> None:
    with Session(any_engine) as s:
        cid = new_customer(s)
        e = rewards.enrol(
            session=s, customer_id=cid, program_id=1, starting_balance=100, actor=ADMIN
        )
        eid = e.id or 0
        s.commit()
    url = (
        str(any_engine.url.database)
        if any_engine.dialect.name == "sqlite"
        else any_engine.url.render_as_string(hide_password=False)
    )
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_redeem, args=(url, eid, barrier, out)) for _ in range(2)]
    for p in procs:
        p.start()
    results = sorted(out.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(timeout=30)
    assert results == ["ok", "refused"]
    with Session(any_engine) as s:
        assert_ledger_ok(s, eid)
        assert s.get(LoyaltyEnrolment, eid).balance == 30  # type: ignore[union-attr]


def test_bulk_enrol(any_engine: Engine) -> None:
    with Session(any_engine) as s:
        ids = [new_customer(s, n) for n in ("Ann", "Bob", "Cy")]
        rewards.enrol(session=s, customer_id=ids[0], program_id=1, actor=ADMIN)
        s.commit()
    assert rewards.bulk_enrol(
        engine=any_engine, customer_ids=ids, program_id=1, starting_balance=5, actor=ADMIN
    ) == (2, 1)


# ---------------------------------------------------------------- notes


def test_a_note_changed_by_another_names_them_as_well(any_session: Session) -> None:
    from frontdesk.data.profile import notes_of
    from frontdesk.data.staff import create_staff

    s = any_session
    cid = new_customer(s)
    rita = create_staff(session=s, name="Rita [desk]", role="reception", username="r", actor=ADMIN)
    nina = create_staff(session=s, name="Nina", role="reception", username="n", actor=ADMIN)
    note = notes.add_note(session=s, customer_id=cid, body="Likes tea", actor=rita)
    s.commit()

    def edit(body: str, actor: object) -> None:
        notes.update_note(
            session=s,
            note_id=note.id or 0,
            body=body,
            category_id=None,
            visibility="staff",
            pinned=False,
            is_alert=False,
            actor=actor,  # type: ignore[arg-type]
        )
        s.commit()

    [row] = notes_of(session=s, customer_id=cid)
    assert row.by == "Rita [desk]" and row.edited_by == ""
    edit("Likes tea", nina)  # saved unchanged: not an edit
    assert notes_of(session=s, customer_id=cid)[0].by == "Rita [desk]"
    edit("Likes green tea", nina)
    [row] = notes_of(session=s, customer_id=cid)
    assert row.by == "Rita [desk], edited by Nina" and row.author == "Rita [desk]"
    notes.move_note(session=s, note_id=note.id or 0, direction=1, actor=rita)
    edit("Likes green tea, no sugar", rita)  # the author's own change: named once
    assert notes_of(session=s, customer_id=cid)[0].by == "Rita [desk]"


def test_a_therapist_moves_only_their_own_notes(any_session: Session) -> None:
    """Reordering a note is changing it: another's note needs ``notes.others`` (the desk),
    as editing and deleting it do; nothing moves when it is refused."""
    from frontdesk.data.profile import notes_of
    from frontdesk.data.roles import NotAllowed
    from frontdesk.data.staff import create_staff

    s = any_session
    cid = new_customer(s)
    rita = create_staff(session=s, name="Rita", role="reception", username="r", actor=ADMIN)
    tara = create_staff(session=s, name="Tara", role="therapist", username="t", actor=ADMIN)
    ritas = notes.add_note(session=s, customer_id=cid, body="Rita's", actor=rita)
    taras = notes.add_note(session=s, customer_id=cid, body="Tara's", actor=tara)
    s.commit()

    def order() -> list[str]:
        return [n.body for n in notes_of(session=s, customer_id=cid)]

    assert order() == ["Tara's", "Rita's"]
    for direction in (-1, 1):
        with pytest.raises(NotAllowed, match="may not change or delete notes others wrote"):
            notes.move_note(session=s, note_id=ritas.id or 0, direction=direction, actor=tara)
        s.rollback()
        assert order() == ["Tara's", "Rita's"]
    notes.move_note(session=s, note_id=taras.id or 0, direction=1, actor=tara)  # her own
    s.commit()
    assert order() == ["Rita's", "Tara's"]
    notes.move_note(session=s, note_id=taras.id or 0, direction=-1, actor=rita)  # the desk
    s.commit()
    assert order() == ["Tara's", "Rita's"]


def test_notes_add_edit_reorder_delete(any_session: Session) -> None:
    s = any_session
    cid = new_customer(s)
    cats = {c.name: c.id for c in notes.list_categories(session=s)}
    a = notes.add_note(
        session=s, customer_id=cid, body="First", category_id=cats["Preferences"], actor=ADMIN
    )
    b = notes.add_note(session=s, customer_id=cid, body="Second **bold**", actor=ADMIN)
    c = notes.add_note(
        session=s, customer_id=cid, body="Latex allergy", category_id=cats["Alert"], actor=ADMIN
    )
    s.commit()
    from frontdesk.data.profile import notes_of

    assert [n.body for n in notes_of(session=s, customer_id=cid)] == [
        "Latex allergy",
        "Second **bold**",
        "First",
    ]
    assert [n.body for n in notes_of(session=s, customer_id=cid, alerts_only=True)] == [
        "Latex allergy"
    ]
    notes.move_note(session=s, note_id=a.id or 0, direction=-1, actor=ADMIN)
    s.commit()
    assert [n.body for n in notes_of(session=s, customer_id=cid)] == [
        "Latex allergy",
        "First",
        "Second **bold**",
    ]
    notes.update_note(
        session=s,
        note_id=b.id or 0,
        body="Second, edited",
        category_id=None,
        visibility="customer",
        pinned=True,
        is_alert=False,
        actor=ADMIN,
    )
    s.commit()
    assert notes_of(session=s, customer_id=cid)[0].body == "Second, edited"
    with pytest.raises(ValidationFailed):
        notes.add_note(session=s, customer_id=cid, body="   ", actor=ADMIN)
    s.rollback()
    notes.delete_note(session=s, note_id=c.id or 0, actor=ADMIN)
    s.commit()
    assert len(notes_of(session=s, customer_id=cid)) == 2


# ---------------------------------------------------------------- custom fields


def test_custom_fields_definitions_values_and_filters(any_session: Session) -> None:
    s = any_session
    ann, bob = new_customer(s, "Ann"), new_customer(s, "Bob")
    hair = fields.save_field(
        session=s,
        label="Hair colour",
        type="choice",
        choices=["Blonde", "Brown", "Red"],
        actor=ADMIN,
    )
    since = fields.save_field(session=s, label="Member since", type="date", actor=ADMIN)
    allergies = fields.save_field(session=s, label="Allergies", type="long_text", actor=ADMIN)
    vip = fields.save_field(session=s, label="Newsletter VIP", type="yes_no", actor=ADMIN)
    shoe = fields.save_field(session=s, label="Shoe size", type="number", actor=ADMIN)
    assert hair.key == "hair_colour"
    s.commit()
    with pytest.raises(ValidationFailed, match="taken"):
        fields.save_field(session=s, label="Hair colour", type="text", actor=ADMIN)
    s.rollback()
    fields.set_values(
        session=s,
        customer_id=ann,
        values={
            "hair_colour": "blonde",
            "member_since": "2020-05-01",
            "allergies": "Nuts",
            "newsletter_vip": "yes",
            "shoe_size": "38,5",
        },
        actor=ADMIN,
    )
    fields.set_values(session=s, customer_id=bob, values={"hair_colour": "Red"}, actor=ADMIN)
    s.commit()
    assert fields.values_of(session=s, customer_id=ann) == {
        "hair_colour": "Blonde",
        "member_since": "2020-05-01",
        "allergies": "Nuts",
        "newsletter_vip": "yes",
        "shoe_size": "38.5",
    }
    with pytest.raises(ValidationFailed, match="one of"):
        fields.set_values(session=s, customer_id=ann, values={"hair_colour": "Green"}, actor=ADMIN)
    s.rollback()
    with pytest.raises(ValidationFailed, match="YYYY-MM-DD"):
        fields.set_values(
            session=s, customer_id=ann, values={"member_since": "yesterday"}, actor=ADMIN
        )
    s.rollback()

    def match(f: fields.FieldFilter) -> set[int]:
        adv = directory.AdvancedFilter(custom=(f,))
        from dataclasses import replace

        return {
            c.id or 0
            for c in svc.directory_page(
                session=s, filters=replace(svc.DirectoryFilter(), extra=adv.conditions())
            )
        }

    assert match(fields.FieldFilter.of(hair, "equals", "red")) == {bob}
    assert match(fields.FieldFilter.of(allergies, "contains", "nut")) == {ann}
    assert match(fields.FieldFilter.of(allergies, "empty")) == {bob}
    assert match(fields.FieldFilter.of(since, "between", "2020-01-01", "2020-12-31")) == {ann}
    assert match(fields.FieldFilter.of(vip, "equals", "yes")) == {ann}
    assert match(fields.FieldFilter.of(shoe, "equals", "38.5")) == {ann}
    fields.archive_field(session=s, field_id=allergies.id or 0, actor=ADMIN)
    s.commit()
    assert "allergies" not in [f.key for f in fields.list_fields(session=s)]
    assert fields.values_of(session=s, customer_id=ann)["allergies"] == "Nuts"  # kept
    assert fields.delete_field(session=s, field_id=hair.id or 0, actor=ADMIN) == 2
    s.commit()
    assert "hair_colour" not in fields.values_of(session=s, customer_id=ann)
    fields.move_field(session=s, field_id=shoe.id or 0, direction=-1, actor=ADMIN)
    s.commit()
    keys = [f.key for f in fields.list_fields(session=s)]
    assert keys.index("shoe_size") < keys.index("newsletter_vip")
    required = fields.save_field(
        session=s, label="Referral", type="text", required=True, actor=ADMIN
    )
    with pytest.raises(ValidationFailed, match="required"):
        fields.check_required(session=s, values={})
    assert required.required
    assert timedelta
    assert text

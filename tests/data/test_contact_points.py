"""Secondary phones and emails, merges that keep every contact, finding merged-away customers,
and merges that never deadlock (issue 11, "Merge and delete lose facts")."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from frontdesk.cli import main
from frontdesk.data import contacts, directory, merge, picker
from frontdesk.data import customers as svc
from frontdesk.data.db import open_database
from frontdesk.data.errors import DuplicateCustomer, InvalidState, ValidationFailed
from frontdesk.data.models import ContactPoint, Customer, Staff
from frontdesk.data.roles import NotAllowed
from tests.actors import ADMIN
from tests.conftest import drop_pg_database, new_pg_database, postgres_available

OLD_PHONE = "+16505552671"
OLD_EMAIL = "maria@home.com"


def _staff(s: Session) -> dict[str, Staff]:
    people = {
        "admin": Staff(name="Boss", username="boss", role="admin"),
        "reception": Staff(name="Rita", username="rita", role="reception"),
        "therapist": Staff(name="Tess", username="tess", role="therapist"),
    }
    s.add_all(people.values())
    s.flush()
    return people


def _pair(s: Session) -> tuple[Customer, Customer]:
    a = svc.create_customer(
        actor=ADMIN,
        session=s,
        data=svc.CustomerCreate(
            first_name="Maria", last_name="Garcia", phone="+14155552671", email="maria@work.com"
        ),
    )
    b = svc.create_customer(
        actor=ADMIN,
        session=s,
        data=svc.CustomerCreate(
            first_name="María",
            last_name="Garsia",
            phone=OLD_PHONE,
            other_phone="+16505550199",
            email="Maria@Home.com",
        ),
    )
    s.flush()
    return a, b


def _secondaries(s: Session, customer_id: int) -> dict[tuple[str, str], str]:
    return {
        (v.kind, v.value): v.origin
        for v in contacts.contacts_of(session=s, customer_id=customer_id)
    }


def test_merge_keeps_the_merged_away_phones_and_email_as_secondaries(any_session: Session) -> None:
    s = any_session
    staff = _staff(s)
    a, b = _pair(s)
    merge.merge_customers(
        session=s, survivor_id=a.id or 0, other_ids=[b.id or 0], actor=staff["reception"]
    )
    s.commit()
    origin = f"merged from {b.code}"
    assert _secondaries(s, a.id or 0) == {
        ("phone", OLD_PHONE): origin,
        ("email", "maria@home.com"): origin,
    }
    # The survivor had no other phone: the other's fills it (a primary, not a secondary).
    assert s.get(Customer, a.id).other_phone == "+16505550199"  # type: ignore[union-attr]
    shown = {v.shown for v in contacts.contacts_of(session=s, customer_id=a.id or 0)}
    assert "Maria@Home.com" in shown  # the email as it was typed


def test_merge_keeps_the_survivors_replaced_values_too(any_session: Session) -> None:
    s = any_session
    staff = _staff(s)
    a, b = _pair(s)
    merge.merge_customers(
        session=s,
        survivor_id=a.id or 0,
        other_ids=[b.id or 0],
        chosen={"email": "Maria@Home.com", "phone": OLD_PHONE},
        actor=staff["admin"],
    )
    s.commit()
    kept = _secondaries(s, a.id or 0)
    assert kept[("email", "maria@work.com")] == f"{a.code} before a merge"
    assert kept[("phone", "+14155552671")] == f"{a.code} before a merge"
    assert ("email", "maria@home.com") not in kept  # it is the primary now
    # Merging the survivor on: its secondaries follow it.
    c = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Mia", phone="+14155550100")
    )
    merge.merge_customers(
        session=s, survivor_id=c.id or 0, other_ids=[a.id or 0], actor=staff["admin"]
    )
    s.commit()
    moved = _secondaries(s, c.id or 0)
    assert ("email", "maria@work.com") in moved
    assert ("phone", OLD_PHONE) in moved  # a's primary, not kept by c
    assert _secondaries(s, a.id or 0) == {}


def test_search_finds_merged_away_code_phone_and_email_and_says_so(any_session: Session) -> None:
    s = any_session
    staff = _staff(s)
    a, b = _pair(s)
    merge.merge_customers(
        session=s, survivor_id=a.id or 0, other_ids=[b.id or 0], actor=staff["reception"]
    )
    s.commit()
    note = f"{b.code} was merged into {a.code}"
    for text in (b.code, b.code.lower().replace("-", ""), "(650) 555-2671", "MARIA@home.com"):
        found = svc.search(session=s, text=text, region="US")
        assert [c.id for c in found] == [a.id], text
        assert svc.search_notes(session=s, text=text, region="US") == {a.id: note}, text
        page = directory.load_directory_page(session=s, text=text, region="US")
        assert [c.id for c in page.rows] == [a.id] and page.count == 1, text
        assert page.notes == {a.id: note}, text
        assert [c.id for c in svc.search(session=s, text=text, region="US")] == [a.id]
        assert svc.count_matches(session=s, text=text, region="US") == 1
    matches = picker.matches(session=s, text="6505552671")
    assert [(m.id, m.note) for m in matches] == [(a.id, note)]
    # The other phone, merged away too, finds the survivor by its secondary.
    assert [c.id for c in svc.search(session=s, text="+1 650 555 0199")] == [a.id]


def test_search_finds_an_added_secondary(any_session: Session) -> None:
    s = any_session
    staff = _staff(s)
    a, _b = _pair(s)
    view = contacts.add_contact_point(
        session=s, customer_id=a.id or 0, text="Maria.G@Spa.example", actor=staff["reception"]
    )
    s.commit()
    assert (view.kind, view.value, view.shown, view.origin) == (
        "email",
        "maria.g@spa.example",
        "Maria.G@Spa.example",
        "added",
    )
    assert [c.id for c in svc.search(session=s, text="maria.g@spa.example")] == [a.id]
    assert svc.search_notes(session=s, text="maria.g@spa.example") == {}
    contacts.remove_contact_point(session=s, contact_id=view.id, actor=staff["reception"])
    s.commit()
    assert svc.search(session=s, text="maria.g@spa.example") == []


def test_a_part_of_a_secondary_phone_or_email_finds_its_customer(any_session: Session) -> None:
    """As any part of a primary phone or email does (the last digits, the number without its
    country code, the start of the address): directory, count, picker, palette alike."""
    s = any_session
    staff = _staff(s)
    a, b = _pair(s)
    merge.merge_customers(
        session=s, survivor_id=a.id or 0, other_ids=[b.id or 0], actor=staff["reception"]
    )
    s.commit()
    # The survivor's own phones are +1 415 555 2671 and (from the merge) +1 650 555 0199.
    assert (a.phone, a.other_phone) == ("+14155552671", "+16505550199")
    for text in ("650 555 26", "6505552671", "maria@home", "home.com", "MARIA@HOME"):
        assert [c.id for c in svc.search(session=s, text=text)] == [a.id], text
        assert [r.id for r in svc.search_rows(session=s, text=text)] == [a.id], text
        page = directory.load_directory_page(session=s, text=text, region="US")
        assert [c.id for c in page.rows] == [a.id] and page.count == 1, text
        assert svc.count_matches(session=s, text=text) == 1, text
        assert [m.id for m in picker.matches(session=s, text=text)] == [a.id], text
    # A name, a LIKE wildcard: not looked for in secondaries; nor 4 digits or fewer.
    for text in ("garsia", "%", "_@_", "%@%"):
        assert a.id not in [c.id for c in svc.search(session=s, text=text)], text
    assert svc._secondary_parts(svc._plan("5526", "US"), "5526") is None


def test_secondary_rules(session: Session) -> None:
    s = session
    staff = _staff(s)
    a, b = _pair(s)
    s.commit()
    desk = staff["reception"]
    # Another live customer's primary: refused as the form refuses it, naming them.
    with pytest.raises(DuplicateCustomer) as caught:
        contacts.add_contact_point(session=s, customer_id=a.id or 0, text=OLD_PHONE, actor=desk)
    assert caught.value.existing_id == b.id
    s.rollback()
    with pytest.raises(ValidationFailed, match="own phone"):
        contacts.add_contact_point(
            session=s, customer_id=a.id or 0, text="+1 415 555 2671", actor=desk
        )
    s.rollback()
    contacts.add_contact_point(session=s, customer_id=a.id or 0, text="415 555 0123", actor=desk)
    s.commit()
    with pytest.raises(ValidationFailed, match="already has"):
        contacts.add_contact_point(
            session=s, customer_id=a.id or 0, text="+14155550123", actor=desk
        )
    s.rollback()
    with pytest.raises(ValidationFailed):
        contacts.add_contact_point(session=s, customer_id=a.id or 0, text="not a phone", actor=desk)
    s.rollback()
    with pytest.raises(ValidationFailed):
        contacts.add_contact_point(session=s, customer_id=a.id or 0, text="x\x1b@y.com", actor=desk)
    s.rollback()
    with pytest.raises(NotAllowed):
        contacts.add_contact_point(
            session=s, customer_id=a.id or 0, text="+14155550124", actor=staff["therapist"]
        )
    s.rollback()
    with pytest.raises(NotAllowed):
        contacts.add_contact_point(
            session=s, customer_id=a.id or 0, text="+14155550124", actor=None
        )
    s.rollback()
    assert len(s.exec(select(ContactPoint)).all()) == 1


def test_merge_requires_the_merge_roles(session: Session) -> None:
    s = session
    staff = _staff(s)
    a, b = _pair(s)
    c = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="C", phone="+14155550100")
    )
    s.commit()
    for actor in (None, staff["therapist"]):
        with pytest.raises(NotAllowed):
            merge.merge_customers(
                session=s, survivor_id=a.id or 0, other_ids=[b.id or 0], actor=actor
            )
        s.rollback()
    with pytest.raises(NotAllowed, match="three or more"):
        merge.merge_customers(
            session=s,
            survivor_id=a.id or 0,
            other_ids=[b.id or 0, c.id or 0],
            actor=staff["reception"],
        )
    s.rollback()
    merge.merge_customers(
        session=s, survivor_id=a.id or 0, other_ids=[b.id or 0, c.id or 0], actor=staff["admin"]
    )
    s.commit()
    assert s.get(Customer, c.id).merged_into_id == a.id  # type: ignore[union-attr]


def test_cli_find_resolves_a_merged_away_phone(tmp_path: object) -> None:
    from pathlib import Path

    db = Path(str(tmp_path)) / "cli.db"
    engine = open_database(db)
    with Session(engine) as s:
        staff = _staff(s)
        a, b = _pair(s)
        merge.merge_customers(
            session=s, survivor_id=a.id or 0, other_ids=[b.id or 0], actor=staff["reception"]
        )
        s.commit()
        a_code, b_code = a.code, b.code
    engine.dispose()
    runner = CliRunner()
    result = runner.invoke(
        main, ["--db", str(db), "--staff", "rita", "customers", "find", "+16505552671"]
    )
    assert result.exit_code == 0, result.output
    assert a_code in result.output and f"{b_code} was merged into {a_code}" in result.output
    result = runner.invoke(
        main, ["--db", str(db), "--staff", "rita", "customers", "find", b_code, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert f'"merged_note": "{b_code} was merged into {a_code}"' in result.output
    # `customers show` of the old code shows the survivor and says why.
    result = runner.invoke(main, ["--db", str(db), "--staff", "rita", "customers", "show", b_code])
    assert result.exit_code == 0, result.output
    assert f"{b_code} was merged into {a_code}" in result.output
    assert a_code in result.output.split("merged into", 1)[1]
    result = runner.invoke(
        main, ["--db", str(db), "--staff", "rita", "customers", "show", b_code, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert f'"merged_note": "{b_code} was merged into {a_code}"' in result.output
    result = runner.invoke(
        main, ["--db", str(db), "--staff", "rita", "customers", "show", a_code, "--json"]
    )
    assert "merged_note" not in result.output


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    if not postgres_available():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    name, url = new_pg_database()
    engine = open_database(url)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_pg_database(name)


@pytest.mark.postgres
def test_opposite_merges_at_once_never_deadlock(pg_engine: Engine) -> None:
    """Two desks merge the same pair in opposite directions at the same moment, many times:
    one wins, the other is told plainly that the customer is already merged."""
    for _round in range(6):
        with Session(pg_engine) as s:
            staff = {k: v.id for k, v in _staff_once(s).items()}
            a, b = _fresh_pair(s)
            s.commit()
            ids = (a.id or 0, b.id or 0)
        outcomes = _race(pg_engine, staff["reception"] or 0, ids)
        assert outcomes.count("merged") == 1, outcomes
        refused = [o for o in outcomes if o != "merged"]
        assert len(refused) == 1 and isinstance(refused[0], InvalidState), outcomes
        assert "already merged" in str(refused[0])
        with Session(pg_engine) as s:
            rows = s.exec(select(Customer).where(col(Customer.id).in_(ids))).all()
            assert sorted(r.merged_into_id is None for r in rows) == [False, True]


def _race(engine: Engine, actor_id: int, ids: tuple[int, int]) -> list[object]:
    """Merge ids[1] into ids[0] and ids[0] into ids[1] in two threads at the same moment."""
    barrier = threading.Barrier(2)
    outcomes: list[object] = []
    lock = threading.Lock()

    def run(survivor: int, other: int) -> None:
        with Session(engine) as s:
            actor = s.get(Staff, actor_id)
            barrier.wait()
            try:
                merge.merge_customers(
                    session=s, survivor_id=survivor, other_ids=[other], actor=actor
                )
                s.commit()
                result: object = "merged"
            except Exception as exc:
                s.rollback()
                result = exc
            with lock:
                outcomes.append(result)

    threads = [
        threading.Thread(target=run, args=ids),
        threading.Thread(target=run, args=ids[::-1]),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def _staff_once(s: Session) -> dict[str, Staff]:
    found = {p.username: p for p in s.exec(select(Staff))}
    if "rita" in found:
        return {"reception": found["rita"]}
    return _staff(s)


_counter = iter(range(1000, 10_000))


def _fresh_pair(s: Session) -> tuple[Customer, Customer]:
    n = next(_counter)
    a = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Ann", phone=f"+1415555{n:04d}")
    )
    b = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Anne", phone=f"+1650555{n:04d}")
    )
    s.flush()
    return a, b


def test_a_deadlock_is_retried_then_said_plainly(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deadlock the database reports is tried again; if it goes on, a clear refusal."""
    from sqlalchemy.exc import OperationalError

    s = session
    staff = _staff(s)
    a, b = _pair(s)
    s.commit()

    class Deadlock(Exception):
        sqlstate = "40P01"

    calls = {"n": 0}
    real = merge._merge

    def flaky(*args: object, **kwargs: object) -> Customer:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("SELECT ... FOR UPDATE", {}, Deadlock("deadlock detected"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(merge, "_merge", flaky)
    merge.merge_customers(
        session=s, survivor_id=a.id or 0, other_ids=[b.id or 0], actor=staff["admin"]
    )
    s.commit()
    assert calls["n"] == 2

    def always(*args: object, **kwargs: object) -> Customer:
        raise OperationalError("SELECT ... FOR UPDATE", {}, Deadlock("deadlock detected"))

    c = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="C", phone="+14155550100")
    )
    s.commit()
    monkeypatch.setattr(merge, "_merge", always)
    with pytest.raises(InvalidState, match="at the same moment"):
        merge.merge_customers(
            session=s, survivor_id=a.id or 0, other_ids=[c.id or 0], actor=staff["admin"]
        )


def test_upgrade_to_0005_keeps_the_phones_of_past_merges(tmp_path: object) -> None:
    """Merges made before contact points existed: their tombstones' phones and emails become
    the survivor's secondaries when the database is upgraded."""
    from pathlib import Path

    from sqlalchemy import text

    from frontdesk.data import db

    path = Path(str(tmp_path)) / "old.db"
    engine = db.create_bare_engine(path)
    db.migrate(engine, "0004")
    row = (
        "INSERT INTO customer (id, code, first_name, phone, email, email_key, gender, status, "
        "blocked, consent_reminders, consent_birthday, consent_marketing, consent_newsletter, "
        "created_at, created_via, updated_at, version, sort_key, name_key, search_text, "
        "merged_into_id) VALUES ({id}, '{code}', 'Ann', {phone}, {email}, {email}, "
        "'unspecified', 'active', 0, 1, 0, 0, 0, '2026-01-01 00:00:00', 'manual', "
        "'2026-01-01 00:00:00', 1, 'ann', 'ann', 'ann', {into})"
    )
    with engine.begin() as conn:
        conn.execute(
            text(
                row.format(id=1, code="C-000001", phone="'+14155550101'", email="NULL", into="NULL")
            )
        )
        conn.execute(
            text(
                row.format(
                    id=2, code="C-000002", phone="'+14155550102'", email="'ann@old.example'", into=1
                )
            )
        )
        conn.execute(  # merged into 2, which was merged into 1 later: 1 gets its phone
            text(row.format(id=3, code="C-000003", phone="'+14155550103'", email="NULL", into=2))
        )
    engine.dispose()
    upgraded = db.open_database(path)
    with Session(upgraded) as s:
        assert _secondaries(s, 1) == {
            ("phone", "+14155550102"): "merged from C-000002",
            ("email", "ann@old.example"): "merged from C-000002",
            ("phone", "+14155550103"): "merged from C-000003",
        }
        assert [c.id for c in svc.search(session=s, text="+1 415 555 0103")] == [1]
    upgraded.dispose()

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from frontdesk.data import customers as C
from frontdesk.data.errors import DuplicateCustomer, NotFound, StaleRecord, ValidationFailed
from frontdesk.data.models import AuditEvent, CreatedVia, Customer
from frontdesk.data.settings import set_setting
from frontdesk.data.staff import create_staff
from tests.actors import ADMIN


def add(session: Session, **kw: object) -> Customer:
    data = C.CustomerCreate(**kw)  # type: ignore[arg-type]
    customer = C.create_customer(actor=ADMIN, session=session, data=data)
    session.commit()
    return customer


@pytest.fixture
def nl(any_session: Session) -> Session:
    set_setting(session=any_session, key="default_region", value="NL")
    any_session.commit()
    return any_session


def test_create_normalises_and_assigns_code(nl: Session) -> None:
    c = add(
        nl,
        first_name="  Maria  ",
        last_name=" García ",
        phone="06 12345678",
        email="Maria@Example.com",
    )
    assert c.code == "C-000001"
    assert c.first_name == "Maria" and c.last_name == "García"
    assert c.phone == "+31612345678" and c.phone_country == "NL"
    assert c.email == "Maria@Example.com" and c.email_key == "maria@example.com"
    assert c.version == 1 and c.created_via == CreatedVia.MANUAL
    assert c.display_name is None  # empty strings are not stored
    second = add(nl, first_name="Jan", email="jan@example.nl")
    assert second.code == "C-000002"


def test_first_name_and_contact_are_required(nl: Session) -> None:
    with pytest.raises(ValidationFailed) as err:
        C.create_customer(
            actor=ADMIN, session=nl, data=C.CustomerCreate(first_name="  ", phone="0612345678")
        )
    assert err.value.field == "first_name"
    with pytest.raises(ValidationFailed) as err:
        C.create_customer(actor=ADMIN, session=nl, data=C.CustomerCreate(first_name="Ann"))
    assert err.value.field == "phone"
    assert "phone number or an email" in err.value.message


def test_business_setting_can_require_phone(nl: Session) -> None:
    set_setting(session=nl, key="require_phone", value="yes")
    with pytest.raises(ValidationFailed, match="phone number is required"):
        C.create_customer(
            actor=ADMIN, session=nl, data=C.CustomerCreate(first_name="Ann", email="a@example.com")
        )


def test_explicit_country_reads_local_numbers(nl: Session) -> None:
    c = add(nl, first_name="Ann", phone="(415) 555-2671", phone_country="US")
    assert c.phone == "+14155552671" and c.phone_country == "US"


def test_duplicate_phone_and_email_name_the_existing_customer(nl: Session) -> None:
    first = add(
        nl, first_name="Maria", last_name="Garcia", phone="+31 6 12345678", email="m@example.com"
    )
    with pytest.raises(DuplicateCustomer) as err:
        C.create_customer(
            actor=ADMIN, session=nl, data=C.CustomerCreate(first_name="M", phone="0031 6 1234 5678")
        )
    assert err.value.field == "phone"
    assert err.value.existing_code == first.code and err.value.existing_name == "Maria Garcia"
    nl.rollback()
    with pytest.raises(DuplicateCustomer) as err:
        C.create_customer(
            actor=ADMIN, session=nl, data=C.CustomerCreate(first_name="M", email="M@EXAMPLE.COM")
        )
    assert err.value.field == "email"


def test_editing_to_another_customers_phone_or_email_names_them(nl: Session) -> None:
    """An edit to a phone or email another live customer has is refused with their name (it
    was an IntegrityError: the change was flushed by the duplicate check's own query)."""
    first = add(nl, first_name="Maria", last_name="Garcia", phone="0612345678", email="m@x.nl")
    second = add(nl, first_name="Ben", phone="0687654321", email="ben@x.nl")
    assert second.id is not None
    first_code, first_id, second_code = first.code, first.id, second.code
    for data, taken in (
        (C.CustomerUpdate(phone="+31 6 1234 5678"), "phone"),
        (C.CustomerUpdate(email="M@X.NL"), "email"),
        (C.CustomerUpdate(phone="0612345678", email="m@x.nl"), "phone"),
    ):
        with pytest.raises(DuplicateCustomer) as err:
            C.update_customer(
                session=nl, customer_id=second.id, data=data, expected_version=1, actor=ADMIN
            )
        assert (err.value.field, err.value.existing_code) == (taken, first_code)
        nl.rollback()
    # The database's own guard, when the friendly check is bypassed, says the same.
    original = C.find_live_duplicate
    calls = {"n": 0}

    def only_after_the_flush(*args: object, **kw: object) -> object:
        calls["n"] += 1
        return None if calls["n"] == 1 else original(*args, **kw)  # type: ignore[arg-type]

    try:
        C.find_live_duplicate = only_after_the_flush  # type: ignore[assignment]
        with pytest.raises(DuplicateCustomer) as err:
            C.update_customer(
                session=nl,
                customer_id=second.id,
                data=C.CustomerUpdate(phone="0612345678"),
                expected_version=1,
                actor=ADMIN,
            )
        assert err.value.existing_code == first_code
        nl.rollback()
        # Inside a caller's savepoint (an import's update, a bulk action): the same answer,
        # and the caller's transaction goes on once its savepoint is rolled back.
        calls["n"] = 0
        with pytest.raises(DuplicateCustomer) as err, nl.begin_nested():
            C.update_customer(
                session=nl,
                customer_id=second.id,
                data=C.CustomerUpdate(phone="0612345678"),
                expected_version=1,
                actor=ADMIN,
            )
        assert err.value.existing_code == first_code
        assert nl.get(Customer, first_id) is not None  # the transaction is usable
    finally:
        C.find_live_duplicate = original  # type: ignore[assignment]
    nl.rollback()
    # A customer with an email only (the require-phone setting is read on the way).
    third = add(nl, first_name="Cy", email="cy@x.nl")
    assert third.id is not None
    with pytest.raises(DuplicateCustomer) as err:
        C.update_customer(
            session=nl,
            customer_id=third.id,
            data=C.CustomerUpdate(email="ben@x.nl"),
            expected_version=1,
            actor=ADMIN,
        )
    assert err.value.existing_code == second_code
    nl.rollback()
    unchanged = nl.get(Customer, second.id)
    assert unchanged is not None
    assert (unchanged.phone, unchanged.email, unchanged.version) == (
        "+31687654321",
        "ben@x.nl",
        1,
    )


def test_unique_index_is_the_real_guard(nl: Session) -> None:
    """Even when the friendly pre-check is bypassed, the database refuses the duplicate."""
    add(nl, first_name="A", phone="0612345678")
    original = C.find_live_duplicate
    try:
        C.find_live_duplicate = lambda *a, **k: None  # type: ignore[assignment]
        with pytest.raises((DuplicateCustomer, ValidationFailed)):
            C.create_customer(
                actor=ADMIN, session=nl, data=C.CustomerCreate(first_name="B", phone="0612345678")
            )
    finally:
        C.find_live_duplicate = original  # type: ignore[assignment]


def test_deleted_customers_free_their_phone_and_restore_checks_it(nl: Session) -> None:
    a = add(nl, first_name="A", phone="0612345678")
    assert a.id is not None
    C.delete_customer(session=nl, customer_id=a.id, actor=ADMIN)
    nl.commit()
    b = add(nl, first_name="B", phone="0612345678")
    with pytest.raises(DuplicateCustomer) as err:
        C.restore_customer(session=nl, customer_id=a.id, actor=ADMIN)
    assert err.value.existing_code == b.code
    nl.rollback()
    assert b.id is not None
    C.delete_customer(session=nl, customer_id=b.id, actor=ADMIN)
    restored = C.restore_customer(session=nl, customer_id=a.id, actor=ADMIN)
    nl.commit()
    assert restored.deleted_at is None


def test_restore_checks_the_second_phones_and_emails_too(nl: Session) -> None:
    from frontdesk.data.contacts import add_contact_point

    a = add(nl, first_name="A", phone="0612345678")
    assert a.id is not None
    add_contact_point(session=nl, customer_id=a.id, text="0687654321", actor=ADMIN)
    add_contact_point(session=nl, customer_id=a.id, text="a.second@example.com", actor=ADMIN)
    C.delete_customer(session=nl, customer_id=a.id, actor=ADMIN)
    nl.commit()
    # While A was deleted, B took A's second phone as their own.
    b = add(nl, first_name="B", phone="0687654321")
    with pytest.raises(ValidationFailed) as err:
        C.restore_customer(session=nl, customer_id=a.id, actor=ADMIN)
    assert err.value.field == "phone"
    assert f"{b.code} B has +31 6 87654321 now, this customer's second phone" in str(err.value)
    nl.rollback()
    assert C.get_customer(session=nl, customer_id=a.id).deleted_at is not None
    # Once B has another phone, A comes back with both second contacts.
    assert b.id is not None
    C.update_customer(
        session=nl,
        customer_id=b.id,
        data=C.CustomerUpdate(phone="0611111111"),
        expected_version=1,
        actor=ADMIN,
    )
    assert C.restore_customer(session=nl, customer_id=a.id, actor=ADMIN).deleted_at is None
    nl.commit()


def test_update_with_optimistic_concurrency_and_audit(nl: Session) -> None:
    staff = create_staff(session=nl, name="Rita", role="reception", actor=ADMIN)
    c = C.create_customer(
        session=nl, data=C.CustomerCreate(first_name="Ann", email="ann@example.com"), actor=staff
    )
    nl.commit()
    assert c.id is not None
    updated = C.update_customer(
        session=nl,
        customer_id=c.id,
        data=C.CustomerUpdate(last_name="Smith", phone="0612345678"),
        expected_version=1,
        actor=staff,
    )
    nl.commit()
    assert updated.version == 2 and updated.phone == "+31612345678"
    with pytest.raises(StaleRecord) as err:
        C.update_customer(
            session=nl,
            customer_id=c.id,
            data=C.CustomerUpdate(last_name="Jones"),
            expected_version=1,
            actor=staff,
        )
    assert err.value.current.last_name == "Smith"
    nl.rollback()
    events = nl.exec(
        select(AuditEvent).where(col(AuditEvent.customer_id) == c.id).order_by(col(AuditEvent.id))
    ).all()
    assert [e.action for e in events] == ["create", "update"]
    assert events[0].actor_id == staff.id and events[0].actor_name == "Rita"
    assert events[0].changes is not None and events[0].changes["first_name"] == [None, "Ann"]
    assert events[1].changes == {
        "last_name": [None, "Smith"],
        "phone": [None, "+31612345678"],
        "phone_country": [None, "NL"],
    }


def test_update_without_changes_keeps_version(nl: Session) -> None:
    c = add(nl, first_name="Ann", email="ann@example.com")
    assert c.id is not None
    same = C.update_customer(
        session=nl, customer_id=c.id, data=C.CustomerUpdate(first_name=" Ann "), expected_version=1
    )
    assert same.version == 1


def test_clearing_a_field_with_none(nl: Session) -> None:
    c = add(nl, first_name="Ann", last_name="Lee", email="ann@example.com")
    assert c.id is not None
    u = C.update_customer(
        session=nl, customer_id=c.id, data=C.CustomerUpdate(last_name=""), expected_version=1
    )
    assert u.last_name is None


def test_status_block_unblock_delete_restore(nl: Session) -> None:
    c = add(nl, first_name="Ann", email="ann@example.com")
    assert c.id is not None
    assert (
        C.set_status(session=nl, customer_id=c.id, status="inactive", actor=ADMIN).status
        == "inactive"
    )
    with pytest.raises(ValidationFailed):
        C.set_status(session=nl, customer_id=c.id, status="gone", actor=ADMIN)
    with pytest.raises(ValidationFailed, match="why"):
        C.block_customer(session=nl, customer_id=c.id, reason="  ", actor=ADMIN)
    blocked = C.block_customer(
        session=nl, customer_id=c.id, reason="No-show three times", actor=ADMIN
    )
    assert blocked.blocked and blocked.blocked_reason == "No-show three times"
    unblocked = C.unblock_customer(session=nl, customer_id=c.id, actor=ADMIN)
    assert not unblocked.blocked and unblocked.blocked_reason is None
    C.delete_customer(session=nl, customer_id=c.id, actor=ADMIN)
    nl.commit()
    assert C.search(session=nl, text="Ann") == []
    C.restore_customer(session=nl, customer_id=c.id, actor=ADMIN)
    nl.commit()
    assert [x.id for x in C.search(session=nl, text="Ann")] == [c.id]
    actions = nl.exec(
        select(AuditEvent.action).where(AuditEvent.customer_id == c.id).order_by(col(AuditEvent.id))
    ).all()
    assert actions == ["create", "status", "block", "unblock", "delete", "restore"]


def test_get_by_id_and_code(nl: Session) -> None:
    c = add(nl, first_name="Ann", email="ann@example.com")
    assert c.id is not None
    assert C.get_customer(session=nl, customer_id=c.id).code == c.code
    assert C.get_by_code(session=nl, code="c-1").id == c.id
    assert C.get_by_code(session=nl, code="C-000001").id == c.id
    with pytest.raises(NotFound):
        C.get_by_code(session=nl, code="C-999999")
    with pytest.raises(NotFound):
        C.get_customer(session=nl, customer_id=999)


def test_merged_code_resolves_to_survivor(nl: Session) -> None:
    survivor = add(nl, first_name="Ann", email="ann@example.com")
    gone = add(nl, first_name="Anne", email="anne@example.com")
    gone.merged_into_id = survivor.id
    nl.add(gone)
    nl.commit()
    assert C.get_by_code(session=nl, code=gone.code).id == survivor.id


# ---------------------------------------------------------------- search


@pytest.fixture
def people(nl: Session) -> dict[str, Customer]:
    return {
        "maria": add(
            nl,
            first_name="Maria",
            last_name="García",
            phone="+31 6 12345678",
            email="maria.g@example.com",
        ),
        "mario": add(
            nl,
            first_name="Mario",
            last_name="Rossi",
            phone="+39 312 345 6789",
            email="mrossi@posta.it",
        ),
        "jose": add(
            nl,
            first_name="José",
            last_name="Martínez",
            phone="+34 612 34 56 78",
            email="jose@correo.es",
        ),
        "ann": add(nl, first_name="Ann", last_name="Marsh", email="ann@marsh.co.uk"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("612345678", "maria"),
        ("+31 6 1234", "maria"),
        ("06 12345678", "maria"),
        ("0031612345678", "maria"),
        ("garcia", "maria"),
        ("GARCÍA", "maria"),
        ("arcí", "maria"),
        ("maria.g@", "maria"),
        ("MARIA.G@EXAMPLE.COM", "maria"),
        ("posta", "mario"),
        ("jose", "jose"),
        ("martinez", "jose"),
        ("C-000004", "ann"),
        ("marsh.co", "ann"),
    ],
)
def test_search_finds_by_any_part(
    nl: Session, people: dict[str, Customer], query: str, expected: str
) -> None:
    found = C.search(session=nl, text=query)
    assert found, query
    assert found[0].id == people[expected].id


def test_a_number_said_the_local_way_abroad_is_found(any_session: Session) -> None:
    """At a desk set to the US (trunk prefix 1), a British and a Dutch customer read out
    their numbers the local way: the leading 0 is their trunk prefix, and the rest ends
    their stored number (nobody was found)."""
    s = any_session
    set_setting(session=s, key="default_region", value="US")
    s.commit()
    uk = add(s, first_name="Olly", last_name="Brit", phone="+44 7400 928305")
    dutch = add(s, first_name="Daan", last_name="Dutch", phone="+31 6 12349876")
    for typed, who in (
        ("07400 928305", uk),
        ("07400-928305", uk),
        ("(07400) 928 305", uk),
        ("06 1234 9876", dutch),
        ("0612349876", dutch),
    ):
        found = C.search(session=s, text=typed)
        assert [c.id for c in found] == [who.id], typed


def test_search_orders_exact_then_prefix_then_rest(
    nl: Session, people: dict[str, Customer]
) -> None:
    # "mar": names starting with it (Maria, Mario, Marsh) before "Martínez" (José, by last
    # name prefix too) ... and substring-only matches last.
    found = [c.first_name for c in C.search(session=nl, text="mar")]
    assert set(found[:3]) >= {"Maria", "Mario"}
    assert found[-1] in {"Ann", "José", "Maria", "Mario"}
    exact = C.search(session=nl, text="mrossi@posta.it")
    assert exact[0].id == people["mario"].id


def test_short_queries_use_prefixes(nl: Session, people: dict[str, Customer]) -> None:
    names = {c.first_name for c in C.search(session=nl, text="ma")}
    assert names == {
        "Maria",
        "Mario",
        "José",
        "Ann",
    }  # Maria/Mario first names; Martínez/Marsh last names
    assert {c.first_name for c in C.search(session=nl, text="an")} == {"Ann"}


def test_search_respects_limit_and_count(nl: Session) -> None:
    for i in range(30):
        add(nl, first_name=f"Sam{i:02d}", last_name="Taylor", email=f"sam{i}@example.com")
    assert len(C.search(session=nl, text="taylor", limit=10)) == 10
    assert C.count_matches(session=nl, text="taylor") == 30
    assert C.count_matches(session=nl, text="taylor", cap=20) == 21
    assert C.count_matches(session=nl, text="nobody-like-this") == 0


def test_directory_pages_with_keyset(nl: Session) -> None:
    for i in range(25):
        add(
            nl,
            first_name=f"P{i:02d}",
            last_name=["Zed", "Abel", "Moss"][i % 3],
            email=f"p{i}@example.com",
        )
    seen: list[int] = []
    cursor = None
    while True:
        page = C.directory_page(session=nl, after=cursor, limit=7)
        if not page:
            break
        seen.extend(c.id for c in page if c.id is not None)
        cursor = C.cursor_of(page[-1])
    everyone = nl.exec(select(Customer)).all()
    expected = [c.id for c in sorted(everyone, key=lambda c: (c.sort_key, c.id))]
    assert seen == expected
    assert len(seen) == 25


def test_directory_filters(nl: Session, people: dict[str, Customer]) -> None:
    maria = people["maria"]
    assert maria.id is not None
    C.block_customer(session=nl, customer_id=maria.id, reason="unpaid", actor=ADMIN)
    C.set_status(session=nl, customer_id=people["ann"].id or 0, status="inactive", actor=ADMIN)
    nl.commit()
    blocked = C.directory_page(session=nl, filters=C.DirectoryFilter(blocked=True))
    assert [c.id for c in blocked] == [maria.id]
    inactive = C.directory_page(session=nl, filters=C.DirectoryFilter(status="inactive"))
    assert [c.first_name for c in inactive] == ["Ann"]
    assert {
        c.first_name
        for c in C.search(session=nl, text="mar", filters=C.DirectoryFilter(status="active"))
    } == {
        "Maria",
        "Mario",
        "José",
    }

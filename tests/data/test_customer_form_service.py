"""Service tests: the customer form's load and save use cases (no UI)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from frontdesk.data import customers as svc
from frontdesk.data import fields
from frontdesk.data.customer_form import (
    CustomerForm,
    form_errors,
    load_customer_form,
    save_customer_form,
)
from frontdesk.data.errors import DuplicateCustomer, StaleRecord, ValidationFailed
from frontdesk.data.models import AuditEvent, Category, Customer, Staff, Tag
from frontdesk.data.roles import NotAllowed
from frontdesk.data.settings import set_setting
from frontdesk.data.staff import create_staff
from frontdesk.data.tags import create_tag, tag_ids_of
from tests.actors import ADMIN


@pytest.fixture
def desk(any_session: Session) -> tuple[Session, Staff]:
    s = any_session
    set_setting(session=s, key="default_region", value="NL")
    rita = create_staff(session=s, name="Rita Reception", username="rita", actor=ADMIN)
    fields.save_field(
        session=s, label="Hair colour", type="choice", choices=["Blonde", "Red"], actor=ADMIN
    )
    create_tag(session=s, name="Regular")
    create_tag(session=s, name="[/] odd tag")
    s.commit()
    return s, rita


def events(s: Session, customer_id: int) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(col(AuditEvent.customer_id) == customer_id)
    return list(s.exec(stmt.order_by(col(AuditEvent.id))))


def test_new_customer_in_one_save(desk: tuple[Session, Staff]) -> None:
    s, rita = desk
    data = load_customer_form(session=s)
    assert data.region == "NL" and data.customer is None and data.form is None
    assert [t.name for t in data.tags] == ["Regular", "[/] odd tag"]
    assert [f.key for f in data.custom_fields] == ["hair_colour"]
    tags = frozenset(t.id or 0 for t in data.tags)
    result = save_customer_form(
        session=s,
        form=CustomerForm(
            first_name="Maria",
            last_name="Lopez",
            display_name="Mari",
            email="maria.lopez@example.com",
            phone="06 12345678",
            tags=tags,
            custom={"hair_colour": "red"},
        ),
        actor=rita,
    )
    s.commit()
    assert result.created and result.code == "C-000001" and result.version == 1
    c = svc.get_customer(session=s, customer_id=result.customer_id)
    assert (c.display_name, c.email, c.phone) == ("Mari", "maria.lopez@example.com", "+31612345678")
    assert tag_ids_of(session=s, customer_id=c.id or 0) == set(tags)
    assert fields.values_of(session=s, customer_id=c.id or 0) == {"hair_colour": "Red"}
    actions = [(e.action, e.actor_name) for e in events(s, c.id or 0)]
    assert ("create", "Rita Reception") in actions
    assert ("custom_fields", "Rita Reception") in actions
    assert len(actions) == 3  # create, tags, custom fields


def test_edit_writes_only_what_changed(desk: tuple[Session, Staff]) -> None:
    s, rita = desk
    created = save_customer_form(
        session=s,
        form=CustomerForm(first_name="Ann", last_name="Lee", email="ann@example.com"),
        actor=rita,
    )
    s.commit()
    loaded = load_customer_form(session=s, customer_id=created.customer_id)
    assert loaded.form is not None and loaded.form.expected_version == 1
    assert loaded.form.email == "ann@example.com" and loaded.form.custom == {}
    # Saving the form as loaded changes nothing.
    same = save_customer_form(session=s, form=loaded.form, actor=rita)
    s.commit()
    assert same.changed == () and same.version == 1
    result = save_customer_form(
        session=s,
        form=replace(loaded.form, last_name="Van Dam", consent_marketing=True),
        actor=rita,
    )
    s.commit()
    assert not result.created and result.version == 2
    assert set(result.changed) == {"last_name", "consent_marketing"}
    update = [e for e in events(s, created.customer_id) if e.action == "update"]
    assert len(update) == 1 and update[0].changes is not None
    assert set(update[0].changes) == {"last_name", "consent_marketing"}
    assert update[0].changes["last_name"] == ["Lee", "Van Dam"]


def test_stale_form_is_refused_and_nothing_is_written(desk: tuple[Session, Staff]) -> None:
    s, rita = desk
    created = save_customer_form(
        session=s, form=CustomerForm(first_name="Bo", email="bo@example.com"), actor=rita
    )
    s.commit()
    form = load_customer_form(session=s, customer_id=created.customer_id).form
    assert form is not None
    svc.update_customer(
        session=s,
        customer_id=created.customer_id,
        data=svc.CustomerUpdate(city="Elsewhere"),
        expected_version=1,
    )
    s.commit()
    with pytest.raises(StaleRecord) as raised:
        save_customer_form(session=s, form=replace(form, city="Mine"), actor=rita)
    s.rollback()
    assert raised.value.current.city == "Elsewhere"
    # Saving over theirs is a deliberate second save with their version.
    save_customer_form(session=s, form=replace(form, city="Mine", expected_version=2), actor=rita)
    s.commit()
    assert svc.get_customer(session=s, customer_id=created.customer_id).city == "Mine"


def test_duplicate_and_invalid_values_name_the_field(desk: tuple[Session, Staff]) -> None:
    s, rita = desk
    first = save_customer_form(
        session=s, form=CustomerForm(first_name="Ann", email="ann@example.com"), actor=rita
    )
    s.commit()
    with pytest.raises(DuplicateCustomer) as dup:
        save_customer_form(
            session=s, form=CustomerForm(first_name="Other", email="ANN@example.com"), actor=rita
        )
    s.rollback()
    assert dup.value.field == "email" and dup.value.existing_id == first.customer_id
    cases = {
        "email": CustomerForm(first_name="X", email="x@"),
        "first_name": CustomerForm(email="nameless@example.com"),
        "city": CustomerForm(first_name="X", email="x@example.com", city="A\x1b[2Jb"),
        "date_of_birth": CustomerForm(first_name="X", email="x@example.com", date_of_birth="3/1"),
        "blocked_reason": CustomerForm(first_name="X", email="x@example.com", blocked=True),
        "cf_hair_colour": CustomerForm(
            first_name="X", email="x@example.com", custom={"hair_colour": "green"}
        ),
        "phone": CustomerForm(first_name="X"),  # neither phone nor email
    }
    for field, form in cases.items():
        with pytest.raises(ValidationFailed) as bad:
            save_customer_form(session=s, form=form, actor=rita)
        s.rollback()
        assert bad.value.field == field, (field, bad.value)
    assert len(s.exec(select(Customer)).all()) == 1
    # The same checks, field by field, without a database (as the form types).
    errors = form_errors(CustomerForm(first_name="", email="x@", phone="12"), region="NL")
    assert set(errors) == {"first_name", "email", "phone"}
    # A date written the right way that is not a day says so (not "use YYYY-MM-DD").
    errors = form_errors(
        CustomerForm(first_name="X", email="x@example.com", date_of_birth="1990-02-30"),
        region="NL",
    )
    assert "1990-02-30 is not a day of the calendar" in errors["date_of_birth"]
    errors = form_errors(
        CustomerForm(first_name="X", email="x@example.com", date_of_birth="30/02/1990"),
        region="NL",
    )
    assert "use YYYY-MM-DD" in errors["date_of_birth"]


def test_photo_is_stored_and_can_be_removed(desk: tuple[Session, Staff], tmp_path: Path) -> None:
    s, rita = desk
    image = tmp_path / "face.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    data_dir = tmp_path / "appdata"
    created = save_customer_form(
        session=s,
        form=CustomerForm(first_name="Pia", email="pia@example.com", photo_path=str(image)),
        actor=rita,
        data_dir=data_dir,
    )
    s.commit()
    stored = data_dir / "photos" / "C-000001.png"
    assert stored.exists() and (stored.stat().st_mode & 0o777) == 0o600
    form = load_customer_form(session=s, customer_id=created.customer_id).form
    assert form is not None and form.photo_path == "photos/C-000001.png"
    save_customer_form(session=s, form=replace(form, photo_path=""), actor=rita, data_dir=data_dir)
    s.commit()
    assert svc.get_customer(session=s, customer_id=created.customer_id).photo_path is None


def test_phone_is_read_in_the_forms_country(desk: tuple[Session, Staff]) -> None:
    s, rita = desk
    created = save_customer_form(
        session=s,
        form=CustomerForm(first_name="Tom", phone="020 7946 0018", phone_country="GB"),
        actor=rita,
    )
    s.commit()
    c = svc.get_customer(session=s, customer_id=created.customer_id)
    assert c.phone == "+442079460018" and c.phone_country == "GB"
    form = load_customer_form(session=s, customer_id=c.id).form
    assert form is not None
    # Changing something else keeps the number (shown internationally) as it is.
    save_customer_form(session=s, form=replace(form, city="London"), actor=rita)
    s.commit()
    assert svc.get_customer(session=s, customer_id=c.id or 0).phone == "+442079460018"


def test_category_and_hostile_text_round_trip(desk: tuple[Session, Staff]) -> None:
    s, rita = desk
    vip = s.exec(select(Category).where(col(Category.name) == "VIP")).first()
    name = "[link=file:///etc/passwd]x[/link]"
    created = save_customer_form(
        session=s,
        form=CustomerForm(
            first_name="[/]",
            last_name=name,
            email="odd@example.com",
            category_id=vip.id if vip else None,
        ),
        actor=rita,
    )
    s.commit()
    form = load_customer_form(session=s, customer_id=created.customer_id).form
    assert form is not None and (form.first_name, form.last_name) == ("[/]", name)
    assert form.category_id == (vip.id if vip else None)


def test_only_desk_staff_save_customers(desk: tuple[Session, Staff]) -> None:
    s, _rita = desk
    tara = create_staff(session=s, name="Tara", role="therapist", username="tara", actor=ADMIN)
    s.commit()
    for actor in (tara, None):
        with pytest.raises(NotAllowed):
            save_customer_form(
                session=s, form=CustomerForm(first_name="X", email="x@example.com"), actor=actor
            )
        s.rollback()
    assert s.exec(select(Customer)).all() == []


def test_the_forms_country_choices_load_no_numbering_plan() -> None:
    """Every region with its calling code, as phonenumbers gives it, read from its table of
    codes: asking each region loaded 244 numbering-plan modules as the first form opened."""
    import subprocess
    import sys

    import phonenumbers

    from frontdesk.data.formdata import region_choices

    choices = region_choices()
    assert choices == [
        (f"{r} +{phonenumbers.country_code_for_region(r)}", r)
        for r in sorted(phonenumbers.SUPPORTED_REGIONS)
    ]
    assert ("NL +31", "NL") in choices and ("US +1", "US") in choices
    count = (
        "import sys\n"
        "from frontdesk.data.formdata import region_choices\n"
        "before = {m for m in sys.modules if m.startswith('phonenumbers.data.region_')}\n"
        "region_choices()\n"
        "after = {m for m in sys.modules if m.startswith('phonenumbers.data.region_')}\n"
        "print(len(after - before))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", count], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "0"


def test_an_edit_keeps_custom_values_and_tags_another_desk_saved(
    desk: tuple[Session, Staff],
) -> None:
    """Desk A opens the edit form; desk B sets the hair colour and a tag and saves; desk A
    changes the last name and a tag of its own and saves: B's value and tag stay (custom
    values and tags do not move the customer's version, so A's save is not stale)."""
    s, rita = desk
    regular, odd = (t.id or 0 for t in s.exec(select(Tag).order_by(col(Tag.name))))
    done = save_customer_form(
        session=s, form=CustomerForm(first_name="Ann", email="ann@example.com"), actor=rita
    )
    s.commit()
    cid = done.customer_id
    loaded = load_customer_form(session=s, customer_id=cid)
    a = loaded.form
    assert a is not None
    a = replace(
        a,
        expected_version=done.version,
        loaded_custom=dict(loaded.custom_values),
        loaded_tags=a.tags,
    )
    s.rollback()
    b = load_customer_form(session=s, customer_id=cid).form
    assert b is not None
    save_customer_form(
        session=s,
        form=replace(
            b,
            custom={"hair_colour": "Red"},
            tags=frozenset({regular}),
            expected_version=done.version,
        ),
        actor=rita,
    )
    s.commit()
    save_customer_form(
        session=s, form=replace(a, last_name="Smith", tags=a.tags | {odd}), actor=rita
    )
    s.commit()
    assert fields.values_of(session=s, customer_id=cid) == {"hair_colour": "Red"}
    assert tag_ids_of(session=s, customer_id=cid) == {regular, odd}
    assert s.get(Customer, cid).last_name == "Smith"  # type: ignore[union-attr]
    # A's own change of the same value does count (the last save of it wins).
    loaded = load_customer_form(session=s, customer_id=cid)
    c = loaded.form
    assert c is not None
    save_customer_form(
        session=s,
        form=replace(
            c,
            custom={"hair_colour": ""},
            tags=c.tags - {regular},
            loaded_custom=dict(loaded.custom_values),
            loaded_tags=c.tags,
        ),
        actor=rita,
    )
    s.commit()
    assert fields.values_of(session=s, customer_id=cid) == {}
    assert tag_ids_of(session=s, customer_id=cid) == {odd}

"""A required custom field is a rule of the services, not only of the TUI form: a new
customer must have it (form save, CLI), a value cannot be cleared, and a customer saved
before the field was made required can still be edited while it stays empty."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func
from sqlmodel import Session, select

from frontdesk.cli import main
from frontdesk.data import customers as svc
from frontdesk.data import fields
from frontdesk.data.customer_form import (
    CustomerForm,
    custom_errors,
    load_customer_form,
    save_customer_form,
)
from frontdesk.data.db import open_database
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.models import Customer, CustomField
from frontdesk.data.staff import create_staff
from tests.actors import ADMIN, DESK


def customer_count(s: Session) -> int:
    return int(s.exec(select(func.count()).select_from(Customer)).one())


def add_plain(s: Session, name: str) -> int:
    c = svc.create_customer(
        session=s,
        data=svc.CustomerCreate(first_name=name, email=f"{name.lower()}@example.com"),
        actor=DESK,
    )
    s.commit()
    return c.id or 0


def make_required(s: Session, label: str = "Referral", type: str = "text") -> CustomField:
    field = fields.save_field(session=s, label=label, type=type, required=True, actor=ADMIN)
    s.commit()
    return field


def test_a_new_customer_needs_every_required_active_field(any_session: Session) -> None:
    s = any_session
    make_required(s)
    archived = make_required(s, "Old question")
    fields.archive_field(session=s, field_id=archived.id or 0, actor=ADMIN)
    s.commit()
    before = customer_count(s)
    form = CustomerForm(first_name="Ann", email="ann@example.com")
    with pytest.raises(ValidationFailed) as refused:
        save_customer_form(session=s, form=form, actor=DESK)
    assert refused.value.field == "cf_referral"
    assert refused.value.message == "Referral is required"
    s.rollback()
    assert customer_count(s) == before
    blank = replace(form, custom={"referral": "   "})
    with pytest.raises(ValidationFailed, match="Referral is required"):
        save_customer_form(session=s, form=blank, actor=DESK)
    s.rollback()
    # Filled (the archived field is not asked for), it saves.
    saved = save_customer_form(
        session=s, form=replace(form, custom={"referral": "Instagram"}), actor=DESK
    )
    s.commit()
    assert fields.values_of(session=s, customer_id=saved.customer_id) == {"referral": "Instagram"}


def test_set_values_for_a_new_customer_checks_the_missing_ones(any_session: Session) -> None:
    s = any_session
    make_required(s)
    fields.save_field(session=s, label="Shoe size", type="number", actor=ADMIN)
    s.commit()
    cid = add_plain(s, "Ann")
    with pytest.raises(ValidationFailed, match="Referral is required"):
        fields.set_values(
            session=s, customer_id=cid, values={"shoe_size": "38"}, actor=DESK, new_customer=True
        )
    with pytest.raises(ValidationFailed, match="Referral is required"):
        fields.set_values(session=s, customer_id=cid, values={}, actor=DESK, new_customer=True)
    with pytest.raises(ValidationFailed, match="Referral is required"):
        fields.check_required(session=s, values={"referral": [" "]})
    fields.check_required(session=s, values={"referral": "Friend"})


def test_a_customer_from_before_the_rule_can_still_be_edited(any_session: Session) -> None:
    s = any_session
    cid = add_plain(s, "Old")
    make_required(s)
    # The form loads them with the field empty and saves other changes.
    data = load_customer_form(session=s, customer_id=cid)
    assert data.form is not None and data.form.custom == {}
    assert custom_errors(data.custom_fields, {"referral": ""}, data.custom_values) == {}
    assert "referral" in custom_errors(data.custom_fields, {"referral": ""}, None)
    form = replace(data.form, last_name="Timer", custom={"referral": ""})
    result = save_customer_form(session=s, form=form, actor=DESK)
    s.commit()
    assert result.changed == ("last_name",)
    # set_values may be given the empty value too: nothing changes, nothing is refused.
    assert fields.set_values(session=s, customer_id=cid, values={"referral": ""}, actor=DESK) == {}
    # Once filled, it cannot be cleared again: by the form or by the service.
    fields.set_values(session=s, customer_id=cid, values={"referral": "Friend"}, actor=DESK)
    s.commit()
    data = load_customer_form(session=s, customer_id=cid)
    assert data.form is not None
    with pytest.raises(ValidationFailed, match="Referral is required"):
        save_customer_form(session=s, form=replace(data.form, custom={"referral": " "}), actor=DESK)
    s.rollback()
    with pytest.raises(ValidationFailed, match="Referral is required") as refused:
        fields.set_values(session=s, customer_id=cid, values={"referral": ""}, actor=DESK)
    assert refused.value.field == "cf_referral"
    s.rollback()
    assert fields.values_of(session=s, customer_id=cid) == {"referral": "Friend"}
    # Other details still save while the value stays.
    data = load_customer_form(session=s, customer_id=cid)
    assert data.form is not None
    save_customer_form(session=s, form=replace(data.form, city="Leeds"), actor=DESK)
    s.commit()
    assert svc.get_customer(session=s, customer_id=cid).city == "Leeds"


def test_a_yes_no_answer_of_no_fills_a_required_field(any_session: Session) -> None:
    s = any_session
    make_required(s, "Photo consent", type="yes_no")
    form = CustomerForm(first_name="Ann", email="ann@example.com", custom={"photo_consent": "no"})
    saved = save_customer_form(session=s, form=form, actor=DESK)
    s.commit()
    assert fields.values_of(session=s, customer_id=saved.customer_id) == {"photo_consent": "no"}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_cli_add_refuses_a_missing_required_field_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    engine = open_database(db)
    with Session(engine) as s:
        create_staff(session=s, name="Alex", role="admin", username="alex")
        make_required(s)
    engine.dispose()
    base = ("customers", "add", "--db", str(db), "--staff", "alex", "--first-name", "Ann")
    code, out, err = run(*base, "--email", "ann@example.com")
    assert code == 1 and out == ""
    assert err.strip() == "error: --field referral: Referral is required"
    assert len(err.strip().splitlines()) == 1
    code, out, err = run(*base, "--email", "ann@example.com", "--field", "nope")
    assert code != 0 and err.strip() == "error: --field 'nope': give KEY=VALUE"
    code, out, err = run(*base, "--email", "ann@example.com", "--field", "shoe=1")
    assert code == 1 and err.strip() == "error: --field shoe: no active custom field 'shoe'"
    code, out, err = run(*base, "--email", "ann@example.com", "--field", "referral=Friend")
    assert code == 0 and out.startswith("Added C-000001 Ann")
    engine = open_database(db)
    with Session(engine) as s:
        assert customer_count(s) == 1  # the refused ones left nothing behind
        assert fields.values_of(session=s, customer_id=1) == {"referral": "Friend"}
    engine.dispose()


def test_commas_alone_do_not_fill_or_clear_a_required_multiple_choice(
    any_session: Session,
) -> None:
    """ ", ," chooses nothing: a new customer is refused, a stored choice is not cleared."""
    s = any_session
    field = fields.save_field(
        session=s,
        label="Allergies",
        type="multi_choice",
        choices=["Nuts", "Latex"],
        required=True,
        actor=ADMIN,
    )
    s.commit()
    form = CustomerForm(first_name="Ann", email="ann@example.com", custom={field.key: ","})
    with pytest.raises(ValidationFailed) as refused:
        save_customer_form(session=s, form=form, actor=DESK)
    assert refused.value.message == "Allergies is required"
    s.rollback()
    cid = add_plain(s, "Bo")
    fields.set_values(session=s, customer_id=cid, values={field.key: "nuts"}, actor=DESK)
    s.commit()
    with pytest.raises(ValidationFailed):
        fields.set_values(session=s, customer_id=cid, values={field.key: " , "}, actor=DESK)
    s.rollback()
    assert fields.values_of(session=s, customer_id=cid)[field.key] == "Nuts"

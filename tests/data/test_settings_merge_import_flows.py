"""Service tests of the settings, merge and import use cases the screens call (no UI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from frontdesk.data import customers as svc
from frontdesk.data import fields, settings_flow
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.import_flow import ImportForm, import_options, inspect_file, run_wizard_import
from frontdesk.data.merge_flow import ignore_group, load_duplicates, load_merge_view
from frontdesk.data.models import Category, DuplicateIgnore, LoyaltyProgram, Staff
from frontdesk.data.roles import NotAllowed
from frontdesk.data.staff import create_staff
from tests.actors import ADMIN

HOSTILE = "[/]Maria [link=file:///etc/passwd]x[/link]"


@pytest.fixture
def people(any_session: Session) -> tuple[Session, Staff, Staff]:
    s = any_session
    admin = create_staff(session=s, name="Alex Admin", role="admin", username="alex", actor=ADMIN)
    rita = create_staff(
        session=s, name="Rita Reception", role="reception", username="rita", actor=ADMIN
    )
    s.commit()
    return s, admin, rita


def test_category_colour_typed_as_a_name_is_stored_as_hex(
    people: tuple[Session, Staff, Staff],
) -> None:
    s, admin, _ = people
    gold = settings_flow.save_category_form(
        session=s, name="Gold club", symbol="G", colour="gold", actor=admin
    )
    assert gold.colour == "#ffd700"
    with pytest.raises(ValidationFailed) as refused:
        settings_flow.save_category_form(
            session=s, name="Silver", symbol="S", colour="goldish", actor=admin
        )
    assert refused.value.field == "colour"


def test_settings_are_for_admins(people: tuple[Session, Staff, Staff]) -> None:
    s, _, rita = people
    with pytest.raises(NotAllowed):
        settings_flow.save_category_form(
            session=s, name="VIP2", symbol="V", colour="#fff", actor=rita
        )
    with pytest.raises(NotAllowed):
        settings_flow.add_tag_form(session=s, name="Walk-in", actor=None)
    assert s.exec(select(Category).where(col(Category.name) == "VIP2")).first() is None


def test_program_text_refused_on_its_field(people: tuple[Session, Staff, Staff]) -> None:
    s, admin, _ = people
    for form, field in [
        (settings_flow.ProgramForm("Stamps", expiry_days="ten"), "default_expiry_days"),
        (settings_flow.ProgramForm("Stamps", per_visit="-1"), "points_per_visit"),
        (settings_flow.ProgramForm("Stamps", active="maybe"), "active"),
        (settings_flow.ProgramForm(""), "name"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            settings_flow.save_program_form(session=s, form=form, actor=admin)
        assert refused.value.field == field
    card = settings_flow.save_program_form(
        session=s,
        form=settings_flow.ProgramForm("Stamps", "stamps", "30", "", "1", ""),
        actor=admin,
    )
    assert (card.default_expiry_days, card.points_per_currency_unit, card.active) == (30, 0, True)
    assert s.exec(select(LoyaltyProgram).where(col(LoyaltyProgram.name) == "Stamps")).one()


def test_settings_page_counts_values_per_field(people: tuple[Session, Staff, Staff]) -> None:
    s, admin, _ = people
    form = settings_flow.FieldForm(HOSTILE, "", "text", False, [], "")
    field = settings_flow.save_field_form(session=s, form=form, actor=admin)
    customer = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Ann", email="ann@example.com")
    )
    fields.set_values(session=s, customer_id=customer.id or 0, values={field.key: "x"}, actor=ADMIN)
    page = settings_flow.load_settings_page(session=s)
    assert [f.label for f in page.fields] == [HOSTILE]
    assert page.value_counts == {field.id: 1}
    assert settings_flow.delete_field(session=s, field_id=field.id or 0, actor=admin) == 1


def test_settings_page_is_everything_the_screen_lists_in_one_read(
    people: tuple[Session, Staff, Staff],
) -> None:
    """One use case per action: the settings screen opens with this one read (its tabs,
    the message templates and the business settings)."""
    from frontdesk.data.business_settings import load_business_settings
    from frontdesk.data.messaging.templates import list_templates, save_template

    s, admin, _ = people
    save_template(session=s, name="Thanks", subject="Thanks", body="Hi {first_name}", actor=admin)
    page = settings_flow.load_settings_page(session=s)
    assert "Thanks" in [t.name for t in page.templates]
    assert [t.id for t in page.templates] == [t.id for t in list_templates(session=s)]
    business = load_business_settings(session=s)
    assert [(b.key, b.value) for b in page.business] == [(b.key, b.value) for b in business]
    assert {b.key for b in page.business} >= {"business_name", "currency"}


def test_merge_view_and_ignoring_a_group(people: tuple[Session, Staff, Staff]) -> None:
    s, _, rita = people
    a = svc.create_customer(
        actor=ADMIN,
        session=s,
        data=svc.CustomerCreate(first_name="Yves", last_name="Tanguy", phone="+14155550111"),
    )
    b = svc.create_customer(
        actor=ADMIN,
        session=s,
        data=svc.CustomerCreate(first_name="Yves", last_name="Tangui", email="y@example.com"),
    )
    view = load_merge_view(session=s, customer_ids=[a.id or 0, b.id or 0])
    assert [c.id for c in view.people] == [a.id, b.id]
    assert view.chosen["email"] == "y@example.com"  # the survivor had none
    with pytest.raises(ValidationFailed):
        load_merge_view(session=s, customer_ids=[a.id or 0, a.id or 0])
    assert ignore_group(session=s, customer_ids=[a.id or 0, b.id or 0], actor=rita) == 1
    assert len(s.exec(select(DuplicateIgnore)).all()) == 1
    assert not any(a.id in g.customer_ids for g in load_duplicates(session=s).groups)
    with pytest.raises(NotAllowed):
        ignore_group(session=s, customer_ids=[a.id or 0, b.id or 0], actor=None)


def test_import_form_checks_its_fields(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as refused:
        import_options(ImportForm(path="x.csv", mapping={}, points="-5"), dry_run=True)
    assert refused.value.field == "points"
    with pytest.raises(ValidationFailed) as refused:
        import_options(ImportForm(path="x.csv", mapping={}, country="Narnia"), dry_run=True)
    assert refused.value.field == "default_country"
    with pytest.raises(ValidationFailed) as refused:
        inspect_file(path=str(tmp_path / "missing.csv"))
    assert refused.value.field == "path"
    repeated = tmp_path / "repeated.csv"
    repeated.write_text(f"First Name,{HOSTILE},{HOSTILE}\nAnn,a,b\n", encoding="utf-8")
    preview = inspect_file(path=str(repeated))
    assert preview.headers == ["First Name", HOSTILE, HOSTILE] and preview.samples == [
        ["Ann", "a", "b"]
    ]


def test_wizard_import_is_for_the_desk(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("First Name,Email\nAnn,ann@example.com\n", encoding="utf-8")
    with Session(engine, expire_on_commit=False) as s:
        rita = create_staff(
            session=s, name="Rita Reception", role="reception", username="rita", actor=ADMIN
        )
        s.commit()
    form = ImportForm(path=str(path), mapping={})
    with pytest.raises(NotAllowed):
        run_wizard_import(engine=engine, form=form, dry_run=True, actor=None)
    run = run_wizard_import(engine=engine, form=form, dry_run=False, actor=rita)
    assert (run.summary.imported, run.dry_run) == (1, False)

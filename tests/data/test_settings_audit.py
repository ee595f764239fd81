"""Settings items in the audit log: custom fields, tags, customer and note categories,
loyalty programs. Each change is one event (who, what, before → after) written in the
same transaction as the change, and the log reads it as a sentence naming the item."""

from __future__ import annotations

import pytest
from rich.text import Text
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from frontdesk.data import customers as svc
from frontdesk.data import fields, notes, rewards, settings_flow, tags
from frontdesk.data.audit_log import AuditFilter, audit_choices, load_audit_page
from frontdesk.data.audit_text import describe_setting_event, setting_changes
from frontdesk.data.errors import NotFound, StaleRecord, ValidationFailed
from frontdesk.data.models import AuditEvent, Category, Staff, Tag
from frontdesk.data.roles import NotAllowed
from frontdesk.data.staff import create_staff
from frontdesk.text import user_text


@pytest.fixture
def alex(engine: Engine) -> Staff:
    with Session(engine, expire_on_commit=False) as s:
        admin = create_staff(session=s, name="Alex Admin", role="admin", username="alex")
        s.commit()
        return admin


def events(s: Session, entity: str) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(col(AuditEvent.entity) == entity)
    return list(s.exec(stmt.order_by(col(AuditEvent.id))))


def lines(s: Session, viewer: Staff, entity: str) -> list[str]:
    """The audit log's sentences about ``entity``, oldest first."""
    page = load_audit_page(session=s, viewer=viewer, where=AuditFilter(entity=entity))
    return [r.what for r in reversed(page.rows)]


def test_custom_field_create_change_archive_move_delete(engine: Engine, alex: Staff) -> None:
    with Session(engine) as s:
        allergies = fields.save_field(session=s, label="Allergies", type="text", actor=alex)
        fid = allergies.id or 0
        shoe = fields.save_field(session=s, label="Shoe size", type="number", actor=alex)
        s.commit()
        # Saving it unchanged records nothing.
        fields.save_field(session=s, label="Allergies", type="text", field_id=fid, actor=alex)
        fields.save_field(
            session=s, label="Allergies", type="text", required=True, field_id=fid, actor=alex
        )
        fields.save_field(
            session=s,
            label="Allergy [b]x[/b]",
            key="allergies",
            type="text",
            required=True,
            field_id=fid,
            actor=alex,
        )
        fields.archive_field(session=s, field_id=fid, actor=alex)
        fields.archive_field(session=s, field_id=fid, archived=False, actor=alex)
        fields.move_field(session=s, field_id=shoe.id or 0, direction=-1, actor=alex)
        customer = svc.create_customer(
            session=s,
            data=svc.CustomerCreate(first_name="Ann", email="ann@example.com"),
            actor=alex,
        )
        fields.set_values(
            session=s, customer_id=customer.id or 0, values={"allergies": "Nuts"}, actor=alex
        )
        assert fields.delete_field(session=s, field_id=fid, actor=alex) == 1
        s.commit()
        stored = events(s, "custom_field")
        assert [e.action for e in stored] == [
            "create",
            "create",
            "update",
            "update",
            "archive",
            "unarchive",
            "move",
            "delete",
        ]
        assert all(e.actor_name == "Alex Admin" and e.customer_id is None for e in stored)
        assert stored[2].changes == {
            "label": ["Allergies", "Allergies"],
            "required": [False, True],
        }
        assert lines(s, alex, "custom_field") == [
            "Custom field added by Alex Admin: Allergies (key allergies, type text)",
            "Custom field added by Alex Admin: Shoe size (key shoe_size, type number)",
            "Custom field Allergies changed by Alex Admin: Required: no → yes",
            "Custom field Allergies renamed by Alex Admin: Label: Allergies → Allergy [b]x[/b]",
            "Custom field Allergy [b]x[/b] archived by Alex Admin",
            "Custom field Allergy [b]x[/b] unarchived by Alex Admin",
            "Custom field Shoe size moved up by Alex Admin",
            "Custom field Allergy [b]x[/b] deleted by Alex Admin (1 value removed)",
        ]


def test_tags_and_customer_categories(engine: Engine, alex: Staff) -> None:
    with Session(engine) as s:
        settings_flow.add_tag_form(session=s, name="VIP", actor=alex)
        tags.create_tag(session=s, name="From import")  # an import's tag: no one
        vip = settings_flow.save_category_form(
            session=s, name="Star", symbol="★", colour="gold", actor=alex
        )
        settings_flow.save_category_form(
            session=s, name="Star", symbol="★", colour="gold", actor=alex, category_id=vip.id
        )
        settings_flow.save_category_form(
            session=s, name="Gold star", symbol="★", colour="red", actor=alex, category_id=vip.id
        )
        s.commit()
        assert lines(s, alex, "tag") == [
            "Tag added by Alex Admin: VIP (colour gray)",
            "Tag added by system: From import (colour gray)",
        ]
        assert lines(s, alex, "customer_category") == [
            "Customer category added by Alex Admin: Star (symbol ★, colour gold)",
            "Customer category Star changed by Alex Admin: Name: Star → Gold star; "
            "Colour: gold → red",
        ]


def test_note_categories_and_loyalty_programs(engine: Engine, alex: Staff) -> None:
    with Session(engine) as s:
        allergy = settings_flow.save_note_category_form(
            session=s, name="Allergy", alert="yes", actor=alex
        )
        settings_flow.save_note_category_form(
            session=s, name="Allergies", alert="yes", actor=alex, category_id=allergy.id
        )
        notes.save_category(
            session=s, name="Allergies", is_alert=False, category_id=allergy.id, actor=alex
        )
        form = settings_flow.ProgramForm(name="Stamps", unit="stamps", expiry_days="365")
        program = settings_flow.save_program_form(session=s, form=form, actor=alex)
        rewards.save_program(
            session=s,
            name="Stamps",
            unit="stamps",
            default_expiry_days=None,
            points_per_visit=1,
            program_id=program.id,
            actor=alex,
        )
        s.commit()
        assert lines(s, alex, "note_category") == [
            "Note category added by Alex Admin: Allergy (alert yes)",
            "Note category Allergy renamed by Alex Admin: Name: Allergy → Allergies",
            "Note category Allergies changed by Alex Admin: Alert: yes → no",
        ]
        assert lines(s, alex, "loyalty_program") == [
            "Loyalty program added by Alex Admin: Stamps "
            "(unit stamps, active yes, points expire after 365 days)",
            "Loyalty program Stamps changed by Alex Admin: Points expire after: 365 days → —; "
            "Points per visit: 0 → 1",
        ]
        # The points ledger is not in the audit log: a balance change has its own entry.
        assert not events(s, "points_entry")


def test_a_refused_change_records_nothing(engine: Engine, alex: Staff) -> None:
    with Session(engine) as s:
        settings_flow.add_tag_form(session=s, name="VIP", actor=alex)
        s.commit()
        with pytest.raises(ValidationFailed):
            settings_flow.add_tag_form(session=s, name="vip", actor=alex)
        with pytest.raises(ValidationFailed):
            fields.save_field(session=s, label="Pick", type="choice", actor=alex)
        s.rollback()
        assert len(events(s, "tag")) == 1 and not events(s, "custom_field")


def test_the_change_and_its_event_are_one_transaction(engine: Engine, alex: Staff) -> None:
    with Session(engine) as s:
        fields.save_field(session=s, label="Referral", actor=alex)
        s.rollback()  # the caller gave up: neither the field nor its event stays
        assert not fields.list_fields(session=s, include_archived=True)
        assert not events(s, "custom_field")


def test_filters_offer_the_new_entities(engine: Engine, alex: Staff) -> None:
    with Session(engine) as s:
        settings_flow.add_tag_form(session=s, name="VIP", actor=alex)
        fields.save_field(session=s, label="Referral", actor=alex)
        s.commit()
        choices = audit_choices(session=s, viewer=alex)
        assert {"tag", "custom_field"} <= set(choices.entities)
        assert "create" in choices.actions
        page = load_audit_page(session=s, viewer=alex, where=AuditFilter(entity="tag"))
        assert [r.entity for r in page.rows] == ["tag"]
        page = load_audit_page(session=s, viewer=alex, where=AuditFilter(actor_id=alex.id))
        assert {r.entity for r in page.rows} == {"tag", "custom_field"}


def test_sentences_are_text_not_markup() -> None:
    line = describe_setting_event(
        "tag",
        "update",
        "[red]Eve[/red]",
        setting_changes("tag", {"name": "[b]VIP"}, {"name": "Gold[/]"}),
        3,
    )
    assert line == "Tag [b]VIP renamed by [red]Eve[/red]: Name: [b]VIP → Gold[/]"
    shown = user_text(line)
    assert isinstance(shown, Text) and shown.plain == line
    # An event without its name (written by hand) still says which item.
    assert describe_setting_event("tag", "update", None, {"colour": ["#fff", "#000"]}, 7) == (
        "Tag #7 changed by system: Colour: white → black"
    )
    assert setting_changes("tag", {"name": "A"}, {"name": "A"}) == {}


def test_deleting_a_tag_takes_it_off_its_customers(engine: Engine, alex: Staff) -> None:
    with Session(engine) as s:
        vip = settings_flow.add_tag_form(session=s, name="VIP [gold]", actor=alex)
        keep = settings_flow.add_tag_form(session=s, name="Regular", actor=alex)
        people = [
            svc.create_customer(
                session=s,
                data=svc.CustomerCreate(first_name=name, email=f"{name.lower()}@example.com"),
                actor=alex,
            )
            for name in ("Ann", "Bob", "Cy")
        ]
        for person in people[:2]:
            tags.set_tags(
                session=s,
                customer_id=person.id or 0,
                tag_ids={vip.id or 0, keep.id or 0},
                actor=alex,
            )
        svc.delete_customer(session=s, customer_id=people[1].id or 0, actor=alex)
        s.commit()
        assert tags.tag_use(session=s, tag_id=vip.id or 0) == 2
        assert settings_flow.delete_tag(session=s, tag_id=vip.id or 0, actor=alex) == 2
        s.commit()
        assert s.get(Tag, vip.id) is None
        for person in people:
            held = tags.tag_ids_of(session=s, customer_id=person.id or 0)
            assert held == ({keep.id} if person is not people[2] else set())
        assert (
            lines(s, alex, "tag")[-1] == "Tag VIP [gold] deleted by Alex Admin (2 customers had it)"
        )
        with pytest.raises(NotFound):
            settings_flow.delete_tag(session=s, tag_id=vip.id or 0, actor=alex)


def test_deleting_a_category_leaves_its_customers_without_one(engine: Engine, alex: Staff) -> None:
    with Session(engine) as s:
        star = settings_flow.save_category_form(
            session=s, name="Star", symbol="★", colour="gold", actor=alex
        )
        ann = svc.create_customer(
            session=s,
            data=svc.CustomerCreate(first_name="Ann", email="ann@example.com", category_id=star.id),
            actor=alex,
        )
        s.commit()
        version = ann.version
        assert tags.category_use(session=s, category_id=star.id or 0) == 1
        assert settings_flow.delete_category(session=s, category_id=star.id or 0, actor=alex) == 1
        s.commit()
        s.refresh(ann)
        assert ann.category_id is None and ann.version == version + 1
        assert s.get(Category, star.id) is None
        assert lines(s, alex, "customer_category")[-1] == (
            "Customer category Star deleted by Alex Admin (1 customer had it)"
        )
        # An edit started before the deletion is told the customer changed meanwhile.
        with pytest.raises(StaleRecord):
            svc.update_customer(
                session=s,
                customer_id=ann.id or 0,
                data=svc.CustomerUpdate(display_name="Annie"),
                expected_version=version,
                actor=alex,
            )


def test_only_admins_delete_tags_and_categories(engine: Engine, alex: Staff) -> None:
    with Session(engine, expire_on_commit=False) as s:
        rita = create_staff(session=s, name="Rita", role="reception", username="rita", actor=alex)
        vip = settings_flow.add_tag_form(session=s, name="VIP", actor=alex)
        star = settings_flow.save_category_form(
            session=s, name="Star", symbol="★", colour="", actor=alex
        )
        s.commit()
        with pytest.raises(NotAllowed):
            tags.delete_tag(session=s, tag_id=vip.id or 0, actor=rita)
        with pytest.raises(NotAllowed):
            tags.delete_category(session=s, category_id=star.id or 0, actor=rita)
        s.rollback()
        assert s.get(Tag, vip.id) is not None and s.get(Category, star.id) is not None


def test_a_category_name_in_other_letters_is_taken(engine: Engine, alex: Staff) -> None:
    """ "vip" next to "VIP" was saved; an import finds categories by their folded name."""
    with Session(engine) as s:
        vip = settings_flow.save_category_form(
            session=s, name="Gold Club", symbol="★", colour="", actor=alex
        )
        s.commit()
        for other in ("gold club", " GOLD  club ", "Góld Club"):
            with pytest.raises(ValidationFailed) as taken:
                settings_flow.save_category_form(
                    session=s, name=other, symbol="V", colour="", actor=alex
                )
            assert (
                taken.value.field == "name" and "'Gold Club' already exists" in taken.value.message
            )
            s.rollback()
        # Its own name in other letters is a rename, not a clash.
        settings_flow.save_category_form(
            session=s, name="GOLD CLUB", symbol="★", colour="", actor=alex, category_id=vip.id
        )
        s.commit()
        assert s.get(Category, vip.id).name == "GOLD CLUB"  # type: ignore[union-attr]


def test_a_tag_is_renamed_and_its_customers_keep_it(engine: Engine, alex: Staff) -> None:
    with Session(engine) as s:
        vip = settings_flow.add_tag_form(session=s, name="VIP", actor=alex)
        settings_flow.add_tag_form(session=s, name="Regular", actor=alex)
        ann = svc.create_customer(
            session=s,
            data=svc.CustomerCreate(first_name="Ann", email="ann@example.com"),
            actor=alex,
        )
        tags.add_tag(session=s, customer_id=ann.id or 0, tag_id=vip.id or 0, actor=alex)
        s.commit()
        settings_flow.change_tag_form(
            session=s, tag_id=vip.id or 0, name="Gold [members]", colour="gold", actor=alex
        )
        s.commit()
        assert tags.tag_ids_of(session=s, customer_id=ann.id or 0) == {vip.id}
        renamed = s.get(Tag, vip.id)
        assert renamed is not None and (renamed.name, renamed.colour) == (
            "Gold [members]",
            "#ffd700",
        )
        assert lines(s, alex, "tag")[-1] == (
            "Tag VIP changed by Alex Admin: Name: VIP → Gold [members]; Colour: gray → gold"
        )
        with pytest.raises(ValidationFailed) as taken:
            settings_flow.change_tag_form(
                session=s, tag_id=vip.id or 0, name="regular", colour="", actor=alex
            )
        assert "'Regular' already exists" in taken.value.message
        s.rollback()
        rita = create_staff(session=s, name="Rita", role="reception", username="rita", actor=alex)
        with pytest.raises(NotAllowed):
            tags.change_tag(session=s, tag_id=vip.id or 0, name="X", actor=rita)

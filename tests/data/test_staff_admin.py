"""Changing staff: roles, names, usernames, deactivating and reactivating, and who may."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from frontdesk.data.audit_log import load_audit_page
from frontdesk.data.db import open_database
from frontdesk.data.errors import InactiveStaff, UnknownStaff, ValidationFailed
from frontdesk.data.models import AuditEvent, Staff
from frontdesk.data.roles import NotAllowed
from frontdesk.data.settings import set_setting
from frontdesk.data.staff import (
    create_staff,
    deactivate_staff,
    find_staff,
    list_staff,
    reactivate_staff,
    rename_staff,
    resolve_operator,
    save_staff_form,
    set_staff_role,
)

HOSTILE = "[bold]Brackets[/] Nina"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "staff.db")
    with Session(engine) as s:
        ada = create_staff(session=s, name="Ada Admin", role="admin", username="ada")
        create_staff(session=s, name="Rita Reception", username="rita", actor=ada)
        create_staff(session=s, name=HOSTILE, role="therapist", username="nina.b", actor=ada)
        s.commit()
    yield engine
    engine.dispose()


def who(s: Session, name: str) -> Staff:
    found = find_staff(session=s, name_or_username=name, include_inactive=True)
    assert found is not None
    return found


def events(s: Session) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(col(AuditEvent.entity) == "staff").order_by(col(AuditEvent.id))
    return list(s.exec(stmt))


def test_an_admin_changes_a_role_and_it_is_audited(engine: Engine) -> None:
    with Session(engine) as s:
        ada, rita = who(s, "ada"), who(s, "rita")
        set_staff_role(session=s, member_id=rita.id or 0, role="Therapist", actor=ada)
        s.commit()
        assert who(s, "rita").role == "therapist"
        last = events(s)[-1]
        assert (last.action, last.entity_id, last.actor_name) == ("update", rita.id, "Ada Admin")
        assert last.changes == {"role": ["reception", "therapist"]}


def test_a_role_that_does_not_exist_is_refused_on_its_field(engine: Engine) -> None:
    with Session(engine) as s:
        ada, rita = who(s, "ada"), who(s, "rita")
        with pytest.raises(ValidationFailed) as caught:
            set_staff_role(session=s, member_id=rita.id or 0, role="boss", actor=ada)
        assert caught.value.field == "role"
        assert "admin, reception or therapist" in caught.value.message


@pytest.mark.parametrize("role", ["reception", "therapist"])
def test_only_admins_change_staff(engine: Engine, role: str) -> None:
    with Session(engine) as s:
        ada, rita, nina = who(s, "ada"), who(s, "rita"), who(s, "nina.b")
        actor = rita if role == "reception" else nina
        target = nina if actor is rita else rita
        for attempt in (
            lambda: set_staff_role(session=s, member_id=target.id or 0, role="admin", actor=actor),
            lambda: rename_staff(session=s, member_id=target.id or 0, name="X", actor=actor),
            lambda: deactivate_staff(session=s, member_id=target.id or 0, actor=actor),
            lambda: reactivate_staff(session=s, member_id=target.id or 0, actor=actor),
            lambda: set_staff_role(session=s, member_id=ada.id or 0, role="admin", actor=None),
        ):
            with pytest.raises(NotAllowed):
                attempt()
        assert events(s)[-1].action == "create"  # nothing more recorded


def test_rename_keeps_names_and_usernames_unique_and_without_spaces(engine: Engine) -> None:
    with Session(engine) as s:
        ada, rita = who(s, "ada"), who(s, "rita")
        rid = rita.id or 0
        for name, username, field in (
            ("ada admin", None, "name"),  # another's name, in any case
            ("ADA", None, "name"),  # another's username as a name
            (None, "Ada Admin", "username"),  # spaces (and another's name)
            (None, "nina.b", "username"),
            (None, "rita r", "username"),
            ("", None, "name"),
        ):
            with pytest.raises(ValidationFailed) as caught:
                rename_staff(session=s, member_id=rid, name=name, username=username, actor=ada)
            assert caught.value.field == field
        # Her own name in another case, a new username: fine, and recorded as one event.
        rename_staff(session=s, member_id=rid, name="Rita R.", username="rita.r", actor=ada)
        s.commit()
        assert (who(s, "rita.r").name, who(s, "Rita R.").username) == ("Rita R.", "rita.r")
        assert events(s)[-1].changes == {
            "name": ["Rita Reception", "Rita R."],
            "username": ["rita", "rita.r"],
        }
        assert find_staff(session=s, name_or_username="rita") is None


def test_a_deactivated_members_names_stay_taken(engine: Engine) -> None:
    with Session(engine) as s:
        ada, rita = who(s, "ada"), who(s, "rita")
        deactivate_staff(session=s, member_id=rita.id or 0, actor=ada)
        for name, username in (("Rita Reception", None), ("Someone", "rita")):
            with pytest.raises(ValidationFailed, match="already names a staff member"):
                create_staff(session=s, name=name, username=username, actor=ada)


def test_deactivate_and_reactivate_are_audited_and_listed(engine: Engine) -> None:
    with Session(engine) as s:
        ada, nina = who(s, "ada"), who(s, "nina.b")
        deactivate_staff(session=s, member_id=nina.id or 0, actor=ada)
        s.commit()
        assert [m.name for m in list_staff(session=s)] == ["Ada Admin", "Rita Reception"]
        assert HOSTILE in [m.name for m in list_staff(session=s, include_inactive=True)]
        assert find_staff(session=s, name_or_username="nina.b") is None
        reactivate_staff(session=s, member_id=nina.id or 0, actor=ada)
        s.commit()
        assert find_staff(session=s, name_or_username="nina.b") is not None
        assert [(e.action, e.changes) for e in events(s)[-2:]] == [
            ("deactivate", {"active": [True, False]}),
            ("reactivate", {"active": [False, True]}),
        ]
        # The audit log reads them as sentences, the name literally.
        page = load_audit_page(session=s, viewer=ada)
        assert [r.what for r in page.rows[:2]] == [
            f"Staff member reactivated by Ada Admin: {HOSTILE}",
            f"Staff member deactivated by Ada Admin: {HOSTILE}",
        ]


def test_the_audit_log_reads_staff_changes(engine: Engine) -> None:
    with Session(engine) as s:
        ada, rita = who(s, "ada"), who(s, "rita")
        set_staff_role(session=s, member_id=rita.id or 0, role="admin", actor=ada)
        s.commit()
        rows = load_audit_page(session=s, viewer=ada).rows
        assert (
            rows[0].what
            == "Staff member Rita Reception changed by Ada Admin: Role: reception → admin"
        )
        assert rows[-1].what == (
            "Staff member added by Ada Admin: Rita Reception (username rita, role reception)"
        )


def test_an_admin_cannot_deactivate_themselves(engine: Engine) -> None:
    with Session(engine) as s:
        ada, rita = who(s, "ada"), who(s, "rita")
        set_staff_role(session=s, member_id=rita.id or 0, role="admin", actor=ada)
        with pytest.raises(ValidationFailed, match="cannot deactivate yourself"):
            deactivate_staff(session=s, member_id=ada.id or 0, actor=ada)
        assert who(s, "ada").active


def test_an_admin_cannot_remove_their_own_admin_role(engine: Engine) -> None:
    with Session(engine) as s:
        ada, rita = who(s, "ada"), who(s, "rita")
        set_staff_role(session=s, member_id=rita.id or 0, role="admin", actor=ada)
        with pytest.raises(ValidationFailed, match="your own admin role") as caught:
            set_staff_role(session=s, member_id=ada.id or 0, role="reception", actor=ada)
        assert caught.value.field == "role"
        # Another admin may.
        set_staff_role(session=s, member_id=ada.id or 0, role="reception", actor=rita)
        assert who(s, "ada").role == "reception"


def test_the_last_active_admin_is_never_demoted_nor_deactivated(engine: Engine) -> None:
    with Session(engine) as s:
        ada, rita = who(s, "ada"), who(s, "rita")
        set_staff_role(session=s, member_id=rita.id or 0, role="admin", actor=ada)
        s.commit()
        # Rita demotes Ada: fine (Rita stays). Then Rita is the last admin.
        set_staff_role(session=s, member_id=ada.id or 0, role="reception", actor=rita)
        s.commit()
        # An admin that is in no database (a script's actor) meets the same rule.
        outsider = Staff(name="Script", role="admin")
        with pytest.raises(ValidationFailed, match="Rita Reception is the last active admin"):
            set_staff_role(session=s, member_id=rita.id or 0, role="therapist", actor=outsider)
        with pytest.raises(ValidationFailed, match="last active admin and cannot be deactivated"):
            deactivate_staff(session=s, member_id=rita.id or 0, actor=outsider)
        # A deactivated admin does not count.
        set_staff_role(session=s, member_id=ada.id or 0, role="admin", actor=rita)
        deactivate_staff(session=s, member_id=ada.id or 0, actor=rita)
        with pytest.raises(ValidationFailed, match="last active admin"):
            deactivate_staff(session=s, member_id=rita.id or 0, actor=outsider)
        assert who(s, "rita").active and who(s, "rita").role == "admin"


def test_a_deactivated_or_demoted_admin_can_no_longer_manage_staff(engine: Engine) -> None:
    """An app opened before: its operator object still says admin, the database does not."""
    with Session(engine, expire_on_commit=False) as s:
        ada, rita = who(s, "ada"), who(s, "rita")
        set_staff_role(session=s, member_id=rita.id or 0, role="admin", actor=ada)
        s.commit()
    stale_rita = Staff(id=rita.id, name="Rita Reception", role="admin")
    with Session(engine) as s:
        deactivate_staff(session=s, member_id=rita.id or 0, actor=who(s, "ada"))
        s.commit()
    with Session(engine) as s, pytest.raises(InactiveStaff, match="no longer active"):
        set_staff_role(session=s, member_id=ada.id or 0, role="therapist", actor=stale_rita)


def test_an_inactive_member_cannot_operate(engine: Engine) -> None:
    with Session(engine) as s:
        ada, rita = who(s, "ada"), who(s, "rita")
        deactivate_staff(session=s, member_id=rita.id or 0, actor=ada)
        s.commit()
        for name in ("rita", "Rita Reception", "RITA"):
            with pytest.raises(InactiveStaff) as caught:
                resolve_operator(session=s, requested=name)
            assert str(caught.value) == (
                "Rita Reception is no longer active; an admin can reactivate them"
            )
        # Not even to read when the business lets unknown names read.
        set_setting(session=s, key="unknown_staff_read_only", value="yes")
        s.commit()
        with pytest.raises(InactiveStaff):
            resolve_operator(session=s, requested="rita")
        assert resolve_operator(session=s, requested="nobody") is None
        set_setting(session=s, key="unknown_staff_read_only", value="no")
        with pytest.raises(UnknownStaff):
            resolve_operator(session=s, requested="nobody")
        reactivate_staff(session=s, member_id=rita.id or 0, actor=ada)
        assert resolve_operator(session=s, requested="rita") == rita


def test_the_dialogs_form_adds_and_changes_in_one_go(engine: Engine) -> None:
    with Session(engine) as s:
        ada = who(s, "ada")
        tom = save_staff_form(
            session=s, name=" Tom  T ", username="tom", role="therapist", actor=ada
        )
        s.commit()
        assert (tom.name, tom.username, tom.role, tom.active) == ("Tom T", "tom", "therapist", True)
        save_staff_form(
            session=s, name="Tom T", username="", role="reception", member_id=tom.id, actor=ada
        )
        s.commit()
        assert (who(s, "Tom T").username, who(s, "Tom T").role) == (None, "reception")
        assert events(s)[-1].changes == {
            "username": ["tom", None],
            "role": ["therapist", "reception"],
        }
        # Nothing changed: nothing recorded.
        count = len(events(s))
        save_staff_form(
            session=s, name="Tom T", username="", role="reception", member_id=tom.id, actor=ada
        )
        assert len(events(s)) == count


def test_reactivating_a_member_whose_name_someone_else_has_now_is_refused(
    engine: Engine,
) -> None:
    """Data from before names had to be unique: an inactive "Rita" and a new active "rita"
    (username). Bringing the old one back would make ``--staff rita`` name two people."""
    with Session(engine) as s:
        ada, rita = who(s, "ada"), who(s, "rita")
        deactivate_staff(session=s, member_id=rita.id or 0, actor=ada)
        s.commit()
        # Written straight into the table, as an older version could leave it.
        s.add(Staff(name="Rita Other", username="Rita Reception", role="reception"))
        s.commit()
        with pytest.raises(ValidationFailed, match="rename one of them first"):
            reactivate_staff(session=s, member_id=rita.id or 0, actor=ada)
        s.rollback()
        assert who(s, "rita").active is False


def test_a_member_at_a_deactivated_branch_stays_editable(engine: Engine) -> None:
    """Only a new branch is checked: Nina's branch was deactivated after she was put there;
    her role still changes with the dialog's whole form (her branch as it is)."""
    from frontdesk.data import catalogue
    from frontdesk.data.staff import refresh_operator, set_staff_branch

    with Session(engine, expire_on_commit=False) as s:
        ada, nina = who(s, "ada"), who(s, "nina.b")
        north = catalogue.add_branch(session=s, name="North", actor=ada)
        set_staff_branch(session=s, member_id=nina.id or 0, branch_id=north.id, actor=ada)
        catalogue.set_branch_active(session=s, branch_id=north.id or 0, active=False, actor=ada)
        s.commit()
        save_staff_form(
            session=s,
            name=nina.name,
            username="nina.b",
            role="reception",
            member_id=nina.id,
            branch_id=north.id,
            actor=ada,
        )
        s.commit()
        assert (who(s, "nina.b").role, who(s, "nina.b").branch_id) == ("reception", north.id)
        with pytest.raises(ValidationFailed, match="North is deactivated"):
            set_staff_branch(session=s, member_id=ada.id or 0, branch_id=north.id, actor=ada)
        s.rollback()
        # An open app's copy of Nina follows her branch too.
        copy = Staff(id=nina.id, name=nina.name, role="therapist", username="nina.b")
        assert refresh_operator(session=s, operator=copy) is True
        assert (copy.role, copy.branch_id) == ("reception", north.id)

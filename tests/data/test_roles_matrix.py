"""Every protected action against every role, through the services and through the CLI.

The expected roles are written out here from issue 11 (not read from ``roles.PERMISSIONS``), so
this table checks the role table as well as each service's check:

- admin: everything;
- reception: customers, bookings, orders, refunds, notes, rewards, import, export of a
  selection of up to 500; no permanent delete, no bulk delete of more than 20, no merge of
  more than two, no settings, no staff, no backup or restore, no full export;
- therapist: reads, and adds notes (changes or deletes their own); nothing else;
- nobody (no operator resolved): reads only.

Each case runs on its own copy of one small database (made once), so an allowed action
really happens and a refused one is checked to leave no trace.

Not covered: permanent delete ("delete.permanent": no service exists; erasing a customer's
personal data, "erase", is covered); migrating to PostgreSQL (``migrate-db``, admins only) is
left out of the CLI table because it needs a PostgreSQL target.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from frontdesk.cli import main
from frontdesk.data import (
    backup,
    booking_flow,
    bookings,
    candidates,
    customer_form,
    delete_flow,
    directory,
    exporting,
    fields,
    import_flow,
    merge,
    notes,
    order_flow,
    orders,
    privacy,
    profile_actions,
    rewards,
    settings,
    settings_flow,
    tags,
)
from frontdesk.data import customers as svc
from frontdesk.data.db import open_database
from frontdesk.data.models import (
    AuditEvent,
    Branch,
    Customer,
    Service,
    ServiceType,
    Staff,
)
from frontdesk.data.roles import NotAllowed
from frontdesk.data.staff import create_staff, find_staff

ROLES = ("admin", "reception", "therapist", None)
USERNAME = {"admin": "ada", "reception": "rita", "therapist": "tara", None: None}
ADMIN = frozenset({"admin"})
DESK = frozenset({"admin", "reception"})
STAFF = frozenset({"admin", "reception", "therapist"})
DAY = datetime(2030, 6, 3, 10, 0, tzinfo=UTC)
AFTER = datetime(2030, 6, 3, 12, 0, tzinfo=UTC)  # the desk's clock once DAY's visit has begun
CUSTOMERS = 25  # more than the 20 reception may delete at once


# ------------------------------------------------------------------------------ the database


@dataclass(frozen=True)
class World:
    """Ids in the template database (the same in every copy)."""

    branch: int
    service: int
    tara: int
    customers: list[int]
    booking: int  # confirmed, Tara, customer 0
    paid_order: int  # 45.00 paid, customer 0
    open_order: int  # nothing paid, customer 0
    enrolment: int  # 100 points, customer 0
    program: int
    note: int  # on customer 0
    field_key: str
    tag: int
    category: int
    candidates: list[int]  # imported rows waiting for review (on customer 7)
    backup_file: Path
    csv_file: Path


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    folder = tmp_path_factory.mktemp("roles")
    path = folder / "template.db"
    engine = open_database(path)
    with Session(engine, expire_on_commit=False) as s:
        # The first staff member of an empty database is an admin made by nobody.
        ada = create_staff(session=s, name="Ada Admin", role="admin", username="ada")
        create_staff(session=s, name="Rita Reception", role="reception", username="rita", actor=ada)
        tara = create_staff(
            session=s, name="Tara Therapist", role="therapist", username="tara", actor=ada
        )
        branch = Branch(name="Main")
        stype = ServiceType(name="Hair")
        s.add_all([branch, stype])
        s.flush()
        cut = Service(
            service_type_id=stype.id or 0, name="Cut", duration_minutes=60, price_cents=4500
        )
        s.add(cut)
        s.flush()
        people = [
            svc.create_customer(
                session=s,
                data=svc.CustomerCreate(
                    first_name=f"Person{i}", last_name="Test", email=f"p{i}@example.com"
                ),
                actor=ada,
            )
            for i in range(CUSTOMERS)
        ]
        first = people[0].id or 0
        booking = bookings.create_booking(
            session=s,
            customer_id=first,
            service_id=cut.id or 0,
            branch_id=branch.id or 0,
            staff_id=tara.id,
            start_at=DAY,
            actor=ada,
        )
        line = orders.LineInput(kind="service", service_id=cut.id)
        paid = orders.create_order(
            session=s, customer_id=first, branch_id=branch.id or 0, lines=[line], actor=ada
        )
        orders.take_payment(session=s, order_id=paid.id or 0, amount_cents=4500, actor=ada)
        unpaid = orders.create_order(
            session=s, customer_id=first, branch_id=branch.id or 0, lines=[line], actor=ada
        )
        program = rewards.save_program(session=s, name="Stamps", actor=ada)
        enrolment = rewards.enrol(
            session=s,
            customer_id=first,
            program_id=program.id or 0,
            starting_balance=100,
            actor=ada,
        )
        note = notes.add_note(session=s, customer_id=first, body="Likes tea", actor=ada)
        field = fields.save_field(session=s, label="Allergies", actor=ada)
        tag = tags.create_tag(session=s, name="VIP")
        category = tags.save_category(session=s, name="Walk-ins", symbol="W", actor=ada)
        for i in range(3):
            candidates.record_candidate(
                session=s,
                customer_id=people[7].id or 0,
                values={
                    "first_name": "Row",
                    "email": f"row{i}@example.com",
                    "email_key": f"row{i}@example.com",
                    "city": f"Town {i}",
                },
                extras={},
                reason="same email",
                source="people.csv",
                actor=ada,
            )
        waiting = [c.id or 0 for c in candidates.pending(session=s)]
        s.commit()
        world = World(
            branch=branch.id or 0,
            service=cut.id or 0,
            tara=tara.id or 0,
            customers=[p.id or 0 for p in people],
            booking=booking.id or 0,
            paid_order=paid.id or 0,
            open_order=unpaid.id or 0,
            enrolment=enrolment.id or 0,
            program=program.id or 0,
            note=note.id or 0,
            field_key=field.key,
            tag=tag.id or 0,
            category=category.id or 0,
            candidates=waiting,
            backup_file=folder / "template-backup.db",
            csv_file=folder / "people.csv",
        )
        backup.backup(engine, world.backup_file, actor=ada)
    engine.dispose()
    world.csv_file.write_text(
        "First name,Last name,Email\nZed,Zulu,zed@example.com\n", encoding="utf-8"
    )
    return path, world


@pytest.fixture
def copy(template: tuple[Path, World], tmp_path: Path) -> Iterator[tuple[Engine, World, Path]]:
    """A private copy of the template database."""
    path, world = template
    target = tmp_path / "desk.db"
    shutil.copy(path, target)
    engine = open_database(target)
    yield engine, world, target
    engine.dispose()


def staff_of(engine: Engine, role: str | None) -> Staff | None:
    username = USERNAME[role]
    if username is None:
        return None
    with Session(engine, expire_on_commit=False) as s:
        return find_staff(session=s, name_or_username=username)


def audit_count(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(AuditEvent)).one())


# ------------------------------------------------------------------------------ service cases

Work = Callable[[Engine, World, Staff | None, Path], Any]


def in_session(work: Callable[[Session, World, Staff | None, Path], Any]) -> Work:
    """Run ``work`` in one transaction and commit it (as the app does)."""

    def run(engine: Engine, world: World, actor: Staff | None, tmp: Path) -> Any:
        with Session(engine) as s:
            result = work(s, world, actor, tmp)
            s.commit()
            return result

    return run


def _code_of(engine: Engine, customer_id: int) -> str:
    with Session(engine) as s:
        return svc.get_customer(session=s, customer_id=customer_id).code


def _request(world: World, **changes: Any) -> booking_flow.BookingRequest:
    values: dict[str, Any] = {
        "customer_id": world.customers[1],
        "branch_id": world.branch,
        "service_id": world.service,
        "staff_id": world.tara,
        "day": "2030-06-04",
        "time": "11:00",
    }
    values.update(changes)
    return booking_flow.BookingRequest(**values)


def _bulk(request: directory.BulkRequest, count: int = 3) -> Work:
    """The directory's bulk action on the first ``count`` customers; an allowed one must
    change them all (a refusal is one NotAllowed, not a problem per customer)."""

    def run(engine: Engine, world: World, actor: Staff | None, _: Path) -> Any:
        if request.tag_id == -1:
            request_ = replace(request, tag_id=world.tag)
        elif request.program_id == -1:
            request_ = replace(request, program_id=world.program)
        elif request.category_id == -1:
            request_ = replace(request, category_id=world.category)
        else:
            request_ = request
        ids = world.customers[1 : 1 + count]
        outcome = directory.apply_bulk(
            engine=engine, request=request_, customer_ids=ids, actor=actor
        )
        assert not outcome.problems and sorted(outcome.changed_ids) == ids, outcome

    return run


SERVICE_CASES: list[tuple[str, frozenset[str], Work]] = [
    # bookings
    (
        "book an appointment (booking use case)",
        DESK,
        in_session(
            lambda s, w, a, _: booking_flow.book_appointment(
                session=s, request=_request(w), actor=a, tz=UTC
            )
        ),
    ),
    (
        "create a booking (bookings service)",
        DESK,
        in_session(
            lambda s, w, a, _: bookings.create_booking(
                session=s,
                customer_id=w.customers[2],
                service_id=w.service,
                branch_id=w.branch,
                staff_id=None,
                start_at=DAY.replace(hour=15),
                actor=a,
            )
        ),
    ),
    (
        "complete a booking (bookings service)",
        DESK,
        in_session(
            lambda s, w, a, _: bookings.change_status(
                session=s, booking_id=w.booking, action="complete", actor=a, now=AFTER
            )
        ),
    ),
    (
        "cancel a booking (profile action)",
        DESK,
        in_session(
            lambda s, w, a, _: profile_actions.change_booking(
                session=s, booking_id=w.booking, action="cancel", reason="Ill", actor=a
            )
        ),
    ),
    (
        "reschedule a booking (profile action)",
        DESK,
        in_session(
            lambda s, w, a, _: profile_actions.change_booking(
                session=s,
                booking_id=w.booking,
                action="reschedule",
                new_start="2030-06-05 12:00",
                actor=a,
                tz=UTC,
            )
        ),
    ),
    # orders and money
    (
        "place an order with a payment (order use case)",
        DESK,
        in_session(
            lambda s, w, a, _: order_flow.place_order(
                session=s,
                request=order_flow.OrderRequest(
                    customer_id=w.customers[1],
                    branch_id=w.branch,
                    lines=[orders.LineInput(kind="service", service_id=w.service)],
                    payment="10",
                ),
                actor=a,
            )
        ),
    ),
    (
        "take a payment (profile action)",
        DESK,
        in_session(
            lambda s, w, a, _: profile_actions.change_order(
                session=s, order_id=w.open_order, action="pay", amount="20", actor=a
            )
        ),
    ),
    (
        "cancel an order",
        DESK,
        in_session(
            lambda s, w, a, _: orders.cancel_order(
                session=s, order_id=w.open_order, reason="Entered twice", actor=a
            )
        ),
    ),
    (
        "refund (orders service)",
        DESK,
        in_session(
            lambda s, w, a, _: orders.refund(
                session=s, order_id=w.paid_order, amount_cents=500, reason="Late", actor=a
            )
        ),
    ),
    (
        "refund (profile action)",
        DESK,
        in_session(
            lambda s, w, a, _: profile_actions.change_order(
                session=s,
                order_id=w.paid_order,
                action="refund",
                amount="5",
                reason="Late",
                actor=a,
            )
        ),
    ),
    # rewards
    (
        "enrol in a loyalty program",
        DESK,
        in_session(
            lambda s, w, a, _: rewards.enrol(
                session=s, customer_id=w.customers[1], program_id=w.program, actor=a
            )
        ),
    ),
    (
        "add points",
        DESK,
        in_session(
            lambda s, w, a, _: rewards.change_points(
                session=s, enrolment_id=w.enrolment, points=10, reason="Gift", actor=a
            )
        ),
    ),
    (
        "redeem points",
        DESK,
        in_session(
            lambda s, w, a, _: rewards.change_points(
                session=s, enrolment_id=w.enrolment, points=-10, reason="Coffee", actor=a
            )
        ),
    ),
    (
        "change when points expire (profile action)",
        DESK,
        in_session(
            lambda s, w, a, _: profile_actions.set_enrolment_expiry(
                session=s, enrolment_id=w.enrolment, expires_on="2031-01-31", actor=a
            )
        ),
    ),
    (
        "remove an enrolment",
        DESK,
        in_session(
            lambda s, w, a, _: rewards.remove_enrolment(
                session=s, enrolment_id=w.enrolment, actor=a
            )
        ),
    ),
    (
        "enrol many customers",
        DESK,
        lambda e, w, a, _: rewards.bulk_enrol(
            engine=e, customer_ids=w.customers[1:4], program_id=w.program, actor=a
        ),
    ),
    # notes: everyone on the staff adds notes and changes their own; others' take the desk
    (
        "add a note",
        STAFF,
        in_session(
            lambda s, w, a, _: notes.add_note(
                session=s, customer_id=w.customers[0], body="Prefers mornings", actor=a
            )
        ),
    ),
    (
        "edit one's own note",
        STAFF,
        in_session(
            lambda s, w, a, _: notes.update_note(
                session=s,
                note_id=notes.add_note(
                    session=s, customer_id=w.customers[0], body="Mine", actor=a
                ).id
                or 0,
                body="Mine, edited",
                category_id=None,
                visibility="staff",
                pinned=False,
                is_alert=False,
                actor=a,
            )
        ),
    ),
    (
        "delete one's own note",
        STAFF,
        in_session(
            lambda s, w, a, _: notes.delete_note(
                session=s,
                note_id=notes.add_note(
                    session=s, customer_id=w.customers[0], body="Mine", actor=a
                ).id
                or 0,
                actor=a,
            )
        ),
    ),
    (
        "edit a note someone else wrote",
        DESK,
        in_session(
            lambda s, w, a, _: notes.update_note(
                session=s,
                note_id=w.note,
                body="Likes green tea",
                category_id=None,
                visibility="staff",
                pinned=True,
                is_alert=False,
                actor=a,
            )
        ),
    ),
    (
        "delete a note someone else wrote",
        DESK,
        in_session(lambda s, w, a, _: notes.delete_note(session=s, note_id=w.note, actor=a)),
    ),
    (
        "move a note someone else wrote",
        DESK,
        in_session(
            lambda s, w, a, _: notes.move_note(session=s, note_id=w.note, direction=1, actor=a)
        ),
    ),
    # customers
    (
        "save the customer form",
        DESK,
        in_session(
            lambda s, w, a, _: customer_form.save_customer_form(
                session=s,
                form=customer_form.CustomerForm(first_name="Nina", email="nina@example.com"),
                actor=a,
            )
        ),
    ),
    (
        "tag a customer",
        DESK,
        in_session(
            lambda s, w, a, _: tags.add_tag(
                session=s, customer_id=w.customers[0], tag_id=w.tag, actor=a
            )
        ),
    ),
    (
        "set a customer's tags",
        DESK,
        in_session(
            lambda s, w, a, _: tags.set_tags(
                session=s, customer_id=w.customers[0], tag_ids={w.tag}, actor=a
            )
        ),
    ),
    (
        "set a custom field value",
        DESK,
        in_session(
            lambda s, w, a, _: fields.set_values(
                session=s, customer_id=w.customers[0], values={w.field_key: "nuts"}, actor=a
            )
        ),
    ),
    (
        "block a customer",
        DESK,
        in_session(
            lambda s, w, a, _: svc.block_customer(
                session=s, customer_id=w.customers[0], reason="Unpaid", actor=a
            )
        ),
    ),
    (
        "set a customer's status",
        DESK,
        in_session(
            lambda s, w, a, _: svc.set_status(
                session=s, customer_id=w.customers[0], status="inactive", actor=a
            )
        ),
    ),
    *[
        (
            f"bulk {request.action} (directory)",
            DESK,
            _bulk(request),
        )
        for request in (
            directory.BulkRequest(action="block", reason="Unpaid"),
            directory.BulkRequest(action="set_status", status="inactive"),
            directory.BulkRequest(action="set_category", category_id=-1),
            directory.BulkRequest(action="add_tag", tag_id=-1),
            directory.BulkRequest(action="enrol", program_id=-1),
        )
    ],
    (
        "bulk delete 21 customers (directory)",
        ADMIN,
        _bulk(directory.BulkRequest(action="delete"), count=21),
    ),
    (
        "delete a customer (undoable)",
        DESK,
        in_session(
            lambda s, w, a, _: delete_flow.delete_customers(
                session=s, customer_ids=w.customers[:1], actor=a
            )
        ),
    ),
    (
        f"bulk delete {20} customers",
        DESK,
        in_session(
            lambda s, w, a, _: delete_flow.delete_customers(
                session=s, customer_ids=w.customers[:20], actor=a, bulk=True
            )
        ),
    ),
    (
        f"bulk delete {21} customers",
        ADMIN,
        in_session(
            lambda s, w, a, _: delete_flow.delete_customers(
                session=s, customer_ids=w.customers[:21], actor=a, bulk=True
            )
        ),
    ),
    (
        "merge two customers",
        DESK,
        in_session(
            lambda s, w, a, _: merge.merge_customers(
                session=s, survivor_id=w.customers[2], other_ids=w.customers[3:4], actor=a
            )
        ),
    ),
    (
        "merge an imported row into its customer",
        DESK,
        in_session(
            lambda s, w, a, _: candidates.merge_candidate(
                session=s, candidate_id=w.candidates[0], chosen={"city": "Town 0"}, actor=a
            )
        ),
    ),
    (
        "add an imported row as a customer",
        DESK,
        in_session(
            lambda s, w, a, _: candidates.add_as_customer(
                session=s, candidate_id=w.candidates[1], actor=a
            )
        ),
    ),
    (
        "discard an imported row",
        DESK,
        in_session(
            lambda s, w, a, _: candidates.discard(session=s, candidate_id=w.candidates[2], actor=a)
        ),
    ),
    (
        "merge three customers",
        ADMIN,
        in_session(
            lambda s, w, a, _: merge.merge_customers(
                session=s, survivor_id=w.customers[2], other_ids=w.customers[3:5], actor=a
            )
        ),
    ),
    (
        "export a selection of 2",
        DESK,
        in_session(
            lambda s, w, a, tmp: exporting.export_customers(
                session=s, path=tmp / "two.csv", ids=w.customers[:2], actor=a
            )
        ),
    ),
    (
        "export a selection of 501",
        ADMIN,
        in_session(
            lambda s, w, a, tmp: exporting.export_customers(
                session=s, path=tmp / "many.csv", ids=list(range(1, 502)), actor=a
            )
        ),
    ),
    (
        "export every customer",
        ADMIN,
        in_session(
            lambda s, w, a, tmp: exporting.export_customers(
                session=s, path=tmp / "all.csv", actor=a
            )
        ),
    ),
    (
        "import customers (wizard)",
        DESK,
        lambda e, w, a, _: import_flow.run_wizard_import(
            engine=e,
            form=import_flow.ImportForm(path=str(w.csv_file), mapping={}),
            dry_run=False,
            actor=a,
        ),
    ),
    (
        "erase a customer's personal data",
        ADMIN,
        lambda e, w, a, _: privacy.erase_customer(
            engine=e, code=_code_of(e, w.customers[6]), actor=a
        ),
    ),
    # settings, staff, backups: admins
    (
        "define a custom field (fields service)",
        ADMIN,
        in_session(lambda s, w, a, _: fields.save_field(session=s, label="Shoe size", actor=a)),
    ),
    (
        "define a custom field (settings use case)",
        ADMIN,
        in_session(
            lambda s, w, a, _: settings_flow.save_field_form(
                session=s,
                form=settings_flow.FieldForm(
                    label="Shoe size",
                    key="",
                    type="text",
                    required=False,
                    choices=[],
                    help_text="",
                ),
                actor=a,
            )
        ),
    ),
    (
        "define a loyalty program",
        ADMIN,
        in_session(lambda s, w, a, _: rewards.save_program(session=s, name="Gold", actor=a)),
    ),
    (
        "define a customer category",
        ADMIN,
        in_session(
            lambda s, w, a, _: tags.save_category(session=s, name="Gold", symbol="G", actor=a)
        ),
    ),
    (
        "define a note category",
        ADMIN,
        in_session(lambda s, w, a, _: notes.save_category(session=s, name="Diet", actor=a)),
    ),
    (
        "change a business setting",
        ADMIN,
        in_session(
            lambda s, w, a, _: settings.change_setting(
                session=s, key="default_region", value="NL", actor=a
            )
        ),
    ),
    (
        "add a staff member",
        ADMIN,
        in_session(
            lambda s, w, a, _: create_staff(
                session=s, name="New Admin", role="admin", username="newbie", actor=a
            )
        ),
    ),
    (
        "back up the database",
        ADMIN,
        lambda e, w, a, tmp: backup.backup(e, tmp / "copy.db", actor=a),
    ),
    (
        "restore a backup",
        ADMIN,
        lambda e, w, a, tmp: backup.restore(e, w.backup_file, tmp / "before.db", actor=a),
    ),
]


@pytest.mark.parametrize("role", ROLES, ids=[str(r) for r in ROLES])
@pytest.mark.parametrize(
    ("action", "who", "work"), SERVICE_CASES, ids=[c[0] for c in SERVICE_CASES]
)
def test_services(
    copy: tuple[Engine, World, Path],
    tmp_path: Path,
    action: str,
    who: frozenset[str],
    work: Work,
    role: str | None,
) -> None:
    engine, world, _ = copy
    actor = staff_of(engine, role)
    assert (actor.role if actor else None) == role
    before = audit_count(engine)
    if role in who:
        work(engine, world, actor, tmp_path)  # allowed: it really happens
        return
    with pytest.raises(NotAllowed) as refused:
        work(engine, world, actor, tmp_path)
    message = str(refused.value)
    assert ("may not" in message) if actor else ("Choose who is operating" in message)
    assert audit_count(engine) == before  # nothing was written


def test_expiry_on_opening_is_a_system_action(copy: tuple[Engine, World, Path]) -> None:
    engine, world, _ = copy
    with Session(engine) as s:
        rewards.change_expiry(
            session=s,
            enrolment_id=world.enrolment,
            expires_on=date(2030, 1, 1),
            actor=staff_of(engine, "reception"),
        )
        s.commit()
    with Session(engine) as s:
        assert rewards.expire_points(session=s, today=date(2030, 1, 2)) == 1  # no actor
        s.commit()
        assert rewards.get_enrolment(session=s, enrolment_id=world.enrolment).balance == 0


def test_the_first_staff_member_is_an_admin_made_by_nobody(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "empty.db")
    with Session(engine) as s:
        with pytest.raises(NotAllowed):
            create_staff(session=s, name="Rita", role="reception")  # not as the first one
        first = create_staff(session=s, name="Ada", role="admin", username="ada")
        assert first.role == "admin"
        with pytest.raises(NotAllowed):
            create_staff(session=s, name="Other Admin", role="admin")  # now it takes an admin
    engine.dispose()


# ------------------------------------------------------------------------------ CLI cases


def cli(db: Path, role: str | None, *args: str) -> tuple[int, str, str]:
    root = ["--staff", USERNAME[role] or ""] if role else []
    result = CliRunner().invoke(main, [*root, *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _codes(db: Path, indexes: list[int]) -> list[str]:
    engine = open_database(db)
    try:
        with Session(engine) as s:
            rows = s.exec(select(Customer).order_by(col(Customer.id))).all()
            return [rows[i].code for i in indexes]
    finally:
        engine.dispose()


CliArgs = Callable[[Path, World, Path], list[str]]

CLI_CASES: list[tuple[str, frozenset[str], CliArgs]] = [
    (
        "customers add",
        DESK,
        lambda db, w, tmp: [
            "customers",
            "add",
            "--db",
            str(db),
            "--first-name",
            "Nina",
            "--email",
            "nina@example.com",
        ],
    ),
    (
        "customers delete (one)",
        DESK,
        lambda db, w, tmp: ["customers", "delete", "--db", str(db), *_codes(db, [5]), "--yes"],
    ),
    (
        "import",
        DESK,
        lambda db, w, tmp: ["import", "--db", str(db), str(w.csv_file), "--workers", "0"],
    ),
    (
        "export everything",
        ADMIN,
        lambda db, w, tmp: ["export", "--db", str(db), str(tmp / "all.csv")],
    ),
    (
        "merge two",
        DESK,
        lambda db, w, tmp: ["merge", "--db", str(db), *_codes(db, [2, 3])],
    ),
    (
        "merge three",
        ADMIN,
        lambda db, w, tmp: ["merge", "--db", str(db), *_codes(db, [2, 3, 4])],
    ),
    (
        "settings default_region NL",
        ADMIN,
        lambda db, w, tmp: ["settings", "--db", str(db), "default_region", "NL"],
    ),
    (
        "staff add",
        ADMIN,
        lambda db, w, tmp: ["staff", "add", "--db", str(db), "Eve", "--role", "admin"],
    ),
    (
        "backup",
        ADMIN,
        lambda db, w, tmp: ["backup", "--db", str(db), str(tmp / "copy.db")],
    ),
    (
        "customers erase",
        ADMIN,
        lambda db, w, tmp: ["customers", "erase", "--db", str(db), *_codes(db, [6]), "--yes"],
    ),
    (
        "restore --yes",
        ADMIN,
        lambda db, w, tmp: ["restore", "--db", str(db), str(w.backup_file), "--yes"],
    ),
]


# Found by this table, not fixed here (the command is another task's): marked, so that they show.
# Commands whose refusal is not there yet (strict: once it is, the XPASS fails the run).
KNOWN_GAPS: dict[tuple[str, str | None], str] = {}


@pytest.mark.parametrize("role", ROLES, ids=[str(r) for r in ROLES])
@pytest.mark.parametrize(("command", "who", "args"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli(
    request: pytest.FixtureRequest,
    copy: tuple[Engine, World, Path],
    tmp_path: Path,
    command: str,
    who: frozenset[str],
    args: CliArgs,
    role: str | None,
) -> None:
    if (command, role) in KNOWN_GAPS:
        # strict: once the command checks the role, this reports XPASS and fails
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[command, role]))
    engine, world, db = copy
    engine.dispose()  # the command opens the database itself
    before = audit_count(engine)
    code, _, err = cli(db, role, *args(db, world, tmp_path))
    if role in who:
        assert code == 0, err
        return
    assert code != 0
    assert "Traceback" not in err and err.startswith("error:")
    assert len(err.strip().splitlines()) == 1, err  # one clear line
    if role is None:
        # No --staff: the OS login (not on the staff list) is refused, never acts as no one.
        assert "not on the staff list" in err or "Choose who is operating" in err
    else:
        assert "may not" in err
    assert audit_count(engine) == before  # nothing was written
    assert not (tmp_path / "all.csv").exists() and not (tmp_path / "copy.db").exists()


@pytest.mark.parametrize(("command", "who", "args"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_read_only_unknown_staff_changes_nothing(
    request: pytest.FixtureRequest,
    copy: tuple[Engine, World, Path],
    tmp_path: Path,
    command: str,
    who: frozenset[str],
    args: CliArgs,
) -> None:
    """With the business setting that lets unknown staff read, an unknown name is nobody:
    every protected command is refused, and says to choose who is operating."""
    if (command, "therapist") in KNOWN_GAPS:  # the same gap: no role checked at all
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[command, "therapist"]))
    engine, world, db = copy
    with Session(engine) as s:
        settings.set_setting(session=s, key="unknown_staff_read_only", value=True)
        s.commit()
    engine.dispose()
    before = audit_count(engine)
    result = CliRunner().invoke(
        main, ["--staff", "nobody", *args(db, world, tmp_path)], catch_exceptions=False
    )
    assert result.exit_code != 0, result.stdout
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr
    assert "Choose who is operating" in result.stderr, result.stderr
    assert audit_count(engine) == before


MONEY_FILTERS = {
    "top customers by value": directory.AdvancedFilter(top_value=5),
    "packages purchased": directory.AdvancedFilter(packages_purchased=(1,)),
}
DIRECTORY_READS: dict[str, Callable[[Session, svc.DirectoryFilter, Staff | None], Any]] = {
    "page": lambda s, f, a: directory.load_directory_page(session=s, filters=f, actor=a).rows,
    "count": lambda s, f, a: directory.count_directory(session=s, filters=f, actor=a),
    "select all": lambda s, f, a: directory.matching_ids(session=s, text="", filters=f, actor=a),
}


@pytest.mark.parametrize("read", list(DIRECTORY_READS))
@pytest.mark.parametrize("money", list(MONEY_FILTERS))
def test_a_therapist_may_not_list_customers_by_what_they_spent(
    copy: tuple[Engine, World, Path], read: str, money: str
) -> None:
    """The filter panel does not offer a therapist the money filters; the directory's reads
    refuse them too (the list itself would tell who spends most or bought a package)."""
    engine, world, _ = copy
    now = datetime.now(UTC)
    filters = MONEY_FILTERS[money].applied(svc.DirectoryFilter(), now)
    assert filters.uses_money
    staff = {role: staff_of(engine, role) for role in ("admin", "reception", "therapist")}
    tara = staff["therapist"]
    with Session(engine) as s:
        for role in ("admin", "reception"):
            DIRECTORY_READS[read](s, filters, staff[role])  # allowed
        with pytest.raises(NotAllowed, match="may not see orders, payments"):
            DIRECTORY_READS[read](s, filters, tara)
        # Other filters are the therapist's to use.
        plain = directory.AdvancedFilter(lapsed_days=30).applied(svc.DirectoryFilter(), now)
        assert not plain.uses_money
        DIRECTORY_READS[read](s, plain, tara)
        assert directory.count_directory(session=s, actor=tara) == len(world.customers)

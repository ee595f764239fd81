"""Text a person or a file supplies is stored only without control characters; colours are
stored as #rrggbb.

Every service that stores text refuses C0/C1 control characters (NUL included); tab and
newline pass only in multi-line fields. An import reports such a value on its row instead of
failing the batch, on SQLite and on PostgreSQL (which refuses NUL in any text column).
Category and tag colours are validated where they are entered, and the migration 0004 turns
the colours already stored (the seeded VIP "gold") into hex.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from frontdesk.data import bookings as bk
from frontdesk.data import (
    candidates,
    catalogue,
    fields,
    merge,
    notes,
    rewards,
    settings,
    staff,
    tags,
)
from frontdesk.data import customers as svc
from frontdesk.data import orders as od
from frontdesk.data.colours import (
    CSS_COLOURS,
    DEFAULT_COLOUR,
    normalise_colour,
    stored_colour,
    to_hex,
)
from frontdesk.data.db import create_bare_engine, migrate, open_database
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.importing import ImportOptions, run_import
from frontdesk.data.models import (
    Branch,
    Category,
    Customer,
    CustomFieldValue,
    LoyaltyProgram,
    MergeCandidate,
    Note,
    Service,
    ServiceType,
    Tag,
)
from frontdesk.data.validation import check_text, clean_line, clean_multiline, visible_controls
from tests.actors import ADMIN

ESC = "\x1b[2J\x1b]0;pwned\x07"  # clears the screen and sets the terminal title
NUL = "a\x00b"
C1 = "Csi\x9b2J"  # the 8-bit CSI
DEL = "x\x7fy"
HOSTILE = [ESC, NUL, C1, DEL, "bell\x07", "back\x08space"]
HEX = re.compile(r"^#[0-9a-f]{6}$")
# Every control character a single-line field refuses (C0, DEL, C1).
ALL_CONTROLS = [chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]]


def refused(field: str, call: Callable[[], object]) -> ValidationFailed:
    """Run ``call``; it must raise ValidationFailed for ``field`` naming a control char."""
    with pytest.raises(ValidationFailed) as err:
        call()
    assert err.value.field == field, err.value
    assert (
        "control character" in err.value.message
        or "line break" in err.value.message
        or ("tab" in err.value.message)
    )
    # The message itself is safe to print: the character is written out, never included.
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", str(err.value))
    return err.value


# --------------------------------------------------------------------------- the one check


@pytest.mark.parametrize("char", ["\u202e", "\u202d", "\u202a", "\u2066", "\u2069", "\u2028"])
def test_a_name_cannot_hide_behind_a_direction_override(session: Session, char: str) -> None:
    """ "RTL\u202eevil" shows as another name; the message writes the character out."""
    err = refused(
        "first_name",
        lambda: svc.create_customer(
            session=session,
            data=svc.CustomerCreate(first_name=f"RTL{char}evil", email="rtl@example.com"),
            actor=ADMIN,
        ),
    )
    assert f"\\u{ord(char):04x}" in err.message and char not in str(err)


@pytest.mark.parametrize("char", ALL_CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_every_control_character_is_refused_in_one_line(char: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        check_text("city", f"Utre{char}cht")
    assert err.value.field == "city"
    assert f"\\x{ord(char):02x}" in err.value.message or char in "\t\n\r"
    assert char not in str(err.value)


@pytest.mark.parametrize("char", ALL_CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_multi_line_text_allows_only_tab_and_newline(char: str) -> None:
    value = f"line one{char}line two"
    if char in "\t\n":
        assert check_text("body", value, multiline=True) == value
    elif char == "\r":  # a line ending: made a newline by the multi-line cleaner
        assert clean_multiline("body", value) == "line one\nline two"
    else:
        with pytest.raises(ValidationFailed):
            check_text("body", value, multiline=True)
        with pytest.raises(ValidationFailed):
            clean_multiline("body", value)


def test_messages_name_the_character() -> None:
    with pytest.raises(ValidationFailed) as err:
        check_text("city", "ab\x1bc")
    assert err.value.message == "contains a control character (\\x1b) at position 3; remove it"
    with pytest.raises(ValidationFailed, match=r"line break \(\\n\)"):
        check_text("city", "a\nb")
    with pytest.raises(ValidationFailed, match=r"tab \(\\t\)"):
        check_text("city", "a\tb")
    assert check_text("city", None) is None
    assert clean_line("city", "  Den   Haag ") == "Den Haag"
    assert clean_multiline("body", "\r\n first\r\n\tsecond \r\n") == "first\n\tsecond"
    assert visible_controls("x\x1b[2Jy\x00") == "x\\x1b[2Jy\\x00"
    # Printable text of any script, and non-breaking or other Unicode spaces, are fine.
    for fine in ("Zoë Ørsted-Łukasz", "山田 太郎", "O'Brien [VIP] {x}", "a\u00a0b", "🙂"):
        assert check_text("name", fine) == fine


# --------------------------------------------------------------------------- customers

CUSTOMER_TEXT_FIELDS = [
    "first_name",
    "last_name",
    "display_name",
    "email",
    "phone",
    "phone_country",
    "other_phone",
    "gender",
    "address",
    "city",
    "state",
    "postal_code",
    "country",
    "photo_path",
    "status",
    "blocked_reason",
]


def test_every_text_field_of_the_customer_models_is_covered() -> None:
    for model in (svc.CustomerCreate, svc.CustomerUpdate):
        text_fields = {
            name
            for name, info in model.model_fields.items()
            if "str" in str(info.annotation) and name not in ("date_of_birth", "anniversary")
        }
        assert text_fields == set(CUSTOMER_TEXT_FIELDS), model


@pytest.mark.parametrize("bad", [ESC, NUL, C1, "two\nlines", "tab\there"])
@pytest.mark.parametrize("field", CUSTOMER_TEXT_FIELDS)
def test_customer_create_refuses_control_characters(session: Session, field: str, bad: str) -> None:
    data: dict[str, Any] = {"first_name": "Ann", "email": "ann@example.com"}
    data[field] = bad
    if field == "blocked_reason":
        data["blocked"] = True
    refused(
        field,
        lambda: svc.create_customer(actor=ADMIN, session=session, data=svc.CustomerCreate(**data)),
    )
    assert session.exec(select(Customer)).first() is None


@pytest.mark.parametrize("field", CUSTOMER_TEXT_FIELDS)
def test_customer_update_refuses_control_characters(session: Session, field: str) -> None:
    ann = svc.create_customer(
        actor=ADMIN,
        session=session,
        data=svc.CustomerCreate(first_name="Ann", email="ann@example.com"),
    )
    session.commit()
    change: dict[str, Any] = {field: f"x{ESC}"}
    if field == "blocked_reason":
        change["blocked"] = True
    refused(
        field,
        lambda: svc.update_customer(
            session=session,
            customer_id=ann.id or 0,
            data=svc.CustomerUpdate(**change),
            expected_version=ann.version,
        ),
    )


def test_block_reason_and_merge_choices_refuse_control_characters(session: Session) -> None:
    ann = svc.create_customer(
        actor=ADMIN,
        session=session,
        data=svc.CustomerCreate(first_name="Ann", email="ann@example.com"),
    )
    ann2 = svc.create_customer(
        actor=ADMIN,
        session=session,
        data=svc.CustomerCreate(first_name="Ann", email="ann2@example.com"),
    )
    refused(
        "blocked_reason",
        lambda: svc.block_customer(
            session=session, customer_id=ann.id or 0, reason=ESC, actor=ADMIN
        ),
    )
    refused(
        "blocked_reason",
        lambda: svc.block_customer(
            session=session, customer_id=ann.id or 0, reason="a\nb", actor=ADMIN
        ),
    )
    refused(
        "city",
        lambda: merge.merge_customers(
            session=session,
            survivor_id=ann.id or 0,
            other_ids=[ann2.id or 0],
            chosen={"city": f"Delft{NUL}"},
        ),
    )
    assert session.get(Customer, ann2.id).merged_into_id is None  # type: ignore[union-attr]


def test_long_values_are_refused_before_the_database(session: Session) -> None:
    with pytest.raises(ValidationFailed) as err:
        svc.create_customer(
            actor=ADMIN,
            session=session,
            data=svc.CustomerCreate(first_name="Ann", email="a@example.com", city="x" * 101),
        )
    assert err.value.field == "city" and "100" in err.value.message


# --------------------------------------------------------------------------- other services


@pytest.fixture
def shop(session: Session) -> dict[str, int]:
    branch = Branch(name="Main")
    stype = ServiceType(name="Hair")
    session.add_all([branch, stype])
    session.flush()
    cut = Service(service_type_id=stype.id or 0, name="Cut", duration_minutes=60, price_cents=4500)
    session.add(cut)
    session.flush()
    ann = svc.create_customer(
        actor=ADMIN,
        session=session,
        data=svc.CustomerCreate(first_name="Ann", email="ann@example.com"),
    )
    session.commit()
    return {"branch": branch.id or 0, "cut": cut.id or 0, "ann": ann.id or 0}


def _book(session: Session, shop: dict[str, int], **kw: Any) -> Any:
    return bk.create_booking(
        session=session,
        customer_id=shop["ann"],
        service_id=shop["cut"],
        branch_id=shop["branch"],
        staff_id=None,
        start_at=datetime(2026, 12, 1, 10, tzinfo=UTC),
        **{"actor": ADMIN, **kw},
    )


def _order(session: Session, shop: dict[str, int], **kw: Any) -> Any:
    line = kw.pop("line", od.LineInput(kind="service", service_id=shop["cut"]))
    return od.create_order(
        session=session,
        customer_id=shop["ann"],
        branch_id=shop["branch"],
        lines=[line],
        **{"actor": ADMIN, **kw},
    )


def _field(session: Session, kind: str, choices: list[str] | None = None) -> str:
    made = fields.save_field(
        session=session, label=f"F {kind}", type=kind, choices=choices, actor=ADMIN
    )
    return made.key


# (name, field, call) for every other service that stores text; each call gets the session,
# the shop and the hostile value.
Call = Callable[[Session, dict[str, int], str], object]
SERVICES: list[tuple[str, str, Call]] = [
    (
        "note body",
        "body",
        lambda s, shop, v: notes.add_note(session=s, customer_id=shop["ann"], body=v, actor=ADMIN),
    ),
    (
        "note edit",
        "body",
        lambda s, shop, v: notes.update_note(
            session=s,
            note_id=notes.add_note(session=s, customer_id=shop["ann"], body="ok", actor=ADMIN).id
            or 0,
            body=v,
            category_id=None,
            visibility="staff",
            pinned=False,
            is_alert=False,
            actor=ADMIN,
        ),
    ),
    (
        "note category",
        "name",
        lambda s, shop, v: notes.save_category(session=s, name=v, actor=ADMIN),
    ),
    ("booking notes", "notes", lambda s, shop, v: _book(s, shop, notes=v)),
    ("booking source", "source", lambda s, shop, v: _book(s, shop, source=v)),
    (
        "booking cancel reason",
        "reason",
        lambda s, shop, v: bk.change_status(
            session=s, booking_id=_book(s, shop).id, action="cancel", reason=v, actor=ADMIN
        ),
    ),
    (
        "order line description",
        "description",
        lambda s, shop, v: _order(
            s, shop, line=od.LineInput(kind="product", description=v, unit_price_cents=100)
        ),
    ),
    ("order notes", "notes", lambda s, shop, v: _order(s, shop, notes=v)),
    (
        "refund reason",
        "reason",
        lambda s, shop, v: od.refund(
            session=s, order_id=_order(s, shop).id, amount_cents=100, reason=v, actor=ADMIN
        ),
    ),
    (
        "order cancel reason",
        "reason",
        lambda s, shop, v: od.cancel_order(
            session=s, order_id=_order(s, shop).id, reason=v, actor=ADMIN
        ),
    ),
    (
        "program name",
        "name",
        lambda s, shop, v: rewards.save_program(session=s, name=v, actor=ADMIN),
    ),
    (
        "program unit",
        "unit",
        lambda s, shop, v: rewards.save_program(session=s, name="Stamps", unit=v, actor=ADMIN),
    ),
    (
        "enrolment notes",
        "notes",
        lambda s, shop, v: rewards.enrol(
            session=s,
            customer_id=shop["ann"],
            program_id=rewards.save_program(session=s, name="Stamps", actor=ADMIN).id or 0,
            notes=v,
            actor=ADMIN,
        ),
    ),
    (
        "points reason",
        "reason",
        lambda s, shop, v: rewards.change_points(
            session=s,
            enrolment_id=rewards.enrol(
                session=s,
                customer_id=shop["ann"],
                program_id=rewards.default_program(session=s).id or 0,
                actor=ADMIN,
            ).id
            or 0,
            points=5,
            reason=v,
            actor=ADMIN,
        ),
    ),
    ("field label", "label", lambda s, shop, v: fields.save_field(session=s, label=v, actor=ADMIN)),
    (
        "field choices",
        "choices",
        lambda s, shop, v: fields.save_field(
            session=s, label="Hair", type="choice", choices=["Red", v], actor=ADMIN
        ),
    ),
    (
        "field help",
        "help_text",
        lambda s, shop, v: fields.save_field(session=s, label="Hair", help_text=v, actor=ADMIN),
    ),
    (
        "custom text value",
        "cf_f_text",
        lambda s, shop, v: fields.set_values(
            session=s, customer_id=shop["ann"], values={_field(s, "text"): v}, actor=ADMIN
        ),
    ),
    (
        "custom long text value",
        "cf_f_long_text",
        lambda s, shop, v: fields.set_values(
            session=s, customer_id=shop["ann"], values={_field(s, "long_text"): v}, actor=ADMIN
        ),
    ),
    (
        "custom choice value",
        "cf_f_choice",
        lambda s, shop, v: fields.set_values(
            session=s,
            customer_id=shop["ann"],
            values={_field(s, "choice", ["Red"]): v},
            actor=ADMIN,
        ),
    ),
    (
        "custom multi-choice value",
        "cf_f_multi_choice",
        lambda s, shop, v: fields.set_values(
            session=s,
            customer_id=shop["ann"],
            values={_field(s, "multi_choice", ["Red"]): ["Red", v]},
            actor=ADMIN,
        ),
    ),
    ("tag name", "name", lambda s, shop, v: tags.create_tag(session=s, name=v)),
    (
        "category name",
        "name",
        lambda s, shop, v: tags.save_category(session=s, name=v, symbol="*", actor=ADMIN),
    ),
    (
        "category symbol",
        "symbol",
        lambda s, shop, v: tags.save_category(session=s, name="Gold", symbol=v, actor=ADMIN),
    ),
    (
        "branch name",
        "name",
        lambda s, shop, v: catalogue.add_branch(session=s, name=v, actor=ADMIN),
    ),
    (
        "branch address",
        "address",
        lambda s, shop, v: catalogue.add_branch(session=s, name="North", address=v, actor=ADMIN),
    ),
    ("staff name", "name", lambda s, shop, v: staff.create_staff(session=s, name=v, actor=ADMIN)),
    (
        "staff username",
        "username",
        lambda s, shop, v: staff.create_staff(session=s, name="Nina", username=v, actor=ADMIN),
    ),
    (
        "business name",
        "business_name",
        lambda s, shop, v: settings.set_setting(session=s, key="business_name", value=v),
    ),
    (
        "currency",
        "currency",
        lambda s, shop, v: settings.set_setting(session=s, key="currency", value=v),
    ),
]
MULTILINE = {
    "note body",
    "note edit",
    "booking notes",
    "order notes",
    "enrolment notes",
    "custom long text value",
}


@pytest.mark.parametrize("bad", [ESC, NUL, C1, DEL], ids=["esc", "nul", "c1", "del"])
@pytest.mark.parametrize(("name", "field", "call"), SERVICES, ids=[s[0] for s in SERVICES])
def test_every_service_refuses_control_characters(
    session: Session, shop: dict[str, int], name: str, field: str, call: Call, bad: str
) -> None:
    refused(field, lambda: call(session, shop, f"Value {bad} here"))


@pytest.mark.parametrize(("name", "field", "call"), SERVICES, ids=[s[0] for s in SERVICES])
def test_lines_and_tabs_only_in_multi_line_fields(
    session: Session, shop: dict[str, int], name: str, field: str, call: Call
) -> None:
    value = "Allergy: nuts\n\t- and latex\nCall first"
    if name in MULTILINE:
        call(session, shop, value)  # accepted
    else:
        refused(field, lambda: call(session, shop, value))


def test_multi_line_fields_keep_their_lines(any_session: Session) -> None:
    s = any_session
    branch = Branch(name="Main")
    stype = ServiceType(name="Hair")
    s.add_all([branch, stype])
    s.flush()
    cut = Service(service_type_id=stype.id or 0, name="Cut", duration_minutes=60)
    s.add(cut)
    s.flush()
    ann = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Ann", email="ann@example.com")
    )
    shop = {"branch": branch.id or 0, "cut": cut.id or 0, "ann": ann.id or 0}
    body = "Allergy: [nuts]\r\n\t- latex too\r\n"
    note = notes.add_note(session=s, customer_id=ann.id, body=body, actor=ADMIN)
    booking = _book(s, shop, notes="Line one\nLine two")
    order = _order(s, shop, notes="Paid\tcash\nReceipt sent")
    key = _field(s, "long_text")
    fields.set_values(session=s, customer_id=ann.id or 0, values={key: "one\ntwo"}, actor=ADMIN)
    s.commit()
    s.expire_all()
    assert s.get(Note, note.id).body == "Allergy: [nuts]\n\t- latex too"  # type: ignore[union-attr]
    assert bk.get_booking(session=s, booking_id=booking.id).notes == "Line one\nLine two"
    assert od.get_order(session=s, order_id=order.id).notes == "Paid\tcash\nReceipt sent"
    stored = s.exec(select(CustomFieldValue)).one()
    assert stored.value_text == "one\ntwo"


def test_imported_row_file_name_is_shown_not_obeyed(session: Session) -> None:
    ann = svc.create_customer(
        actor=ADMIN,
        session=session,
        data=svc.CustomerCreate(first_name="Ann", email="ann@example.com"),
    )
    assert candidates.record_candidate(
        session=session,
        customer_id=ann.id or 0,
        values={"first_name": "Ann"},
        extras={},
        reason="same email",
        source=f"evil{ESC}.csv record 2",
    )
    kept = session.exec(select(MergeCandidate)).one()
    assert kept.source == "evil\\x1b[2J\\x1b]0;pwned\\x07.csv record 2"


# --------------------------------------------------------------------------- import


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_import_reports_control_characters_on_their_rows(
    any_engine: Engine, tmp_path: Path
) -> None:
    """One bad row per place a value can go; the good rows around them are imported, in one
    batch, on SQLite and on PostgreSQL (where a NUL used to abort the whole batch)."""
    with Session(any_engine) as s:
        fields.save_field(session=s, label="Allergies", type="long_text", actor=ADMIN)
        fields.save_field(session=s, label="Shoe size", type="text", actor=ADMIN)
        s.commit()
    header = ["First name", "Last name", "Email", "City", "Tags", "Notes", "Category"]
    header += ["cf:allergies", "cf:shoe_size"]
    good = ["Ann", "Good", "ann@example.com", "Delft", "Walk-in", "Likes tea", "VIP", "", ""]

    def row(n: int, **change: str) -> list[str]:
        cells = list(good)
        cells[2] = f"row{n}@example.com"
        for key, value in change.items():
            cells[header.index(key)] = value
        return cells

    rows = [
        header,
        row(1),
        row(2, City=f"Ci{NUL}ty"),
        row(3, **{"Last name": ESC}),
        row(4, Notes=f"note {NUL}"),
        row(5, Tags=f"ok, t{NUL}ag"),
        row(6, Category=f"V{NUL}IP"),
        row(7, **{"cf:allergies": f"nuts{NUL}"}),
        row(8, **{"cf:shoe_size": "38\n39"}),
        row(9, **{"First name": "Two\nlines"}),
        row(10, City=C1),
        row(11, Notes="line one\nline two", **{"cf:allergies": "nuts\r\nlatex"}),
        row(12),
    ]
    path = _write_csv(tmp_path / "hostile.csv", rows)
    errors = tmp_path / "errors.csv"
    summary = run_import(
        engine=any_engine,
        path=path,
        options=ImportOptions(error_file=errors, batch_size=100),
        actor=ADMIN,
    )
    # Only a name that cannot be stored refuses its row; any other value with control
    # characters is left out of the imported customer, with a warning on its row (issue 11).
    assert (summary.rows, summary.imported, summary.invalid, summary.warnings) == (12, 10, 2, 7)
    assert {(e.record, e.field) for e in summary.errors} == {(3, "last_name"), (9, "first_name")}
    assert {(w.record, w.field) for w in summary.warned} == {
        (2, "city"),
        (4, "note"),
        (5, "tags"),
        (6, "category"),
        (7, "cf:allergies"),
        (8, "cf:shoe_size"),
        (10, "city"),
    }
    for problem in [*summary.errors, *summary.warned]:
        assert not re.search(r"[\x00-\x1f\x7f-\x9f]", problem.reason), problem
    with errors.open(encoding="utf-8-sig", newline="") as handle:
        written = sorted(csv.reader(handle), key=lambda r: int(r[-3]) if r[-3].isdigit() else 0)
    assert [r[-3] for r in written[1:]] == [str(n) for n in range(2, 11)]
    assert written[1][3] == f"Ci{NUL}ty"  # the original row, to fix and import again
    with Session(any_engine) as s:
        imported = s.exec(select(Customer).order_by(col(Customer.id))).all()
        assert [c.email for c in imported] == [
            f"row{n}@example.com" for n in (1, 2, 4, 5, 6, 7, 8, 10, 11, 12)
        ]
        by_email = {c.email: c for c in imported}
        assert by_email["row2@example.com"].city is None
        assert by_email["row10@example.com"].city is None
        for c in imported:
            stored = [c.first_name, c.last_name, c.city]
            assert not any(re.search(r"[\x00-\x1f\x7f-\x9f]", v or "") for v in stored)
        imported = [c for c in imported if c.email in ("row1@example.com", "row11@example.com")]
        eleven = imported[1]
        note = s.exec(select(Note).where(col(Note.customer_id) == eleven.id)).one()
        assert note.body == "line one\nline two"
        assert fields.values_of(session=s, customer_id=eleven.id or 0)["allergies"] == (
            "nuts\nlatex"
        )


def test_import_with_candidates_refuses_before_keeping_the_row(
    any_engine: Engine, tmp_path: Path
) -> None:
    with Session(any_engine) as s:
        svc.create_customer(
            actor=ADMIN,
            session=s,
            data=svc.CustomerCreate(first_name="Ann", email="ann@example.com"),
        )
        s.commit()
    path = _write_csv(
        tmp_path / "again.csv",
        [
            ["First name", "Email", "Notes"],
            ["Ann", "ann@example.com", f"x{NUL}"],
            ["Ann", "ANN@example.com", "fine"],
        ],
    )
    summary = run_import(
        engine=any_engine, path=path, options=ImportOptions(on_duplicate="candidate"), actor=ADMIN
    )
    # The note cannot be kept: the row is a candidate without it, with a warning (issue 11).
    assert (summary.invalid, summary.candidates, summary.warnings) == (0, 1, 1)
    assert summary.warned[0].field == "note"


# --------------------------------------------------------------------------- colours


def test_colours_are_read_into_one_form() -> None:
    assert to_hex("gold") == "#ffd700"
    assert to_hex("  Gold ") == "#ffd700"
    assert to_hex("Light Blue") == to_hex("light_blue") == to_hex("LightBlue") == "#add8e6"
    assert to_hex("#FC0") == "#ffcc00"
    assert to_hex("#FFD700") == "#ffd700"
    assert to_hex("bright_red") == "#ff0000"
    for bad in ("", "   ", "#12", "#1234", "#gggggg", "notacolour", "gold\x1b", "rgb(1,2,3)"):
        assert to_hex(bad) is None, bad
    assert normalise_colour(None) == normalise_colour("") == DEFAULT_COLOUR
    with pytest.raises(ValidationFailed) as err:
        normalise_colour("glod")
    assert err.value.field == "colour" and "#rrggbb" in err.value.message
    assert stored_colour("glod") == DEFAULT_COLOUR
    assert all(HEX.match(v) for v in CSS_COLOURS.values())
    assert len(CSS_COLOURS) >= 147


def test_colours_are_validated_where_they_are_entered(session: Session) -> None:
    vip = tags.save_category(session=session, name="Gold", symbol="★", colour="Gold", actor=ADMIN)
    assert vip.colour == "#ffd700"
    changed = tags.save_category(
        session=session, name="Gold", symbol="★", colour="#0A0", category_id=vip.id, actor=ADMIN
    )
    assert changed.colour == "#00aa00"
    plain = tags.save_category(session=session, name="Plain", symbol="·", colour="", actor=ADMIN)
    assert plain.colour == DEFAULT_COLOUR
    with pytest.raises(ValidationFailed) as err:
        tags.save_category(session=session, name="Odd", symbol="?", colour="sparkly", actor=ADMIN)
    assert err.value.field == "colour"
    assert tags.create_tag(session=session, name="Walk-in").colour == DEFAULT_COLOUR
    assert tags.create_tag(session=session, name="Blue", colour="navy").colour == "#000080"
    with pytest.raises(ValidationFailed):
        tags.create_tag(session=session, name="Bad", colour="[bold]")


def test_fresh_database_stores_only_hex_colours(any_session: Session) -> None:
    seeded = {c.name: c.colour for c in any_session.exec(select(Category))}
    assert seeded == {"VIP": "#ffd700", "Regular": "#008000", "New": "#00ffff"}


def test_demo_data_colours_are_hex(engine: Engine) -> None:
    from frontdesk.data import demo

    demo.generate(engine=engine, customers=20, seed=1)
    with Session(engine) as s:
        colours = [c.colour for c in s.exec(select(Category))]
        colours += [t.colour for t in s.exec(select(Tag))]
    assert colours and all(HEX.match(c) for c in colours)


def test_migration_turns_stored_colour_names_into_hex(tmp_path: Path) -> None:
    """A database of the previous release (0003), with the seeded "gold" and whatever the
    settings screen let people type, upgrades to hex colours."""
    path = tmp_path / "old.db"
    old = create_bare_engine(path)
    migrate(old, "0003")
    with old.begin() as conn:
        assert (
            conn.execute(text("SELECT colour FROM category WHERE name = 'VIP'")).scalar_one()
            == "gold"
        )
        conn.execute(
            text(
                "INSERT INTO category (name, symbol, colour, position) VALUES "
                "('Typed', 'T', ' DarkOrange ', 4), ('Hex', 'H', '#ABC', 5), "
                "('Junk', 'J', 'sparkly', 6), ('Styled', 'S', 'bold red', 7), "
                "('Empty', 'E', '', 8)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO tag (name, key, colour) VALUES ('Walk-in', 'walk-in', 'white'), "
                "('Odd', 'odd', 'color(5)')"
            )
        )
    old.dispose()
    upgraded = open_database(path)
    with upgraded.connect() as conn:
        categories: dict[str, str] = {
            str(r[0]): str(r[1]) for r in conn.execute(text("SELECT name, colour FROM category"))
        }
        tag_colours: dict[str, str] = {
            str(r[0]): str(r[1]) for r in conn.execute(text("SELECT name, colour FROM tag"))
        }
    upgraded.dispose()
    assert categories == {
        "VIP": "#ffd700",
        "Regular": "#008000",
        "New": "#00ffff",
        "Typed": "#ff8c00",
        "Hex": "#aabbcc",
        "Junk": DEFAULT_COLOUR,
        "Styled": DEFAULT_COLOUR,
        "Empty": DEFAULT_COLOUR,
    }
    assert tag_colours == {"Walk-in": "#ffffff", "Odd": DEFAULT_COLOUR}


def test_program_seed_and_settings_are_clean(any_session: Session) -> None:
    """What the migrations seed passes the same checks as what people type."""
    for program in any_session.exec(select(LoyaltyProgram)):
        check_text("name", program.name)
    for key, value in settings.all_settings(session=any_session).items():
        if isinstance(value, str):
            check_text(key, value)

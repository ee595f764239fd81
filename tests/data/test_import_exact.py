"""Import and export keep every value, exactly (issue 11).

Contact exports of common systems import as they are; an optional value that cannot be read
is a warning, not a refused customer; XLSX rows are read whatever the sheet declares; an
export imported into a fresh database gives back every field; exports follow the roles.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from frontdesk.cli import main
from frontdesk.data import fields
from frontdesk.data.customers import DirectoryFilter
from frontdesk.data.db import open_database
from frontdesk.data.demo import generate
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.exporting import export_customers, guard
from frontdesk.data.importing import (
    ImportOptions,
    guess_mapping,
    parse_date,
    run_import,
    unguard,
)
from frontdesk.data.models import (
    Branch,
    Category,
    ContactPoint,
    Customer,
    CustomerTag,
    Note,
    Staff,
    Tag,
)
from frontdesk.data.roles import EXPORT_SELECTION_LIMIT, NotAllowed
from frontdesk.data.settings import set_setting
from tests.actors import ADMIN, DESK, THERAPIST

FIXTURES = Path(__file__).parent.parent / "fixtures"
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def imp(engine: Engine, path: Path, tmp_path: Path, **kw: Any) -> Any:
    return run_import(
        engine=engine,
        path=path,
        options=ImportOptions(error_file=tmp_path / f"{path.stem}.errors.csv", **kw),
        actor=ADMIN,
    )


def people(engine: Engine) -> dict[str, Customer]:
    with Session(engine) as s:
        return {c.first_name: c for c in s.exec(select(Customer))}


def error_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig") as handle:
        return list(csv.reader(handle))


# ------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("0/0/00", "mdy", None),  # Outlook's empty date
        ("00/00/0000", "dmy", None),
        ("0000-00-00", "dmy", None),
        ("", "dmy", None),
        ("3/4/1990", "dmy", date(1990, 4, 3)),
        ("3/4/1990", "mdy", date(1990, 3, 4)),
        ("3/14/1990", "dmy", date(1990, 3, 14)),  # only one way to read it
        ("14/3/1990", "mdy", date(1990, 3, 14)),
        ("14.03.1990", "dmy", date(1990, 3, 14)),
        ("1990-03-14", "mdy", date(1990, 3, 14)),
        ("1990-03-14T00:00:00", "dmy", date(1990, 3, 14)),
        ("3/14/1990 12:00:00 AM", "dmy", date(1990, 3, 14)),
        ("14 Mar 1990", "mdy", date(1990, 3, 14)),
        ("March 14, 1990", "dmy", date(1990, 3, 14)),
        ("14-Mar-1990", "dmy", date(1990, 3, 14)),
    ],
)
def test_dates_as_other_systems_write_them(text: str, order: str, expected: date | None) -> None:
    assert parse_date(text, "date_of_birth", order) == expected


@pytest.mark.parametrize("text", ["31/31/1990", "--03-14", "0000-03-14", "Mar 14", "soon"])
def test_unreadable_dates_name_their_field(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_date(text, "date_of_birth", "dmy")
    assert caught.value.field == "date_of_birth"


def _dates_file(tmp_path: Path) -> Path:
    path = tmp_path / "dates.csv"
    path.write_text(
        "First name,Email,Birthday\nAnn,ann@example.com,3/4/1990\nBo,bo@example.com,3/14/1990\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("country", "order", "ann"),
    [
        ("US", "auto", date(1990, 3, 4)),
        ("NL", "auto", date(1990, 4, 3)),
        ("GB", "auto", date(1990, 4, 3)),
        ("US", "dmy", date(1990, 4, 3)),  # --date-order wins over the country
        ("NL", "mdy", date(1990, 3, 4)),
    ],
)
def test_day_month_order_follows_the_country_unless_told(
    engine: Engine, tmp_path: Path, country: str, order: str, ann: date
) -> None:
    summary = imp(
        engine, _dates_file(tmp_path), tmp_path, default_country=country, date_order=order
    )
    assert (summary.imported, summary.warnings) == (2, 0)
    found = people(engine)
    assert found["Ann"].date_of_birth == ann
    assert found["Bo"].date_of_birth == date(1990, 3, 14)


def test_order_follows_the_business_country_without_a_default_country(
    engine: Engine, tmp_path: Path
) -> None:
    with Session(engine) as s:
        set_setting(session=s, key="default_region", value="US")
        s.commit()
    imp(engine, _dates_file(tmp_path), tmp_path)
    assert people(engine)["Ann"].date_of_birth == date(1990, 3, 4)


@pytest.mark.parametrize(
    ("extra", "ann"),
    [
        (["--default-country", "US"], date(1990, 3, 4)),
        (["--default-country", "NL"], date(1990, 4, 3)),
        (["--default-country", "US", "--date-order", "dmy"], date(1990, 4, 3)),
        (["--default-country", "US", "--date-order", "auto"], date(1990, 3, 4)),
    ],
)
def test_cli_date_order_follows_the_default_country_unless_told(
    tmp_path: Path, extra: list[str], ann: date
) -> None:
    """`frontdesk import` without --date-order reads 3/4/1990 as the country writes it."""
    db = str(tmp_path / "cli.db")
    result = CliRunner().invoke(
        main, ["--staff", "boss", "import", "--db", db, str(_dates_file(tmp_path)), *extra]
    )
    assert result.exit_code == 0, result.output
    found = people(open_database(db))
    assert found["Ann"].date_of_birth == ann
    assert found["Bo"].date_of_birth == date(1990, 3, 14)


# ------------------------------------------------------------------- common systems


def test_outlook_export_imports_as_it_is(engine: Engine, tmp_path: Path) -> None:
    summary = imp(engine, FIXTURES / "outlook_full.csv", tmp_path, default_country="US")
    assert (summary.rows, summary.imported, summary.invalid, summary.warnings) == (4, 4, 0, 1)
    found = people(engine)
    jane, john, mary = found["Jane"], found["John"], found["Mary"]
    # 0/0/00 is Outlook's empty date: no value, no warning.
    assert jane.date_of_birth is None and jane.anniversary is None
    assert (jane.phone, jane.other_phone, jane.email) == (
        "+14155552671",
        "+14155550100",
        "jane@example.com",
    )
    assert (jane.address, jane.city, jane.state, jane.postal_code, jane.country) == (
        "1 Market St",
        "San Francisco",
        "CA",
        "94105",
        "US",  # "United States of America" read as its code
    )
    assert (john.date_of_birth, john.anniversary, john.gender) == (
        date(1980, 3, 4),
        date(2005, 6, 15),
        "male",
    )
    assert mary.date_of_birth == date(1990, 3, 14)
    with Session(engine) as s:
        tags = set(
            s.exec(
                select(Tag.name)
                .join(CustomerTag, col(CustomerTag.tag_id) == col(Tag.id))
                .where(CustomerTag.customer_id == jane.id)
            )
        )
        assert tags == {"Clients", "VIP"}
        assert [n.body for n in s.exec(select(Note).where(Note.customer_id == jane.id))] == [
            "Prefers mornings"
        ]
    # The one birthday that cannot be read: customer in, birthday out, a warning.
    assert found["Bad"].email == "bad@example.com" and found["Bad"].date_of_birth is None
    assert [(w.record, w.field, w.level) for w in summary.warned] == [
        (4, "date_of_birth", "warning")
    ]
    rows = error_rows(summary.error_file)
    assert rows[0][-3:] == ["frontdesk_record", "frontdesk_field", "frontdesk_error"]
    assert len(rows) == 2 and rows[1][-3:-1] == ["4", "date_of_birth"]
    assert rows[1][-1].startswith("warning:") and "31/31/1990" in rows[1][-1]


@pytest.mark.parametrize(
    ("name", "country", "expected"),
    [
        (
            "google_full.csv",
            "NL",
            {
                "Sanne": ("+31612345678", "sanne@example.nl", date(1990, 4, 23), "San", "NL"),
                "Pieter": ("+31623456789", None, None, None, None),  # --07-01: no year
            },
        ),
        (
            "square_full.csv",
            "US",
            {
                "Ana": ("+14155550123", "ana@example.com", date(1985, 11, 2), None, None),
                "Ben": ("+14155550124", None, None, None, None),  # 0000-05-17: no year
            },
        ),
        (
            "fresha_full.csv",
            "GB",
            {
                "Chloe": ("+447400123456", "chloe@example.co.uk", date(1990, 3, 14), None, "GB"),
                "Tom": ("+447400654321", None, date(1988, 4, 3), None, None),
            },
        ),
        (
            "vagaro_full.tsv",
            "US",
            {
                "Lucy": ("+15125550147", "lucy@example.com", None, None, None),  # "Mar 14"
                "Omar": ("+15125550148", "omar@example.com", date(1979, 12, 25), None, None),
            },
        ),
    ],
)
def test_contact_exports_import_as_they_are(
    engine: Engine, tmp_path: Path, name: str, country: str, expected: dict[str, tuple[Any, ...]]
) -> None:
    summary = imp(engine, FIXTURES / name, tmp_path, default_country=country)
    assert (summary.imported, summary.invalid) == (len(expected), 0)
    found = people(engine)
    for first, want in expected.items():
        c = found[first]
        assert (c.phone, c.email, c.date_of_birth, c.display_name, c.country) == want, first
    # Every birthday that could not be read is a warning on its row, never a refusal.
    assert summary.warnings == sum(1 for w in expected.values() if w[2] is None)


def test_fresha_second_phone_block_and_consent(engine: Engine, tmp_path: Path) -> None:
    imp(engine, FIXTURES / "fresha_full.csv", tmp_path, default_country="GB")
    found = people(engine)
    assert found["Chloe"].other_phone == "+442079460958"
    assert found["Chloe"].consent_marketing is True and found["Chloe"].gender == "female"
    assert (found["Tom"].blocked, found["Tom"].blocked_reason) == (True, "No-shows")


def test_google_labels_become_tags_without_googles_own_groups(
    engine: Engine, tmp_path: Path
) -> None:
    imp(engine, FIXTURES / "google_full.csv", tmp_path, default_country="NL")
    with Session(engine) as s:
        assert set(s.exec(select(Tag.name))) == {"Clients"}


def test_only_identity_problems_refuse_a_row(any_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "First name,Last name,Email,Phone,Birthday,Gender,Marketing,Country,Allergies\n"
        "Ok,One,ok@example.com,,1990-01-02,female,yes,NL,nuts\n"
        "Warn,Two,warn@example.com,,99/99/99,robot,maybe,Narnia,\n"
        ",Nameless,nameless@example.com,,,,,,\n"
        "Bad,Email,not-an-email,,,,,,\n"
        "Dup,Email,ok@example.com,,,,,,\n"
        "NoContact,Four,,,,,,,\n",
        encoding="utf-8",
    )
    with Session(any_engine) as s:
        fields.save_field(
            session=s, label="Allergies", type="choice", choices=["gluten"], actor=ADMIN
        )
        s.commit()
    summary = imp(any_engine, path, tmp_path, default_country="NL")
    assert (summary.rows, summary.imported, summary.invalid, summary.duplicates_in_file) == (
        6,
        2,
        3,
        1,
    )
    assert summary.rows == summary.imported + summary.invalid + summary.skipped
    # Warnings: row 1's "nuts" is not a choice of Allergies; row 2's four values.
    assert summary.warnings == 2
    assert sorted((w.record, w.field) for w in summary.warned) == [
        (1, "cf:allergies"),
        (2, "consent_marketing"),
        (2, "country"),
        (2, "date_of_birth"),
        (2, "gender"),
    ]
    warn = people(any_engine)["Warn"]
    assert (warn.date_of_birth, warn.gender, warn.consent_marketing, warn.country) == (
        None,
        "unspecified",
        False,
        None,
    )
    assert {(e.record, e.field) for e in summary.errors} == {
        (3, "first_name"),
        (4, "email"),
        (5, "email"),
        (6, "phone"),
    }
    rows = error_rows(summary.error_file)
    by_record = sorted(rows[1:], key=lambda r: int(r[-3]))
    assert [r[-3] for r in by_record] == ["1", "2", "3", "4", "5", "6"]
    assert [r[-1].startswith("warning:") for r in by_record] == [True, True] + [False] * 4


def test_a_required_custom_field_left_empty_is_a_warning(
    any_engine: Engine, tmp_path: Path
) -> None:
    """As the README says: the customer is added, the row is in the error file with a
    warning naming the field (it was added silently). An existing customer matched and left
    as they were is not warned about: their value, if any, stays."""
    with Session(any_engine) as s:
        fields.save_field(session=s, label="Referral", type="text", required=True, actor=ADMIN)
        fields.save_field(session=s, label="Shoe size", type="number", actor=ADMIN)
        s.commit()
    path = tmp_path / "required.csv"
    path.write_text(
        "First Name,Last Name,Email,Referral\n"
        "Has,Ref,has@example.com,Friend\n"
        "No,Ref,noref@example.com,\n"
        "No,Column,nocolumn@example.com,  \n",
        encoding="utf-8",
    )
    summary = imp(any_engine, path, tmp_path)
    assert (summary.imported, summary.warnings) == (3, 2)
    assert sorted((w.record, w.field) for w in summary.warned) == [
        (2, "cf:referral"),
        (3, "cf:referral"),
    ]
    assert "Referral is required" in summary.warned[0].reason
    rows = error_rows(summary.error_file)
    assert [r[-3] for r in rows[1:]] == ["2", "3"]
    assert all("imported without cf:referral" in r[-1] for r in rows[1:])
    # Imported again, skipped as duplicates: nothing to warn about.
    again = imp(any_engine, path, tmp_path, on_duplicate="skip")
    assert (again.imported, again.warnings) == (0, 0)


def test_cli_json_counts_warnings_and_exits_zero(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    result = CliRunner().invoke(
        main,
        [
            "--staff",
            "boss",
            "import",
            "--db",
            db,
            str(_copy(FIXTURES / "outlook_full.csv", tmp_path, "first.csv")),
            "--default-country",
            "US",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert (report["imported"], report["invalid"], report["warnings"]) == (4, 0, 1)
    again = CliRunner().invoke(
        main,
        [
            "--staff",
            "boss",
            "import",
            "--db",
            str(tmp_path / "again.db"),
            str(_copy(FIXTURES / "outlook_full.csv", tmp_path, "again.csv")),
            "--default-country",
            "US",
        ],
    )
    assert again.exit_code == 0, again.output
    text = " ".join(again.stdout.split())
    assert "0 invalid, 1 imported with a warning" in text
    assert "record 4: warning: date_of_birth: '31/31/1990' is not a date" in text
    assert f"is in {tmp_path / 'again.errors.csv'}" in text


def _copy(src: Path, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copy(src, target)
    return target


# ------------------------------------------------------------------- the error file


def test_error_file_only_when_needed_private_and_not_repeated(
    engine: Engine, tmp_path: Path
) -> None:
    clean = tmp_path / "clean.csv"
    clean.write_text("First name,Email\nAnn,ann@example.com\n", encoding="utf-8")
    summary = imp(engine, clean, tmp_path)
    assert summary.error_file is None and not (tmp_path / "clean.errors.csv").exists()

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "First name,Email,Birthday\nBen,not-mail,\nCy,cy@example.com,31/31/31\n", encoding="utf-8"
    )
    errors = tmp_path / "bad.errors.csv"
    errors.write_text("old\n")
    errors.chmod(0o644)  # an older file must not stay readable by others
    summary = imp(engine, bad, tmp_path)
    assert summary.error_file == errors
    assert errors.stat().st_mode & 0o777 == 0o600
    rows = error_rows(errors)
    assert rows[0] == [
        "First name",
        "Email",
        "Birthday",
        "frontdesk_record",
        "frontdesk_field",
        "frontdesk_error",
    ]
    # Corrected and imported again: the report columns are recognised, ignored and replaced.
    fixed = tmp_path / "fixed.csv"
    with errors.open(encoding="utf-8-sig") as src, fixed.open("w", newline="") as dst:
        reader, writer = csv.reader(src), csv.writer(dst)
        for row in reader:
            writer.writerow(
                [
                    cell.replace("not-mail", "ben@example.com").replace("31/31/31", "x")
                    for cell in row
                ]
            )
    assert set(guess_mapping(rows[0])[h] for h in rows[0][-3:]) == {"ignore"}
    again = imp(engine, fixed, tmp_path)
    assert (again.imported, again.invalid) == (1, 0)  # Ben; Cy is already in
    rows = error_rows(tmp_path / "fixed.errors.csv") if again.error_file else [[]]
    assert again.error_file is None or rows[0].count("frontdesk_error") == 1
    assert people(engine)["Ben"].email == "ben@example.com"


def test_a_clean_import_removes_the_error_file_an_earlier_import_left(
    engine: Engine, tmp_path: Path
) -> None:
    src = tmp_path / "desk.csv"
    src.write_text("First name,Email\nBen,not-mail\n", encoding="utf-8")
    first = imp(engine, src, tmp_path)
    errors = tmp_path / "desk.errors.csv"
    assert first.error_file == errors and errors.exists()
    src.write_text("First name,Email\nBen,ben@example.com\n", encoding="utf-8")
    again = imp(engine, src, tmp_path)
    assert (again.imported, again.error_file) == (1, None)
    assert not errors.exists()  # it would have read as this import's errors
    # A file of that name that Frontdesk did not write is left alone.
    errors.write_text("my own notes\n", encoding="utf-8")
    src.write_text("First name,Email\nCy,cy@example.com\n", encoding="utf-8")
    imp(engine, src, tmp_path)
    assert errors.read_text(encoding="utf-8") == "my own notes\n"


# ------------------------------------------------------------------- XLSX


def _xlsx(path: Path, rows: int, dimension: str | None) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["First name", "Email", "Phone"])
    for i in range(rows):
        sheet.append([f"P{i}", f"p{i}@example.com", None])
    book.save(path)
    if dimension is not None:  # what some programs write: a wrong declared extent
        fixed = path.with_suffix(".tmp")
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(fixed, "w") as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename.startswith("xl/worksheets/sheet"):
                    data, n = re.subn(
                        rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), data
                    )
                    assert n == 1
                dst.writestr(item, data)
        fixed.replace(path)
    return path


@pytest.mark.parametrize("dimension", [None, "A1", "A1:B2", "A1:C5000"])
def test_xlsx_rows_are_never_lost_to_a_wrong_dimension(
    engine: Engine, tmp_path: Path, dimension: str | None
) -> None:
    path = _xlsx(tmp_path / "people.xlsx", 100, dimension)
    summary = imp(engine, path, tmp_path)
    assert (summary.rows, summary.imported, summary.invalid) == (100, 100, 0)
    assert len(people(engine)) == 100


def test_a_damaged_or_fake_xlsx_is_refused_plainly(engine: Engine, tmp_path: Path) -> None:
    """Not a workbook, a zip without one, a cut-off download: a clear refusal (the CLI
    printed a traceback), nothing imported."""
    fake = tmp_path / "fake.xlsx"
    fake.write_text("First name,Email\nAl,al@example.com\n", encoding="utf-8")
    empty_zip = tmp_path / "zip.xlsx"
    with zipfile.ZipFile(empty_zip, "w") as z:
        z.writestr("readme.txt", "no workbook here")
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(_xlsx(tmp_path / "whole.xlsx", 50, None).read_bytes()[:3000])
    for path in (fake, empty_zip, cut):
        with pytest.raises(ValidationFailed, match=f"cannot read {path.name}: not an Excel"):
            imp(engine, path, tmp_path)
        result = CliRunner().invoke(
            main,
            ["--staff", "boss", "import", "--db", str(tmp_path / "cli.db"), str(path)],
        )
        assert result.exit_code == 1, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "not an Excel workbook" in result.output
    assert people(engine) == {}


def test_xlsx_export_is_text_without_apostrophes(engine: Engine, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    _hostile_customer(engine)
    out = tmp_path / "out.xlsx"
    with Session(engine) as s:
        assert export_customers(session=s, path=out, actor=ADMIN) == 1
    assert out.stat().st_mode & 0o777 == 0o600
    sheet = load_workbook(out).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    row = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert row["First name"].value == "=cmd|' /C calc'!A0" and row["First name"].data_type == "s"
    assert row["City"].value == "\uff1dHYPERLINK(1)" and row["Mobile"].value == "+14155552671"
    assert all(c.data_type == "s" for c in sheet[2] if c.value not in (None, ""))
    other = open_database(tmp_path / "other.db")
    assert run_import(engine=other, path=out, options=ImportOptions(), actor=ADMIN).imported == 1
    with Session(other) as s:
        c = s.exec(select(Customer)).one()
        assert (c.first_name, c.city) == ("=cmd|' /C calc'!A0", "\uff1dHYPERLINK(1)")


def _hostile_customer(engine: Engine) -> None:
    from frontdesk.data import customers as svc

    with Session(engine) as s:
        svc.create_customer(
            session=s,
            data=svc.CustomerCreate(
                first_name="=cmd|' /C calc'!A0",
                last_name="@SUM(1)",
                phone="+14155552671",
                email="x@example.com",
                city="\uff1dHYPERLINK(1)",
            ),
            actor=ADMIN,
        )
        s.commit()


def test_csv_guards_full_width_formulas_and_plain_does_not(engine: Engine, tmp_path: Path) -> None:
    for sign in ("\uff1d", "\uff0b", "\uff0d", "\uff20", "=", "+", "-", "@"):
        assert guard(sign + "1") == "'" + sign + "1" and unguard("'" + sign + "1") == sign + "1"
    _hostile_customer(engine)
    guarded, plain = tmp_path / "g.csv", tmp_path / "p.csv"
    with Session(engine) as s:
        export_customers(session=s, path=guarded, actor=ADMIN)
        export_customers(session=s, path=plain, actor=ADMIN, plain=True)
    row = next(csv.DictReader(guarded.open(encoding="utf-8-sig")))
    assert (row["First name"], row["City"], row["Mobile"]) == (
        "'=cmd|' /C calc'!A0",
        "'\uff1dHYPERLINK(1)",
        "'+14155552671",
    )
    row = next(csv.DictReader(plain.open(encoding="utf-8-sig")))
    assert (row["First name"], row["City"], row["Mobile"]) == (
        "=cmd|' /C calc'!A0",
        "\uff1dHYPERLINK(1)",
        "+14155552671",
    )


# ------------------------------------------------------------------- round trip


@pytest.fixture
def demo(tmp_path: Path) -> Engine:
    engine = open_database(tmp_path / "demo.db")
    generate(engine=engine, customers=300, seed=5, now=NOW)
    return engine


CUSTOM = [
    ("Allergies", "text", None),
    ("Visits abroad", "number", None),
    ("Patch test", "date", None),
    ("Likes tea", "yes_no", None),
    ("Hair type", "choice", ["curly", "straight"]),
    ("Products", "multi_choice", ["oil", "wax", "spray"]),
    ("Anniversary", "text", None),  # reads as a standard column: exported as cf:anniversary_2
]


def _set_up_fields(engine: Engine) -> None:
    with Session(engine) as s:
        for label, kind, choices in CUSTOM:
            key = "anniversary_2" if label == "Anniversary" else None
            fields.save_field(
                session=s, label=label, key=key, type=kind, choices=choices, actor=ADMIN
            )
        s.commit()


def _enrich(engine: Engine) -> None:
    """Every field filled on some customers, with values that hurt."""
    with Session(engine) as s:
        branches = list(s.exec(select(Branch)))
        customers = list(s.exec(select(Customer).order_by(col(Customer.id)).limit(40)))
        for i, c in enumerate(customers):
            c.display_name = f"[b]{c.first_name}[/b] {i}"
            c.anniversary = date(2000 + i % 20, 1 + i % 12, 1 + i % 28)
            c.address, c.city, c.state, c.postal_code = f"{i} =Main", "＝City", "-ST", f"@{i}"
            c.country = "NL"
            c.consent_newsletter = bool(i % 2)
            c.consent_birthday = bool(i % 3)
            c.home_branch_id = branches[i % len(branches)].id
            if i % 5 == 0:
                c.blocked, c.blocked_reason = True, "+ said so"
            if i % 7 == 0:
                c.status = "inactive"
            s.add(c)
            fields.set_values(
                session=s,
                customer_id=c.id or 0,
                values={
                    "allergies": f"=nuts, {i}",
                    "visits_abroad": str(1234567.25 + i),
                    "patch_test": f"2025-0{1 + i % 9}-1{i % 10}",
                    "likes_tea": "yes" if i % 2 else "no",
                    "hair_type": "curly",
                    "products": ["oil", "spray"],
                    "anniversary_2": "ten years",
                },
                actor=ADMIN,
            )
        customers[1].first_name = "A" * 100
        first_ten = [c.id or 0 for c in customers[:10]]
        s.commit()
    from frontdesk.data.contacts import add_contact_point

    with Session(engine) as s:
        for i, cid in enumerate(first_ten):
            add_contact_point(session=s, customer_id=cid, text=f"+3170555{i:04d}", actor=ADMIN)
            add_contact_point(
                session=s, customer_id=cid, text=f"Second.{i}@Example.com", actor=ADMIN
            )
        s.commit()


def _snapshot(engine: Engine) -> dict[str, dict[str, Any]]:
    keys = [
        "code",
        "first_name",
        "last_name",
        "display_name",
        "email",
        "phone",
        "other_phone",
        "gender",
        "date_of_birth",
        "anniversary",
        "address",
        "city",
        "state",
        "postal_code",
        "country",
        "status",
        "blocked",
        "blocked_reason",
        "consent_reminders",
        "consent_birthday",
        "consent_marketing",
        "consent_newsletter",
    ]
    out: dict[str, dict[str, Any]] = {}
    with Session(engine) as s:
        branches = {b.id: b.name for b in s.exec(select(Branch))}
        categories = {c.id: c.name for c in s.exec(select(Category))}
        tags: dict[int, set[str]] = {}
        for cid, name in s.exec(
            select(CustomerTag.customer_id, Tag.name).join(
                Tag, col(Tag.id) == col(CustomerTag.tag_id)
            )
        ):
            tags.setdefault(cid, set()).add(name)
        for c in s.exec(
            select(Customer).where(
                col(Customer.deleted_at).is_(None), col(Customer.merged_into_id).is_(None)
            )
        ):
            record = {k: getattr(c, k) for k in keys}
            record["home_branch"] = branches.get(c.home_branch_id)
            created = c.created_at if c.created_at.tzinfo else c.created_at.replace(tzinfo=UTC)
            record["created_at"] = created.astimezone(UTC)  # "customer since" comes back too
            record["category"] = categories.get(c.category_id)
            record["tags"] = tags.get(c.id or 0, set())
            record["custom"] = fields.values_of(session=s, customer_id=c.id or 0)
            record["contacts"] = {
                (p.kind, p.value, p.display)
                for p in s.exec(select(ContactPoint).where(ContactPoint.customer_id == c.id))
            }
            out[c.email_key or c.phone or ""] = record
    return out


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_gives_back_every_field(
    demo: Engine, tmp_path: Path, suffix: str
) -> None:
    _set_up_fields(demo)
    _enrich(demo)
    out = tmp_path / f"all{suffix}"
    with Session(demo) as s:
        count = export_customers(session=s, path=out, actor=ADMIN)
    before = _snapshot(demo)
    assert count == len(before) and len(before) > 250
    # Custom columns are headed with their label (or cf:key where the label reads as another).
    if suffix == ".csv":
        header = next(csv.reader(out.open(encoding="utf-8-sig")))
        assert header[-len(CUSTOM) :] == [label for label, _, _ in CUSTOM[:-1]] + [
            "cf:anniversary_2"
        ]
    # A fresh database set up like the first one (same branches, categories, fields).
    fresh = open_database(tmp_path / "fresh.db")
    generate(engine=fresh, customers=0, seed=5, now=NOW)
    _set_up_fields(fresh)
    summary = run_import(
        engine=fresh,
        path=out,
        options=ImportOptions(error_file=tmp_path / "rt.errors.csv"),
        actor=ADMIN,
    )
    assert (summary.imported, summary.invalid, summary.warnings) == (count, 0, 0)
    assert summary.error_file is None
    after = _snapshot(fresh)
    assert after.keys() == before.keys()
    lost = {
        (who, name): (value, after[who][name])
        for who, record in before.items()
        for name, value in record.items()
        if after[who][name] != value
    }
    assert lost == {}
    assert (
        sum(1 for r in after.values() if r["home_branch"])
        == sum(1 for r in before.values() if r["home_branch"])
        > 0
    )
    demo.dispose()
    fresh.dispose()


# ------------------------------------------------------------------- roles


def _customers(engine: Engine, n: int) -> list[int]:
    from frontdesk.data.bulk import insert_with_ids

    base = Customer(code="", first_name="").model_dump(exclude={"id"})
    rows = []
    for i in range(n):
        row = dict(base)
        row.update(
            code=f"C-{i + 1:06d}",
            first_name=f"P{i}",
            email=f"p{i}@example.com",
            email_key=f"p{i}@example.com",
            sort_key=f"p{i:05d}",
            name_key=f"p{i}",
            search_text=f"p{i}",
        )
        rows.append(row)
    with Session(engine) as s:
        ids = insert_with_ids(s, Customer, rows)
        s.commit()
    return ids


@pytest.mark.parametrize(
    ("actor", "what", "allowed"),
    [
        (ADMIN, "full", True),
        (ADMIN, "selection_many", True),
        (ADMIN, "filter_many", True),
        (DESK, "selection", True),
        (DESK, "selection_limit", True),
        (DESK, "filter_few", True),
        (DESK, "full", False),
        (DESK, "selection_many", False),
        (DESK, "filter_many", False),
        (THERAPIST, "selection", False),
        (THERAPIST, "full", False),
        (None, "selection", False),
    ],
)
def test_export_roles(
    engine: Engine, tmp_path: Path, actor: Staff | None, what: str, allowed: bool
) -> None:
    ids = _customers(engine, EXPORT_SELECTION_LIMIT + 1)
    kwargs: dict[str, Any] = {
        "full": {},
        "selection": {"ids": ids[:3]},
        "selection_limit": {"ids": ids[:EXPORT_SELECTION_LIMIT]},
        "selection_many": {"ids": ids},
        "filter_few": {"text": "p12"},
        "filter_many": {"filters": DirectoryFilter(status="active")},
    }[what]
    out = tmp_path / "out.csv"
    with Session(engine) as s:
        if allowed:
            assert export_customers(session=s, path=out, actor=actor, **kwargs) > 0
        else:
            with pytest.raises(NotAllowed):
                export_customers(session=s, path=out, actor=actor, **kwargs)
            assert not out.exists()
            assert list(tmp_path.glob(".out.csv*")) == []  # nothing half-written left


def _cli_db(tmp_path: Path) -> str:
    db = tmp_path / "roles.db"
    engine = open_database(db)
    generate(engine=engine, customers=0, seed=5, now=NOW)
    _customers(engine, EXPORT_SELECTION_LIMIT + 1)
    engine.dispose()
    return str(db)


def test_cli_export_follows_roles(tmp_path: Path) -> None:
    db = _cli_db(tmp_path)
    run = CliRunner().invoke
    out = tmp_path / "x.csv"
    refused = run(main, ["--staff", "rita", "export", "--db", db, str(out)])
    assert refused.exit_code == 1 and not out.exists()
    assert "may not export more than 500 customers" in refused.stderr
    assert "Traceback" not in refused.output
    few = run(main, ["--staff", "rita", "export", "--db", db, "--search", "p12", str(out)])
    assert few.exit_code == 0, few.output
    assert "Exported" in few.stdout
    everything = run(
        main, ["--staff", "admin", "export", "--db", db, "--plain", "--overwrite", str(out)]
    )
    assert everything.exit_code == 0, everything.output
    assert f"Exported {EXPORT_SELECTION_LIMIT + 1:,} customers" in everything.stdout
    therapist = _a_therapist(db)
    refused = run(main, ["--staff", therapist, "export", "--db", db, "--search", "p1", str(out)])
    assert refused.exit_code == 1 and "may not export customers" in refused.stderr


def test_cli_import_refuses_a_therapist(tmp_path: Path) -> None:
    db = _cli_db(tmp_path)
    therapist = _a_therapist(db)
    result = CliRunner().invoke(
        main,
        [
            "--staff",
            therapist,
            "import",
            "--db",
            db,
            str(_copy(FIXTURES / "shopify.csv", tmp_path, "s.csv")),
        ],
    )
    assert result.exit_code == 1 and "may not import customers" in result.stderr
    assert "Traceback" not in result.output


def _a_therapist(db: str) -> str:
    engine = open_database(db)
    with Session(engine) as s:
        member = s.exec(select(Staff).where(Staff.role == "therapist")).first()
        assert member is not None and member.username
        name = member.username
    engine.dispose()
    return name


def test_an_admin_exports_every_match_of_a_search(engine: Engine, tmp_path: Path) -> None:
    _customers(engine, 1200)
    out = tmp_path / "found.csv"
    with Session(engine) as s:
        assert export_customers(session=s, path=out, text="p", actor=ADMIN) == 1200
    with out.open(encoding="utf-8-sig") as handle:
        assert sum(1 for _ in handle) == 1201


def test_the_wizard_recognises_custom_field_columns_by_label(tmp_path: Path) -> None:
    from frontdesk.data.import_flow import inspect_file

    path = tmp_path / "labels.csv"
    path.write_text("First name,Email,Allergies,cf:hair,Notes\nAnn,a@example.com,nuts,x,hi\n")
    preview = inspect_file(path=str(path), custom=[("Allergies", "allergies"), ("Notes", "n")])
    assert preview.mapping == {
        "First name": "first_name",
        "Email": "email",
        "Allergies": "cf:allergies",
        "cf:hair": "cf:hair",
        "Notes": "note",  # a label that reads as a standard column keeps that column
    }


def test_codes_of_an_export_are_kept_where_free(any_engine: Engine, tmp_path: Path) -> None:
    from frontdesk.data import customers as svc

    with Session(any_engine) as s:
        svc.create_customer(
            session=s,
            data=svc.CustomerCreate(first_name="Here", email="here@example.com"),
            actor=ADMIN,
        )
        s.commit()
    path = tmp_path / "codes.csv"
    path.write_text(
        "Code,First name,Email\n"
        "C-000001,Taken,taken@example.com\n"  # C-000001 is Here's: a new code
        "C-000500,Kept,kept@example.com\n"
        "123,Square,square@example.com\n"  # another system's id: not a Frontdesk code
        "C-000500,Again,again@example.com\n",  # twice in the file: the second gets a new one
        encoding="utf-8",
    )
    summary = imp(any_engine, path, tmp_path)
    assert summary.imported == 4
    with Session(any_engine) as s:
        codes = {c.first_name: c.code for c in s.exec(select(Customer))}
        later = svc.create_customer(
            session=s,
            data=svc.CustomerCreate(first_name="Later", email="later@example.com"),
            actor=ADMIN,
        )
        later_code = later.code
        s.commit()
    assert codes["Here"] == "C-000001" and codes["Kept"] == "C-000500"
    assert len(set(codes.values())) == 5
    assert {codes["Taken"], codes["Square"], codes["Again"]} == {
        "C-000501",
        "C-000502",
        "C-000503",
    }
    assert later_code == "C-000504"


def test_filling_empty_fields_fills_home_branch_and_category(
    engine: Engine, tmp_path: Path
) -> None:
    from frontdesk.data import customers as svc

    with Session(engine) as s:
        s.add(Branch(name="Harbour"))  # Regular is one of the default categories
        svc.create_customer(
            session=s,
            data=svc.CustomerCreate(first_name="Ann", email="ann@example.com"),
            actor=ADMIN,
        )
        s.commit()
    path = tmp_path / "more.csv"
    path.write_text(
        "First name,Email,Home branch,Category\nAnn,ann@example.com,harbour,regular\n",
        encoding="utf-8",
    )
    summary = imp(engine, path, tmp_path, on_duplicate="update")
    assert (summary.updated, summary.warnings) == (1, 0)
    with Session(engine) as s:
        ann = s.exec(select(Customer)).one()
        assert s.get(Branch, ann.home_branch_id).name == "Harbour"  # type: ignore[union-attr]
        assert s.get(Category, ann.category_id).name == "Regular"  # type: ignore[union-attr]


def test_secondary_phones_and_emails_are_imported(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "secondary.csv"
    path.write_text(
        "First name,Email,Secondary phones,Secondary emails\n"
        "Ann,ann@example.com,+31 70 555 0001; +31 70 555 0002,Ann.Work@Example.com\n"
        "Bo,bo@example.com,not a phone,ann@example.com\n",
        encoding="utf-8",
    )
    summary = imp(engine, path, tmp_path)
    assert (summary.imported, summary.invalid, summary.warnings) == (2, 0, 1)
    assert sorted(w.field for w in summary.warned) == ["secondary_emails", "secondary_phones"]
    with Session(engine) as s:
        points = {
            (c.first_name, p.kind, p.value, p.origin)
            for c, p in s.exec(
                select(Customer, ContactPoint).join(
                    ContactPoint, col(ContactPoint.customer_id) == col(Customer.id)
                )
            )
        }
    assert points == {
        ("Ann", "phone", "+31705550001", "imported"),
        ("Ann", "phone", "+31705550002", "imported"),
        ("Ann", "email", "ann.work@example.com", "imported"),
    }


# ------------------------------------------------------------------- files of another kind


def test_a_utf16_file_as_excel_saves_unicode_text_imports(engine: Engine, tmp_path: Path) -> None:
    text = "First name\tLast name\tEmail\nZoë\tMüller\tzoe@example.com\nÅsa\tLindqvist\tasa@example.com\n"
    for name, data in (
        ("marked.csv", text.encode("utf-16")),  # Excel: a byte-order mark, little-endian
        ("le.csv", text.replace("example", "le").encode("utf-16-le")),
        ("be.csv", text.replace("example", "be").encode("utf-16-be")),
        # Characters with a zero byte of their own, with no mark: still UTF-16.
        (
            "cjk.csv",
            (text + "王一\tЀва\twang@le.com\n").replace("example", "cjk").encode("utf-16-le"),
        ),
        # Cyrillic names, no mark: few ASCII characters, still recognised.
        (
            "ru.csv",
            "First name\tLast name\tEmail\nИван\tПетров\tivan@ru.ru\nОльга\tСмирнова\tolga@ru.ru\n".encode(
                "utf-16-le"
            ),
        ),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        summary = imp(engine, path, tmp_path)
        expected = 3 if name == "cjk.csv" else 2
        assert (summary.imported, summary.invalid) == (expected, 0), name
    with Session(engine) as s:
        names = sorted(c.label for c in s.exec(select(Customer)))
    assert names.count("Zoë Müller") == 4 and names.count("Åsa Lindqvist") == 4
    assert "王一 Ѐва" in names and "Ольга Смирнова" in names


def test_a_file_that_is_not_text_is_refused_in_one_sentence(engine: Engine, tmp_path: Path) -> None:
    for start in (b"%PDF-1.7\n", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"PK\x03\x04"):
        path = tmp_path / "clients.csv"
        path.write_bytes(start + b"\x00\x01\x02\xff\x00binary\x00\x00stream" * 50)
        with pytest.raises(ValidationFailed) as err:
            imp(engine, path, tmp_path)
        assert "cannot read clients.csv: it is not a text (CSV) file" in str(err.value)
        assert "an old .xls: save it as .xlsx or CSV first" in str(err.value)
        assert not (tmp_path / "clients.errors.csv").exists()


def test_a_file_with_no_name_or_no_contact_column_is_refused_before_any_row(
    engine: Engine, tmp_path: Path
) -> None:
    nameless = tmp_path / "nameless.csv"
    nameless.write_text("Surname,Email\nLopez,maria@example.com\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        imp(engine, nameless, tmp_path)
    assert err.value.field == "map"
    assert "no column of the file is read as the first name or the full name" in str(err.value)
    unreachable = tmp_path / "unreachable.csv"
    unreachable.write_text("Name,City\nMaria Lopez,Utrecht\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        imp(engine, unreachable, tmp_path)
    assert "no column of the file is read as a phone or an email" in str(err.value)
    # Mapped by hand, the first file goes in.
    summary = imp(engine, nameless, tmp_path, mapping={"Surname": "full_name"})
    assert summary.imported == 1
    # The CLI says it in one line, with no error file left behind.
    result = CliRunner().invoke(
        main, ["--db", str(tmp_path / "cli.db"), "--staff", "admin", "import", str(unreachable)]
    )
    assert result.exit_code != 0
    assert "no column of the file is read as a phone or an email" in result.output
    assert not (tmp_path / "unreachable.errors.csv").exists()


def test_the_error_file_is_named_after_the_whole_file_name_and_kept_in_its_order(
    engine: Engine, tmp_path: Path
) -> None:
    from frontdesk.data.importing import error_file_for

    assert error_file_for(tmp_path / "x.csv") == tmp_path / "x.errors.csv"
    assert error_file_for(tmp_path / "x.xlsx") == tmp_path / "x.xlsx.errors.csv"
    # A refused row, a repeat of an earlier row and a row with a warning, in one batch: in the
    # error file as the file has them (they were written refused rows first).
    path = tmp_path / "mixed.csv"
    path.write_text(
        "First name,Email,Birthday\n"
        "Ann,ann@example.com,31/31/1990\n"  # warning: the birthday is left out
        "Ann,ann@example.com,\n"  # a repeat of row 1
        "Ben,not-mail,\n"  # refused
        "Cy,cy@example.com,\n",
        encoding="utf-8",
    )
    summary = run_import(
        engine=engine,
        path=path,
        options=ImportOptions(error_file=error_file_for(path)),
        actor=ADMIN,
    )
    assert (summary.imported, summary.invalid) == (2, 1)
    rows = error_rows(tmp_path / "mixed.errors.csv")
    assert [r[-3] for r in rows[1:]] == ["1", "2", "3"]
    assert [r[0] for r in rows[1:]] == ["Ann", "Ann", "Ben"]

"""Stored text reaches the terminal as literal text: no markup, no links, no control codes.

The hostile rows are written straight to the database (as an older release, a direct SQL
edit or another tool could have left them), bypassing the services' validation. Each command
then runs through click's CliRunner twice: with a console that believes it writes to a colour
terminal (so markup would become styles and OSC-8 hyperlinks) and with a plain pipe.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console
from sqlmodel import Session

from frontdesk import cli, cli_base
from frontdesk.data import customers as svc
from frontdesk.data.db import open_database
from frontdesk.data.models import Customer, Setting, Staff
from frontdesk.text import plain

LINK = "[link=file:///etc/passwd]x[/link]"
CLOSE = "[/]"
ALLERGY = "Allergy: [nuts]"
BOLD = "[bold]Bob[/bold]"
ESCAPES = "\x1b[2J\x1b]0;pwned\x07"
SHOWN_ESCAPES = "\\x1b[2J\\x1b]0;pwned\\x07"
C1 = "Csi\x9b2J"  # the 8-bit CSI, which some terminals obey like ESC [
LONG = "Maximilian" + "x" * 80 + "Longname"  # 98 characters
assert len(LONG) >= 98

# Styles a colour console may legitimately emit (SGR: ESC [ ... m); anything else is a leak.
SGR = re.compile(r"\x1b\[[0-9;]*m")
# What a progress bar (rich Live) writes to stderr: cursor hide/show, erase line, line up, CR.
LIVE = re.compile(r"\x1b\[\?25[lh]|\x1b\[2K|\x1b\[\d*A|\r")


@pytest.fixture(params=["terminal", "pipe"])
def console(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The CLI's consoles as on a real terminal (colours, hyperlinks) or as in a pipe."""
    terminal = request.param == "terminal"
    for name, stderr in (("out", False), ("err", True)):
        console = Console(
            stderr=stderr,
            force_terminal=terminal,
            color_system="truecolor" if terminal else None,
            width=300,
            emoji=True,
        )
        for module in (cli, cli_base):  # commands print on cli's, the shared helpers on theirs
            monkeypatch.setattr(module, name, console)
    yield request.param


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A database holding hostile rows, written past the services' validation."""
    path = str(tmp_path / "hostile.db")
    engine = open_database(path)
    with Session(engine) as session:
        codes = iter(svc.allocate_codes(session, 8))

        def row(**fields: Any) -> Customer:
            return Customer(code=next(codes), **fields)

        rows = [
            row(first_name=LINK, last_name="Linker", city=ESCAPES),
            row(first_name=CLOSE, last_name=CLOSE, blocked=True, blocked_reason=CLOSE),
            row(first_name=ALLERGY, last_name=C1, address=ESCAPES),
            row(first_name=BOLD, last_name=":smile: Bracket", display_name=BOLD),
            row(
                first_name=LONG,
                last_name=LONG,
                city=ESCAPES,
                blocked=True,
                blocked_reason=f"Threatened staff {ESCAPES} {LINK}",
            ),
            # Two with one name and birthday: the duplicate finder lists them.
            row(first_name=LINK, last_name=BOLD, date_of_birth=date(1990, 1, 2)),
            row(first_name=LINK, last_name=BOLD, date_of_birth=date(1990, 1, 2)),
            row(first_name="Plain", last_name="Person"),
        ]
        for number, customer in enumerate(rows, start=1):
            customer.email = customer.email_key = f"hostile{number}@example.com"
            svc.search_keys(customer)
            session.add(customer)
        session.add(Staff(name=LINK, username="linker", role="admin"))
        session.add(Staff(name=f"Esc {ESCAPES}", username=CLOSE, role="reception"))
        session.merge(Setting(key="business_name", value=f"{BOLD} {ESCAPES}"))
        session.commit()
    engine.dispose()
    return path


def run(*args: str) -> tuple[int, str, str]:
    # As the hostile database's admin unless --staff says otherwise (reads name one too).
    env = {"FRONTDESK_STAFF": "linker"}
    result = CliRunner().invoke(cli.main, list(args), catch_exceptions=False, env=env)
    return result.exit_code, result.stdout, result.stderr


def assert_safe(text: str, *, live: bool = False) -> None:
    """No terminal control in ``text`` other than the console's own colours (and bar)."""
    assert "]8;" not in text, "an OSC-8 hyperlink reached the terminal"
    rest = SGR.sub("", text)
    if live:
        rest = LIVE.sub("", rest)
    assert "\x1b" not in rest and "\x07" not in rest and "\x9b" not in rest, repr(rest)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", rest), repr(rest)


def shown(text: str) -> str:
    """What the reader sees: ``text`` without the console's colours."""
    return SGR.sub("", text)


def test_customers_find_shows_names_literally(db: str, console: str) -> None:
    code, out, err = run("customers", "find", "--db", db, "hostile")
    assert code == 0, err
    assert_safe(out + err)
    seen = shown(out)
    for name in (LINK, CLOSE, ALLERGY, BOLD, ":smile: Bracket", LONG, f"{LONG} {LONG}"):
        assert name in seen, name
    assert plain(C1) in seen and "\\x9b2J" in seen
    assert "active · blocked" in seen
    if console == "terminal":
        assert "\x1b[" in out  # the header is bold: this console really writes styles


def test_customers_find_nothing_quotes_the_search_literally(db: str, console: str) -> None:
    code, out, err = run("customers", "find", "--db", db, "zz[bold]q[/bold]")
    assert code == 1 and out == ""
    assert_safe(err)
    assert "zz[bold]q[/bold]" in shown(err)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1, {"first name": LINK, "last name": "Linker", "city": SHOWN_ESCAPES}),
        (2, {"first name": CLOSE, "last name": CLOSE, "blocked reason": CLOSE}),
        (3, {"first name": ALLERGY, "last name": plain(C1)}),
        (4, {"display name": BOLD, "last name": ":smile: Bracket"}),
        (
            5,
            {
                "first name": LONG,
                "city": SHOWN_ESCAPES,
                "blocked reason": f"Threatened staff {SHOWN_ESCAPES} {LINK}",
            },
        ),
    ],
)
def test_customers_show_every_field_literally(
    db: str, console: str, number: int, expected: dict[str, str]
) -> None:
    code, out, err = run("customers", "show", "--db", db, f"C-{number:06d}")
    assert code == 0, err
    assert_safe(out + err)
    rows = {
        key: value
        for key, value in (
            re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in shown(out).splitlines()
        )
    }
    for key, value in expected.items():
        assert rows[key] == value, (key, rows)


def test_json_stays_exact_and_carries_no_raw_control(db: str, console: str) -> None:
    code, out, _ = run("customers", "show", "--db", db, "C-000001", "--json")
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    data = json.loads(out)
    assert data["first_name"] == LINK and data["city"] == ESCAPES
    code, out, _ = run("customers", "find", "--db", db, "hostile", "--json")
    assert code == 0 and not re.search(r"[\x00-\x1f\x7f-\x9f]", out.rstrip("\n"))
    found = {c["code"]: c for c in json.loads(out)}
    assert found["C-000003"]["last_name"] == C1  # the C1 control survives as \u009b
    assert found["C-000005"]["first_name"] == LONG
    code, out, _ = run("duplicates", "--db", db, "--json")
    assert code == 0 and "\x1b" not in out
    assert [LINK + " " + BOLD] * 2 in [g["names"] for g in json.loads(out)]


def test_error_lines_show_user_text_literally(db: str, console: str) -> None:
    code, out, err = run("customers", "show", "--db", db, LINK)
    assert code == 1 and out == ""
    assert_safe(err)
    assert shown(err) == f"error: no customer with code {LINK}\n"
    code, out, err = run("customers", "show", "--db", db, CLOSE)
    assert code == 1 and shown(err) == f"error: no customer with code {CLOSE}\n"
    # A duplicate names the existing customer, whose name is hostile.
    code, out, err = run(
        "--staff", "linker", "customers", "add", "--db", db, "--first-name", "New",
        "--email", "hostile1@example.com",
    )  # fmt: skip
    assert code == 1 and out == ""
    assert_safe(err)
    assert shown(err).count("\n") == 1
    assert f"C-000001 {LINK} Linker already has it" in shown(err)
    code, out, err = run(
        "--staff", "linker", "customers", "add", "--db", db, "--first-name", "New",
        "--email", "hostile5@example.com",
    )  # fmt: skip
    assert code == 1
    assert_safe(err)
    assert f"{LONG} {LONG}" in shown(err)
    if console == "terminal":
        assert shown(err).startswith("error: ") and "\x1b[" in err  # the prefix is styled


def test_duplicates_and_merge_print_names_literally(db: str, console: str) -> None:
    code, out, err = run("duplicates", "--db", db)
    assert code == 0, err
    assert_safe(out + err)
    assert f"same name and date of birth: C-000006 {LINK} {BOLD}, C-000007 {LINK} {BOLD}" in shown(
        out
    )
    code, out, err = run("merge", "--db", db, "--staff", "linker", "C-000006", "C-000007")
    assert code == 0, err
    assert_safe(out + err)
    assert shown(out) == f"Merged C-000007 into C-000006 {LINK} {BOLD}\n"


def test_staff_list_and_settings_show_names_literally(db: str, console: str) -> None:
    code, out, err = run("staff", "list", "--db", db)
    assert code == 0, err
    assert_safe(out + err)
    seen = shown(out)
    assert LINK in seen and f"Esc {SHOWN_ESCAPES}" in seen and CLOSE in seen
    code, out, err = run("settings", "--db", db)
    assert code == 0, err
    assert_safe(out + err)
    assert f'business_name = "{BOLD} \\u001b[2J\\u001b]0;pwned\\u0007"' in shown(out)


def test_check_runs_over_hostile_rows(db: str, console: str) -> None:
    code, out, err = run("check", "--db", db)
    assert_safe(out + err)
    assert "integrity_check: ok" in shown(out)
    assert code in (0, 1)  # rows written past the services may break an invariant


def test_import_errors_and_candidates_are_shown_literally(
    db: str, console: str, tmp_path: Path
) -> None:
    source = tmp_path / "[bold]in.csv"
    source.write_text(
        "First Name,Last Name,Email,Phone\n"
        f'"{BOLD}",Again,hostile1@example.com,\n'
        f'"{LINK}",Broken,"{LINK}",\n'
        f'"{CLOSE}",Phone,,"{CLOSE}"\n',
        encoding="utf-8",
    )
    code, out, err = run(
        "--staff", "linker", "import", "--db", db, str(source), "--on-duplicate", "candidate"
    )
    assert code == 3, err  # invalid rows
    assert_safe(out)
    assert_safe(err, live=True)
    seen = shown(out)
    assert "1 merge candidates, 2 invalid" in seen
    assert re.search(r"record 2: email: .*", seen)
    assert f"Every refused or warned-about row is in {tmp_path / '[bold]in.errors.csv'}" in seen
    code, out, err = run("duplicates", "--db", db)
    assert code == 0, err
    assert_safe(out + err)
    assert f"C-000001 {LINK} Linker <- {BOLD} Again" in shown(out)


def test_export_names_the_file_literally(db: str, console: str, tmp_path: Path) -> None:
    target = tmp_path / "[link=https:evil]all.csv"
    code, out, err = run("--staff", "linker", "export", "--db", db, str(target))
    assert code == 0, err
    assert_safe(out + err)
    assert shown(out) == f"Exported 8 customers to {target}\n"
    one = tmp_path / "one.csv"
    code, out, err = run(
        "--staff", "linker", "export", "--db", db, "--search", "C-000001", str(one)
    )
    assert code == 0, err
    assert shown(out) == f"Exported 1 customer to {one}\n"
    exported = target.read_text(encoding="utf-8-sig")
    assert LINK in exported


def test_narrow_terminal_wraps_long_names_without_crashing(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    narrow = Console(force_terminal=True, width=60)
    monkeypatch.setattr(cli, "out", narrow)
    monkeypatch.setattr(cli_base, "out", narrow)
    code, out, err = run("customers", "find", "--db", db, "hostile")
    assert code == 0, err
    assert_safe(out)
    code, out, err = run("customers", "show", "--db", db, "C-000005")
    assert code == 0, err
    assert_safe(out)


def test_added_names_are_echoed_literally(db: str, console: str) -> None:
    """Brackets are legal in a name; what the CLI says back about them is literal."""
    code, out, err = run(
        "--staff", "linker", "customers", "add", "--db", db, "--first-name", CLOSE,
        "--last-name", ALLERGY, "--email", "close@example.com",
    )  # fmt: skip
    assert code == 0, err
    assert_safe(out + err)
    assert shown(out) == f"Added C-000009 {CLOSE} {ALLERGY}\n"
    code, out, err = run(
        "--staff", "linker", "staff", "add", "--db", db, f"{LINK} 2", "--role", "reception"
    )
    assert code == 0, err
    assert_safe(out + err)
    assert re.fullmatch(rf"Added staff member \d+: {re.escape(LINK)} 2 \(reception\)\n", shown(out))
    # The same name again names the first one: refused, and said literally.
    code, out, err = run(
        "--staff", "linker", "staff", "add", "--db", db, LINK, "--role", "reception"
    )
    assert code == 1 and "already names a staff member" in err and LINK in shown(err)
    assert_safe(err)

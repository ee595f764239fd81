from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from frontdesk.cli import main


def run(*args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_add_find_show_json(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    code, out, _ = run(
        "customers",
        "add",
        "--db",
        db,
        "--first-name",
        "Maria",
        "--last-name",
        "García",
        "--phone",
        "06 12345678",
        "--country",
        "NL",
        "--email",
        "maria@example.com",
        "--json",
    )
    assert code == 0
    added = json.loads(out)
    assert added["code"] == "C-000001" and added["phone"] == "+31612345678"
    for key in ("id", "code", "first_name", "last_name", "email", "phone", "status", "blocked"):
        assert key in added
    code, out, _ = run("customers", "find", "--db", db, "+31 6 1234", "--json")
    assert code == 0 and [c["code"] for c in json.loads(out)] == ["C-000001"]
    code, out, _ = run("customers", "show", "--db", db, "c-1", "--json")
    assert code == 0 and json.loads(out)["last_name"] == "García"
    code, out, _ = run("customers", "find", "--db", db, "garcia")
    assert code == 0 and "Maria García" in out


def test_errors_exit_non_zero_with_one_line(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    assert (
        run("customers", "add", "--db", db, "--first-name", "A", "--phone", "+31612345678")[0] == 0
    )
    code, out, err = run(
        "customers",
        "add",
        "--db",
        db,
        "--first-name",
        "B",
        "--phone",
        "0031612345678",
        "--country",
        "NL",
    )
    assert code == 1 and out == ""
    assert err.strip().count("\n") == 0 and "C-000001" in err and "duplicate phone" in err
    code, _, err = run(
        "customers",
        "add",
        "--db",
        db,
        "--first-name",
        "C",
        "--phone",
        "555-0123",
        "--country",
        "US",
    )
    assert code == 1 and "local number" in err
    code, _, err = run(
        "customers", "add", "--db", db, "--first-name", "D", "--email", "not-an-email"
    )
    assert code == 1 and err.startswith("error: email:")
    code, _, err = run("customers", "show", "--db", db, "C-999")
    assert code == 1 and "no customer" in err


def test_a_file_that_is_no_database_is_named_in_one_line(tmp_path: Path) -> None:
    """Not SQLAlchemy's text (its statement and web address): one line naming the file."""
    bad = tmp_path / "notes.db"
    bad.write_text("Code,First name\nC-000001,Ann\n", encoding="utf-8")
    for args in (("--db", str(bad), "check"), ("customers", "find", "ann", "--db", str(bad))):
        code, _, err = run(*args)
        assert code == 1
        assert f"{bad} is not a Frontdesk database, or it is damaged" in err
        assert "sqlalche.me" not in err and len(err.strip().splitlines()) == 1
    assert bad.read_text(encoding="utf-8").startswith("Code,")  # left as it was


def test_group_db_option_and_env(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "env.db"
    monkeypatch.setenv("FRONTDESK_DB", str(db))
    assert run("customers", "add", "--first-name", "E", "--email", "e@example.com")[0] == 0
    assert db.exists() and (db.stat().st_mode & 0o777) == 0o600
    other = str(tmp_path / "other.db")
    assert (
        run("--db", other, "customers", "add", "--first-name", "F", "--email", "f@example.com")[0]
        == 0
    )
    _, out, _ = run("--db", other, "customers", "find", "f@example.com", "--json")
    assert [c["first_name"] for c in json.loads(out)] == ["F"]


def test_demo_check_and_settings(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.db")
    code, out, _ = run("demo", "--db", db, "--customers", "150", "--seed", "4")
    assert code == 0 and "Added 150 customers" in out
    code, out, _ = run("check", "--db", db)
    assert code == 0 and "✗" not in out and "integrity_check: ok" in out
    code, out, _ = run("--staff", "admin", "settings", "--db", db, "default_region", "nl")
    assert code == 0 and 'default_region = "NL"' in out
    code, _, err = run("--staff", "admin", "settings", "--db", db, "default_region", "Narnia")
    assert code == 1 and "country code" in err
    code, out, _ = run("--staff", "admin", "staff", "list", "--db", db)
    assert code == 0 and "Alex Admin" in out


def test_an_upgrade_of_an_existing_database_is_announced(tmp_path: Path) -> None:
    from frontdesk.data import db as database

    path = tmp_path / "old.db"
    old = database.create_bare_engine(path)
    database.migrate(old, "0009")  # a database written by the previous release
    old.dispose()
    code, _, err = run("customers", "find", "--db", str(path), "Maria")
    assert code == 1  # found nobody (an empty database)
    assert f"Upgrading the database from schema 0009 to {database.HEAD_REVISION}" in err
    # Once upgraded (or new), nothing is said.
    code, _, err = run("customers", "find", "--db", str(path), "Maria")
    assert code == 1 and "Upgrading" not in err
    code, _, err = run("customers", "find", "--db", str(tmp_path / "new.db"), "Maria")
    assert code == 1 and "Upgrading" not in err


def test_commands_act_as_frontdesk_staff_or_the_settings_file(
    tmp_path: Path,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    """As the README says: --staff, else FRONTDESK_STAFF, else `staff` in settings.toml (the
    app honoured both; the commands took only --staff or the OS login)."""
    import os

    db = str(tmp_path / "demo.db")
    assert run("demo", "--db", db, "--customers", "20", "--seed", "4")[0] == 0
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):  # what getpass.getuser() reads
        monkeypatch.setenv(name, "nobody-here")
    code, _, err = run("settings", "--db", db, "currency", "EUR")
    assert code == 1 and "not on the staff list" in err
    monkeypatch.setenv("FRONTDESK_STAFF", "admin")
    code, out, _ = run("settings", "--db", db, "currency", "EUR")
    assert code == 0 and 'currency = "EUR"' in out
    monkeypatch.delenv("FRONTDESK_STAFF")
    config_dir = Path(os.environ["FRONTDESK_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "settings.toml").write_text('staff = "admin"\n', encoding="utf-8")
    code, out, _ = run("settings", "--db", db, "currency", "GBP")
    assert code == 0 and 'currency = "GBP"' in out
    # --staff still wins over both.
    code, _, err = run("--staff", "rita", "settings", "--db", db, "currency", "USD")
    assert code == 1 and "Rita Reception (reception) may not change settings" in err

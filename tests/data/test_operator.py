"""Who is operating: a new database's first admin, unknown names refused, demo's staff listed."""

from __future__ import annotations

import getpass
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, col, select

from frontdesk.cli import main
from frontdesk.data.db import open_database
from frontdesk.data.errors import UnknownStaff, ValidationFailed
from frontdesk.data.models import Staff
from frontdesk.data.roles import NotAllowed
from frontdesk.data.settings import change_setting, set_setting
from frontdesk.data.staff import create_staff, ensure_first_admin, resolve_operator


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def staff_rows(db: Path) -> list[tuple[str, str | None, str]]:
    engine = open_database(db)
    with Session(engine) as s:
        rows = [(m.name, m.username, m.role) for m in s.exec(select(Staff).order_by(col(Staff.id)))]
    engine.dispose()
    return rows


def test_first_start_makes_the_named_staff_member_admin(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "new.db")
    with Session(engine) as s:
        first = ensure_first_admin(session=s, requested="maria")
        s.commit()
        assert first is not None and first.role == "admin" and first.username == "maria"
        assert ensure_first_admin(session=s, requested="other") is None  # only once
        assert resolve_operator(session=s, requested="maria") == first


def test_first_start_without_a_name_uses_the_os_login(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "new.db")
    with Session(engine, expire_on_commit=False) as s:
        me = resolve_operator(session=s, requested=None)
        s.commit()
    assert me is not None and me.role == "admin" and me.username == getpass.getuser()


def test_an_unknown_name_is_refused_never_no_one(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "x.db")
    with Session(engine) as s:
        alex = create_staff(session=s, name="Alex", role="admin", username="alex")
        create_staff(session=s, name="Rita", role="reception", username="rita", actor=alex)
        s.commit()
        with pytest.raises(UnknownStaff, match="'nobody' is not on the staff list"):
            resolve_operator(session=s, requested="nobody")
        # The business may let unknown names read: then nobody may change anything.
        set_setting(session=s, key="unknown_staff_read_only", value="yes")
        s.commit()
        assert resolve_operator(session=s, requested="nobody") is None
        with pytest.raises(NotAllowed):
            change_setting(session=s, key="currency", value="EUR", actor=None)


def test_two_first_starts_at_once_make_one_admin(tmp_path: Path) -> None:
    db = tmp_path / "race.db"
    open_database(db).dispose()
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def start(name: str) -> None:
        engine = open_database(db)
        try:
            barrier.wait()
            with Session(engine) as s:
                ensure_first_admin(session=s, requested=name)
                s.commit()
        except BaseException as exc:  # pragma: no cover - shown by the assert
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start, args=(f"desk{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(staff_rows(db)) == 1


def test_cli_on_a_new_database_says_who_became_its_first_admin(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    code, _, err = run("--staff", "boss", "settings", "--db", db, "no_such_setting", "1")
    assert code == 1 and "first admin" not in err  # refused and rolled back: nobody made
    assert staff_rows(Path(db)) == []
    code, out, err = run("--staff", "boss", "settings", "--db", db, "currency", "EUR")
    assert code == 0 and out.strip() == 'currency = "EUR"'  # stdout stays the answer alone
    assert "A new database: boss is its first admin" in err
    assert staff_rows(Path(db)) == [("boss", "boss", "admin")]
    code, _, err = run("--staff", "boss", "settings", "--db", db, "currency", "GBP")
    assert code == 0 and "first admin" not in err  # said once
    code, _, err = run("--staff", "root2", "backup", "--db", db, str(tmp_path / "b.db"))
    assert code == 1 and "first admin" not in err


def test_cli_refuses_an_unknown_staff_name_with_one_line(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    assert run("--staff", "admin", "settings", "--db", db, "currency", "EUR")[0] == 0
    code, _, err = run("--staff", "nobody", "settings", "--db", db, "currency", "GBP")
    assert code == 1
    assert "'nobody' is not on the staff list" in err and "Traceback" not in err
    code, out, _ = run("--staff", "admin", "settings", "--db", db, "currency")
    assert out.strip() == 'currency = "EUR"'
    # An unknown name reads nothing either: not the customers, staff, settings or templates.
    for args in (
        ("customers", "find", "Ann"),
        ("customers", "show", "C-000001"),
        ("staff", "list"),
        ("settings",),
        ("duplicates",),
        ("templates", "list"),
    ):
        code, out, err = run("--staff", "nobody", *args, "--db", db)
        assert code == 1 and out == "", args
        assert "'nobody' is not on the staff list" in err, args
    # ... unless the business lets unknown names read.
    run("--staff", "admin", "settings", "--db", db, "unknown_staff_read_only", "yes")
    code, out, _ = run("--staff", "nobody", "settings", "--db", db, "currency")
    assert code == 0 and out.strip() == 'currency = "EUR"'


def test_cli_settings_are_for_admins(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    engine = open_database(db)
    with Session(engine) as s:
        alex = create_staff(session=s, name="Alex", role="admin", username="alex")
        create_staff(session=s, name="Rita", role="reception", username="rita", actor=alex)
        create_staff(session=s, name="Tara", role="therapist", username="tara", actor=alex)
        s.commit()
    engine.dispose()
    for who in ("rita", "tara"):
        code, _, err = run("--staff", who, "settings", "--db", db, "currency", "GBP")
        assert code == 1 and "may not change settings" in err
    assert run("--staff", "alex", "settings", "--db", db, "currency", "GBP")[0] == 0


def test_demo_says_which_staff_it_created(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    code, out, _ = run("demo", "--db", str(db), "--customers", "50")
    assert code == 0
    assert "admin: Alex Admin, admin" in out and "rita: Rita Reception, reception" in out
    therapists = [r for r in staff_rows(db) if r[2] == "therapist"]
    assert therapists and all(r[1] for r in therapists)  # every therapist can log in
    listed = [r for r in therapists if f"{r[1]}: {r[0]}, therapist" in out]
    assert len(listed) == 6 and f"and {len(therapists) - 6:,} more (frontdesk staff list)" in out
    code, out, _ = run("demo", "--db", str(db), "--customers", "10", "--seed", "7")
    assert "Staff created" not in out  # nothing new the second time


def test_a_staff_name_or_username_names_one_person_only(tmp_path: Path) -> None:
    """`--staff` finds a member by username or name: a second "Rita Reception" could never
    be chosen, and a username equal to another's name would be chosen in their place."""
    engine = open_database(tmp_path / "staff.db")
    with Session(engine) as s:
        alex = create_staff(session=s, name="Alex Admin", role="admin", username="alex")
        create_staff(session=s, name="Rita Reception", username="rita", actor=alex)
        for name, username, field in (
            ("rita reception", "rita2", "name"),
            ("Rita R.", "Rita", "username"),
            ("Mallory", "Alex Admin", "username"),
            ("alex", "mal", "name"),
            ("Has Space", "has space", "username"),
        ):
            with pytest.raises(ValidationFailed) as refused:
                create_staff(session=s, name=name, username=username, actor=alex)
            assert refused.value.field == field, (name, username)
        create_staff(session=s, name="Rita Jansen", username="rita.j", actor=alex)
        s.commit()


def test_a_first_admin_whose_name_has_spaces_is_made_and_found_by_name(tmp_path: Path) -> None:
    """`--staff "Rita Reception"` on an empty database: she is its first admin (a username
    has no spaces, so she has none) and is found by her name afterwards."""
    engine = open_database(tmp_path / "first.db")
    with Session(engine) as s:
        first = ensure_first_admin(session=s, requested="Rita Reception")
        assert first is not None and (first.name, first.username) == ("Rita Reception", None)
        s.commit()
    with Session(engine) as s:
        assert ensure_first_admin(session=s, requested="Someone Else") is None
        found = resolve_operator(session=s, requested="rita reception")
        assert found is not None and found.role == "admin"

"""``frontdesk staff set-role / rename / deactivate / reactivate`` and ``staff list --all``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, col, select

from frontdesk.cli import main
from frontdesk.data.db import open_database
from frontdesk.data.models import AuditEvent, Staff

HOSTILE = "[bold]Brackets[/] Nina"


def run(db: Path, *args: str, staff: str = "admin") -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main, ["--db", str(db), "--staff", staff, *args], catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


def members(db: Path) -> dict[str, tuple[str | None, str, bool]]:
    engine = open_database(db)
    with Session(engine) as s:
        rows = {m.name: (m.username, m.role, m.active) for m in s.exec(select(Staff))}
    engine.dispose()
    return rows


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "cli.db"
    assert run(path, "staff", "list")[0] == 0  # "admin" becomes the first admin
    assert run(path, "staff", "add", "Rita Reception", "--username", "rita")[0] == 0
    code, _, err = run(path, "staff", "add", HOSTILE, "--username", "nina", "--role", "therapist")
    assert code == 0, err
    return path


def test_set_role(db: Path) -> None:
    code, out, _ = run(db, "staff", "set-role", "rita", "ADMIN")
    assert code == 0 and "Rita Reception is now admin (was reception)" in out
    assert members(db)["Rita Reception"][1] == "admin"
    code, _, err = run(db, "staff", "set-role", "rita", "boss")
    assert code == 1
    assert err.strip() == "error: role: must be admin, reception or therapist"


def test_only_an_admin_changes_staff(db: Path) -> None:
    code, _, err = run(db, "staff", "set-role", "nina", "admin", staff="rita")
    assert code == 1 and err.strip() == "error: Rita Reception (reception) may not manage staff"
    assert members(db)[HOSTILE][1] == "therapist"


def test_rename_with_the_rules_of_add(db: Path) -> None:
    code, out, err = run(db, "staff", "rename", HOSTILE, "--name", "Nina B", "--username", "nina.b")
    assert code == 0, err
    assert f"Renamed {HOSTILE} (nina) to Nina B (nina.b)" in out  # brackets literal
    assert members(db)["Nina B"] == ("nina.b", "therapist", True)
    code, _, err = run(db, "staff", "rename", "nina.b", "--username", "nina b")
    assert code == 1 and err.strip().startswith("error: username: a username has no spaces")
    code, _, err = run(db, "staff", "rename", "nina.b", "--name", "rita")
    assert code == 1
    assert err.strip() == "error: name: 'rita' already names a staff member; choose another"
    code, _, err = run(db, "staff", "rename", "nina.b")
    assert code == 1 and err.strip() == "error: give the new --name and/or --username"
    code, _, err = run(db, "staff", "rename", "nobody", "--name", "X")
    assert code == 1 and "'nobody' is not on the staff list" in err


def test_deactivate_list_all_and_reactivate(db: Path) -> None:
    code, out, err = run(db, "staff", "deactivate", "rita")
    assert code == 0, err
    assert "Deactivated Rita Reception: they can no longer operate Frontdesk" in out
    assert members(db)["Rita Reception"][2] is False
    # She can no longer act, even to read.
    code, _, err = run(db, "staff", "list", staff="rita")
    assert code == 1
    assert err.strip() == (
        "error: Rita Reception is no longer active; an admin can reactivate them"
    )
    # The list leaves her out; --all shows her, marked.
    _, out, _ = run(db, "staff", "list")
    assert "Rita" not in out and "Brackets" in out
    _, out, _ = run(db, "staff", "list", "--all")
    line = next(row for row in out.splitlines() if "Rita" in row)
    assert "inactive" in line and "State" in out
    assert run(db, "staff", "deactivate", "rita")[1].strip() == "Rita Reception is already inactive"
    code, out, _ = run(db, "staff", "reactivate", "Rita Reception")
    assert code == 0 and "Reactivated Rita Reception (reception)" in out
    assert run(db, "staff", "list", staff="rita")[0] == 0
    engine = open_database(db)
    with Session(engine) as s:
        actions = [
            e.action
            for e in s.exec(
                select(AuditEvent)
                .where(col(AuditEvent.entity) == "staff")
                .order_by(col(AuditEvent.id))
            )
        ]
    engine.dispose()
    assert actions == ["create", "create", "deactivate", "reactivate"]


def test_admins_keep_an_admin(db: Path) -> None:
    code, _, err = run(db, "staff", "deactivate", "admin")
    assert code == 1 and err.strip() == ("error: You cannot deactivate yourself; ask another admin")
    code, _, err = run(db, "staff", "set-role", "admin", "reception")
    assert code == 1 and "you cannot remove your own admin role" in err
    assert run(db, "staff", "set-role", "rita", "admin")[0] == 0
    # Rita demotes the first admin; then she is the last one and stays one.
    assert run(db, "staff", "set-role", "admin", "reception", staff="rita")[0] == 0
    assert run(db, "staff", "set-role", "admin", "admin", staff="rita")[0] == 0
    assert run(db, "staff", "deactivate", "rita")[0] == 0  # admin deactivates rita
    code, _, err = run(db, "staff", "set-role", "admin", "therapist", staff="admin")
    assert code == 1 and "your own admin role" in err
    assert members(db)["admin"][1:] == ("admin", True)


def test_set_branch_moves_a_member_and_every_puts_them_everywhere(db: Path) -> None:
    assert run(db, "branches", "add", "North")[0] == 0
    assert run(db, "branches", "add", "Old")[0] == 0
    assert run(db, "branches", "deactivate", "Old")[0] == 0
    code, out, err = run(db, "staff", "set-branch", "nina", "north")
    assert code == 0, err
    assert f"{HOSTILE} works at North" in out
    engine = open_database(db)
    with Session(engine) as s:
        nina = s.exec(select(Staff).where(col(Staff.username) == "nina")).one()
        north = nina.branch_id
        assert north is not None
        event = s.exec(select(AuditEvent).where(col(AuditEvent.entity) == "staff")).all()[-1]
        assert event.changes == {"branch_id": [None, north]}
    engine.dispose()
    code, _, err = run(db, "staff", "set-branch", "nina", "Old")
    assert code == 1 and "Old is deactivated: reactivate it first" in err
    code, _, err = run(db, "staff", "add", "Olga", "--branch", "Old")
    assert code == 1 and "Old is deactivated" in err
    code, out, _ = run(db, "staff", "set-branch", "nina", "every")
    assert code == 0 and "works at every branch" in out
    engine = open_database(db)
    with Session(engine) as s:
        assert s.exec(select(Staff).where(col(Staff.username) == "nina")).one().branch_id is None
    engine.dispose()

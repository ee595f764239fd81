"""CLI: ``frontdesk branches ...`` and ``frontdesk services ...`` on a new database, then a
booking from a script with what was added."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlmodel import Session, col, select

from frontdesk.cli import main
from frontdesk.data.db import open_database
from frontdesk.data.models import AuditEvent, Branch, Service, Staff


def soon() -> str:
    return f"{(datetime.now() + timedelta(days=2)).date().isoformat()} 10:00"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def admin(db: str, *args: str) -> tuple[int, str, str]:
    return run("--db", db, "--staff", "admin", *args)


def rows(db: str, model: type[Branch] | type[Service]) -> list[object]:
    engine = open_database(db)
    with Session(engine) as s:
        found = list(s.exec(select(model).order_by(col(model.id))))
    engine.dispose()
    return found


def test_a_new_business_adds_a_branch_and_a_service_and_books_it(tmp_path: Path) -> None:
    db = str(tmp_path / "new.db")
    code, out, err = admin(db, "branches", "list")
    assert code == 0 and "No branches yet" in out
    code, out, err = admin(
        db, "branches", "add", "Main", "--address", "1 High St", "--phone", "+44 20 7946 0000"
    )
    assert code == 0, err
    assert "Added branch 1: Main" in out
    code, out, err = admin(
        db,
        "services",
        "add",
        "Women's cut",
        "--type",
        "Hair",
        "--minutes",
        "45",
        "--price",
        "45.00",
    )
    assert code == 0, err
    assert "Added service 1: Women's cut (45 min, 45.00)" in out
    [branch] = rows(db, Branch)
    [service] = rows(db, Service)
    assert (branch.phone, service.duration_minutes, service.price_cents) == (  # type: ignore[attr-defined]
        "+442079460000",
        45,
        4500,
    )
    code, out, _ = admin(db, "services", "list")
    assert code == 0 and "Women's cut" in out and "45.00" in out and "active" in out
    code, out, _ = admin(db, "branches", "list")
    assert "Main" in out and "1 High St" in out and "+44 20 7946 0000" in out
    # The owner (the first admin, at no branch in particular) works at every branch: booked.
    code, out, err = admin(
        db, "bookings", "add", "--email", "ava@example.com", "--first-name", "Ava",
        "--service", "women's cut", "--at", soon(), "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["staff"] == "admin"
    # A therapist added at the branch is the one booked from then on.
    code, out, err = admin(db, "staff", "add", "Nina", "--role", "therapist", "--branch", "main")
    assert code == 0, err
    engine = open_database(db)
    with Session(engine) as s:
        nina = s.exec(select(Staff).where(col(Staff.name) == "Nina")).one()
        assert nina.branch_id == branch.id  # type: ignore[attr-defined]
    engine.dispose()
    code, out, err = admin(
        db, "bookings", "add", "--email", "lena@example.com", "--first-name", "Lena",
        "--service", "women's cut", "--at", soon(), "--json",
    )  # fmt: skip
    assert code == 0, err
    booked = json.loads(out)
    assert booked["status"] == "booked" and booked["staff"] == "Nina"
    code, _, err = admin(db, "staff", "add", "Olga", "--branch", "Nowhere")
    assert code != 0 and "Nowhere" in err


def test_edit_deactivate_and_reactivate(tmp_path: Path) -> None:
    db = str(tmp_path / "shop.db")
    assert admin(db, "branches", "add", "North")[0] == 0
    assert (
        admin(db, "services", "add", "Trim", "--type", "Hair", "--minutes", "15", "--price", "15")[
            0
        ]
        == 0
    )
    code, out, err = admin(db, "services", "edit", "trim", "--price", "18.50", "--minutes", "20")
    assert code == 0, err
    assert "Saved service 1: Trim (20 min, 18.50)" in out
    code, out, err = admin(
        db, "branches", "edit", "north", "--name", "North Side", "--address", "2 Road"
    )
    assert code == 0 and "Saved branch 1: North Side" in out
    code, out, _ = admin(db, "services", "deactivate", "Trim")
    assert code == 0 and "Trim is deactivated" in out
    code, out, _ = admin(db, "branches", "deactivate", "1")
    assert code == 0 and "North Side is deactivated" in out
    code, out, _ = admin(db, "services", "list")
    assert "deactivated" in out
    assert [s.active for s in rows(db, Service)] == [False]  # type: ignore[attr-defined]
    code, _, err = admin(
        db, "services", "add", "trim", "--type", "Hair", "--minutes", "15", "--price", "1"
    )
    assert code == 1 and "reactivate it instead" in err
    assert admin(db, "services", "reactivate", "trim")[0] == 0
    assert admin(db, "branches", "reactivate", "North Side")[0] == 0
    assert [b.active for b in rows(db, Branch)] == [True]  # type: ignore[attr-defined]
    engine = open_database(db)
    with Session(engine) as s:
        actions = [
            (e.entity, e.action)
            for e in s.exec(select(AuditEvent).order_by(col(AuditEvent.id)))
            if e.entity in ("branch", "service")
        ]
    engine.dispose()
    assert actions == [
        ("branch", "create"),
        ("service", "create"),
        ("service", "update"),
        ("branch", "update"),
        ("service", "deactivate"),
        ("branch", "deactivate"),
        ("service", "reactivate"),
        ("branch", "reactivate"),
    ]


def test_refusals_are_one_clear_line_and_exit_non_zero(tmp_path: Path) -> None:
    db = str(tmp_path / "shop.db")
    assert admin(db, "branches", "add", "Main")[0] == 0
    run("--db", db, "--staff", "admin", "staff", "add", "Rita", "--role", "reception")
    cases = [
        (("services", "add", "Cut", "--type", "Hair", "--minutes", "4", "--price", "10"),
         "duration: must be between 5 and 720 minutes"),
        (("services", "add", "Cut", "--type", "Hair", "--minutes", "30", "--price", "-1"),
         "price: cannot be negative"),
        (("services", "add", "Cut", "--type", "Hair", "--minutes", "30", "--price", "ten"),
         "price: 'ten' is not an amount"),
        (("branches", "add", "MAIN"), "name: a branch called 'Main' already exists"),
        (("branches", "add", "Bad\x1b[2Jname"), "name:"),
        (("branches", "edit", "Nowhere", "--name", "X"), "branch 'Nowhere' not found"),
        (("branches", "edit", "Main"), "nothing to change"),
        (("services", "deactivate", "Cut"), "service 'Cut' not found"),
    ]  # fmt: skip
    for args, says in cases:
        code, _, err = admin(db, *args)
        assert code == 1, args
        assert says in err and err.count("\n") == 1, (args, err)
        assert "\x1b" not in err
    code, _, err = run("--db", db, "--staff", "Rita", "branches", "add", "South")
    assert code == 1 and "Rita (reception) may not change settings" in err
    assert [b.name for b in rows(db, Branch)] == ["Main"]  # type: ignore[attr-defined]


def test_a_hostile_name_is_printed_as_typed(tmp_path: Path) -> None:
    db = str(tmp_path / "shop.db")
    code, out, err = admin(
        db,
        "services",
        "add",
        "[bold]Cut[/]",
        "--type",
        "[red]Hair",
        "--minutes",
        "30",
        "--price",
        "20",
    )
    assert code == 0, err
    assert "Added service 1: [bold]Cut[/] (30 min, 20.00)" in out
    code, out, _ = admin(db, "services", "list")
    assert "[bold]Cut[/]" in out and "[red]Hair" in out

"""Erasure (right to be forgotten) and a copy of everything stored (access request)."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from frontdesk.cli import main
from frontdesk.data import customers as svc
from frontdesk.data.bookings import create_booking
from frontdesk.data.contacts import add_contact_point
from frontdesk.data.db import open_database
from frontdesk.data.demo import generate
from frontdesk.data.merge import merge_customers
from frontdesk.data.models import AuditEvent, Booking, Customer, Note, Service, Staff
from frontdesk.data.notes import add_note
from frontdesk.data.privacy import erase_customer, export_customer_data
from frontdesk.data.roles import NotAllowed

NAME, LAST = "Zebulon", "Quixotesque"
EMAIL, OLD_EMAIL = "zq.secret@example.org", "zebulon.old@example.net"
PHONE = "+31612349876"
SECRETS = [NAME, LAST, EMAIL, OLD_EMAIL, PHONE, PHONE[1:], "12349876", "Peanut allergy, severe"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, str]:
    """A demo business and one customer with everything: a merged old record, a secondary
    email, a note, a booking, a photo, custom text in the audit trail."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("FRONTDESK_DATA_DIR", str(data_dir))
    db = data_dir / "frontdesk.db"
    engine = open_database(db)
    generate(engine=engine, customers=300, seed=11)
    with Session(engine) as s:
        admin = s.exec(select(Staff).where(col(Staff.username) == "admin")).one()
        zeb = svc.create_customer(
            session=s,
            data=svc.CustomerCreate(first_name=NAME, last_name=LAST, email=EMAIL, phone=PHONE),
            actor=admin,
        )
        old = svc.create_customer(
            session=s,
            data=svc.CustomerCreate(first_name=NAME, last_name="Q.", email=OLD_EMAIL),
            actor=admin,
        )
        s.flush()
        assert zeb.id and old.id
        merge_customers(session=s, survivor_id=zeb.id, other_ids=[old.id], actor=admin)
        add_contact_point(session=s, customer_id=zeb.id, text="zq.other@example.org", actor=admin)
        add_note(session=s, customer_id=zeb.id, body="Peanut allergy, severe", actor=admin)
        service = s.exec(select(Service)).first()
        assert service and service.id
        create_booking(
            session=s,
            customer_id=zeb.id,
            service_id=service.id,
            branch_id=admin.branch_id or 1,
            staff_id=None,
            start_at=datetime.now(UTC) + timedelta(days=3),
            actor=admin,
            notes=f"Ask {NAME} about the allergy",
        )
        photos = data_dir / "photos"
        photos.mkdir(parents=True, exist_ok=True)
        (photos / f"{zeb.code}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + NAME.encode())
        zeb.photo_path = f"photos/{zeb.code}.png"
        s.add(zeb)
        s.commit()
        code = zeb.code
    engine.dispose()
    return db, data_dir, code


def found_anywhere(folder: Path) -> list[str]:
    hits = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        blob = path.read_bytes()
        for secret in SECRETS:
            if secret.encode() in blob or secret.lower().encode() in blob:
                hits.append(f"{path.name}: {secret}")
    return hits


def test_access_request_holds_everything(shop: tuple[Path, Path, str]) -> None:
    db, _, code = shop
    engine = open_database(db)
    with Session(engine) as s:
        admin = s.exec(select(Staff).where(col(Staff.username) == "admin")).one()
        rita = s.exec(select(Staff).where(col(Staff.username) == "rita")).one()
        data = export_customer_data(session=s, code=code, actor=admin)
        assert data["customer"]["email"] == EMAIL and data["customer"]["phone"] == PHONE
        assert [m["email"] for m in data["merged_records"]] == [OLD_EMAIL]
        assert any(c["value"] == "zq.other@example.org" for c in data["secondary_contacts"])
        assert [n["body"] for n in data["notes"]] == ["Peanut allergy, severe"]
        assert len(data["bookings"]) == 1 and data["audit"]
        # Reception gets what the customer may see: staff-only notes are not in it.
        assert export_customer_data(session=s, code=code, actor=rita)["notes"] == []
    engine.dispose()
    out = db.parent / "access.json"
    code_, _, err = run(
        "--staff", "admin", "customers", "export-data", code, "--db", str(db), "--out", str(out)
    )
    assert code_ == 0, err
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert json.loads(out.read_text())["customer"]["code"] == code
    out.unlink()


def test_erased_means_gone_from_every_file(shop: tuple[Path, Path, str]) -> None:
    db, data_dir, code = shop
    assert found_anywhere(data_dir)  # the test can fail: the secrets are there before
    refused, _, err = run("--staff", "rita", "customers", "erase", code, "--yes", "--db", str(db))
    assert refused == 1 and "may not erase" in err
    done, out, err = run("--staff", "admin", "customers", "erase", code, "--yes", "--db", str(db))
    assert done == 0, err
    assert f"Erased {code}: 2 record(s), 1 photo(s)" in out
    assert found_anywhere(data_dir) == []
    engine = open_database(db)
    with Session(engine) as s:
        zeb = s.exec(select(Customer).where(col(Customer.code) == code)).one()
        assert zeb.erased_at is not None and zeb.label == "Erased customer" and zeb.email is None
        # The accounts stay, attached to the erased record.
        booking = s.exec(select(Booking).where(col(Booking.customer_id) == zeb.id)).one()
        assert booking.notes is None
        assert s.exec(select(Note).where(col(Note.customer_id) == zeb.id)).all() == []
        erase = s.exec(select(AuditEvent).where(col(AuditEvent.action) == "erase")).one()
        assert erase.actor_name == "Alex Admin"
        assert svc.search(session=s, text=LAST.lower(), limit=5) == []
        assert svc.get_by_code(session=s, code=code).label == "Erased customer"
    engine.dispose()
    again, _, err = run("--staff", "admin", "customers", "erase", code, "--yes", "--db", str(db))
    assert again == 1 and "already erased" in err
    # Shown as erased: no restore offered that cannot work.
    shown, out, _ = run("--staff", "admin", "customers", "show", code, "--db", str(db))
    assert shown == 0 and "ERASED" in out and "customers restore" not in out


def test_only_admins_erase(engine: Engine) -> None:
    from frontdesk.data.staff import create_staff

    with Session(engine, expire_on_commit=False) as s:
        alex = create_staff(session=s, name="Alex", role="admin", username="alex")
        rita = create_staff(session=s, name="Rita", role="reception", username="rita", actor=alex)
        c = svc.create_customer(
            session=s, data=svc.CustomerCreate(first_name="Ann", email="a@x.example"), actor=rita
        )
        s.commit()
        code = c.code
    for who in (rita, None):
        with pytest.raises(NotAllowed):
            erase_customer(engine=engine, code=code, actor=who)


def test_backup_lists_the_backups_taken_before_an_erasure(shop: tuple[Path, Path, str]) -> None:
    db, _, code = shop
    first = db.parent / "backups" / "before.db"
    assert run("--staff", "admin", "backup", "--db", str(db), str(first))[0] == 0
    assert run("--staff", "admin", "customers", "erase", code, "--yes", "--db", str(db))[0] == 0
    code_, _, err = run("--staff", "admin", "backup", "--db", str(db))
    assert code_ == 0
    assert f"{first} was taken before 1 erasure(s)" in err
    assert err.count("was taken before") == 1  # the new backup holds nothing erased

"""The messaging commands: notify, email, newsletter send, outbox (retry), unsubscribe,
settings keys — against the loopback SMTP server."""

# ruff: noqa: F401, F811  (the peers are fixtures imported from tests.messaging_peers)
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlmodel import Session

from frontdesk.cli import main
from frontdesk.data.db import open_database
from tests.data.test_messaging import add, book, shop
from tests.messaging_peers import RecordingSmtp, smtp_server


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def setup(tmp_path: Path, server: RecordingSmtp) -> str:
    db = str(tmp_path / "cli.db")
    engine = open_database(db)
    ids = shop(engine, server)
    ann = add(engine, "Ann", email="ann@example.com", consent_newsletter=True)
    add(engine, "Bob", email="bob@example.com", consent_newsletter=True)
    add(engine, "Pat", phone="+31612345678", consent_newsletter=True)
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=3)
    book(engine, ids, ann, soon)
    from frontdesk.data.models import Staff

    with Session(engine) as s:
        s.add(Staff(name="Alex Admin", username="admin", role="admin"))
        s.add(Staff(name="Rita Reception", username="rita", role="reception"))
        s.add(Staff(name="Nina", username="nina", role="therapist"))
        s.commit()
    engine.dispose()
    return db


def test_notify_dry_run_then_send_then_nothing_twice(
    tmp_path: Path, smtp_server: RecordingSmtp
) -> None:
    db = setup(tmp_path, smtp_server)
    code, out, _ = run("notify", "--db", db, "--dry-run", "--json")
    report = json.loads(out)
    assert code == 0 and [q["purpose"] for q in report["queued"]] == ["reminder"]
    assert report["send"] is None and smtp_server.received == []
    code, out, _ = run("notify", "--db", db)
    assert code == 0 and "1 queued, 1 sent" in out
    code, out, _ = run("notify", "--db", db, "--json")
    again = json.loads(out)
    assert again["queued"] == [] and again["already_queued"] == 1 and again["send"]["sent"] == 0
    assert [r.to for r in smtp_server.received] == ["ann@example.com"]


def test_email_outbox_retry_and_roles(tmp_path: Path, smtp_server: RecordingSmtp) -> None:
    db = setup(tmp_path, smtp_server)
    code, out, _ = run(
        "--staff", "rita", "email", "--db", db, "C-000001", "--subject", "Voucher",
        "--body", "Hello {first_name}", "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["status"] == "queued"
    code, _out, err = run(
        "--staff", "nina", "email", "--db", db, "C-000001", "--subject", "x", "--body", "y"
    )
    assert code == 1 and "may not send messages" in err
    code, _out, err = run(
        "--staff", "rita", "email", "--db", db, "C-000003", "--subject", "x", "--body", "y"
    )
    assert code == 1 and "no email address" in err
    code, _out, err = run("--staff", "rita", "email", "--db", db, "C-000001", "--subject", "x")
    assert code == 1 and "--body" in err
    smtp_server.rcpt_answers["ann@example.com"] = "550 5.1.1 Mailbox unavailable"
    run("notify", "--db", db)
    code, out, _ = run("--staff", "rita", "outbox", "--db", db, "--status", "failed", "--json")
    failed = json.loads(out)
    assert sorted(m["purpose"] for m in failed) == ["reminder", "transactional"]
    assert {m["last_error"] for m in failed} == {"550 5.1.1 Mailbox unavailable"}
    del smtp_server.rcpt_answers["ann@example.com"]
    for m in failed:
        code, out, _ = run("--staff", "rita", "outbox", "retry", "--db", db, str(m["id"]))
        assert code == 0 and "queued again" in out
    run("notify", "--db", db)
    code, out, _ = run("--staff", "rita", "outbox", "--db", db, "--json")
    assert {m["status"] for m in json.loads(out)} == {"sent"}
    code, out, _ = run("--staff", "rita", "outbox", "--db", db)
    assert code == 0 and "Voucher" in out


def test_newsletter_send_and_unsubscribe(tmp_path: Path, smtp_server: RecordingSmtp) -> None:
    db = setup(tmp_path, smtp_server)
    body = tmp_path / "news.md"
    body.write_text("Hello {first_name}, **news**!", encoding="utf-8")
    code, out, _ = run("unsubscribe", "--db", db, "BOB@example.com")
    assert code == 0 and "Unsubscribed C-000002" in out
    args = ["newsletter", "send", "--db", db, "--subject", "News", "--body-file", str(body)]
    code, _out, err = run("--staff", "rita", *args, "--yes")
    assert code == 1 and "may not send newsletters" in err
    code, out, _ = run("--staff", "admin", *args, "--dry-run")
    assert code == 0 and out.startswith("1 recipient(s)")
    code, out, _ = run("--staff", "admin", *args, "--yes", "--json")
    assert json.loads(out)["queued"] == 1
    bad = tmp_path / "bad.md"
    bad.write_text("Hello {surname}", encoding="utf-8")
    code, _out, err = run("--staff", "admin", "newsletter", "send", "--db", db, "--subject", "N",
                          "--body-file", str(bad), "--yes")  # fmt: skip
    assert code == 1 and "{surname} cannot be filled" in err
    run("notify", "--db", db)
    assert sorted(r.to for r in smtp_server.received) == ["ann@example.com", "ann@example.com"]


def test_settings_keys(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    run("--staff", "admin", "settings", "--db", db, "business_name", "X")  # first admin
    for key, value, shown in [
        ("smtp_port", "2525", "2525"),
        ("smtp_security", "TLS", '"tls"'),
        ("time_zone", "Europe/Amsterdam", '"Europe/Amsterdam"'),
        ("reminder_hours", "48", "48"),
        ("sender_email", "desk@example.com", '"desk@example.com"'),
        ("twilio_sms_from", "+15005550006", '"+15005550006"'),
    ]:
        code, out, _ = run("--staff", "admin", "settings", "--db", db, key, value)
        assert code == 0 and out.strip() == f"{key} = {shown}"
    for key, value in [
        ("smtp_security", "ssl"),
        ("time_zone", "Mars/Base"),
        ("smtp_port", "0"),
        ("sender_email", "nope"),
        ("twilio_sms_from", "0612"),
    ]:
        code, _out, err = run("--staff", "admin", "settings", "--db", db, key, value)
        assert code == 1 and err.startswith(f"error: {key}")


def test_templates_commands(tmp_path: Path, smtp_server: RecordingSmtp) -> None:
    db = setup(tmp_path, smtp_server)
    body = tmp_path / "t.md"
    body.write_text("Hello {first_name}, your points: {points_balance}", encoding="utf-8")
    args = ["templates", "set", "--db", db, "points", "--subject", "Points", "--body-file"]
    code, _out, err = run("--staff", "rita", *args, str(body))
    assert code == 1 and "may not change message templates" in err
    code, out, _ = run("--staff", "admin", *args, str(body))
    assert code == 0 and "saved" in out
    body.write_text("Hi {first_name}", encoding="utf-8")
    code, out, _ = run("--staff", "admin", *args, str(body))  # replaced
    bad = tmp_path / "bad.md"
    bad.write_text("Hi {nickname}", encoding="utf-8")
    code, _out, err = run("--staff", "admin", *args, str(bad))
    assert code == 1 and "{nickname} cannot be filled" in err
    code, out, _ = run("--staff", "rita", "templates", "list", "--db", db, "--json")
    assert json.loads(out) == [
        {"name": "points", "channel": "email", "subject": "Points", "body": "Hi {first_name}"}
    ]
    code, out, _ = run(
        "--staff", "rita", "email", "--db", db, "C-000001", "--template", "points", "--json"
    )
    assert code == 0 and json.loads(out)["subject"] == "Points"
    run("notify", "--db", db)
    texts = [
        r.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        for r in smtp_server.received
        if r.message["Subject"] == "Points"
    ]
    assert texts == ["Hi Ann"]
    code, out, _ = run("--staff", "admin", "templates", "delete", "--db", db, "points")
    assert code == 0 and "deleted" in out

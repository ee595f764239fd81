"""Delivery under trouble: the consent matrix, failing SMTP servers (refused, silent, 4xx,
5xx), retries with back-off, and exactly once with two `frontdesk notify` processes at once
or one killed at random points and run again."""

# ruff: noqa: F811  (the peers are fixtures imported from tests.messaging_peers)
from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from frontdesk.data import customers as svc
from frontdesk.data.db import open_database
from frontdesk.data.errors import FrontdeskError
from frontdesk.data.messaging import newsletters, outbox, reminders
from frontdesk.data.models import OutboxMessage
from frontdesk.data.settings import set_setting
from tests.actors import ADMIN, DESK
from tests.data.test_messaging import NOW, add, book, messages, shop
from tests.messaging_peers import (  # noqa: F401  (fixtures)
    FakeTwilio,
    RecordingSmtp,
    ScriptedSmtp,
    configure,
    free_port,
    scripted_config,
    smtp_server,
    twilio_server,
)

PURPOSES = ["reminder", "birthday", "anniversary", "marketing", "newsletter", "transactional"]
CONSENT = {
    "reminder": "consent_reminders",
    "birthday": "consent_birthday",
    "anniversary": "consent_birthday",
    "marketing": "consent_marketing",
    "newsletter": "consent_newsletter",
    "transactional": None,
}


# --------------------------------------------------------------------------- consent matrix


@pytest.mark.parametrize("channel", ["email", "sms"])
@pytest.mark.parametrize("purpose", PURPOSES)
def test_consent_matrix(
    engine: Engine,
    smtp_server: RecordingSmtp,
    twilio_server: FakeTwilio,
    purpose: str,
    channel: str,
) -> None:
    """purpose x consent x blocked x has an address: exactly the expected messages go out."""
    if purpose == "newsletter" and channel == "sms":
        pytest.skip("newsletters are email only")
    ids = shop(
        engine,
        smtp_server if channel == "email" else None,
        twilio_server if channel == "sms" else None,
    )
    expected: set[str] = set()
    people: list[tuple[int, bool, str]] = []
    n = 0
    for consent_on in (True, False):
        for blocked in (True, False):
            for has_address in (True, False):
                n += 1
                values: dict[str, object] = {"consent_reminders": False}
                if purpose == "birthday":
                    values["date_of_birth"] = date(1990, 11, 2)
                if purpose == "anniversary":
                    values["anniversary"] = date(2015, 11, 2)
                needed = CONSENT[purpose]
                if needed:
                    values[needed] = consent_on
                if channel == "email":
                    address = f"p{n}@example.com"
                    values |= {"email": address} if has_address else {"phone": f"+3161234{n:04d}"}
                else:
                    address = f"+3161234{n:04d}"
                    values |= {"phone": address} if has_address else {"email": f"p{n}@example.com"}
                cid = add(engine, f"P{n}", **values)
                if purpose == "reminder":
                    book(engine, ids, cid, NOW + timedelta(hours=3))
                if blocked:
                    with Session(engine) as s:
                        svc.block_customer(session=s, customer_id=cid, reason="x", actor=ADMIN)
                        s.commit()
                people.append((cid, blocked, address))
                wanted = consent_on or CONSENT[purpose] is None
                if wanted and not blocked and has_address:
                    expected.add(address)
    if purpose in ("reminder", "birthday", "anniversary"):
        reminders.queue_due(engine, now=NOW)
    elif purpose == "newsletter":
        newsletters.queue_newsletter(engine, subject="News", body="Hello", actor=ADMIN)
    else:
        with Session(engine) as s:
            for cid, _blocked, _address in people:
                try:
                    with s.begin_nested():
                        outbox.send_direct(
                            session=s,
                            customer_id=cid,
                            actor=DESK,
                            channel=channel,
                            subject="Hello",
                            body="Hello {first_name}",
                            purpose=purpose,
                        )
                except FrontdeskError:
                    pass
            s.commit()
    outbox.send_queue(engine)  # the real clock: later than NOW
    if channel == "email":
        got = [r.to for r in smtp_server.received]
    else:
        got = [r.form["To"] for r in twilio_server.requests]
    assert sorted(got) == sorted(expected)
    assert len(got) == len(set(got))


# --------------------------------------------------------------------------- failing servers


def _one_email(engine: Engine, address: str = "ann@example.com") -> int:
    cid = add(engine, "Ann", email=address)
    with Session(engine) as s:
        m = outbox.send_direct(session=s, customer_id=cid, actor=DESK, subject="S", body="B")
        s.commit()
        return m.id or 0


def _row(engine: Engine, message_id: int) -> OutboxMessage:
    with Session(engine) as s:
        row = s.get(OutboxMessage, message_id)
        assert row is not None
        return row


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def test_refused_connection_fails_with_reason_then_retried(engine: Engine) -> None:
    NOW = datetime.now(UTC) + timedelta(seconds=5)  # after the messages are queued
    port = free_port()  # nothing listens here yet
    server = RecordingSmtp(port)
    shop(engine, server)
    mid = _one_email(engine)
    report = outbox.send_queue(engine, now=NOW)
    assert report.failed == 1
    row = _row(engine, mid)
    assert row.status == "failed" and "cannot connect" in (row.last_error or "")
    assert _aware(row.next_attempt_at) == NOW + timedelta(minutes=1)
    assert outbox.send_queue(engine, now=NOW + timedelta(seconds=30)).sent == 0  # backing off
    with server:
        assert outbox.send_queue(engine, now=NOW + timedelta(minutes=2)).sent == 1
    row = _row(engine, mid)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert len(server.received) == 1


def test_silent_server_times_out_and_is_retried(engine: Engine) -> None:
    NOW = datetime.now(UTC) + timedelta(seconds=5)  # after the messages are queued
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]
    server = RecordingSmtp(port)
    with Session(engine) as s:
        configure(s, smtp=server, timeout=1)
        s.commit()
    mid = _one_email(engine)
    started = time.monotonic()
    report = outbox.send_queue(engine, now=NOW)
    assert report.failed == 1 and time.monotonic() - started < 10
    row = _row(engine, mid)
    assert row.status == "failed" and "within 1 s" in (row.last_error or "")
    assert row.next_attempt_at is not None  # transient: tried again later
    listener.close()
    with server:
        assert outbox.send_queue(engine, now=NOW + timedelta(minutes=2)).sent == 1


def test_4xx_is_retried_with_back_off_up_to_the_limit(
    engine: Engine, smtp_server: RecordingSmtp
) -> None:
    NOW = datetime.now(UTC) + timedelta(seconds=5)  # after the messages are queued
    shop(engine, smtp_server)
    mid = _one_email(engine)
    smtp_server.data_answer = "451 4.3.0 Mailbox busy, try later"
    moment = NOW
    waits = []
    for _ in range(outbox.MAX_ATTEMPTS):
        report = outbox.send_queue(engine, now=moment)
        assert report.failed == 1
        row = _row(engine, mid)
        assert row.last_error == "451 4.3.0 Mailbox busy, try later"
        if row.next_attempt_at is None:
            break
        waits.append(_aware(row.next_attempt_at) - moment)  # type: ignore[operator]
        moment = _aware(row.next_attempt_at)  # type: ignore[assignment]
    assert waits == list(outbox.BACKOFF[: outbox.MAX_ATTEMPTS - 1])
    row = _row(engine, mid)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", outbox.MAX_ATTEMPTS, None)
    assert outbox.send_queue(engine, now=moment + timedelta(days=1)).failed == 0  # given up
    smtp_server.data_answer = None
    with Session(engine) as s:
        outbox.retry(session=s, message_id=mid, actor=DESK)
        s.commit()
    assert outbox.send_queue(engine).sent == 1


def test_5xx_fails_at_once_and_does_not_stop_the_others(
    engine: Engine, smtp_server: RecordingSmtp
) -> None:
    NOW = datetime.now(UTC) + timedelta(seconds=5)  # after the messages are queued
    shop(engine, smtp_server)
    bad = _one_email(engine, "gone@example.com")
    good = _one_email_other(engine)
    smtp_server.rcpt_answers["gone@example.com"] = "550 5.1.1 No such user here"
    report = outbox.send_queue(engine, now=NOW)
    assert (report.sent, report.failed) == (1, 1)
    row = _row(engine, bad)
    assert row.status == "failed" and row.next_attempt_at is None
    assert row.last_error == "550 5.1.1 No such user here"
    assert _row(engine, good).status == "sent"
    with Session(engine) as s, pytest.raises(FrontdeskError, match="is sent, not failed"):
        outbox.retry(session=s, message_id=good, actor=DESK)


def _one_email_other(engine: Engine) -> int:
    cid = add(engine, "Bob", email="bob@example.com")
    with Session(engine) as s:
        m = outbox.send_direct(session=s, customer_id=cid, actor=DESK, subject="S", body="B")
        s.commit()
        return m.id or 0


def test_no_answer_to_data_is_not_resent_blindly(
    engine: Engine, smtp_server: RecordingSmtp
) -> None:
    """The server got the whole message but never answered: it may have delivered it."""
    NOW = datetime.now(UTC) + timedelta(seconds=5)  # after the messages are queued
    with Session(engine) as s:
        configure(s, smtp=smtp_server, timeout=1)
        s.commit()
    mid = _one_email(engine)
    smtp_server.hang_seconds = 3
    outbox.send_queue(engine, now=NOW)
    row = _row(engine, mid)
    assert row.status == "failed" and row.next_attempt_at is None
    assert "not sent again automatically" in (row.last_error or "")


def test_twilio_errors(engine: Engine, twilio_server: FakeTwilio) -> None:
    NOW = datetime.now(UTC) + timedelta(seconds=5)  # after the messages are queued
    shop(engine, None, twilio_server)
    cid = add(engine, "Pat", phone="+31612345678")
    with Session(engine) as s:
        mid = (
            outbox.send_direct(
                session=s, customer_id=cid, actor=DESK, channel="whatsapp", body="Hi"
            ).id
            or 0
        )
        s.commit()
    twilio_server.answer = (400, {"code": 21211, "message": "Invalid 'To' Phone Number"})
    outbox.send_queue(engine, now=NOW)
    row = _row(engine, mid)
    assert row.status == "failed" and row.next_attempt_at is None
    assert row.last_error == "400 Invalid 'To' Phone Number (Twilio code 21211)"
    twilio_server.answer = (503, {"message": "Service unavailable"})
    with Session(engine) as s:
        outbox.retry(session=s, message_id=mid, actor=DESK)
        s.commit()
    outbox.send_queue(engine, now=NOW)
    assert _row(engine, mid).next_attempt_at is not None  # 5xx: tried again later
    twilio_server.answer = None
    assert outbox.send_queue(engine, now=NOW + timedelta(minutes=5)).sent == 1
    [req] = twilio_server.requests
    assert req.form == {
        "To": "whatsapp:+31612345678",
        "From": "whatsapp:+15005550007",
        "Body": "Hi",
    }


# --------------------------------------------------------------------------- stale 'sending'


def test_stale_sending_rows_are_recovered_by_the_rule(
    engine: Engine, smtp_server: RecordingSmtp
) -> None:
    NOW = datetime.now(UTC) + timedelta(seconds=5)  # after the messages are queued
    shop(engine, smtp_server)
    never = _one_email(engine)
    handed = _one_email_other(engine)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with Session(engine) as s:
        for mid, over in ((never, None), (handed, NOW)):
            row = s.get(OutboxMessage, mid)
            assert row is not None
            row.status = "sending"
            row.attempts = 1
            row.claimed_by = f"{socket.gethostname()}:{dead.pid}:gone"
            row.claimed_at = NOW
            row.handed_over_at = over
            s.add(row)
        s.commit()
    report = outbox.send_queue(engine, now=NOW)
    assert (report.requeued_stale, report.interrupted, report.sent) == (1, 1, 1)
    assert [r.to for r in smtp_server.received] == ["ann@example.com"]
    row = _row(engine, handed)
    assert row.status == "failed" and "may have been delivered" in (row.last_error or "")
    # A claim by a live process elsewhere is left alone until it is STALE_AFTER old.
    with Session(engine) as s:
        row = s.get(OutboxMessage, handed)
        assert row is not None
        row.status, row.claimed_by, row.claimed_at = "sending", "otherhost:1:x", NOW
        s.add(row)
        s.commit()
    assert outbox.recover_stale(engine, now=NOW + timedelta(minutes=1)) == (0, 0)
    assert outbox.recover_stale(engine, now=NOW + outbox.STALE_AFTER * 2) == (0, 1)


# --------------------------------------------------------------------------- exactly once


def _due_reminders(tmp_path: Path, server: RecordingSmtp, count: int) -> Path:
    path = tmp_path / "notify.db"
    engine = open_database(path)
    ids = shop(engine, server)
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)
    with Session(engine) as s:
        set_setting(session=s, key="time_zone", value="UTC")
        s.commit()
    for i in range(count):
        cid = add(engine, f"R{i}", email=f"r{i}@example.com")
        book(engine, ids, cid, soon + timedelta(minutes=i))
    engine.dispose()
    return path


def _notify(path: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, FRONTDESK_DB=str(path))
    return subprocess.Popen(
        [sys.executable, "-m", "frontdesk", "notify", "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_two_notify_processes_at_once_send_each_reminder_once(
    tmp_path: Path, smtp_server: RecordingSmtp
) -> None:
    smtp_server.delay = 0.005
    path = _due_reminders(tmp_path, smtp_server, 40)
    procs = [_notify(path), _notify(path)]
    for p in procs:
        _out, errors = p.communicate(timeout=120)
        assert p.returncode == 0, errors.decode()
    counts = Counter(r.to for r in smtp_server.received)
    assert sorted(counts) == sorted(f"r{i}@example.com" for i in range(40))
    assert set(counts.values()) == {1}
    engine = open_database(path)
    assert Counter(m.status for m in messages(engine)) == {"sent": 40}
    engine.dispose()


def test_notify_killed_at_random_points_and_rerun_sends_each_once(
    tmp_path: Path, smtp_server: RecordingSmtp
) -> None:
    # Sending the 30 takes 4.5 s at least (the server takes 0.6 s a message, over notify's
    # four connections), longer than any wait below: the first run is always killed, whatever
    # the machine's speed, and each later one is killed somewhere in start-up, claiming,
    # sending or recording.
    smtp_server.delay = 0.6
    path = _due_reminders(tmp_path, smtp_server, 30)
    rng = random.Random(15)
    deadline = time.monotonic() + 60
    kills = 0
    while time.monotonic() < deadline:
        p = _notify(path)
        time.sleep(rng.uniform(0.5, 4.0))  # start-up takes 1-3 s: kills land everywhere
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
        engine = open_database(path)
        rows = messages(engine)
        engine.dispose()
        if len(rows) == 30 and all(r.status in ("sent", "failed") for r in rows):
            break
    final = _notify(path)
    final.communicate(timeout=120)
    engine = open_database(path)
    rows = messages(engine)
    engine.dispose()
    counts = Counter(r.to for r in smtp_server.received)
    assert kills >= 1
    assert max(counts.values()) == 1  # none twice
    by_status = Counter(r.status for r in rows)
    assert by_status["sent"] + by_status["failed"] == 30 == len(rows)
    for r in rows:
        if r.status == "sent":
            assert counts[r.to_address] == 1
        else:  # killed in the instant between handing it over and recording it
            assert "may have been delivered" in (r.last_error or "")
            assert counts[r.to_address] <= 1
    assert sum(counts.values()) >= 30 - by_status["failed"]
    unsure = [r.to_address for r in rows if r.status == "failed"]
    delivered = sum(counts[a] for a in unsure)
    print(
        f"{kills} kills; {len(unsure)} interrupted after handing over, {delivered} of them delivered"
    )


def test_concurrent_senders_claim_each_message_once(
    any_engine: Engine, smtp_server: RecordingSmtp
) -> None:
    """Three senders at once on one database (PostgreSQL: FOR UPDATE SKIP LOCKED)."""
    import threading

    shop(any_engine, smtp_server)
    smtp_server.delay = 0.002
    for i in range(30):
        add(any_engine, f"N{i}", email=f"n{i}@example.com", consent_newsletter=True)
    newsletters.queue_newsletter(any_engine, subject="N", body="Hi {first_name}", actor=ADMIN)
    reports: list[outbox.SendReport] = []

    def run() -> None:
        reports.append(outbox.send_queue(any_engine, batch=3))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    counts = Counter(r.to for r in smtp_server.received)
    assert len(counts) == 30 and set(counts.values()) == {1}
    assert sum(r.sent for r in reports) == 30


def test_several_connections_send_each_message_once(
    engine: Engine, smtp_server: RecordingSmtp
) -> None:
    shop(engine, smtp_server)
    smtp_server.delay = 0.002
    for i in range(25):
        add(engine, f"M{i}", email=f"m{i}@example.com", consent_newsletter=True)
    newsletters.queue_newsletter(engine, subject="N", body="Hi", actor=ADMIN)
    report = outbox.send_queue(engine, connections=3, batch=4, limit=20)
    assert report.sent == 20
    assert Counter(m.status for m in messages(engine)) == {"sent": 20, "queued": 5}
    assert outbox.send_queue(engine, connections=3).sent == 5
    counts = Counter(r.to for r in smtp_server.received)
    assert len(counts) == 25 and set(counts.values()) == {1}


def test_a_few_messages_spread_over_every_connection(
    engine: Engine, smtp_server: RecordingSmtp
) -> None:
    """The run's connections share the claimed messages: a claim of 8 is not sent by the one
    connection that claimed it while the other three find nothing."""
    shop(engine, smtp_server)
    smtp_server.delay = 0.1  # each message outlasts the start of the other connections
    for i in range(8):
        add(engine, f"S{i}", email=f"s{i}@example.com", consent_newsletter=True)
    newsletters.queue_newsletter(engine, subject="N", body="Hi", actor=ADMIN)
    report = outbox.send_queue(engine, connections=4)
    assert report.sent == 8
    assert len({r.peer for r in smtp_server.received}) == 4
    counts = Counter(r.to for r in smtp_server.received)
    assert len(counts) == 8 and set(counts.values()) == {1}


def test_smtp_data_is_dot_stuffed() -> None:
    from frontdesk.data.messaging.smtp import _dot_stuffed

    assert _dot_stuffed(b"a\r\n.b\r\n..c") == b"a\r\n..b\r\n...c\r\n.\r\n"
    assert _dot_stuffed(b".a\r\nb") == b"..a\r\nb\r\n.\r\n"  # the first line too
    assert _dot_stuffed(b"a.b\r\nc\r\n") == b"a.b\r\nc\r\n.\r\n"  # nothing to double


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_login_with_the_password_from_the_private_settings_file(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from frontdesk import config
    from frontdesk.data.messaging.config import SecretsFileNotPrivate, secret

    NOW = datetime.now(UTC) + timedelta(seconds=5)  # after the messages are queued
    monkeypatch.delenv("FRONTDESK_SMTP_PASSWORD", raising=False)
    server = RecordingSmtp(login=("desk", "s3cret"))
    with server, Session(engine) as s:
        configure(s, smtp=server)
        set_setting(session=s, key="smtp_user", value="desk")
        s.commit()
        settings = config.settings_path()
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text('staff = "rita"\nsmtp_password = "s3cret"\n', encoding="utf-8")
        settings.chmod(0o644)
        with pytest.raises(SecretsFileNotPrivate, match="chmod 600"):
            secret("smtp_password")
        settings.chmod(0o600)
        assert secret("smtp_password") == "s3cret"
        mid = _one_email(engine)
        assert outbox.send_queue(engine, now=NOW).sent == 1
        assert server.logins == ["desk"] and len(server.received) == 1
        monkeypatch.setenv("FRONTDESK_SMTP_PASSWORD", "wrong")  # the environment wins
        other = _one_email_other(engine)
        report = outbox.send_queue(engine, now=NOW + timedelta(seconds=5))
        assert report.failed == 1
        row = _row(engine, other)
        assert row.status == "failed" and row.last_error  # with the server's reason
        assert row.next_attempt_at is not None  # a password can be fixed: tried again
        assert len(server.received) == 1
    assert _row(engine, mid).status == "sent"


def test_smtp_replies_in_pieces_and_on_several_lines_are_read_whole() -> None:
    from frontdesk.data.messaging.providers import Outgoing
    from frontdesk.data.messaging.smtp import SmtpProvider

    peer = ScriptedSmtp(
        {
            "EHLO": [b"250-scripted\r\n250-SIZE 1000\r\n", b"250 HELP\r\n"],
            "MAIL": [b"25", b"0 sender ok\r\n"],
            "RCPT": [b"250-first line\r\n", b"250 second line\r\n"],
            "DATA": [b"354 go ahead\r\n"],
        }
    )
    handed: list[int] = []
    provider = SmtpProvider(scripted_config(peer.port), None)
    message = Outgoing("email", "ann@example.com", "Hello", "Hi Ann", None, "<m1@lumen.example>")
    assert provider.send(message, handing_over=lambda: handed.append(1)) == "<m1@lumen.example>"
    assert handed == [1]
    provider.close()
    peer.finished()
    verbs = [c.split(b" ", 1)[0].split(b":", 1)[0] for c in peer.commands if c[:1].isalpha()]
    assert verbs[:4] == [b"ehlo", b"MAIL", b"RCPT", b"DATA"]
    assert b"MAIL FROM:<desk@lumen.example>" in peer.commands
    assert b"RCPT TO:<ann@example.com>" in peer.commands
    assert b"Subject: Hello" in peer.text and peer.commands[-1].upper() == b"QUIT"


def test_a_refused_data_command_fails_with_the_reason_and_nothing_is_sent() -> None:
    from frontdesk.data.messaging.providers import Outgoing, SendFailed
    from frontdesk.data.messaging.smtp import SmtpProvider

    peer = ScriptedSmtp({"DATA": [b"554-5.7.1 refused:\r\n", b"554 5.7.1 policy says no\r\n"]})
    provider = SmtpProvider(scripted_config(peer.port), None)
    message = Outgoing("email", "ann@example.com", "Hello", "Hi Ann", None, "<m2@lumen.example>")
    with pytest.raises(SendFailed) as failed:
        provider.send(message, handing_over=lambda: None)
    assert failed.value.reason == "554 5.7.1 refused: 5.7.1 policy says no"
    assert not failed.value.transient and not failed.value.uncertain
    provider.close()
    peer.finished()
    assert b"RSET" in peer.commands  # the transaction is reset, the text never sent
    assert peer.text == []

"""Sending many messages cheaply without giving up the rules: a newsletter's Markdown is
rendered once, the email bytes are written directly (the same bytes as the email package's),
the outbox writes one small transaction per message with the "sent" marks of many together,
and a sender killed mid-run leaves at most SENT_BATCH messages "may have been delivered"
(none sent twice)."""

# ruff: noqa: F811  (the peers are fixtures imported from tests.messaging_peers)
from __future__ import annotations

import email
import email.policy
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from frontdesk.data.db import open_database
from frontdesk.data.messaging import newsletters, outbox
from frontdesk.data.messaging import templates as tpl
from frontdesk.data.messaging.config import MessagingConfig
from frontdesk.data.messaging.providers import Outgoing
from frontdesk.data.messaging.smtp import as_bytes, build_email, email_bytes
from tests.actors import ADMIN
from tests.data.test_messaging import add, messages, shop
from tests.messaging_peers import (  # noqa: F401  (fixtures)
    RecordingSmtp,
    scripted_config,
    smtp_server,
)


def _cfg(
    sender_name: str = "Salon Lumen", reply_to: str = "hello@lumen.example"
) -> MessagingConfig:
    return scripted_config(
        business_name=sender_name,
        smtp_timeout=30,
        sender_name=sender_name,
        reply_to=reply_to,
        unsubscribe_email="unsubscribe@lumen.example" if reply_to else "",
    )


# --------------------------------------------------------------------------- email bytes


@pytest.mark.parametrize(
    "outgoing",
    [
        Outgoing(
            "email",
            "ann@example.com",
            "Winter offers for Ann",
            "Hi\nAnn",
            "<p>x</p>\n",
            "<a@x>",
            True,
        ),
        Outgoing("email", "ann@example.com", "Your voucher", "Hello\r\n.dot line", None, "<b@x>"),
        Outgoing("email", "a@b.example", "x" * 100, "", "<p>" + "é" * 3000 + "</p>", "<c@x>", True),
        Outgoing(
            "email", "a@b.example", "a b " * 40, "é" * 2000, "<b>", "<d@x>", headers={"X-A": "é"}
        ),
        Outgoing("email", "a@b.example", "  spaced  out  ", "\n\n", "<i>", "<e@x>"),
    ],
)
@pytest.mark.parametrize("cfg", [_cfg(), _cfg("Zoë & Co, Ltd.", reply_to="")])
def test_email_bytes_are_the_email_packages_bytes(outgoing: Outgoing, cfg: MessagingConfig) -> None:
    built = build_email(outgoing, cfg)
    expected = as_bytes(built)
    boundary = built.get_boundary() if built.is_multipart() else None
    assert email_bytes(outgoing, cfg, boundary=boundary, date=built["Date"]) == expected


@pytest.mark.parametrize(
    "subject", ["Hi Zoë", "Winter offers for Zoë-Émilie " * 6, "日本語" * 30, "😀 ok"]
)
def test_a_non_ascii_subject_is_encoded_words_that_read_back(subject: str) -> None:
    data = email_bytes(Outgoing("email", "a@b.example", subject, "t", "<p>h</p>", "<m@x>"), _cfg())
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert parsed["Subject"] == subject
    assert max(len(line) for line in data.split(b"\r\n")) <= 78


# --------------------------------------------------------------------------- templates


BODIES = [
    "Hello {first_name},\n\nOur **winter offers** at {branch}: {points_balance} points.\n\n- a\n- b",
    "Dear **{first_name}** and _{display_name}_ # not a heading {business_name}",
    "# {display_name}\n\n> {branch} {{literal}}\n\n1. {service}\n2. *{first_name}*",
    "[{first_name}](https://example.com/{first_name})",  # in a link's address
    "`{first_name}` and ![{first_name}](a.png)",  # in a code span, an image's description
    "    {first_name} in a code block\n",
]
VALUES = [
    "Ann",
    "Ann <b>",
    'O"Neil & Co',
    "*x* _y_",
    "[a](javascript:alert(1))",
    "<script>x</script>",
    "Zoë",
]


@pytest.mark.parametrize("body", BODIES)
def test_compiled_template_renders_as_each_recipient_alone(body: str) -> None:
    compiled = tpl.compile_template("Hi {first_name}", body)
    for value in VALUES:
        values = dict.fromkeys(tpl.PLACEHOLDERS, value)
        got = compiled.render(values)
        assert got == tpl._render_each("Hi {first_name}", body, values)
        assert "<script" not in got.html and 'href="javascript' not in got.html


def test_placeholders_outside_plain_text_fall_back_to_rendering_each() -> None:
    assert tpl.compile_template(None, BODIES[0])._html is not None
    for body in BODIES[3:]:
        assert tpl.compile_template(None, body)._html is None


def test_a_newsletter_is_rendered_once_for_all_its_recipients(
    engine: Engine, smtp_server: RecordingSmtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop(engine, smtp_server)
    for i in range(12):
        add(engine, f"N{i}<b>", email=f"n{i}@example.com", consent_newsletter=True)
    tpl.compile_template.cache_clear()
    parsed: list[str] = []
    parse = tpl._md.parse

    def counting(src: str, env: Any = None) -> Any:
        parsed.append(src)
        return parse(src, env)

    monkeypatch.setattr(tpl._md, "parse", counting)
    newsletters.queue_newsletter(
        engine, subject="News for {first_name}", body="Hello **{first_name}**", actor=ADMIN
    )
    assert outbox.send_queue(engine).sent == 12
    assert len(parsed) == 1
    m = smtp_server.to("n3@example.com")[0].message
    html = m.get_body(("html",))
    assert html is not None
    assert "<strong>N3&lt;b&gt;</strong>" in html.get_content()
    assert m["Subject"] == "News for N3<b>"


# --------------------------------------------------------------------------- writes


def test_the_hand_over_connection_leaves_checkpoints_to_the_others(
    engine: Engine, smtp_server: RecordingSmtp
) -> None:
    """Its commits never checkpoint the WAL while the run sends (a checkpoint in a hand-over
    stalled every connection); back in the pool it checkpoints as every connection does."""
    shop(engine, smtp_server)
    for i in range(30):
        add(engine, f"C{i}", email=f"c{i}@example.com", consent_newsletter=True)
    newsletters.queue_newsletter(engine, subject="N", body="Hi {first_name}", actor=ADMIN)
    used: list[Any] = []  # every SQLite connection the run takes from the pool

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        used.append(dbapi_connection)

    def setting(connection: Any) -> int:
        return int(connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0])

    during: list[list[int]] = []
    event.listen(engine.pool, "checkout", checkout)
    try:
        report = outbox.send_queue(
            engine, connections=2, progress=lambda r: during.append([setting(c) for c in used])
        )
    finally:
        event.remove(engine.pool, "checkout", checkout)
    assert report.sent == 30
    assert all(0 in seen for seen in during)  # the hand-over connection, while it sends
    assert {setting(c) for c in used} == {1000}  # and after, like every other connection


def test_one_hand_over_write_a_message_and_sent_marks_together(
    engine: Engine, smtp_server: RecordingSmtp
) -> None:
    shop(engine, smtp_server)
    for i in range(45):
        add(engine, f"W{i}", email=f"w{i}@example.com", consent_newsletter=True)
    newsletters.queue_newsletter(engine, subject="N", body="Hi {first_name}", actor=ADMIN)
    traced: list[str] = []  # every statement SQLite runs (each row of an executemany)

    def trace(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        dbapi_connection.set_trace_callback(traced.append)

    event.listen(engine.pool, "checkout", trace)
    try:
        report = outbox.send_queue(engine)
    finally:
        event.remove(engine.pool, "checkout", trace)
    assert report.sent == 45
    transactions: list[list[str]] = []
    for statement in traced:
        if statement.startswith("BEGIN"):
            transactions.append([])
        elif transactions and statement.startswith("UPDATE outbox"):
            transactions[-1].append(statement)

    def kind(statement: str) -> str:
        for prefix, name in (
            ("UPDATE outbox SET handed_over_at", "hand-over"),
            ("UPDATE outbox SET status = 'sent'", "sent"),
            ("UPDATE outbox SET status = 'sending'", "claim"),
        ):
            if statement.startswith(prefix):
                return name
        return statement[:40]

    rows = Counter(kind(st) for t in transactions for st in t)
    assert rows == {"claim": 45, "hand-over": 45, "sent": 45}
    claims = [t for t in transactions if any(kind(st) == "claim" for st in t)]
    assert len(claims) == 1  # the whole batch in one transaction
    # one transaction a message (its hand-over); the "sent" marks 20 at a time, the last 5
    # at the end of the run — or some of them with the claim that finds nothing more, made
    # while the last messages wait for the server (the next ones are made ready then)
    assert len([t for t in transactions if any(kind(st) == "hand-over" for st in t)]) == 45
    sent = [n for n in (sum(kind(st) == "sent" for st in t) for t in transactions) if n]
    assert sent[:2] == [20, 20] and sum(sent[2:]) == 5 and len(sent) <= 4
    # and nothing else writes to the outbox but the claims and the end of the run
    assert len([t for t in transactions if t]) == 45 + len(sent) - 1
    assert Counter(m.status for m in messages(engine)) == {"sent": 45}


KILLED_SENDER = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import timedelta
    from frontdesk.data.db import open_database
    from frontdesk.data.messaging import outbox

    path, log, kill_after = sys.argv[1], sys.argv[2], int(sys.argv[3])
    outbox.SENT_FLUSH_AFTER = timedelta(hours=1)  # marks written by count only: deterministic
    delivered = []

    class Provider:
        def send(self, message, *, handing_over):
            handing_over()
            with open(log, "a") as f:  # the server took it
                f.write(message.to + "\\n")
            delivered.append(message.to)
            if len(delivered) == kill_after:  # killed before the loop records it
                os.kill(os.getpid(), signal.SIGKILL)
            return message.message_id

        def close(self):
            pass

    outbox.send_queue(open_database(path), providers={"email": Provider()})
    """
)


@pytest.mark.parametrize("kill_after", [20, 27, 41])
def test_a_killed_sender_leaves_at_most_a_batch_in_doubt_and_sends_none_twice(
    tmp_path: Path, kill_after: int
) -> None:
    path = tmp_path / "killed.db"
    engine = open_database(path)
    shop(engine)
    for i in range(50):
        add(engine, f"K{i}", email=f"k{i}@example.com", consent_newsletter=True)
    newsletters.queue_newsletter(engine, subject="N", body="Hi {first_name}", actor=ADMIN)
    engine.dispose()
    log = tmp_path / "delivered.txt"
    run = subprocess.run(
        [sys.executable, "-c", KILLED_SENDER, str(path), str(log), str(kill_after)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        check=False,
    )
    assert run.returncode == -9, run.stderr.decode()

    class Provider:
        def send(self, message: Outgoing, *, handing_over: Any) -> str:
            handing_over()
            with log.open("a") as f:
                f.write(message.to + "\n")
            return message.message_id

        def close(self) -> None:
            pass

    engine = open_database(path)
    report = outbox.send_queue(engine, providers={"email": Provider()})
    delivered = Counter(log.read_text().split())
    rows = messages(engine)
    engine.dispose()
    assert max(delivered.values()) == 1  # none twice
    by_status = Counter(r.status for r in rows)
    in_doubt = [r for r in rows if r.status == "failed"]
    assert report.interrupted == len(in_doubt) <= outbox.SENT_BATCH
    assert by_status["sent"] + len(in_doubt) == 50
    assert all("may have been delivered" in (r.last_error or "") for r in in_doubt)
    # those in doubt were handed over before the kill; every other message went exactly once
    assert all(delivered[r.to_address] == 1 for r in rows if r.status == "sent")
    assert sum(delivered.values()) == 50
    assert len(in_doubt) == kill_after - (kill_after - 1) // outbox.SENT_BATCH * outbox.SENT_BATCH

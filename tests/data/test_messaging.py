"""Messaging services against real peers on loopback: SMTP (aiosmtpd) and a Twilio-shaped
HTTP server. Sending, templates, reminders, greetings, newsletters, consent history."""

# ruff: noqa: F811  (the peers are fixtures imported from tests.messaging_peers)
from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from frontdesk.data import bookings as bk
from frontdesk.data import customers as svc
from frontdesk.data.errors import BlockedCustomer, ValidationFailed
from frontdesk.data.messaging import consent, newsletters, outbox, reminders, templates
from frontdesk.data.models import (
    Branch,
    ConsentChange,
    Customer,
    OutboxMessage,
    Service,
    ServiceType,
)
from frontdesk.data.roles import NotAllowed
from tests.actors import ADMIN, DESK, THERAPIST
from tests.messaging_peers import (  # noqa: F401  (fixtures)
    FakeTwilio,
    RecordingSmtp,
    configure,
    smtp_server,
    twilio_server,
)

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def shop(
    engine: Engine, smtp: RecordingSmtp | None = None, twilio: FakeTwilio | None = None
) -> dict[str, int]:
    with Session(engine) as s:
        configure(s, smtp=smtp, twilio=twilio)
        branch = Branch(name="Main")
        stype = ServiceType(name="Hair")
        s.add_all([branch, stype])
        s.flush()
        cut = Service(service_type_id=stype.id or 0, name="Cut", duration_minutes=60)
        s.add(cut)
        s.flush()
        ids = {"branch": branch.id or 0, "cut": cut.id or 0}
        s.commit()
    return ids


def add(engine: Engine, first: str, **values: Any) -> int:
    with Session(engine) as s:
        c = svc.create_customer(
            session=s, actor=ADMIN, data=svc.CustomerCreate(first_name=first, **values)
        )
        s.commit()
        return c.id or 0


def book(engine: Engine, ids: dict[str, int], customer_id: int, start: datetime) -> int:
    with Session(engine) as s:
        b = bk.create_booking(
            session=s,
            customer_id=customer_id,
            service_id=ids["cut"],
            branch_id=ids["branch"],
            staff_id=None,
            start_at=start,
            actor=ADMIN,
        )
        s.commit()
        return b.id or 0


def messages(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


# --------------------------------------------------------------------------- direct email


def test_direct_email_has_text_html_sender_reply_to_and_stable_message_id(
    any_engine: Engine, smtp_server: RecordingSmtp
) -> None:
    shop(any_engine, smtp_server)
    ann = add(any_engine, "Ann <b>", email="ann@example.com")
    with Session(any_engine) as s:
        draft = outbox.draft_direct(
            session=s, customer_id=ann, subject="Hi {first_name}", body="Dear **{first_name}**"
        )
        assert draft.text == "Dear **Ann <b>**"
        assert "&lt;b&gt;" in (draft.html or "") and "<b>" not in (draft.html or "")
        msg = outbox.send_direct(
            session=s,
            customer_id=ann,
            actor=DESK,
            subject="Hi {first_name}",
            body="Dear **{first_name}**",
            idempotency_key="form-1",
        )
        again = outbox.send_direct(
            session=s,
            customer_id=ann,
            actor=DESK,
            subject="Hi",
            body="x",
            idempotency_key="form-1",
        )
        assert again.id == msg.id  # a double submit queues one message
        s.commit()
    report = outbox.send_queue(any_engine)
    assert report.sent == 1
    [got] = smtp_server.received
    m = got.message
    assert got.to == "ann@example.com"
    assert m["From"] == "Salon Lumen <desk@lumen.example>"
    assert m["Reply-To"] == "hello@lumen.example"
    assert m["Subject"] == "Hi Ann <b>"
    assert m["List-Unsubscribe"] is None  # transactional
    [row] = messages(any_engine)
    assert row.status == "sent" and row.attempts == 1
    assert (
        m["Message-ID"] == row.message_id == outbox.message_id_for("form-1", "desk@lumen.example")
    )
    plain_part, html_part = m.get_body(("plain",)), m.get_body(("html",))
    assert plain_part is not None and html_part is not None
    plain, html = plain_part.get_content(), html_part.get_content()
    assert "Dear **Ann <b>**" in plain
    assert "<strong>Ann &lt;b&gt;</strong>" in html


def test_direct_message_rules(engine: Engine, smtp_server: RecordingSmtp) -> None:
    shop(engine, smtp_server)
    ann = add(engine, "Ann", email="ann@example.com")
    phone_only = add(engine, "Pat", phone="+31612345678")
    both = add(engine, "Bo", phone="+31612345670", email="bo@example.com")
    with Session(engine) as s:
        svc.block_customer(session=s, customer_id=ann, reason="abusive", actor=ADMIN)
        s.commit()
        with pytest.raises(BlockedCustomer):
            outbox.send_direct(session=s, customer_id=ann, actor=DESK, subject="x", body="y")
        with pytest.raises(ValidationFailed, match="no email"):
            outbox.send_direct(session=s, customer_id=phone_only, actor=DESK, subject="x", body="y")
        with pytest.raises(ValidationFailed, match="no consent for marketing"):
            outbox.send_direct(
                session=s,
                customer_id=phone_only,
                actor=DESK,
                channel="sms",
                body="y",
                purpose="marketing",
            )
        with pytest.raises(NotAllowed):
            outbox.send_direct(
                session=s, customer_id=phone_only, actor=THERAPIST, channel="sms", body="y"
            )
        with pytest.raises(ValidationFailed, match="subject"):
            outbox.send_direct(session=s, customer_id=both, actor=DESK, channel="email", body="y")
        with pytest.raises(ValidationFailed, match="cannot be filled"):
            outbox.send_direct(
                session=s, customer_id=phone_only, actor=DESK, channel="sms", body="{nope}"
            )


# --------------------------------------------------------------------------- templates


def test_templates_refuse_unknown_placeholders_when_saved(session: Session) -> None:
    with pytest.raises(ValidationFailed, match=r"\{surname\} cannot be filled"):
        templates.save_template(
            session=session, name="t", subject="Hi", body="Hi {surname}", actor=ADMIN
        )
    with pytest.raises(ValidationFailed, match="cannot be filled"):
        templates.save_template(
            session=session, name="t", subject="Hi {first_name.__class__}", body="x", actor=ADMIN
        )
    with pytest.raises(ValidationFailed, match="cannot be filled"):
        templates.save_template(
            session=session, name="t", subject="Hi", body="{points_balance:>10}", actor=ADMIN
        )
    with pytest.raises(ValidationFailed, match="unmatched brace"):
        templates.save_template(session=session, name="t", subject="Hi", body="a { b", actor=ADMIN)
    with pytest.raises(NotAllowed):
        templates.save_template(session=session, name="t", subject="Hi", body="x", actor=DESK)
    body = " ".join("{" + k + "}" for k in templates.PLACEHOLDERS) + " {{literal}}"
    saved = templates.save_template(
        session=session, name="all", subject="S", body=body, actor=ADMIN
    )
    assert saved.id is not None
    with pytest.raises(ValidationFailed, match="exists already"):
        templates.save_template(session=session, name="all", subject="S", body="x", actor=ADMIN)


def test_template_values_fill_every_placeholder(engine: Engine, smtp_server: RecordingSmtp) -> None:
    ids = shop(engine, smtp_server)
    ann = add(engine, "Ann", last_name="Lee", email="ann@example.com")
    book(engine, ids, ann, datetime(2030, 1, 5, 14, 30, tzinfo=UTC))
    with Session(engine) as s:
        body = "|".join("{" + k + "}" for k in templates.PLACEHOLDERS)
        templates.save_template(session=s, name="all", subject="S", body=body, actor=ADMIN)
        s.commit()
        draft = outbox.draft_direct(session=s, customer_id=ann, template_name="all")
    assert draft.text == "Ann|Ann Lee|Saturday 5 January 2030|14:30|Cut|Main|0|Salon Lumen"


# --------------------------------------------------------------------------- reminders & greetings


def test_reminder_queued_once_and_sent_and_moved_booking_not_reminded(
    any_engine: Engine, smtp_server: RecordingSmtp
) -> None:
    ids = shop(any_engine, smtp_server)
    ann = add(any_engine, "Ann", email="ann@example.com")
    bob = add(any_engine, "Bob", email="bob@example.com")
    soon = book(any_engine, ids, ann, NOW + timedelta(hours=20))
    later = book(any_engine, ids, bob, NOW + timedelta(hours=30))  # beyond 24 h
    moved = book(any_engine, ids, bob, NOW + timedelta(hours=5))
    first = reminders.queue_due(any_engine, now=NOW)
    assert sorted(p.booking_id or 0 for p in first.queued) == sorted([soon, moved])
    again = reminders.queue_due(any_engine, now=NOW)
    assert again.queued == [] and again.already == 2
    with Session(any_engine) as s:  # moved after its reminder was queued
        bk.change_status(
            session=s,
            booking_id=moved,
            action="reschedule",
            actor=ADMIN,
            new_start=NOW + timedelta(days=3),
        )
        s.commit()
    report = outbox.send_queue(any_engine, now=NOW)
    assert (report.sent, report.skipped) == (1, 1)
    assert [r.to for r in smtp_server.received] == ["ann@example.com"]
    assert "Cut" in smtp_server.received[0].message["Subject"]
    skipped = [m for m in messages(any_engine) if m.status == "skipped"]
    assert skipped[0].booking_id == moved and "moved" in (skipped[0].last_error or "")
    assert later not in [m.booking_id for m in messages(any_engine)]


def test_cancelled_booking_is_not_reminded(engine: Engine, smtp_server: RecordingSmtp) -> None:
    ids = shop(engine, smtp_server)
    ann = add(engine, "Ann", email="ann@example.com")
    b = book(engine, ids, ann, NOW + timedelta(hours=3))
    reminders.queue_due(engine, now=NOW)
    with Session(engine) as s:
        bk.change_status(session=s, booking_id=b, action="cancel", reason="ill", actor=ADMIN)
        s.commit()
    report = outbox.send_queue(engine, now=NOW)
    assert report.skipped == 1 and smtp_server.received == []


def test_reminder_time_zone_and_sms_channel(
    engine: Engine, smtp_server: RecordingSmtp, twilio_server: FakeTwilio
) -> None:
    ids = shop(engine, smtp_server, twilio_server)
    from frontdesk.data.settings import set_setting

    with Session(engine) as s:
        set_setting(session=s, key="time_zone", value="Asia/Tokyo")  # 21:00 local at NOW
        set_setting(session=s, key="reminder_hours", value="2")
        s.commit()
    pat = add(engine, "Pat", phone="+31612345678", email="pat@example.com")
    with Session(engine) as s:
        consent.set_preferred_channel(session=s, customer_id=pat, channel="sms", actor=DESK)
        s.commit()
    # 22:30 Tokyo wall-clock is 1.5 h away; 12:30 (UTC-looking) is in the local past.
    due = book(engine, ids, pat, datetime(2026, 11, 2, 22, 30))
    book(engine, ids, pat, datetime(2026, 11, 2, 12, 30))
    queued = reminders.queue_due(engine, now=NOW)
    assert [(p.booking_id, p.channel) for p in queued.queued] == [(due, "sms")]
    outbox.send_queue(engine, now=NOW)
    [req] = twilio_server.requests
    assert req.form["To"] == "+31612345678" and req.form["From"] == "+15005550006"
    assert "22:30" in req.form["Body"]
    [row] = messages(engine)
    assert row.status == "sent" and row.provider_id == "SM" + "1".zfill(32)


def test_birthdays_and_anniversaries_on_the_day(engine: Engine, smtp_server: RecordingSmtp) -> None:
    shop(engine, smtp_server)
    born = add(
        engine,
        "Bea",
        email="bea@example.com",
        date_of_birth=date(1990, 11, 2),
        consent_birthday=True,
    )
    add(engine, "Nope", email="nope@example.com", date_of_birth=date(1990, 11, 2))  # no consent
    add(
        engine,
        "Other",
        email="o@example.com",
        date_of_birth=date(1990, 11, 3),
        consent_birthday=True,
    )
    wed = add(
        engine, "Wes", email="wes@example.com", anniversary=date(2010, 11, 2), consent_birthday=True
    )
    early = reminders.queue_due(engine, now=NOW.replace(hour=6))
    assert early.queued == []  # before SEND_FROM_HOUR on the day
    got = reminders.queue_due(engine, now=NOW)
    assert sorted((p.customer_id, p.purpose) for p in got.queued) == [
        (born, "birthday"),
        (wed, "anniversary"),
    ]
    assert reminders.queue_due(engine, now=NOW + timedelta(hours=3)).queued == []
    outbox.send_queue(engine, now=NOW)
    assert sorted(r.to for r in smtp_server.received) == ["bea@example.com", "wes@example.com"]


def test_leap_day_birthday_on_28_february(engine: Engine, smtp_server: RecordingSmtp) -> None:
    shop(engine, smtp_server)
    leap = add(
        engine,
        "Lea",
        email="lea@example.com",
        date_of_birth=date(2000, 2, 29),
        consent_birthday=True,
    )
    got = reminders.queue_due(engine, now=datetime(2027, 2, 28, 12, tzinfo=UTC))
    assert [p.customer_id for p in got.queued] == [leap]


# --------------------------------------------------------------------------- consent history


def test_consent_changes_are_recorded_with_source(engine: Engine) -> None:
    ann = add(engine, "Ann", email="Ann@Example.com", consent_newsletter=True)
    with Session(engine) as s:
        consent.set_consent(
            session=s, customer_id=ann, purpose="marketing", granted=True, actor=DESK
        )
        s.commit()
        changed = consent.unsubscribe(session=s, email="ann@example.COM")
        s.commit()
        assert [c.id for c in changed] == [ann]
        c = s.get(Customer, ann)
        assert c is not None and not c.consent_newsletter and not c.consent_marketing
        rows = [r for r in consent.history(session=s, customer_id=ann) if r.purpose != "reminders"]
        assert sorted((r.purpose, r.granted, r.source) for r in rows) == [
            ("marketing", False, "unsubscribe"),
            ("marketing", True, "desk"),
            ("newsletter", False, "unsubscribe"),
            ("newsletter", True, "desk"),
        ]
        with pytest.raises(NotAllowed):
            consent.set_consent(
                session=s, customer_id=ann, purpose="marketing", granted=True, actor=THERAPIST
            )
        n = s.exec(select(ConsentChange)).all()
        assert len(n) == 5  # and reminders on (the default) when the customer was added


def test_bulk_subscribe(engine: Engine) -> None:
    ids = [add(engine, f"C{i}", email=f"c{i}@example.com") for i in range(5)]
    assert (
        consent.set_consent_bulk(
            engine=engine, customer_ids=ids, purpose="newsletter", granted=True, actor=DESK
        )
        == 5
    )
    assert (
        consent.set_consent_bulk(
            engine=engine, customer_ids=ids, purpose="newsletter", granted=True, actor=DESK
        )
        == 0
    )
    with Session(engine) as s:
        assert (
            len(
                s.exec(
                    select(ConsentChange).where(col(ConsentChange.purpose) == "newsletter")
                ).all()
            )
            == 5
        )


# --------------------------------------------------------------------------- newsletters


def test_newsletter_audience_and_exactly_one_copy_on_resume(
    any_engine: Engine, smtp_server: RecordingSmtp
) -> None:
    shop(any_engine, smtp_server)
    yes = [
        add(any_engine, f"Yes{i}", email=f"yes{i}@example.com", consent_newsletter=True)
        for i in range(7)
    ]
    add(any_engine, "NoConsent", email="no@example.com")
    add(any_engine, "NoEmail", phone="+31612345679", consent_newsletter=True)
    blocked = add(any_engine, "Blocked", email="blocked@example.com", consent_newsletter=True)
    with Session(any_engine) as s:
        svc.block_customer(session=s, customer_id=blocked, reason="x", actor=ADMIN)
        s.commit()
        assert newsletters.audience_count(session=s) == 7
        assert newsletters.audience_count(session=s, search="Yes3") == 1
    with pytest.raises(NotAllowed):
        newsletters.queue_newsletter(any_engine, subject="News", body="Hi", actor=DESK)
    first = newsletters.queue_newsletter(
        any_engine,
        subject="News for {first_name}",
        body="Hello *{first_name}*",
        actor=ADMIN,
        batch=3,
    )
    assert (first.recipients, first.queued) == (7, 7)
    outbox.send_queue(any_engine, limit=4)
    resumed = newsletters.queue_newsletter(
        any_engine,
        subject="News for {first_name}",
        body="Hello *{first_name}*",
        actor=ADMIN,
        newsletter_id=first.newsletter_id,
    )
    assert resumed.queued == 0
    outbox.send_queue(any_engine)
    got = sorted(r.to for r in smtp_server.received)
    assert got == sorted(f"yes{i}@example.com" for i in range(7))
    m = smtp_server.to("yes0@example.com")[0].message
    assert m["Subject"] == "News for Yes0"
    assert (
        m["List-Unsubscribe"].strip()
        == "<mailto:unsubscribe@lumen.example?subject=unsubscribe%20yes0%40example.com>"
    )
    with Session(any_engine) as s:
        p = newsletters.newsletter_progress(session=s, newsletter_id=first.newsletter_id)
        assert p.counts["sent"] == 7 and p.done == 7
        row = outbox.list_messages(session=s, status="sent", limit=1)[0]
        assert outbox.message_text(session=s, message=row).text.startswith("Hello *Yes")
        # Each row keeps the subject its recipient got (written with the hand-over).
        subjects = {m.to_address: m.subject for m in outbox.list_messages(session=s, limit=20)}
        assert subjects == {f"yes{i}@example.com": f"News for Yes{i}" for i in range(7)}
    assert len(yes) == 7


def test_unsubscribed_after_queueing_is_skipped(engine: Engine, smtp_server: RecordingSmtp) -> None:
    shop(engine, smtp_server)
    add(engine, "Ann", email="ann@example.com", consent_newsletter=True)
    newsletters.queue_newsletter(engine, subject="N", body="B", actor=ADMIN)
    with Session(engine) as s:
        consent.unsubscribe(session=s, email="ann@example.com")
        s.commit()
    report = outbox.send_queue(engine)
    assert report.skipped == 1 and smtp_server.received == []
    row = messages(engine)[0]
    assert row.status == "skipped" and row.attempts == 0  # not an attempt
    assert "consent" in (row.last_error or "")


def test_consent_history_of_imports_and_merges(engine: Engine, tmp_path: Path) -> None:
    from frontdesk.data import importing, merge

    ann = add(engine, "Ann", email="ann@example.com", consent_marketing=True)
    dup = add(engine, "Ann", phone="+31612345678", consent_newsletter=True)
    csv = tmp_path / "people.csv"
    csv.write_text(
        "First name,Email,Newsletter\nNew,new@example.com,yes\nAnn,ann@example.com,yes\n",
        encoding="utf-8",
    )
    importing.run_import(
        engine=engine,
        path=csv,
        options=importing.ImportOptions(on_duplicate="update"),
        actor=DESK,
    )
    with Session(engine) as s:
        new = s.exec(select(Customer).where(col(Customer.email) == "new@example.com")).one()
        history = consent.history(session=s, customer_id=new.id or 0)
        assert {(r.purpose, r.granted, r.source) for r in history} >= {
            ("newsletter", True, "import")
        }
        assert ("newsletter", True, "import") in {
            (r.purpose, r.granted, r.source) for r in consent.history(session=s, customer_id=ann)
        }
        merge.merge_customers(session=s, survivor_id=ann, other_ids=[dup], actor=DESK)
        s.commit()
        merged = {
            (r.purpose, r.granted, r.source) for r in consent.history(session=s, customer_id=ann)
        }
    # The most restrictive answer wins: the duplicate had no marketing consent.
    assert ("marketing", False, "merge") in merged


def test_messages_for_a_channel_not_set_up_wait_and_are_counted(
    engine: Engine, smtp_server: RecordingSmtp
) -> None:
    shop(engine, smtp_server)  # email set up, no SMS provider
    pat = add(engine, "Pat", phone="+31612345678", email="pat@example.com")
    with Session(engine) as s:
        for body in ("one", "two"):
            outbox.send_direct(session=s, customer_id=pat, actor=DESK, channel="sms", body=body)
        outbox.send_direct(session=s, customer_id=pat, actor=DESK, subject="Hi", body="three")
        s.commit()
    report = outbox.send_queue(engine)
    assert report.sent == 1 and len(smtp_server.received) == 1
    assert report.waiting == {"sms": 2}  # the email sent is not counted, nor any sent one
    assert Counter(m.status for m in messages(engine)) == {"queued": 2, "sent": 1}


def test_stopping_early_releases_claimed_messages(
    engine: Engine, smtp_server: RecordingSmtp
) -> None:
    shop(engine, smtp_server)
    for i in range(5):
        add(engine, f"S{i}", email=f"s{i}@example.com", consent_newsletter=True)
    newsletters.queue_newsletter(engine, subject="N", body="B", actor=ADMIN)
    seen: list[int] = []
    report = outbox.send_queue(
        engine,
        batch=5,
        progress=lambda r: seen.append(r.sent),
        should_stop=lambda: len(seen) >= 2,
    )
    assert report.sent == 2
    rows = messages(engine)
    assert sorted(r.status for r in rows) == ["queued"] * 3 + ["sent"] * 2
    assert all(r.attempts == 0 and r.claimed_by is None for r in rows if r.status == "queued")
    assert outbox.send_queue(engine).sent == 3


def test_access_request_and_erasure_cover_messages(
    engine: Engine, smtp_server: RecordingSmtp
) -> None:
    from frontdesk.data import privacy

    shop(engine, smtp_server)
    ann = add(engine, "Annabel", email="annabel@example.com", consent_newsletter=True)
    with Session(engine) as s:
        outbox.send_direct(
            session=s, customer_id=ann, actor=DESK, subject="Hi {first_name}", body="Dear Annabel"
        )
        s.commit()
        code = s.get(Customer, ann).code  # type: ignore[union-attr]
    outbox.send_queue(engine)
    with Session(engine) as s:
        data = privacy.export_customer_data(session=s, code=code, actor=ADMIN)
    assert [m["subject"] for m in data["messages"]] == ["Hi Annabel"]
    assert [(c["purpose"], c["granted"]) for c in data["consent_changes"]] == [
        ("reminders", True),
        ("newsletter", True),
    ]
    privacy.erase_customer(engine=engine, code=code, actor=ADMIN)
    assert messages(engine) == []

"""What the messaging screens read (frontdesk.data.message_views): outbox pages with filters
and keyset paging, one message's text, messages in the customer's timeline, the compose
dialog's refusals and the consent history."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col

from frontdesk.data import customers as svc
from frontdesk.data import message_views as views
from frontdesk.data import profile
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.messaging import consent, newsletters, outbox
from frontdesk.data.models import Customer, OutboxMessage
from tests.actors import ADMIN, DESK


def add(engine: Engine, first: str, **values: object) -> Customer:
    with Session(engine, expire_on_commit=False) as s:
        c = svc.create_customer(
            session=s, actor=ADMIN, data=svc.CustomerCreate(first_name=first, **values)
        )
        s.commit()
        return c


def test_outbox_pages_filter_by_status_and_code_newest_first(engine: Engine) -> None:
    ann = add(engine, "Ann", email="ann@example.com")
    bob = add(engine, "Bob", email="bob@example.com")
    assert ann.id and bob.id
    with Session(engine) as s:
        for n in range(5):
            outbox.send_direct(
                session=s,
                customer_id=ann.id if n < 3 else bob.id,
                actor=DESK,
                subject=f"S{n}",
                body="Hi {first_name}",
            )
        s.commit()
        s.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == 2)
            .values(status="failed", last_error="550 no")
        )  # type: ignore[call-overload]
        s.commit()
    with Session(engine) as s:
        page = views.load_outbox_page(session=s, limit=2)
        assert [r.subject for r in page.rows] == ["S4", "S3"]
        assert page.next_before == page.rows[-1].id
        assert page.counts["queued"] == 4 and page.counts["failed"] == 1
        rest = views.load_outbox_page(session=s, limit=2, before_id=page.next_before)
        more = views.load_outbox_page(session=s, limit=2, before_id=rest.next_before)
        assert [r.subject for r in rest.rows + more.rows] == ["S2", "S1", "S0"]
        assert more.next_before is None
        failed = views.load_outbox_page(session=s, status="failed").rows
        assert [(r.subject, r.error, r.retryable) for r in failed] == [("S1", "550 no", True)]
        mine = views.load_outbox_page(session=s, customer=ann.code.lower().replace("-", ""))
        assert {r.customer for r in mine.rows} == {f"{ann.code} Ann"} and len(mine.rows) == 3
        assert mine.customer == f"{ann.code} Ann"
        with pytest.raises(ValidationFailed) as refused:
            views.load_outbox_page(session=s, customer="C-999999")
        assert refused.value.field == "customer"
        view = views.load_message(session=s, message_id=1)
        assert view.subject == "S0" and view.text == "Hi Ann"


def test_messages_show_in_the_timeline_with_their_status(engine: Engine) -> None:
    ann = add(engine, "Ann", email="ann@example.com")
    assert ann.id
    with Session(engine) as s:
        m = outbox.send_direct(
            session=s, customer_id=ann.id, actor=DESK, subject="Voucher", body="Ready"
        )
        s.commit()
        s.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == m.id)
            .values(status="failed", last_error="timed out")
        )  # type: ignore[call-overload]
        s.commit()
    with Session(engine) as s:
        items = profile.load_timeline_tab(session=s, customer_id=ann.id)
        [message] = [i for i in items if i.kind == "message"]
        assert message.text == "Email message “Voucher” to ann@example.com — failed: timed out"


def test_newsletter_rows_show_the_newsletter_subject(engine: Engine) -> None:
    ann = add(engine, "Ann", email="ann@example.com", consent_newsletter=True)
    newsletters.queue_newsletter(engine, subject="Winter", body="Hi {first_name}", actor=ADMIN)
    with Session(engine) as s:
        [row] = views.load_outbox_page(session=s).rows
        assert row.subject == "Winter" and row.purpose == "newsletter"
        assert views.load_message(session=s, message_id=row.id).text == "Hi Ann"
        assert ann.id


def test_a_queued_newsletter_row_shows_its_subject_filled_for_the_recipient(
    engine: Engine,
) -> None:
    add(engine, "Ann", email="ann@example.com", consent_newsletter=True)
    add(engine, "[b]Bob[/b]", email="bob@example.com", consent_newsletter=True)
    newsletters.queue_newsletter(
        engine, subject="Offers for {first_name}", body="Hi {first_name}", actor=ADMIN
    )
    with Session(engine) as s:
        rows = views.load_outbox_page(session=s).rows
        assert sorted(r.subject for r in rows) == ["Offers for Ann", "Offers for [b]Bob[/b]"]
        for row in rows:
            assert views.load_message(session=s, message_id=row.id).subject == row.subject


def test_compose_info_says_why_a_channel_cannot_be_used(engine: Engine) -> None:
    ann = add(engine, "Ann", email="ann@example.com")
    assert ann.id
    with Session(engine) as s:
        info = views.load_compose_info(session=s, customer_id=ann.id)
        assert info.refusals["email"] is None
        assert info.refusals["sms"] == "no mobile phone"
        assert info.marketing_refusals["email"] == "no consent for marketing"
        assert info.ready == {"email": False, "sms": False, "whatsapp": False}
        svc.block_customer(session=s, customer_id=ann.id, reason="owes", actor=ADMIN)
        s.commit()
    with Session(engine) as s:
        info = views.load_compose_info(session=s, customer_id=ann.id)
        assert info.refusals["email"] == "the customer is blocked (receives nothing)"


def test_consent_info_lists_changes_with_who_and_where(engine: Engine) -> None:
    ann = add(engine, "Ann", email="ann@example.com")
    assert ann.id
    with Session(engine) as s:
        from frontdesk.data.models import Staff

        rita = Staff(name="Rita", role="reception", username="rita")
        s.add(rita)
        s.flush()
        consent.set_consent(
            session=s, customer_id=ann.id, purpose="newsletter", granted=True, actor=rita
        )
        s.commit()
    with Session(engine) as s:
        info = views.load_consent_info(session=s, customer_id=ann.id)
        assert info.granted["newsletter"] is True and info.granted["marketing"] is False
        line = info.history[0]  # newest first (creating the customer may have set others)
        assert (line.purpose, line.granted, line.source, line.by) == (
            "newsletter",
            True,
            "desk",
            "Rita",
        )

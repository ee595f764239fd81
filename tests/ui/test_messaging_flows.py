"""Pilot tests of messaging at the desk (issue 15): the outbox, writing to a customer from the
profile (preview, refusals, sent to a loopback SMTP server), consents, bulk unsubscribe,
templates in settings and a newsletter to the directory's list — keys pressed, asserted on the
database and the screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, func, select
from textual.widgets import DataTable, Label, Static

from frontdesk.data.messaging import newsletters, outbox
from frontdesk.data.models import (
    ConsentChange,
    Customer,
    MessageTemplate,
    Newsletter,
    OutboxMessage,
)
from frontdesk.screens.messaging import ComposeModal, NewsletterModal, TemplateModal
from frontdesk.screens.outbox import MessageModal, OutboxScreen
from frontdesk.screens.profile import ProfileScreen
from tests.actors import DESK
from tests.messaging_peers import RecordingSmtp, configure
from tests.messaging_peers import smtp_server as smtp_server  # a fixture
from tests.ui.conftest import SIZE, make_app, settle, wait_until
from tests.ui.test_directory_flows import keys

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _patient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("frontdesk.app.KEY_WATCHDOG", 5.0)


def customer_where(engine: Engine, *conditions: Any, offset: int = 0) -> Customer:
    with Session(engine) as s:
        found = s.exec(
            select(Customer)
            .where(
                col(Customer.deleted_at).is_(None),
                col(Customer.merged_into_id).is_(None),
                *conditions,
            )
            .order_by(col(Customer.id))
            .offset(offset)
        ).first()
        assert found is not None
        return found


def reachable(engine: Engine, offset: int = 0) -> Customer:
    """A customer who can be emailed (not blocked, has an email)."""
    return customer_where(
        engine,
        col(Customer.blocked).is_(False),
        col(Customer.email).is_not(None),
        offset=offset,
    )


def queue_some(engine: Engine) -> tuple[Customer, Customer, list[int]]:
    """Three messages to one customer (one failed) and one to another, at fixed times."""
    ann, bob = reachable(engine, 0), reachable(engine, 1)
    assert ann.id is not None and bob.id is not None
    ids = []
    with Session(engine) as s:
        for n, who in enumerate((ann.id, ann.id, ann.id, bob.id)):
            m = outbox.send_direct(
                session=s,
                customer_id=who,
                actor=DESK,
                subject=f"Note {n}",
                body=f"Dear {{first_name}}, message {n}.",
            )
            assert m.id is not None
            ids.append(m.id)
        s.commit()
        for n, message_id in enumerate(ids):
            values: dict[str, Any] = {"created_at": AT + timedelta(minutes=n)}
            if n < 2:
                values.update(status="sent", sent_at=AT + timedelta(minutes=n, seconds=5))
            if n == 2:
                values.update(
                    status="failed",
                    attempts=5,
                    next_attempt_at=None,
                    last_error="550 mailbox unavailable",
                )
            s.exec(
                update(OutboxMessage).where(col(OutboxMessage.id) == message_id).values(**values)
            )  # type: ignore[call-overload]
        s.commit()
    return ann, bob, ids


def outbox_rows(app: Any) -> list[list[str]]:
    table = app.screen.query_one("#ob-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def open_profile(pilot: Any, code: str) -> ProfileScreen:
    await keys(pilot, "slash", code, "enter", "enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ProfileScreen))
    screen = pilot.app.screen
    assert isinstance(screen, ProfileScreen)
    return screen


# --------------------------------------------------------------------------- outbox


async def test_outbox_lists_filters_reads_and_retries(demo_engine: Engine) -> None:
    ann, bob, ids = queue_some(demo_engine)
    app = make_app(demo_engine)  # reception
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "O")
        await wait_until(pilot, lambda: isinstance(app.screen, OutboxScreen))
        await wait_until(pilot, lambda: len(outbox_rows(app)) == 4)
        rows = outbox_rows(app)
        assert [r[1] for r in rows] == ["queued", "failed", "sent", "sent"]  # newest first
        assert "Note 3" in rows[0][5] and bob.code in rows[0][4]

        # the status filter: failed only; then r queues it again
        await keys(pilot, "shift+tab", "shift+tab", "enter", "f", "enter", "tab", "tab")
        await wait_until(pilot, lambda: len(outbox_rows(app)) == 1)
        assert outbox_rows(app)[0][1] == "failed"
        detail = str(app.screen.query_one("#ob-detail", Static).render())
        assert "550 mailbox unavailable" in detail
        await keys(pilot, "r")
        await wait_until(pilot, lambda: len(outbox_rows(app)) == 0)  # no longer failed
        with Session(demo_engine) as s:
            again = s.get(OutboxMessage, ids[2])
            assert again is not None and again.status == "queued" and again.attempts == 0

        # the customer filter (a code as typed), any status
        await keys(pilot, "shift+tab", "shift+tab", "enter", "home", "enter")
        await keys(pilot, "tab", ann.code.lower(), "enter")
        await wait_until(pilot, lambda: len(outbox_rows(app)) == 3)
        assert all(ann.code in r[4] for r in outbox_rows(app))

        # an unknown code is said under the filters
        await keys(pilot, "shift+tab", "ctrl+u", "C-999999", "enter")
        problem = app.screen.query_one("#ob-problem", Label)
        assert "no customer with code" in str(problem.render())

        # enter reads the message as sent (plain text)
        await keys(pilot, "shift+tab", "ctrl+u", "enter")
        await wait_until(pilot, lambda: len(outbox_rows(app)) == 4)
        await keys(pilot, "down", "down", "down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, MessageModal))
        body = str(app.screen.query_one("#msg-text", Static).render())
        assert f"Dear {ann.first_name}, message 0." in body
        await keys(pilot, "escape")
        assert isinstance(app.screen, OutboxScreen)


async def test_therapist_has_no_outbox(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff="nina.a")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "O")
        assert not isinstance(app.screen, OutboxScreen)
        assert "Outbox" not in [c.title for c in app.get_system_commands(app.screen)]


async def test_send_now_in_a_worker_marks_failures_with_the_reason(demo_engine: Engine) -> None:
    server = RecordingSmtp().start()
    with Session(demo_engine) as s:
        configure(s, smtp=server)
        s.commit()
    who = reachable(demo_engine)
    assert who.id is not None
    with Session(demo_engine) as s:
        outbox.send_direct(session=s, customer_id=who.id, actor=DESK, subject="A", body="B")
        s.commit()
    server.stop()  # the server refuses connections: failed with the reason, app works
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "O")
        await wait_until(pilot, lambda: len(outbox_rows(app)) == 1)
        await keys(pilot, "s")
        await wait_until(pilot, lambda: outbox_rows(app)[0][1] == "failed")
        progress = str(app.screen.query_one("#ob-progress", Static).render())
        assert "0 sent, 1 failed" in progress
        with Session(demo_engine) as s:
            [row] = s.exec(select(OutboxMessage)).all()
            assert row.status == "failed" and row.last_error


# --------------------------------------------------------------------------- compose


async def test_compose_from_profile_previews_sends_and_shows_in_timeline(
    demo_engine: Engine, smtp_server: RecordingSmtp
) -> None:
    with Session(demo_engine) as s:
        configure(s, smtp=smtp_server)
        s.commit()
    who = reachable(demo_engine)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_profile(pilot, who.code)
        await keys(pilot, "M")
        await wait_until(pilot, lambda: isinstance(app.screen, ComposeModal))
        await wait_until(pilot, lambda: app.screen.info is not None)  # type: ignore[attr-defined]
        to = str(app.screen.query_one("#cm-to-msg", Label).render())
        assert who.email and who.email in to
        await keys(pilot, "Your voucher", "enter", "Hello {first_name}, it is ready.")
        await keys(pilot, "ctrl+s")  # the first ctrl+s previews
        preview = str(app.screen.query_one("#cm-preview-text", Static).render())
        assert f"Hello {who.first_name}, it is ready." in preview
        assert isinstance(app.screen, ComposeModal)
        with Session(demo_engine) as s:
            assert s.exec(select(func.count()).select_from(OutboxMessage)).one() == 0
        await keys(pilot, "ctrl+s")  # the second sends
        await wait_until(pilot, lambda: isinstance(app.screen, ProfileScreen))
        await wait_until(pilot, lambda: smtp_server.count() == 1)
        [got] = smtp_server.received
        assert got.to == who.email
        assert got.message["Subject"] == "Your voucher"

        def sent() -> bool:
            with Session(demo_engine) as s:
                return s.exec(select(OutboxMessage)).one().status == "sent"

        await wait_until(pilot, sent)
        await keys(pilot, "6")
        table = app.screen.query_one("#t-table", DataTable)
        await wait_until(
            pilot,
            lambda: any(
                "Your voucher" in str(table.get_row_at(i)[2])
                and "sent" in str(table.get_row_at(i)[2])
                for i in range(table.row_count)
            ),
        )


async def test_compose_refuses_marketing_without_consent_next_to_the_fields(
    demo_engine: Engine,
) -> None:
    who = customer_where(
        demo_engine,
        col(Customer.blocked).is_(False),
        col(Customer.email).is_not(None),
        col(Customer.consent_marketing).is_(False),
    )
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_profile(pilot, who.code)
        await keys(pilot, "M")
        await wait_until(pilot, lambda: getattr(app.screen, "info", None) is not None)
        # to the purpose (Message -> Marketing)
        await keys(pilot, "shift+tab", "shift+tab", "enter", "Mark", "enter")
        label = app.screen.query_one("#cm-to-msg", Label)
        assert "Cannot send: no consent for marketing" in str(label.render())
        await keys(pilot, "tab", "tab", "Offer", "enter", "Ten percent off", "ctrl+s", "ctrl+s")
        assert isinstance(app.screen, ComposeModal)
        assert "no consent for marketing" in str(label.render())
        with Session(demo_engine) as s:
            assert s.exec(select(func.count()).select_from(OutboxMessage)).one() == 0


async def test_compose_to_a_blocked_customer_is_refused(demo_engine: Engine) -> None:
    who = customer_where(demo_engine, col(Customer.blocked).is_(True))
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_profile(pilot, who.code)
        await keys(pilot, "M")
        await wait_until(pilot, lambda: getattr(app.screen, "info", None) is not None)
        label = app.screen.query_one("#cm-to-msg", Label)
        assert "blocked" in str(label.render())
        await keys(pilot, "Hi", "enter", "Body", "ctrl+s")
        assert isinstance(app.screen, ComposeModal)
        with Session(demo_engine) as s:
            assert s.exec(select(func.count()).select_from(OutboxMessage)).one() == 0


# --------------------------------------------------------------------------- consent


async def test_consents_switched_from_the_profile_are_recorded_from_the_desk(
    demo_engine: Engine,
) -> None:
    who = customer_where(demo_engine, col(Customer.consent_newsletter).is_(False))
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_profile(pilot, who.code)
        await keys(pilot, "C")
        await wait_until(pilot, lambda: getattr(app.screen, "info", None) is not None)
        await keys(pilot, "down", "down", "down", "enter")  # newsletter is the last line
        await wait_until(pilot, lambda: app.screen.info.granted["newsletter"])  # type: ignore[attr-defined]
        with Session(demo_engine) as s:
            customer = s.get(Customer, who.id)
            assert customer is not None and customer.consent_newsletter
            [change] = s.exec(
                select(ConsentChange).where(col(ConsentChange.customer_id) == who.id)
            ).all()
            assert change.purpose == "newsletter" and change.granted and change.source == "desk"
        history = app.screen.query_one("#cs-history", DataTable)
        assert "Newsletter: on" in str(history.get_row_at(0)[1])
        await keys(pilot, "escape")
        assert isinstance(app.screen, ProfileScreen)


async def test_bulk_unsubscribe_from_the_directory(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#customers", DataTable)
        ids = [int(str(table.coordinate_to_cell_key((i, 0))[0].value)) for i in range(3)]  # type: ignore[arg-type]
        with Session(demo_engine) as s:
            for cid in ids:
                s.exec(
                    update(Customer).where(col(Customer.id) == cid).values(consent_newsletter=True)
                )  # type: ignore[call-overload]
            s.commit()
        # select three, bulk actions, "Unsubscribe from the newsletter" (just above delete):
        # asked first; n keeps them as they are.
        await keys(pilot, "space", "space", "space", "a", "end", "up", "enter")
        assert "Unsubscribe 3 customers from the newsletter?" in str(
            app.screen.query_one("#question", Label).render()
        )
        await keys(pilot, "n")
        with Session(demo_engine) as s:
            found = s.exec(select(Customer).where(col(Customer.id).in_(ids))).all()
            assert all(c.consent_newsletter for c in found)
        # Still in the bulk actions, on the same line: enter, and y this time.
        await keys(pilot, "enter", "y")

        def unsubscribed() -> bool:
            with Session(demo_engine) as s:
                found = s.exec(select(Customer).where(col(Customer.id).in_(ids))).all()
                return not any(c.consent_newsletter for c in found)

        await wait_until(pilot, unsubscribed)
        with Session(demo_engine) as s:
            changes = s.exec(
                select(ConsentChange).where(col(ConsentChange.customer_id).in_(ids))
            ).all()
            assert len(changes) == 3
            assert all(not c.granted and c.source == "desk" for c in changes)


# --------------------------------------------------------------------------- templates


async def test_template_with_an_unknown_placeholder_is_refused_under_the_field(
    demo_engine: Engine,
) -> None:
    app = make_app(demo_engine, staff="admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "S")
        await keys(pilot, "right", "right", "right", "right", "right", "a")
        await wait_until(pilot, lambda: isinstance(app.screen, TemplateModal))
        await keys(pilot, "Welcome", "enter", "tab", "Hi {nickname}", "enter", "Dear {first_name}")
        await keys(pilot, "ctrl+s")
        assert isinstance(app.screen, TemplateModal)
        message = str(app.screen.query_one("#tp-subject-msg", Label).render())
        assert "{nickname} cannot be filled" in message
        with Session(demo_engine) as s:
            assert s.exec(select(func.count()).select_from(MessageTemplate)).one() == 0
        # fixed: saved, listed in the tab
        await keys(pilot, "ctrl+u", "Hi {first_name}", "ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, TemplateModal))
        with Session(demo_engine) as s:
            [saved] = s.exec(select(MessageTemplate)).all()
            assert saved.name == "Welcome" and saved.subject == "Hi {first_name}"
        table = app.screen.query_one("#s-templates-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == 1)
        # delete asks first
        await keys(pilot, "delete", "y")
        await wait_until(pilot, lambda: table.row_count == 0)


# --------------------------------------------------------------------------- newsletter


async def test_newsletter_counts_the_directory_audience_and_queues_it(
    demo_engine: Engine,
) -> None:
    with Session(demo_engine) as s:
        expected = newsletters.audience_count(session=s, search="mar")
    assert expected > 0
    app = make_app(demo_engine, staff="admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "slash", "mar", "enter")
        await keys(pilot, "N")
        await wait_until(pilot, lambda: isinstance(app.screen, NewsletterModal))
        await wait_until(pilot, lambda: app.screen.count is not None)  # type: ignore[attr-defined]
        audience = str(app.screen.query_one("#nl-audience", Static).render())
        assert f"Audience: {expected:,} customers" in audience
        assert "search “mar”" in audience
        await keys(pilot, "Winter news", "enter", "Hello {first_name}!", "ctrl+s")
        await keys(pilot, "y")
        await wait_until(pilot, lambda: not isinstance(app.screen, NewsletterModal))
        with Session(demo_engine) as s:
            [letter] = s.exec(select(Newsletter)).all()
            assert letter.recipients == expected and letter.status == "queued"
            queued = s.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(col(OutboxMessage.newsletter_id) == letter.id)
            ).one()
            assert queued == expected  # email is not set up here: they wait in the outbox


async def test_reception_may_not_send_a_newsletter(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "N")
        assert not isinstance(app.screen, NewsletterModal)
        assert "Newsletter" not in [c.title for c in app.get_system_commands(app.screen)]

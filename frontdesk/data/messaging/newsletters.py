"""Newsletters: compose once, choose the audience with the directory's search and filters,
count it, queue one message per recipient in batches; the outbox sends them.

The audience is the directory's own matching (``directory.matching_ids`` with the same
search text and ``DirectoryFilter``) narrowed to customers with newsletter consent, not
blocked, with an email address (deleted, merged and erased customers are never live).

Each recipient's message has the key ``newsletter:<newsletter id>:<customer id>``, so
queueing the same newsletter again (after an interruption: :func:`queue_newsletter` with
``newsletter_id``) adds only the recipients still missing, and each gets exactly one copy.
Newsletter rows keep no text of their own: the newsletter's subject and body are filled in
for each recipient when sent (see ``outbox.message_text``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Engine, Integer, String, cast, func, literal
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from frontdesk.data import customers as svc
from frontdesk.data.errors import NotFound, ValidationFailed
from frontdesk.data.messaging import templates as tpl
from frontdesk.data.models import (
    Channel,
    Customer,
    MessageStatus,
    Newsletter,
    NewsletterStatus,
    OutboxMessage,
    Purpose,
    Staff,
    utcnow,
)
from frontdesk.data.retry import write_transaction
from frontdesk.data.roles import require
from frontdesk.data.validation import clean_line, clean_multiline

BATCH = 5000
CAP = 10_000_000


def audience_filter(filters: svc.DirectoryFilter | None = None) -> svc.DirectoryFilter:
    """``filters`` narrowed to who may receive a newsletter."""
    base = filters or svc.DirectoryFilter()
    extra = (
        col(Customer.consent_newsletter).is_(True),
        col(Customer.blocked).is_(False),
        col(Customer.email).is_not(None),
        col(Customer.erased_at).is_(None),
    )
    return replace(base, extra=tuple(base.extra) + extra)


def audience_ids(
    *, session: Session, search: str = "", filters: svc.DirectoryFilter | None = None
) -> list[int]:
    from frontdesk.data.directory import matching_ids

    return matching_ids(session=session, text=search, filters=audience_filter(filters), cap=CAP)


def audience_count(
    *, session: Session, search: str = "", filters: svc.DirectoryFilter | None = None
) -> int:
    """How many customers the newsletter would go to (shown before sending)."""
    return len(audience_ids(session=session, search=search, filters=filters))


def check_newsletter(subject: str, body: str) -> tuple[str, str]:
    clean_subject = clean_line("subject", subject, max_length=300)
    clean_body = clean_multiline("body", body)
    if not clean_subject:
        raise ValidationFailed("subject", "a newsletter needs a subject")
    if not clean_body:
        raise ValidationFailed("body", "must not be empty")
    tpl.check_template(clean_subject, field="subject")
    tpl.check_template(clean_body, field="body")
    return clean_subject, clean_body


@dataclass(frozen=True)
class QueuedNewsletter:
    newsletter_id: int
    recipients: int  # the audience
    queued: int  # messages added by this call (fewer on a resume)

    def as_dict(self) -> dict[str, Any]:
        return {
            "newsletter_id": self.newsletter_id,
            "recipients": self.recipients,
            "queued": self.queued,
        }


def queue_newsletter(
    engine: Engine,
    *,
    subject: str,
    body: str,
    actor: Staff | None,
    search: str = "",
    filters: svc.DirectoryFilter | None = None,
    audience: str = "",
    newsletter_id: int | None = None,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> QueuedNewsletter:
    """Queue a newsletter to its audience ("newsletter.send"), a transaction per batch.

    With ``newsletter_id`` an interrupted queueing resumes: the audience is computed again and
    only recipients without their message are added. ``progress(done, total)`` is called
    after each batch."""
    require(actor, "newsletter.send")
    clean_subject, clean_body = check_newsletter(subject, body)
    description = clean_line("audience", audience, max_length=500) or _describe(search, filters)

    def start(session: Session) -> tuple[int, list[int]]:
        ids = audience_ids(session=session, search=search, filters=filters)
        if newsletter_id is None:
            letter = Newsletter(
                subject=clean_subject,
                body=clean_body,
                audience=description,
                recipients=len(ids),
                status=NewsletterStatus.QUEUING.value,
                created_at=utcnow(),
                created_by_id=actor.id if actor else None,
            )
        else:
            found = session.get(Newsletter, newsletter_id)
            if found is None:
                raise NotFound("newsletter", newsletter_id)
            letter = found
        session.add(letter)
        session.flush()
        assert letter.id is not None
        return letter.id, ids

    letter_id, ids = write_transaction(engine, start)

    def count(session: Session) -> int:
        return int(
            session.exec(
                select(func.count()).where(col(OutboxMessage.newsletter_id) == letter_id)
            ).one()
        )

    with Session(engine) as session:
        before = count(session)
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    for begin in range(0, len(ids), batch):
        chunk = ids[begin : begin + batch]

        def add(session: Session, chunk: list[int] = chunk) -> None:
            # One INSERT ... SELECT per batch: the rows never pass through Python.
            now = utcnow()
            stamp = table.c.created_at.type
            source = sa_select(
                literal(f"newsletter:{letter_id}:") + cast(col(Customer.id), String),
                col(Customer.id),
                literal(Channel.EMAIL.value),
                literal(Purpose.NEWSLETTER.value),
                col(Customer.email),
                literal(MessageStatus.QUEUED.value),
                literal(0),
                literal(now, type_=stamp),
                literal(letter_id),
                literal(now, type_=stamp),
                literal(actor.id if actor else None, type_=Integer),
            ).where(col(Customer.id).in_(chunk), col(Customer.email).is_not(None))
            dialect = session.get_bind().dialect.name
            maker = pg_insert if dialect == "postgresql" else sqlite_insert
            stmt = (
                maker(table)
                .from_select(
                    [
                        "idempotency_key",
                        "customer_id",
                        "channel",
                        "purpose",
                        "to_address",
                        "status",
                        "attempts",
                        "next_attempt_at",
                        "newsletter_id",
                        "created_at",
                        "created_by_id",
                    ],
                    source,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
            session.execute(stmt)

        write_transaction(engine, add)
        if progress is not None:
            progress(min(begin + batch, len(ids)), len(ids))
    with Session(engine) as session:
        queued = count(session) - before

    def finish(session: Session) -> None:
        letter = session.get(Newsletter, letter_id)
        assert letter is not None
        letter.status = NewsletterStatus.QUEUED.value
        letter.recipients = len(ids)
        session.add(letter)

    write_transaction(engine, finish)
    return QueuedNewsletter(letter_id, len(ids), queued)


def _describe(search: str, filters: svc.DirectoryFilter | None) -> str:
    parts = []
    if search.strip():
        parts.append(f"search {search.strip()!r}")
    if filters is not None and not filters.is_empty:
        parts.append("directory filters")
    return ", ".join(parts) or "everyone with newsletter consent"


@dataclass(frozen=True)
class NewsletterProgress:
    newsletter: Newsletter
    counts: dict[str, int]  # outbox status -> messages

    @property
    def done(self) -> int:
        return (
            self.counts.get("sent", 0)
            + self.counts.get("failed", 0)
            + self.counts.get("skipped", 0)
        )


def list_newsletters(*, session: Session, limit: int = 100) -> list[Newsletter]:
    return list(session.exec(select(Newsletter).order_by(col(Newsletter.id).desc()).limit(limit)))


def newsletter_progress(*, session: Session, newsletter_id: int) -> NewsletterProgress:
    from sqlalchemy import func

    letter = session.get(Newsletter, newsletter_id)
    if letter is None:
        raise NotFound("newsletter", newsletter_id)
    rows = session.exec(
        select(OutboxMessage.status, func.count())
        .where(col(OutboxMessage.newsletter_id) == newsletter_id)
        .group_by(col(OutboxMessage.status))
    ).all()
    counts = {s.value: 0 for s in MessageStatus}
    counts.update({str(s): int(n) for s, n in rows})
    return NewsletterProgress(letter, counts)

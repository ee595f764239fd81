"""Messaging commands: notify, email, newsletter send, outbox (and retry), unsubscribe,
templates.

Registered on ``frontdesk`` by frontdesk.cli; the work is done by frontdesk.data.messaging.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from sqlmodel import Session, col, select

from frontdesk.cli_base import (
    acting,
    db_option,
    dump_json,
    error_line,
    fail,
    opened,
    say,
)
from frontdesk.data.errors import FrontdeskError
from frontdesk.text import user_text


def _message_json(m: Any) -> dict[str, Any]:
    return {
        "id": m.id,
        "customer_id": m.customer_id,
        "channel": m.channel,
        "purpose": m.purpose,
        "to": m.to_address,
        "subject": m.subject,
        "status": m.status,
        "attempts": m.attempts,
        "next_attempt_at": m.next_attempt_at.isoformat() if m.next_attempt_at else None,
        "last_error": m.last_error,
        "created_at": m.created_at.isoformat() if m.created_at else None,
        "sent_at": m.sent_at.isoformat() if m.sent_at else None,
        "message_id": m.message_id,
        "provider_id": m.provider_id,
        "newsletter_id": m.newsletter_id,
        "booking_id": m.booking_id,
    }


@click.command("notify")
@db_option
@click.option("--dry-run", is_flag=True, help="Show what is due; queue and send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def notify_cmd(ctx: click.Context, db: str | None, dry_run: bool, as_json: bool) -> None:
    """Queue what is due (reminders, birthdays, anniversaries), send the outbox once, exit.

    For cron or a systemd timer (every five minutes). Run twice at once, or killed and run
    again, every due message is sent once."""
    from frontdesk.data.messaging import reminders

    with opened(ctx, db) as engine:
        try:
            report = reminders.notify(engine, dry_run=dry_run)
        except FrontdeskError as exc:
            fail(error_line(exc))
    if as_json:
        say(dump_json(report.as_dict()))
        return
    q = report.queue
    for p in q.queued:
        verb = "due" if dry_run else "queued"
        say(f"{verb}: {p.purpose} to {p.customer_code} by {p.channel} ({p.to})")
    if dry_run:
        say(f"{len(q.queued)} to queue, {report.due_to_send} to send (dry run: nothing done)")
        return
    s = report.send
    assert s is not None
    say(
        f"{len(q.queued)} queued, {s.sent} sent, {s.failed} failed, {s.skipped} skipped"
        + (f", {s.interrupted} interrupted (not resent)" if s.interrupted else "")
    )
    for channel, n in sorted(s.waiting.items()):
        say(f"{n} {channel} message(s) waiting: {channel} is not set up", console=None)
    for line in s.errors[:20]:
        say(f"failed: {line}")
    if s.failed and not s.sent:
        sys.exit(2)


@click.command("email")
@db_option
@click.argument("code")
@click.option("--subject", default=None, help="Subject (placeholders allowed).")
@click.option("--body", default=None, help="Message text (Markdown; placeholders allowed).")
@click.option("--template", "template", default=None, help="Use this saved template.")
@click.option(
    "--channel",
    type=click.Choice(["email", "sms", "whatsapp"]),
    default="email",
    show_default=True,
)
@click.option("--marketing", is_flag=True, help="A promotion: needs marketing consent.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def email_cmd(
    ctx: click.Context,
    db: str | None,
    code: str,
    subject: str | None,
    body: str | None,
    template: str | None,
    channel: str,
    marketing: bool,
    as_json: bool,
) -> None:
    """Queue a message to the customer CODE (sent by the next `frontdesk notify`).

    A one-off message from the desk is transactional: it needs no marketing consent, but a
    blocked customer receives nothing."""
    from frontdesk.data import customers as svc
    from frontdesk.data.messaging import outbox

    if (body is None) == (template is None):
        fail("give either --body TEXT or --template NAME")
    with opened(ctx, db) as engine, Session(engine, expire_on_commit=False) as session:
        actor = acting(ctx, session)
        try:
            customer = svc.get_by_code(session=session, code=code)
            assert customer.id is not None
            message = outbox.send_direct(
                session=session,
                customer_id=customer.id,
                actor=actor,
                channel=channel,
                subject=subject,
                body=body,
                template_name=template,
                purpose="marketing" if marketing else "transactional",
            )
            session.commit()
        except FrontdeskError as exc:
            fail(error_line(exc))
        if as_json:
            say(dump_json(_message_json(message)))
        else:
            say(f"Queued message {message.id} to {customer.code} ({message.to_address}).")


@click.group("newsletter")
def newsletter() -> None:
    """Newsletters to everyone with newsletter consent (narrowed by search and tag)."""


@newsletter.command("send")
@db_option
@click.option("--subject", required=True)
@click.option(
    "--body-file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The text, in Markdown (placeholders allowed).",
)
@click.option("--search", default="", help="The directory's search text.")
@click.option("--tag", default=None, help="Only customers with this tag.")
@click.option("--dry-run", is_flag=True, help="Count the recipients; queue nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def newsletter_send(
    ctx: click.Context,
    db: str | None,
    subject: str,
    body_file: Path,
    search: str,
    tag: str | None,
    dry_run: bool,
    yes: bool,
    as_json: bool,
) -> None:
    """Queue a newsletter to its audience (customers with newsletter consent, not blocked,
    with an email); `frontdesk notify` sends it."""
    from frontdesk.data import customers as svc
    from frontdesk.data.messaging import newsletters
    from frontdesk.data.models import Tag
    from frontdesk.data.roles import require
    from frontdesk.data.validation import fold

    body = body_file.read_text(encoding="utf-8")
    with opened(ctx, db) as engine:
        with Session(engine) as session:
            actor = acting(ctx, session)
            session.commit()
            filters = svc.DirectoryFilter()
            if tag:
                found = session.exec(select(Tag).where(col(Tag.key) == fold(tag))).first()
                if found is None:
                    fail(f"no tag called {tag!r}")
                filters = svc.DirectoryFilter(tag_id=found.id)
            try:
                require(actor, "newsletter.send")
                newsletters.check_newsletter(subject, body)
                count = newsletters.audience_count(session=session, search=search, filters=filters)
            except FrontdeskError as exc:
                fail(error_line(exc))
        if dry_run:
            if as_json:
                say(dump_json({"recipients": count, "dry_run": True}))
            else:
                say(f"{count:,} recipient(s) (dry run: nothing queued)")
            return
        if (
            not yes
            and not as_json
            and not click.confirm(f"Queue the newsletter to {count:,} recipient(s)?", err=True)
        ):
            fail("nothing queued")
        try:
            result = newsletters.queue_newsletter(
                engine,
                subject=subject,
                body=body,
                actor=actor,
                search=search,
                filters=filters,
            )
        except FrontdeskError as exc:
            fail(error_line(exc))
    if as_json:
        say(dump_json(result.as_dict()))
    else:
        say(
            f"Newsletter {result.newsletter_id} queued to {result.queued:,} recipient(s); "
            "`frontdesk notify` sends it."
        )


@click.group("outbox", invoke_without_command=True)
@db_option
@click.option(
    "--status",
    type=click.Choice(["queued", "sending", "sent", "failed", "skipped"]),
    default=None,
)
@click.option("--customer", "code", default=None, help="Only this customer's messages.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def outbox_cmd(
    ctx: click.Context,
    db: str | None,
    status: str | None,
    code: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List messages (newest first); `frontdesk outbox retry ID` sends a failed one again."""
    if ctx.invoked_subcommand is not None:
        return
    from frontdesk.data import customers as svc
    from frontdesk.data.messaging import outbox
    from frontdesk.data.roles import require

    with opened(ctx, db) as engine, Session(engine) as session:
        actor = acting(ctx, session)
        try:
            require(actor, "outbox.read")
            customer_id = svc.get_by_code(session=session, code=code).id if code else None
            rows = outbox.list_messages(
                session=session, status=status, customer_id=customer_id, limit=limit
            )
        except FrontdeskError as exc:
            fail(error_line(exc))
        if as_json:
            say(dump_json([_message_json(m) for m in rows]))
            return
        if not rows:
            say("No messages" + (f" {status}." if status else "."))
            return
        table = Table(header_style="bold")
        for column in ("ID", "Status", "Purpose", "Channel", "To", "Subject", "Tries", "Reason"):
            table.add_column(column)
        for m in rows:
            table.add_row(
                str(m.id),
                m.status,
                m.purpose,
                m.channel,
                user_text(m.to_address),
                user_text(m.subject or ""),
                str(m.attempts),
                user_text(m.last_error or ""),
            )
        from frontdesk.cli_base import out

        out.print(table)


@outbox_cmd.command("retry")
@db_option
@click.argument("message_id", type=int)
@click.pass_context
def outbox_retry(ctx: click.Context, db: str | None, message_id: int) -> None:
    """Queue the failed (or skipped) message ID again."""
    from frontdesk.data.messaging import outbox

    db = db or (ctx.parent.params.get("db") if ctx.parent else None)
    with opened(ctx, db) as engine, Session(engine) as session:
        actor = acting(ctx, session)
        try:
            outbox.retry(session=session, message_id=message_id, actor=actor)
            session.commit()
        except FrontdeskError as exc:
            fail(error_line(exc))
    say(f"Message {message_id} queued again; `frontdesk notify` sends it.")


@click.command("unsubscribe")
@db_option
@click.argument("email")
@click.pass_context
def unsubscribe_cmd(ctx: click.Context, db: str | None, email: str) -> None:
    """Process an unsubscribe request: EMAIL gets no more newsletters or marketing."""
    from frontdesk.data.messaging import consent

    with opened(ctx, db) as engine, Session(engine) as session:
        try:
            changed = [
                f"{c.code} {c.label}" for c in consent.unsubscribe(session=session, email=email)
            ]
            session.commit()
        except FrontdeskError as exc:
            fail(error_line(exc))
    if not changed:
        say(f"Nobody subscribed with {email}: nothing to change.")
    for who in changed:
        say(f"Unsubscribed {who} from newsletters and marketing.")


@click.group("templates")
def templates_group() -> None:
    """Message templates (subject and body with placeholders such as {first_name})."""


@templates_group.command("list")
@db_option
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def templates_list(ctx: click.Context, db: str | None, as_json: bool) -> None:
    """The saved templates."""
    from frontdesk.data.messaging import templates

    with opened(ctx, db) as engine, Session(engine) as session:
        acting(ctx, session)  # an unknown name reads nothing either
        rows = templates.list_templates(session=session)
        if as_json:
            say(
                dump_json(
                    [
                        {"name": t.name, "channel": t.channel, "subject": t.subject, "body": t.body}
                        for t in rows
                    ]
                )
            )
            return
        if not rows:
            say("No templates.")
        for t in rows:
            say(f"{t.name} ({t.channel}): {t.subject or ''}")


@templates_group.command("set")
@db_option
@click.argument("name")
@click.option("--subject", default=None, help="Needed for email templates.")
@click.option(
    "--body-file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--channel", type=click.Choice(["email", "sms", "whatsapp"]), default="email", show_default=True
)
@click.pass_context
def templates_set(
    ctx: click.Context,
    db: str | None,
    name: str,
    subject: str | None,
    body_file: Path,
    channel: str,
) -> None:
    """Add or replace the template NAME (admins). An unknown placeholder is refused."""
    from frontdesk.data.errors import NotFound
    from frontdesk.data.messaging import templates

    body = body_file.read_text(encoding="utf-8")
    with opened(ctx, db) as engine, Session(engine) as session:
        actor = acting(ctx, session)
        try:
            try:
                existing: int | None = templates.get_template(session=session, name=name).id
            except NotFound:
                existing = None
            templates.save_template(
                session=session,
                name=name,
                subject=subject,
                body=body,
                channel=channel,
                actor=actor,
                template_id=existing,
            )
            session.commit()
        except FrontdeskError as exc:
            fail(error_line(exc))
    say(f"Template {name} saved.")


@templates_group.command("delete")
@db_option
@click.argument("name")
@click.pass_context
def templates_delete(ctx: click.Context, db: str | None, name: str) -> None:
    """Delete the template NAME (admins)."""
    from frontdesk.data.messaging import templates

    with opened(ctx, db) as engine, Session(engine) as session:
        actor = acting(ctx, session)
        try:
            found = templates.get_template(session=session, name=name)
            templates.delete_template(session=session, template_id=found.id or 0, actor=actor)
            session.commit()
        except FrontdeskError as exc:
            fail(error_line(exc))
    say(f"Template {name} deleted.")


COMMANDS: list[click.Command] = [
    templates_group,
    notify_cmd,
    email_cmd,
    newsletter,
    outbox_cmd,
    unsubscribe_cmd,
]

"""Message templates: a subject and a body with placeholders, checked when saved.

Placeholders are ``{name}`` with a name from :data:`PLACEHOLDERS`; ``{{`` and ``}}`` are
literal braces. Anything else (an unknown name, ``{name.attr}``, ``{name:fmt}``, a lone brace)
is refused by :func:`check_template` when the template is saved, not discovered at sending.

Bodies are Markdown: the plain-text part is the body as written, the HTML part is the same
Markdown rendered safely (raw HTML in the body is shown as text, values filled into
placeholders are escaped so a customer's name cannot add markup or links).
"""

from __future__ import annotations

import html as html_lib
import re
import string
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from sqlalchemy import bindparam, func
from sqlmodel import Session, col, select

from frontdesk.data.errors import FrontdeskError, NotFound, ValidationFailed
from frontdesk.data.messaging.consent import RecipientRow
from frontdesk.data.models import (
    Booking,
    BookingStatus,
    Branch,
    Channel,
    Customer,
    LoyaltyEnrolment,
    LoyaltyProgram,
    MessageTemplate,
    Service,
    Staff,
    utcnow,
)
from frontdesk.data.roles import require
from frontdesk.data.validation import clean_line, clean_multiline

PLACEHOLDERS: dict[str, str] = {
    "first_name": "the customer's first name",
    "display_name": "the display name (or first and last name)",
    "next_booking_date": "the date of the next booking",
    "next_booking_time": "the time of the next booking",
    "service": "the service of the next booking",
    "branch": "the branch of the next booking (or the home branch)",
    "points_balance": "the reward points balance",
    "business_name": "the business name",
}


class TemplateError(ValidationFailed):
    pass


def check_template(text: str | None, *, field: str = "body") -> None:
    """Refuse a template whose placeholders cannot all be filled."""
    if not text:
        return
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(
            field, f"has an unmatched brace ({exc}); write {{{{ or }}}} for a brace itself"
        ) from None
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            raise TemplateError(
                field,
                f"{shown} cannot be filled (known: "
                + ", ".join("{" + k + "}" for k in PLACEHOLDERS)
                + ")",
            )


def placeholders_in(text: str | None) -> set[str]:
    """The placeholder names a (checked) template uses."""
    if not text:
        return set()
    return {name for _l, name, _s, _c in string.Formatter().parse(text) if name}


def fill(text: str | None, values: Mapping[str, str]) -> str:
    """``text`` with its placeholders filled (the template was checked when saved)."""
    if not text:
        return ""
    check_template(text)
    return string.Formatter().vformat(text, (), dict(values))


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~&])")


def _md_escape(value: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", value)


_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def markdown_html(source: str) -> str:
    """Markdown to HTML; raw HTML is escaped, unsafe link schemes are refused."""
    return _md.render(source)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _page(title: str, inner: str) -> str:
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>'
        + title
        + '</title></head>\n<body style="font-family: sans-serif; line-height: 1.5">\n'
        + inner
        + "</body></html>\n"
    )


def _render_each(subject: str | None, body: str, values: Mapping[str, str]) -> Rendered:
    """The Markdown rendered for one recipient, with the values escaped into the source."""
    escaped = {k: _md_escape(v) for k, v in values.items()}
    inner = markdown_html(fill(body, escaped))
    return Rendered(
        subject=fill(subject, values),
        text=fill(body, values),
        html=_page(html_lib.escape(fill(subject, values)), inner),
    )


# One part of a compiled template: literal text, or the name of a placeholder.
_Part = tuple[str, str | None]


def _parts(text: str | None) -> list[_Part]:
    if not text:
        return []
    check_template(text)
    return [(literal, name) for literal, name, _s, _c in string.Formatter().parse(text)]


def _join(parts: list[_Part], values: Mapping[str, str]) -> str:
    return "".join(literal + values[name] if name else literal for literal, name in parts)


def _holds(token: Token, mark: str) -> bool:
    """``mark`` is somewhere in ``token`` other than its plain text."""
    attrs = " ".join(str(v) for v in (token.attrs or {}).values())
    return (
        mark in token.content
        or mark in token.info
        or mark in attrs
        or any(_holds(child, mark) for child in token.children or [])
    )


class Compiled:
    """A template prepared once for many recipients (a newsletter, the reminders of a run).

    The Markdown is rendered once with a marker (letters and digits only: plain text to
    Markdown) in place of each placeholder; a recipient's message is that HTML with the
    markers replaced by their values, HTML-escaped — the values are text, never markup, as in
    :func:`_render_each`. When a placeholder sits where a value would not be plain text (a
    link's address, a code span, an image's description, a code block), each recipient's
    Markdown is rendered on its own instead."""

    def __init__(self, subject: str | None, body: str) -> None:
        self.subject = subject
        self.body = body
        self._subject = _parts(subject)
        self._text = _parts(body)
        self._html = self._compile_html(body)

    @staticmethod
    def _compile_html(body: str) -> list[_Part] | None:
        names = sorted({name for _l, name in _parts(body) if name})
        nonce = uuid.uuid4().hex[:12]
        while nonce in body:  # pragma: no cover - a 48-bit accident
            nonce = uuid.uuid4().hex[:12]
        marks = {name: f"fdph{nonce}x{i}z" for i, name in enumerate(names)}
        source = fill(body, marks)
        tokens = _md.parse(source)
        mark = f"fdph{nonce}x"
        in_text = 0
        for token in tokens:
            if token.type != "inline":
                if _holds(token, mark):
                    return None
                continue
            for child in token.children or []:
                if child.type == "text":
                    in_text += child.content.count(mark)
                elif _holds(child, mark):
                    return None
        html = _md.renderer.render(tokens, _md.options, {})
        pieces = re.split(mark + "([0-9]+)z", html)
        if (len(pieces) - 1) // 2 != in_text or in_text != source.count(mark):
            return None
        out: list[_Part] = []
        for i in range(0, len(pieces), 2):
            name = names[int(pieces[i + 1])] if i + 1 < len(pieces) else None
            out.append((pieces[i], name))
        return out

    def render(self, values: Mapping[str, str]) -> Rendered:
        subject = _join(self._subject, values)
        text = _join(self._text, values)
        if self._html is None:
            return _render_each(self.subject, self.body, values)
        inner = "".join(
            literal + escapeHtml(values[name]) if name else literal for literal, name in self._html
        )
        return Rendered(subject=subject, text=text, html=_page(html_lib.escape(subject), inner))


@lru_cache(maxsize=64)
def compile_template(subject: str | None, body: str) -> Compiled:
    """The :class:`Compiled` form of a subject and body (kept for the next message)."""
    return Compiled(subject, body)


def render(
    *, subject: str | None, body: str, values: Mapping[str, str], business_name: str = ""
) -> Rendered:
    """Subject, plain text and HTML of a message for one customer."""
    return compile_template(subject, body).render(values)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_BOOKING_KEYS = frozenset({"next_booking_date", "next_booking_time", "service", "branch"})


def values_for(
    *,
    session: Session,
    customer: Customer,
    business_name: str,
    now: datetime | None = None,
    needed: Iterable[str] | None = None,
) -> dict[str, str]:
    """The placeholder values for ``customer`` (every placeholder has a value, maybe "").

    ``needed``: only these are looked up (the others are ""), e.g. a newsletter's."""
    values = {k: "" for k in PLACEHOLDERS}
    values["first_name"] = customer.first_name or ""
    values["display_name"] = customer.label or ""
    values["business_name"] = business_name
    wanted = set(PLACEHOLDERS) if needed is None else set(needed)
    if wanted & _BOOKING_KEYS:
        _booking_values(session, customer, values, now)
    if "points_balance" in wanted:
        _points(session, customer, values)
    return values


def _many_statements() -> tuple[Any, Any, Any, Any]:
    """The statements of :func:`values_for_many`, built once (a newsletter runs them a
    thousand times; building them cost more than running them)."""
    ids: Any = bindparam("ids", expanding=True)
    upcoming = (
        select(Booking.customer_id, func.min(Booking.start_at).label("first"))
        .where(
            col(Booking.customer_id).in_(ids),
            col(Booking.start_at) >= bindparam("moment", type_=Booking.__table__.c.start_at.type),  # type: ignore[attr-defined]
            col(Booking.status).in_([BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value]),
        )
        .group_by(col(Booking.customer_id))
        .subquery()
    )
    next_booking = select(
        Booking.customer_id, Booking.start_at, Booking.service_id, Booking.branch_id
    ).join(
        upcoming,
        (col(Booking.customer_id) == upcoming.c.customer_id)
        & (col(Booking.start_at) == upcoming.c.first),
    )
    services = select(Service.id, Service.name).where(
        col(Service.id).in_(bindparam("services", expanding=True))
    )
    balances = (
        select(LoyaltyEnrolment.customer_id, LoyaltyEnrolment.balance)
        .join(LoyaltyProgram, col(LoyaltyProgram.id) == col(LoyaltyEnrolment.program_id))
        .where(
            col(LoyaltyEnrolment.customer_id).in_(bindparam("ids", expanding=True)),
            col(LoyaltyEnrolment.removed_at).is_(None),
            col(LoyaltyProgram.is_default).is_(True),
        )
    )
    return next_booking, select(Branch.id, Branch.name), services, balances


_MANY: tuple[Any, Any, Any, Any] | None = None


def values_for_many(
    *,
    session: Session,
    customers: Sequence[Customer | RecipientRow],
    business_name: str,
    needed: Iterable[str],
    now: datetime | None = None,
) -> dict[int, dict[str, str]]:
    """:func:`values_for` for many customers in a few queries (a newsletter batch)."""
    global _MANY
    if _MANY is None:
        _MANY = _many_statements()
    next_booking, all_branches, some_services, balances = _MANY
    wanted = set(needed)
    ids = [c.id for c in customers if c.id is not None]
    out: dict[int, dict[str, str]] = {}
    blank = dict.fromkeys(PLACEHOLDERS, "")
    for c in customers:
        values = blank.copy()
        values["first_name"] = c.first_name or ""
        values["display_name"] = c.label or ""
        values["business_name"] = business_name
        out[c.id or 0] = values
    if not ids:
        return out
    if wanted & _BOOKING_KEYS:
        moment = _aware(now or utcnow())
        rows = session.execute(next_booking, {"ids": ids, "moment": moment}).all()
        branches = {
            branch_id: name
            for branch_id, name in session.execute(all_branches).all()
            if branch_id is not None
        }
        services: dict[int, str] = {}
        wanted_services = {service_id for _c, _s, service_id, _b in rows}
        if wanted_services:
            services = {
                service_id: name
                for service_id, name in session.execute(
                    some_services, {"services": list(wanted_services)}
                ).all()
                if service_id is not None
            }
        seen: set[int] = set()
        for customer_id, start_at, service_id, branch_id in rows:
            if customer_id in seen:
                continue
            seen.add(customer_id)
            out[customer_id].update(
                {
                    "next_booking_date": start_at.strftime("%A %d %B %Y").replace(" 0", " "),
                    "next_booking_time": start_at.strftime("%H:%M"),
                    "service": services.get(service_id, ""),
                    "branch": branches.get(branch_id, ""),
                }
            )
        for c in customers:
            values = out[c.id or 0]
            if not values["branch"] and c.home_branch_id is not None:
                values["branch"] = branches.get(c.home_branch_id, "")
    if "points_balance" in wanted:
        for v in out.values():
            v["points_balance"] = "0"
        for cid, balance in session.execute(balances, {"ids": ids}).all():
            out[cid]["points_balance"] = str(balance or 0)
    return out


def _booking_values(
    session: Session, customer: Customer, values: dict[str, str], now: datetime | None
) -> None:
    moment = _aware(now or utcnow())
    booking = session.exec(
        select(Booking)
        .where(
            col(Booking.customer_id) == customer.id,
            col(Booking.start_at) >= moment,
            col(Booking.status).in_([BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value]),
        )
        .order_by(col(Booking.start_at))
        .limit(1)
    ).first()
    branch_id = customer.home_branch_id
    if booking is not None:
        values.update(booking_values(session=session, booking=booking))
        branch_id = booking.branch_id
    if branch_id is not None and not values["branch"]:
        branch = session.get(Branch, branch_id)
        values["branch"] = branch.name if branch else ""


def _points(session: Session, customer: Customer, values: dict[str, str]) -> None:
    balance = session.exec(
        select(LoyaltyEnrolment.balance)
        .join(LoyaltyProgram, col(LoyaltyProgram.id) == col(LoyaltyEnrolment.program_id))
        .where(
            col(LoyaltyEnrolment.customer_id) == customer.id,
            col(LoyaltyEnrolment.removed_at).is_(None),
            col(LoyaltyProgram.is_default).is_(True),
        )
    ).first()
    values["points_balance"] = str(balance or 0)


def booking_values(*, session: Session, booking: Booking) -> dict[str, str]:
    service = session.get(Service, booking.service_id)
    branch = session.get(Branch, booking.branch_id)
    return {
        "next_booking_date": booking.start_at.strftime("%A %d %B %Y").replace(" 0", " "),
        "next_booking_time": booking.start_at.strftime("%H:%M"),
        "service": service.name if service else "",
        "branch": branch.name if branch else "",
    }


# --------------------------------------------------------------------------- stored templates


def list_templates(*, session: Session) -> list[MessageTemplate]:
    return list(session.exec(select(MessageTemplate).order_by(col(MessageTemplate.name))))


def get_template(*, session: Session, name: str) -> MessageTemplate:
    found = session.exec(select(MessageTemplate).where(col(MessageTemplate.name) == name)).first()
    if found is None:
        raise NotFound("template", name)
    return found


def save_template(
    *,
    session: Session,
    name: str,
    body: str,
    subject: str | None = None,
    channel: str = Channel.EMAIL.value,
    actor: Staff | None,
    template_id: int | None = None,
) -> MessageTemplate:
    """Add a template, or change the one with ``template_id``. Admins ("templates.write").

    Refuses an unknown placeholder, an empty body, an email template without subject."""
    require(actor, "templates.write")
    clean_name = clean_line("name", name, max_length=100)
    if not clean_name:
        raise ValidationFailed("name", "must not be empty")
    if channel not in {c.value for c in Channel}:
        raise ValidationFailed("channel", "must be email, sms or whatsapp")
    clean_subject = clean_line("subject", subject, max_length=300)
    clean_body = clean_multiline("body", body)
    if not clean_body:
        raise ValidationFailed("body", "must not be empty")
    if channel == Channel.EMAIL.value and not clean_subject:
        raise ValidationFailed("subject", "an email needs a subject")
    check_template(clean_subject, field="subject")
    check_template(clean_body, field="body")
    clash = session.exec(
        select(MessageTemplate).where(col(MessageTemplate.name) == clean_name)
    ).first()
    if clash is not None and clash.id != template_id:
        raise ValidationFailed("name", f"a template called {clean_name!r} exists already")
    if template_id is None:
        row = MessageTemplate(name=clean_name, channel=channel, body=clean_body)
    else:
        existing = session.get(MessageTemplate, template_id)
        if existing is None:
            raise NotFound("template", template_id)
        row = existing
    row.name = clean_name
    row.channel = channel
    row.subject = clean_subject
    row.body = clean_body
    row.updated_at = utcnow()
    row.updated_by_id = actor.id if actor else None
    session.add(row)
    session.flush()
    return row


def delete_template(*, session: Session, template_id: int, actor: Staff | None) -> None:
    require(actor, "templates.write")
    row = session.get(MessageTemplate, template_id)
    if row is None:
        raise NotFound("template", template_id)
    session.delete(row)
    session.flush()


__all__ = [
    "PLACEHOLDERS",
    "Compiled",
    "FrontdeskError",
    "Rendered",
    "TemplateError",
    "booking_values",
    "check_template",
    "compile_template",
    "delete_template",
    "fill",
    "get_template",
    "list_templates",
    "markdown_html",
    "placeholders_in",
    "render",
    "save_template",
    "values_for",
    "values_for_many",
]

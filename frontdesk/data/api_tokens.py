"""API tokens: what an online booking page or an assistant calls ``frontdesk serve`` with.

An admin creates a token with a name and scopes; the token itself is shown once and the
database keeps only its SHA-256. A revoked token stops working at once (every call checks).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from frontdesk.data import audit
from frontdesk.data.errors import FrontdeskError, NotFound, ValidationFailed
from frontdesk.data.models import ApiToken, Staff, utcnow
from frontdesk.data.roles import require
from frontdesk.data.validation import clean_line

SCOPES = ("bookings", "customers:read")
PREFIX = "fdk_"


class TokenRefused(FrontdeskError):
    """A call without a valid token (missing, unknown or revoked): HTTP 401."""


class ScopeMissing(FrontdeskError):
    """A valid token without the scope the call needs: HTTP 403."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__(f"this token lacks the scope {scope!r}")


@dataclass(frozen=True)
class TokenView:
    id: int
    name: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class NewToken:
    view: TokenView
    token: str  # shown once, never stored


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _view(row: ApiToken) -> TokenView:
    return TokenView(
        id=row.id or 0,
        name=row.name,
        scopes=list(row.scopes or []),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def _clean_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    chosen = []
    for scope in scopes or ("bookings",):
        value = scope.strip().lower()
        if value not in SCOPES:
            raise ValidationFailed("scope", f"unknown scope {scope!r} (known: {', '.join(SCOPES)})")
        if value not in chosen:
            chosen.append(value)
    return chosen


def create_token(
    *, session: Session, name: str, scopes: list[str] | tuple[str, ...], actor: Staff | None
) -> NewToken:
    """A new token (admins only). The caller shows ``token`` once; it cannot be read back."""
    require(actor, "tokens")
    clean = clean_line("name", name, max_length=100)
    if not clean:
        raise ValidationFailed("name", "give the token a name (e.g. website)")
    if session.exec(select(ApiToken).where(col(ApiToken.name) == clean)).first() is not None:
        raise ValidationFailed("name", f"a token named {clean!r} exists already")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=clean,
        token_hash=token_hash(token),
        scopes=_clean_scopes(scopes),
        created_by_id=actor.id if actor else None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        entity="api_token",
        entity_id=row.id or 0,
        action="create",
        changes={"name": (None, row.name), "scopes": (None, ", ".join(row.scopes))},
    )
    return NewToken(view=_view(row), token=token)


def list_tokens(*, session: Session, actor: Staff | None) -> list[TokenView]:
    require(actor, "tokens")
    rows = session.exec(select(ApiToken).order_by(col(ApiToken.name)))
    return [_view(r) for r in rows]


def revoke_token(*, session: Session, name: str, actor: Staff | None) -> TokenView:
    require(actor, "tokens")
    row = session.exec(
        select(ApiToken).where(col(ApiToken.name) == name.strip()).with_for_update()
    ).first()
    if row is None:
        raise NotFound("token", name)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        session.flush()
        audit.record(
            session=session,
            actor=actor,
            entity="api_token",
            entity_id=row.id or 0,
            action="revoke",
            changes={"name": (row.name, row.name), "revoked_at": (None, row.revoked_at)},
        )
    return _view(row)


def authenticate(*, session: Session, token: str | None, scope: str) -> TokenView:
    """The live token ``token`` with ``scope``; raises TokenRefused (401) or ScopeMissing (403).

    Reads only: ``touch`` records the last use separately (a read-only lookup must not take
    the write turn on every call)."""
    if not token:
        raise TokenRefused("send the API token as 'Authorization: Bearer TOKEN'")
    row = session.exec(
        select(ApiToken).where(col(ApiToken.token_hash) == token_hash(token))
    ).first()
    if row is None:
        raise TokenRefused("unknown API token")
    if row.revoked_at is not None:
        raise TokenRefused("this API token was revoked")
    if scope not in (row.scopes or []):
        raise ScopeMissing(scope)
    return _view(row)


def touch(*, session: Session, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is not None:
        row.last_used_at = utcnow()
        session.add(row)
        session.flush()


def api_actor(token: TokenView) -> Staff:
    """The actor of what a token's caller does: not a staff member (nothing is stored for it),
    named after the token so that the audit log says which system did it; reception's rights
    (book, add customers), nothing more."""
    return Staff(name=f"API token {token.name}", role="reception")

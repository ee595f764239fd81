"""Audit events: who changed what, with field-level before/after values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from frontdesk.data.models import AuditEvent, Staff


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def record(
    *,
    session: Session,
    actor: Staff | None,
    entity: str,
    entity_id: int,
    action: str,
    customer_id: int | None = None,
    changes: dict[str, tuple[Any, Any]] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_name=actor.name if actor else None,
        entity=entity,
        entity_id=entity_id,
        action=action,
        customer_id=customer_id,
        changes=(
            {
                field: [jsonable(before), jsonable(after)]
                for field, (before, after) in changes.items()
            }
            if changes
            else None
        ),
    )
    session.add(event)
    return event


def record_item(
    *,
    session: Session,
    actor: Staff | None,
    entity: str,
    entity_id: int,
    before: Mapping[str, object] | None,
    after: Mapping[str, object] | None,
    action: str | None = None,
) -> None:
    """Audit a settings item (a custom field, tag, category, note category, loyalty
    program): what changed between ``before`` and ``after`` (no ``before``: created), with
    its name even when unchanged; nothing when nothing changed. ``action`` defaults to
    "create" or "update"."""
    from frontdesk.data.audit_text import setting_changes

    changes = setting_changes(entity, before, after)
    if changes:
        record(
            session=session,
            actor=actor,
            entity=entity,
            entity_id=entity_id,
            action=action or ("update" if before else "create"),
            changes=changes,
        )

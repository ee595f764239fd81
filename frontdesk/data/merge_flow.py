"""Use cases of the duplicates and merge screens: what they show, read in one session each.

The writes are the services themselves (one per action): ``merge.merge_customers``,
``candidates.merge_candidate`` / ``add_as_customer`` / ``discard``, and
:func:`ignore_group` here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from frontdesk.data import candidates, merge
from frontdesk.data import customers as svc
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.models import Branch, Category, Customer, Staff
from frontdesk.data.roles import require


@dataclass
class MergeView:
    """Customers side by side (the first is the survivor) and the value kept per field.

    For an imported row waiting for a decision (``candidate_id``), the second "customer" is
    the unsaved row, ``source`` says where it came from and ``brings_*`` what else it carries.
    """

    people: list[Customer]
    chosen: dict[str, Any]
    fields: list[str]
    category_names: dict[int, str] = field(default_factory=dict)
    branch_names: dict[int, str] = field(default_factory=dict)
    candidate_id: int | None = None
    source: str = ""
    brings_note: str | None = None
    brings_tags: list[str] = field(default_factory=list)
    brings_custom: int = 0


def _names(session: Session) -> tuple[dict[int, str], dict[int, str]]:
    categories = {c.id or 0: c.name for c in session.exec(select(Category))}
    branches = {b.id or 0: b.name for b in session.exec(select(Branch))}
    return categories, branches


def load_merge_view(
    *, session: Session, customer_ids: Sequence[int], candidate_id: int | None = None
) -> MergeView:
    """The merge screen for two or more customers, or for one imported row (``candidate_id``)."""
    categories, branches = _names(session)
    if candidate_id is None:
        ids = list(dict.fromkeys(customer_ids))
        if len(ids) < 2:
            raise ValidationFailed("customers", "choose at least two customers to merge")
        people = [svc.get_customer(session=session, customer_id=i) for i in ids]
        return MergeView(
            people=people,
            chosen=merge.default_choices(people[0], people[1:]),
            fields=list(merge.MERGE_FIELDS),
            category_names=categories,
            branch_names=branches,
        )
    row = candidates.get_pending(session=session, candidate_id=candidate_id)
    customer = svc.get_customer(session=session, customer_id=row.customer_id)
    customer = svc.resolve(session=session, customer=customer)
    extras = row.extras or {}
    return MergeView(
        people=[customer, candidates.incoming_customer(session=session, candidate=row)],
        chosen=candidates.default_choices(session=session, customer=customer, candidate=row),
        fields=list(merge.MERGE_FIELDS),
        category_names=categories,
        branch_names=branches,
        candidate_id=candidate_id,
        source=row.source,
        brings_note=extras.get("note") or None,
        brings_tags=[str(t) for t in extras.get("tags") or []],
        brings_custom=len(extras.get("custom") or {}),
    )


@dataclass
class DuplicatesPage:
    """Imported rows waiting for a decision first, then likely duplicate customers."""

    waiting: list[candidates.PendingCandidate] = field(default_factory=list)
    groups: list[merge.DuplicateGroup] = field(default_factory=list)


def load_duplicates(*, session: Session) -> DuplicatesPage:
    return DuplicatesPage(
        waiting=candidates.pending(session=session),
        groups=merge.find_duplicates(session=session),
    )


def ignore_group(*, session: Session, customer_ids: Sequence[int], actor: Staff | None) -> int:
    """Remember that these customers are not duplicates of each other; returns the pairs."""
    require(actor, "merge")
    ids = list(dict.fromkeys(customer_ids))
    pairs = 0
    for i, first in enumerate(ids):
        for second in ids[i + 1 :]:
            merge.ignore_pair(session=session, first_id=first, second_id=second, actor=actor)
            pairs += 1
    return pairs

"""Directory support: small lookup tables, the advanced filter, quick overview, bulk actions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, case, column, exists, false, func, not_, or_, table, tuple_, union
from sqlalchemy import select as sa_select
from sqlalchemy import text as sql_text
from sqlmodel import Session, col, select

from frontdesk.data import customers as svc
from frontdesk.data import insights, profile
from frontdesk.data.errors import FrontdeskError
from frontdesk.data.fields import FieldFilter
from frontdesk.data.models import (
    Booking,
    BookingStatus,
    Branch,
    Category,
    Customer,
    CustomField,
    LoyaltyProgram,
    Note,
    NoteCategory,
    Order,
    OrderLine,
    Package,
    Service,
    ServiceType,
    Staff,
    Tag,
)
from frontdesk.data.outcomes import BulkOutcome
from frontdesk.data.roles import own_bookings_only, require, require_money
from frontdesk.data.tags import add_tag, remove_tag
from frontdesk.data.validation import digits

CONSENT_FIELDS = {
    "reminders": "consent_reminders",
    "birthday": "consent_birthday",
    "marketing": "consent_marketing",
    "newsletter": "consent_newsletter",
}


@dataclass
class Lookups:
    """Small reference tables the screens show by name (loaded once, refreshed on change)."""

    branches: dict[int, Branch] = field(default_factory=dict)
    categories: dict[int, Category] = field(default_factory=dict)
    tags: dict[int, Tag] = field(default_factory=dict)
    service_types: dict[int, ServiceType] = field(default_factory=dict)
    services: dict[int, Service] = field(default_factory=dict)
    packages: dict[int, Package] = field(default_factory=dict)
    staff: dict[int, Staff] = field(default_factory=dict)
    custom_fields: dict[int, CustomField] = field(default_factory=dict)
    programs: dict[int, LoyaltyProgram] = field(default_factory=dict)
    # the business settings of the insight filters (due back, lapsed)
    due_margin_days: int = 14
    lapsed_days: int = 180


def load_lookups(*, session: Session) -> Lookups:
    def by_id(model: Any, order: Any) -> dict[int, Any]:
        return {row.id: row for row in session.exec(select(model).order_by(order))}

    due_margin, lapsed = insights.margins(session)
    return Lookups(
        branches=by_id(Branch, col(Branch.name)),
        categories=by_id(Category, col(Category.position)),
        tags=by_id(Tag, col(Tag.name)),
        service_types=by_id(ServiceType, col(ServiceType.name)),
        services=by_id(Service, col(Service.name)),
        packages=by_id(Package, col(Package.name)),
        staff=by_id(Staff, col(Staff.name)),
        custom_fields={
            f.id or 0: f
            for f in session.exec(
                select(CustomField)
                .where(col(CustomField.archived).is_(False))
                .order_by(col(CustomField.position))
            )
        },
        programs=by_id(LoyaltyProgram, col(LoyaltyProgram.name)),
        due_margin_days=due_margin,
        lapsed_days=lapsed,
    )


def alert_customer_ids(*, session: Session, customer_ids: list[int]) -> set[int]:
    """Which of these customers have an alert note (for the directory's ⚠ marker)."""
    if not customer_ids:
        return set()
    stmt = (
        sa_select(col(Note.customer_id))
        .outerjoin(NoteCategory, col(NoteCategory.id) == col(Note.category_id))
        .where(
            col(Note.customer_id).in_(customer_ids),
            (col(Note.is_alert).is_(True)) | (col(NoteCategory.is_alert).is_(True)),
        )
        .distinct()
    )
    return {int(r[0]) for r in session.execute(stmt)}


def _day_start(d: date) -> datetime:
    return datetime.combine(d, datetime.min.time(), UTC)


def _day_end(d: date) -> datetime:
    return datetime.combine(d, datetime.max.time(), UTC)


@dataclass(frozen=True)
class AdvancedFilter:
    """The filter panel's conditions on a customer's history and consent."""

    service_types_used: tuple[int, ...] = ()
    services_used: tuple[int, ...] = ()
    service_types_never: tuple[int, ...] = ()
    services_never: tuple[int, ...] = ()
    packages_purchased: tuple[int, ...] = ()
    booking_from: date | None = None
    booking_to: date | None = None
    booking_statuses: tuple[str, ...] = ()
    consents: tuple[str, ...] = ()
    custom: tuple[FieldFilter, ...] = ()
    # Insight filters (issue 16; margins from the settings when the filter was made):
    due_back_margin: int | None = None  # past the usual interval by more than N days
    lapsed_days: int | None = None  # no completed visit for N days
    new_this_month: bool = False  # added this calendar month
    top_value: int | None = None  # the N customers with the highest 12-month value
    lapsed_for_due: int = 180  # "due back" leaves out the lapsed (setting lapsed_after_days)

    @property
    def is_empty(self) -> bool:
        return replace(self, lapsed_for_due=180) == AdvancedFilter()

    def without(self, key: str) -> AdvancedFilter:
        if key == "booking_range":
            return replace(self, booking_from=None, booking_to=None, booking_statuses=())
        if key not in {f.name for f in fields(self)}:
            return self
        changes: dict[str, Any] = {key: getattr(AdvancedFilter(), key)}
        return replace(self, **changes)

    def _bookings(self, *conds: Any) -> Any:
        return exists().where(col(Booking.customer_id) == col(Customer.id), *conds)

    def applied(self, base: svc.DirectoryFilter, now: datetime) -> svc.DirectoryFilter:
        """``base`` with these conditions (the directory's filters): the top customers by
        value as its ``rank_by_value``, read once per page (see ``_top_read``)."""
        top = self.top_value
        return replace(
            base,
            extra=self.conditions(now, top_value=False),
            rank_by_value=top,
            top_ids=None,
            top_condition=None if top is None else insights.top_value_condition(top, now),
            now=now,
            reads_money=base.reads_money or bool(self.packages_purchased),
        )

    def conditions(self, now: datetime | None = None, *, top_value: bool = True) -> tuple[Any, ...]:
        """SQL conditions on the customer table; ``now``: the reference time of the insight
        filters (default: the moment they are built). ``top_value=False`` leaves the top
        customers by value out (``applied`` lists them through ``rank_by_value``)."""
        out: list[Any] = []
        now = now or datetime.now(UTC)
        if self.due_back_margin is not None:
            out.append(insights.due_back_condition(self.due_back_margin, self.lapsed_for_due, now))
        if self.lapsed_days is not None:
            out.append(insights.lapsed_condition(self.lapsed_days, now))
        if self.new_this_month:
            out.append(insights.new_this_month_condition(now))
        if self.top_value is not None and top_value:
            out.append(insights.top_value_condition(self.top_value, now))
        done = col(Booking.status) == BookingStatus.COMPLETED.value
        if self.service_types_used:
            ids = sa_select(col(Service.id)).where(
                col(Service.service_type_id).in_(self.service_types_used)
            )
            out.append(self._bookings(done, col(Booking.service_id).in_(ids)))
        if self.services_used:
            out.append(self._bookings(done, col(Booking.service_id).in_(self.services_used)))
        if self.service_types_never:
            ids = sa_select(col(Service.id)).where(
                col(Service.service_type_id).in_(self.service_types_never)
            )
            out.append(~self._bookings(done, col(Booking.service_id).in_(ids)))
        if self.services_never:
            out.append(~self._bookings(done, col(Booking.service_id).in_(self.services_never)))
        if self.packages_purchased:
            out.append(
                exists().where(
                    col(Order.customer_id) == col(Customer.id),
                    col(OrderLine.order_id) == col(Order.id),
                    col(OrderLine.package_id).in_(self.packages_purchased),
                )
            )
        if self.booking_from or self.booking_to or self.booking_statuses:
            conds: list[Any] = []
            if self.booking_from:
                conds.append(col(Booking.start_at) >= _day_start(self.booking_from))
            if self.booking_to:
                conds.append(col(Booking.start_at) <= _day_end(self.booking_to))
            if self.booking_statuses:
                conds.append(col(Booking.status).in_(self.booking_statuses))
            out.append(self._bookings(*conds))
        for channel in self.consents:
            out.append(getattr(Customer, CONSENT_FIELDS[channel]).is_(True))
        out.extend(f.condition() for f in self.custom)
        return tuple(out)

    def chips(self, lk: Lookups) -> list[tuple[str, str]]:
        def names(ids: tuple[int, ...], table: dict[int, Any]) -> str:
            return ", ".join(getattr(table.get(i), "name", str(i)) for i in ids)

        chips: list[tuple[str, str]] = []
        if self.due_back_margin is not None:
            chips.append((f"due back (+{self.due_back_margin} days)", "due_back_margin"))
        if self.lapsed_days is not None:
            chips.append((f"lapsed ({self.lapsed_days}+ days)", "lapsed_days"))
        if self.new_this_month:
            chips.append(("new this month", "new_this_month"))
        if self.top_value is not None:
            chips.append((f"top {self.top_value} by 12-month value", "top_value"))
        if self.service_types_used:
            chips.append(
                (f"used: {names(self.service_types_used, lk.service_types)}", "service_types_used")
            )
        if self.services_used:
            chips.append((f"used: {names(self.services_used, lk.services)}", "services_used"))
        if self.service_types_never:
            chips.append(
                (
                    f"never: {names(self.service_types_never, lk.service_types)}",
                    "service_types_never",
                )
            )
        if self.services_never:
            chips.append((f"never: {names(self.services_never, lk.services)}", "services_never"))
        if self.packages_purchased:
            chips.append(
                (f"bought: {names(self.packages_purchased, lk.packages)}", "packages_purchased")
            )
        if self.booking_from or self.booking_to or self.booking_statuses:
            span = f"{self.booking_from or '…'} → {self.booking_to or '…'}"
            status = f" ({', '.join(self.booking_statuses)})" if self.booking_statuses else ""
            chips.append((f"bookings {span}{status}", "booking_range"))
        if self.consents:
            chips.append((f"subscribed: {', '.join(self.consents)}", "consents"))
        if self.custom:
            chips.append(("; ".join(f.chip for f in self.custom), "custom"))
        return chips


@dataclass(frozen=True)
class QuickOverview:
    customer: Customer
    alerts: list[str]
    points: int
    last_visit: datetime | None
    next_visit: datetime | None


def quick_overview(
    *,
    session: Session,
    customer_id: int,
    now: datetime | None = None,
    actor: Staff | None,
) -> QuickOverview | None:
    """The directory's panel for the highlighted customer (a therapist's: their last and
    next visit with them, as the role reads only its own bookings)."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    stats = profile.customer_stats(
        session=session,
        customer=customer,
        now=now,
        money=False,
        staff_id=own_bookings_only(actor),
    )
    alerts = [
        n.body for n in profile.notes_of(session=session, customer_id=customer_id, alerts_only=True)
    ]
    return QuickOverview(customer, alerts, stats.points, stats.last_visit, stats.next_visit)


def matching_ids(
    *,
    session: Session,
    text: str,
    filters: svc.DirectoryFilter,
    cap: int = 100_000,
    region: str | None = None,
    actor: Staff | None = None,
) -> list[int]:
    """Ids of every customer matching the search and filters (select-all), up to ``cap``.

    The same customers the directory lists and counts for this search (every match, not
    only the best ones).
    """
    conds = _top_read(session, filters, actor).conditions()
    groups = _groups(session, text, region)
    stmt = sa_select(col(Customer.id)).where(*conds)
    if len(groups) > 1 or groups[0].condition is not None:
        stmt = stmt.where(or_(*(g.condition for g in groups if g.condition is not None)))
    return [int(r[0]) for r in session.execute(stmt.order_by(col(Customer.id)).limit(cap))]


# --------------------------------------------------------------------------- directory page


@dataclass(frozen=True)
class RowKey:
    """Where a row sits in the directory's order.

    The order is: match group (exact code/phone/email first, then names starting with the
    text, then any other match; browsing without text is one group), then the group's own
    sort column (e.g. "last first" name), then id. Pages are read by keyset from this key in
    either direction, so the first and the last page of a million rows cost the same.
    """

    group: int
    key: str | int
    id: int


@dataclass(frozen=True)
class DirectoryPage:
    """One page of the directory with what its rows show."""

    rows: list[Customer]
    keys: list[RowKey]
    last_visits: dict[int, datetime]
    alerts: set[int]
    count: int | None  # exact number of matching customers (None when not asked for)
    more_before: bool  # rows exist before the first one
    more_after: bool  # rows exist after the last one
    # Why a row is listed when the search named a merged-away customer (its code, phone or
    # email): {survivor id: "C-000123 was merged into C-000045"}.
    notes: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Group:
    condition: Any  # None: every customer (browsing)
    column: Any  # the group's sort column (then id)
    fts_match: str | None = None  # SQLite substring group: read in the FTS index's order
    ranks: dict[int, int] | None = None  # the sort column is a rank given here per customer id


def _groups(session: Session, text: str, region: str | None) -> list[_Group]:
    """The match groups of a search, best first (see :class:`RowKey`)."""
    raw = text.strip()
    if not raw:
        return [_Group(None, col(Customer.sort_key))]
    region = svc.search_region(session, region)
    exact, prefix, needles, _ = svc._search_plan(session, raw, region)
    groups: list[_Group] = []
    if exact:
        groups.append(_Group(or_(*exact), col(Customer.id)))
    groups.extend(_Group(condition, column) for column, condition in prefix)
    needles = [n for n in needles if len(n) >= 3]
    if needles and session.get_bind().dialect.name == "sqlite":
        match = " OR ".join(svc._fts_phrase(n) for n in needles)
        matching = sa_select(_FTS.c.rowid).where(_FTS.c.customer_fts.op("MATCH")(match))
        groups.append(_Group(col(Customer.id).in_(matching), col(Customer.id), match))
    elif needles:  # PostgreSQL: pg_trgm index
        contains = [col(Customer.search_text).contains(n, autoescape=True) for n in needles]
        groups.append(_Group(or_(*contains), col(Customer.id)))
    return groups


# The SQLite full-text index over the customers' search text (FTS5, trigram tokenizer).
_FTS = table("customer_fts", column("rowid"), column("customer_fts"))


def _group_where(groups: list[_Group], index: int, *, own: bool = True) -> list[Any]:
    """Rows of group ``index``: its condition (unless ``own`` is False) and none of the
    better groups'."""
    group = groups[index]
    out = [] if group.condition is None or not own else [group.condition]
    better = [g.condition for g in groups[:index] if g.condition is not None]
    if better:
        # coalesce: a NULL column (no email) must not hide a row from a later group.
        out.append(not_(func.coalesce(or_(*better), false())))
    return out


def _key_of(index: int, group: _Group, customer: Customer) -> RowKey:
    assert customer.id is not None
    if group.ranks is not None:
        return RowKey(index, group.ranks.get(customer.id, len(group.ranks)), customer.id)
    return RowKey(index, getattr(customer, group.column.key), customer.id)


def _by_value(ids: tuple[int, ...]) -> _Group | None:
    """Browsing the top customers by 12-month value (``ids``, highest first): in that order."""
    ranks = {cid: rank for rank, cid in enumerate(ids)}
    if not ranks:
        return None
    return _Group(None, case(ranks, value=col(Customer.id), else_=len(ranks)), ranks=ranks)


def may_filter(actor: Staff | None, filters: svc.DirectoryFilter) -> None:
    """Refuse filters on what customers spent or bought (top customers by value, packages
    purchased) to staff who may not see money (a therapist): the list would tell it."""
    if filters.uses_money:
        require_money(actor)


def _top_read(
    session: Session, filters: svc.DirectoryFilter, actor: Staff | None
) -> svc.DirectoryFilter:
    """``filters``, allowed to ``actor`` (:func:`may_filter`), with the ids of its top
    customers by value read (once for all the statements of a page and its count: each read
    them again, 800 ms at a million)."""
    may_filter(actor, filters)
    if filters.rank_by_value is None or filters.top_ids is not None:
        return filters
    now = filters.now or datetime.now(UTC)
    return replace(
        filters, top_ids=tuple(insights.top_value_ids(session, filters.rank_by_value, now))
    )


def _read(
    session: Session,
    groups: list[_Group],
    conds: list[Any],
    *,
    start: RowKey | None,
    inclusive: bool,
    backwards: bool,
    limit: int,
) -> list[tuple[RowKey, Customer]]:
    """Up to ``limit`` rows from ``start`` (exclusive unless ``inclusive``) in one direction."""
    out: list[tuple[RowKey, Customer]] = []
    order = range(len(groups) - 1, -1, -1) if backwards else range(len(groups))
    for index in order:
        if start is not None and (index > start.group if backwards else index < start.group):
            continue
        group = groups[index]
        if group.fts_match is not None:
            out.extend(
                _read_fts(
                    session, groups, conds, index, start, inclusive, backwards, limit - len(out)
                )
            )
            if len(out) >= limit:
                break
            continue
        stmt = select(Customer).where(*_group_where(groups, index), *conds)
        if start is not None and index == start.group:
            here = tuple_(group.column, col(Customer.id))
            there = (start.key, start.id)
            if backwards:
                stmt = stmt.where(here <= there if inclusive else here < there)
            else:
                stmt = stmt.where(here >= there if inclusive else here > there)
        if backwards:
            stmt = stmt.order_by(group.column.desc(), col(Customer.id).desc())
        else:
            stmt = stmt.order_by(group.column, col(Customer.id))
        for customer in session.exec(stmt.limit(limit - len(out))):
            out.append((_key_of(index, group, customer), customer))
        if len(out) >= limit:
            break
    return out


def _read_fts(
    session: Session,
    groups: list[_Group],
    conds: list[Any],
    index: int,
    start: RowKey | None,
    inclusive: bool,
    backwards: bool,
    limit: int,
) -> list[tuple[RowKey, Customer]]:
    """The substring group on SQLite, read in the full-text index's own (rowid) order: a
    page stops after ``limit`` matches instead of sorting every match first."""
    group = groups[index]
    rowid = _FTS.c.rowid
    stmt = (
        select(Customer)
        .join(_FTS, rowid == col(Customer.id))
        .where(_FTS.c.customer_fts.op("MATCH")(group.fts_match))
        .where(*_group_where(groups, index, own=False), *conds)
    )
    if start is not None and index == start.group:
        if backwards:
            stmt = stmt.where(rowid <= start.id if inclusive else rowid < start.id)
        else:
            stmt = stmt.where(rowid >= start.id if inclusive else rowid > start.id)
    stmt = stmt.order_by(rowid.desc() if backwards else rowid).limit(limit)
    return [(_key_of(index, group, c), c) for c in session.exec(stmt)]


def count_directory(
    *,
    session: Session,
    text: str = "",
    filters: svc.DirectoryFilter | None = None,
    region: str | None = None,
    actor: Staff | None = None,
) -> int:
    """Exactly how many customers the directory lists for this search and these filters."""
    filters = filters or svc.DirectoryFilter()
    filters = _top_read(session, filters, actor)
    return _count(session, _groups(session, text, region), filters.conditions())


# The number of live customers on SQLite (the condition of ``svc.live()``): one row that
# triggers keep (migration 0013), instead of counting the live-customer index (120 ms at a
# million customers, at each opening of the directory and each change another desk made).
_LIVE_COUNT = sql_text("SELECT live FROM customer_tally WHERE id = 1")


def _count(session: Session, groups: list[_Group], conds: list[Any]) -> int:
    if len(groups) == 1:
        if (
            groups[0].condition is None
            and len(conds) == 1
            and session.get_bind().dialect.name == "sqlite"
        ):
            # Every live customer (``conds`` is only ``live()``): the number the triggers
            # keep (counted below should its row be gone).
            kept = session.execute(_LIVE_COUNT).scalar()
            if kept is not None:
                return int(kept)
        stmt = sa_select(func.count()).select_from(Customer).where(*_group_where(groups, 0), *conds)
        return int(session.execute(stmt).scalar_one())
    ids = union(
        *(sa_select(col(Customer.id)).where(g.condition, *conds) for g in groups)
    ).subquery()
    return int(session.execute(sa_select(func.count()).select_from(ids)).scalar_one())


def load_directory_page(
    *,
    session: Session,
    text: str = "",
    filters: svc.DirectoryFilter | None = None,
    after: RowKey | None = None,
    before: RowKey | None = None,
    start_at: RowKey | None = None,
    around: int | None = None,
    from_end: bool = False,
    limit: int = 100,
    with_count: bool = True,
    region: str | None = None,
    actor: Staff | None = None,
) -> DirectoryPage:
    """One page of the directory: the rows, their last visits and alerts, and the count.

    Without a position it is the first page; ``after`` / ``before`` page on from a row's key
    (exclusive), ``start_at`` re-reads from a key (inclusive: refresh in place) and
    ``from_end`` gives the last page. ``around`` keeps a customer on the page: when they are
    not on the page ``start_at`` gives (e.g. an edited name moved them), the page is read
    around them instead. Search (``text``) and filters combine. ``actor`` must see money to
    filter by it (:func:`may_filter`).
    """
    filters = filters or svc.DirectoryFilter()
    filters = _top_read(session, filters, actor)
    conds = filters.conditions()
    groups = _groups(session, text, region)
    if filters.top_ids is not None and not text.strip():
        by_value = _by_value(filters.top_ids)
        groups = [by_value] if by_value is not None else groups

    def forward(start: RowKey | None, inclusive: bool, n: int) -> list[tuple[RowKey, Customer]]:
        return _read(
            session, groups, conds, start=start, inclusive=inclusive, backwards=False, limit=n
        )

    def backward(start: RowKey | None, n: int) -> list[tuple[RowKey, Customer]]:
        return _read(session, groups, conds, start=start, inclusive=False, backwards=True, limit=n)

    if before is not None or from_end:
        found = backward(before, limit + 1)
        more_before = len(found) > limit
        found = found[:limit][::-1]
        more_after = before is not None
    else:
        start = after or start_at
        found = forward(start, start_at is not None and after is None, limit + 1)
        more_after = len(found) > limit
        found = found[:limit]
        more_before = start is not None and (after is not None or bool(backward(start, 1)))
        anchor = (
            _key_of_customer(session, groups, conds, around)
            if around is not None and around not in {c.id for _k, c in found}
            else None
        )
        if anchor is not None:
            earlier = backward(anchor, limit // 3 + 1)
            more_before = len(earlier) > limit // 3
            earlier = earlier[: limit // 3][::-1]
            later = forward(anchor, True, limit - len(earlier) + 1)
            more_after = len(later) > limit - len(earlier)
            found = earlier + later[: limit - len(earlier)]
    rows = [customer for _key, customer in found]
    ids = [c.id for c in rows if c.id is not None]
    notes = svc.search_notes(session=session, text=text, region=region) if text.strip() else {}
    return DirectoryPage(
        rows=rows,
        keys=[key for key, _customer in found],
        last_visits=svc.last_visits(
            session=session, customer_ids=ids, staff_id=own_bookings_only(actor)
        ),
        alerts=alert_customer_ids(session=session, customer_ids=ids),
        count=_count(session, groups, conds) if with_count else None,
        more_before=more_before,
        more_after=more_after,
        notes={cid: note for cid, note in notes.items() if cid in ids},
    )


def _key_of_customer(
    session: Session, groups: list[_Group], conds: list[Any], customer_id: int
) -> RowKey | None:
    """Where this customer sits in the result (None when the result does not hold them)."""
    for index, group in enumerate(groups):
        stmt = select(Customer).where(
            col(Customer.id) == customer_id, *_group_where(groups, index), *conds
        )
        customer = session.exec(stmt).first()
        if customer is not None:
            return _key_of(index, group, customer)
    return None


_EMAILISH = re.compile(r"\S+@\S*")


def prefill_from_query(text: str) -> dict[str, str]:
    """Split what was typed into the search box into form fields: digits go to the phone,
    an @ to the email, words to the names. A customer code (C-000123) goes nowhere: it is
    another customer's, and a new customer gets a code of its own."""
    text = text.strip()
    if not text:
        return {}
    out: dict[str, str] = {}
    email = _EMAILISH.search(text)
    if email:
        out["email"] = email.group(0)
        text = (text[: email.start()] + text[email.end() :]).strip()
    parts = [
        w for w in text.split() if not (any(ch.isalpha() for ch in w) and svc.normalise_code(w))
    ]
    words = [w for w in parts if not digits(w) or any(ch.isalpha() for ch in w)]
    phone_part = " ".join(w for w in parts if w not in words)
    if phone_part and len(digits(phone_part)) >= 3:
        out["phone"] = phone_part
    if words:
        out["first_name"] = _capitalised(words[0])
        if len(words) > 1:
            last = words[1:]
            # "de vries" -> "de Vries", "van der berg" -> "van der Berg": a particle before
            # the surname keeps its small letter; the surname itself gets a capital.
            out["last_name"] = " ".join(
                w if i < len(last) - 1 and w in _NAME_PARTICLES else _capitalised(w)
                for i, w in enumerate(last)
            )
    return out


# Words written in small letters before a surname (Dutch, German, Spanish, Portuguese,
# Italian, French, Arabic names).
_NAME_PARTICLES = frozenset(
    [
        "al",
        "bin",
        "da",
        "das",
        "de",
        "del",
        "della",
        "der",
        "di",
        "do",
        "dos",
        "du",
        "el",
        "ibn",
        "la",
        "le",
        "ten",
        "ter",
        "van",
        "von",
        "y",
        "zu",
    ]
)


def _capitalised(word: str) -> str:
    """A word typed all in small letters with a capital (each part of "garcia-lopez"); a
    word typed with any capital is left as typed ("McAllister", "deVries")."""
    if not word.islower():
        return word
    return "-".join(part[:1].upper() + part[1:] for part in word.split("-"))


# --------------------------------------------------------------------------- bulk actions


@dataclass(frozen=True)
class BulkRequest:
    # set_category | add_tag | remove_tag | set_status | block | unblock | delete | restore | enrol
    action: str
    category_id: int | None = None
    tag_id: int | None = None
    status: str | None = None
    reason: str | None = None
    program_id: int | None = None
    starting_balance: int = 0


# What each bulk action needs (roles.PERMISSIONS); delete and restore check in delete_flow.
BULK_PERMISSION = {
    "set_category": "customers.write",
    "add_tag": "customers.write",
    "remove_tag": "customers.write",
    "set_status": "customers.write",
    "block": "customers.write",
    "unblock": "customers.write",
    "enrol": "rewards",
}


def apply_bulk(
    *,
    engine: Engine,
    request: BulkRequest,
    customer_ids: list[int],
    actor: Staff | None,
    batch: int = 500,
) -> BulkOutcome:
    """Apply one action to many customers, a transaction per batch; per-customer problems
    (e.g. a restore whose phone was taken meanwhile) are reported, not fatal."""
    if request.action in ("delete", "restore"):
        # Roles, future bookings cancelled and re-opened on undo: one transaction.
        from frontdesk.data import delete_flow

        return delete_flow.apply_bulk(
            engine=engine, action=request.action, customer_ids=customer_ids, actor=actor
        )
    # Checked once for the whole selection: a refusal is NotAllowed, not a problem per customer.
    require(actor, BULK_PERMISSION.get(request.action, "customers.write"))
    outcome = BulkOutcome()
    for start in range(0, len(customer_ids), batch):
        chunk = customer_ids[start : start + batch]
        with Session(engine) as session:
            for cid in chunk:
                try:
                    with session.begin_nested():
                        changed = _apply_one(session, request, cid, actor)
                except FrontdeskError as exc:
                    outcome.problems.append(f"{cid}: {exc}")
                    continue
                if changed:
                    outcome.changed_ids.append(cid)
            session.commit()
    return outcome


def _apply_one(session: Session, request: BulkRequest, cid: int, actor: Staff | None) -> bool:
    customer = svc.get_customer(session=session, customer_id=cid)
    version = customer.version
    action = request.action
    if action == "set_category":
        svc.update_customer(
            session=session,
            customer_id=cid,
            data=svc.CustomerUpdate(category_id=request.category_id),
            expected_version=version,
            actor=actor,
        )
    elif action == "add_tag" and request.tag_id:
        return add_tag(session=session, customer_id=cid, tag_id=request.tag_id, actor=actor)
    elif action == "remove_tag" and request.tag_id:
        return remove_tag(session=session, customer_id=cid, tag_id=request.tag_id, actor=actor)
    elif action == "set_status" and request.status:
        svc.set_status(session=session, customer_id=cid, status=request.status, actor=actor)
    elif action == "block":
        svc.block_customer(
            session=session, customer_id=cid, reason=request.reason or "", actor=actor
        )
    elif action == "unblock":
        svc.unblock_customer(session=session, customer_id=cid, actor=actor)
    elif action == "delete":
        if customer.deleted_at is not None:
            return False
        svc.delete_customer(session=session, customer_id=cid, actor=actor)
    elif action == "restore":
        svc.restore_customer(session=session, customer_id=cid, actor=actor)
    elif action == "enrol" and request.program_id:
        from frontdesk.data import rewards

        rewards.enrol(
            session=session,
            customer_id=cid,
            program_id=request.program_id,
            starting_balance=request.starting_balance,
            actor=actor,
        )
        return True
    else:
        return False
    return customer.version != version or action in {"delete", "restore"}

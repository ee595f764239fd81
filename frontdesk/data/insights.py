"""Insight at a glance: a customer's trends, visit rhythm and value; the business as a whole.

Every figure is one SQL aggregate (no rows are loaded into Python and nothing is cached), so
it stays exact after a merge (bookings and orders move to the survivor), a refund, a
cancellation or a deleted booking. A customer's figures are summed from their own rows; the
business overview and the due-back and lapsed filters from roll-up tables that database
triggers keep in step with every write (migration 0010; ``models.Insight*``): bookings per
day, branch, service and status; money per day and branch; each customer's visit days with
the previous one (``insight_visit``), counted per day and previous day (``insight_gap``: the
distinct customers who came in a run of days are the counts whose previous visit is older
than the run); each customer's last visit and median interval; and all each customer ever
paid (a bound that limits the search for the top customers).

Definitions (the profile's ``?`` help and the README say the same):

- spending: payments minus refunds, by the month the money moved (a refund lowers the month
  it was given back in); lifetime value is that sum to date, the 12-month value the sum over
  the last 365 days.
- visits: completed bookings. The usual interval is the median of the days between one
  completed visit and the next; the next visit is expected that many days after the last one.
  Rhythm status: *lapsed* when the last visit is ``lapsed_after_days`` (setting) days ago or
  more; otherwise *due* when the days since the last visit exceed the usual interval by more
  than ``due_back_margin_days`` (setting); otherwise *on time*. No status before two visits
  (except lapsed).
- business: a *new* customer in a month made their first completed visit (at the branch, when
  one is chosen) that month; *returning* customers visited that month and had visited before;
  *active* customers made a completed visit in the period; *retention* is the share of the
  customers who visited in the 12 months before the last 12 months (up to the period's end)
  who visited again in the last 12 months; no-show and cancellation rates are shares of the
  settled bookings (completed, cancelled, no-show) that started in the period.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Float, Integer, String, case, func, literal, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, select

from frontdesk.data.customers import live
from frontdesk.data.models import (
    Booking,
    BookingStatus,
    Branch,
    Customer,
    InsightDay,
    InsightGap,
    InsightMoney,
    InsightPayer,
    InsightRhythm,
    Order,
    Payment,
    Refund,
    Service,
    ServiceType,
    Staff,
    utcnow,
)
from frontdesk.data.roles import own_bookings_only, require, sees_money
from frontdesk.data.settings import get_setting

T = TypeVar("T")

MONTHS = 24  # the profile's chart
TOP = 5  # most booked services / staff in the profile
TOP_CUSTOMERS = 10  # in the business overview
PAYER_WALK = 640  # the most biggest payers the top customers are sought among
DONE = BookingStatus.COMPLETED.value
SETTLED = (DONE, BookingStatus.CANCELLED.value, BookingStatus.NO_SHOW.value)
DUE_MARGIN_KEY = "due_back_margin_days"
LAPSED_KEY = "lapsed_after_days"


# --------------------------------------------------------------------------- SQL helpers


class month_of(FunctionElement[str]):
    """'YYYY-MM' of a timestamp, on every database."""

    type = String()
    inherit_cache = True
    name = "month_of"


@compiles(month_of)
def _month_sqlite(element: month_of, compiler: Any, **kw: Any) -> str:
    # SQLite keeps timestamps as ISO text ('2026-11-02 12:00:00.000000'): its first seven
    # characters are the month, read several times faster than strftime would.
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 7)"


@compiles(month_of, "postgresql")
def _month_pg(element: month_of, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


class day_number(FunctionElement[int]):
    """The calendar day of a timestamp as a whole number (days since 1970-01-01)."""

    type = Integer()
    inherit_cache = True
    name = "day_number"


@compiles(day_number)
def _day_sqlite(element: day_number, compiler: Any, **kw: Any) -> str:
    inner = compiler.process(element.clauses, **kw)
    return f"CAST(julianday(date({inner})) - 2440587.5 AS INTEGER)"


@compiles(day_number, "postgresql")
def _day_pg(element: day_number, compiler: Any, **kw: Any) -> str:
    inner = compiler.process(element.clauses, **kw)
    return f"(CAST({inner} AS DATE) - DATE '1970-01-01')"


def day_of(value: date | datetime) -> int:
    """Python's side of :class:`day_number`."""
    if isinstance(value, datetime):
        value = value.date()
    return (value - date(1970, 1, 1)).days


def _naive(value: datetime) -> datetime:
    """A time as the database columns take it (UTC, aware)."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _start(d: date) -> datetime:
    return datetime.combine(d, datetime.min.time(), UTC)


def _end(d: date) -> datetime:
    return datetime.combine(d, datetime.max.time(), UTC)


def month_keys(first: date, last: date) -> list[str]:
    """'YYYY-MM' of every month from ``first``'s to ``last``'s, oldest first."""
    out: list[str] = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def months_back(today: date, n: int) -> date:
    """The first day of the month ``n - 1`` months before ``today``'s (n months in all)."""
    total = today.year * 12 + today.month - 1 - (n - 1)
    return date(total // 12, total % 12 + 1, 1)


def money_moves(
    customer_id: int | None = None, branch_id: int | None = None, customers: Any = None
) -> Any:
    """Every payment (+) and refund (-) with its time, customer and branch: a subquery
    (of one customer, one branch, or the customers a select of ids gives)."""
    paid: Any = sa_select(
        col(Payment.at).label("at"),
        col(Payment.amount_cents).label("cents"),
        col(Order.customer_id).label("customer_id"),
        col(Order.branch_id).label("branch_id"),
    ).join(Order, col(Order.id) == col(Payment.order_id))
    back: Any = sa_select(
        col(Refund.at).label("at"),
        (-col(Refund.amount_cents)).label("cents"),
        col(Order.customer_id).label("customer_id"),
        col(Order.branch_id).label("branch_id"),
    ).join(Order, col(Order.id) == col(Refund.order_id))
    if customer_id is not None:
        paid = paid.where(col(Order.customer_id) == customer_id)
        back = back.where(col(Order.customer_id) == customer_id)
    if customers is not None:
        paid = paid.where(col(Order.customer_id).in_(customers))
        back = back.where(col(Order.customer_id).in_(customers))
    if branch_id is not None:
        paid = paid.where(col(Order.branch_id) == branch_id)
        back = back.where(col(Order.branch_id) == branch_id)
    return union_all(paid, back).subquery("moves")


def median_interval(customer_id: Any, staff_id: int | None = None) -> Any:
    """The median number of days between one completed visit of ``customer_id`` (a value or
    a correlated column) and the next, as a scalar subquery (NULL before two visits); with
    ``staff_id``, of their visits to that staff member only."""
    day = day_number(col(Booking.start_at))
    whose = [] if staff_id is None else [col(Booking.staff_id) == staff_id]
    gaps = (
        sa_select(
            (day - func.lag(day).over(order_by=(col(Booking.start_at), col(Booking.id)))).label(
                "gap"
            )
        )
        .where(col(Booking.customer_id) == customer_id, col(Booking.status) == DONE, *whose)
        # a derived table is not correlated by itself: without this, the directory filter
        # would read every customer's bookings here instead of the outer customer's
        .correlate(Customer)
        .subquery("gaps")
    )
    ranked = (
        sa_select(
            gaps.c.gap,
            func.row_number().over(order_by=gaps.c.gap).label("rn"),
            func.count().over().label("n"),
        )
        .where(gaps.c.gap.is_not(None))
        .subquery("ranked")
    )
    middle = (ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2
    return (
        sa_select(func.avg(ranked.c.gap * literal(1.0, Float)))
        .where(ranked.c.rn.in_(middle))
        .scalar_subquery()
    )


# --------------------------------------------------------------------------- settings


def margins(session: Session) -> tuple[int, int]:
    """(due-back margin days, lapsed-after days) from the business settings."""
    due = get_setting(session=session, key=DUE_MARGIN_KEY)
    lapsed = get_setting(session=session, key=LAPSED_KEY)
    return int(due), int(lapsed)


# --------------------------------------------------------------------------- directory filters


def due_back_condition(margin_days: int, lapsed_days: int, now: datetime) -> Any:
    """Customers past their usual interval by more than ``margin_days`` and not lapsed.

    Read from insight_rhythm (each customer's last visit day and median interval, kept by
    triggers as :func:`customer_insight` works them out), not from every booking."""
    today = day_of(now)
    last = col(InsightRhythm.last_day)
    return col(Customer.id).in_(
        sa_select(col(InsightRhythm.customer_id)).where(
            last > today - lapsed_days,
            (literal(today) - last) > col(InsightRhythm.median_gap) + margin_days,
        )
    )


def lapsed_condition(lapsed_days: int, now: datetime) -> Any:
    """Customers whose last completed visit was ``lapsed_days`` days ago or more."""
    return col(Customer.id).in_(
        sa_select(col(InsightRhythm.customer_id)).where(
            col(InsightRhythm.last_day) <= day_of(now) - lapsed_days
        )
    )


def new_this_month_condition(now: datetime) -> Any:
    """Customers added this calendar month."""
    return col(Customer.created_at) >= _start(_naive(now).date().replace(day=1))


def value_12m_of(now: datetime, customers: Any = None) -> Any:
    """Per customer net income over the last 365 days: (customer_id, value) subquery (of the
    customers a select of ids gives, or everyone)."""
    moves = money_moves(customers=customers)
    since = _naive(now) - timedelta(days=365)
    return (
        sa_select(moves.c.customer_id, func.sum(moves.c.cents).label("value"))
        .where(moves.c.at > since, moves.c.at <= _naive(now))
        .group_by(moves.c.customer_id)
        .subquery("value12")
    )


def _top_values(n: int, now: datetime, customers: Any = None) -> Any:
    values = value_12m_of(now, customers)
    return (
        sa_select(values.c.customer_id, values.c.value)
        .join(Customer, col(Customer.id) == values.c.customer_id)
        .where(live(), values.c.value > 0)
        .order_by(values.c.value.desc(), values.c.customer_id)
        .limit(n)
    )


def top_value_condition(n: int, now: datetime) -> Any:
    """The ``n`` live customers with the highest 12-month value (above zero)."""
    return col(Customer.id).in_(sa_select(_top_values(n, now).subquery().c.customer_id))


def top_value_ids(session: Session, n: int, now: datetime) -> list[int]:
    """The ids of :func:`top_value_condition`'s customers, highest value first: sought among
    the biggest payers (as the business overview's top customers), not summed over everyone
    (800 ms at a million customers)."""
    since = _naive(now) - timedelta(days=365)

    def leaders(among: Any) -> list[tuple[int, int]]:
        return [(int(c), int(v)) for c, v in session.execute(_top_values(n, now, among))]

    found = _sought_among_payers(session, 0, since, n, n * 64, leaders, lambda row: row[1])
    return [cid for cid, _value in found]


def _sought_among_payers(
    session: Session,
    scope: int,
    lo: datetime,
    n: int,
    walk_limit: int,
    leaders: Callable[[Any], list[T]],
    value: Callable[[T], int],
) -> list[T]:
    """The ``n`` leaders by net income since ``lo`` (``leaders(among)``: of the customers the
    select ``among`` gives, or of everyone for ``None``; highest first).

    Net income in a period is at most all a customer ever paid (insight_payer), so the
    leaders are sought among the biggest payers who paid on or after ``lo``: if the ``n``-th
    leader among the first ``m`` of them has more than the ``m``-th paid in all, nobody
    further down can pass them; otherwise ``m`` grows eightfold, and past ``walk_limit`` (a
    short or long-past period, whose leaders paid less in it than many paid in all) the
    period's money is summed per customer."""
    m = n * 8
    while True:
        payers = (
            sa_select(col(InsightPayer.customer_id), col(InsightPayer.paid_cents))
            .where(
                col(InsightPayer.scope) == scope,
                col(InsightPayer.last_day) >= day_of(lo),
                col(InsightPayer.paid_cents) > 0,
            )
            .order_by(col(InsightPayer.paid_cents).desc(), col(InsightPayer.customer_id))
            .limit(m)
            .subquery("payers")
        )
        walk = m <= walk_limit
        top = leaders(sa_select(payers.c.customer_id) if walk else None)
        if not walk:
            return top
        seen, bound = session.execute(sa_select(func.count(), func.min(payers.c.paid_cents))).one()
        if seen < m or (len(top) == n and value(top[-1]) > (bound or 0)):
            return top
        m *= 8


# --------------------------------------------------------------------------- one customer


@dataclass(frozen=True)
class MonthFigures:
    month: str  # 'YYYY-MM'
    visits: int
    spent_cents: int | None  # None: not shown to this role


@dataclass(frozen=True)
class Rhythm:
    visits: int
    last_visit: date | None
    usual_interval_days: float | None  # median; None before two visits
    expected_next: date | None
    days_since: int | None
    status: str | None  # "on time" | "due" | "lapsed" | None
    margin_days: int
    lapsed_days: int


@dataclass(frozen=True)
class CustomerInsight:
    months: list[MonthFigures]  # the last 24 months, oldest first (this month last)
    rhythm: Rhythm
    top_services: list[tuple[str, int]]  # completed visits per service, most first
    top_staff: list[tuple[str, int]]
    lifetime_value_cents: int | None  # None: money is not shown to this role
    value_12m_cents: int | None
    shows_money: bool
    own_bookings: bool = False  # a therapist's: their own bookings with the customer only


def rhythm_status(
    days_since: int | None, median: float | None, margin_days: int, lapsed_days: int
) -> str | None:
    if days_since is None:
        return None
    if days_since >= lapsed_days:
        return "lapsed"
    if median is None:
        return None
    return "due" if days_since > median + margin_days else "on time"


def customer_insight(
    *, session: Session, customer_id: int, actor: Staff | None, now: datetime | None = None
) -> CustomerInsight:
    """The profile's trends, rhythm and value for one (live) customer.

    A therapist sees visits, rhythm and the most booked services and staff of their own
    bookings only (the role reads no other bookings), and no money (spending per month,
    lifetime and 12-month value)."""
    require(actor, "read")
    shows_money = sees_money(actor)
    own = own_bookings_only(actor)
    whose = [] if own is None else [col(Booking.staff_id) == own]
    now = _naive(now or utcnow())
    today = now.date()
    first = months_back(today, MONTHS)
    keys = month_keys(first, today)
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    cid = customer_id
    visits_by_month = {
        m: int(n)
        for m, n in session.execute(
            sa_select(month_of(col(Booking.start_at)), func.count())
            .where(
                col(Booking.customer_id) == cid,
                col(Booking.status) == DONE,
                col(Booking.start_at) >= _start(first),
                # The whole of this month: a visit marked done before its start time (later
                # today) is counted in "Total visits" and was missing here.
                col(Booking.start_at) < _start(next_month),
                *whose,
            )
            .group_by(month_of(col(Booking.start_at)))
        )
    }
    spent: dict[str, int] = {}
    ltv = value12 = None
    if shows_money:
        moves = money_moves(customer_id=cid)
        spent = {
            m: int(v)
            for m, v in session.execute(
                sa_select(month_of(moves.c.at), func.sum(moves.c.cents))
                .where(moves.c.at >= _start(first), moves.c.at <= now)
                .group_by(month_of(moves.c.at))
            )
        }
        since = now - timedelta(days=365)
        total, recent = session.execute(
            sa_select(
                func.coalesce(func.sum(moves.c.cents), 0),
                func.coalesce(func.sum(case((moves.c.at > since, moves.c.cents), else_=0)), 0),
            ).where(moves.c.at <= now)
        ).one()
        ltv, value12 = int(total), int(recent)
    months = [
        MonthFigures(m, visits_by_month.get(m, 0), spent.get(m, 0) if shows_money else None)
        for m in keys
    ]
    visits, last_day = session.execute(
        sa_select(func.count(), func.max(day_number(col(Booking.start_at)))).where(
            col(Booking.customer_id) == cid, col(Booking.status) == DONE, *whose
        )
    ).one()
    median = session.execute(sa_select(median_interval(cid, own))).scalar_one()
    median = float(median) if median is not None else None
    margin_days, lapsed_days = margins(session)
    last = date(1970, 1, 1) + timedelta(days=int(last_day)) if last_day is not None else None
    days_since = day_of(today) - int(last_day) if last_day is not None else None
    expected = last + timedelta(days=int(median + 0.5)) if last and median is not None else None
    rhythm = Rhythm(
        visits=int(visits),
        last_visit=last,
        usual_interval_days=median,
        expected_next=expected,
        days_since=days_since,
        status=rhythm_status(days_since, median, margin_days, lapsed_days),
        margin_days=margin_days,
        lapsed_days=lapsed_days,
    )
    return CustomerInsight(
        months=months,
        rhythm=rhythm,
        top_services=_most_booked(
            session, cid, col(Service.name), Service, Booking.service_id, own
        ),
        top_staff=_most_booked(session, cid, col(Staff.name), Staff, Booking.staff_id, own),
        own_bookings=own is not None,
        lifetime_value_cents=ltv,
        value_12m_cents=value12,
        shows_money=shows_money,
    )


def _most_booked(
    session: Session, customer_id: int, name: Any, model: Any, key: Any, staff_id: int | None
) -> list[tuple[str, int]]:
    """Completed visits per service (or staff member), most first, then by name (with
    ``staff_id``: that staff member's only)."""
    n = func.count().label("n")
    whose = [] if staff_id is None else [col(Booking.staff_id) == staff_id]
    stmt = (
        sa_select(name, n)
        .select_from(Booking)
        .join(model, col(model.id) == col(key))
        .where(col(Booking.customer_id) == customer_id, col(Booking.status) == DONE, *whose)
        .group_by(col(model.id), name)
        .order_by(n.desc(), name)
        .limit(TOP)
    )
    return [(str(label), int(count)) for label, count in session.execute(stmt)]


# --------------------------------------------------------------------------- the business


@dataclass(frozen=True)
class BusinessMonth:
    month: str
    new_customers: int
    returning_customers: int
    visits: int
    revenue_cents: int


@dataclass(frozen=True)
class CategoryShare:
    name: str
    visits: int
    value_cents: int  # the price of those visits


@dataclass(frozen=True)
class TopCustomer:
    code: str
    name: str
    value_cents: int  # net income in the period
    visits: int


@dataclass(frozen=True)
class BusinessOverview:
    branch: str | None  # None: every branch
    date_from: date
    date_to: date
    months: list[BusinessMonth]
    active_customers: int
    retained: int
    last_year_customers: int
    settled_bookings: int
    no_shows: int
    cancellations: int
    revenue_cents: int
    categories: list[CategoryShare]
    top_customers: list[TopCustomer]
    currency: str = "USD"
    branches: list[tuple[int, str]] = field(default_factory=list)

    @property
    def retention(self) -> float | None:
        return self.retained / self.last_year_customers if self.last_year_customers else None

    @property
    def no_show_rate(self) -> float | None:
        return self.no_shows / self.settled_bookings if self.settled_bookings else None

    @property
    def cancellation_rate(self) -> float | None:
        return self.cancellations / self.settled_bookings if self.settled_bookings else None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["date_from"] = self.date_from.isoformat()
        out["date_to"] = self.date_to.isoformat()
        out["retention"] = self.retention
        out["no_show_rate"] = self.no_show_rate
        out["cancellation_rate"] = self.cancellation_rate
        out.pop("branches")
        return out


def default_period(now: datetime) -> tuple[date, date]:
    """The last 12 months: from the first of the month 11 months ago to today."""
    today = _naive(now).date()
    return months_back(today, 12), today


def _one_year_before(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def business_overview(
    *,
    session: Session,
    actor: Staff | None,
    branch_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    now: datetime | None = None,
) -> BusinessOverview:
    """The business at a glance (admins and reception), for one branch or all."""
    from frontdesk.data.errors import ValidationFailed

    require(actor, "insights")
    now = _naive(now or utcnow())
    default_from, default_to = default_period(now)
    date_from = date_from or (
        months_back(date_to, 12) if date_to and date_to < default_from else default_from
    )
    date_to = date_to or default_to
    if date_to < date_from:
        raise ValidationFailed("to", "is before 'from'")
    branch_name = None
    if branch_id is not None:
        branch = session.get(Branch, branch_id)
        if branch is None:
            raise ValidationFailed("branch", f"no branch with id {branch_id}")
        branch_name = branch.name
    lo, hi = _start(date_from), _end(date_to)
    at_branch = [col(Booking.branch_id) == branch_id] if branch_id is not None else []
    in_period = [col(Booking.start_at) >= lo, col(Booking.start_at) <= hi, *at_branch]
    done = col(Booking.status) == DONE
    lo_day, hi_day = day_of(date_from), day_of(date_to)

    # bookings per month, status and category: one pass over insight_day (a row per branch,
    # day, service and status) grouped by month and service, then summed per month and per
    # category in the same statement
    status = col(InsightDay.status)

    def of(value: str, column: Any = col(InsightDay.bookings)) -> Any:
        return func.sum(case((status == value, column), else_=0))

    per_service = (
        sa_select(
            col(InsightDay.month_day).label("month_day"),
            col(InsightDay.service_id).label("service_id"),
            of(DONE).label("done"),
            of(BookingStatus.CANCELLED.value).label("cancelled"),
            of(BookingStatus.NO_SHOW.value).label("no_show"),
            of(DONE, col(InsightDay.price_cents)).label("value"),
        )
        .where(
            # the months first (the key's lead), then the days
            col(InsightDay.month_day).between(day_of(date_from.replace(day=1)), hi_day),
            col(InsightDay.day).between(lo_day, hi_day),
            *([col(InsightDay.branch_id) == branch_id] if branch_id is not None else []),
            status.in_(SETTLED),
        )
        .group_by(col(InsightDay.month_day), col(InsightDay.service_id))
        .cte("per_service")
    )
    g = per_service.c
    per_month = sa_select(
        literal(0).label("kind"),
        g.month_day.label("key"),
        literal("", String).label("name"),
        func.sum(g.done).label("done"),
        func.sum(g.cancelled).label("cancelled"),
        func.sum(g.no_show).label("no_show"),
        literal(0).label("value"),
    ).group_by(g.month_day)
    per_category = (
        sa_select(
            literal(1).label("kind"),
            col(ServiceType.id),
            col(ServiceType.name),
            func.sum(g.done),
            literal(0),
            literal(0),
            func.sum(g.value),
        )
        .select_from(per_service)
        .join(Service, col(Service.id) == g.service_id)
        .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
        .group_by(col(ServiceType.id), col(ServiceType.name))
        .having(func.sum(g.done) > 0)
    )
    both = union_all(per_month, per_category).subquery("both")
    bookings_by_month: dict[str, tuple[int, int, int]] = {}  # completed, cancelled, no-show
    categories: list[CategoryShare] = []
    for kind, key, name, done_n, cancelled_n, no_show_n, value in session.execute(
        sa_select(both).order_by(both.c.kind, both.c.done.desc(), both.c.name)
    ):
        if kind == 0:
            bookings_by_month[_month_label(key)] = (int(done_n), int(cancelled_n), int(no_show_n))
        else:
            categories.append(CategoryShare(str(name), int(done_n), int(value or 0)))
    # distinct customers: insight_gap counts visit days by the previous visit's day, so the
    # customers who came in a run of days are the days' counts whose previous visit is older
    scope = col(InsightGap.scope) == (branch_id or 0)
    n = col(InsightGap.n)
    prev = col(InsightGap.prev_day)
    month_start = case(
        (col(InsightGap.month_day) > lo_day, col(InsightGap.month_day)), else_=lo_day
    )
    visitors_by_month = {
        _month_label(md): (int(visitors), int(new))
        for md, visitors, new in session.execute(
            sa_select(
                col(InsightGap.month_day),
                func.sum(case((prev < month_start, n), else_=0)),
                func.sum(case((prev == -1, n), else_=0)),
            )
            .where(scope, col(InsightGap.day).between(lo_day, hi_day))
            .group_by(col(InsightGap.month_day))
        )
    }
    mdays = col(InsightMoney.day).between(lo_day, hi_day)
    mbranch = [col(InsightMoney.branch_id) == branch_id] if branch_id is not None else []
    revenue_by_month = {
        _month_label(md): int(v)
        for md, v in session.execute(
            sa_select(col(InsightMoney.month_day), func.sum(col(InsightMoney.cents)))
            .where(mdays, *mbranch)
            .group_by(col(InsightMoney.month_day))
        )
    }
    months = []
    for m in month_keys(date_from, date_to):
        visitors, new = visitors_by_month.get(m, (0, 0))
        visits = bookings_by_month.get(m, (0, 0, 0))[0]
        months.append(BusinessMonth(m, new, visitors - new, visits, revenue_by_month.get(m, 0)))
    # the period's settled bookings: its months' (each month's figures are SQL sums)
    settled = sum(sum(figures) for figures in bookings_by_month.values())
    cancelled = sum(figures[1] for figures in bookings_by_month.values())
    no_shows = sum(figures[2] for figures in bookings_by_month.values())

    # active: visitors in the period; retention: last year's visitors who came back this
    # year (years ending at date_to)
    this_start = day_of(_one_year_before(date_to) + timedelta(days=1))
    last_start = day_of(_one_year_before(_one_year_before(date_to)) + timedelta(days=1))
    day = col(InsightGap.day)
    active, last_count, retained = session.execute(
        sa_select(
            func.sum(case(((day >= lo_day) & (prev < lo_day), n), else_=0)),
            func.sum(case(((day < this_start) & (prev < last_start), n), else_=0)),
            func.sum(
                case(
                    ((day >= this_start) & (prev >= last_start) & (prev < this_start), n),
                    else_=0,
                )
            ),
        ).where(scope, day.between(min(lo_day, last_start), hi_day))
    ).one()

    top = _top_customers(session, branch_id, lo, hi, [done, *in_period])
    revenue = sum(m.revenue_cents for m in months)
    return BusinessOverview(
        branch=branch_name,
        date_from=date_from,
        date_to=date_to,
        months=months,
        active_customers=int(active or 0),
        retained=int(retained or 0),
        last_year_customers=int(last_count or 0),
        settled_bookings=int(settled or 0),
        no_shows=int(no_shows or 0),
        cancellations=int(cancelled or 0),
        revenue_cents=revenue,
        categories=categories,
        top_customers=top,
        currency=str(get_setting(session=session, key="currency") or "USD"),
        branches=[
            (b.id or 0, b.name) for b in session.exec(select(Branch).order_by(col(Branch.name)))
        ],
    )


def _top_customers(
    session: Session, branch_id: int | None, lo: datetime, hi: datetime, visits_where: list[Any]
) -> list[TopCustomer]:
    """The live customers with the highest net income in ``lo .. hi`` (above zero).

    Net income in a period is at most all a customer ever paid (insight_payer), so the
    leaders are sought among the biggest payers who paid on or after ``lo``
    (:func:`_sought_among_payers`; past PAYER_WALK the period's money is summed per customer,
    read through its time index)."""
    return _sought_among_payers(
        session,
        branch_id or 0,
        lo,
        TOP_CUSTOMERS,
        PAYER_WALK,
        lambda among: _leaders(
            session, money_moves(branch_id=branch_id, customers=among), lo, hi, visits_where
        ),
        lambda leader: leader.value_cents,
    )


def _leaders(
    session: Session, moves: Any, lo: datetime, hi: datetime, visits_where: list[Any]
) -> list[TopCustomer]:
    value = func.sum(moves.c.cents).label("value")
    top_values = (
        sa_select(moves.c.customer_id, value)
        .where(moves.c.at >= lo, moves.c.at <= hi)
        .group_by(moves.c.customer_id)
        .having(func.sum(moves.c.cents) > 0)
        .subquery("top_values")
    )
    leaders = (
        sa_select(
            col(Customer.id).label("cid"),
            col(Customer.code).label("code"),
            col(Customer.first_name).label("first"),
            col(Customer.last_name).label("last"),
            col(Customer.display_name).label("display"),
            top_values.c.value,
        )
        .join(Customer, col(Customer.id) == top_values.c.customer_id)
        .where(live())
        .order_by(top_values.c.value.desc(), col(Customer.code))
        .limit(TOP_CUSTOMERS)
        .subquery("leaders")
    )
    visits_in_period = (  # counted for the ten leaders only
        sa_select(func.count())
        .where(col(Booking.customer_id) == leaders.c.cid, *visits_where)
        .scalar_subquery()
    )
    return [
        TopCustomer(code, _name(first, last, display), int(value), int(count))
        for code, first, last, display, value, count in session.execute(
            sa_select(
                leaders.c.code,
                leaders.c.first,
                leaders.c.last,
                leaders.c.display,
                leaders.c.value,
                visits_in_period,
            ).order_by(leaders.c.value.desc(), leaders.c.code)
        )
    ]


def _month_label(month_day: int) -> str:
    """'YYYY-MM' of a roll-up's month (the first of the month as days since 1970-01-01)."""
    return (date(1970, 1, 1) + timedelta(days=int(month_day))).strftime("%Y-%m")


def _name(first: str | None, last: str | None, display: str | None) -> str:
    return display or " ".join(p for p in (first, last) if p)


def find_branch(*, session: Session, name: str) -> int:
    """A branch by its name (case-insensitive) or id, for the command line."""
    from frontdesk.data.errors import ValidationFailed

    text = name.strip()
    for b in session.exec(select(Branch)):
        if b.name.casefold() == text.casefold() or str(b.id) == text:
            return b.id or 0
    raise ValidationFailed("branch", f"no branch called {name!r}")


# --------------------------------------------------------------------------- figures out


def overview_rows(view: BusinessOverview) -> list[list[Any]]:
    """The business overview as rows of a table (CSV export and the figures on demand)."""

    def pct(x: float | None) -> str:
        return "" if x is None else f"{x * 100:.1f}%"

    def cents(x: int) -> str:
        return f"{x / 100:.2f}"

    rows: list[list[Any]] = [
        [
            "Business overview",
            view.branch or "All branches",
            str(view.date_from),
            str(view.date_to),
        ],
        [],
        ["Month", "New customers", "Returning customers", "Visits", f"Revenue ({view.currency})"],
    ]
    rows += [
        [m.month, m.new_customers, m.returning_customers, m.visits, cents(m.revenue_cents)]
        for m in view.months
    ]
    rows += [
        [],
        ["Figure", "Value"],
        ["Active customers", view.active_customers],
        ["Retention", pct(view.retention)],
        ["Last year's customers", view.last_year_customers],
        ["Came back this year", view.retained],
        ["Settled bookings", view.settled_bookings],
        ["No-show rate", pct(view.no_show_rate)],
        ["Cancellation rate", pct(view.cancellation_rate)],
        [f"Revenue ({view.currency})", cents(view.revenue_cents)],
        [],
        ["Category", "Visits", f"Value ({view.currency})"],
    ]
    rows += [[c.name, c.visits, cents(c.value_cents)] for c in view.categories]
    rows += [[], ["Top customer", "Name", f"Value ({view.currency})", "Visits"]]
    rows += [[t.code, t.name, cents(t.value_cents), t.visits] for t in view.top_customers]
    return rows


def export_overview(
    *, view: BusinessOverview, path: Path, plain: bool = False, overwrite: bool = False
) -> int:
    """Write the figures to ``path`` (CSV, or XLSX by extension) privately (0600), the way
    customer exports are written; returns the number of rows. An existing file is replaced
    only with ``overwrite`` (else ``TargetExists``); callers vet ``path`` first with
    :func:`frontdesk.data.targets.check_target` (never the database's own files)."""
    from frontdesk.data.exporting import _Writer

    rows = overview_rows(view)
    writer = _Writer(path, plain, overwrite)
    try:
        for row in rows:
            writer.row(row)
        writer.finish()
    except BaseException:
        writer.discard()
        raise
    return len(rows)


def overview_json(view: BusinessOverview) -> str:
    return json.dumps(view.as_dict(), indent=2, ensure_ascii=False)


# --------------------------------------------------------------------------- the profile tab


@dataclass(frozen=True)
class ProfileOverview:
    """The profile's Overview tab: the totals and the insight, in one read."""

    stats: Any  # profile.CustomerStats
    insight: CustomerInsight


def load_profile_overview(
    *, session: Session, customer_id: int, actor: Staff | None, now: datetime | None = None
) -> ProfileOverview:
    """The Overview tab of a customer (a merged-away one shows the survivor)."""
    from frontdesk.data import profile

    customer = profile._live(session, customer_id)
    return ProfileOverview(
        stats=profile.customer_stats(
            session=session,
            customer=customer,
            now=now,
            money=sees_money(actor),
            staff_id=own_bookings_only(actor),
        ),
        insight=customer_insight(
            session=session, customer_id=customer.id or 0, actor=actor, now=now
        ),
    )

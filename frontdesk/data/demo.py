"""Realistic demo data, streamed in batches so that a million customers fit in memory.

Everything is derived from a seed, so ``frontdesk demo --seed 7`` gives the same database every
time. Bookings are laid on a per-therapist grid of hourly slots, so no staff member is ever
double-booked, and orders, payments, refunds, points and notes follow from the bookings.
"""

from __future__ import annotations

import queue
import random
import sys
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain
from typing import Any

from sqlalchemy import Engine, insert, text, update
from sqlmodel import Session, SQLModel, col, select

from frontdesk.data.bulk import insert_with_ids
from frontdesk.data.customers import compute_keys, format_code
from frontdesk.data.db import TALLY_MIGRATION, is_sqlite, migration_module
from frontdesk.data.models import (
    Booking,
    BookingStatus,
    Branch,
    Category,
    Counter,
    CreatedVia,
    Customer,
    LedgerAction,
    LoyaltyProgram,
    NoteCategory,
    OrderStatus,
    Package,
    PackageItem,
    Service,
    ServiceType,
    Staff,
    StaffRole,
    Tag,
)

Progress = Callable[[int], None]

# Country: (weight, phone prefix, free digits, first names, last names, email domains, cities)
COUNTRIES: dict[str, tuple[int, str, int, list[str], list[str], list[str], list[str]]] = {
    "US": (
        30,
        "+1415",
        7,
        [
            "Emma",
            "Olivia",
            "Ava",
            "Sophia",
            "Mia",
            "Liam",
            "Noah",
            "James",
            "Lucas",
            "Ethan",
            "Maria",
            "Grace",
        ],
        [
            "Smith",
            "Johnson",
            "Williams",
            "Brown",
            "Jones",
            "Garcia",
            "Miller",
            "Davis",
            "Wilson",
            "Taylor",
            "Moore",
        ],
        ["gmail.com", "yahoo.com", "outlook.com", "icloud.com"],
        ["San Francisco", "Oakland", "Berkeley", "San Jose"],
    ),
    "GB": (
        15,
        "+447400",
        6,
        [
            "Amelia",
            "Isla",
            "Poppy",
            "Harry",
            "Oliver",
            "George",
            "Freya",
            "Alfie",
            "Charlotte",
            "Arthur",
        ],
        [
            "Smith",
            "Jones",
            "Taylor",
            "Evans",
            "Thomas",
            "Roberts",
            "Walker",
            "Wright",
            "Hughes",
            "Clarke",
        ],
        ["gmail.com", "btinternet.com", "hotmail.co.uk"],
        ["London", "Bristol", "Leeds", "Brighton"],
    ),
    "NL": (
        15,
        "+3162",
        7,
        [
            "Sanne",
            "Emma",
            "Daan",
            "Lotte",
            "Sem",
            "Anouk",
            "Bram",
            "Femke",
            "Jesse",
            "Noor",
            "Maria",
        ],
        [
            "de Jong",
            "Jansen",
            "de Vries",
            "van den Berg",
            "Bakker",
            "Visser",
            "Smit",
            "Meijer",
            "Mulder",
            "Bos",
        ],
        ["gmail.com", "ziggo.nl", "kpnmail.nl", "hotmail.nl"],
        ["Amsterdam", "Utrecht", "Rotterdam", "Den Haag"],
    ),
    "DE": (
        10,
        "+49151",
        8,
        [
            "Lena",
            "Hannah",
            "Jonas",
            "Lukas",
            "Leonie",
            "Felix",
            "Sophie",
            "Maximilian",
            "Jürgen",
            "Jörg",
        ],
        [
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schäfer",
            "Koch",
        ],
        ["gmx.de", "web.de", "t-online.de", "gmail.com"],
        ["Berlin", "Hamburg", "München", "Köln"],
    ),
    "FR": (
        10,
        "+336",
        8,
        ["Léa", "Chloé", "Manon", "Louis", "Hugo", "Gabriel", "Élodie", "Zoé", "Théo", "Inès"],
        [
            "Martin",
            "Bernard",
            "Dubois",
            "Thomas",
            "Robert",
            "Richard",
            "Petit",
            "Durand",
            "Leroy",
            "Moreau",
        ],
        ["orange.fr", "free.fr", "gmail.com", "laposte.net"],
        ["Paris", "Lyon", "Marseille", "Lille"],
    ),
    "ES": (
        10,
        "+346",
        8,
        [
            "Lucía",
            "María",
            "Martina",
            "Hugo",
            "Mateo",
            "Pablo",
            "Sofía",
            "Álvaro",
            "José",
            "Carmen",
        ],
        [
            "García",
            "Fernández",
            "González",
            "Rodríguez",
            "López",
            "Martínez",
            "Sánchez",
            "Pérez",
            "Gómez",
        ],
        ["gmail.com", "hotmail.es", "telefonica.net"],
        ["Madrid", "Barcelona", "Valencia", "Sevilla"],
    ),
    "IT": (
        10,
        "+39312",
        7,
        [
            "Giulia",
            "Sofia",
            "Aurora",
            "Leonardo",
            "Francesco",
            "Alessandro",
            "Chiara",
            "Matteo",
            "Mario",
        ],
        [
            "Rossi",
            "Russo",
            "Ferrari",
            "Esposito",
            "Bianchi",
            "Romano",
            "Colombo",
            "Ricci",
            "Marino",
        ],
        ["libero.it", "gmail.com", "virgilio.it"],
        ["Roma", "Milano", "Napoli", "Torino"],
    ),
}

SERVICES = {
    "Hair": [
        ("Women's cut", 60, 6500),
        ("Men's cut", 30, 3500),
        ("Colour", 60, 9000),
        ("Blow-dry", 30, 3000),
    ],
    "Nails": [("Manicure", 45, 3500), ("Pedicure", 60, 4500), ("Gel polish", 45, 4000)],
    "Massage": [
        ("Swedish massage", 60, 8000),
        ("Deep tissue", 60, 9500),
        ("Back & neck", 30, 4500),
    ],
    "Skin": [("Facial", 60, 7500), ("Eyebrow shaping", 30, 2000)],
}
PACKAGES = [
    ("Spa day", 19900, [("Swedish massage", 1), ("Facial", 1), ("Manicure", 1)]),
    ("Five blow-dries", 13500, [("Blow-dry", 5)]),
    ("Bridal glow", 24900, [("Colour", 1), ("Facial", 1), ("Gel polish", 1)]),
]
TAGS = ["Student", "Corporate", "Referral", "Sensitive skin", "Newsletter club"]
NOTES = [
    ("Preferences", "Prefers **quiet** appointments, no small talk."),
    ("Preferences", "Likes oat milk latte while waiting."),
    ("Follow-up", "Call back about the *spa day* package."),
    ("Feedback", "Very happy with the last colour."),
    ("Issues", "Arrived 20 minutes late twice."),
]
ALERTS = [
    "Allergic to latex gloves.",
    "Nut allergy: no almond oil.",
    "Pregnant: no deep tissue work.",
]
CANCEL_REASONS = ["Feeling unwell", "Schedule clash", "Weather", "Childcare"]
SLOTS_PER_DAY = 10
OPENING_HOUR = 9


@dataclass
class DemoSummary:
    customers: int = 0
    bookings: int = 0
    orders: int = 0
    payments: int = 0
    refunds: int = 0
    enrolments: int = 0
    points_entries: int = 0
    notes: int = 0
    duplicates: int = 0
    # Staff members this run created: (username, name, role).
    staff: list[tuple[str, str, str]] = field(default_factory=list)


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii() and (ch.isalnum())).lower()


def _catalogue(
    session: Session,
    branches_wanted: int,
    rng: random.Random,
    created: list[tuple[str, str, str]] | None = None,
) -> dict[str, Any]:
    """Branches, staff, services, packages and tags (reused when they already exist).

    Staff members it adds are appended to ``created`` as (username, name, role)."""
    created = [] if created is None else created
    branches = list(session.exec(select(Branch).order_by(col(Branch.id))))
    names = [
        "Downtown",
        "Riverside",
        "Harbour",
        "Old Town",
        "Parkside",
        "Station",
        "Uptown",
        "Lakeside",
    ]
    for i in range(len(branches), branches_wanted):
        label = names[i] if i < len(names) else f"Branch {i + 1}"
        branch = Branch(name=label, address=f"{10 + i} Main Street")
        session.add(branch)
        branches.append(branch)
    session.flush()
    staff = list(session.exec(select(Staff).order_by(col(Staff.id))))
    taken = {s.username for s in staff if s.username}
    for name, username, role in (
        ("Alex Admin", "admin", StaffRole.ADMIN.value),
        ("Rita Reception", "rita", StaffRole.RECEPTION.value),
    ):
        if username not in taken:
            session.add(Staff(name=name, username=username, role=role, branch_id=branches[0].id))
            created.append((username, name, role))
    first = [
        "Nina",
        "Omar",
        "Petra",
        "Quinn",
        "Ravi",
        "Sara",
        "Tom",
        "Uma",
        "Vera",
        "Wes",
        "Yara",
        "Zoe",
    ]
    therapists = [s for s in staff if s.role == StaffRole.THERAPIST.value]
    have = {s.branch_id for s in therapists}
    for bi, branch in enumerate(branches):
        if branch.id in have:
            continue
        for k in range(5):
            given = first[(bi * 5 + k) % len(first)]
            letter = f"{chr(65 + bi % 26)}{bi // 26 or ''}"
            name = f"{given} {letter}."
            login = f"{given}.{letter}".lower()
            if login not in taken:
                created.append((login, name, StaffRole.THERAPIST.value))
            session.add(
                Staff(
                    name=name,
                    username=None if login in taken else login,
                    role=StaffRole.THERAPIST.value,
                    branch_id=branch.id,
                )
            )
    session.flush()
    therapists = list(
        session.exec(select(Staff).where(col(Staff.role) == StaffRole.THERAPIST.value))
    )
    services: list[Service] = list(session.exec(select(Service)))
    if not services:
        for type_name, items in SERVICES.items():
            stype = ServiceType(name=type_name)
            session.add(stype)
            session.flush()
            for name, minutes, price in items:
                services.append(
                    Service(
                        service_type_id=stype.id or 0,
                        name=name,
                        duration_minutes=minutes,
                        price_cents=price,
                    )
                )
        session.add_all(services)
        session.flush()
        by_name = {s.name: s for s in services}
        for name, price, contents in PACKAGES:
            package = Package(name=name, price_cents=price)
            session.add(package)
            session.flush()
            for service_name, qty in contents:
                session.add(
                    PackageItem(
                        package_id=package.id or 0,
                        service_id=by_name[service_name].id or 0,
                        quantity=qty,
                    )
                )
        for tag in TAGS:
            session.add(Tag(name=tag, key=tag.casefold()))
        session.flush()
    return {
        "branches": branches,
        "therapists": therapists,
        "by_branch": {b.id: [t for t in therapists if t.branch_id == b.id] for b in branches},
        "services": [s for s in services if s.duration_minutes <= 60],
        "packages": list(session.exec(select(Package))),
        "tags": list(session.exec(select(Tag))),
        "categories": list(session.exec(select(Category).order_by(col(Category.position)))),
        "note_categories": {c.name: c for c in session.exec(select(NoteCategory))},
        "program": session.exec(
            select(LoyaltyProgram).where(col(LoyaltyProgram.is_default).is_(True))
        ).first(),
        "staff": list(session.exec(select(Staff))),
    }


def generate(
    *,
    engine: Engine,
    customers: int = 2000,
    seed: int = 1,
    batch_size: int = 5000,
    progress: Progress | None = None,
    now: datetime | None = None,
    today_sheet: bool = False,
) -> DemoSummary:
    """Add ``customers`` demo customers with their history to the database.

    ``today_sheet``: also a day's work today (``frontdesk demo`` asks for it, so that the day
    sheet has something to show): visits done this morning, one customer in the chair, one
    late, the afternoon still to come. Tests leave it off; their data does not depend on it.

    The rows are generated in batches of ``batch_size`` customers (memory stays flat) and
    written in one transaction (see :class:`_Loader`): the demo is added whole or not at all.
    """
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    summary = DemoSummary()
    with Session(engine, expire_on_commit=False) as session:
        cat = _catalogue(
            session, max(3, min(200, customers // 20000 + 3)), rng, created=summary.staff
        )
        session.commit()
    if customers:
        with _Loader(engine) as loader:
            gen = _Generator(cat, rng, today, now, seed, loader.stamp, loader.day)
            # Larger demos: one customer in 500 entered a second time (codes after the rest).
            plant = customers // 500 if customers >= PLANT_DUPLICATES_FROM else 0
            number = loader.reserve_codes(customers + plant)
            gen.plant(plant, number + customers, loader.tail_ids("customer", customers))
            done = 0
            while done < customers:
                n = min(batch_size, customers - done)
                loader.write(gen.batch(n, number + done, loader.ids, summary))
                done += n
                if progress:
                    progress(n)
    if today_sheet and customers:
        summary.bookings += _today_sheet(engine, cat, now, seed)
    with engine.begin() as conn:
        if is_sqlite(conn):
            # Statistics from a sample of each index (a full ANALYZE reads every row: seconds
            # at a million customers); the planner needs their shape, not exact counts.
            conn.exec_driver_sql("PRAGMA analysis_limit=2000")
        conn.exec_driver_sql("ANALYZE")  # fresh statistics for the query planner
        if is_sqlite(conn):
            conn.exec_driver_sql("PRAGMA analysis_limit=0")  # the pooled connection's default
    return summary


def _today_sheet(engine: Engine, cat: dict[str, Any], now: datetime, seed: int) -> int:
    """Bookings today (the demo's history skips today): per branch, its first three therapists
    about every other hour from opening; the ones already over are done (a few no-shows), the
    one under way has its customer checked in, one that started a little ago is late, the rest
    are still to come. Returns how many were added."""
    rng = random.Random(seed * 7919 + 1)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    with Session(engine) as session:
        ids = list(
            session.exec(
                select(Customer.id)
                .where(
                    col(Customer.deleted_at).is_(None),
                    col(Customer.merged_into_id).is_(None),
                    col(Customer.blocked).is_(False),
                )
                .order_by(col(Customer.id))
                .limit(400)
            )
        )
        if not ids:
            return 0
        rows: list[dict[str, Any]] = []
        late_given = False
        for branch in cat["branches"]:
            for therapist in cat["by_branch"].get(branch.id, [])[:3]:
                for hour in range(0, SLOTS_PER_DAY, 1):
                    if rng.random() < 0.45:
                        continue
                    service = rng.choice(cat["services"])
                    start = day + timedelta(hours=OPENING_HOUR + hour)
                    end = start + timedelta(minutes=service.duration_minutes)
                    arrived = None
                    if end <= now:
                        done = rng.random() < 0.9
                        status = BookingStatus.COMPLETED if done else BookingStatus.NO_SHOW
                        arrived = start - timedelta(minutes=rng.randint(0, 8)) if done else None
                    elif start <= now:
                        status = BookingStatus.CONFIRMED
                        if late_given or now - start > timedelta(minutes=40):
                            arrived = start + timedelta(minutes=rng.randint(0, 5))
                        late_given = late_given or arrived is None
                    else:
                        status = rng.choice([BookingStatus.PENDING, BookingStatus.CONFIRMED])
                    rows.append(
                        {
                            "customer_id": rng.choice(ids),
                            "service_id": service.id,
                            "branch_id": branch.id,
                            "staff_id": therapist.id,
                            "start_at": start,
                            "end_at": end,
                            "status": status.value,
                            "price_cents": service.price_cents,
                            "source": "demo",
                            "arrived_at": arrived,
                            "created_at": min(now, start - timedelta(days=rng.randint(1, 20))),
                            "updated_at": min(now, start),
                            "version": 1,
                        }
                    )
        if rows:
            insert_with_ids(session, Booking, rows)
        session.commit()
    return len(rows)


# Larger demo databases get a few customers entered twice, as real desks do (one in 500), so
# that the duplicate finder has something to show.
PLANT_DUPLICATES_FROM = 1000
_OTHER_DOMAINS = ["gmail.com", "outlook.com", "icloud.com"]


def _typo(name: str) -> str:
    """Swap two letters in the middle of a name ("Bakker" -> "Bakekr")."""
    if len(name) < 4:
        return name + name[-1]
    i = len(name) // 2
    return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]


def _planted_duplicate(
    k: int, rng: random.Random, first: str, last: str, email: str, birth: Any
) -> tuple[str, str, str]:
    """(first name, last name, email) of the ``k``-th planted second record of a customer: a
    typo, swapped names or the same name and birthday, with the same email user part at
    another provider (never the same phone or email). Its email is new: the original's user
    part holds the customer's number, and the third kind writes that number after initial
    and last name, which no generated customer has."""
    user, _, domain = email.partition("@")
    others = [d for d in _OTHER_DOMAINS if d != domain.lower()]
    kind = k % 3
    if kind == 2 and birth is None:
        kind = 0  # "same name and birthday" needs a birthday
    if kind == 0:
        last = _typo(last)
    elif kind == 1:
        first, last = last or first, first  # entered the other way round
    else:
        given, _, rest = user.partition(".")
        user = f"{given[:1]}.{rest}"  # "emma.smith4711" -> "e.smith4711"
    return first, last, f"{user}@{others[rng.randrange(len(others))]}"


def _free_day(full_days: dict[int, int], therapist_id: int, day: int) -> int:
    """Follow the "day is full, try this one" links from ``day`` (with path compression).

    Keys are ``_slot(therapist_id, day)``."""
    path = []
    while (key := _slot(therapist_id, day)) in full_days:
        path.append(key)
        day = full_days[key]
    for full in path:
        full_days[full] = day
    return day


def _slot(therapist_id: int, day: int) -> int:
    """One therapist's day as one int (a million customers' diaries hold millions of these)."""
    return therapist_id * 1_000_000 + day


def _phone(country: str, k: int, seed: int) -> str:
    _w, prefix, free, *_ = COUNTRIES[country]
    value = (k * 7919 + seed * 104729) % (10**free)
    if country == "US":
        return prefix + str(2 + (value // 10**6) % 8) + str(value % 10**6).zfill(6)
    return prefix + str(value).zfill(free)


# --------------------------------------------------------------------------- bulk generation

# The columns each generated row carries, in order; the others are NULL (or their defaults).
CUSTOMER_COLUMNS = (
    "id",
    "code",
    "first_name",
    "last_name",
    "email",
    "email_key",
    "phone",
    "phone_country",
    "gender",
    "date_of_birth",
    "city",
    "country",
    "category_id",
    "home_branch_id",
    "status",
    "blocked",
    "blocked_reason",
    "consent_reminders",
    "consent_birthday",
    "consent_marketing",
    "consent_newsletter",
    "created_at",
    "created_via",
    "updated_at",
    "version",
    "sort_key",
    "name_key",
    "search_text",
)
BOOKING_COLUMNS = (
    "id",
    "customer_id",
    "service_id",
    "branch_id",
    "staff_id",
    "start_at",
    "end_at",
    "status",
    "price_cents",
    "source",
    "cancellation_reason",
    "created_at",
    "updated_at",
    "version",
)
ORDER_COLUMNS = (
    "id",
    "customer_id",
    "branch_id",
    "booking_id",
    "status",
    "total_cents",
    "created_at",
    "updated_at",
    "version",
)
LINE_COLUMNS = (
    "order_id",
    "kind",
    "service_id",
    "description",
    "quantity",
    "unit_price_cents",
    "discount_cents",
    "total_cents",
)
PAYMENT_COLUMNS = ("order_id", "method", "amount_cents", "at")
REFUND_COLUMNS = ("order_id", "amount_cents", "reason", "at")
ENROLMENT_COLUMNS = ("id", "customer_id", "program_id", "balance", "enrolled_at", "version")
POINTS_COLUMNS = (
    "enrolment_id",
    "customer_id",
    "program_id",
    "points",
    "action",
    "reason",
    "balance_after",
    "at",
)
NOTE_COLUMNS = (
    "customer_id",
    "body",
    "category_id",
    "visibility",
    "pinned",
    "is_alert",
    "position",
    "created_at",
    "updated_at",
)
# The tables the bulk load writes, in the order it writes them (parents first).
BULK_TABLES = (
    "customer",
    "customer_tag",
    "booking",
    "orders",
    "order_line",
    "payment",
    "refund",
    "loyalty_enrolment",
    "points_entry",
    "note",
)
# The bulk load drops the indexes of the tables it fills whose keys come in no order (names,
# emails, phones, times: any index whose first column is not an id, and those listed here) and
# builds each once at the end (one sort) instead of a random insert per row; indexes on ids
# (which grow with the rows, or have a few values such as branches and services) are kept, as
# appending to them costs little.
# ix_booking_staff: a few staff, then times in no order; the branch indexes: the roll-ups'
# back-fill reads bookings and orders in storage order without them (see _finish_sqlite).
DEFERRED_INDEXES = frozenset({"ix_booking_staff", "ix_booking_branch_id", "ix_orders_branch_id"})
# The search index's insert trigger, which the bulk load drops and makes up for at the end.
FTS_TRIGGER = "customer_fts_ai"
# The live customers' tally (migration 0013): dropped for the load, counted once at its end.
TALLY_TRIGGER = "customer_tally_ai"
# The migration that made the business overview's roll-ups (insight_*, kept by triggers): the
# bulk load drops their AFTER INSERT triggers on the tables it fills and recounts them at the
# end with the migration's own back-fill (its fill(): TABLES emptied first, then filled).
ROLLUP_MIGRATION = "0010_insight_rollups.py"
# The full-text index's buffer of pending terms while the load builds it, and FTS5's default.
FTS_LOAD_HASHSIZE = 32 * 1024 * 1024
FTS_DEFAULT_HASHSIZE = 1024 * 1024
# While the load's writer thread runs: how soon a thread waiting for the interpreter lock
# takes it from the generating one (Python's default is 5 ms). The writer needs the lock
# between SQLite calls, and each 5 ms wait left SQLite idle: the load was a third slower.
LOAD_SWITCH_INTERVAL = 0.0002
# One batch: (table, columns, rows) in writing order.
Batch = list[tuple[str, tuple[str, ...], list[tuple[Any, ...]]]]
IdSource = Callable[[str, int], Sequence[int]]

_GENDERS = ["female", "female", "male", "other", "unspecified"]
_VISITS = [0, 1, 1, 2, 2, 3, 4, 6]
_POINTS = [10, 25, 50, 100]
_METHODS = ["card", "card", "cash"]
_UPCOMING = [BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value]


class _Generator:
    """The demo's rows as plain tuples, batch after batch, from one random stream.

    The stream is consumed exactly as the first (ORM-row) version of the demo consumed it, so
    a seed gives the same customers, visits and history as before: ``rng.choice`` and
    ``rng.randint`` are inlined (``_below`` is ``Random._randbelow``), never reordered.
    """

    def __init__(
        self,
        cat: dict[str, Any],
        rng: random.Random,
        today: datetime,
        now: datetime,
        seed: int,
        stamp: Callable[[datetime], Any],
        day: Callable[[datetime], Any],
    ) -> None:
        self.rng = rng
        self.today, self.now, self.seed = today, now, seed
        self.stamp, self.day = stamp, day
        self.countries = [c for c, spec in COUNTRIES.items() for _ in range(spec[0])]
        self.per_country: dict[str, int] = {}
        self.hours_used: dict[int, int] = {}  # keyed by _slot(therapist, day)
        self.full_days: dict[int, int] = {}
        self.categories = [c.id for c in cat["categories"]]
        self.branches = [b.id for b in cat["branches"]]
        self.tags = [t.id for t in cat["tags"]]
        therapists = [(t.id, t.branch_id) for t in cat["therapists"]]
        self.pools = {
            b.id: [(t.id, t.branch_id) for t in cat["by_branch"].get(b.id) or []] or therapists
            for b in cat["branches"]
        }
        self.therapists = therapists
        self.services = [
            (s.id, s.duration_minutes * 60, s.price_cents, s.name) for s in cat["services"]
        ]
        program = cat["program"]
        self.program_id = program.id if program is not None else None
        note_cats = cat["note_categories"]
        self.alert_category = note_cats["Alert"].id if "Alert" in note_cats else None
        self.notes = [
            (body, note_cats[name].id if name in note_cats else None) for name, body in NOTES
        ]
        self.names: dict[tuple[str, str], tuple[str, str, str]] = {}
        self.now_us = (now - today) // timedelta(microseconds=1)
        self.now_at = stamp(now)
        self.times: dict[int, Any] = {}
        # Stored values of times on today's calendar: on SQLite in UTC, the day's text and
        # the time's text (bookings share a few hundred days and a few dozen times of day).
        self.fast_times = stamp is _sqlite_stamp and today.utcoffset() == timedelta(0)
        self.days: dict[int, str] = {}
        self.plant_left = self.planted = 0

    def plant(self, count: int, number: int, ids: IdSource) -> None:
        """Enter up to ``count`` customers a second time (the first with an email of every
        500 by id), with codes from ``number`` on and ids from ``ids``, for the duplicate
        finder; from a random stream of their own (the rest of the demo stays as it was)."""
        self.plant_left, self.plant_number, self.plant_ids = count, number, ids
        self.plant_group, self.planted = -1, 0
        self.plant_rng = random.Random(self.seed * 7919 + 1)

    def when(self, day: int, second: int) -> Any:
        """The stored value of ``today`` + ``day`` days + ``second`` seconds."""
        key = day * 100_000 + second
        value = self.times.get(key)
        if value is None:
            if self.fast_times:
                text = self.days.get(day)
                if text is None:
                    text = self.days[day] = (self.today + timedelta(days=day)).date().isoformat()
                hours, rest = divmod(second, 3600)
                value = f"{text} {hours:02d}:{rest // 60:02d}:{rest % 60:02d}.000000"
            else:
                value = self.stamp(self.today + timedelta(days=day, seconds=second))
            if len(self.times) > 500_000:
                self.times.clear()
            self.times[key] = value
        return value
        self.ascii: dict[str, str] = {}

    def _name(self, first: str, last: str) -> tuple[str, str, str]:
        """(sort_key, name_key, ascii 'first.last') of a name, computed once per name."""
        known = self.names.get((first, last))
        if known is None:
            sort_key, name_key, _ = compute_keys(
                first_name=first,
                last_name=last,
                display_name=None,
                code="",
                email_key=None,
                phone=None,
                other_phone=None,
            )
            known = (sort_key, name_key, f"{_ascii(first)}.{_ascii(last)}")
            self.names[(first, last)] = known
        return known

    def _planted(self, originals: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """The second records of ``originals``: no phone, history or consents of their own,
        added now (as the desk would have typed them in)."""
        rows = []
        demo_via, now_at = CreatedVia.DEMO.value, self.now_at
        for cid, (first, last, email, gender, birth, city, country) in zip(
            self.plant_ids("customer", len(originals)), originals, strict=True
        ):
            code = format_code(self.plant_number + self.planted)
            first, last, email = _planted_duplicate(
                self.planted, self.plant_rng, first, last, email, birth
            )
            self.planted += 1
            email_key = email.lower()
            sort_key, name_key, search_text = compute_keys(
                first_name=first,
                last_name=last,
                display_name=None,
                code=code,
                email_key=email_key,
                phone=None,
                other_phone=None,
            )
            rows.append(
                (
                    cid,
                    code,
                    first,
                    last,
                    email,
                    email_key,
                    None,
                    None,
                    gender,
                    birth,
                    city,
                    country,
                    None,
                    None,
                    "active",
                    False,
                    None,
                    True,
                    False,
                    False,
                    False,
                    now_at,
                    demo_via,
                    now_at,
                    1,
                    sort_key,
                    name_key,
                    search_text,
                )
            )
        return rows

    def batch(self, n: int, number: int, ids: IdSource, summary: DemoSummary) -> Batch:
        """``n`` customers (codes from ``number`` on) and everything that follows from them."""
        rng = self.rng
        random_ = rng.random
        getrandbits = rng.getrandbits

        def below(k: int) -> int:  # Random._randbelow: what choice and randint draw
            bits = k.bit_length()
            r = getrandbits(bits)
            while r >= k:
                r = getrandbits(bits)
            return r

        stamp, day_of, when = self.stamp, self.day, self.when
        today, now, seed = self.today, self.now, self.seed
        now_us, now_at = self.now_us, self.now_at
        countries, per_country = self.countries, self.per_country
        categories, branches, tags = self.categories, self.branches, self.tags
        demo_via = CreatedVia.DEMO.value
        customer_ids = ids("customer", n)
        customers: list[tuple[Any, ...]] = []
        # (id, home branch, created_at) of each customer, for what follows.
        made: list[tuple[int, int, datetime]] = []
        originals: list[tuple[Any, ...]] = []  # customers entered a second time
        for cid, num in zip(customer_ids, range(number, number + n), strict=True):
            code = format_code(num)
            country = countries[below(len(countries))]
            k = per_country.get(country, 0)
            per_country[country] = k + 1
            _w, _p, _f, firsts, lasts, domains, cities = COUNTRIES[country]
            first = firsts[below(len(firsts))]
            last = lasts[below(len(lasts))]
            has_email = random_() < 0.85
            has_phone = random_() < 0.9 or not has_email
            sort_key, name_key, handle = self._name(first, last)
            email = (
                f"{handle}{code[2:].lstrip('0')}@{domains[below(len(domains))]}"
                if has_email
                else None
            )
            email_key = email.lower() if email else None
            created = now - timedelta(days=below(3 * 365 + 1), minutes=below(1441))
            blocked = random_() < 0.01
            phone = _phone(country, k, seed) if has_phone else None
            search_text = " | ".join(
                p for p in (name_key, code.lower(), email_key, phone[1:] if phone else None) if p
            )
            gender = _GENDERS[below(5)]
            birth = (
                day_of(today - timedelta(days=18 * 365 + below(62 * 365 + 1)))
                if random_() < 0.6
                else None
            )
            city = cities[below(len(cities))]
            category = categories[below(len(categories))] if random_() < 0.7 else None
            branch = branches[below(len(branches))]
            status = "inactive" if random_() < 0.05 else "active"
            created_at = stamp(created)
            customers.append(
                (
                    cid,
                    code,
                    first,
                    last,
                    email,
                    email_key,
                    phone,
                    country if has_phone else None,
                    gender,
                    birth,
                    city,
                    country,
                    category,
                    branch,
                    status,
                    blocked,
                    "Repeated no-shows" if blocked else None,
                    random_() < 0.9,
                    random_() < 0.4,
                    random_() < 0.3,
                    random_() < 0.25,
                    created_at,
                    demo_via,
                    created_at,
                    1,
                    sort_key,
                    name_key,
                    search_text,
                )
            )
            made.append((cid, branch, created))
            if email is not None and self.plant_left and cid // 500 != self.plant_group:
                self.plant_group = cid // 500
                self.plant_left -= 1
                originals.append((first, last, email, gender, birth, city, country))
        summary.customers += n
        if originals:
            customers.extend(self._planted(originals))
            summary.duplicates += len(originals)
        batch: Batch = [("customer", CUSTOMER_COLUMNS, customers)]

        tag_rows: list[tuple[Any, ...]] = []
        bookings: list[tuple[Any, ...]] = []
        # (customer, branch, end, status, service) of each booking, for orders.
        visits_made: list[tuple[int, int, int, int, str, tuple[Any, ...]]] = []
        pools, services = self.pools, self.services
        hours_used, full_days = self.hours_used, self.full_days
        completed = BookingStatus.COMPLETED.value
        cancelled = BookingStatus.CANCELLED.value
        no_show = BookingStatus.NO_SHOW.value
        for cid, branch, _created in made:
            if random_() < 0.15:
                tag_rows.append((cid, tags[below(len(tags))]))
            staff_pool = pools.get(branch) or self.therapists
            visits = _VISITS[below(8)]
            # Visits go back in time from a recent day, 3-9 weeks apart; the last may be upcoming.
            day_offset = -(1 + below(120))
            taken_days: set[int] = set()
            for v in range(visits):
                staff_id, staff_branch = staff_pool[(cid + v) % len(staff_pool)]
                service = services[below(len(services))]
                upcoming = v == 0 and random_() < 0.2
                if upcoming:
                    wanted = 1 + below(45)
                    status = _UPCOMING[below(2)]
                else:
                    wanted = day_offset
                    day_offset -= 21 + below(43)
                    roll = random_()
                    status = completed if roll < 0.82 else cancelled if roll < 0.93 else no_show
                step = 1 if upcoming else -1
                # First day with a free hour for this therapist and no other visit of this one.
                if _slot(staff_id, wanted) in full_days:
                    wanted = _free_day(full_days, staff_id, wanted)
                while wanted in taken_days:
                    wanted = _free_day(full_days, staff_id, wanted + step)
                slot = _slot(staff_id, wanted)
                hour = hours_used.get(slot, 0)
                hours_used[slot] = hour + 1
                if hour + 1 >= SLOTS_PER_DAY:
                    full_days[slot] = wanted + step
                taken_days.add(wanted)
                # Times as (day, second of the day) after today, compared in microseconds.
                second = (OPENING_HOUR + hour) * 3600
                start_us = (wanted * 86400 + second) * 1_000_000
                reason = CANCEL_REASONS[below(4)] if status == cancelled else None
                booked = wanted - 1 - below(20)
                start_at = when(wanted, second)
                bookings.append(
                    (
                        0,
                        cid,
                        service[0],
                        staff_branch,
                        staff_id,
                        start_at,
                        when(wanted, second + service[1]),
                        status,
                        service[2],
                        "demo",
                        reason,
                        when(booked, second)
                        if (booked * 86400 + second) * 1_000_000 < now_us
                        else now_at,
                        start_at if start_us < now_us else now_at,
                        1,
                    )
                )
                visits_made.append(
                    (cid, staff_branch, wanted, second + service[1], status, service)
                )
        if tag_rows:
            batch.append(("customer_tag", ("customer_id", "tag_id"), tag_rows))
        if bookings:
            booking_ids = ids("booking", len(bookings))
            bookings = [(bid, *b[1:]) for bid, b in zip(booking_ids, bookings, strict=True)]
            batch.append(("booking", BOOKING_COLUMNS, bookings))
            summary.bookings += len(bookings)
        else:
            booking_ids = []

        # Orders for most completed visits; a few partial refunds.
        orders: list[tuple[Any, ...]] = []
        order_meta: list[tuple[int, int, tuple[Any, ...], bool]] = []
        paid, part_refunded = OrderStatus.PAID.value, OrderStatus.PART_REFUNDED.value
        for bid, (cid, branch, day, end, status, service) in zip(
            booking_ids, visits_made, strict=True
        ):
            if status != completed or random_() > 0.75:
                continue
            refunded = random_() < 0.05
            at = when(day, end)
            orders.append(
                (
                    0,
                    cid,
                    branch,
                    bid,
                    part_refunded if refunded else paid,
                    service[2],
                    at,
                    at,
                    1,
                )
            )
            order_meta.append((day, end, service, refunded))
        if orders:
            order_ids = ids("orders", len(orders))
            orders = [(oid, *o[1:]) for oid, o in zip(order_ids, orders, strict=True)]
            batch.append(("orders", ORDER_COLUMNS, orders))
            summary.orders += len(orders)
            lines: list[tuple[Any, ...]] = []
            payments: list[tuple[Any, ...]] = []
            refunds: list[tuple[Any, ...]] = []
            for oid, (day, end, service, was_refunded) in zip(order_ids, order_meta, strict=True):
                service_id, _length, price, name = service
                at = orders[len(lines)][6]
                lines.append((oid, "service", service_id, name, 1, price, 0, price))
                payments.append((oid, _METHODS[below(3)], price, at))
                if was_refunded:
                    refunds.append(
                        (
                            oid,
                            max(100, price // 2),
                            "Goodwill: service ran late",
                            when(day + 1, end),
                        )
                    )
            batch.append(("order_line", LINE_COLUMNS, lines))
            batch.append(("payment", PAYMENT_COLUMNS, payments))
            summary.payments += len(payments)
            if refunds:
                batch.append(("refund", REFUND_COLUMNS, refunds))
                summary.refunds += len(refunds)

        # Loyalty: about a third of customers collect points.
        program_id = self.program_id
        enrolments: list[tuple[Any, ...]] = []
        ledgers: list[tuple[int, datetime, list[tuple[int, str, str, int]]]] = []
        added, redeemed = LedgerAction.ADDED.value, LedgerAction.REDEEMED.value
        for cid, _branch, created in made:
            if program_id is None or random_() > 0.33:
                continue
            entries = []
            balance = 0
            for _ in range(1 + below(3)):
                points = _POINTS[below(4)]
                balance += points
                entries.append((points, added, "Visit reward", balance))
            if balance >= 50 and random_() < 0.4:
                balance -= 50
                entries.append((-50, redeemed, "Redeemed for a blow-dry", balance))
            enrolments.append((0, cid, program_id, balance, stamp(created), 1))
            ledgers.append((cid, created, entries))
        if enrolments:
            enrol_ids = ids("loyalty_enrolment", len(enrolments))
            enrolments = [(eid, *e[1:]) for eid, e in zip(enrol_ids, enrolments, strict=True)]
            batch.append(("loyalty_enrolment", ENROLMENT_COLUMNS, enrolments))
            summary.enrolments += len(enrolments)
            ledger = [
                (
                    eid,
                    cid,
                    program_id,
                    points,
                    action,
                    reason,
                    after,
                    stamp(created + timedelta(days=j)),
                )
                for eid, (cid, created, entries) in zip(enrol_ids, ledgers, strict=True)
                for j, (points, action, reason, after) in enumerate(entries)
            ]
            batch.append(("points_entry", POINTS_COLUMNS, ledger))
            summary.points_entries += len(ledger)

        # Notes: some preferences, a few alerts.
        note_rows: list[tuple[Any, ...]] = []
        alert_category, notes = self.alert_category, self.notes
        for cid, _branch, created in made:
            roll = random_()
            if roll < 0.02 and alert_category is not None:
                body, category, alert = ALERTS[below(len(ALERTS))], alert_category, True
            elif roll < 0.12:
                body, category = notes[below(len(notes))]
                alert = False
            else:
                continue
            at = stamp(created)
            note_rows.append((cid, body, category, "staff", alert, alert, 0, at, at))
        if note_rows:
            batch.append(("note", NOTE_COLUMNS, note_rows))
            summary.notes += len(note_rows)
        return batch


def _sqlite_stamp(value: datetime) -> str:
    """A datetime as SQLAlchemy stores it on SQLite ('2026-11-26 09:00:00.000000', in UTC)."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    text = value.isoformat(" ")[:-6]  # without '+00:00'
    return text if len(text) == 26 else text + ".000000"


def _sqlite_day(value: datetime) -> str:
    return value.date().isoformat()


def _as_is(value: Any) -> Any:
    return value


def _as_date(value: datetime) -> Any:
    return value.date()


class _Loader:
    """Writes the generated batches, all in one transaction (the demo is added whole or not
    at all).

    On SQLite it writes multi-row INSERTs on the raw connection from a second thread, so that
    SQLite's own work runs on the second core while this one generates the next batch (at
    most two batches wait: memory stays flat). The secondary indexes of the tables it fills
    and the customer search index's insert trigger are dropped for the load and rebuilt once
    at the end (one sort per index and one pass for the full-text index instead of a million
    random inserts into each), inside the same transaction. Elsewhere batches go through Core
    as they come.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = is_sqlite(engine)
        self.stamp: Callable[[datetime], Any] = _sqlite_stamp if self.sqlite else _as_is
        self.day: Callable[[datetime], Any] = _sqlite_day if self.sqlite else _as_date
        self.statements = 0  # INSERT statements the load sent (tests count them)
        self._next: dict[str, int] = {}
        self._queue: queue.Queue[Batch | None] = queue.Queue(maxsize=2)
        self._thread: threading.Thread | None = None
        self._switch = sys.getswitchinterval()
        self._error: BaseException | None = None
        self._indexes: list[str] = []
        self._triggers: list[tuple[str, str]] = []
        self._rollups: tuple[tuple[str, ...], list[str]] | None = None
        self._first_customer = 0
        self._restore: list[str] = []

    def __enter__(self) -> _Loader:
        self.conn = self.engine.connect()
        if self.sqlite:
            self._load_settings()
        self.trans = self.conn.begin()
        try:
            if self.sqlite:
                self._prepare_sqlite()
        except BaseException:
            self.trans.rollback()
            self.conn.close()
            raise
        return self

    def _prepare_sqlite(self) -> None:
        run = self.conn.exec_driver_sql
        for name in ("customer", "booking", "orders", "loyalty_enrolment"):
            self._next[name] = int(run(f"SELECT coalesce(max(id), 0) + 1 FROM {name}").scalar_one())
        self._first_customer = self._next["customer"]
        bulk = ", ".join(f"'{t}'" for t in BULK_TABLES)
        self._triggers = [
            (name, sql)
            for name, sql in run(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                f"AND tbl_name IN ({bulk}) AND (name IN ('{FTS_TRIGGER}', '{TALLY_TRIGGER}') "
                "OR (name LIKE 'insight%' AND upper(sql) LIKE '%AFTER INSERT ON%'))"
            ).all()
        ]
        keep_up = (FTS_TRIGGER, TALLY_TRIGGER)
        self._rollups = _rollups() if any(n not in keep_up for n, _ in self._triggers) else None
        tables = ", ".join(
            f"'{t}'" for t in BULK_TABLES + (self._rollups[0] if self._rollups else ())
        )
        rows = run(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({tables})"
        ).all()
        for name, sql in rows:
            first = run(f'PRAGMA index_info("{name}")').first()
            column = str(first[2]) if first is not None else ""
            by_id = column == "id" or column.endswith("_id")
            if by_id and name not in DEFERRED_INDEXES and not name.startswith("ix_insight"):
                continue  # cheap to keep: its key grows with the rows or has few values
            run(f'DROP INDEX "{name}"')
            self._indexes.append(sql)
        for name, _sql in self._triggers:
            run(f'DROP TRIGGER "{name}"')

    def _load_settings(self) -> None:
        """The connection's settings for the load (the ones it had are put back at the end).

        Sorts (index builds, roll-ups) spill to temporary files instead of memory (a million
        customers peaked at 630 MB with them in memory). Foreign keys are not checked row by
        row (the rows are generated consistent). A rollback journal instead of the write-ahead log: a new page
        goes to the database file once, where the log wrote every page of the load a second
        time at the checkpoint; only the pages that were there before are journaled (none
        much on a new file), so the load stays whole or nothing, and a failed one is rolled
        back from the journal. (When another connection has the file open the log stays.)
        The journal and file are not flushed to disk before the end (synchronous=OFF): a
        power cut during a demo load is not worth the waits."""
        dbapi = self.conn.connection.dbapi_connection
        assert dbapi is not None
        self._restore = [
            f"PRAGMA {name}={dbapi.execute(f'PRAGMA {name}').fetchone()[0]}"
            for name in ("temp_store", "foreign_keys", "synchronous")
        ]
        self._pragmas(
            "PRAGMA temp_store=FILE",
            "PRAGMA foreign_keys=OFF",
            "PRAGMA synchronous=OFF",
        )
        journal = str(dbapi.execute("PRAGMA journal_mode").fetchone()[0])
        if journal.lower() == "wal":
            timeout = dbapi.execute("PRAGMA busy_timeout").fetchone()[0]
            dbapi.execute("PRAGMA busy_timeout=0")  # not worth a wait
            try:
                changed = dbapi.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
            except Exception:  # another connection has it open: keep the log
                changed = journal
            finally:
                dbapi.execute(f"PRAGMA busy_timeout={int(timeout)}")
            if str(changed).lower() != "wal":
                self._restore.append("PRAGMA journal_mode=WAL")

    def _pragmas(self, *statements: str) -> None:
        """Connection settings, outside any transaction (on the raw connection)."""
        dbapi = self.conn.connection.dbapi_connection
        assert dbapi is not None
        for statement in statements:
            dbapi.execute(statement)

    def reserve_codes(self, count: int) -> int:
        """Reserve ``count`` customer codes (as ``allocate_codes``); returns the first number."""
        counter = Counter.__table__  # type: ignore[attr-defined]
        last = self.conn.execute(
            update(counter)
            .where(counter.c.name == "customer")
            .values(value=counter.c.value + count)
            .returning(counter.c.value)
        ).scalar_one_or_none()
        if last is None:
            self.conn.execute(insert(counter).values(name="customer", value=count))
            last = count
        return int(last) - count + 1

    def tail_ids(self, table: str, skip: int) -> IdSource:
        """An id source for rows that come after the next ``skip`` ids of ``table`` (on
        SQLite: the demo's planted customers follow all the others; elsewhere the sequence
        hands them out as they come)."""
        if not self.sqlite:
            return self.ids
        after = {table: self._next[table] + skip}

        def ids(name: str, count: int) -> Sequence[int]:
            start = after[name]
            after[name] = start + count
            return range(start, start + count)

        return ids

    def ids(self, table: str, count: int) -> Sequence[int]:
        """Primary keys for ``count`` new rows of ``table``."""
        if self.sqlite:  # the transaction holds the write lock: nobody else takes ids
            start = self._next[table]
            self._next[table] = start + count
            return range(start, start + count)
        seq = self.conn.execute(
            text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}
        ).scalar_one()
        rows = self.conn.execute(
            text("SELECT nextval(:s) FROM generate_series(1, :n)"), {"s": seq, "n": count}
        )
        return [int(r[0]) for r in rows]

    def write(self, batch: Batch) -> None:
        if not self.sqlite:
            tables = SQLModel.metadata.tables
            for table, columns, rows in batch:
                self.conn.execute(
                    insert(tables[table]), [dict(zip(columns, row, strict=True)) for row in rows]
                )
                self.statements += 1
            return
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._write_loop, name="frontdesk-demo-writer", daemon=True
            )
            self._switch = sys.getswitchinterval()
            sys.setswitchinterval(LOAD_SWITCH_INTERVAL)
            self._thread.start()
        self._queue.put(batch)
        if self._error is not None:
            raise self._error

    def _write_loop(self) -> None:
        dbapi = self.conn.connection.dbapi_connection
        assert dbapi is not None
        cursor = dbapi.cursor()
        try:
            while (batch := self._queue.get()) is not None:
                if self._error is None:
                    try:
                        for table, columns, rows in batch:
                            self._insert(cursor, table, columns, rows)
                    except BaseException as exc:  # reported to the generating thread
                        self._error = exc
        finally:
            cursor.close()

    def _insert(
        self, cursor: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
    ) -> None:
        per = max(1, min(500, 30_000 // len(columns)))
        head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
        one = "(" + ", ".join("?" * len(columns)) + ")"
        full = head + ", ".join([one] * per)
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            sql = full if len(chunk) == per else head + ", ".join([one] * len(chunk))
            cursor.execute(sql, list(chain.from_iterable(chunk)))
            self.statements += 1

    def _stop_thread(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
            sys.setswitchinterval(self._switch)

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        try:
            self._stop_thread()
            if kind is None and self._error is not None:
                raise self._error
            if kind is None:
                if self.sqlite:
                    self._finish_sqlite()
                self.trans.commit()
            else:
                self.trans.rollback()
        except BaseException:
            if self.trans.is_active:
                self.trans.rollback()
            raise
        finally:
            if self.sqlite:
                self._pragmas(*self._restore)
            self.conn.close()

    def _finish_sqlite(self) -> None:
        run = self.conn.exec_driver_sql
        if self._rollups:
            # The business overview's roll-ups, recounted from all the rows at once (as the
            # migration that made them back-filled them) instead of row by row by triggers;
            # before the dropped indexes are back, so that their statements read the tables
            # in storage order (with the branch indexes there, SQLite read the bookings and
            # orders branch by branch, jumping all over the tables: seconds at 200,000).
            _rollup_migration().fill(self.conn, False)
        for sql in self._indexes:
            run(sql)
        names = {name for name, _sql in self._triggers}
        if FTS_TRIGGER in names:
            # FTS5 writes its pending terms out as a new segment each time they pass
            # "hashsize" (1 MB by default) and merges the segments as it goes: at a million
            # customers the index is built from fewer, larger segments (9.6 s -> 6.9 s) with
            # a larger buffer for this one statement; the setting is put back after it.
            fts_config = "INSERT INTO customer_fts(customer_fts, rank) VALUES ('hashsize', ?)"
            run(fts_config, (FTS_LOAD_HASHSIZE,))
            run(
                "INSERT INTO customer_fts(rowid, search_text) "
                "SELECT id, search_text FROM customer WHERE id >= ?",
                (self._first_customer,),
            )
            run(fts_config, (FTS_DEFAULT_HASHSIZE,))
        if TALLY_TRIGGER in names:
            run(migration_module(TALLY_MIGRATION).RECOUNT)  # the live customers, counted once
        for _name, sql in self._triggers:
            run(sql)


def _rollup_migration() -> Any:
    """The migration that made the insight roll-ups (its ``fill`` back-fills them, emptied
    first, in the connection's transaction)."""
    return migration_module(ROLLUP_MIGRATION)


def _rollups() -> tuple[tuple[str, ...], list[str]]:
    """The insight roll-up tables and the SQLite statements that fill them from the stored
    rows, from the migration that made them (the reference a test recounts with)."""
    module = _rollup_migration()
    tables = tuple(
        getattr(
            module,
            "TABLES",
            ("insight_day", "insight_money", "insight_visit", "insight_gap", "insight_payer"),
        )
    )
    return tables, list(module.backfill(False))

"""Realistic demo data, streamed in batches so that a million customers fit in memory.

Everything is derived from a seed, so ``frontdesk demo --seed 7`` gives the same database every
time. Bookings are laid on a per-therapist grid of hourly slots, so no staff member is ever
double-booked, and orders, payments, refunds, points and notes follow from the bookings.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from frontdesk.data.bulk import bulk_insert, insert_with_ids
from frontdesk.data.customers import allocate_codes, compute_keys
from frontdesk.data.errors import FrontdeskError
from frontdesk.data.models import (
    Booking,
    BookingStatus,
    Branch,
    Category,
    CreatedVia,
    Customer,
    CustomerTag,
    LedgerAction,
    LoyaltyEnrolment,
    LoyaltyProgram,
    Note,
    NoteCategory,
    Order,
    OrderLine,
    OrderStatus,
    Package,
    PackageItem,
    Payment,
    PointsEntry,
    Refund,
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
    hours_used: dict[tuple[int, int], int] = {}
    full_days: dict[tuple[int, int], int] = {}
    countries = [c for c, spec in COUNTRIES.items() for _ in range(spec[0])]
    per_country: dict[str, int] = {}
    done = 0
    while done < customers:
        n = min(batch_size, customers - done)
        with Session(engine) as session:
            _batch(
                session,
                cat,
                rng,
                n,
                countries,
                per_country,
                hours_used,
                full_days,
                today,
                now,
                summary,
                seed,
            )
            session.commit()
        done += n
        if progress:
            progress(n)
    if customers >= PLANT_DUPLICATES_FROM:
        summary.duplicates = _plant_duplicates(engine, customers, seed)
    if today_sheet and customers:
        summary.bookings += _today_sheet(engine, cat, now, seed)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")  # fresh statistics for the query planner
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


def _plant_duplicates(engine: Engine, customers: int, seed: int) -> int:
    """Add a second record for one customer in 500: a typo, swapped names or the same name and
    birthday, with the same email user part at another provider (never the same phone/email)."""
    from frontdesk.data import customers as svc

    rng = random.Random(seed * 7919 + 1)
    planted = 0
    wanted = customers // 500
    with Session(engine) as session:
        # One customer in 500 by id, read as such: never the whole table into the session
        # (at a million customers that was most of the demo's time and gigabytes of memory).
        firsts = list(
            session.exec(
                select(func.min(Customer.id))
                .where(col(Customer.email_key).is_not(None), svc.live())
                .group_by(col(Customer.id) / 500)
                .order_by(func.min(Customer.id))
                .limit(wanted)
            )
        )
        chosen = list(
            session.exec(
                select(Customer).where(col(Customer.id).in_(firsts)).order_by(col(Customer.id))
            )
        )
        for k, original in enumerate(chosen):
            user, _, domain = (original.email or "").partition("@")
            others = [d for d in _OTHER_DOMAINS if d != domain.lower()]
            first, last = original.first_name, original.last_name or ""
            kind = k % 3
            if kind == 2 and original.date_of_birth is None:
                kind = 0  # "same name and birthday" needs a birthday
            if kind == 0:
                first, last = first, _typo(last)
            elif kind == 1:
                first, last = last or first, first  # entered the other way round
            else:
                user = f"{first[0]}.{last}".lower().replace(" ", "") + str(rng.randint(10, 99))
            data = svc.CustomerCreate(
                first_name=first,
                last_name=last or None,
                email=f"{user}@{rng.choice(others)}",
                gender=original.gender,
                date_of_birth=original.date_of_birth,
                city=original.city,
                country=original.country,
            )
            try:
                with session.begin_nested():
                    svc.create_customer(session=session, data=data, created_via=CreatedVia.DEMO)
            except FrontdeskError:
                continue  # the made-up address exists already: skip this one
            planted += 1
        session.commit()
    return planted


def _free_day(full_days: dict[tuple[int, int], int], therapist_id: int, day: int) -> int:
    """Follow the "day is full, try this one" links from ``day`` (with path compression)."""
    path = []
    while (therapist_id, day) in full_days:
        path.append(day)
        day = full_days[(therapist_id, day)]
    for full in path:
        full_days[(therapist_id, full)] = day
    return day


def _phone(country: str, k: int, seed: int) -> str:
    _w, prefix, free, *_ = COUNTRIES[country]
    value = (k * 7919 + seed * 104729) % (10**free)
    if country == "US":
        return prefix + str(2 + (value // 10**6) % 8) + str(value % 10**6).zfill(6)
    return prefix + str(value).zfill(free)


def _batch(
    session: Session,
    cat: dict[str, Any],
    rng: random.Random,
    n: int,
    countries: list[str],
    per_country: dict[str, int],
    hours_used: dict[tuple[int, int], int],
    full_days: dict[tuple[int, int], int],
    today: datetime,
    now: datetime,
    summary: DemoSummary,
    seed: int,
) -> None:
    codes = allocate_codes(session, n)
    rows: list[dict[str, Any]] = []
    for code in codes:
        country = rng.choice(countries)
        k = per_country.get(country, 0)
        per_country[country] = k + 1
        _w, _p, _f, firsts, lasts, domains, cities = COUNTRIES[country]
        first, last = rng.choice(firsts), rng.choice(lasts)
        has_email = rng.random() < 0.85
        has_phone = rng.random() < 0.9 or not has_email
        number = code[2:].lstrip("0")
        email = (
            f"{_ascii(first)}.{_ascii(last)}{number}@{rng.choice(domains)}" if has_email else None
        )
        created = now - timedelta(days=rng.randint(0, 3 * 365), minutes=rng.randint(0, 1440))
        blocked = rng.random() < 0.01
        phone = _phone(country, k, seed) if has_phone else None
        sort_key, name_key, search_text = compute_keys(
            first_name=first,
            last_name=last,
            display_name=None,
            code=code,
            email_key=email.lower() if email else None,
            phone=phone,
            other_phone=None,
        )
        rows.append(
            {
                "code": code,
                "first_name": first,
                "last_name": last,
                "display_name": None,
                "email": email,
                "email_key": email.lower() if email else None,
                "phone": phone,
                "phone_country": country if has_phone else None,
                "other_phone": None,
                "gender": rng.choice(["female", "female", "male", "other", "unspecified"]),
                "date_of_birth": (today - timedelta(days=rng.randint(18 * 365, 80 * 365))).date()
                if rng.random() < 0.6
                else None,
                "anniversary": None,
                "address": None,
                "city": rng.choice(cities),
                "state": None,
                "postal_code": None,
                "country": country,
                "photo_path": None,
                "category_id": rng.choice(cat["categories"]).id if rng.random() < 0.7 else None,
                "home_branch_id": rng.choice(cat["branches"]).id,
                "status": "inactive" if rng.random() < 0.05 else "active",
                "blocked": blocked,
                "blocked_reason": "Repeated no-shows" if blocked else None,
                "consent_reminders": rng.random() < 0.9,
                "consent_birthday": rng.random() < 0.4,
                "consent_marketing": rng.random() < 0.3,
                "consent_newsletter": rng.random() < 0.25,
                "created_at": created,
                "created_via": CreatedVia.DEMO.value,
                "created_by_id": None,
                "updated_at": created,
                "version": 1,
                "deleted_at": None,
                "merged_into_id": None,
                "sort_key": sort_key,
                "name_key": name_key,
                "search_text": search_text,
            }
        )
    ids = insert_with_ids(session, Customer, rows)
    summary.customers += len(ids)

    tag_rows = []
    bookings: list[dict[str, Any]] = []
    for cid, row in zip(ids, rows, strict=True):
        if rng.random() < 0.15:
            tag_rows.append({"customer_id": cid, "tag_id": rng.choice(cat["tags"]).id})
        staff_pool = cat["by_branch"].get(row["home_branch_id"]) or cat["therapists"]
        visits = rng.choice([0, 1, 1, 2, 2, 3, 4, 6])
        # Visits go back in time from a recent day, 3-9 weeks apart; the last may be upcoming.
        day_offset = -rng.randint(1, 120)
        taken_days: set[int] = set()
        for v in range(visits):
            therapist = staff_pool[(cid + v) % len(staff_pool)]
            service = rng.choice(cat["services"])
            upcoming = v == 0 and rng.random() < 0.2
            if upcoming:
                wanted = rng.randint(1, 45)
                status = rng.choice([BookingStatus.PENDING, BookingStatus.CONFIRMED]).value
            else:
                wanted = day_offset
                day_offset -= rng.randint(21, 63)
                roll = rng.random()
                status = (
                    BookingStatus.COMPLETED.value
                    if roll < 0.82
                    else BookingStatus.CANCELLED.value
                    if roll < 0.93
                    else BookingStatus.NO_SHOW.value
                )
            step = 1 if upcoming else -1
            # First day with a free hour for this therapist and no other visit of this customer.
            wanted = _free_day(full_days, therapist.id, wanted)
            while wanted in taken_days:
                wanted = _free_day(full_days, therapist.id, wanted + step)
            hour = hours_used.get((therapist.id, wanted), 0)
            hours_used[(therapist.id, wanted)] = hour + 1
            if hour + 1 >= SLOTS_PER_DAY:
                full_days[(therapist.id, wanted)] = wanted + step
            taken_days.add(wanted)
            start = today + timedelta(days=wanted, hours=OPENING_HOUR + hour)
            bookings.append(
                {
                    "customer_id": cid,
                    "service_id": service.id,
                    "branch_id": therapist.branch_id,
                    "staff_id": therapist.id,
                    "start_at": start,
                    "end_at": start + timedelta(minutes=service.duration_minutes),
                    "status": status,
                    "price_cents": service.price_cents,
                    "source": "demo",
                    "cancellation_reason": rng.choice(CANCEL_REASONS)
                    if status == "cancelled"
                    else None,
                    "created_at": min(now, start - timedelta(days=rng.randint(1, 20))),
                    "updated_at": min(now, start),
                    "version": 1,
                    "_service": service,
                }
            )
    if tag_rows:
        bulk_insert(session.connection(), CustomerTag, tag_rows)
    if bookings:
        plain = [{k: v for k, v in b.items() if not k.startswith("_")} for b in bookings]
        booking_ids = insert_with_ids(session, Booking, plain)
        summary.bookings += len(booking_ids)
    else:
        booking_ids = []

    # Orders for most completed visits; a few partial refunds.
    orders: list[dict[str, Any]] = []
    order_meta: list[tuple[dict[str, Any], int]] = []
    for bid, b in zip(booking_ids, bookings, strict=True):
        if b["status"] != BookingStatus.COMPLETED.value or rng.random() > 0.75:
            continue
        refunded = rng.random() < 0.05
        orders.append(
            {
                "customer_id": b["customer_id"],
                "branch_id": b["branch_id"],
                "booking_id": bid,
                "status": OrderStatus.PART_REFUNDED.value if refunded else OrderStatus.PAID.value,
                "total_cents": b["price_cents"],
                "created_at": b["end_at"],
                "updated_at": b["end_at"],
                "version": 1,
            }
        )
        order_meta.append((b, 1 if refunded else 0))
    order_ids: list[int] = []
    if orders:
        order_ids = insert_with_ids(session, Order, orders)
        summary.orders += len(order_ids)
        lines, payments, refunds = [], [], []
        for oid, (b, was_refunded) in zip(order_ids, order_meta, strict=True):
            service = b["_service"]
            lines.append(
                {
                    "order_id": oid,
                    "kind": "service",
                    "service_id": service.id,
                    "description": service.name,
                    "quantity": 1,
                    "unit_price_cents": service.price_cents,
                    "discount_cents": 0,
                    "total_cents": service.price_cents,
                }
            )
            payments.append(
                {
                    "order_id": oid,
                    "method": rng.choice(["card", "card", "cash"]),
                    "amount_cents": service.price_cents,
                    "at": b["end_at"],
                }
            )
            if was_refunded:
                refunds.append(
                    {
                        "order_id": oid,
                        "amount_cents": max(100, service.price_cents // 2),
                        "reason": "Goodwill: service ran late",
                        "at": b["end_at"] + timedelta(days=1),
                    }
                )
        bulk_insert(session.connection(), OrderLine, lines)
        bulk_insert(session.connection(), Payment, payments)
        summary.payments += len(payments)
        if refunds:
            bulk_insert(session.connection(), Refund, refunds)
            summary.refunds += len(refunds)

    # Loyalty: about a third of customers collect points.
    program = cat["program"]
    enrol_rows, enrol_entries = [], []
    for cid, row in zip(ids, rows, strict=True):
        if program is None or rng.random() > 0.33:
            continue
        entries = []
        balance = 0
        for _ in range(rng.randint(1, 3)):
            points = rng.choice([10, 25, 50, 100])
            balance += points
            entries.append((points, LedgerAction.ADDED.value, "Visit reward", balance))
        if balance >= 50 and rng.random() < 0.4:
            balance -= 50
            entries.append((-50, LedgerAction.REDEEMED.value, "Redeemed for a blow-dry", balance))
        enrol_rows.append(
            {
                "customer_id": cid,
                "program_id": program.id,
                "balance": balance,
                "enrolled_at": row["created_at"],
                "version": 1,
            }
        )
        enrol_entries.append((cid, row["created_at"], entries))
    if enrol_rows:
        enrol_ids = insert_with_ids(session, LoyaltyEnrolment, enrol_rows)
        summary.enrolments += len(enrol_ids)
        ledger = []
        for eid, (cid, created, entries) in zip(enrol_ids, enrol_entries, strict=True):
            for j, (points, action, reason, after) in enumerate(entries):
                ledger.append(
                    {
                        "enrolment_id": eid,
                        "customer_id": cid,
                        "program_id": program.id,
                        "points": points,
                        "action": action,
                        "reason": reason,
                        "balance_after": after,
                        "at": created + timedelta(days=j),
                    }
                )
        bulk_insert(session.connection(), PointsEntry, ledger)
        summary.points_entries += len(ledger)

    # Notes: some preferences, a few alerts.
    note_rows = []
    note_cats = cat["note_categories"]
    for cid, row in zip(ids, rows, strict=True):
        roll = rng.random()
        if roll < 0.02 and "Alert" in note_cats:
            body, category, alert = rng.choice(ALERTS), note_cats["Alert"], True
        elif roll < 0.12:
            name, body = rng.choice(NOTES)
            category, alert = note_cats.get(name), False
        else:
            continue
        note_rows.append(
            {
                "customer_id": cid,
                "body": body,
                "category_id": category.id if category else None,
                "visibility": "staff",
                "pinned": alert,
                "is_alert": alert,
                "position": 0,
                "created_at": row["created_at"],
                "updated_at": row["created_at"],
            }
        )
    if note_rows:
        bulk_insert(session.connection(), Note, note_rows)
        summary.notes += len(note_rows)

"""Hostile demo data: what a real desk ends up storing, and what older versions let in.

``add_hostile_data(engine)`` adds, on top of a demo database (``frontdesk.data.demo.generate``):

- customers whose names, addresses, cities, block reasons, notes, alerts, tags, enrolment notes,
  booking notes, order lines and refund reasons contain markup (``[/]``, ``[bold]x``,
  ``[link=file:///etc/passwd]x[/link]``, ``Allergy: [nuts]``) and control-looking text
  (a literal backslash ``\\x1b[2J``), entered through the real services;
- real control characters (``\\x1b[2J\\x1b]0;pwned\\x07``, C1 ``\\x9b``, NUL, OSC 8 links),
  written with raw SQL because the services refuse them now: what is already stored must be
  shown escaped;
- 100-character names (and a 200-character display name), wide and right-to-left text;
- VIPs whose category colour is ``gold`` (as older versions stored it, raw SQL), a category
  with an unreadable colour;
- blocked, merged-away and deleted customers, pairs the duplicate finder reports, merge
  candidates waiting for review;
- customers with several enrolments (and points), several orders (paid, refunded, cancelled),
  several bookings (completed, cancelled, upcoming) and several notes (pinned, alerts).

Everything goes through ``frontdesk.data`` services except what they refuse.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, update
from sqlmodel import Session, col, select

from frontdesk.data import bookings, customers, merge, notes, orders, rewards, tags
from frontdesk.data.customers import CustomerCreate, CustomerUpdate
from frontdesk.data.importing import ImportOptions, run_import
from frontdesk.data.models import (
    Booking,
    Category,
    Customer,
    LoyaltyEnrolment,
    Note,
    NoteCategory,
    Order,
    Refund,
    Service,
    Staff,
    Tag,
)
from frontdesk.data.validation import fold
from tests.actors import ADMIN

# Markup that rich would interpret (or choke on) if user data reached it as a markup string.
MARKUP = [
    "[/]",
    "[bold]x",
    "[link=file:///etc/passwd]x[/link]",
    "Allergy: [nuts]",
    "[red on gold]VIP[/]",
    "[/bold]",
    "[@click=app.quit]quit[/]",
    ":warning: [b]",
]
# Text that looks like terminal control but is plain characters (a backslash and letters).
LOOKS_LIKE_CONTROL = [
    "\\x1b[2J",
    "\\x1b]0;pwned\\x07",
    "\\033[31mred",
    "%s%n{0}$(rm)",
]
# Real control characters: only raw SQL can store them now.
CONTROL = [
    "\x1b[2J\x1b]0;pwned\x07",
    "\x1b]8;;file:///etc/passwd\x07click\x1b]8;;\x07",
    "\x9b2J C1 CSI",
    "NUL\x00here",
    "\x1b[31mred\x1b[0m",
    "bell\x07\x08\x08back",
    "line\rreturn",
]
# Wide, combining, right-to-left and zero-width text.
UNICODE = [
    "王秀英",
    "Zoë Ｗｉｄｅ",
    "مريم",
    "👩\u200d👩\u200d👧 family",
    "e\u0301\u0301\u0301",
    "\u202eevil",
]
# A right-to-left override: the services refuse it now (it showed another name), so it is
# stored by SQL, as it was before that, with the keys the services made of it then.
BIDI_OVERRIDE = ["\u202eevil"]

LONG_FIRST = ("Maximiliana-Konstantina-" * 5)[:100]
LONG_LAST = ("[bold]Vanderbiltington-Smythe " * 4)[:100]


@dataclass
class HostileData:
    """Ids of what was added, for tests that want to open a particular customer."""

    customer_ids: list[int] = field(default_factory=list)
    vip_ids: list[int] = field(default_factory=list)
    blocked_ids: list[int] = field(default_factory=list)
    deleted_ids: list[int] = field(default_factory=list)
    merged_away_ids: list[int] = field(default_factory=list)
    control_ids: list[int] = field(default_factory=list)
    busy_ids: list[int] = field(default_factory=list)  # several enrolments, orders, notes
    csv_path: Path | None = None
    bidi_ids: dict[int, str] = field(default_factory=dict)  # id -> name stored by SQL


def _staff(session: Session, username: str) -> Staff:
    staff = session.exec(select(Staff).where(col(Staff.username) == username)).first()
    assert staff is not None, f"the demo database has no staff member {username!r}"
    return staff


def _category(session: Session, name: str) -> Category:
    category = session.exec(select(Category).where(col(Category.name) == name)).first()
    assert category is not None, f"no category {name!r}"
    return category


def add_hostile_data(
    engine: Engine, *, now: datetime | None = None, csv_dir: Path | None = None
) -> HostileData:
    """Add the hostile customers and their history to a demo database (see module doc)."""
    now = now or datetime.now(UTC)
    out = HostileData()
    counter = iter(range(1, 10_000))

    def email() -> str:
        return f"hostile.{next(counter)}@example.org"

    with Session(engine, expire_on_commit=False) as s:
        admin = _staff(s, "admin")
        vip = _category(s, "VIP")
        branch_id = admin.branch_id or 1
        service = s.exec(select(Service).where(col(Service.active).is_(True))).first()
        assert service is not None and service.id is not None

        # Lookups with hostile names: tags, a category, a note category, loyalty programs.
        tag_ids = [
            tags.create_tag(session=s, name=name, colour=colour).id or 0
            for name, colour in [
                ("[/]", "gold"),
                ("[bold]x", None),
                ("Allergy: [nuts]", "#ff0000"),
                ("[link=file:///etc/passwd]x[/link]", "teal"),
                ("\\x1b[2J", None),
                ("T" * 50, None),
                ("王秀英 👩\u200d👩\u200d👧", None),
            ]
        ]
        odd_category = tags.save_category(
            session=s, name="[/] odd", symbol="[/", colour="silver", actor=ADMIN
        )
        notes.save_category(session=s, name="Allergy: [nuts]", is_alert=True, actor=ADMIN)
        notes.save_category(session=s, name="[bold]x", is_alert=False, actor=ADMIN)
        note_categories = list(s.exec(select(NoteCategory)))
        alert_category = next(c for c in note_categories if c.is_alert)
        programs = [rewards.default_program(session=s)]
        programs.append(
            rewards.save_program(
                session=s, name="[/] Stamps", unit="[b]stamps", points_per_visit=1, actor=ADMIN
            )
        )
        programs.append(
            rewards.save_program(
                session=s,
                name="Allergy: [nuts] club",
                unit="\\x1b[2J",
                default_expiry_days=30,
                actor=ADMIN,
            )
        )
        programs.append(
            rewards.save_program(session=s, name="Long " + "P" * 90, unit="pts", actor=ADMIN)
        )

        def create(first: str, last: str | None = None, **extra: object) -> int:
            data = CustomerCreate(first_name=first, last_name=last, email=email(), **extra)  # type: ignore[arg-type]
            customer = customers.create_customer(session=s, data=data, actor=admin)
            assert customer.id is not None
            out.customer_ids.append(customer.id)
            return customer.id

        # 1. Markup and control-looking text in every single-line field.
        for i, value in enumerate(MARKUP + LOOKS_LIKE_CONTROL):
            cid = create(
                value[:100],
                MARKUP[(i + 1) % len(MARKUP)],
                display_name=f"{value} ({i})",
                address=f"{value} Street {i}",
                city=value[:100],
                state=LOOKS_LIKE_CONTROL[i % len(LOOKS_LIKE_CONTROL)],
                postal_code=value[:20],
                category_id=(vip.id if i % 3 == 0 else odd_category.id if i % 3 == 1 else None),
            )
            if i % 3 == 0:
                out.vip_ids.append(cid)
            tags.set_tags(
                session=s, customer_id=cid, tag_ids={tag_ids[i % len(tag_ids)]}, actor=admin
            )
            notes.add_note(
                session=s,
                customer_id=cid,
                body=f"Allergy: [nuts] and {value}",
                category_id=alert_category.id,
                is_alert=True,
                pinned=True,
                actor=admin,
            )

        # 2. Long names, wide and right-to-left text.
        long_id = create(
            LONG_FIRST,
            LONG_LAST,
            display_name=("[/]" + "D" * 200)[:200],
            address=("[bold]" + "A" * 300)[:300],
            city="C" * 100,
            category_id=vip.id,
        )
        out.vip_ids.append(long_id)
        for value in UNICODE:
            if value in BIDI_OVERRIDE:  # refused by the services since: stored below by SQL
                out.bidi_ids[create("Bidi", "Bidi", city="Bidi")] = value
            else:
                create(value, value, city=value)

        # 3. VIPs, blocked customers (with markup in the reason).
        for i in range(3):
            cid = create(f"[/]VIP {i}", "[bold]Gold", category_id=vip.id)
            out.vip_ids.append(cid)
        for i, reason in enumerate(["[/] threw a chair", "Allergy: [nuts]", "\\x1b[2J unpaid"]):
            cid = create(f"Blocked [{i}]", "[/]", category_id=vip.id if i == 0 else None)
            customers.block_customer(session=s, customer_id=cid, reason=reason, actor=admin)
            out.blocked_ids.append(cid)

        # 4. Deleted and merged-away customers (and an audit trail of hostile edits).
        for i in range(2):
            cid = create(f"Deleted [/] {i}", "[bold]Gone")
            customers.delete_customer(session=s, customer_id=cid, actor=admin)
            out.deleted_ids.append(cid)
        for i in range(2):
            survivor = create(f"Survivor [/] {i}", "Allergy: [nuts]")
            other = create(f"Merged [bold] {i}", "[/]")
            notes.add_note(session=s, customer_id=other, body="[/] note of the merged", actor=admin)
            merge.merge_customers(session=s, survivor_id=survivor, other_ids=[other], actor=admin)
            out.merged_away_ids.append(other)
            c = customers.get_customer(session=s, customer_id=survivor)
            customers.update_customer(
                session=s,
                customer_id=survivor,
                data=CustomerUpdate(last_name="[link=file:///etc/passwd]x[/link]", city="[/]"),
                expected_version=c.version,
                actor=admin,
            )

        # 5. Pairs the duplicate finder reports (same name and date of birth).
        born = date(1990, 2, 3)
        for i in range(3):
            for _ in range(2):
                create(f"[/]Twin {i}", "[bold]Double", date_of_birth=born)

        # 6. Busy customers: several enrolments, orders, bookings and notes.
        for i in range(3):
            cid = create(f"Busy [/] {i}", "Allergy: [nuts]", category_id=vip.id)
            out.busy_ids.append(cid)
            for k, program in enumerate(programs):
                assert program.id is not None
                enrolment = rewards.enrol(
                    session=s,
                    customer_id=cid,
                    program_id=program.id,
                    starting_balance=10 * (k + 1),
                    expires_on=now.date() + timedelta(days=30 * (k + 1)),
                    notes=f"[/] enrolment {k}\nAllergy: [nuts]",
                    actor=admin,
                    today=now.date(),
                )
                assert enrolment.id is not None
                rewards.change_points(
                    session=s,
                    enrolment_id=enrolment.id,
                    points=5 + k,
                    reason=f"[bold]bonus {k}",
                    actor=admin,
                )
            for k in range(4):
                start = (now - timedelta(days=40 - 7 * k)).replace(
                    hour=8 + k, minute=0, second=0, microsecond=0
                )
                booking = bookings.create_booking(
                    session=s,
                    customer_id=cid,
                    service_id=service.id,
                    branch_id=branch_id,
                    staff_id=None,
                    start_at=start,
                    notes=f"[/] booking {k}\n\\x1b[2J",
                    actor=admin,
                )
                assert booking.id is not None
                notes.add_note(
                    session=s, booking_id=booking.id, body=f"[bold]booking note {k}", actor=admin
                )
                if k == 0:
                    bookings.change_status(
                        session=s, booking_id=booking.id, action="complete", actor=admin
                    )
                elif k == 1:
                    bookings.change_status(
                        session=s,
                        booking_id=booking.id,
                        action="cancel",
                        reason="[/] Allergy: [nuts]",
                        actor=admin,
                    )
            for k in range(2):
                bookings.create_booking(
                    session=s,
                    customer_id=cid,
                    service_id=service.id,
                    branch_id=branch_id,
                    staff_id=None,
                    start_at=(now + timedelta(days=3 + k)).replace(minute=0, second=0),
                    notes="[link=file:///etc/passwd]x[/link]",
                    actor=admin,
                )
            for k in range(4):
                order = orders.create_order(
                    session=s,
                    customer_id=cid,
                    branch_id=branch_id,
                    lines=[
                        orders.LineInput(kind="service", service_id=service.id),
                        orders.LineInput(
                            kind="product",
                            unit_price_cents=1250 + k,
                            quantity=k + 1,
                            description=f"[/] product {k} [bold]x",
                        ),
                    ],
                    notes=f"Allergy: [nuts] order {k}",
                    actor=admin,
                )
                assert order.id is not None
                if k in (1, 2):
                    orders.take_payment(
                        session=s, order_id=order.id, amount_cents=2000, actor=admin
                    )
                if k == 2:
                    orders.refund(
                        session=s,
                        order_id=order.id,
                        amount_cents=500,
                        reason="[/] refund [bold]",
                        actor=admin,
                    )
                if k == 3:
                    orders.cancel_order(
                        session=s, order_id=order.id, reason="\\x1b[2J cancel", actor=admin
                    )
            for k, body in enumerate(
                [
                    "[/]",
                    "Allergy: [nuts]",
                    "# [bold]Heading\n\n- `[/]` item\n- [link](file:///etc/passwd)",
                    "\\x1b]0;pwned\\x07",
                    "L" * 2000,
                ]
            ):
                notes.add_note(
                    session=s,
                    customer_id=cid,
                    body=body,
                    category_id=note_categories[k % len(note_categories)].id,
                    pinned=k == 0,
                    is_alert=k == 1,
                    actor=admin,
                )
            tags.set_tags(session=s, customer_id=cid, tag_ids=set(tag_ids), actor=admin)

        # 7. Customers to receive real control characters below.
        for i in range(3):
            out.control_ids.append(create(f"Ctrl Seq {i}", "Stored", category_id=vip.id))
        s.commit()

    _store_controls(engine, out)
    _store_old_colours(engine)
    out.csv_path = _import_candidates(engine, out, csv_dir)
    return out


def _store_controls(engine: Engine, out: HostileData) -> None:
    """Real control characters, as stored before the services refused them.

    Written with SQL statements on the tables (no service, no model validation)."""
    customer, note, tag = table(Customer), table(Note), table(Tag)
    enrolment, booking, refund, order = (
        table(LoyaltyEnrolment),
        table(Booking),
        table(Refund),
        table(Order),
    )

    def last(t: Any, n: int) -> Any:
        return select(t.c.id).order_by(t.c.id.desc()).limit(n).scalar_subquery()

    stamp = datetime.now(UTC)
    with engine.begin() as conn:
        for cid, value in out.bidi_ids.items():
            row = conn.execute(
                select(customer.c.code, customer.c.email_key).where(customer.c.id == cid)
            ).one()
            sort_key, name_key, before, after = customers.key_parts(
                first_name=value,
                last_name=value,
                display_name=None,
                email_key=row.email_key,
                phone=None,
                other_phone=None,
            )
            conn.execute(
                update(customer)
                .where(customer.c.id == cid)
                .values(
                    first_name=value,
                    last_name=value,
                    city=value,
                    sort_key=sort_key,
                    name_key=name_key,
                    search_text=customers.search_text_of(before, row.code, after),
                )
            )
        for i, cid in enumerate(out.control_ids):
            value = CONTROL[i % len(CONTROL)]
            conn.execute(
                update(customer)
                .where(customer.c.id == cid)
                .values(
                    first_name=f"Ctrl Seq {i} {value}"[:100],
                    last_name="Stored\x1b[2J",
                    display_name="\x08\x08\x08" + value,
                    address=CONTROL[1],
                    city=CONTROL[0],
                    state=CONTROL[2],
                    postal_code="\x00\x07",
                    blocked=i == 0,
                    blocked_reason="\x1b[31mred\x1b[0m\x00" if i == 0 else None,
                )
            )
            for k, body in enumerate(CONTROL):
                conn.execute(
                    insert(note).values(
                        customer_id=cid,
                        body=f"{body}\n{CONTROL[0]}",
                        visibility="staff",
                        pinned=k == 0,
                        is_alert=k == 1,
                        position=-100 - k,
                        created_at=stamp,
                        updated_at=stamp,
                    )
                )
        conn.execute(
            update(tag).where(tag.c.key == fold("\\x1b[2J")).values(name="blink\x1b[5m\x9b")
        )
        conn.execute(
            update(enrolment)
            .where(enrolment.c.id.in_(last(enrolment, 2)))
            .values(notes=CONTROL[0] + "\n" + CONTROL[1])
        )
        conn.execute(
            update(booking)
            .where(booking.c.id.in_(last(booking, 6)))
            .values(notes=CONTROL[0], cancellation_reason=CONTROL[1])
        )
        conn.execute(update(refund).values(reason=CONTROL[0] + " [/]"))
        conn.execute(update(order).where(order.c.id.in_(last(order, 3))).values(notes=CONTROL[1]))


def table(model: Any) -> Any:
    return model.__table__


def _store_old_colours(engine: Engine) -> None:
    """Colours as older versions stored them: CSS names rich cannot parse, and garbage."""
    category, tag = table(Category), table(Tag)
    with engine.begin() as conn:
        conn.execute(update(category).where(category.c.name == "VIP").values(colour="gold"))
        conn.execute(
            update(category).where(category.c.name == "[/] odd").values(colour="not a colour")
        )
        conn.execute(update(tag).where(tag.c.name == "[/]").values(colour="gold"))
        conn.execute(update(tag).where(tag.c.name == "[bold]x").values(colour="[/]"))


def write_hostile_csv(path: Path, emails: list[str]) -> Path:
    """A CSV of hostile rows; rows carrying ``emails`` match existing customers."""
    rows = [
        ["First name", "Last name", "Email", "Phone", "Address", "City", "Tags", "Notes"],
        ["[/]", "[bold]x", "csv.1@example.org", "", "[/] street", "Allergy: [nuts]", "[/]", "[/]"],
        [
            "[link=file:///etc/passwd]x[/link]",
            "\\x1b[2J",
            "csv.2@example.org",
            "",
            "\\x1b]0;pwned\\x07",
            "[bold]x",
            "Allergy: [nuts]",
            "Allergy: [nuts]",
        ],
        [LONG_FIRST, LONG_LAST, "csv.3@example.org", "", "", "", "", ""],
        ["Ctrl", "Row\x1b[2J", "csv.4@example.org", "", "\x1b]0;pwned\x07", "", "", ""],
        ["", "", "not-an-email", "12", "", "", "", ""],
    ]
    for i, known in enumerate(emails):
        rows.append([f"[/] Again {i}", "Allergy: [nuts]", known, "", "[/]", "[/]", "[/]", "[/]"])
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _import_candidates(engine: Engine, out: HostileData, csv_dir: Path | None) -> Path | None:
    """Merge candidates waiting for review, made by importing the hostile CSV."""
    if csv_dir is None:
        return None
    with Session(engine) as s:
        known = [
            c.email
            for c in (customers.get_customer(session=s, customer_id=i) for i in out.busy_ids)
            if c.email
        ]
        admin = _staff(s, "admin")
    path = write_hostile_csv(csv_dir / "hostile.csv", known)
    run_import(
        engine=engine,
        path=path,
        options=ImportOptions(on_duplicate="candidate", default_country="NL", workers=0),
        actor=admin,
    )
    return path

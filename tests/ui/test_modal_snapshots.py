"""Snapshot tests of every modal (and the command palette), opened with the keys a user
presses, with hostile data in them.

The hostile customer is called ``[/]Maria [link=file:///etc/passwd]x[/link]``; categories and
tags have markup in their names and colours that the renderer cannot read (``gold`` as older
versions stored it, plain garbage). Every modal must show them literally, unstyled where the
colour is unreadable, and never as a link. Render the SVGs with
/work/shared/tools/snap2png and look at them before accepting (``--snapshot-update``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select
from textual.pilot import Pilot
from textual.widgets import TextArea

from frontdesk.data import bookings, fields, notes, rewards, tags
from frontdesk.data import customers as svc
from frontdesk.data.messaging import outbox
from frontdesk.data.models import (
    AuditEvent,
    Booking,
    Category,
    Customer,
    LoyaltyEnrolment,
    Note,
    Order,
    OutboxMessage,
    Payment,
    Service,
    Staff,
    Tag,
)
from tests.actors import ADMIN
from tests.ui.conftest import NOW, SIZE, burst, make_app, settle, wait_until

HOSTILE = "[/]Maria [link=file:///etc/passwd]x[/link]"
NOTE = (
    "**Allergy:** [nuts] and latex [/]\n\n"
    "- see [link=file:///etc/passwd]x[/link]\n"
    "- [the old chart](file:///etc/passwd) and <https://example.com/evil>\n\n"
    "Control-looking text: \\x1b[2J stays as typed."
)

Run = Callable[[Pilot[None]], Awaitable[None]]


@pytest.fixture
def hostile_engine(demo_engine: Engine) -> Iterator[Engine]:
    """The demo data plus a hostile customer (with a booking and its note, points and a
    note), a hostile field, tag, category and program, and colours that cannot be read."""
    with Session(demo_engine) as s:
        customer = svc.create_customer(
            actor=ADMIN,
            session=s,
            data=svc.CustomerCreate(
                first_name="[/]Maria",
                last_name="[link=file:///etc/passwd]x[/link]",
                email="maria.hostile@example.com",
                city="Allergy: [nuts]",
            ),
        )
        customer_id = customer.id or 0
        # Stored before colours were checked: "gold" (rich cannot read it) and garbage.
        s.add(Category(name="[b]Gold[/b] club", symbol="★", colour="gold", position=10))
        s.add(Category(name=HOSTILE, symbol="!", colour="not a colour [/]", position=11))
        s.add(Tag(name=HOSTILE, key="hostile-tag", colour="gold"))
        tags.create_tag(session=s, name="[red]Allergy[/red]")
        fields.save_field(
            session=s, label=HOSTILE, key="hostile_field", help_text="[/] help", actor=ADMIN
        )
        rewards.save_program(
            session=s, name="[/]Stamps [link=x]y[/link]", unit="[b]stamps", actor=ADMIN
        )
        program = rewards.default_program(session=s)
        rewards.enrol(
            session=s,
            customer_id=customer_id,
            program_id=program.id or 0,
            starting_balance=0,  # a ledger entry would carry the real time (append-only)
            notes="[/] welcome",
            actor=ADMIN,
        )
        notes.add_note(session=s, customer_id=customer_id, body=NOTE, pinned=True, actor=ADMIN)
        service = s.exec(select(Service).order_by(col(Service.id))).first()
        staff = s.exec(select(Staff).order_by(col(Staff.id))).first()
        assert service is not None and staff is not None
        booking = bookings.create_booking(
            session=s,
            customer_id=customer_id,
            service_id=service.id or 0,
            branch_id=staff.branch_id or 1,
            staff_id=staff.id,
            start_at=NOW + timedelta(days=2, hours=-2),
            actor=ADMIN,
        )
        notes.add_note(
            session=s,
            customer_id=customer_id,
            booking_id=booking.id,
            body=NOTE,
            pinned=False,
            actor=ADMIN,
        )
        s.flush()
        pin_times(s)
        s.commit()
    yield demo_engine


def pin_times(session: Session) -> None:
    """What the services stamped with the real time gets the tests' fixed 'now' (stable
    snapshots: the profile shows when a note was written and when points were added)."""
    stamped = [
        (Customer, ("created_at", "updated_at")),
        (Note, ("created_at", "updated_at")),
        (Booking, ("created_at", "updated_at")),
        (LoyaltyEnrolment, ("enrolled_at",)),
        (AuditEvent, ("at",)),
    ]
    for model, columns in stamped:
        for name in columns:
            column = getattr(model, name)
            session.execute(update(model).where(column > NOW).values({name: NOW}))


def hostile_code(engine: Engine) -> str:
    with Session(engine) as s:
        found = s.exec(select(Customer).where(col(Customer.first_name) == "[/]Maria")).one()
        return found.code


def keys(*parts: str) -> Run:
    async def run(pilot: Pilot[None]) -> None:
        await burst(pilot, *parts)

    return run


def scenario(*runs: Run) -> Run:
    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for step in runs:
            await step(pilot)
            await settle(pilot, 0.2)
        for area in pilot.app.screen.query(TextArea):
            area.cursor_blink = False  # settle stops the blinking of inputs only
        await pilot.pause()

    return run


def find(code: str) -> Run:
    """In the directory: search the customer's code, go down to the list."""
    return scenario(keys("slash", code), keys("down"))


def snap(snap_compare: Any, engine: Engine, *runs: Run, staff: str = "rita") -> bool:
    app = make_app(engine, staff=staff)
    return bool(snap_compare(app, terminal_size=SIZE, run_before=scenario(*runs)))


def snap_admin(snap_compare: Any, engine: Engine, *runs: Run) -> bool:
    """As the demo's admin (settings are for admins)."""
    return snap(snap_compare, engine, *runs, staff="admin")


# --------------------------------------------------------------------------- common.py


def test_confirm_modal_deleting_a_hostile_field(snap_compare: Any, hostile_engine: Engine) -> None:
    """S, tab to the fields, delete: the question names the field literally."""
    assert snap_admin(snap_compare, hostile_engine, keys("S"), keys("tab", "delete"))


def test_confirm_modal_deleting_a_tag(snap_compare: Any, hostile_engine: Engine) -> None:
    """S, 3 (Tags), delete: the question names the tag literally and says how many
    customers it is taken off."""
    assert snap_admin(snap_compare, hostile_engine, keys("S"), keys("3", "delete"))


def test_confirm_modal_deleting_a_category(snap_compare: Any, hostile_engine: Engine) -> None:
    """S, 2 (Categories), delete: how many customers are left without a category."""
    assert snap_admin(snap_compare, hostile_engine, keys("S"), keys("2", "delete"))


def test_prompt_modal_block_reason(snap_compare: Any, hostile_engine: Engine) -> None:
    """a on the customer, Block…: the reason typed is hostile too."""
    assert snap(
        snap_compare,
        hostile_engine,
        find(hostile_code(hostile_engine)),
        keys("a", *["down"] * 5, "enter"),
        keys(HOSTILE),
    )


def test_prompt_modal_refuses_a_balance_that_is_not_a_number(
    snap_compare: Any, hostile_engine: Engine
) -> None:
    """Bulk enrol: the starting balance is checked in the modal, the message under the field."""
    assert snap(
        snap_compare,
        hostile_engine,
        find(hostile_code(hostile_engine)),
        keys("a", *["down"] * 7, "enter"),
        keys("enter"),
        keys("[/]12", "enter"),
    )


def test_choice_modal_categories_in_their_colours(
    snap_compare: Any, hostile_engine: Engine
) -> None:
    """Bulk, Set category…: stored colours drawn safely (gold as #ffd700, garbage unstyled)."""
    assert snap(
        snap_compare,
        hostile_engine,
        find(hostile_code(hostile_engine)),
        keys("a", "enter"),
    )


def test_choice_modal_tags(snap_compare: Any, hostile_engine: Engine) -> None:
    assert snap(
        snap_compare,
        hostile_engine,
        find(hostile_code(hostile_engine)),
        keys("a", "down", "enter"),
    )


# --------------------------------------------------------------------------- bulk.py


def test_bulk_action_modal(snap_compare: Any, hostile_engine: Engine) -> None:
    assert snap(
        snap_compare,
        hostile_engine,
        find(hostile_code(hostile_engine)),
        keys("space", "a"),
    )


# --------------------------------------------------------------------------- settings.py


def test_field_modal_with_a_refused_key(snap_compare: Any, hostile_engine: Engine) -> None:
    """S, a: a hostile label and a key the service refuses, shown under the key."""
    assert snap_admin(
        snap_compare,
        hostile_engine,
        keys("S"),
        keys("a", HOSTILE, "tab", "Bad Key", "ctrl+s"),
    )


def test_field_modal_editing_a_hostile_field(snap_compare: Any, hostile_engine: Engine) -> None:
    assert snap_admin(snap_compare, hostile_engine, keys("S"), keys("tab", "enter"))


def test_line_modal_category_colour_as_typed(snap_compare: Any, hostile_engine: Engine) -> None:
    """S, Categories, a: the colour typed is shown as it will be stored, in that colour."""
    assert snap_admin(
        snap_compare,
        hostile_engine,
        keys("S"),
        keys("right", "a", HOSTILE, "tab", "!", "tab", "gold"),
    )


def test_line_modal_colour_refused_next_to_the_field(
    snap_compare: Any, hostile_engine: Engine
) -> None:
    assert snap_admin(
        snap_compare,
        hostile_engine,
        keys("S"),
        keys("right", "a", "Silver", "tab", "S", "tab", "goldish", "ctrl+s"),
    )


def test_line_modal_editing_a_category_stored_as_gold(
    snap_compare: Any, hostile_engine: Engine
) -> None:
    """The stored 'gold' opens as typed and is shown as what it would be saved as."""
    assert snap_admin(
        snap_compare,
        hostile_engine,
        keys("S"),
        keys("right", "tab", "down", "down", "down", "enter"),
    )


def test_settings_categories_with_unreadable_colours(
    snap_compare: Any, hostile_engine: Engine
) -> None:
    """Not a modal: the list the category dialogs come from, with gold and garbage colours."""
    assert snap_admin(snap_compare, hostile_engine, keys("S"), keys("right"))


# --------------------------------------------------------------------------- other screens'


def test_filter_modal(snap_compare: Any, hostile_engine: Engine) -> None:
    """f from the list, the Tag menu opened: tag names from the lookups, shown literally."""
    assert snap(snap_compare, hostile_engine, keys("f"), keys("tab", "tab", "enter"))


def test_quick_add_modal(snap_compare: Any, hostile_engine: Engine) -> None:
    """b, a name nobody has, ctrl+n: the typed text pre-fills the modal."""
    assert snap(
        snap_compare,
        hostile_engine,
        keys("b"),
        keys(HOSTILE),
        keys("ctrl+n"),
    )


# --------------------------------------------------------------------------- from the profile


def repaint() -> Run:
    """Draw the screen afresh. A Textual DataTable keeps lines drawn between ``add_row`` and
    its next idle at the old column widths until its cursor moves (its line cache is not
    cleared when the widths grow); the profile's tabs fill their tables that way, so what is
    behind a modal opened from them would differ from run to run. A resize redraws every
    line. (Reported; the settings, merge and import tables give their widths instead.)"""

    async def run(pilot: Pilot[None]) -> None:
        width, height = SIZE
        await pilot.resize_terminal(width - 1, height)
        await pilot.pause()
        await pilot.resize_terminal(width, height)
        await pilot.pause()

    return run


def profile(engine: Engine) -> Run:
    """The hostile customer's profile: found in the directory, opened with enter."""
    return scenario(find(hostile_code(engine)), keys("enter"))


def test_info_modal_booking_notes(snap_compare: Any, hostile_engine: Engine) -> None:
    """2, v: the booking's note is Markdown; its markup and links stay text, nothing clickable."""
    assert snap(
        snap_compare, hostile_engine, profile(hostile_engine), keys("2"), repaint(), keys("v")
    )


def test_enrol_modal(snap_compare: Any, hostile_engine: Engine) -> None:
    """4, n: the programs offered include one with a hostile name and unit."""
    assert snap(
        snap_compare, hostile_engine, profile(hostile_engine), keys("4"), repaint(), keys("n")
    )


def test_points_modal(snap_compare: Any, hostile_engine: Engine) -> None:
    """4, a: add points to the customer's enrolment, a hostile reason typed."""
    assert snap(
        snap_compare,
        hostile_engine,
        profile(hostile_engine),
        keys("4"),
        repaint(),
        keys("a"),
        keys("25", "tab", HOSTILE),
    )


def test_note_modal(snap_compare: Any, hostile_engine: Engine) -> None:
    """5, a: a new note typed with markup in it."""
    assert snap(
        snap_compare,
        hostile_engine,
        profile(hostile_engine),
        keys("5"),
        repaint(),
        keys("a"),
        # Lines short enough not to wrap, then tab: the text area's cursor is not drawn the
        # same way from run to run.
        keys("Allergy: [nuts] [/]", "enter", "[link=file:///etc/passwd]x[/link]", "tab"),
    )


# --------------------------------------------------------------------------- no links, no controls


async def test_info_modal_never_makes_a_link_nor_sends_a_control(empty_engine: Engine) -> None:
    """Markdown links, autolinks, rich markup links and real control characters in a note
    are shown as text: nothing to click, nothing the terminal would obey."""
    from markdown_it import MarkdownIt

    from frontdesk.screens.common import InfoModal, _plain_markdown

    body = (
        "[x](file:///etc/passwd) <https://example.com/evil> https://example.com/bare\n\n"
        "[link=file:///etc/passwd]y[/link] [/] \x1b[2J\x1b]0;pwned\x07 \x9bC1"
    )
    parsed = _plain_markdown().parse(body)
    kinds = {child.type for token in parsed for child in (token.children or [])}
    assert not kinds & {"link_open", "image", "html_inline"}
    assert "link_open" in {  # the default parser would have made links of them
        child.type for token in MarkdownIt("gfm-like").parse(body) for child in token.children or []
    }
    app = make_app(empty_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(InfoModal(HOSTILE, body))
        await settle(pilot)
        assert isinstance(app.screen, InfoModal)
        shown = app.export_screenshot()
        for text in ("[x](file:///etc/passwd)", "[link=file:///etc/passwd]y[/link]", "\\x1b[2J"):
            assert text.replace(" ", "&#160;") in shown
        assert "\x1b" not in shown and "\x9b" not in shown and "\x07" not in shown
        await burst(pilot, "enter")  # enter closes, it does not follow anything
        assert not isinstance(app.screen, InfoModal)


@pytest.fixture
def hostile_order_engine(hostile_engine: Engine) -> Iterator[Engine]:
    """The hostile customer with an order (a product line named with markup), part paid."""
    from frontdesk.data import orders

    with Session(hostile_engine) as s:
        customer = s.exec(select(Customer).where(col(Customer.first_name) == "[/]Maria")).one()
        staff = s.exec(select(Staff).order_by(col(Staff.id))).first()
        assert staff is not None
        order = orders.create_order(
            session=s,
            customer_id=customer.id or 0,
            branch_id=staff.branch_id or 1,
            lines=[
                orders.LineInput(
                    kind="product", unit_price_cents=4500, description="[/]Shampoo [b]XL"
                )
            ],
            actor=ADMIN,
        )
        orders.take_payment(session=s, order_id=order.id or 0, amount_cents=2000, actor=ADMIN)
        s.flush()
        for model, name in ((Order, "created_at"), (Order, "updated_at"), (Payment, "at")):
            column = getattr(model, name)
            s.execute(update(model).where(column > NOW).values({name: NOW}))
        s.commit()
    yield hostile_engine


def test_payment_modal(snap_compare: Any, hostile_order_engine: Engine) -> None:
    """3, p: take a payment on the highlighted order; an amount that is not one."""
    assert snap(
        snap_compare,
        hostile_order_engine,
        profile(hostile_order_engine),
        keys("3"),
        repaint(),
        keys("p"),
        keys("[/]12", "enter"),
    )


def test_refund_modal(snap_compare: Any, hostile_order_engine: Engine) -> None:
    """3, R: refund part of what was paid, with a hostile reason."""
    assert snap(
        snap_compare,
        hostile_order_engine,
        profile(hostile_order_engine),
        keys("3"),
        repaint(),
        keys("R"),
        keys("5", "tab", HOSTILE),
    )


# --------------------------------------------------------------------------- export, messaging


def test_export_modal(snap_compare: Any, hostile_engine: Engine) -> None:
    """space on the hostile customer, E: the selection's export asks for a file."""
    assert snap(
        snap_compare,
        hostile_engine,
        find(hostile_code(hostile_engine)),
        keys("space", "E"),
    )


def test_export_asks_before_replacing_a_file(
    snap_compare: Any,
    hostile_engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """space, E, the name of a file that exists (with markup in it), enter: replace it?"""
    monkeypatch.chdir(tmp_path)
    name = "[b]customers [red]x.csv"
    (tmp_path / name).write_text("an older export\n")
    assert snap(
        snap_compare,
        hostile_engine,
        find(hostile_code(hostile_engine)),
        keys("space", "E"),
        keys(name, "enter"),
    )


def test_template_modal_with_a_hostile_name(snap_compare: Any, hostile_engine: Engine) -> None:
    """S, the Message templates tab, a: name, subject and body typed with markup in them."""
    assert snap_admin(
        snap_compare,
        hostile_engine,
        keys("S"),
        keys("right", "right", "right", "right", "right", "a"),
        keys(HOSTILE, "enter", "tab", "[b]Hi[/b] {first_name}", "enter", "[/] body"),
    )


@pytest.fixture
def hostile_message_engine(hostile_engine: Engine) -> Iterator[Engine]:
    """A message to the hostile customer, failed with a server reason that looks like markup."""
    with Session(hostile_engine) as s:
        customer = s.exec(select(Customer).where(col(Customer.first_name) == "[/]Maria")).one()
        message = outbox.send_direct(
            session=s,
            customer_id=customer.id or 0,
            actor=ADMIN,
            subject="[b]Your[/b] voucher [link=file:///etc/passwd]x[/link]",
            body="Dear {first_name},\n\n[/] it is ready. \\x1b[2J",
        )
        s.flush()
        s.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message.id)
            .values(
                created_at=NOW - timedelta(hours=1),
                status="failed",
                attempts=5,
                next_attempt_at=None,
                last_error="550 [red]mailbox[/red] unavailable",
            )
        )
        s.commit()
    yield hostile_engine


def test_message_modal(snap_compare: Any, hostile_message_engine: Engine) -> None:
    """O, enter: the message as sent, subject, text and the server's reason all literal."""
    assert snap(snap_compare, hostile_message_engine, keys("O"), keys("enter"))


# --------------------------------------------------------------------------- app.py


def palette_found(text: str) -> Run:
    """Wait until the command palette lists an option holding ``text``."""

    async def run(pilot: Pilot[None]) -> None:
        from textual.command import CommandList

        def listed() -> bool:
            found = pilot.app.screen.query(CommandList)
            return bool(found) and any(
                text in str(found.first().get_option_at_index(i).prompt)
                for i in range(found.first().option_count)
            )

        await wait_until(pilot, listed)

    return run


def test_command_palette_finds_the_hostile_customer(
    snap_compare: Any, hostile_engine: Engine
) -> None:
    """ctrl+p and part of the hostile name: the customer is listed with the name literal."""
    assert snap(
        snap_compare,
        hostile_engine,
        keys("ctrl+p", "passwd"),
        palette_found("passwd"),
    )

"""Pilot tests: merging keeps the merged-away phone, and every way of finding a customer
finds the survivor by it, saying so; secondary phones and emails are edited in Details.

Keys are sent as a fast typist sends them (``burst``); the assertions look at the database
and at what the screen shows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label, OptionList, Static

from frontdesk.data import contacts, merge
from frontdesk.data import customers as svc
from frontdesk.data.models import AuditEvent, ContactPoint, Staff
from frontdesk.screens.common import PromptModal
from frontdesk.screens.directory import DirectoryScreen
from frontdesk.screens.merge import MergeScreen
from frontdesk.screens.profile.details import DetailsTab
from frontdesk.screens.profile.screen import ProfileScreen
from tests.actors import ADMIN
from tests.ui.conftest import SIZE, burst, make_app, settle, wait_until
from tests.ui.test_profile_flows import screen_text

HOSTILE = "[b]Zora[/b] [link=x]Q[/link]"


def _pair(engine: Engine) -> tuple[int, str, int, str]:
    with Session(engine) as s:
        a = svc.create_customer(
            actor=ADMIN,
            session=s,
            data=svc.CustomerCreate(
                first_name="Zora", last_name=HOSTILE, phone="+14155550111", email="zq@example.com"
            ),
        )
        b = svc.create_customer(
            actor=ADMIN,
            session=s,
            data=svc.CustomerCreate(
                first_name="Zora", last_name="Quil", phone="+14155550199", email="zora@quil.example"
            ),
        )
        s.commit()
        return a.id or 0, a.code, b.id or 0, b.code


async def test_merge_then_the_old_phone_finds_the_survivor_with_a_note(demo_engine: Engine) -> None:
    a_id, a_code, b_id, b_code = _pair(demo_engine)
    survivor_id, survivor_code = min((a_id, a_code), (b_id, b_code))
    gone_id, gone_code = max((a_id, a_code), (b_id, b_code))
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "slash", "zora")
        await burst(pilot, "down", "space", "space", "m")
        merge_screen = app.screen
        assert isinstance(merge_screen, MergeScreen)
        help_text = str(merge_screen.query_one("#merge-help", Static).render())
        assert "phones and emails" in help_text and "still find it" in help_text
        await burst(pilot, "ctrl+s")
        assert isinstance(app.screen, DirectoryScreen)
        # The merged-away customer's phone, typed in the directory search.
        await burst(pilot, "slash", "ctrl+u", "+14155550199")
        screen = app.screen
        table = screen.query_one("#customers", DataTable)
        await wait_until(pilot, lambda: table.row_count == 1)
        assert [r.key.value for r in table.ordered_rows] == [str(survivor_id)]
        note = f"{gone_code} was merged into {survivor_code}"
        await wait_until(pilot, lambda: note in str(screen.query_one("#chips", Label).render()))
        # And its code.
        await burst(pilot, "slash", "ctrl+u", gone_code.lower())
        await wait_until(pilot, lambda: note in str(screen.query_one("#chips", Label).render()))
        assert [r.key.value for r in table.ordered_rows] == [str(survivor_id)]
    with Session(demo_engine) as s:
        kept = s.exec(
            select(ContactPoint).where(col(ContactPoint.customer_id) == survivor_id)
        ).all()
        by_value = {p.value: p.origin for p in kept}
        gone_phone = "+14155550199" if gone_id == b_id else "+14155550111"
        assert by_value[gone_phone] == f"merged from {gone_code}"


async def test_the_picker_finds_a_merged_away_email_and_says_so(demo_engine: Engine) -> None:
    a_id, a_code, b_id, b_code = _pair(demo_engine)
    with Session(demo_engine) as s:
        admin = s.exec(select(Staff).where(col(Staff.role) == "admin")).first()
        merge.merge_customers(session=s, survivor_id=a_id, other_ids=[b_id], actor=admin)
        s.commit()
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "b")
        await burst(pilot, "zora@quil.example")
        options = app.screen.query_one("#picker-matches", OptionList)
        await wait_until(pilot, lambda: options.option_count == 1)
        shown = str(options.get_option_at_index(0).prompt)
        assert f"{b_code} was merged into {a_code}" in shown
        assert HOSTILE in shown  # the survivor's name, literally


async def test_add_and_remove_a_secondary_email_in_details(demo_engine: Engine) -> None:
    a_id, _a_code, _b_id, b_code = _pair(demo_engine)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_customer(a_id)
        # Typed at once, before the profile or the tab has loaded.
        await burst(pilot, "7", "a", "Zora.Work@Spa.example", "enter")
        assert isinstance(app.screen, ProfileScreen)
        tab = app.screen.query_one(DetailsTab)
        await wait_until(pilot, lambda: bool(tab.contacts))
        shown = screen_text(app)
        assert "Secondary email" in shown and "Zora.Work@Spa.example  (added)" in shown
        # Another customer's primary phone is refused under the field, naming them, with
        # what was typed kept; nothing is added.
        await burst(pilot, "a", "+1 415 555 0199", "enter")
        assert isinstance(app.screen, PromptModal)
        refusal = str(app.screen.query_one("#answer-error").render())
        assert refusal == f"{b_code} Zora Quil already has this phone"
        assert app.screen.query_one("#answer", Input).value == "+1 415 555 0199"
        await burst(pilot, "escape")
        await settle(pilot)
        assert [p.shown for p in tab.contacts] == ["Zora.Work@Spa.example"]
        # A typo: named under the field, what was typed kept; escape leaves it.
        await burst(pilot, "a", "12x", "enter")
        assert isinstance(app.screen, PromptModal)
        assert "may contain only digits" in str(app.screen.query_one("#answer-error").render())
        assert app.screen.query_one("#answer", Input).value == "12x"
        await burst(pilot, "escape")
        assert isinstance(app.screen, ProfileScreen)
        # Remove it again: x, then choose it.
        await burst(pilot, "x", "enter")
        await wait_until(pilot, lambda: not tab.contacts)
    with Session(demo_engine) as s:
        assert contacts.contacts_of(session=s, customer_id=a_id) == []
        assert b_code  # the other customer is untouched
        events = [
            e.action for e in s.exec(select(AuditEvent).where(col(AuditEvent.customer_id) == a_id))
        ]
        assert "contact_add" in events and "contact_remove" in events


async def test_the_palette_finds_a_merged_away_code_and_says_so(demo_engine: Engine) -> None:
    a_id, a_code, b_id, b_code = _pair(demo_engine)
    with Session(demo_engine) as s:
        admin = s.exec(select(Staff).where(col(Staff.role) == "admin")).first()
        merge.merge_customers(session=s, survivor_id=a_id, other_ids=[b_id], actor=admin)
        s.commit()
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "ctrl+p", b_code)
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        note = f"{b_code} was merged into {a_code}"

        def hits() -> list[str]:
            options = palette.query_one(CommandList)
            return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]

        await wait_until(pilot, lambda: any(note in h for h in hits()))
        assert sum(note in h for h in hits()) == 1
        await burst(pilot, "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ProfileScreen))
        assert isinstance(app.screen, ProfileScreen) and app.screen.customer_id == a_id


# --------------------------------------------------------------------------- snapshots


def _merged(engine: Engine) -> int:
    """The pair merged (the survivor keeps its own phone and email), as the survivor's id."""
    a_id, _a_code, b_id, _b_code = _pair(engine)
    with Session(engine) as s:
        admin = s.exec(select(Staff).where(col(Staff.role) == "admin")).first()
        merge.merge_customers(session=s, survivor_id=a_id, other_ids=[b_id], actor=admin)
        s.commit()
    return a_id


def test_details_with_secondary_contacts_snapshot(snap_compare: Any, demo_engine: Engine) -> None:
    survivor = _merged(demo_engine)

    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        pilot.app.open_customer(survivor)  # type: ignore[attr-defined]
        await burst(pilot, "7")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query_one(DetailsTab).contacts))

    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=run)


def test_directory_merged_note_snapshot(snap_compare: Any, demo_engine: Engine) -> None:
    _merged(demo_engine)

    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await burst(pilot, "slash", "+14155550199")
        screen = pilot.app.screen
        await wait_until(
            pilot, lambda: "merged into" in str(screen.query_one("#chips", Label).render())
        )

    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=run)

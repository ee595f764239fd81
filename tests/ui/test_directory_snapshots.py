"""Snapshot tests of the directory, the customer form and the filter panel, keys pressed as
typed (render with ../shared/tools/snap2png and look before accepting)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session
from textual.pilot import Pilot

from frontdesk.data import customers as svc
from frontdesk.data.models import Note
from tests.actors import ADMIN
from tests.ui.conftest import SIZE, make_app, settle
from tests.ui.test_directory_flows import keys


@pytest.fixture(autouse=True)
def _patient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key whose handling takes longer than the app's watchdog (0.5 s) lets the next key
    overtake it. On a loaded test machine a tab into a scrolled field can take that long:
    tests of key order must not depend on the load, so they give each key 5 s."""
    monkeypatch.setattr("frontdesk.app.KEY_WATCHDOG", 5.0)


WIDE = (160, 45)


def typing(*parts: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Settle, then type ``parts`` at once (each a list of keys for one burst)."""

    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for part in parts:
            await keys(pilot, *part.split("|"))

    return run


def test_form_new_with_errors(snap_compare: Any, demo_engine: Engine) -> None:
    # n, a first name, tab to the email and a bad one, tab tab and a bad phone, save.
    assert snap_compare(
        make_app(demo_engine),
        terminal_size=SIZE,
        run_before=typing("n|Ann|tab|tab|tab|ann@|tab|tab|555-0123|ctrl+s"),
    )


def test_form_edit(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(
        make_app(demo_engine), terminal_size=SIZE, run_before=typing("down|down|e|tab|Tess")
    )


def test_filter_panel_with_dates(snap_compare: Any, demo_engine: Engine) -> None:
    tabs = "|".join(["tab"] * 11)  # the first field, then on to "Bookings between"
    # At 160x45 the whole panel fits: at 120x36 it scrolled to the field, and the picture
    # caught that scroll one line apart now and then.
    assert snap_compare(
        make_app(demo_engine),
        terminal_size=WIDE,
        run_before=typing(f"f|{tabs}|2026-08-01|tab|2026-09-30"),
    )


def test_directory_vip_with_overview_at_160(snap_compare: Any, demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        # A colour stored before colours were validated ('gold' is not a terminal colour).
        s.execute(text("UPDATE category SET colour = 'gold' WHERE name = 'VIP'"))
        s.commit()
    assert snap_compare(make_app(demo_engine), terminal_size=WIDE, run_before=typing("down"))


def test_directory_hostile_names_at_160(snap_compare: Any, demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        ids = [
            svc.create_customer(
                actor=ADMIN,
                session=s,
                data=svc.CustomerCreate(
                    first_name=name, last_name="[b]Zz[/b]", email=f"hostile{i}@example.com"
                ),
            ).id
            for i, name in enumerate(
                ["[/]", "[link=file:///etc/passwd]x[/link]", "Ö" + "a" * 99, "Ann"]
            )
        ]
        s.add(Note(customer_id=ids[2] or 0, body="Allergy: [nuts] [/]", is_alert=True))
        # Stored before control characters were refused: shown escaped, never sent.
        s.execute(
            text("UPDATE customer SET display_name = :n WHERE id = :i"),
            {"n": "Ann\x1b[2J [b]Zz[/b]", "i": ids[3]},
        )
        s.commit()
    assert snap_compare(
        make_app(demo_engine), terminal_size=WIDE, run_before=typing("/|[b]zz|down|down|down")
    )

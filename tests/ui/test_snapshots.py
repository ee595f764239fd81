"""Snapshot tests of every screen and modal (render with ../shared/tools/snap2png to review)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Select

from frontdesk.screens.customer_form import CustomerFormScreen
from tests.actors import ADMIN
from tests.ui.conftest import SIZE, burst, burst_keys, make_app, settle, wait_until

Step = Callable[[Pilot[None]], Awaitable[None]]


def steps(*actions: Step) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for action in actions:
            await action(pilot)
            await settle(pilot)

    return run


def press(*keys: str) -> Step:
    async def run(pilot: Pilot[None]) -> None:
        await burst(pilot, *keys)

    return run


def typed(text: str) -> Step:
    async def run(pilot: Pilot[None]) -> None:
        await burst(pilot, text)

    return run


def focus_table() -> Step:
    async def run(pilot: Pilot[None]) -> None:
        pilot.app.screen.query_one("#customers", DataTable).focus()

    return run


def open_customer(customer_id: int) -> Step:
    async def run(pilot: Pilot[None]) -> None:
        pilot.app.open_customer(customer_id)  # type: ignore[attr-defined]

    return run


def tabs_to(pilot: Pilot[None], selector: str, start: Widget | None = None) -> list[str]:
    """The tab (or shift+tab) presses from ``start`` (the focused widget) to ``selector``."""
    screen = pilot.app.screen
    chain = screen.focus_chain
    here = start if start is not None else screen.focused
    there = chain.index(screen.query_one(selector))
    moves = there - (chain.index(here) if here in chain else -1)
    return ["tab"] * moves if moves >= 0 else ["shift+tab"] * -moves


def choice_keys(select: Select[Any], value: Any) -> list[str]:
    """Open ``select``, move from its current option to ``value`` and choose it."""
    values = [v for _prompt, v in select._options]
    moves = values.index(value) - (values.index(select.value) if select.value in values else 0)
    return ["enter", *(["down"] * moves if moves >= 0 else ["up"] * -moves), "enter"]


def fill(*fields: tuple[str, Any], then: tuple[str, ...] = ()) -> Step:
    """Tab to each field in turn and type its text (or choose its value in a select), then
    press ``then``: every key in one burst, as a fast typist."""

    async def run(pilot: Pilot[None]) -> None:
        screen = pilot.app.screen
        keys: list[str] = []
        at = screen.focused
        for selector, value in fields:
            keys += tabs_to(pilot, selector, at)
            at = screen.query_one(selector)
            if isinstance(at, Select):
                keys += choice_keys(at, value)
            else:
                keys += burst_keys(value)
        await burst(pilot, *keys, *then)

    return run


def test_directory_empty(snap_compare: Any, empty_engine: Engine) -> None:
    assert snap_compare(make_app(empty_engine), terminal_size=SIZE, run_before=steps())


def test_directory_with_data(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=steps(focus_table()))


def test_directory_search(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=steps(typed("garc")))


def test_directory_no_match(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=steps(typed("zzqx")))


def test_directory_filtered_with_overview(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(
        make_app(demo_engine),
        terminal_size=(160, 40),
        run_before=steps(press("slash"), fill(("#status", "inactive"), then=("tab",))),
    )


def test_directory_at_80x24(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(
        make_app(demo_engine), terminal_size=(80, 24), run_before=steps(focus_table())
    )


def test_filter_panel(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(
        make_app(demo_engine), terminal_size=SIZE, run_before=steps(focus_table(), press("f"))
    )


def test_bulk_actions_modal(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(
        make_app(demo_engine),
        terminal_size=SIZE,
        run_before=steps(focus_table(), press("space", "space", "a")),
    )


def test_form_with_errors(snap_compare: Any, demo_engine: Engine) -> None:
    async def open_form(pilot: Pilot[None]) -> None:
        pilot.app.push_screen(CustomerFormScreen())

    bad_input = fill(
        ("#f-email", "ann@"),
        ("#f-phone", "555-0123"),
        ("#f-date_of_birth", "31/12/1990"),
        then=("ctrl+s",),
    )

    assert snap_compare(
        make_app(demo_engine), terminal_size=SIZE, run_before=steps(open_form, bad_input)
    )


def test_new_form_built_ahead_in_steps(snap_compare: Any, demo_engine: Engine) -> None:
    """The form the app builds a few widgets at a time from start-up, shown by ``n``."""

    async def staged(pilot: Pilot[None]) -> None:
        app: Any = pilot.app
        app.stage_new_customer_form()
        for _ in range(500):
            if app._new_form.complete and app._staging is None:
                break
            await pilot.pause(0.02)

    assert snap_compare(
        make_app(demo_engine),
        terminal_size=SIZE,
        run_before=steps(focus_table(), staged, press("n")),
    )


def test_form_edit(snap_compare: Any, demo_engine: Engine) -> None:
    async def open_form(pilot: Pilot[None]) -> None:
        pilot.app.push_screen(CustomerFormScreen(customer_id=7))

    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=steps(open_form))


def _profile(tab: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    return steps(open_customer(1), press(tab))


def test_profile_overview(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=_profile("1"))


def test_profile_bookings(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=_profile("2"))


def test_profile_orders(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=_profile("3"))


def test_profile_rewards(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=_profile("4"))


def test_profile_notes(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=_profile("5"))


def test_profile_timeline(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=_profile("6"))


def test_profile_details(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=_profile("7"))


def test_confirm_discard_modal(snap_compare: Any, demo_engine: Engine) -> None:
    async def open_form(pilot: Pilot[None]) -> None:
        pilot.app.push_screen(CustomerFormScreen())

    async def type_and_escape(pilot: Pilot[None]) -> None:
        await burst(pilot, "Half typed", "escape")

    assert snap_compare(
        make_app(demo_engine), terminal_size=SIZE, run_before=steps(open_form, type_and_escape)
    )


__all__ = ["Select"]


def _new_booking(pilot: Pilot[None]) -> Awaitable[None]:
    async def run() -> None:
        pilot.app.new_booking()  # type: ignore[attr-defined]

    return run()


def test_booking_picker_with_matches(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(
        make_app(demo_engine), terminal_size=SIZE, run_before=steps(_new_booking, typed("garc"))
    )


def test_booking_picker_no_match(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(
        make_app(demo_engine),
        terminal_size=SIZE,
        run_before=steps(_new_booking, typed("Zed Newcomer")),
    )


def test_inline_add_customer_modal(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(
        make_app(demo_engine),
        terminal_size=SIZE,
        run_before=steps(_new_booking, typed("Zed Newcomer 06 1234"), press("ctrl+n")),
    )


def test_booking_screen_filled(snap_compare: Any, demo_engine: Engine) -> None:
    filled = fill(("#bk-service", 1), ("#bk-date", "2026-12-01"), ("#bk-time", "10:00"))
    assert snap_compare(
        make_app(demo_engine),
        terminal_size=SIZE,
        run_before=steps(open_customer(3), press("b"), filled),
    )


def test_order_screen_with_lines(snap_compare: Any, demo_engine: Engine) -> None:
    assert snap_compare(
        make_app(demo_engine),
        terminal_size=SIZE,
        run_before=steps(
            open_customer(3),
            press("o"),
            fill(("#or-item", 1), then=("ctrl+l",)),
            fill(
                ("#or-kind", "product"),
                ("#or-desc", "Shampoo"),
                ("#or-price", "12.50"),
                ("#or-qty", "2"),
                then=("ctrl+l",),
            ),
        ),
    )


def test_settings_custom_fields(snap_compare: Any, demo_engine: Engine) -> None:
    from frontdesk.data import fields

    with Session(demo_engine) as s:
        fields.save_field(
            session=s,
            label="Hair colour",
            type="choice",
            choices=["Blonde", "Brown", "Red"],
            actor=ADMIN,
        )
        fields.save_field(
            session=s,
            label="Allergies",
            type="long_text",
            help_text="Anything we must avoid",
            actor=ADMIN,
        )
        s.commit()

    # Settings are for admins (DESIGN.md section 7); opened with its key.
    assert snap_compare(
        make_app(demo_engine, staff="admin"), terminal_size=SIZE, run_before=steps(press("S"))
    )


def test_form_with_custom_fields(snap_compare: Any, demo_engine: Engine) -> None:
    from frontdesk.data import fields

    with Session(demo_engine) as s:
        fields.save_field(
            session=s,
            label="Hair colour",
            type="choice",
            choices=["Blonde", "Brown", "Red"],
            actor=ADMIN,
        )
        fields.save_field(session=s, label="Member since", type="date", required=True, actor=ADMIN)
        s.commit()

    async def open_form(pilot: Pilot[None]) -> None:
        pilot.app.push_screen(CustomerFormScreen(customer_id=7))

    async def scroll(pilot: Pilot[None]) -> None:
        await fill(("#cf-hair_colour", "Green"))(pilot)
        pilot.app.screen.query_one("#form").scroll_end(animate=False)

    assert snap_compare(
        make_app(demo_engine), terminal_size=SIZE, run_before=steps(open_form, scroll)
    )


def test_import_wizard_preview(
    snap_compare: Any, empty_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    from frontdesk.screens.import_wizard import ImportScreen

    # The wizard shows the path it was given: a relative one, the same on every machine.
    monkeypatch.chdir(Path(__file__).resolve().parents[2])

    async def open_wizard(pilot: Pilot[None]) -> None:
        pilot.app.push_screen(ImportScreen("tests/fixtures/square.csv"))
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "previewed", False))
        pilot.app.clear_notifications()  # the first start's welcome (see test_directory_empty)

    assert snap_compare(make_app(empty_engine), terminal_size=SIZE, run_before=open_wizard)


def test_merge_screen(snap_compare: Any, demo_engine: Engine) -> None:
    from frontdesk.screens.merge import MergeScreen

    async def open_merge(pilot: Pilot[None]) -> None:
        pilot.app.push_screen(MergeScreen([3, 7]))

    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=steps(open_merge))


def _waiting_row(engine: Engine) -> int:
    """An imported row waiting for a decision next to demo customer 3."""
    from frontdesk.data import candidates
    from frontdesk.data import customers as svc

    with Session(engine) as s:
        customer = svc.get_customer(session=s, customer_id=3)
        candidates.record_candidate(
            session=s,
            customer_id=3,
            values={
                "first_name": customer.first_name,
                "last_name": customer.last_name,
                "phone": customer.phone,
                "email": "new.address@example.com",
                "email_key": "new.address@example.com",
                "city": "Springfield",
            },
            extras={"note": "From the old booking system"},
            reason=f"same phone as {customer.code}",
            source="clients.csv record 12",
        )
        s.commit()
        return candidates.pending(session=s)[0].id


def test_duplicates_screen(snap_compare: Any, demo_engine: Engine) -> None:
    _waiting_row(demo_engine)

    async def open_duplicates(pilot: Pilot[None]) -> None:
        pilot.app.action_duplicates()  # type: ignore[attr-defined]

    assert snap_compare(
        make_app(demo_engine), terminal_size=SIZE, run_before=steps(open_duplicates)
    )


def test_merge_candidate_screen(snap_compare: Any, demo_engine: Engine) -> None:
    from frontdesk.screens.merge import MergeScreen

    candidate_id = _waiting_row(demo_engine)

    async def open_merge(pilot: Pilot[None]) -> None:
        pilot.app.push_screen(MergeScreen([3], candidate_id=candidate_id))

    assert snap_compare(make_app(demo_engine), terminal_size=SIZE, run_before=steps(open_merge))

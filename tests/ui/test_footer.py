"""The key bar: the right keys for where the focus is, rebuilt only when they change."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from textual.widgets._footer import FooterKey

from frontdesk.screens.profile import ProfileScreen
from frontdesk.widgets.footer import KeyFooter
from tests.ui.conftest import SIZE, burst, make_app, settle


def shown_keys(app: Any) -> list[str]:
    footer = app.screen.query_one(KeyFooter)
    return [key.key for key in footer.query(FooterKey)]


def expected_keys(app: Any) -> list[str]:
    """What Textual's own footer would show: every shown binding of the focus chain."""
    seen: dict[str, str] = {}
    for _, binding, _, _ in app.screen.active_bindings.values():
        if binding.show:
            seen.setdefault(binding.action, binding.key)
    keys = list(seen.values())
    if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in app.screen.active_bindings:
        keys.append(app.screen.active_bindings[app.COMMAND_PALETTE_BINDING][1].key)
    return keys


async def test_keys_follow_the_focus_and_rebuild_only_on_change(
    demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebuilt: list[str] = []
    original = KeyFooter.recompose

    async def counting(self: KeyFooter) -> None:
        rebuilt.append(type(self.screen).__name__)
        await original(self)

    monkeypatch.setattr(KeyFooter, "recompose", counting)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown_keys(app) == expected_keys(app)
        # The directory's bar had its keys from the start: no second build, no second layout.
        assert rebuilt == []
        # The search box and the list show different keys: the bar follows the focus.
        await burst(pilot, "escape", "down")
        await settle(pilot)
        in_list = shown_keys(app)
        assert in_list == expected_keys(app)
        # Moving along the list changes nothing the bar shows: no rebuild.
        before = len(rebuilt)
        await burst(pilot, "down", "down", "up")
        await settle(pilot)
        assert len(rebuilt) == before and shown_keys(app) == in_list
        # Opening a profile builds its bar once and rebuilds it only when its keys change
        # (Textual's footer rebuilt it on every focus move while the screen opened).
        before = len(rebuilt)
        await burst(pilot, "enter")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        assert shown_keys(app) == expected_keys(app)
        assert len(rebuilt) - before <= 1
        # A tab with other keys: the bar shows them.
        await burst(pilot, "4")
        await settle(pilot)
        assert shown_keys(app) == expected_keys(app)

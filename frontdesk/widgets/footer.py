"""The key bar at the bottom of every screen: Textual's ``Footer``, without its waste.

Textual's footer rebuilds all its keys whenever the focus moves (several times while a screen
opens), even when the keys shown stay the same, and binds each key's ``compact`` style to the
footer's so that every new key is restyled twice more as it mounts: two thirds of the styling
work of opening a profile. This one draws the same keys, rebuilds only when what it shows
changes, and gives each key its style once.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import groupby

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup

Shown = tuple[tuple[str, str, str, str, bool, str, str], ...]


class _Key(FooterKey):
    """A footer key in the footer's (non-compact) style from the start."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.set_reactive(FooterKey.compact, False)

    def _watch_compact(self, compact: bool) -> None:
        pass  # the footer is never compact: no class to toggle, no restyle


class KeyFooter(Footer):
    _shown: Shown | None = None

    def _what_to_show(self) -> Shown:
        """The keys shown (each key's text and state), in order: equal means no rebuild."""
        shown = [
            (
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                enabled,
                tooltip,
                binding.group.description if binding.group is not None else "",
            )
            for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show
        ]
        return tuple(shown)

    def compose(self) -> ComposeResult:
        # The keys the screen has now, at once (Textual's footer composes empty until the
        # screen's bindings settle, then mounts its keys and lays the screen out again: one
        # more layout and paint for every screen opened); a later change rebuilds.
        self._shown = self._what_to_show()
        active_bindings = self.screen.active_bindings
        by_action: defaultdict[str, list[tuple[Binding, bool, str]]] = defaultdict(list)
        for _, binding, enabled, tooltip in active_bindings.values():
            if binding.show:
                by_action[binding.action].append((binding, enabled, tooltip))
        self.styles.grid_size_columns = len(by_action)
        for group, same_group in groupby(by_action.values(), lambda b: b[0][0].group):
            actions = list(same_group)
            if group is not None and len(actions) > 1:
                with KeyGroup(classes="-compact" if group.compact else ""):
                    for multi in actions:
                        binding, enabled, tooltip = multi[0]
                        yield _Key(
                            binding.key,
                            self.app.get_key_display(binding),
                            "",
                            binding.action,
                            disabled=not enabled,
                            tooltip=tooltip or binding.description,
                            classes="-grouped",
                        )
                yield FooterLabel(group.description)
            else:
                for multi in actions:
                    binding, enabled, tooltip = multi[0]
                    yield _Key(
                        binding.key,
                        self.app.get_key_display(binding),
                        binding.description,
                        binding.action,
                        disabled=not enabled,
                        tooltip=tooltip,
                    )
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            try:
                _node, binding, enabled, tooltip = active_bindings[self.app.COMMAND_PALETTE_BINDING]
            except KeyError:
                pass
            else:
                yield FooterKey(  # compact, as Textual's footer draws it
                    binding.key,
                    self.app.get_key_display(binding),
                    binding.description,
                    binding.action,
                    classes="-command-palette",
                    disabled=not enabled,
                    tooltip=binding.tooltip or binding.description,
                )

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._rebuild_if_changed)

    async def _rebuild_if_changed(self) -> None:
        if self.is_attached and self._what_to_show() != self._shown:
            await self.recompose()

"""The advanced filter panel (f): history, consent and the less common directory filters.

Everything it shows comes from the directory's lookups (no loading); names of branches,
tags, services and fields are user data and are shown literally.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, SelectionList

from frontdesk.data import roles
from frontdesk.data.customers import DirectoryFilter
from frontdesk.data.directory import CONSENT_FIELDS, AdvancedFilter, Lookups
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.fields import FieldFilter
from frontdesk.data.models import BookingStatus
from frontdesk.screens.common import set_message
from frontdesk.text import user_text
from frontdesk.widgets.base import FrontdeskModal
from frontdesk.widgets.select import Select


@dataclass(frozen=True)
class FilterResult:
    basic: DirectoryFilter
    advanced: AdvancedFilter


class FilterModal(FrontdeskModal[FilterResult | None]):
    """Save (ctrl+s) applies the filters; Close (escape) discards the changes."""

    AUTO_FOCUS = "#fl-blocked"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "close", "Close"),
    ]

    def __init__(self, basic: DirectoryFilter, advanced: AdvancedFilter, lookups: Lookups) -> None:
        super().__init__(classes="dialog-screen")
        self.basic = basic
        self.advanced = advanced
        self.lookups = lookups

    def compose(self) -> ComposeResult:
        lk, b, a = self.lookups, self.basic, self.advanced
        with Vertical(classes="dialog", id="filter-dialog"):
            yield Label(
                "Filters  ·  ctrl+s saves, escape closes without applying", classes="dialog-title"
            )
            with VerticalScroll(id="filter-body", can_focus=False), Grid(id="filter-grid"):
                with Vertical(classes="fbox"):
                    yield Label("Blocked")
                    yield Select[str](
                        [("Blocked only", "yes"), ("Not blocked", "no")],
                        prompt="Any",
                        id="fl-blocked",
                        value="yes"
                        if b.blocked is True
                        else "no"
                        if b.blocked is False
                        else Select.NULL,
                    )
                with Vertical(classes="fbox"):
                    yield Label("Home branch")
                    yield Select[int](
                        [(user_text(x.name), x.id) for x in lk.branches.values() if x.id],
                        prompt="Any",
                        id="fl-branch",
                        value=b.branch_id if b.branch_id else Select.NULL,
                    )
                with Vertical(classes="fbox"):
                    yield Label("Tag")
                    yield Select[int](
                        [(user_text(x.name), x.id) for x in lk.tags.values() if x.id],
                        prompt="Any",
                        id="fl-tag",
                        value=b.tag_id if b.tag_id else Select.NULL,
                    )
                with Vertical(classes="fbox"):
                    yield Label("Visited in the last N days")
                    yield Input(str(b.visited_within_days or ""), id="fl-visited", type="integer")
                    yield Label("", id="fl-visited-error", classes="error days-error")
                with Vertical(classes="fbox"):
                    yield Label("No visit for N days")
                    yield Input(str(b.not_visited_for_days or ""), id="fl-absent", type="integer")
                    yield Label("", id="fl-absent-error", classes="error days-error")
                with Vertical(classes="fbox"):
                    yield Label("Subscribed to")
                    yield SelectionList[str](
                        *[(k, k, k in a.consents) for k in CONSENT_FIELDS], id="fl-consents"
                    )
                yield from self.multi(
                    "Service types used", "fl-types-used", lk.service_types, a.service_types_used
                )
                yield from self.multi(
                    "Services used", "fl-services-used", lk.services, a.services_used
                )
                if self.money:  # (what customers bought and spent: not for a therapist)
                    yield from self.multi(
                        "Packages purchased", "fl-packages", lk.packages, a.packages_purchased
                    )
                yield from self.multi(
                    "Service types never used",
                    "fl-types-never",
                    lk.service_types,
                    a.service_types_never,
                )
                yield from self.multi(
                    "Services never used", "fl-services-never", lk.services, a.services_never
                )
                with Vertical(classes="fbox"):
                    yield Label("Bookings between")
                    yield Input(
                        str(a.booking_from or ""), placeholder="from YYYY-MM-DD", id="fl-from"
                    )
                    yield Input(str(a.booking_to or ""), placeholder="to YYYY-MM-DD", id="fl-to")
                    yield Label("", id="fl-date-error", classes="error")
                with Vertical(classes="fbox"):
                    existing = a.custom[0] if a.custom else None
                    yield Label("Custom field")
                    yield Select[int](
                        [(user_text(f.label), i) for i, f in lk.custom_fields.items()],
                        prompt="(none)",
                        id="fl-cf",
                        value=existing.field_id
                        if existing and existing.field_id in lk.custom_fields
                        else Select.NULL,
                    )
                    yield Select[str](
                        [
                            ("equals", "equals"),
                            ("contains", "contains"),
                            ("is empty", "empty"),
                            ("date between", "between"),
                        ],
                        id="fl-cf-op",
                        allow_blank=False,
                        value=existing.op if existing else "equals",
                    )
                    yield Input(
                        existing.value if existing else "",
                        placeholder="value / from",
                        id="fl-cf-value",
                    )
                    yield Input(
                        existing.value_to if existing else "",
                        placeholder="to (dates)",
                        id="fl-cf-to",
                    )
                    yield Label("", id="fl-cf-error", classes="error")
                with Vertical(classes="fbox"):
                    yield Label("…with booking status")
                    yield SelectionList[str](
                        *[
                            (s.value.replace("_", "-"), s.value, s.value in a.booking_statuses)
                            for s in BookingStatus
                        ],
                        id="fl-statuses",
                    )
                with Vertical(classes="fbox"):
                    yield Label("Visit rhythm and value")
                    yield SelectionList[str](
                        (
                            f"due back (usual interval + {lk.due_margin_days} days)",
                            "due",
                            a.due_back_margin is not None,
                        ),
                        (
                            f"lapsed (no visit for {lk.lapsed_days} days)",
                            "lapsed",
                            a.lapsed_days is not None,
                        ),
                        ("new this month", "new", a.new_this_month),
                        id="fl-insight",
                    )
                if self.money:
                    with Vertical(classes="fbox"):
                        yield Label("Top N by 12-month value")
                        yield Input(str(a.top_value or ""), id="fl-top", type="integer")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Close (esc)", id="close")

    def multi(
        self, label: str, wid: str, table: dict[int, Any], chosen: tuple[int, ...]
    ) -> ComposeResult:
        with Vertical(classes="fbox"):
            yield Label(label)
            yield SelectionList[int](
                *[(user_text(x.name), i, i in chosen) for i, x in table.items()], id=wid
            )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_close()

    def action_close(self) -> None:
        self.dismiss(None)

    @property
    def money(self) -> bool:
        """Whether the operator sees what customers bought and spent (a therapist does not)."""
        return roles.sees_money(self.fd.operator)

    def _int(self, wid: str) -> int | None:
        if not self.query(wid):
            return None  # (a field this role is not shown)
        raw = self.query_one(wid, Input).value.strip()
        return int(raw) if raw.isdigit() and int(raw) > 0 else None

    def _date(self, wid: str) -> date | None:
        raw = self.query_one(wid, Input).value.strip()
        try:
            return date.fromisoformat(raw) if raw else None
        except ValueError:
            raise ValueError(wid) from None

    def _ids(self, wid: str) -> tuple[Any, ...]:
        if not self.query(wid):
            return ()  # (a field this role is not shown)
        return tuple(sorted(self.query_one(wid, SelectionList).selected))

    def _days_ok(self) -> bool:
        """A number of days is a whole number from 1; anything else is said under its field
        (and what was typed stays)."""
        for wid in ("#fl-visited", "#fl-absent"):
            raw = self.query_one(wid, Input).value.strip()
            bad = bool(raw) and not (raw.isdigit() and int(raw) > 0)
            set_message(
                self.query_one(f"{wid}-error", Label),
                "A number of days: 1 or more" if bad else None,
            )
            if bad:
                self.set_focus(self.query_one(wid, Input))
                return False
        return True

    def action_save(self) -> None:
        if not self._days_ok():
            return
        try:
            start, end = self._date("#fl-from"), self._date("#fl-to")
        except ValueError as exc:
            self.query_one("#fl-date-error", Label).update("Dates as YYYY-MM-DD, e.g. 2026-01-31")
            self.set_focus(self.query_one(str(exc), Input))
            return
        if start and end and end < start:
            self.query_one("#fl-date-error", Label).update("'to' is before 'from'")
            self.set_focus(self.query_one("#fl-to", Input))
            return
        self.query_one("#fl-date-error", Label).update("")
        lk = self.lookups
        blocked = self.query_one("#fl-blocked", Select).value
        branch = self.query_one("#fl-branch", Select).value
        tag = self.query_one("#fl-tag", Select).value
        basic = DirectoryFilter(
            blocked=True if blocked == "yes" else False if blocked == "no" else None,
            branch_id=branch if isinstance(branch, int) else None,
            tag_id=tag if isinstance(tag, int) else None,
            visited_within_days=self._int("#fl-visited"),
            not_visited_for_days=self._int("#fl-absent"),
        )
        custom: tuple[FieldFilter, ...] = ()
        cf = self.query_one("#fl-cf", Select).value
        if isinstance(cf, int) and cf in self.lookups.custom_fields:
            try:
                custom = (
                    FieldFilter.of(
                        self.lookups.custom_fields[cf],
                        str(self.query_one("#fl-cf-op", Select).value),
                        self.query_one("#fl-cf-value", Input).value.strip(),
                        self.query_one("#fl-cf-to", Input).value.strip(),
                    ),
                )
            except ValidationFailed as exc:
                self.query_one("#fl-cf-error", Label).update(user_text(exc.message))
                self.set_focus(self.query_one("#fl-cf-value", Input))
                return
        insight = set(self._ids("#fl-insight"))
        # a margin kept from the filter being edited, else today's setting
        due = self.advanced.due_back_margin
        lapsed = self.advanced.lapsed_days
        advanced = AdvancedFilter(
            due_back_margin=(due if due is not None else lk.due_margin_days)
            if "due" in insight
            else None,
            lapsed_days=(lapsed if lapsed is not None else lk.lapsed_days)
            if "lapsed" in insight
            else None,
            lapsed_for_due=lk.lapsed_days,
            new_this_month="new" in insight,
            top_value=self._int("#fl-top"),
            custom=custom,
            service_types_used=self._ids("#fl-types-used"),
            services_used=self._ids("#fl-services-used"),
            service_types_never=self._ids("#fl-types-never"),
            services_never=self._ids("#fl-services-never"),
            packages_purchased=self._ids("#fl-packages"),
            booking_from=start,
            booking_to=end,
            booking_statuses=self._ids("#fl-statuses"),
            consents=self._ids("#fl-consents"),
        )
        self.dismiss(FilterResult(basic, advanced))

"""Tab 4: loyalty enrolments and the points ledger; enrol, add, redeem, expiry, remove."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from frontdesk.data import profile as data
from frontdesk.data import profile_actions as actions
from frontdesk.data import rewards as reward_svc
from frontdesk.data.note_text import markdown_summary
from frontdesk.screens.common import PromptModal
from frontdesk.screens.fmt import day
from frontdesk.screens.profile.modals import EnrolModal, EnrolRequest, PointsModal, PointsRequest
from frontdesk.screens.profile.tab import (
    FieldBar,
    ProfileTab,
    RowTable,
    cell,
    fill_table,
    highlighted_id,
    prompt_check,
)
from frontdesk.text import user_text


def ledger_cells(e: data.LedgerRow) -> list[Text]:
    """One ledger row as the table shows it (and as the search reads it)."""
    return [
        Text(day(e.at)),
        cell(e.program),
        Text(f"{e.points:+,}", style="green" if e.points > 0 else "red"),
        Text(e.action),
        cell(e.reason),
        Text(e.reference),
        Text("" if e.balance_after is None else f"{e.balance_after:,}"),
        cell(e.by),
    ]


def enrolment_notes(notes: str) -> Text:
    """An enrolment's notes as one plain line (Markdown without its markup)."""
    return user_text(markdown_summary(notes, max_length=60), "dim" if not notes else "")


def _optional_day(text: str) -> object:
    return actions.parse_day(text, "expires_on") if text.strip() else None


class RewardsTab(ProfileTab):
    NAME = "rewards"
    DEFAULT_CSS = """
    RewardsTab #r-enrolments {
        height: auto;
        max-height: 8;
    }
    RewardsTab #r-empty {
        display: none;
    }
    RewardsTab.-empty #r-empty {
        display: block;
    }
    RewardsTab #r-filter {
        width: 50;
    }
    RewardsTab #r-bar {
        height: auto;
        margin-top: 1;
    }
    RewardsTab #r-table {
        height: 1fr;
    }
    RewardsTab #r-not-shown {
        display: none;
        color: $text-muted;
    }
    RewardsTab.-not-shown #r-not-shown {
        display: block;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "enrol", "Enrol"),
        Binding("a", "points(1)", "Add points"),
        Binding("r", "points(-1)", "Redeem"),
        Binding("t", "expiry", "Expiry"),
        Binding("X", "remove", "Remove enrolment"),
        Binding("slash", "filter", "Search ledger", tooltip="Filter the ledger"),
    ]
    NEEDS: ClassVar[dict[str, str]] = dict.fromkeys(
        ("enrol", "points", "expiry", "remove"), "rewards"
    )

    def __init__(self) -> None:
        super().__init__()
        self.enrolments: list[data.EnrolmentRow] = []
        self.ledger: list[data.LedgerRow] = []
        self.programs: list[tuple[str, int]] = []

    def compose(self) -> ComposeResult:
        yield RowTable(id="r-enrolments", zebra_stripes=False)
        yield Static(
            "Not enrolled in a loyalty program — press n to enrol.", id="r-empty", classes="empty"
        )
        yield FieldBar(
            Input(placeholder="Search: date, action, points, reason", id="r-filter"),
            table="#r-table",
            id="r-bar",
        )
        # Right above the ledger it speaks of (below it, the table's free height parted them).
        yield Static("", id="r-not-shown")
        yield RowTable(id="r-table")

    def on_mount(self) -> None:
        self.query_one("#r-enrolments", DataTable).add_columns(
            "Program", "Balance", "Expires", "Enrolled", "Notes"
        )
        self.query_one("#r-table", DataTable).add_columns(
            "Date", "Program", "Points", "Action", "Reason", "Reference", "Total", "By"
        )

    def focus_target(self) -> Widget:
        return self.query_one("#r-enrolments")

    def fetch(self, customer_id: int) -> Callable[[Session], Any]:
        actor = self.operator
        return lambda s: data.load_rewards_tab(session=s, customer_id=customer_id, actor=actor)

    def show_data(self, tab: data.RewardsTab) -> None:
        self.enrolments, self.ledger, self.programs = tab.enrolments, tab.ledger, tab.programs
        rows = [
            (
                str(e.id),
                [
                    cell(e.program),
                    cell(f"{e.balance:,} {e.unit}"),
                    day(e.expires_on) if e.expires_on else "never",
                    day(e.enrolled_at),
                    enrolment_notes(e.notes),
                ],
            )
            for e in tab.enrolments
        ]
        fill_table(self.query_one("#r-enrolments", DataTable), rows, select=self.take_selection())
        self.set_class(not rows, "-empty")
        may = self.fd.may("rewards")  # "press n" only to who may enrol
        self.query_one("#r-empty", Static).update(
            "Not enrolled in a loyalty program" + (" — press n to enrol." if may else ".")
        )
        self.set_class(tab.not_shown > 0, "-not-shown")
        self.query_one("#r-not-shown", Static).update(
            f"{tab.not_shown:,} {'entry' if tab.not_shown == 1 else 'entries'} made by payments"
            " and refunds and the running totals are not shown to your role; the balance counts"
            " them."
        )
        self.show_ledger()

    def show_ledger(self) -> None:
        """The ledger rows whose shown cells contain what is typed in the search field (the
        text of the cells as displayed: "+25", "1,250", "2026-11-02" ...)."""
        needle = self.query_one("#r-filter", Input).value.strip().casefold()
        rows = []
        for e in self.ledger:
            cells = ledger_cells(e)
            if needle and not any(needle in cell_text.plain.casefold() for cell_text in cells):
                continue
            rows.append((str(e.id), cells))
        fill_table(self.query_one("#r-table", DataTable), rows)

    @on(Input.Changed, "#r-filter")
    def filter_changed(self) -> None:
        self.show_ledger()

    def action_filter(self) -> None:
        self.screen.set_focus(self.query_one("#r-filter", Input))

    # ---------------------------------------------------------------- actions
    def _enrolment(self) -> data.EnrolmentRow | None:
        """The highlighted enrolment (the first one's row is highlighted until moved)."""
        eid = highlighted_id(self.query_one("#r-enrolments", DataTable))
        found = next((e for e in self.enrolments if e.id == eid), None)
        if found is None:
            self.notify("Not enrolled yet — press n to enrol", severity="warning")
        return found

    def action_enrol(self) -> None:
        if not self.programs:
            self.notify("Already enrolled in every active program", severity="warning")
            return
        customer_id = self.profile.customer_id
        actor = self.operator
        today = self.fd.clock().astimezone().date()

        def work(req: EnrolRequest) -> Callable[[Session], Any]:
            return lambda s: reward_svc.enrol(
                session=s,
                customer_id=customer_id,
                program_id=req.program_id,
                starting_balance=req.starting_balance,
                expires_on=req.expires_on,
                notes=req.notes,
                actor=actor,
                today=today,
            )

        def enrolled(enrolment: Any) -> None:
            if enrolment is not None:
                self.saved("Enrolled", changed="points", select=str(enrolment.id))

        self.ask(EnrolModal(self.programs, save=work), enrolled)

    def action_points(self, sign: int) -> None:
        current = self._enrolment()
        if current is None:
            return
        actor = self.operator

        def work(req: PointsRequest) -> Callable[[Session], Any]:
            return lambda s: reward_svc.change_points(
                session=s,
                enrolment_id=req.enrolment_id,
                points=req.points,
                reason=req.reason,
                actor=actor,
            )

        def changed(entry: Any) -> None:
            if entry is not None:
                done = "Points added" if entry.points > 0 else "Points redeemed"
                self.saved(done, changed="points", select=str(entry.enrolment_id))

        choices = [(e.program, e.id, e.balance) for e in self.enrolments]
        self.ask(PointsModal(sign, choices, selected=current.id, save=work), changed)

    def action_expiry(self) -> None:
        current = self._enrolment()
        if current is None:
            return
        actor = self.operator
        eid = current.id
        today = self.fd.clock().astimezone().date()

        def save(text: str | None) -> None:
            if text is not None:
                self.write(
                    lambda s: actions.set_enrolment_expiry(
                        session=s, enrolment_id=eid, expires_on=text, actor=actor, today=today
                    ),
                    changed="points",
                    done="Expiry changed" if text else "Points no longer expire",
                )

        self.ask(
            PromptModal(
                f"New expiry date for {current.program} (empty: never)",
                placeholder="YYYY-MM-DD",
                required=False,
                value=current.expires_on.isoformat() if current.expires_on else "",
                check=prompt_check(_optional_day),
            ),
            save,
        )

    def action_remove(self) -> None:
        current = self._enrolment()
        if current is None:
            return
        actor = self.operator
        eid = current.id

        self.confirm_write(
            f"Remove the enrolment in {current.program} ({current.balance:,} {current.unit})? "
            "Its ledger stays in the history.",
            lambda s: reward_svc.remove_enrolment(session=s, enrolment_id=eid, actor=actor),
            yes="Remove",
            changed="points",
            done="Enrolment removed (its history stays)",
        )

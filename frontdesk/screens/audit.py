"""The audit log (admins): who changed what and when, newest first, filterable, paged.

Opened with ``L`` (or "Audit log" in the palette) for the whole business, and from a profile
for that customer. Pages of 200 come in as the cursor nears the end, so any size of log opens
at once and scrolls evenly.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Header, Input, Label, Static

from frontdesk.data.audit_log import (
    AuditChoices,
    AuditFilter,
    AuditPage,
    audit_choices,
    load_audit_page,
    parse_filter,
)
from frontdesk.data.errors import ValidationFailed
from frontdesk.screens.common import set_message
from frontdesk.text import user_text
from frontdesk.widgets.base import FrontdeskScreen
from frontdesk.widgets.footer import KeyFooter
from frontdesk.widgets.select import InstantSelect, Select

COLUMNS = (("When", "when"), ("Who", "who"), ("Customer", "customer"), ("What", "what"))
WIDTHS = (16, 18, 30)
# Load the next page when the cursor comes this close to the last loaded line.
AHEAD = 40


class AuditScreen(FrontdeskScreen[None]):
    """Every change, newest first; ``customer_code`` fixes the list to one customer."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+r", "apply", "Apply filters"),
    ]
    AUTO_FOCUS = "#au-table"

    def __init__(self, customer_code: str | None = None) -> None:
        super().__init__()
        self.customer_code = customer_code
        self.where = AuditFilter()
        self.next_before: int | None = None
        self.loading_more = False
        self.shown = 0
        self.details: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="au-filters"):
            yield InstantSelect[int]([], prompt="Any staff member", id="au-staff")
            yield InstantSelect[str]([], prompt="Any action", id="au-action")
            yield Input(placeholder="from YYYY-MM-DD", id="au-since")
            yield Input(placeholder="to YYYY-MM-DD", id="au-until")
            yield Input(
                value=self.customer_code or "",
                placeholder="customer code",
                id="au-customer",
                disabled=self.customer_code is not None,
            )
        yield Label("", id="au-problem", classes="field-msg")
        yield Static("", id="au-count")
        yield DataTable(id="au-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="au-detail")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = f"Audit log — {self.customer_code}" if self.customer_code else "Audit log"
        table = self.query_one("#au-table", DataTable)
        # "What" takes the rest of the line; the highlighted line's full text shows below.
        rest = max(30, self.app.size.width - sum(WIDTHS) - 2 * len(COLUMNS) - 2)
        for (label, key), width in zip(COLUMNS, (*WIDTHS, rest), strict=True):
            table.add_column(label, key=key, width=width)
        set_message(self.query_one("#au-problem", Label), None)
        self.hold_keys()
        viewer = self.fd.operator

        def failed(_: Exception) -> None:
            self.release_keys()

        self.run_read(
            lambda s: audit_choices(session=s, viewer=viewer),
            then=self.choices_loaded,
            on_error=failed,
            group="audit-choices",
        )

    def choices_loaded(self, choices: AuditChoices) -> None:
        self.query_one("#au-staff", Select).set_options(
            (user_text(name), staff_id) for staff_id, name in choices.staff
        )
        self.query_one("#au-action", Select).set_options((a, a) for a in choices.actions)
        self.action_apply()
        self.call_after_refresh(self.release_keys)

    # ------------------------------------------------------------------ filters
    def _value(self, selector: str) -> Any:
        value = self.query_one(selector, Select).value
        return None if value is Select.NULL else value

    @on(Select.Changed)
    def select_changed(self) -> None:
        self.action_apply()

    @on(Input.Submitted)
    def input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_apply()

    def action_apply(self) -> None:
        """Read the filters (a bad date or code is shown next to them) and load page one."""
        viewer = self.fd.operator
        texts = {
            "actor_id": self._value("#au-staff"),
            "action": self._value("#au-action"),
            "since": self.query_one("#au-since", Input).value,
            "until": self.query_one("#au-until", Input).value,
            "customer": self.query_one("#au-customer", Input).value,
        }
        problem = self.query_one("#au-problem", Label)

        def load(session: Any) -> AuditPage:
            where = parse_filter(session=session, **texts)
            return load_audit_page(session=session, viewer=viewer, where=where)

        def failed(exc: Exception) -> None:
            if isinstance(exc, ValidationFailed):
                set_message(problem, f"{exc.field}: {exc.message}")
                return
            self.fd.show_error(exc)

        def shown(page: AuditPage) -> None:
            set_message(problem, None)
            self.where = page.filter
            self.query_one("#au-table", DataTable).clear()
            self.shown = 0
            self.details = {}
            self.add_page(page)

        self.run_read(load, then=shown, on_error=failed, group="audit-page")

    # ------------------------------------------------------------------ paging
    def add_page(self, page: AuditPage) -> None:
        table = self.query_one("#au-table", DataTable)
        for row in page.rows:
            customer = (
                user_text(f"{row.customer_code} {row.customer_name or ''}".strip())
                if row.customer_code
                else Text("—", style="dim")
            )
            table.add_row(
                Text(row.at.astimezone().strftime("%Y-%m-%d %H:%M")),
                user_text(row.who),
                customer,
                user_text(row.what),
                key=str(row.id),
            )
            self.details[str(row.id)] = row.what
        self.shown += len(page.rows)
        self.next_before = page.next_before
        self.loading_more = False
        more = " · more below" if page.next_before is not None else ""
        empty = "No changes match these filters." if self.shown == 0 else ""
        self.query_one("#au-count", Static).update(
            empty or f"Newest first · {self.shown:,} shown{more}"
        )

    @on(DataTable.RowHighlighted, "#au-table")
    def near_the_end(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value if event.row_key else None
        self.query_one("#au-detail", Static).update(
            user_text(self.details.get(key or "", ""), multiline=True)
        )
        if self.next_before is None or self.loading_more:
            return
        if event.cursor_row < self.shown - AHEAD:
            return
        self.loading_more = True
        viewer, where, before = self.fd.operator, self.where, self.next_before
        self.run_read(
            lambda s: load_audit_page(session=s, viewer=viewer, where=where, before=before),
            then=self.add_page,
            group="audit-more",
        )

    def action_back(self) -> None:
        self.dismiss(None)

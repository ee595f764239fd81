"""Tab 2: the customer's bookings, filtered by dates and service; status changes and notes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, ClassVar

from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Static

from frontdesk.data import notes as note_svc
from frontdesk.data import profile as data
from frontdesk.data import roles
from frontdesk.data.errors import FrontdeskError
from frontdesk.data.profile_actions import BookingChanged
from frontdesk.screens import booking_changes as changes
from frontdesk.screens.common import InfoModal
from frontdesk.screens.profile.modals import NoteModal, NoteRequest
from frontdesk.screens.profile.tab import (
    FieldBar,
    ProfileTab,
    RowTable,
    cell,
    fill_table,
    highlighted_id,
)
from frontdesk.screens.profile.tab import status_text as status
from frontdesk.widgets.select import Select


class BookingsTab(ProfileTab):
    NAME = "bookings"
    DEFAULT_CSS = """
    BookingsTab #b-filters {
        height: 3;
    }
    BookingsTab #b-filters Input {
        width: 22;
    }
    BookingsTab #b-filters Select {
        width: 30;
    }
    BookingsTab #b-error {
        padding: 1 1;
        display: none;
    }
    BookingsTab #b-error.-shown {
        display: block;
    }
    BookingsTab #b-table {
        height: 1fr;
    }
    BookingsTab.-empty #b-table {
        height: auto;
    }
    BookingsTab #b-empty {
        display: none;
    }
    BookingsTab.-empty #b-empty {
        display: block;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "change('confirm')", "Confirm"),
        Binding("d", "change('complete')", "Done"),
        Binding("x", "change('cancel')", "Cancel booking"),
        Binding("w", "change('no_show')", "No-show", tooltip="Mark no-show (on a no-show: undo)"),
        Binding("t", "change('reschedule')", "Reschedule"),
        Binding("v", "read_notes", "Booking notes"),
        Binding("n", "add_note", "Note on booking"),
        Binding("slash", "filter", "Filter", tooltip="Filter by dates or service"),
    ]
    NEEDS: ClassVar[dict[str, str]] = {"change": "book", "add_note": "notes"}

    def __init__(self) -> None:
        super().__init__()
        self.filters: tuple[date | None, date | None, int | None] = (None, None, None)
        self.note_categories: list[tuple[str, int]] = []
        self._services: list[tuple[int, str]] = []
        self._rows: dict[int, data.BookingRow] = {}  # booking id -> the row shown

    def compose(self) -> ComposeResult:
        yield FieldBar(
            Input(placeholder="from YYYY-MM-DD", id="b-from"),
            Input(placeholder="to YYYY-MM-DD", id="b-to"),
            Select[int]([], prompt="Any service", id="b-service"),
            Label("", id="b-error", classes="error"),
            table="#b-table",
            id="b-filters",
        )
        yield RowTable(id="b-table")
        yield Static("", id="b-empty", classes="empty")

    def on_mount(self) -> None:
        self.query_one("#b-table", DataTable).add_columns(
            "Service", "Branch", "Staff", "Date", "Time", "Status"
        )

    def focus_target(self) -> Widget:
        return self.query_one("#b-table")

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#b-table", DataTable)

    # ---------------------------------------------------------------- loading
    def fetch(self, customer_id: int) -> Callable[[Session], Any]:
        start, end, service = self.filters
        own = roles.own_bookings_only(self.operator)  # a therapist sees their own bookings
        return lambda s: data.load_bookings_tab(
            session=s,
            customer_id=customer_id,
            date_from=start,
            date_to=end,
            service_id=service,
            staff_id=own,
        )

    def show_data(self, tab: data.BookingsTab) -> None:
        self.note_categories = tab.note_categories
        self._rows = {b.id: b for b in tab.rows}
        if tab.services != self._services:
            self._services = tab.services
            self.refill_select(
                self.query_one("#b-service", Select),
                ((name, sid) for sid, name in tab.services),
            )
        rows = []
        for b in tab.rows:
            start = b.start_at.astimezone()
            cells = [
                cell(b.service),
                cell(b.branch),
                cell(b.staff),
                start.date().isoformat(),
                start.strftime("%H:%M"),
                status(b.status),
            ]
            rows.append((str(b.id), cells))
        fill_table(self.table, rows, select=self.take_selection())
        filtered = any(f is not None for f in self.filters)
        if filtered:
            empty = "No bookings match these filters."
        elif not self.fd.may("book"):
            empty = "No bookings with you yet."  # a therapist sees their own
        else:
            empty = "No bookings yet — press b to book an appointment."
        self.query_one("#b-empty", Static).update(empty)
        self.set_class(not rows, "-empty")

    @on(Input.Changed, "#b-from")
    @on(Input.Changed, "#b-to")
    @on(Select.Changed, "#b-service")
    def filter_changed(self) -> None:
        error = self.query_one("#b-error", Label)
        try:
            start = self._day("#b-from")
            end = self._day("#b-to")
        except ValueError:
            error.update("Dates as YYYY-MM-DD")
            error.add_class("-shown")
            return
        error.update("")
        error.remove_class("-shown")
        value = self.query_one("#b-service", Select).value
        filters = (start, end, value if isinstance(value, int) else None)
        if filters != self.filters:
            self.filters = filters
            self.load()

    def _day(self, selector: str) -> date | None:
        raw = self.query_one(selector, Input).value.strip()
        return date.fromisoformat(raw) if raw else None

    def action_filter(self) -> None:
        self.screen.set_focus(self.query_one("#b-from", Input))

    # ---------------------------------------------------------------- actions
    def _booking(self) -> int | None:
        booking_id = highlighted_id(self.table)
        if booking_id is None:
            self.notify("No booking highlighted", severity="warning")
        return booking_id

    def action_change(self, action: str) -> None:
        booking_id = self._booking()
        if booking_id is not None:
            row = self._rows.get(booking_id)
            changes.ask_and_change(
                self.ask,
                self.change,
                booking_id,
                action,
                actor=self.operator,
                rescheduled=self._rescheduled,
                start=row.start_at if row else None,
                status=row.status if row else None,
                now=self.fd.clock(),
                arrived=row.arrived if row else False,
            )

    def _rescheduled(self, booking_id: int, result: BookingChanged) -> None:
        self.saved(changes.changed_text(booking_id, "reschedule")(result), changed="booking")

    def change(
        self,
        booking_id: int,
        action: str,
        *,
        reason: str | None = None,
        when: str | None = None,
        create_order: bool = False,
    ) -> None:
        self.write(
            changes.change_work(
                booking_id,
                action,
                self.operator,
                reason=reason,
                when=when,
                create_order=create_order,
                now=self.fd.clock(),
            ),
            changed="booking",
            done=changes.changed_text(booking_id, action),
            on_error=self._double_booked,
        )

    def _double_booked(self, error: FrontdeskError) -> bool:
        text = changes.double_booked_text(error)
        if text is not None:
            self.notify(text, severity="error", timeout=8, markup=False)
        return text is not None

    def action_read_notes(self) -> None:
        booking_id = self._booking()
        if booking_id is None:
            return
        screen = self.profile
        token = screen.hold()

        def show(bodies: list[str]) -> None:
            body = (
                "\n\n---\n\n".join(bodies)
                if bodies
                else "_No notes on this booking yet — press n to add one._"
            )
            self.app.push_screen(InfoModal(f"Notes of booking #{booking_id}", body))
            screen.release(token)

        def failed(error: Exception) -> None:
            screen.release(token)
            if isinstance(error, FrontdeskError):
                self.notify(str(error), severity="error", markup=False)

        self.run_read(
            lambda s: data.booking_notes_of(session=s, booking_id=booking_id),
            show,
            group="profile-booking-notes",
            on_error=failed,
        )

    def action_add_note(self) -> None:
        booking_id = self._booking()
        if booking_id is None:
            return
        actor = self.operator

        def save(req: NoteRequest | None) -> None:
            if req is not None:
                self.write(
                    lambda s: note_svc.add_note(
                        session=s, booking_id=booking_id, **req.values(), actor=actor
                    ),
                    changed="note",
                    done=f"Note added to booking #{booking_id}",
                )

        self.ask(NoteModal(self.note_categories, title=f"Note on booking #{booking_id}"), save)

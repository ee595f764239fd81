"""The day sheet: the bookings of one day at one branch, by time (or grouped by staff member).

Opened with ``T`` (or "Day sheet" in the palette). Who is coming, who has arrived, who is
late; check-in, done (offers the order, as the profile does), no-show, cancel with a reason,
reschedule, open the customer, book at this time, and the next free times of a service.
Another desk's change to a booking of the day shows within about a second (live refresh: the
app's change check, then a cheap fingerprint of the day before the rows are read again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label, Static

from frontdesk.data import day_sheet as data
from frontdesk.data.booking_flow import BookingForm, local_tz, parse_day
from frontdesk.data.errors import FrontdeskError
from frontdesk.data.profile_actions import BookingChanged
from frontdesk.screens import booking_changes as changes
from frontdesk.screens.booking import NewBookingScreen
from frontdesk.screens.common import PromptModal, category_text
from frontdesk.screens.profile.tab import (
    RowTable,
    fill_table,
    highlighted_id,
    prompt_check,
    status_text,
)
from frontdesk.text import fit, user_text
from frontdesk.widgets.base import FrontdeskModal, FrontdeskScreen
from frontdesk.widgets.footer import KeyFooter
from frontdesk.widgets.select import Select

COLUMNS = (" ", "Time", "Staff", "Customer", "Service", "Status", "Notes", "Arrived")
# Late rows: a marker word and a style (not colour alone).
LATE_STYLE = "bold reverse"
# How often the sheet re-reads the day by itself (late flags follow the clock).
TICK_SECONDS = 60.0


class DaySheetScreen(FrontdeskScreen[None]):
    """One day at one branch; ``[``/``]`` move a day, ``t`` today, ``g`` a date."""

    DEFAULT_CSS = """
    DaySheetScreen #ds-bar {
        height: 3;
    }
    DaySheetScreen #ds-day {
        width: 1fr;
        height: 3;
        content-align: left middle;
        padding: 0 1;
        text-style: bold;
    }
    DaySheetScreen #ds-branch {
        width: 28;
    }
    DaySheetScreen #ds-staff {
        width: 28;
    }
    DaySheetScreen #ds-summary {
        padding: 0 1;
        height: 1;
    }
    DaySheetScreen #ds-table {
        height: 1fr;
    }
    DaySheetScreen.-empty #ds-table {
        height: 1;
        min-height: 1;
    }
    DaySheetScreen #ds-empty {
        display: none;
        padding: 1 2;
    }
    DaySheetScreen.-empty #ds-empty {
        display: block;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("left_square_bracket", "day(-1)", "−Day", key_display="["),
        Binding("right_square_bracket", "day(1)", "+Day", key_display="]"),
        Binding("t", "today", "Today"),
        Binding("g", "goto", "Date", tooltip="Go to a date"),
        Binding("a", "arrived", "Arrived"),
        Binding("d", "change('complete')", "Done"),
        Binding("n", "change('no_show')", "No-show", tooltip="Mark no-show (on a no-show: undo)"),
        Binding("x", "change('cancel')", "Cancel"),
        Binding("r", "change('reschedule')", "Move", tooltip="Reschedule"),
        Binding("b", "book_here", "Book", tooltip="New booking at this time"),
        Binding("f", "free", "Free", tooltip="Next free times of a service"),
        Binding("R", "app.requests", "Requests", tooltip="Booking requests from outside"),
        Binding("B", "focus_branch", "Branch", show=False),
        Binding("s", "focus_staff", "Staff filter", show=False),
        Binding("v", "toggle_view", "By staff/time", show=False),
    ]
    NEEDS: ClassVar[dict[str, str]] = {
        "arrived": "book",
        "change": "book",
        "book_here": "book",
    }
    AUTO_FOCUS = "#ds-table"

    def __init__(self, day: date | None = None) -> None:
        super().__init__()
        self.day: date | None = day
        self.branch_id: int | None = None
        self.staff_id: int | None = None
        self.by_staff = False
        self.sheet: data.DaySheet | None = None
        self.rows: dict[int, data.DayRow] = {}
        self.fingerprint: tuple[Any, ...] | None = None
        self._holds = 0
        self._seq = 0
        self._select: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="ds-bar"):
            yield Static("", id="ds-day")
            yield Select[int]([], prompt="Branch", id="ds-branch")
            yield Select[int]([], prompt="Everyone", id="ds-staff")
        yield Static("", id="ds-summary")
        yield RowTable(id="ds-table")
        yield Static("", id="ds-empty", classes="empty")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Day sheet"
        self.query_one("#ds-table", DataTable).add_columns(*COLUMNS)
        if self.day is None:
            self.day = self.now().astimezone(local_tz()).date()
        self.load()
        self.set_interval(TICK_SECONDS, self.tick)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        needed = self.NEEDS.get(action)
        return needed is None or self.fd.may(needed)

    # ------------------------------------------------------------------ helpers
    def now(self) -> datetime:
        return self.fd.clock()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#ds-table", DataTable)

    def hold(self) -> None:
        self._holds += 1
        self.hold_keys()

    def release(self) -> None:
        self._holds = max(0, self._holds - 1)
        if self._holds == 0:
            self.release_keys()

    def highlighted(self) -> data.DayRow | None:
        booking_id = highlighted_id(self.table)
        row = self.rows.get(booking_id) if booking_id is not None else None
        if row is None:
            self.notify("No booking highlighted", severity="warning")
        return row

    # ------------------------------------------------------------------ loading
    def load(self, select: str | None = None, *, hold: bool = True) -> None:
        """Read the day (one service call off the UI thread); typed keys wait for the rows
        unless ``hold`` is False (a live refresh never makes keys wait)."""
        if select is not None:
            self._select = select
        self._seq += 1
        seq = self._seq
        day, branch_id, staff_id = self.day or date.today(), self.branch_id, self.staff_id
        viewer, now, tz = self.fd.operator, self.now(), local_tz()
        if hold:
            self.hold()

        def read(session: Any) -> tuple[data.DaySheet, tuple[Any, ...]]:
            sheet = data.load_day_sheet(
                session=session,
                viewer=viewer,
                day=day,
                now=now,
                branch_id=branch_id,
                staff_id=staff_id,
                tz=tz,
            )
            mark = data.day_fingerprint(session=session, day=day, branch_id=sheet.branch_id, tz=tz)
            return sheet, mark

        def then(result: tuple[data.DaySheet, tuple[Any, ...]]) -> None:
            if seq == self._seq:
                self.show(*result)
            if hold:
                self.release()

        def failed(error: Exception) -> None:
            if hold:
                self.release()
            if isinstance(error, FrontdeskError):
                self.notify(str(error), severity="error", markup=False, timeout=8)

        self.run_read(read, then, group="day-sheet", exclusive=False, on_error=failed)

    def tick(self) -> None:
        """Every minute: late flags and "late for" follow the clock."""
        if self.is_current and self.sheet is not None:
            self.load(hold=False)

    def refresh_data(self) -> None:
        """Another desk changed something: re-read the day when its fingerprint moved (or
        the clock made someone late meanwhile); keys never wait."""
        if not self.is_mounted or self.sheet is None:
            return
        day, branch_id, tz = self.sheet.day, self.sheet.branch_id, local_tz()
        known = self.fingerprint
        now = self.now()
        may_turn_late = any(
            r.is_open and r.arrived_at is None and not r.late and r.start_at <= now
            for r in self.rows.values()
        )

        def compare(mark: tuple[Any, ...]) -> None:
            if mark != known or may_turn_late:
                self.load(hold=False)

        self.run_read(
            lambda s: data.day_fingerprint(session=s, day=day, branch_id=branch_id, tz=tz),
            compare,
            group="day-sheet-check",
        )

    def show(self, sheet: data.DaySheet, mark: tuple[Any, ...]) -> None:
        self.sheet, self.fingerprint = sheet, mark
        self.branch_id = sheet.branch_id
        self.rows = {r.booking_id: r for r in sheet.rows}
        self._fill_selects(sheet)
        today = self.now().astimezone(local_tz()).date()
        when = {0: " · today", -1: " · yesterday", 1: " · tomorrow"}.get(
            (sheet.day - today).days, ""
        )
        self.query_one("#ds-day", Static).update(
            Text(f"{sheet.day:%A %-d %B %Y}{when}", style="bold")
        )
        rows = self._ordered(sheet.rows)
        table_rows = []
        previous_staff: object = object()
        for r in rows:
            staff_cell = user_text(r.staff or "—")
            if self.by_staff:
                if r.staff_id == previous_staff:
                    staff_cell = Text("")  # one group per staff member
                previous_staff = r.staff_id
            table_rows.append((str(r.booking_id), self._cells(r, staff_cell)))
        select = self._select
        self._select = None
        fill_table(self.table, table_rows, select=select)
        self._summary(sheet)
        self.set_class(not rows, "-empty")

    def _ordered(self, rows: list[data.DayRow]) -> list[data.DayRow]:
        if not self.by_staff:
            return rows  # by time, then staff member (the service's order)
        return sorted(rows, key=lambda r: ((r.staff or "~").casefold(), r.start_at, r.booking_id))

    def _cells(self, r: data.DayRow, staff_cell: Text) -> list[Text]:
        tz = local_tz()
        start = r.start_at.astimezone(tz)
        end = r.end_at.astimezone(tz)
        time_cell = Text(f"{start:%H:%M}–{end:%H:%M}")
        customer = Text()
        if r.category_symbol:
            customer.append_text(category_text(r.category_symbol, None, r.category_colour))
        # A long name is cut (with "…") so that the service, status and arrival stay on the
        # screen (a 100-character name pushed them off at 120 columns).
        customer.append_text(fit(user_text(r.customer_name), self._name_width()))
        if r.alert:
            customer.append(" ⚠", style="bold red")
        if r.blocked:
            customer.append(" ✖ blocked", style="bold red")
        notes = Text("✎ notes", style="italic") if r.has_notes else Text("")
        if r.arrived_at is not None:
            arrived = Text(f"✓ {r.arrived_at.astimezone(tz):%H:%M}", style="green")
        elif r.late:
            minutes = max(0, int((self.now() - r.start_at).total_seconds() // 60))
            arrived = Text(f"! LATE {_duration(minutes)}", style="bold red")
        else:
            arrived = Text("")
        status = status_text(r.status)
        marker = Text("")
        if r.late:
            time_cell.stylize(LATE_STYLE)
            marker = Text("!", style="bold red")
        elif r.arrived_at is not None:
            marker = Text("✓", style="green")
        cells = [time_cell, staff_cell, customer, user_text(r.service), status, notes, arrived]
        return [marker, *cells]

    def _name_width(self) -> int:
        """The cells a customer's name may take: what the other columns leave of the
        terminal's width (30 at 120 columns, 40 from 130), at least 16."""
        return max(16, min(40, self.app.size.width - 90))

    def _summary(self, sheet: data.DaySheet) -> None:
        rows = sheet.rows
        if not rows:
            if sheet.branch_id is None:
                empty = "No branch yet: add one in Settings."
            elif sheet.own_only:
                empty = "No bookings with you on this day."
            elif self.fd.may("book"):
                empty = "No bookings on this day — press b to book one."
            else:
                empty = "No bookings on this day."
            self.query_one("#ds-empty", Static).update(empty)
        open_rows = [r for r in rows if r.status not in ("cancelled",)]
        arrived = sum(1 for r in rows if r.arrived_at is not None)
        parts = [f"{len(open_rows)} booking{'s' if len(open_rows) != 1 else ''}"]
        if arrived:
            parts.append(f"{arrived} arrived")
        summary = Text(" · ".join(parts))
        if sheet.late:
            summary.append(" · ")
            summary.append(f"! {sheet.late} late", style="bold red")
        if sheet.requests_waiting:
            waiting = sheet.requests_waiting
            summary.append(" · ")
            summary.append(
                f"{waiting} booking request{'s' if waiting != 1 else ''} waiting (R)", style="bold"
            )
        if sheet.own_only:
            summary.append(" · your bookings only", style="dim")
        summary.append(" · by staff member" if self.by_staff else " · by time", style="dim")
        self.query_one("#ds-summary", Static).update(summary)

    def _fill_selects(self, sheet: data.DaySheet) -> None:
        branch = self.query_one("#ds-branch", Select)
        staff = self.query_one("#ds-staff", Select)
        with self.prevent(Select.Changed):
            branch_options = [(user_text(name), bid) for bid, name in sheet.branches]
            if getattr(self, "_branch_options", None) != sheet.branches:
                self._branch_options = sheet.branches
                branch.set_options(branch_options)
            if sheet.branch_id is not None and branch.value != sheet.branch_id:
                branch.value = sheet.branch_id
            if getattr(self, "_staff_options", None) != sheet.staff:
                self._staff_options = sheet.staff
                staff.set_options([(user_text(name), sid) for sid, name in sheet.staff])
            wanted = sheet.staff_id if sheet.staff_id is not None else Select.NULL
            offered = wanted is Select.NULL or any(sid == wanted for sid, _ in sheet.staff)
            if offered and staff.value != wanted:
                staff.value = wanted
        staff.disabled = sheet.own_only

    # ------------------------------------------------------------------ navigation
    def action_day(self, step: int) -> None:
        self.day = (self.day or self.now().date()) + timedelta(days=step)
        self.load()

    def action_today(self) -> None:
        self.day = self.now().astimezone(local_tz()).date()
        self.load()

    def action_goto(self) -> None:
        current = (self.day or self.now().date()).isoformat()

        def chosen(text: str | None) -> None:
            if text:
                self.day = parse_day(text, "date")
                self.load()

        self.ask(
            PromptModal(
                "Go to the day",
                placeholder="YYYY-MM-DD",
                value=current,
                check=prompt_check(lambda t: parse_day(t, "date")),
            ),
            chosen,
        )

    def action_focus_branch(self) -> None:
        self.set_focus(self.query_one("#ds-branch", Select))

    def action_focus_staff(self) -> None:
        staff = self.query_one("#ds-staff", Select)
        if not staff.disabled:
            self.set_focus(staff)

    def action_toggle_view(self) -> None:
        self.by_staff = not self.by_staff
        if self.sheet is not None:
            self.show(self.sheet, self.fingerprint or ())

    @on(Select.Changed, "#ds-branch")
    def branch_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, int) and event.value != self.branch_id:
            self.branch_id = event.value
            self.staff_id = None
            self.load()

    @on(Select.Changed, "#ds-staff")
    def staff_changed(self, event: Select.Changed) -> None:
        value = event.value if isinstance(event.value, int) else None
        if value != self.staff_id:
            self.staff_id = value
            self.load()

    def action_back(self) -> None:
        if self.focused is not None and self.focused is not self.table:
            self.set_focus(self.table)  # from the branch or staff filter back to the rows
            return
        self.dismiss(None)

    @on(DataTable.RowSelected, "#ds-table")
    def open_customer(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.highlighted()
        if row is not None:
            self.fd.open_customer(row.customer_id)

    # ------------------------------------------------------------------ asking and writing
    def ask(self, modal: Screen[Any], answered: Callable[[Any], None]) -> None:
        """Open ``modal``; keys typed ahead wait from its closing until ``answered`` has
        started what it does (as the profile's tabs do)."""
        self.hold()

        def done(result: Any) -> None:
            try:
                answered(result)
            finally:
                self.release()

        self.app.push_screen(modal, done)

    def write(
        self,
        work: Callable[[Any], Any],
        *,
        booking_id: int,
        done: Callable[[Any], str],
        on_error: Callable[[FrontdeskError], bool] | None = None,
    ) -> None:
        """Run one service in a write transaction; then re-read the day with the same booking
        highlighted (keys typed meanwhile wait for it)."""
        self.hold()

        def then(result: Any) -> None:
            self.load(select=str(booking_id))
            self.release()
            self.notify(done(result), markup=False)

        def failed(error: Exception) -> None:
            self.release()
            if isinstance(error, FrontdeskError) and not (on_error and on_error(error)):
                self.notify(str(error), severity="error", markup=False, timeout=8)
                self.load(select=str(booking_id))

        self.run_write(work, then, group="day-sheet-write", on_error=failed)

    # ------------------------------------------------------------------ booking actions
    def action_arrived(self) -> None:
        row = self.highlighted()
        if row is None:
            return
        actor, now, tz = self.fd.operator, self.now(), local_tz()
        booking_id = row.booking_id
        name = row.customer_name

        def said(result: data.CheckedIn) -> str:
            late = f", {_duration(result.late_minutes)} late" if result.late_minutes else ""
            return f"{name} arrived ({result.arrived_at.astimezone(tz):%H:%M}{late})"

        self.write(
            lambda s: data.check_in(session=s, booking_id=booking_id, actor=actor, now=now, tz=tz),
            booking_id=booking_id,
            done=said,
        )

    def action_change(self, action: str) -> None:
        row = self.highlighted()
        if row is not None:
            changes.ask_and_change(
                self.ask,
                self.change,
                row.booking_id,
                action,
                actor=self.fd.operator,
                rescheduled=self._rescheduled,
                start=row.start_at,
                status=row.status,
                now=self.now(),
                arrived=row.arrived_at is not None,
            )

    def _rescheduled(self, booking_id: int, result: BookingChanged) -> None:
        self.load(select=str(booking_id))
        self.notify(changes.changed_text(booking_id, "reschedule")(result), markup=False)

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
                self.fd.operator,
                reason=reason,
                when=when,
                create_order=create_order,
                now=self.now(),
            ),
            booking_id=booking_id,
            done=changes.changed_text(booking_id, action),
            on_error=self._double_booked,
        )

    def _double_booked(self, error: FrontdeskError) -> bool:
        text = changes.double_booked_text(error)
        if text is not None:
            self.notify(text, severity="error", timeout=8, markup=False)
        return text is not None

    def action_book_here(self) -> None:
        """The booking form at the highlighted booking's start (another staff member may be
        free then), or on the day shown; the new booking is highlighted here after."""
        if self.fd.refuse("book"):
            return
        row = self.rows.get(highlighted_id(self.table) or -1)
        day = self.day or self.now().date()
        when: tuple[str, str] | None = None
        if row is not None:
            start = row.start_at.astimezone(local_tz())
            when = (start.date().isoformat(), f"{start:%H:%M}")
        elif day != self.now().astimezone(local_tz()).date():
            when = (day.isoformat(), "")  # the business's opening time (the form knows it)

        def booked(result: tuple[int, int] | None) -> None:
            if result is not None:  # (the form said what it booked)
                self.load(select=str(result[0]))

        self.app.push_screen(BookingAtTime(start=when, branch_id=self.branch_id), callback=booked)

    def action_free(self) -> None:
        sheet = self.sheet
        if sheet is None or not sheet.services:
            self.notify("No services to book yet", severity="warning")
            return
        row = self.rows.get(highlighted_id(self.table) or -1)
        service_id = row.service_id if row is not None else sheet.services[0][0]
        day_start, _ = data.day_bounds(sheet.day, local_tz())
        after = max(self.now(), day_start)
        self.app.push_screen(
            FreeSlotsModal(
                services=[(sid, name) for sid, name, _ in sheet.services],
                service_id=service_id,
                branch_id=sheet.branch_id,
                after=after,
            )
        )


class BookingAtTime(NewBookingScreen):
    """The booking form starting on a given day and time at the day sheet's branch."""

    def __init__(self, *, start: tuple[str, str] | None, branch_id: int | None) -> None:
        super().__init__()
        self.start = start
        self.start_branch = branch_id

    def _loaded(self, form: BookingForm) -> None:
        branch_id = form.branch_id
        if any(b.id == self.start_branch for b in form.branches):
            branch_id = self.start_branch
        day, time = self.start or (form.day, form.time)
        time = time or f"{form.hours.opening:%H:%M}"
        super()._loaded(replace(form, day=day, time=time, branch_id=branch_id))


def _duration(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d}"


class FreeSlotsModal(FrontdeskModal[None]):
    """The next free start times of a service per staff member ("when can I come?")."""

    DEFAULT_CSS = """
    FreeSlotsModal #fs-box {
        width: 76;
        height: auto;
        max-height: 90%;
    }
    FreeSlotsModal #fs-times {
        height: auto;
        padding: 1 0 0 0;
    }
    """
    AUTO_FOCUS = "#fs-service"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]

    def __init__(
        self,
        *,
        services: list[tuple[int, str]],
        service_id: int,
        branch_id: int | None,
        after: datetime,
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.services = services
        self.service_id = service_id
        self.branch_id = branch_id
        self.after = after

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="fs-box"):
            yield Label(Text("Free times"), classes="dialog-title")
            yield Select[int](
                [(user_text(name), sid) for sid, name in self.services],
                value=self.service_id,
                allow_blank=False,
                id="fs-service",
            )
            yield Static("", id="fs-times")

    def on_mount(self) -> None:
        self.hold_keys()
        self.load()

    @on(Select.Changed, "#fs-service")
    def service_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, int) and event.value != self.service_id:
            self.service_id = event.value
            self.load()

    def load(self) -> None:
        viewer, service_id, branch_id, after = (
            self.fd.operator,
            self.service_id,
            self.branch_id,
            self.after,
        )
        tz = local_tz()

        def shown(slots: data.FreeSlots) -> None:
            self.query_one("#fs-times", Static).update(_free_text(slots, after))
            self.release_keys()

        def failed(error: Exception) -> None:
            self.release_keys()
            message = str(error) if isinstance(error, FrontdeskError) else "Could not read"
            self.query_one("#fs-times", Static).update(user_text(message))

        self.run_read(
            lambda s: data.free_slots(
                session=s,
                viewer=viewer,
                service_id=service_id,
                branch_id=branch_id,
                after=after,
                tz=tz,
            ),
            shown,
            group="free-slots",
            on_error=failed,
        )

    def action_close(self) -> None:
        self.dismiss(None)


def _free_text(slots: data.FreeSlots, after: datetime) -> Text:
    tz = local_tz()
    out = Text()
    out.append_text(user_text(slots.service))
    out.append(f" · {slots.minutes} min · from {after.astimezone(tz):%a %-d %b %H:%M}\n\n")
    if not slots.staff:
        out.append("Nobody at this branch takes this service.", style="dim")
        return out
    width = max(len(f.staff) for f in slots.staff)
    for free in slots.staff:
        out.append_text(user_text(free.staff, "bold"))
        out.append(" " * (width - len(free.staff) + 2))
        if not free.times:
            out.append("no free time in the next two weeks", style="dim")
        else:
            shown_day = after.astimezone(tz).date()
            parts = []
            for t in free.times:
                local = t.astimezone(tz)
                parts.append(
                    f"{local:%H:%M}" if local.date() == shown_day else f"{local:%a %-d %b %H:%M}"
                )
                shown_day = local.date()
            out.append("  ".join(parts))
        out.append("\n")
    return out

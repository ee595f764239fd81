"""New booking: customer (picker, add inline), branch, service, staff, date, time, notes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widgets import Footer, Header, Input, Label, Select, Static

from frontdesk.data import bookings as bk
from frontdesk.data.directory import Lookups, load_lookups
from frontdesk.data.errors import BlockedCustomer, DoubleBooked, FrontdeskError, ValidationFailed
from frontdesk.screens.fmt import money
from frontdesk.widgets.customer_picker import CustomerPicker, PickerScreen

if TYPE_CHECKING:
    pass


def local_tz() -> Any:
    return datetime.now().astimezone().tzinfo


def next_quarter(now: datetime) -> datetime:
    local = now.astimezone(local_tz())
    minutes = (local.minute // 15 + 1) * 15
    return local.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=minutes)


def parse_time(text: str) -> tuple[int, int]:
    raw = text.strip().replace(".", ":")
    if raw.isdigit() and len(raw) in (3, 4):
        raw = f"{raw[:-2]}:{raw[-2:]}"
    elif raw.isdigit() and len(raw) <= 2:
        raw = f"{raw}:00"
    hour, _, minute = raw.partition(":")
    if not (hour.isdigit() and minute.isdigit()):
        raise ValidationFailed("time", "use HH:MM, e.g. 14:30")
    h, m = int(hour), int(minute)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValidationFailed("time", "use HH:MM, e.g. 14:30")
    return h, m


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed("date", "use YYYY-MM-DD, e.g. 2026-12-01") from None


class NewBookingScreen(PickerScreen):
    """Dismisses with (booking id, customer id) once the booking is confirmed."""

    AUTO_FOCUS = "#picker-input"
    ERROR_PREFIX = "bke"
    BINDINGS = [
        Binding("ctrl+s", "confirm", "Confirm booking", priority=True),
        Binding("ctrl+t", "use_suggestion", "Use suggested time", show=False),
    ]

    def __init__(self, *, customer_id: int | None = None, follow_up: bool = False) -> None:
        super().__init__()
        self.customer_id = customer_id
        self.follow_up = follow_up
        self.lookups = Lookups()
        self.suggestion: datetime | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="booking-form"):
            yield CustomerPicker(for_booking=True, id="picker")
            with Grid(id="booking-grid"):
                yield from self.box(
                    "Branch", Select[int]([], id="bk-branch", prompt="Choose a branch"), "branch"
                )
                yield from self.box(
                    "Service",
                    Select[int]([], id="bk-service", prompt="Choose a service"),
                    "service",
                )
                yield from self.box(
                    "Staff member", Select[int]([], id="bk-staff", prompt="Anyone"), "staff"
                )
                yield from self.box("Date", Input(id="bk-date", placeholder="YYYY-MM-DD"), "date")
                yield from self.box("Start time", Input(id="bk-time", placeholder="HH:MM"), "time")
                yield from self.box("Notes", Input(id="bk-notes"), "notes")
            yield Static("", id="bk-summary")
            yield Static("", id="bk-problem", classes="error")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "New booking"
        self.lookups = self.fd.read(lambda s: load_lookups(session=s))
        self.query_one("#bk-branch", Select).set_options(
            [(b.name, b.id) for b in self.lookups.branches.values() if b.id and b.active]
        )
        self.query_one("#bk-service", Select).set_options(
            [
                (f"{s.name} · {s.duration_minutes} min · {money(s.price_cents)}", s.id)
                for s in self.lookups.services.values()
                if s.id and s.active
            ]
        )
        start = next_quarter(self.fd.clock())
        self.query_one("#bk-date", Input).value = start.date().isoformat()
        self.query_one("#bk-time", Input).value = start.strftime("%H:%M")
        operator = self.fd.operator
        if operator and operator.branch_id in self.lookups.branches:
            self.query_one("#bk-branch", Select).value = operator.branch_id
        elif len(self.lookups.branches) == 1:
            self.query_one("#bk-branch", Select).value = next(iter(self.lookups.branches))
        if self.customer_id is not None:
            self.query_one("#picker", CustomerPicker).set_customer(self.customer_id)
            if self.follow_up:
                customer_id = self.customer_id
                template = self.fd.read(
                    lambda s: bk.follow_up_template(session=s, customer_id=customer_id)
                )
                if template is not None:
                    self.query_one("#bk-branch", Select).value = template.branch_id
                    self.query_one("#bk-service", Select).value = template.service_id
                    self.set_staff_options(template.branch_id)
                    if template.staff_id is not None:
                        self.query_one("#bk-staff", Select).value = template.staff_id
                else:
                    self.notify("No earlier visit to copy", severity="warning")
        self.update_summary()

    def set_staff_options(self, branch_id: int | None) -> None:
        staff = [
            s
            for s in self.lookups.staff.values()
            if s.active and (branch_id is None or s.branch_id == branch_id)
        ]
        staff.sort(key=lambda s: (s.role != "therapist", s.name))
        select = self.query_one("#bk-staff", Select)
        current = select.value
        select.set_options([(f"{s.name} ({s.role})", s.id) for s in staff if s.id])
        if isinstance(current, int) and any(s.id == current for s in staff):
            select.value = current

    @on(Select.Changed, "#bk-branch")
    def branch_changed(self, event: Select.Changed) -> None:
        self.set_staff_options(event.value if isinstance(event.value, int) else None)
        self.update_summary()

    @on(Select.Changed, "#bk-service")
    @on(Select.Changed, "#bk-staff")
    @on(Input.Changed, "#bk-time")
    @on(Input.Changed, "#bk-date")
    def changed(self) -> None:
        self.suggestion = None
        self.query_one("#bk-problem", Static).update("")
        self.update_summary()

    @on(CustomerPicker.Picked)
    def picked(self, event: CustomerPicker.Picked) -> None:
        if event.customer is not None:
            self.query_one("#bk-problem", Static).update("")
            if not event.prefilled:
                self.query_one("#bk-service", Select).focus()

    def start_at(self) -> datetime:
        d = parse_day(self.query_one("#bk-date", Input).value)
        h, m = parse_time(self.query_one("#bk-time", Input).value)
        return datetime(d.year, d.month, d.day, h, m, tzinfo=local_tz())

    def update_summary(self) -> None:
        summary = self.query_one("#bk-summary", Static)
        service_id = self.query_one("#bk-service", Select).value
        service = self.lookups.services.get(service_id) if isinstance(service_id, int) else None
        for name in ("date", "time"):
            self.query_one(f"#bke-{name}", Label).update("")
        try:
            start = self.start_at()
        except ValidationFailed as exc:
            self.query_one(f"#bke-{exc.field}", Label).update(exc.message)
            start = None
        if service is None:
            summary.update("Choose a service to see its duration and price.")
            return
        end = (
            f" → ends {(start + timedelta(minutes=service.duration_minutes)).strftime('%H:%M')}"
            if start
            else ""
        )
        summary.update(
            f"{service.name}: {service.duration_minutes} min, {money(service.price_cents)}{end}"
        )

    def action_confirm(self) -> None:
        picker = self.query_one("#picker", CustomerPicker)
        problem = self.query_one("#bk-problem", Static)
        errors: dict[str, str] = {}
        if picker.customer is None:
            problem.update("Pick the customer first (or ctrl+n to add them).")
            picker.focus_input()
            return
        branch = self.query_one("#bk-branch", Select).value
        service = self.query_one("#bk-service", Select).value
        staff = self.query_one("#bk-staff", Select).value
        if not isinstance(branch, int):
            errors["branch"] = "Choose a branch"
        if not isinstance(service, int):
            errors["service"] = "Choose a service"
        start: datetime | None = None
        try:
            start = self.start_at()
        except ValidationFailed as exc:
            errors[exc.field] = exc.message
        for name in ("branch", "service", "staff", "date", "time"):
            self.query_one(f"#bke-{name}", Label).update(errors.get(name, ""))
        if errors or start is None or not isinstance(branch, int) or not isinstance(service, int):
            problem.update("Fix the marked fields.")
            return
        customer_id = picker.customer.match.id
        notes = self.query_one("#bk-notes", Input).value
        staff_id = staff if isinstance(staff, int) else None
        try:
            booking_id = self.fd.write(
                lambda s: (
                    bk.create_booking(
                        session=s,
                        customer_id=customer_id,
                        service_id=service,
                        branch_id=branch,
                        staff_id=staff_id,
                        start_at=start,
                        notes=notes,
                        actor=self.fd.operator,
                    ).id
                )
            )
        except DoubleBooked as exc:
            c = exc.conflict
            text = (
                f"{c.staff} is busy: {c.service} for {c.customer_name} ({c.customer_code}) "
                f"{c.start_at.astimezone(local_tz()):%H:%M}–{c.end_at.astimezone(local_tz()):%H:%M}."
            )
            self.suggestion = exc.suggestion
            if exc.suggestion is not None:
                when = exc.suggestion.astimezone(local_tz())
                text += f" Free at {when:%Y-%m-%d %H:%M} — ctrl+t uses it."
            self.query_one("#bke-time", Label).update("Double booking")
            problem.update(text)
            return
        except BlockedCustomer as exc:
            problem.update(
                f"{exc.customer.full_name} is blocked: {exc.customer.blocked_reason}. Cannot be booked."
            )
            return
        except FrontdeskError as exc:
            problem.update(str(exc))
            return
        assert booking_id is not None
        self.dismiss((booking_id, customer_id))

    def action_use_suggestion(self) -> None:
        if self.suggestion is None:
            return
        when = self.suggestion.astimezone(local_tz())
        self.query_one("#bk-date", Input).value = when.date().isoformat()
        self.query_one("#bk-time", Input).value = when.strftime("%H:%M")
        self.suggestion = None

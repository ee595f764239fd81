"""New booking: customer (picker, add inline), branch, service, staff, date, time, notes.

One use case per action: :func:`~frontdesk.data.booking_flow.load_booking_form` fills the
form (keys typed meanwhile wait), :func:`~frontdesk.data.booking_flow.book_appointment`
books it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widgets import Footer, Header, Input, Label, Static

from frontdesk.data.booking_flow import (
    Booked,
    BookingForm,
    BookingRequest,
    StartInPast,
    check_booking,
    load_booking_form,
    local_tz,
    parse_day,
    parse_time,
    suggestion_fields,
)
from frontdesk.data.booking_flow import book_appointment as book
from frontdesk.data.errors import BlockedCustomer, DoubleBooked, FrontdeskError, ValidationFailed
from frontdesk.screens.common import ConfirmModal
from frontdesk.screens.fmt import money
from frontdesk.screens.picker_screen import PickerScreen
from frontdesk.text import user_text
from frontdesk.widgets.customer_picker import CustomerPicker
from frontdesk.widgets.select import InstantSelect, Select

# local_tz, parse_day and parse_time are used by the profile (reschedule) too.
__all__ = ["NewBookingScreen", "local_tz", "parse_day", "parse_time"]

FIELD_OF = {"service_id": "service", "branch_id": "branch", "staff_id": "staff"}
FIELDS = ("branch", "service", "staff", "date", "time", "notes")
_UNSET = object()


class NewBookingScreen(PickerScreen):
    """Dismisses with (booking id, customer id) once the booking is confirmed."""

    AUTO_FOCUS = "#picker-input"
    ERROR_PREFIX = "bke"
    DISCARD_QUESTION = "Discard this booking?"
    BINDINGS = [
        Binding("ctrl+s", "confirm", "Confirm booking", priority=True),
        Binding("ctrl+t", "use_suggestion", "Use suggested time", show=False),
    ]

    def __init__(self, *, customer_id: int | None = None, follow_up: bool = False) -> None:
        super().__init__()
        self.customer_id = customer_id
        self.follow_up = follow_up
        self.form: BookingForm | None = None
        self.suggestion: tuple[str, str] | None = None
        self.initial: dict[str, object] = {}
        self._staff_branch: object = _UNSET
        self.saving = False

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="booking-form"):
            yield CustomerPicker(for_booking=True, after_pick="#bk-service", id="picker")
            with Grid(id="booking-grid"):
                yield from self.box(
                    "Branch",
                    InstantSelect[int]([], id="bk-branch", prompt="Choose a branch"),
                    "branch",
                )
                yield from self.box(
                    "Service",
                    InstantSelect[int]([], id="bk-service", prompt="Choose a service"),
                    "service",
                )
                yield from self.box(
                    "Staff member", InstantSelect[int]([], id="bk-staff", prompt="Anyone"), "staff"
                )
                yield from self.box("Date", Input(id="bk-date", placeholder="YYYY-MM-DD"), "date")
                yield from self.box("Start time", Input(id="bk-time", placeholder="HH:MM"), "time")
                yield from self.box("Notes", Input(id="bk-notes"), "notes")
            yield Static("", id="bk-summary")
            yield Static("", id="bk-problem", classes="error")
        yield Footer()

    # ------------------------------------------------------------------ loading
    def on_mount(self) -> None:
        self.title = "New booking"
        self.hold_keys()  # keys typed now land once the lists and the customer are in
        customer_id, follow_up = self.customer_id, self.follow_up
        operator, now = self.fd.operator, self.fd.clock()
        self.run_read(
            lambda s: load_booking_form(
                session=s,
                now=now,
                operator=operator,
                customer_id=customer_id,
                follow_up=follow_up,
            ),
            self._loaded,
            group="booking-form",
            on_error=self._load_failed,
        )

    def _load_failed(self, exc: Exception) -> None:
        self.problem(Text(f"Could not load the booking form: {exc}"))
        self.release_keys()

    def _loaded(self, form: BookingForm) -> None:
        self.form = form
        self.picker.phone_region = form.region
        branch = self.query_one("#bk-branch", Select)
        branch.set_options([(user_text(b.name), b.id) for b in form.branches])
        self.query_one("#bk-service", Select).set_options(
            [
                (
                    Text.assemble(
                        user_text(s.name), f" · {s.duration_minutes} min · {money(s.price_cents)}"
                    ),
                    s.id,
                )
                for s in form.services
            ]
        )
        self.query_one("#bk-date", Input).value = form.day
        self.query_one("#bk-time", Input).value = form.time
        branch_id = form.branch_id
        template = form.follow_up
        if template is not None and any(b.id == template.branch_id for b in form.branches):
            branch_id = template.branch_id
        if branch_id is not None:
            branch.value = branch_id
        self.set_staff_options(branch_id)
        if template is not None:
            if form.service(template.service_id) is not None:
                self.query_one("#bk-service", Select).value = template.service_id
            staff = self.query_one("#bk-staff", Select)
            if template.staff_id is not None and any(
                s.id == template.staff_id for s in form.staff_at(branch_id)
            ):
                staff.value = template.staff_id
        if form.follow_up_missing:
            self.notify("No earlier visit to copy", severity="warning", markup=False)
        if form.customer is not None:
            self.picker.show_picked(form.customer, prefilled=True)
        self.update_summary()
        self.initial = self.snapshot()
        self.release_keys()

    def set_staff_options(self, branch_id: int | None) -> None:
        """The staff of the branch (kept when the branch did not change)."""
        if self.form is None or self._staff_branch == branch_id:
            return
        self._staff_branch = branch_id
        staff = self.form.staff_at(branch_id)
        select = self.query_one("#bk-staff", Select)
        current = select.value
        select.set_options([(user_text(f"{s.name} ({s.role})"), s.id) for s in staff])
        if isinstance(current, int) and any(s.id == current for s in staff):
            select.value = current

    # ------------------------------------------------------------------ typing
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
        self.problem("")
        self.update_summary()

    @on(CustomerPicker.Picked)
    def picked(self, event: CustomerPicker.Picked) -> None:
        if event.customer is not None:
            self.problem("")

    def problem(self, message: str | Text) -> None:
        self.query_one("#bk-problem", Static).update(
            message if isinstance(message, Text) else Text(message)
        )

    def request(self) -> BookingRequest:
        def chosen(selector: str) -> int | None:
            value = self.query_one(selector, Select).value
            return value if isinstance(value, int) else None

        customer = self.picker.customer
        return BookingRequest(
            customer_id=customer.match.id if customer is not None else None,
            branch_id=chosen("#bk-branch"),
            service_id=chosen("#bk-service"),
            staff_id=chosen("#bk-staff"),
            day=self.query_one("#bk-date", Input).value,
            time=self.query_one("#bk-time", Input).value,
            notes=self.query_one("#bk-notes", Input).value,
        )

    def snapshot(self) -> dict[str, object]:
        request = self.request()
        return {
            "request": request,
            "picker_text": self.picker.text,
        }

    def has_entries(self) -> bool:
        return self.form is not None and self.snapshot() != self.initial

    def update_summary(self) -> None:
        summary = self.query_one("#bk-summary", Static)
        request = self.request()
        check = check_booking(request)
        for name in ("date", "time"):
            self.query_one(f"#bke-{name}", Label).update(check.errors.get(name, ""))
        service = self.form.service(request.service_id) if self.form else None
        if service is None:
            summary.update("Choose a service to see its duration and price.")
            return
        end = ""
        if check.start is not None:
            finish = check.start + timedelta(minutes=service.duration_minutes)
            end = f" → ends {finish:%H:%M}"
        summary.update(
            Text.assemble(
                user_text(service.name),
                f": {service.duration_minutes} min, {money(service.price_cents)}{end}",
            )
        )

    # ------------------------------------------------------------------ booking
    def action_confirm(self) -> None:
        if self.saving or self.form is None:
            return
        request = self.request()
        check = check_booking(request)
        for name in FIELDS:
            self.query_one(f"#bke-{name}", Label).update(check.errors.get(name, ""))
        if "customer" in check.errors:
            self.problem(check.errors["customer"])
            self.picker.focus_input()
            return
        if check.errors:
            self.problem("Fix the marked fields.")
            return
        self.save(request)

    def save(self, request: BookingRequest) -> None:
        """Book ``request`` (one write); a start already past is asked about first."""
        self.saving = True
        self.hold_keys()  # keys typed after ctrl+s wait for the outcome
        self.problem("")
        actor, now = self.fd.operator, self.fd.clock()
        self.run_write(
            lambda s: book(session=s, request=request, actor=actor, now=now),
            self._booked,
            group="booking-save",
            on_error=lambda exc: self._refused(exc, request),
        )

    def _booked(self, booked: Booked) -> None:
        if booked.status == "completed":
            self.notify("Recorded as a walk-in that happened", markup=False)
        self.dismiss((booked.booking_id, booked.customer_id))

    def ask_walk_in(self, exc: StartInPast, request: BookingRequest) -> None:
        """ "10:00 is already past. Record it as a walk-in that happened?" Yes books it as a
        completed walk-in; no goes back to the form with everything as typed."""

        def answered(yes: bool | None) -> None:
            if yes:
                self.save(replace(request, walk_in=True))
                return
            self.query_one("#bke-time", Label).update(
                user_text(f"{exc.shown} is already past: change the time, or ctrl+s again.")
            )
            self.set_focus(self.query_one("#bk-time", Input))

        self.app.push_screen(
            ConfirmModal(
                f"{exc.shown} is already past. Record it as a walk-in that happened?",
                yes="Record walk-in",
                no="Back to the form",
            ),
            answered,
        )

    def _refused(self, exc: Exception, request: BookingRequest | None = None) -> None:
        self.saving = False
        self.release_keys()
        if isinstance(exc, StartInPast) and request is not None:
            self.ask_walk_in(exc, request)
        elif isinstance(exc, DoubleBooked):
            c = exc.conflict
            tz = local_tz()
            text = Text.assemble(
                user_text(c.staff),
                " is busy: ",
                user_text(c.service),
                " for ",
                user_text(c.customer_name),
                f" ({c.customer_code}) ",
                f"{c.start_at.astimezone(tz):%H:%M}–{c.end_at.astimezone(tz):%H:%M}.",
            )
            self.suggestion = None
            if exc.suggestion is not None:
                self.suggestion = suggestion_fields(exc.suggestion)
                text.append(f" Free at {' '.join(self.suggestion)} — ctrl+t uses it.")
            self.query_one("#bke-time", Label).update("Double booking")
            self.problem(text)
        elif isinstance(exc, BlockedCustomer):
            customer = exc.customer
            self.problem(
                Text.assemble(
                    user_text(customer.full_name),
                    " is blocked: ",
                    user_text(customer.blocked_reason),
                    ". Cannot be booked.",
                )
            )
        elif isinstance(exc, ValidationFailed):
            name = FIELD_OF.get(exc.field, exc.field)
            if name in FIELDS:
                self.query_one(f"#bke-{name}", Label).update(user_text(exc.message))
                self.problem("Fix the marked fields.")
            else:
                self.problem(user_text(str(exc)))
        elif isinstance(exc, FrontdeskError):
            self.problem(user_text(str(exc)))
        else:
            self.problem("Not booked: an unexpected error (see the message).")

    def action_use_suggestion(self) -> None:
        if self.suggestion is None:
            return
        day, time = self.suggestion
        self.query_one("#bk-date", Input).value = day
        self.query_one("#bk-time", Input).value = time
        self.suggestion = None

"""New booking: customer (picker, add inline), branch, service, staff, date, time, notes.

One use case per action: :func:`~frontdesk.data.booking_flow.load_booking_form` fills the
form (keys typed meanwhile wait), :func:`~frontdesk.data.booking_flow.suggest_start` finds the
first free start for what the form holds (``ctrl+t`` takes it),
:func:`~frontdesk.data.booking_flow.book_appointment` books it.

The fast path: typing part of a service's name on the service field filters its list (the
first match highlighted, ``enter`` takes it), the staff member is "first free" unless chosen,
``ctrl+t`` takes the first free time shown under the fields, ``ctrl+s`` books.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widgets import Header, Input, Label, OptionList, Static
from textual.widgets._select import SelectCurrent
from textual.widgets.option_list import Option

from frontdesk.data.booking_flow import (
    Booked,
    BookingCheck,
    BookingForm,
    BookingRequest,
    FreeSlot,
    NobodyFree,
    StartInPast,
    check_booking,
    load_booking_form,
    local_tz,
    parse_day,
    parse_time,
    suggest_start,
    suggestion_fields,
)
from frontdesk.data.booking_flow import book_appointment as book
from frontdesk.data.bookings import DEFAULT_HOURS
from frontdesk.data.errors import BlockedCustomer, DoubleBooked, FrontdeskError, ValidationFailed
from frontdesk.screens.common import ConfirmModal
from frontdesk.screens.fmt import money
from frontdesk.screens.picker_screen import PickerScreen
from frontdesk.text import user_text
from frontdesk.widgets.customer_picker import CustomerPicker
from frontdesk.widgets.footer import KeyFooter
from frontdesk.widgets.select import InstantOverlay, InstantSelect, Select

# local_tz, parse_day and parse_time are used by the profile (reschedule) too.
__all__ = ["NewBookingScreen", "local_tz", "parse_day", "parse_time"]

FIELD_OF = {"service_id": "service", "branch_id": "branch", "staff_id": "staff"}
FIELDS = ("branch", "service", "staff", "date", "time", "notes")
_UNSET = object()
FIRST_FREE = "First free"


def _name_of(prompt: object) -> str:
    """The service name of a list entry ("Women's cut · 60 min · 65.00")."""
    plain = prompt.plain if isinstance(prompt, Text) else str(prompt)
    return plain.split(" · ")[0].lower()


class FilterOverlay(InstantOverlay):
    """The service list: what is typed filters it. Only the services whose name contains it
    are listed, best first (names that start with it, then names with a word that starts with
    it, then the rest, each in catalogue order), the first one highlighted so that ``enter``
    takes it. ``backspace`` takes a letter back; the filter lasts as long as the list is open
    (no time-out), and closing the list shows every service again."""

    def __init__(self) -> None:
        super().__init__(type_to_search=True)
        self.filter_text = ""
        self.shown: list[int] | None = None  # the select's option indices listed, when filtered

    def watch_has_focus(self, value: bool) -> None:
        super().watch_has_focus(value)
        if not value and self.shown is not None:
            self.set_filter("")

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "backspace" and self.filter_text:
            event.stop()
            event.prevent_default()
            self.set_filter(self.filter_text[:-1])
        elif event.character is not None and event.is_printable:
            event.stop()
            event.prevent_default()
            self.set_filter(self.filter_text + event.character)

    def matches(self, text: str) -> list[int]:
        select = self.parent
        if not isinstance(select, Select):
            return []
        query = text.lower()
        ranked: list[tuple[int, int]] = []
        for index, (prompt, value) in enumerate(select._options):
            name = _name_of(prompt)
            if value is Select.NULL or query not in name:
                continue
            rank = 0 if name.startswith(query) else 1 if f" {query}" in f" {name}" else 2
            ranked.append((rank, index))
        return [index for _rank, index in sorted(ranked)]

    def set_filter(self, text: str) -> None:
        select = self.parent
        if not isinstance(select, Select):
            return
        self.filter_text = text
        self.border_title = Text(f"Find: {text}") if text else None
        if not text:
            if self.shown is not None:
                self.shown = None
                select._setup_options_renderables()
            return
        self.shown = self.matches(text)
        self.clear_options()
        if self.shown:
            self.add_options([Option(select._options[i][0]) for i in self.shown])
            self.highlighted = 0
        else:
            self.add_option(
                Option(Text(f"No service matches '{text}'", style="dim"), disabled=True)
            )
            self.highlighted = None

    def select_index(self, index: int | None) -> int | None:
        """The select's option index of list entry ``index``."""
        if index is None or self.shown is None:
            return index
        return self.shown[index] if 0 <= index < len(self.shown) else None

    def action_select(self) -> None:
        select = self.parent
        chosen = self.select_index(self.highlighted)
        if isinstance(select, Select) and chosen is not None:
            select.choose(chosen)
        elif self.shown is None:
            super().action_select()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A click: the entry clicked, counted among every service."""
        event.stop()
        chosen = self.select_index(event.option_index)
        if chosen is not None:
            self.post_message(self.UpdateSelection(chosen))


class ServiceSelect(Select[int]):
    """The service: ``enter`` opens the list as any select; typing a letter opens it too and
    starts filtering (so ``wom`` ``enter`` books "Women's cut")."""

    def compose(self) -> ComposeResult:
        yield SelectCurrent(self.prompt)
        yield FilterOverlay().data_bind(compact=Select.compact)

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        return character is not None and character.isprintable() and character != " "

    async def _on_key(self, event: events.Key) -> None:
        if self.expanded or event.character is None or not event.is_printable:
            return
        if event.character == " ":
            return
        event.stop()
        event.prevent_default()
        self.action_show_overlay()  # opens and focuses the list at once
        self.query_one(FilterOverlay).set_filter(event.character)


class NewBookingScreen(PickerScreen):
    """Dismisses with (booking id, customer id) once the booking is confirmed."""

    DEFAULT_CSS = """
    #bk-free {
        padding: 0 1;
    }
    """
    AUTO_FOCUS = "#picker-input"
    ERROR_PREFIX = "bke"
    DISCARD_QUESTION = "Discard this booking?"
    BINDINGS = [
        Binding("ctrl+s", "confirm", "Confirm booking", priority=True),
        Binding("ctrl+t", "use_suggestion", "Take first free time", priority=True),
    ]

    def __init__(self, *, customer_id: int | None = None, follow_up: bool = False) -> None:
        super().__init__()
        self.customer_id = customer_id
        self.follow_up = follow_up
        self.form: BookingForm | None = None
        self.suggestion: tuple[str, str] | None = None
        self.free: FreeSlot | None = None  # the first free start for what the form holds
        self._free_for: object = None  # the form values ``free`` belongs to
        self._free_seq = 0
        self._take_free = False  # ctrl+t came before the first free start was known
        self._free_pending = False
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
                    "Service (type to find)",
                    ServiceSelect([], id="bk-service", prompt="Choose a service"),
                    "service",
                )
                yield from self.box(
                    "Staff member",
                    InstantSelect[int]([], id="bk-staff", prompt=FIRST_FREE),
                    "staff",
                )
                yield from self.box("Date", Input(id="bk-date", placeholder="YYYY-MM-DD"), "date")
                yield from self.box("Start time", Input(id="bk-time", placeholder="HH:MM"), "time")
                yield from self.box("Notes", Input(id="bk-notes"), "notes")
            yield Static("", id="bk-summary")
            yield Static("", id="bk-free")
            yield Static("", id="bk-problem", classes="error")
        yield KeyFooter()

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
        self.look_for_free()
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
        self.look_for_free()

    @on(Select.Changed, "#bk-service")
    @on(Select.Changed, "#bk-staff")
    @on(Input.Changed, "#bk-time")
    @on(Input.Changed, "#bk-date")
    def changed(self) -> None:
        self.suggestion = None
        self.problem("")
        self.update_summary()
        self.look_for_free()

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

    def form_check(self, request: BookingRequest) -> BookingCheck:
        """The service's check of what the form holds (the opening hours with the chosen
        service's duration)."""
        service = self.form.service(request.service_id) if self.form else None
        minutes = service.duration_minutes if service is not None else None
        return check_booking(
            request,
            duration=timedelta(minutes=minutes) if minutes else None,
            hours=self.form.hours if self.form else DEFAULT_HOURS,
            now=self.fd.clock(),
        )

    def update_summary(self) -> None:
        summary = self.query_one("#bk-summary", Static)
        request = self.request()
        check = self.form_check(request)
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

    def refresh_data(self) -> None:
        """Another desk changed something: the chosen customer, and the first free start."""
        super().refresh_data()
        if not self.saving:
            self._free_for = None
            self.look_for_free()

    # ------------------------------------------------------------------ first free
    def free_key(self) -> tuple[object, ...]:
        r = self.request()
        return (r.branch_id, r.service_id, r.staff_id, r.day, r.time)

    def look_for_free(self) -> None:
        """Find the first free start for what the form holds now (once a service is chosen);
        a ``ctrl+t`` typed before it is known waits for it."""
        if self.form is None:
            return
        key = self.free_key()
        if key == self._free_for:
            return
        self._free_for = key
        self.free = None
        self._free_seq += 1
        seq = self._free_seq
        request = self.request()
        if request.service_id is None or request.branch_id is None:
            self._free_pending = False
            self.show_free()
            self._free_done()
            return
        self._free_pending = True
        self.show_free()
        now = self.fd.clock()

        def found(slot: FreeSlot | None) -> None:
            if seq == self._free_seq:
                self._free_pending = False
                self.free = slot
                self.show_free()
                self._free_done()

        def failed(_exc: Exception) -> None:
            if seq == self._free_seq:
                self._free_pending = False
                self.show_free()
                self._free_done()

        self.run_read(
            lambda s: suggest_start(session=s, request=request, now=now),
            found,
            group="booking-free",
            on_error=failed,
        )

    def _free_done(self) -> None:
        """The first free start is known: a ``ctrl+t`` that waited for it takes it now."""
        if self._take_free:
            self._take_free = False
            self.take_free()
            self.release_keys()

    def show_free(self) -> None:
        line = self.query_one("#bk-free", Static)
        request = self.request()
        if self.form is None or request.service_id is None:
            line.update("")
            return
        if self._free_pending:
            line.update(Text("Looking for the first free time…", style="dim"))
            return
        slot = self.free
        if slot is None:
            line.update(Text("No free time in the next two weeks for this service and staff."))
            return
        _day, time = suggestion_fields(slot.start)
        when = self.day_words(slot.start) + f" {time}"
        who = Text.assemble(" with ", user_text(slot.staff_name)) if slot.staff_name else Text()
        check = check_booking(request)
        if check.start is not None and check.start == slot.start:
            line.update(Text.assemble("✔ ", f"{when} is free", who, " — ctrl+s books it"))
        else:
            line.update(Text.assemble("First free: ", when, who, " — ctrl+t takes it"))

    def day_words(self, when: datetime) -> str:
        """'today', 'tomorrow' or 'Mon 2026-11-09' on the desk's wall clock."""
        tz = local_tz()
        day = when.astimezone(tz).date()
        today = self.fd.clock().astimezone(tz).date()
        if day == today:
            return "today"
        if day == today + timedelta(days=1):
            return "tomorrow"
        return f"{day:%a} {day.isoformat()}"

    def take_free(self) -> None:
        """Put the first free start in the date and time fields (the staff member stays
        "first free" unless one was chosen: the booking takes whoever is free then)."""
        slot = self.free
        if slot is None:
            self.notify("No free time found to take", severity="warning", markup=False)
            return
        day, time = suggestion_fields(slot.start)
        self.query_one("#bk-date", Input).value = day
        self.query_one("#bk-time", Input).value = time
        self._free_for = self.free_key()  # the first free from there is this same start
        self.suggestion = None
        self.update_summary()
        self.show_free()

    # ------------------------------------------------------------------ booking
    def action_confirm(self) -> None:
        if self.saving or self.form is None:
            return
        request = self.request()
        check = self.form_check(request)
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
        # Said here, for every way the form is opened: a walk-in recorded after the fact was
        # also announced as "confirmed" by whoever opened the form.
        if booked.status == "completed":
            said = f"Booking #{booked.booking_id} recorded as a walk-in that happened"
        else:
            said = f"Booking #{booked.booking_id} {booked.status}"
        self.notify(said, markup=False)
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
        elif isinstance(exc, NobodyFree):
            tz = local_tz()
            text = Text(
                f"Nobody who does this service is free at {exc.start.astimezone(tz):%H:%M}."
            )
            self.suggestion = None
            slot = exc.suggestion
            if slot is not None:
                self.suggestion = suggestion_fields(slot.start)
                who = Text.assemble(" with ", user_text(slot.staff_name)) if slot.staff_name else ""
                text.append_text(
                    Text.assemble(
                        f" First free {' '.join(self.suggestion)}", who, " — ctrl+t uses it."
                    )
                )
            self.query_one("#bke-time", Label).update("Nobody free then")
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
        """``ctrl+t``: the free time a refusal named, else the first free start shown (once
        it is known: later keys wait for it)."""
        if self.suggestion is not None:
            day, time = self.suggestion
            self.query_one("#bk-date", Input).value = day
            self.query_one("#bk-time", Input).value = time
            self.suggestion = None
            return
        if self.form is None or self.saving:
            return
        self.look_for_free()  # what the form holds now (a choice made just before)
        if self._free_pending:
            if not self._take_free:
                self._take_free = True
                self.hold_keys()
            return
        self.take_free()

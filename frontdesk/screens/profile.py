"""The customer profile: header, statistics and tabs of everything hung on the customer."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    Collapsible,
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from frontdesk.data import profile as data
from frontdesk.data.validation import format_phone
from frontdesk.screens.fmt import day, money, when

if TYPE_CHECKING:
    from frontdesk.app import FrontdeskApp

TABS = ["overview", "bookings", "orders", "rewards", "notes", "timeline", "details"]
STATUS_STYLE = {
    "completed": "green",
    "cancelled": "red",
    "no_show": "bold red",
    "pending": "yellow",
    "confirmed": "cyan",
    "paid": "green",
    "part_paid": "yellow",
    "open": "yellow",
    "refunded": "red",
    "part_refunded": "magenta",
}


class ProfileScreen(Screen[None]):
    AUTO_FOCUS = "#tabs Tabs"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("e", "edit", "Edit"),
        Binding("b", "book", "Book"),
        Binding("B", "follow_up", "Follow-up"),
        Binding("o", "order", "Order"),
        *[
            Binding(
                str(i), f"tab('{name}')", name.capitalize(), show=False
            )  # the tab labels show their numbers
            for i, name in enumerate(TABS, start=1)
        ],
        Binding("ctrl+r", "refresh", "Refresh", show=False),
        # Bookings tab, on the highlighted booking:
        Binding("c", "booking('confirm')", "Confirm"),
        Binding("d", "booking('complete')", "Done"),
        Binding("x", "booking('cancel')", "Cancel booking"),
        Binding("w", "booking('no_show')", "No-show"),
        Binding("t", "booking('reschedule')", "Reschedule"),
        Binding("v", "booking_notes", "Booking notes"),
        Binding("n", "booking_note", "Note on booking"),
        # Rewards tab:
        Binding("a", "rewards('add')", "Add points"),
        Binding("r", "rewards('redeem')", "Redeem"),
        Binding("n", "rewards('enrol')", "Enrol"),
        Binding("t", "rewards('expiry')", "Expiry"),
        Binding("X", "rewards('remove')", "Remove enrolment"),
        # Notes tab:
        Binding("a", "notes('add')", "Add note"),
        Binding("enter", "notes('edit')", "Edit note"),
        Binding("delete", "notes('delete')", "Delete note"),
        Binding("K", "notes('up')", "Move up"),
        Binding("J", "notes('down')", "Move down"),
        # Orders tab, on the highlighted order:
        Binding("p", "order_action('pay')", "Take payment"),
        Binding("R", "order_action('refund')", "Refund"),
        Binding("X", "order_action('cancel')", "Cancel order"),
    ]

    class Loaded(Message):
        def __init__(self, profile: data.ProfileData) -> None:
            super().__init__()
            self.profile = profile

    class BookingsLoaded(Message):
        def __init__(self, rows: list[data.BookingRow]) -> None:
            super().__init__()
            self.rows = rows

    def __init__(self, customer_id: int) -> None:
        super().__init__()
        self.customer_id = customer_id
        self.profile: data.ProfileData | None = None
        self._keep_note: int | None = None
        self._categories_loaded = False

    @property
    def fd(self) -> FrontdeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="p-banner")
        with Horizontal(id="p-head"):
            yield Static("", id="p-name")
            yield Static("", id="p-contact")
        with Collapsible(title="Address", id="p-address", collapsed=True):
            yield Static("", id="p-address-text")
        yield Static("", id="p-alerts")
        with TabbedContent(id="tabs", initial="overview"):
            with TabPane("1 Overview", id="overview"):
                yield Static("", id="p-stats")
            with TabPane("2 Bookings", id="bookings"):
                with Horizontal(id="b-filters"):
                    yield Input(placeholder="from YYYY-MM-DD", id="b-from")
                    yield Input(placeholder="to YYYY-MM-DD", id="b-to")
                    yield Select[int]([], prompt="Any service", id="b-service")
                    yield Label("", id="b-error", classes="error")
                yield DataTable(id="b-table", cursor_type="row", zebra_stripes=True)
                yield Static("No bookings found", id="b-empty", classes="empty")
            with TabPane("3 Orders", id="orders"):
                yield DataTable(id="o-table", cursor_type="row", zebra_stripes=True)
                yield Static("No orders yet", id="o-empty", classes="empty")
            with TabPane("4 Rewards", id="rewards"):
                yield Static("", id="r-summary")
                yield Input(placeholder="Search the ledger: date, action or points", id="r-filter")
                yield DataTable(id="r-table", cursor_type="row", zebra_stripes=True)
            with TabPane("5 Notes", id="notes"):
                yield Select[int]([], prompt="All categories", id="n-category")
                yield DataTable(id="n-table", cursor_type="row", zebra_stripes=True)
                yield Static("No notes yet — press a to add one.", id="n-empty", classes="empty")
                yield Static("", id="n-preview")
            with TabPane("6 Timeline", id="timeline"):
                yield DataTable(id="t-table", cursor_type="row", zebra_stripes=True)
            with TabPane("7 Details", id="details"), VerticalScroll():
                yield Static("", id="d-fields")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#b-table", DataTable).add_columns(
            "Service", "Branch", "Staff", "Date", "Time", "Status"
        )
        self.query_one("#o-table", DataTable).add_columns(
            "Date", "Branch", "Items", "Total", "Paid", "Refunded", "Status"
        )
        self.query_one("#r-table", DataTable).add_columns(
            "Date", "Program", "Points", "Action", "Reason", "Reference", "Total", "By"
        )
        self.query_one("#t-table", DataTable).add_columns("When", "What", "")
        self.query_one("#n-table", DataTable).add_columns(
            "", "Category", "Note", "By", "When", "Visible to"
        )
        for empty in self.query(".empty"):
            empty.display = False
        self.load()

    @work(thread=True, exclusive=True, group="profile", exit_on_error=False)
    def load(self) -> None:
        now = self.fd.clock()
        profile = self.fd.read(
            lambda s: data.load_profile(session=s, customer_id=self.customer_id, now=now)
        )
        self.post_message(self.Loaded(profile))

    def on_profile_screen_loaded(self, message: Loaded) -> None:
        self.profile = p = message.profile
        c = p.customer
        self.customer_id = c.id or self.customer_id
        self.title = f"{c.label} · {c.code}"
        banner = self.query_one("#p-banner", Static)
        if c.blocked:
            banner.update(f"BLOCKED — {c.blocked_reason}")
            banner.set_classes("banner-blocked")
        elif c.status != "active":
            banner.update(f"{c.status.upper()} customer")
            banner.set_classes("banner-inactive")
        else:
            banner.update("")
            banner.set_classes("")
        banner.display = bool(c.blocked or c.status != "active")
        name = Text()
        name.append(c.label, style="bold")
        if c.display_name:
            name.append(f"  ({c.full_name})", style="dim")
        name.append(f"\n{c.code}", style="dim")
        if p.category:
            name.append(f"  {p.category}")
        if p.tags:
            name.append("  " + " ".join(f"#{t}" for t in p.tags), style="italic")
        self.query_one("#p-name", Static).update(name)
        contact = Text()
        if c.phone:
            contact.append(f"☎ {format_phone(c.phone)}")
        if c.other_phone:
            contact.append(f"   other {format_phone(c.other_phone)}")
        if c.email:
            contact.append(f"\n✉ {c.email}")
        self.query_one("#p-contact", Static).update(contact)
        address = ", ".join(x for x in (c.address, c.postal_code, c.city, c.state, c.country) if x)
        self.query_one("#p-address-text", Static).update(address or "No address on file")
        alerts = [n for n in p.notes if n.is_alert]
        alert_box = self.query_one("#p-alerts", Static)
        alert_box.update("\n".join(f"⚠ {n.body}" for n in alerts))
        alert_box.set_class(bool(alerts), "alert")
        alert_box.display = bool(alerts)
        self.render_stats(p)
        self.render_bookings(p.bookings)
        service = self.query_one("#b-service", Select)
        service.set_options([(name, sid) for sid, name in p.services])
        self.render_orders(p.orders)
        self.render_rewards(p)
        category = self.query_one("#n-category", Select)
        if not self._categories_loaded:
            category.set_options(p.note_categories)
            self._categories_loaded = True
        self.render_notes(p.notes)
        if self._keep_note is not None:
            table = self.query_one("#n-table", DataTable)
            try:
                table.move_cursor(row=table.get_row_index(str(self._keep_note)))
            except Exception:
                pass
            self._keep_note = None
        self.render_timeline(p.timeline)
        self.render_details(p)

    def render_stats(self, p: data.ProfileData) -> None:
        s = p.stats
        table = Table.grid(padding=(0, 3))
        table.add_column(style="dim", min_width=20, no_wrap=True)
        table.add_column(justify="right", min_width=10, no_wrap=True)
        table.add_column(style="dim", min_width=22, no_wrap=True)
        table.add_column(justify="right", min_width=16, no_wrap=True)
        rows = [
            ("Total visits", f"{s.visits:,}", "Customer since", day(s.customer_since)),
            ("Upcoming bookings", f"{s.upcoming:,}", "First visit", day(s.first_visit)),
            ("Cancellations", f"{s.cancellations:,}", "Last visit", day(s.last_visit)),
            (
                "No-shows",
                f"{s.no_shows:,}",
                "Next visit",
                when(s.next_visit) if s.next_visit else "—",
            ),
            (
                "Total income",
                money(s.income_cents),
                "Days since last visit",
                f"{s.days_since_last_visit:,}" if s.days_since_last_visit is not None else "—",
            ),
            (
                "Average visit value",
                money(s.average_visit_cents),
                "Points balance",
                f"{s.points:,}",
            ),
        ]
        for row in rows:
            table.add_row(*row)
        self.query_one("#p-stats", Static).update(table)

    def render_bookings(self, rows: list[data.BookingRow]) -> None:
        table = self.query_one("#b-table", DataTable)
        table.clear()
        for b in rows:
            start = b.start_at.astimezone()
            table.add_row(
                b.service,
                b.branch,
                b.staff,
                start.date().isoformat(),
                start.strftime("%H:%M"),
                Text(b.status.replace("_", "-"), style=STATUS_STYLE.get(b.status, "")),
                key=str(b.id),
            )
        self.query_one("#b-empty", Static).display = not rows
        table.display = bool(rows)

    def render_orders(self, rows: list[data.OrderRow]) -> None:
        table = self.query_one("#o-table", DataTable)
        table.clear()
        for o in rows:
            table.add_row(
                day(o.created_at),
                o.branch,
                o.items,
                money(o.total_cents),
                money(o.paid_cents),
                money(o.refunded_cents) if o.refunded_cents else "",
                Text(o.status.replace("_", " "), style=STATUS_STYLE.get(o.status, "")),
                key=str(o.id),
            )
        self.query_one("#o-empty", Static).display = not rows
        table.display = bool(rows)

    def render_rewards(self, p: data.ProfileData) -> None:
        if p.enrolments:
            lines = [
                f"{e.program}: {e.balance:,} {e.unit}"
                + (f" (expires {e.expires_on})" if e.expires_on else "")
                for e in p.enrolments
            ]
            summary = "  ·  ".join(lines)
        else:
            summary = "Not enrolled in a loyalty program."
        self.query_one("#r-summary", Static).update(summary)
        table = self.query_one("#r-table", DataTable)
        table.clear()
        needle = self.query_one("#r-filter", Input).value.strip().lower()
        for e in p.ledger:
            if needle and not any(
                needle in str(x).lower() for x in (day(e.at), e.action, e.points, e.reason or "")
            ):
                continue
            table.add_row(
                day(e.at),
                e.program,
                Text(f"{e.points:+,}", style="green" if e.points > 0 else "red"),
                e.action,
                e.reason or "",
                e.reference,
                f"{e.balance_after:,}",
                e.by,
                key=str(e.id),
            )

    def render_notes(self, notes: list[data.NoteRow]) -> None:
        chosen = self.query_one("#n-category", Select).value
        shown = [n for n in notes if not isinstance(chosen, int) or n.category_id == chosen]
        table = self.query_one("#n-table", DataTable)
        table.clear()
        for n in shown:
            first = n.body.strip().splitlines()[0] if n.body.strip() else ""
            marks = ("⚠" if n.is_alert else "") + ("📌" if n.pinned else "")
            table.add_row(
                Text(marks, style="bold red"),
                n.category or "",
                first[:60] + (" (booking)" if n.booking_id else ""),
                n.author,
                when(n.created_at),
                "customer" if n.visibility == "customer" else "staff",
                key=str(n.id),
            )
        table.display = bool(shown)
        self.query_one("#n-empty", Static).display = not shown
        self.show_note_preview()

    def show_note_preview(self) -> None:
        preview = self.query_one("#n-preview", Static)
        note_id = self.highlighted("#n-table")
        note = next(
            (n for n in (self.profile.notes if self.profile else []) if n.id == note_id), None
        )
        preview.update(Markdown(note.body) if note else "")
        preview.display = note is not None

    @on(DataTable.RowHighlighted, "#n-table")
    def note_highlighted(self) -> None:
        self.show_note_preview()

    @on(DataTable.RowSelected, "#n-table")
    def note_selected(self) -> None:
        self.action_notes("edit")  # enter on a note edits it

    @on(Select.Changed, "#n-category")
    def note_category_changed(self) -> None:
        if self.profile:
            self.render_notes(self.profile.notes)

    @on(Input.Changed, "#r-filter")
    def ledger_filter_changed(self) -> None:
        if self.profile:
            self.render_rewards(self.profile)

    def render_timeline(self, items: list[data.TimelineItem]) -> None:
        table = self.query_one("#t-table", DataTable)
        table.clear()
        for i, item in enumerate(items):
            table.add_row(when(item.at), item.kind, item.text, key=str(i))

    def render_details(self, p: data.ProfileData) -> None:
        c = p.customer
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim", min_width=22)
        table.add_column()

        def yes(value: bool) -> str:
            return "yes" if value else "no"

        fields: list[tuple[str, str]] = [
            ("Code", c.code),
            ("First name", c.first_name),
            ("Last name", c.last_name or ""),
            ("Display name", c.display_name or ""),
            ("Email", c.email or ""),
            ("Mobile", format_phone(c.phone)),
            ("Mobile country", c.phone_country or ""),
            ("Other phone", format_phone(c.other_phone)),
            ("Gender", c.gender),
            ("Date of birth", day(c.date_of_birth) if c.date_of_birth else ""),
            ("Anniversary", day(c.anniversary) if c.anniversary else ""),
            ("Address", c.address or ""),
            ("City", c.city or ""),
            ("State", c.state or ""),
            ("Postal code", c.postal_code or ""),
            ("Country", c.country or ""),
            ("Category", p.category),
            ("Tags", ", ".join(p.tags)),
            ("Home branch", p.branch),
            ("Status", c.status),
            ("Blocked", f"yes — {c.blocked_reason}" if c.blocked else "no"),
            ("Appointment reminders", yes(c.consent_reminders)),
            ("Birthday messages", yes(c.consent_birthday)),
            ("Marketing", yes(c.consent_marketing)),
            ("Newsletter", yes(c.consent_newsletter)),
            ("Photo", c.photo_path or ""),
            (
                "Created",
                f"{when(c.created_at)} via {c.created_via}"
                + (f" by {p.created_by}" if p.created_by else ""),
            ),
            ("Updated", f"{when(c.updated_at)} (version {c.version})"),
        ]
        for label, value in fields:
            table.add_row(label, value or "—")
        if p.custom:
            table.add_row("", "")
            table.add_row(Text("Custom fields", style="bold"), "")
            for cv in p.custom:
                table.add_row(cv.label, cv.value or "—")
        self.query_one("#d-fields", Static).update(table)

    # ------------------------------------------------------------------ bookings filter
    @on(Input.Changed, "#b-from")
    @on(Input.Changed, "#b-to")
    @on(Select.Changed, "#b-service")
    def bookings_filter_changed(self) -> None:
        error = self.query_one("#b-error", Label)
        try:
            start = self.parse_day("#b-from")
            end = self.parse_day("#b-to")
        except ValueError:
            error.update("Dates as YYYY-MM-DD")
            return
        error.update("")
        value = self.query_one("#b-service", Select).value
        service = value if isinstance(value, int) else None
        self.load_bookings(start, end, service)

    def parse_day(self, selector: str) -> date | None:
        raw = self.query_one(selector, Input).value.strip()
        return date.fromisoformat(raw) if raw else None

    @work(thread=True, exclusive=True, group="profile-bookings", exit_on_error=False)
    def load_bookings(self, start: date | None, end: date | None, service: int | None) -> None:
        rows = self.fd.read(
            lambda s: data.list_bookings(
                session=s,
                customer_id=self.customer_id,
                date_from=start,
                date_to=end,
                service_id=service,
            )
        )
        self.post_message(self.BookingsLoaded(rows))

    def on_profile_screen_bookings_loaded(self, message: BookingsLoaded) -> None:
        self.render_bookings(message.rows)

    # ------------------------------------------------------------------ actions
    def action_tab(self, name: str) -> None:
        self.query_one("#tabs", TabbedContent).active = name

    def action_back(self) -> None:
        self.dismiss(None)

    def action_refresh(self) -> None:
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        tabs_of = {
            "booking": "bookings",
            "booking_notes": "bookings",
            "booking_note": "bookings",
            "order_action": "orders",
            "rewards": "rewards",
            "notes": "notes",
        }
        if action in tabs_of:
            tab = tabs_of[action]
            try:
                active = self.query_one("#tabs", TabbedContent).active
            except Exception:
                return False
            return active == tab
        return True

    @on(TabbedContent.TabActivated)
    def tab_changed(self) -> None:
        self.refresh_bindings()

    def highlighted(self, table_id: str) -> int | None:
        table = self.query_one(table_id, DataTable)
        if table.row_count == 0 or not table.display:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(key.value) if key.value else None

    def action_booking(self, action: str) -> None:
        from frontdesk.screens.common import ConfirmModal, PromptModal

        booking_id = self.highlighted("#b-table")
        if booking_id is None:
            self.notify("No booking highlighted", severity="warning")
            return
        if action == "cancel":
            self.app.push_screen(
                PromptModal(f"Why is booking #{booking_id} cancelled?", placeholder="Reason"),
                lambda reason: (
                    self.run_booking(booking_id, "cancel", reason=reason) if reason else None
                ),
            )
        elif action == "reschedule":
            self.app.push_screen(
                PromptModal(
                    f"New date and time for booking #{booking_id}", placeholder="YYYY-MM-DD HH:MM"
                ),
                lambda when: (
                    self.run_booking(booking_id, "reschedule", when=when) if when else None
                ),
            )
        elif action == "complete":

            def done(create_order: bool | None) -> None:
                self.run_booking(booking_id, "complete", create_order=bool(create_order))

            self.app.push_screen(
                ConfirmModal("Visit done. Create its order now?", "Create order", "Not now"), done
            )
        else:
            self.run_booking(booking_id, action)

    def run_booking(
        self,
        booking_id: int,
        action: str,
        *,
        reason: str | None = None,
        when: str | None = None,
        create_order: bool = False,
    ) -> None:
        from frontdesk.data import bookings as bk
        from frontdesk.data import orders as od
        from frontdesk.data.errors import DoubleBooked, FrontdeskError
        from frontdesk.screens.booking import local_tz, parse_day, parse_time

        new_start = None
        try:
            if when:
                day_text, _, time_text = when.strip().partition(" ")
                d = parse_day(day_text)
                h, m = parse_time(time_text or "")
                new_start = datetime(d.year, d.month, d.day, h, m, tzinfo=local_tz())

            def work(session: Any) -> None:
                bk.change_status(
                    session=session,
                    booking_id=booking_id,
                    action=action,
                    actor=self.fd.operator,
                    reason=reason,
                    new_start=new_start,
                )
                if create_order:
                    od.order_for_booking(
                        session=session, booking_id=booking_id, actor=self.fd.operator
                    )

            self.fd.write(work)
        except DoubleBooked as exc:
            c = exc.conflict
            hint = (
                f"; free at {exc.suggestion.astimezone(local_tz()):%Y-%m-%d %H:%M}"
                if exc.suggestion
                else ""
            )
            self.notify(
                f"{c.staff} is busy then ({c.service}, {c.customer_name}){hint}",
                severity="error",
                timeout=8,
            )
            return
        except FrontdeskError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(
            f"Booking #{booking_id}: {action.replace('_', '-')} done"
            + (" and order created" if create_order else "")
        )
        self.load()

    def action_order_action(self, action: str) -> None:
        from frontdesk.screens.common import ChoiceModal, PromptModal

        order_id = self.highlighted("#o-table")
        if order_id is None:
            self.notify("No order highlighted", severity="warning")
            return
        if action == "pay":

            def method_chosen(method: str | None) -> None:
                if method:
                    self.app.push_screen(
                        PromptModal(f"Amount paid on order #{order_id}", placeholder="e.g. 45.00"),
                        lambda amount: (
                            self.run_order(order_id, "pay", amount=amount, method=method)
                            if amount
                            else None
                        ),
                    )

            self.app.push_screen(
                ChoiceModal(
                    "Payment method", [("Card", "card"), ("Cash", "cash"), ("Other", "other")]
                ),
                method_chosen,
            )
        elif action == "refund":

            def amount_given(amount: str | None) -> None:
                if amount:
                    self.app.push_screen(
                        PromptModal("Reason for the refund", placeholder="Reason"),
                        lambda reason: (
                            self.run_order(order_id, "refund", amount=amount, reason=reason)
                            if reason
                            else None
                        ),
                    )

            self.app.push_screen(
                PromptModal(f"Refund how much of order #{order_id}?", placeholder="e.g. 10.00"),
                amount_given,
            )
        else:
            self.app.push_screen(
                PromptModal(f"Why is order #{order_id} cancelled?", placeholder="Reason"),
                lambda reason: (
                    self.run_order(order_id, "cancel", reason=reason) if reason else None
                ),
            )

    def run_order(
        self,
        order_id: int,
        action: str,
        *,
        amount: str | None = None,
        method: str = "card",
        reason: str | None = None,
    ) -> None:
        from frontdesk.data import orders as od
        from frontdesk.data.errors import FrontdeskError

        try:
            cents = od.parse_money(amount or "") if action in ("pay", "refund") else 0

            def work(session: Any) -> None:
                if action == "pay":
                    od.take_payment(
                        session=session,
                        order_id=order_id,
                        amount_cents=cents,
                        method=method,
                        actor=self.fd.operator,
                    )
                elif action == "refund":
                    od.refund(
                        session=session,
                        order_id=order_id,
                        amount_cents=cents,
                        reason=reason or "",
                        actor=self.fd.operator,
                    )
                else:
                    od.cancel_order(
                        session=session,
                        order_id=order_id,
                        reason=reason or "",
                        actor=self.fd.operator,
                    )

            self.fd.write(work)
        except FrontdeskError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(
            f"Order #{order_id}: {'payment taken' if action == 'pay' else action + ' done'}"
        )
        self.load()

    # ------------------------------------------------------------------ rewards and notes
    def action_rewards(self, action: str) -> None:
        from frontdesk.data import rewards
        from frontdesk.screens.common import ConfirmModal, PromptModal
        from frontdesk.screens.rewards_notes import (
            EnrolModal,
            EnrolRequest,
            PointsModal,
            PointsRequest,
        )

        p = self.profile
        if p is None:
            return
        live = [(e.program, e.id, e.balance) for e in p.enrolments]
        if action == "enrol":
            programs = self.fd.read(lambda s: rewards.list_programs(session=s, active_only=True))
            options = [(pr.name, pr.id or 0) for pr in programs]

            def enrolled(req: object) -> None:
                if isinstance(req, EnrolRequest):
                    self.write_and_reload(
                        lambda s: rewards.enrol(
                            session=s,
                            customer_id=self.customer_id,
                            program_id=req.program_id,
                            starting_balance=req.starting_balance,
                            expires_on=req.expires_on,
                            notes=req.notes,
                            actor=self.fd.operator,
                        ),
                        "Enrolled",
                    )

            self.app.push_screen(EnrolModal(options), enrolled)
            return
        if not live:
            self.notify("Not enrolled yet — press n to enrol", severity="warning")
            return
        if action in ("add", "redeem"):

            def changed(req: object) -> None:
                if isinstance(req, PointsRequest):
                    self.write_and_reload(
                        lambda s: rewards.change_points(
                            session=s,
                            enrolment_id=req.enrolment_id,
                            points=req.points,
                            reason=req.reason,
                            actor=self.fd.operator,
                        ),
                        "Points added" if req.points > 0 else "Points redeemed",
                    )

            self.app.push_screen(PointsModal(1 if action == "add" else -1, live), changed)
        elif action == "expiry":
            first = live[0][1]

            def new_expiry(text: str | None) -> None:
                if text is None:
                    return
                try:
                    when = date.fromisoformat(text) if text.strip() else None
                except ValueError:
                    self.notify("Use YYYY-MM-DD", severity="error")
                    return
                self.write_and_reload(
                    lambda s: rewards.change_expiry(
                        session=s, enrolment_id=first, expires_on=when, actor=self.fd.operator
                    ),
                    "Expiry changed",
                )

            self.app.push_screen(
                PromptModal(
                    f"New expiry date for {live[0][0]} (empty: never)",
                    placeholder="YYYY-MM-DD",
                    required=False,
                ),
                new_expiry,
            )
        elif action == "remove":
            first = live[0][1]

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self.write_and_reload(
                        lambda s: rewards.remove_enrolment(
                            session=s, enrolment_id=first, actor=self.fd.operator
                        ),
                        "Enrolment removed (its history stays)",
                    )

            self.app.push_screen(
                ConfirmModal(
                    f"Remove the enrolment in {live[0][0]}? Its ledger stays in the history.",
                    "Remove",
                ),
                confirmed,
            )

    def write_and_reload(self, work: Any, done: str) -> None:
        from frontdesk.data.errors import FrontdeskError

        try:
            self.fd.write(work)
        except FrontdeskError as exc:
            self.notify(str(exc), severity="error", timeout=6)
            return
        self.notify(done)
        self.load()

    def action_notes(self, action: str) -> None:
        from frontdesk.data import notes
        from frontdesk.screens.common import ConfirmModal
        from frontdesk.screens.rewards_notes import NoteModal, NoteRequest

        p = self.profile
        if p is None:
            return
        note_id = self.highlighted("#n-table")

        def saving(write: Any, done: str) -> Any:
            """A NoteModal callback: write the request with ``write(session, values)``."""

            def save(req: object) -> None:
                if isinstance(req, NoteRequest):
                    values = req.values()
                    self.write_and_reload(lambda s: write(s, values), done)

            return save

        if action == "add":
            added = saving(
                lambda s, v: notes.add_note(
                    session=s, customer_id=self.customer_id, **v, actor=self.fd.operator
                ),
                "Note added",
            )
            self.app.push_screen(NoteModal(p.note_categories), added)
            return
        note = next((n for n in p.notes if n.id == note_id), None)
        if note is None:
            self.notify("No note highlighted", severity="warning")
            return
        if action == "edit":
            edited = saving(
                lambda s, v: notes.update_note(
                    session=s, note_id=note.id, **v, actor=self.fd.operator
                ),
                "Note saved",
            )

            initial = NoteRequest(
                note.body, note.category_id, note.visibility, note.pinned, note.is_alert
            )
            self.app.push_screen(
                NoteModal(p.note_categories, title="Edit note", initial=initial), edited
            )
        elif action == "delete":

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self.write_and_reload(
                        lambda s: notes.delete_note(
                            session=s, note_id=note.id, actor=self.fd.operator
                        ),
                        "Note deleted",
                    )

            self.app.push_screen(ConfirmModal("Delete this note?", "Delete", "Keep"), confirmed)
        elif action in ("up", "down"):
            self.fd.write(
                lambda s: notes.move_note(
                    session=s, note_id=note.id, direction=-1 if action == "up" else 1
                )
            )
            self._keep_note = note.id
            self.load()

    def action_booking_note(self) -> None:
        from frontdesk.data import notes
        from frontdesk.screens.rewards_notes import NoteModal, NoteRequest

        booking_id = self.highlighted("#b-table")
        if booking_id is None or self.profile is None:
            self.notify("No booking highlighted", severity="warning")
            return

        def added(req: object) -> None:
            if isinstance(req, NoteRequest):
                self.write_and_reload(
                    lambda s: notes.add_note(
                        session=s,
                        booking_id=booking_id,
                        **req.values(),
                        actor=self.fd.operator,
                    ),
                    f"Note added to booking #{booking_id}",
                )

        self.app.push_screen(
            NoteModal(self.profile.note_categories, title=f"Note on booking #{booking_id}"), added
        )

    def action_booking_notes(self) -> None:
        from frontdesk.data import notes
        from frontdesk.screens.common import InfoModal

        booking_id = self.highlighted("#b-table")
        if booking_id is None:
            self.notify("No booking highlighted", severity="warning")
            return
        found = self.fd.read(
            lambda s: [n.body for n in notes.booking_notes(session=s, booking_id=booking_id)]
        )
        body = (
            "\n\n---\n\n".join(found)
            if found
            else "_No notes on this booking yet — press n to add one._"
        )
        self.app.push_screen(InfoModal(f"Notes of booking #{booking_id}", body))

    def action_book(self) -> None:
        self.fd.new_booking(self.customer_id)

    def action_follow_up(self) -> None:
        self.fd.new_booking(self.customer_id, follow_up=True)

    def action_order(self) -> None:
        self.fd.new_order(self.customer_id)

    def action_edit(self) -> None:
        from frontdesk.screens.customer_form import CustomerFormScreen

        def saved(customer_id: int | None) -> None:
            if customer_id is not None:
                self.notify("Customer saved")
                self.load()

        self.app.push_screen(CustomerFormScreen(customer_id=self.customer_id), callback=saved)

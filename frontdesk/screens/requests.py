"""Requests: booking requests that came from outside (online booking page, assistant, scripts).

Those waiting for the desk come first (review, then pending, earliest start first), then the
latest decided ones. On the highlighted request: ``a`` accept (the held booking is
confirmed), ``d`` decline with a reason (the held booking is cancelled), and for one waiting
for review ``l`` link it to an existing customer (the customer picker) or ``c`` create a new
customer for it. Opened with ``Q`` from anywhere, ``R`` on the day sheet, or the palette.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Label, Static

from frontdesk.data import booking_requests as br
from frontdesk.data.settings import get_setting
from frontdesk.screens.common import ConfirmModal, PromptModal
from frontdesk.screens.picker_screen import PickerScreen
from frontdesk.text import user_text
from frontdesk.widgets.base import FrontdeskScreen
from frontdesk.widgets.customer_picker import CustomerPicker
from frontdesk.widgets.footer import KeyFooter

COLUMNS = (
    ("Status", 9),
    ("Start", 16),
    ("Service · staff", 20),
    ("Sent as", 30),
    ("Customer", 22),
    ("From", 10),
)
STATUS_STYLE = {
    "review": "bold yellow",
    "pending": "bold cyan",
    "accepted": "green",
    "booked": "green",
    "declined": "dim",
}


def _contact(view: br.RequestView) -> str:
    return " · ".join(p for p in (view.name, view.phone, view.email) if p)


class RequestsScreen(FrontdeskScreen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("a", "accept", "Accept"),
        Binding("d", "decline", "Decline"),
        Binding("l", "link", "Link customer"),
        Binding("c", "create", "New customer"),
        Binding("ctrl+r", "reload", "Reload", show=False),
    ]
    AUTO_FOCUS = "#rq-table"

    def __init__(self) -> None:
        super().__init__()
        self.views: dict[str, br.RequestView] = {}
        self.auto_confirm = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="rq-count")
        yield DataTable(id="rq-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="rq-detail")
        yield Label("", id="rq-message", classes="field-msg")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Booking requests"
        table = self.query_one("#rq-table", DataTable)
        for label, width in COLUMNS:
            table.add_column(label, key=label, width=width)
        self.hold_keys()
        self.load(then=lambda: self.call_after_refresh(self.release_keys))

    def refresh_data(self) -> None:
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("accept", "decline", "link", "create") and not self.fd.may("book"):
            return False
        view = self.current()
        if view is None:
            return True
        if action == "accept":
            return True if view.status == "pending" else None
        if action == "decline":
            return True if view.open else None
        if action in ("link", "create"):
            return True if view.status == "review" else None
        return True

    # ------------------------------------------------------------------ loading
    def load(self, then: Any = None) -> None:
        viewer = self.fd.operator

        def work(session: Any) -> tuple[list[br.RequestView], bool]:
            views = br.list_requests(session=session, actor=viewer)
            return views, bool(get_setting(session=session, key="auto_confirm_requests"))

        def shown(result: tuple[list[br.RequestView], bool]) -> None:
            self.show(*result)
            if then is not None:
                then()

        def failed(exc: Exception) -> None:
            self.fd.show_error(exc)
            if then is not None:
                then()

        self.run_read(work, then=shown, on_error=failed, group="requests")

    def show(self, views: list[br.RequestView], auto_confirm: bool) -> None:
        table = self.query_one("#rq-table", DataTable)
        row = table.cursor_row
        table.clear()
        self.views = {}
        for v in views:
            key = str(v.id)
            self.views[key] = v
            staff = f" · {v.staff}" if v.staff else ""
            table.add_row(
                Text(v.shown_status, style=STATUS_STYLE.get(v.status, "")),
                Text(v.start_at.astimezone().strftime("%Y-%m-%d %H:%M")),
                user_text(f"{v.service}{staff}"),
                user_text(_contact(v)),
                self._customer(v),
                user_text(
                    v.channel + (f" · {v.source}" if v.source not in (None, v.channel) else "")
                ),
                key=key,
            )
        if views:
            # The same line stays highlighted (a decided request moves down, the next one
            # comes up under the cursor).
            table.move_cursor(row=max(0, min(row, len(views) - 1)))
        review = sum(1 for v in views if v.status == "review")
        pending = sum(1 for v in views if v.status == "pending")
        mode = "on" if auto_confirm else "off"
        self.query_one("#rq-count", Static).update(
            f"{review} waiting for review · {pending} pending · "
            f"automatic confirmation {mode} (setting auto_confirm_requests)"
            if views
            else "No booking requests yet."
        )
        self.show_detail()
        self.refresh_bindings()

    @staticmethod
    def _customer(view: br.RequestView) -> Text:
        if view.status == "review":
            # The customer the phone or email matched, not yet linked: a question.
            return user_text(f"? {view.customer}" if view.customer else "? (none)")
        return user_text(view.customer or "")

    def current(self) -> br.RequestView | None:
        if not self.is_mounted:
            return None
        table = self.query_one("#rq-table", DataTable)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:
            return None
        return self.views.get(key or "")

    @on(DataTable.RowHighlighted, "#rq-table")
    def highlighted(self) -> None:
        self.show_detail()
        self.refresh_bindings()

    def show_detail(self) -> None:
        view = self.current()
        detail = self.query_one("#rq-detail", Static)
        if view is None:
            detail.update("")
            return
        lines = [f"#{view.id} {view.shown_status}"]
        if view.reason:
            label = "Why it waits" if view.status == "review" else "Reason"
            lines[0] += f" — {label}: {view.reason}"
        if view.customer_created and view.customer:
            lines.append(f"New customer {view.customer} (created via online booking)")
        if view.status == "review":
            lines.append("l: link to an existing customer · c: create a new customer · d: decline")
        elif view.status == "pending":
            lines.append("a: accept (confirms the held booking) · d: decline with a reason")
        detail.update(user_text("\n".join(lines), multiline=True))

    def say(self, message: str | None) -> None:
        self.query_one("#rq-message", Label).update(user_text(message or ""))

    # ------------------------------------------------------------------ actions
    def _done(self, message: str) -> Any:
        def then(view: br.RequestView) -> None:
            self.say(message.format(view=view))
            self.load()

        return then

    def _refused(self, exc: Exception) -> None:
        self.say(str(exc))
        self.load()

    def action_accept(self) -> None:
        view = self.current()
        if view is None or view.status != "pending":
            return
        actor, request_id = self.fd.operator, view.id
        self.run_write(
            lambda s: br.accept_request(session=s, request_id=request_id, actor=actor),
            then=self._done("Accepted: {view.customer} is booked."),
            on_error=self._refused,
        )

    def action_decline(self) -> None:
        view = self.current()
        if view is None or not view.open:
            return
        actor, request_id = self.fd.operator, view.id

        def save(reason: str) -> Any:
            return lambda s: br.decline_request(
                session=s, request_id=request_id, reason=reason, actor=actor
            )

        def closed(result: Any) -> None:
            if result is not None:
                self.say(f"Declined #{result.id}.")
                self.load()

        self.app.push_screen(
            PromptModal(
                Text(f"Decline request #{request_id} from {_contact(view)}: why?"),
                placeholder="the reason (kept with the request)",
                save=save,
            ),
            closed,
        )

    def action_link(self) -> None:
        view = self.current()
        if view is None or view.status != "review":
            return
        actor, request_id = self.fd.operator, view.id

        def chosen(result: tuple[int, int] | None) -> None:
            if result is None:
                return
            self.run_write(
                lambda s: br.resolve_review(
                    session=s, request_id=request_id, actor=actor, customer_id=result[1]
                ),
                then=self._done("Linked to {view.customer} and booked."),
                on_error=self._refused,
            )

        self.app.push_screen(LinkCustomerScreen(view), chosen)

    def action_create(self) -> None:
        view = self.current()
        if view is None or view.status != "review":
            return
        actor, request_id = self.fd.operator, view.id

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            self.run_write(
                lambda s: br.resolve_review(session=s, request_id=request_id, actor=actor),
                then=self._done("New customer {view.customer} made and booked."),
                on_error=self._refused,
            )

        self.app.push_screen(
            ConfirmModal(
                Text(f"Make a new customer for {_contact(view)} and book them?"),
                yes="Create",
                no="Back",
            ),
            answered,
        )

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)


class LinkCustomerScreen(PickerScreen):
    """Choose the existing customer a request is for (the customer picker: name, phone,
    email or code). Dismisses with (request id, customer id)."""

    BINDINGS = [Binding("escape", "cancel", "Back")]
    AUTO_FOCUS = "#picker-input"

    def __init__(self, view: br.RequestView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            user_text(
                f"Request #{self.view.id}: {_contact(self.view)} — {self.view.service}, "
                f"{self.view.start_at.astimezone():%Y-%m-%d %H:%M}"
            ),
            id="lk-request",
        )
        if self.view.reason:
            yield Static(user_text(f"Why it waits: {self.view.reason}"), id="lk-reason")
        yield CustomerPicker(for_booking=True, id="picker")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Link the request to a customer"

    @on(CustomerPicker.Picked)
    def picked(self, event: CustomerPicker.Picked) -> None:
        event.stop()
        if event.customer is not None and not event.prefilled:
            self.dismiss((self.view.id, event.customer.match.id))

    def action_cancel(self) -> None:
        self.dismiss(None)

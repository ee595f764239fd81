"""The outbox (``O``, or "Outbox" in the palette): every message, newest first.

Queued, sending, sent, failed and skipped messages, filtered by status and by customer code;
``enter`` shows the text that was sent, ``r`` queues a failed one again, ``s`` sends the queue
now in a worker (the desk never waits on a mail server). Pages of 200 come in as the cursor
nears the end, like the audit log; a live refresh re-reads as many rows as were loaded (and
down to the highlighted message) and keeps that message highlighted, or the same place when
it no longer matches the filters.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Header, Input, Label, Static

from frontdesk.data.errors import ValidationFailed
from frontdesk.data.message_views import (
    CHANNEL_LABEL,
    PAGE,
    STATUSES,
    MessageView,
    OutboxPage,
    OutboxRow,
    load_message,
    load_outbox_page,
)
from frontdesk.data.messaging import outbox as box
from frontdesk.screens.common import set_message
from frontdesk.screens.fmt import when
from frontdesk.text import join, user_text
from frontdesk.widgets.base import FrontdeskModal, FrontdeskScreen
from frontdesk.widgets.footer import KeyFooter
from frontdesk.widgets.select import InstantSelect, Select

COLUMNS = (
    ("When", "when", 16),
    ("Status", "status", 8),
    ("Via", "channel", 8),
    ("Purpose", "purpose", 13),
    ("Customer", "customer", 26),
    ("Subject", "subject", 0),
)
AHEAD = 40
STATUS_STYLE = {
    "queued": "yellow",
    "sending": "cyan",
    "sent": "green",
    "failed": "bold red",
    "skipped": "dim",
}


def status_cell(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))


def send_summary(report: box.SendReport) -> str:
    parts = [f"{report.sent:,} sent"]
    if report.failed:
        parts.append(f"{report.failed:,} failed")
    if report.skipped:
        parts.append(f"{report.skipped:,} skipped")
    if report.interrupted:
        parts.append(f"{report.interrupted:,} interrupted earlier (check and retry)")
    waiting = sum(report.waiting.values())
    if waiting:
        channels = ", ".join(CHANNEL_LABEL.get(c, c) for c in sorted(report.waiting))
        parts.append(f"{waiting:,} waiting ({channels} not set up in settings)")
    return ", ".join(parts)


class MessageModal(FrontdeskModal[None]):
    """One message as sent: who, how, status, then subject and body as plain text."""

    AUTO_FOCUS = "#msg-body"
    CSS = """
    MessageModal #msg-dialog { width: 90; }
    MessageModal #msg-meta { color: $text-muted; margin-bottom: 1; }
    MessageModal #msg-body {
        height: auto;
        max-height: 20;
        margin-top: 1;
        border: round $primary 50%;
        padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,enter", "close", "Close")]

    def __init__(self, view: MessageView) -> None:
        super().__init__(classes="dialog-screen")
        self.view = view

    def compose(self) -> ComposeResult:
        row = self.view.row
        head = Text(f"Message #{row.id} · {CHANNEL_LABEL.get(row.channel, row.channel)} · ")
        head.append_text(status_cell(row.status))
        meta = join(Text("To"), user_text(row.to), Text("·"), user_text(row.customer))
        meta.append(f"\n{row.purpose} · queued {when(row.created_at)}")
        if row.sent_at:
            meta.append(f" · sent {when(row.sent_at)}")
        meta.append(f" · attempts {row.attempts}")
        with Vertical(classes="dialog", id="msg-dialog"):
            yield Label(head, classes="dialog-title")
            yield Static(meta, id="msg-meta")
            if row.error:
                yield Static(user_text(row.error, "red", multiline=True), id="msg-error")
            if self.view.subject:
                yield Static(join(Text("Subject:", style="bold"), user_text(self.view.subject)))
            with VerticalScroll(id="msg-body"):
                yield Static(user_text(self.view.text, multiline=True), id="msg-text")

    def action_close(self) -> None:
        self.dismiss(None)


class OutboxScreen(FrontdeskScreen[None]):
    """Every message; ``customer_code`` starts the list filtered to one customer."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "view", "Read"),
        Binding("r", "retry", "Retry failed"),
        Binding("s", "send_now", "Send now"),
        Binding("ctrl+r", "apply", "Refresh"),
        Binding("slash", "focus_filter", "Filter", show=False),
    ]
    AUTO_FOCUS = "#ob-table"
    DEFAULT_CSS = """
    OutboxScreen #ob-filters { height: auto; }
    OutboxScreen #ob-filters > Select, OutboxScreen #ob-filters > Input { width: 1fr; }
    OutboxScreen #ob-count, OutboxScreen #ob-problem, OutboxScreen #ob-progress {
        padding: 0 1;
    }
    OutboxScreen #ob-progress { background: $boost; }
    OutboxScreen #ob-table { height: 1fr; }
    OutboxScreen #ob-detail {
        height: auto;
        max-height: 5;
        padding: 0 1;
        background: $boost;
    }
    """

    def __init__(self, customer_code: str | None = None) -> None:
        super().__init__()
        self.customer_code = customer_code or ""
        self.where: tuple[str | None, str] = (None, self.customer_code)
        self.next_before: int | None = None
        self.loading_more = False
        self.rows: dict[str, OutboxRow] = {}
        self.shown = 0
        self.sending = False
        self.counts: dict[str, int] = {}
        # Bumped by every (re)load: a page read for an older list is dropped.
        self.generation = 0
        # A load of filters the receptionist applied is being read: a live refresh waits for
        # it (it would supersede it, and its answer: an unknown code's message), then runs.
        self.applying = False
        self.refresh_after = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="ob-filters"):
            yield InstantSelect[str](
                [(s, s) for s in STATUSES], prompt="Any status", id="ob-status"
            )
            yield Input(
                value=self.customer_code,
                placeholder="customer code (enter applies)",
                id="ob-customer",
            )
        yield Label("", id="ob-problem", classes="field-msg error")
        yield Static("", id="ob-count")
        yield Static("", id="ob-progress")
        yield DataTable(id="ob-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="ob-detail")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Outbox"
        table = self.query_one("#ob-table", DataTable)
        fixed = sum(w for _, _, w in COLUMNS)
        rest = max(20, self.app.size.width - fixed - 2 * len(COLUMNS) - 2)
        for label, key, width in COLUMNS:
            table.add_column(label, key=key, width=width or rest)
        set_message(self.query_one("#ob-problem", Label), None)
        self.query_one("#ob-progress", Static).display = False
        self.action_apply()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("retry", "send_now"):
            return self.fd.may("messages.send")
        return True

    # ------------------------------------------------------------------ filters
    @on(Select.Changed, "#ob-status")
    def status_changed(self) -> None:
        self.action_apply()

    @on(Input.Submitted, "#ob-customer")
    def customer_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_apply()
        self.set_focus(self.query_one("#ob-table", DataTable))

    def action_focus_filter(self) -> None:
        self.set_focus(self.query_one("#ob-customer", Input))

    def _status(self) -> str | None:
        value = self.query_one("#ob-status", Select).value
        return None if value is Select.NULL else str(value)

    def action_apply(self, keep: str | None = None, hold: bool = True) -> None:
        """Read the filters (an unknown code is shown under them) and load the first page;
        keys typed meanwhile wait for it (``hold``), except on a live refresh."""
        status = self._status()
        customer = self.query_one("#ob-customer", Input).value
        self.load(status, customer, keep=keep, hold=hold)

    def load(
        self,
        status: str | None,
        customer: str,
        *,
        keep: str | None = None,
        hold: bool = True,
        in_place: bool = False,
    ) -> None:
        """Load the list afresh. ``in_place`` (a refresh): as many rows as are loaded now and
        down to the highlighted message, which stays highlighted (``keep`` is then the key
        highlighted when the rows arrive); if it is gone, the cursor keeps its index."""
        problem = self.query_one("#ob-problem", Label)
        self.generation += 1
        generation = self.generation
        limit, through = PAGE, None
        if in_place:
            limit = max(PAGE, self.shown)
            current = self.highlighted_key()
            through = int(current) if current else None
        if hold:
            self.hold_keys()
        if not in_place:
            self.applying = True

        def settled() -> None:
            if in_place:
                return
            self.applying = False
            if self.refresh_after:
                self.refresh_after = False
                self.call_after_refresh(self.refresh_data)

        def failed(exc: Exception) -> None:
            if generation != self.generation:
                return
            settled()
            self.release_keys()
            if isinstance(exc, ValidationFailed):
                set_message(problem, exc.message)
                return
            self.fd.show_error(exc)

        def shown(page: OutboxPage) -> None:
            if generation != self.generation:
                return  # a newer load is on its way
            settled()
            if not in_place:  # a refresh re-reads the filters last shown: the message stays
                set_message(problem, None)
            self.where = (status, customer)
            table = self.query_one("#ob-table", DataTable)
            wanted, index = keep, table.cursor_row
            if in_place:
                wanted = self.highlighted_key()
            table.clear()
            self.rows = {}
            self.shown = 0
            self.counts = page.counts
            self.add_page(page)
            if wanted is not None and wanted in self.rows:
                table.move_cursor(row=table.get_row_index(wanted))
            elif in_place and table.row_count:
                table.move_cursor(row=min(index, table.row_count - 1))
            self.call_after_refresh(self.release_keys)

        self.run_read(
            lambda s: load_outbox_page(
                session=s, status=status, customer=customer, limit=limit, through_id=through
            ),
            then=shown,
            on_error=failed,
            group="outbox-page",
        )

    def refresh_data(self) -> None:
        """Another desk (or the sender) changed something: re-read, keep the highlighted row."""
        if self.applying:
            self.refresh_after = True
            return
        status, customer = self.where
        self.load(status, customer, hold=False, in_place=True)

    # ------------------------------------------------------------------ paging
    def add_page(self, page: OutboxPage) -> None:
        table = self.query_one("#ob-table", DataTable)
        for row in page.rows:
            key = str(row.id)
            table.add_row(
                Text(when(row.created_at)),
                status_cell(row.status),
                Text(CHANNEL_LABEL.get(row.channel, row.channel)),
                Text(row.purpose),
                user_text(row.customer),
                user_text(row.subject) if row.subject else Text("—", style="dim"),
                key=key,
            )
            self.rows[key] = row
        self.shown += len(page.rows)
        self.next_before = page.next_before
        self.loading_more = False
        self.update_count()
        self.show_detail()

    def update_count(self) -> None:
        counts = " · ".join(f"{s} {self.counts.get(s, 0):,}" for s in STATUSES)
        more = " · more below" if self.next_before is not None else ""
        if self.shown == 0:
            text = "No messages match these filters."
        else:
            text = f"Newest first · {self.shown:,} shown{more}"
        self.query_one("#ob-count", Static).update(Text(f"{text}    (all: {counts})"))

    def highlighted_key(self) -> str | None:
        table = self.query_one("#ob-table", DataTable)
        if table.row_count == 0:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return key.value

    def highlighted(self) -> OutboxRow | None:
        return self.rows.get(self.highlighted_key() or "")

    def show_detail(self) -> None:
        row = self.highlighted()
        detail = self.query_one("#ob-detail", Static)
        if row is None:
            detail.update("")
            return
        line = join(Text("To"), user_text(row.to), Text(f"· attempts {row.attempts}"))
        if row.sent_at:
            line.append(f" · sent {when(row.sent_at)}")
        elif row.next_attempt_at and row.status in ("queued", "failed"):
            line.append(f" · next try {when(row.next_attempt_at)}")
        if row.error:
            line.append("\n")
            line.append_text(user_text(row.error, "red"))
            if row.retryable and self.fd.may("messages.send"):
                line.append("  (r retries)", style="dim")
        detail.update(line)

    @on(DataTable.RowHighlighted, "#ob-table")
    def near_the_end(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()
        if self.next_before is None or self.loading_more:
            return
        if event.cursor_row < self.shown - AHEAD:
            return
        self.loading_more = True
        (status, customer), before = self.where, self.next_before
        generation = self.generation

        def more(page: OutboxPage) -> None:
            if generation == self.generation:  # else the list was re-read meanwhile
                self.add_page(page)

        self.run_read(
            lambda s: load_outbox_page(
                session=s, status=status, customer=customer, before_id=before
            ),
            then=more,
            group="outbox-more",
        )

    @on(DataTable.RowSelected, "#ob-table")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_view()

    # ------------------------------------------------------------------ actions
    def action_view(self) -> None:
        row = self.highlighted()
        if row is None:
            return
        message_id = row.id
        self.hold_keys()

        def opened(view: MessageView) -> None:
            self.app.push_screen(MessageModal(view))
            self.release_keys()

        def failed(exc: Exception) -> None:
            self.release_keys()
            self.fd.show_error(exc)

        self.run_read(
            lambda s: load_message(session=s, message_id=message_id),
            then=opened,
            on_error=failed,
            group="outbox-message",
        )

    def action_retry(self) -> None:
        if self.fd.refuse("messages.send"):
            return
        row = self.highlighted()
        if row is None:
            return
        if not row.retryable:
            self.notify(f"Message #{row.id} is {row.status}: only a failed one is retried")
            return
        actor, message_id = self.fd.operator, row.id

        def done(_: object) -> None:
            self.notify(f"Message #{message_id} queued again (s sends now)")
            self.refresh_data()

        self.run_write(
            lambda s: box.retry(session=s, message_id=message_id, actor=actor),
            then=done,
            on_error=lambda exc: self.notify(str(exc), severity="error", markup=False),
        )

    def action_send_now(self) -> None:
        """Send what is due in a worker, with progress; the screen stays usable."""
        if self.fd.refuse("messages.send"):
            return
        if self.sending:
            self.notify("Already sending")
            return
        self.sending = True
        engine, app = self.fd.engine, self.app
        progress = self.query_one("#ob-progress", Static)
        progress.display = True
        progress.update(Text("Sending…", style="bold"))

        def report(r: box.SendReport) -> None:
            app.call_from_thread(progress.update, Text(f"Sending… {send_summary(r)}", style="bold"))

        def stop() -> bool:
            return not self.is_attached

        def done(r: box.SendReport) -> None:
            self.sending = False
            progress.update(Text(f"Sent the queue: {send_summary(r)}"))
            for error in r.errors[:3]:
                self.notify(error, severity="warning", markup=False, timeout=10)
            self.refresh_data()

        def failed(exc: Exception) -> None:
            self.sending = False
            progress.update(Text(f"Sending stopped: {exc}", style="red"))

        self.run_task(
            lambda: box.send_queue(engine, progress=report, should_stop=stop),
            then=done,
            on_error=failed,
            group="outbox-send",
        )

    def action_back(self) -> None:
        self.dismiss(None)

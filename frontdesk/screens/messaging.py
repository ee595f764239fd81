"""Dialogs for talking to customers (issue 15).

- :class:`ComposeModal` (``M`` in a profile): an email or SMS to this customer, from a template
  or free text, with a preview (``draft_direct``) before it is queued (``send_direct``); why
  the channel cannot be used (no consent, blocked, no address) shows next to the fields.
- :class:`ConsentModal` (``C`` in a profile): the four consents, switched with ``enter``
  (``set_consent``, source "desk"), the preferred channel (``set_preferred_channel``; a
  refusal shows next to it), and the consents' history.
- :class:`NewsletterModal` (``N`` in the directory): subject and body for the directory's
  current search and filters, with the audience counted before anything is queued.
- :class:`TemplateModal` (settings, Templates tab): name, channel, subject and body; a
  placeholder that cannot be filled is refused under its field by ``save_template``.

Every service runs off the UI thread; every stored text is shown literally.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Input, Label, Static, TextArea

from frontdesk.data import customers as svc
from frontdesk.data.errors import BlockedCustomer, FrontdeskError, ValidationFailed
from frontdesk.data.message_views import (
    CHANNEL_LABEL,
    ComposeInfo,
    ConsentInfo,
    load_compose_info,
    load_consent_info,
)
from frontdesk.data.messaging import consent as consent_rules
from frontdesk.data.messaging import newsletters as letters
from frontdesk.data.messaging import outbox as box
from frontdesk.data.messaging import templates as tpl
from frontdesk.data.models import Channel, MessageTemplate, OutboxMessage
from frontdesk.screens.common import ConfirmModal, set_message
from frontdesk.screens.fmt import when
from frontdesk.text import join, plain, user_text
from frontdesk.widgets.base import FrontdeskModal
from frontdesk.widgets.select import Select

CHANNELS = [(CHANNEL_LABEL[c.value], c.value) for c in Channel]
PURPOSES = [("Message", "transactional"), ("Marketing", "marketing")]
PLACEHOLDER_HELP = "Placeholders: " + " ".join("{" + k + "}" for k in tpl.PLACEHOLDERS)
CONSENT_LABEL = {
    "reminders": "Appointment reminders",
    "birthday": "Birthday messages",
    "marketing": "Marketing",
    "newsletter": "Newsletter",
}


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationFailed):
        return exc.message
    return str(exc) if isinstance(exc, FrontdeskError) else f"Not done: {exc}"


# --------------------------------------------------------------------------- compose


class ComposeModal(FrontdeskModal[int | None]):
    """Write to one customer: ``ctrl+r`` previews, ``ctrl+s`` previews and then sends.

    Returns the id of the queued message (the outbox sends it; ``s`` in the outbox, the app's
    background sender or ``frontdesk notify``), or None."""

    AUTO_FOCUS = "#cm-subject"
    BINDINGS = [
        Binding("ctrl+s", "send", "Preview / send", priority=True),
        Binding("ctrl+r", "preview", "Preview", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]
    CSS = """
    ComposeModal #cm-dialog { width: 100; max-height: 95%; overflow-y: auto; }
    ComposeModal .cm-row { height: auto; }
    ComposeModal .cm-row > Select { width: 1fr; }
    ComposeModal #cm-body { height: 6; }
    ComposeModal #cm-preview {
        height: auto;
        max-height: 10;
        border: round $primary 50%;
        padding: 0 1;
    }
    ComposeModal #cm-help { color: $text-muted; width: 100%; }
    """

    def __init__(self, customer_id: int, channel: str | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.customer_id = customer_id
        self.info: ComposeInfo | None = None
        self.initial_channel = channel
        # One key per open dialog: a double ctrl+s queues one message.
        self.key = f"desk:{uuid.uuid4().hex}"
        self.previewed: tuple[Any, ...] | None = None
        self.busy = False
        self.templates: dict[str, MessageTemplate] = {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="cm-dialog"):
            yield Label("Write to …", classes="dialog-title", id="cm-title")
            with Horizontal(classes="cm-row"):
                yield Select[str](CHANNELS, id="cm-channel", allow_blank=False, value="email")
                yield Select[str](
                    PURPOSES, id="cm-purpose", allow_blank=False, value="transactional"
                )
                yield Select[str]([], id="cm-template", prompt="Free text")
            yield Label("", id="cm-to-msg", classes="field-msg")
            yield Label("Subject (email)")
            yield Input(id="cm-subject")
            yield Label("", id="cm-subject-msg", classes="field-msg error")
            yield Label("Body (Markdown for email)")
            yield TextArea(id="cm-body")
            yield Label("", id="cm-body-msg", classes="field-msg error")
            yield Label(PLACEHOLDER_HELP, id="cm-help")
            yield Label("Preview  ·  ctrl+r previews, ctrl+s sends after a preview", id="cm-ph")
            with VerticalScroll(id="cm-preview"):
                yield Static(Text("(no preview yet)", style="dim"), id="cm-preview-text")
            yield Label("", id="cm-error", classes="field-msg error")

    def on_mount(self) -> None:
        for label in self.query(".field-msg").results(Label):
            set_message(label, None)
        self.hold_keys()
        customer_id = self.customer_id

        def failed(exc: Exception) -> None:
            self.release_keys()
            self.show_error(exc)

        self.run_read(
            lambda s: load_compose_info(session=s, customer_id=customer_id),
            then=self.loaded,
            on_error=failed,
            group="compose-info",
        )

    def loaded(self, info: ComposeInfo) -> None:
        self.info = info
        title = Text("Write to ")
        title.append_text(user_text(info.label, "bold"))
        title.append(f" · {info.code}  ·  escape cancels")
        self.query_one("#cm-title", Label).update(title)
        self.templates = {t.name: t for t in info.templates}
        self.query_one("#cm-template", Select).set_options(
            (join(user_text(t.name), Text(f"({t.channel})", style="dim")), t.name)
            for t in info.templates
        )
        channel = self.initial_channel or info.preferred or "email"
        if channel != "email":
            self.query_one("#cm-channel", Select).value = channel
        self.show_refusal()
        self.call_after_refresh(self.release_keys)

    # ------------------------------------------------------------------ fields
    def channel(self) -> str:
        return str(self.query_one("#cm-channel", Select).value)

    def purpose(self) -> str:
        return str(self.query_one("#cm-purpose", Select).value)

    def template_name(self) -> str | None:
        value = self.query_one("#cm-template", Select).value
        return None if value is Select.NULL else str(value)

    def fields(self) -> tuple[str, str, str, str, str | None]:
        subject = self.query_one("#cm-subject", Input).value
        body = self.query_one("#cm-body", TextArea).text
        name = self.template_name()
        template = self.templates.get(name or "")
        # The template is named on the message only while its text is sent as written.
        if template is None or body.strip() != template.body.strip():
            name = None
        return self.channel(), self.purpose(), subject, body, name

    def show_refusal(self) -> None:
        """Why this channel cannot reach the customer (for this purpose), next to the fields."""
        info = self.info
        label = self.query_one("#cm-to-msg", Label)
        if info is None:
            return
        channel = self.channel()
        refusals = info.marketing_refusals if self.purpose() == "marketing" else info.refusals
        reason = refusals.get(channel)
        address = info.email if channel == "email" else info.phone
        if reason:
            label.add_class("error")
            set_message(label, f"Cannot send: {reason}")
        else:
            label.remove_class("error")
            text = f"To {address}"
            if not info.ready.get(channel):
                text += f" · {CHANNEL_LABEL[channel]} is not set up yet: it waits in the outbox"
            set_message(label, text)

    @on(Select.Changed, "#cm-channel")
    @on(Select.Changed, "#cm-purpose")
    def channel_changed(self) -> None:
        self.changed()
        self.show_refusal()

    @on(Select.Changed, "#cm-template")
    def template_chosen(self) -> None:
        template = self.templates.get(self.template_name() or "")
        self.changed()
        if template is None:
            return
        self.query_one("#cm-subject", Input).value = plain(template.subject or "")
        self.query_one("#cm-body", TextArea).load_text(plain(template.body, multiline=True))
        if template.channel != self.channel():
            self.query_one("#cm-channel", Select).value = template.channel

    @on(Input.Changed, "#cm-subject")
    @on(TextArea.Changed, "#cm-body")
    def changed(self) -> None:
        self.previewed = None
        for selector in ("#cm-subject-msg", "#cm-body-msg", "#cm-error"):
            set_message(self.query_one(selector, Label), None)

    @on(Input.Submitted, "#cm-subject")
    def subject_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.set_focus(self.query_one("#cm-body", TextArea))

    # ------------------------------------------------------------------ preview and send
    def action_preview(self, then_send: bool = False) -> None:
        if self.busy or self.info is None:
            return
        fields = self.fields()
        channel, purpose, subject, body, name = fields
        customer_id = self.customer_id
        self.busy = True
        self.hold_keys()

        def shown(draft: box.Draft) -> None:
            self.busy = False
            self.release_keys()
            self.previewed = fields
            text = Text()
            text.append(f"{CHANNEL_LABEL[draft.channel]} to ", style="dim")
            text.append_text(user_text(draft.to))
            if draft.subject:
                text.append("\nSubject: ", style="bold")
                text.append_text(user_text(draft.subject))
            text.append("\n\n")
            text.append_text(user_text(draft.text, multiline=True))
            self.query_one("#cm-preview-text", Static).update(text)
            set_message(self.query_one("#cm-error", Label), Text("ctrl+s sends it", style="bold"))
            self.query_one("#cm-error", Label).remove_class("error")

        self.run_read(
            lambda s: box.draft_direct(
                session=s,
                customer_id=customer_id,
                channel=channel,
                subject=subject or None,
                body=body if name is None else None,
                template_name=name,
                purpose=purpose,
            ),
            then=shown,
            on_error=self.refused,
            group="compose-preview",
        )

    def action_send(self) -> None:
        if self.busy or self.info is None:
            return
        fields = self.fields()
        if self.previewed != fields:
            self.action_preview()
            return
        channel, purpose, subject, body, name = fields
        customer_id, actor, key = self.customer_id, self.fd.operator, self.key
        self.busy = True
        self.hold_keys()

        def sent(message: OutboxMessage) -> None:
            self.dismiss(message.id)

        self.run_write(
            lambda s: box.send_direct(
                session=s,
                customer_id=customer_id,
                actor=actor,
                channel=channel,
                subject=subject or None,
                body=body if name is None else None,
                template_name=name,
                purpose=purpose,
                idempotency_key=key,
            ),
            then=sent,
            on_error=self.refused,
            group="compose-send",
        )

    def refused(self, exc: Exception) -> None:
        self.busy = False
        self.release_keys()
        self.show_error(exc)

    def show_error(self, exc: Exception) -> None:
        """A refusal goes under the field it is about; anything else under the dialog."""
        if isinstance(exc, BlockedCustomer) or (
            isinstance(exc, ValidationFailed) and exc.field in ("to", "channel", "purpose")
        ):
            label = self.query_one("#cm-to-msg", Label)
            label.add_class("error")
            set_message(label, f"Cannot send: {_message(exc)}")
            return
        if isinstance(exc, ValidationFailed) and exc.field in ("subject", "body"):
            set_message(self.query_one(f"#cm-{exc.field}-msg", Label), _message(exc))
            return
        error = self.query_one("#cm-error", Label)
        error.add_class("error")
        set_message(error, _message(exc))
        if not isinstance(exc, FrontdeskError):
            self.fd.show_error(exc)

    def action_cancel(self) -> None:
        self.dismiss(None)


# --------------------------------------------------------------------------- consent


class ConsentModal(FrontdeskModal[bool]):
    """The customer's consents: ``enter`` (or ``space``) switches the highlighted one; ``tab``
    reaches the preferred channel, saved as soon as it is chosen.

    Returns True when something changed."""

    AUTO_FOCUS = "#cs-table"
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("space", "switch", "Switch", show=False),
    ]
    CSS = """
    ConsentModal #cs-dialog { width: 80; }
    ConsentModal #cs-table { height: auto; max-height: 6; }
    ConsentModal #cs-history { height: auto; max-height: 12; margin-top: 1; }
    ConsentModal #cs-channel-row { height: auto; margin-top: 1; }
    ConsentModal #cs-channel-row > Label { padding: 1 1 0 0; }
    ConsentModal #cs-channel { width: 30; }
    ConsentModal #cs-channel-msg { padding: 1 0 0 1; width: 1fr; }
    """

    def __init__(self, customer_id: int) -> None:
        super().__init__(classes="dialog-screen")
        self.customer_id = customer_id
        self.info: ConsentInfo | None = None
        self.changed = False
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="cs-dialog"):
            yield Label("Consents", classes="dialog-title", id="cs-title")
            yield DataTable(id="cs-table", cursor_type="row")
            yield Label("", id="cs-error", classes="field-msg error")
            with Horizontal(id="cs-channel-row"):
                yield Label("Preferred channel")
                yield Select[str](CHANNELS, id="cs-channel", prompt="None (automatic)")
                yield Label("", id="cs-channel-msg")
            yield Label("History (newest first)")
            yield DataTable(id="cs-history", cursor_type="none", zebra_stripes=True)

    def on_mount(self) -> None:
        set_message(self.query_one("#cs-error", Label), None)
        set_message(self.query_one("#cs-channel-msg", Label), None)
        self.query_one("#cs-channel", Select).disabled = not self.fd.may("customers.write")
        self.query_one("#cs-table", DataTable).add_columns("Purpose", "Consent")
        self.query_one("#cs-history", DataTable).add_columns("When", "What", "Source", "By")
        self.load()

    def load(self, keep: int = 0) -> None:
        self.hold_keys()
        customer_id = self.customer_id

        def shown(info: ConsentInfo) -> None:
            self.show(info, keep)
            self.call_after_refresh(self.release_keys)

        def failed(exc: Exception) -> None:
            self.release_keys()
            set_message(self.query_one("#cs-error", Label), _message(exc))

        self.run_read(
            lambda s: load_consent_info(session=s, customer_id=customer_id),
            then=shown,
            on_error=failed,
            group="consent-info",
        )

    def show(self, info: ConsentInfo, keep: int = 0) -> None:
        self.info = info
        title = join(Text("Consents of"), user_text(info.label, "bold"))
        if self.fd.may("consent.write"):
            title.append("  ·  enter switches, escape closes")
        self.query_one("#cs-title", Label).update(title)
        table = self.query_one("#cs-table", DataTable)
        table.clear()
        for purpose, granted in info.granted.items():
            table.add_row(
                Text(CONSENT_LABEL.get(purpose, purpose)),
                Text("yes", style="green") if granted else Text("no", style="red"),
                key=purpose,
            )
        table.move_cursor(row=min(keep, table.row_count - 1))
        history = self.query_one("#cs-history", DataTable)
        history.clear()
        for line in info.history:
            history.add_row(
                Text(when(line.at)),
                Text(
                    f"{CONSENT_LABEL.get(line.purpose, line.purpose)}: {'on' if line.granted else 'off'}"
                ),
                Text(line.source),
                user_text(line.by),
            )
        if not info.history:
            history.add_row(Text("—"), Text("no changes recorded"), Text(""), Text(""))
        channel = self.query_one("#cs-channel", Select)
        if info.preferred_channel is None:
            channel.clear()
        elif channel.value != info.preferred_channel:
            channel.value = info.preferred_channel
        if not self.query_one("#cs-channel-msg", Label).has_class("error"):
            self.show_channel_hint()

    def chosen_channel(self) -> str | None:
        value = self.query_one("#cs-channel", Select).value
        return None if value is Select.NULL else str(value)

    def show_channel_hint(self) -> None:
        """What the chosen channel reaches (or, automatic, what is used)."""
        info = self.info
        if info is None:
            return
        label = self.query_one("#cs-channel-msg", Label)
        label.remove_class("error")
        chosen = info.preferred_channel
        if chosen is None:
            text = "email when there is one, else SMS"
        else:
            text = info.email if chosen == "email" else info.phone
        set_message(label, Text(text, style="dim"))

    @on(Select.Changed, "#cs-channel")
    def channel_chosen(self) -> None:
        """Save a new choice at once; choosing what is stored (e.g. on a reload) does nothing."""
        info = self.info
        chosen = self.chosen_channel()
        if info is None or chosen == info.preferred_channel or self.busy:
            return
        if self.fd.refuse("customers.write"):
            return
        customer_id, actor = self.customer_id, self.fd.operator
        label = self.query_one("#cs-channel-msg", Label)
        self.busy = True

        def done(_: object) -> None:
            self.busy = False
            self.changed = True
            name = CHANNEL_LABEL.get(chosen or "", "none (automatic)")
            self.notify(f"Preferred channel: {name}")
            self.load(keep=self.query_one("#cs-table", DataTable).cursor_row)

        def failed(exc: Exception) -> None:
            self.busy = False
            label.add_class("error")
            set_message(label, f"Not saved: {_message(exc)}")
            channel = self.query_one("#cs-channel", Select)  # back to what is stored
            if info.preferred_channel is None:
                channel.clear()
            else:
                channel.value = info.preferred_channel

        label.remove_class("error")
        set_message(label, Text("Saving…", style="dim"))
        self.run_write(
            lambda s: consent_rules.set_preferred_channel(
                session=s, customer_id=customer_id, channel=chosen, actor=actor
            ),
            then=done,
            on_error=failed,
        )

    @on(DataTable.RowSelected, "#cs-table")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_switch()

    def action_switch(self) -> None:
        if self.info is None or self.busy:
            return
        if self.fd.refuse("consent.write"):
            return
        table = self.query_one("#cs-table", DataTable)
        row = table.cursor_row
        purpose = list(self.info.granted)[row]
        granted = not self.info.granted[purpose]
        customer_id, actor = self.customer_id, self.fd.operator
        self.busy = True

        def done(_: object) -> None:
            self.busy = False
            self.changed = True
            word = "on" if granted else "off"
            self.notify(f"{CONSENT_LABEL[purpose]}: {word}")
            self.load(keep=row)

        def failed(exc: Exception) -> None:
            self.busy = False
            set_message(self.query_one("#cs-error", Label), _message(exc))

        self.run_write(
            lambda s: consent_rules.set_consent(
                session=s,
                customer_id=customer_id,
                purpose=purpose,
                granted=granted,
                actor=actor,
                source="desk",
            ),
            then=done,
            on_error=failed,
        )

    def action_close(self) -> None:
        self.dismiss(self.changed)


# --------------------------------------------------------------------------- newsletter


class NewsletterModal(FrontdeskModal[letters.QueuedNewsletter | None]):
    """A newsletter to the directory's current search and filters (who has newsletter consent,
    is not blocked and has an email). ``ctrl+s`` asks with the count, then queues it with
    progress; the caller sends the queue in the background."""

    AUTO_FOCUS = "#nl-subject"
    BINDINGS = [
        Binding("ctrl+s", "send", "Send…", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]
    CSS = """
    NewsletterModal #nl-dialog { width: 100; max-height: 95%; overflow-y: auto; }
    NewsletterModal #nl-body { height: 10; }
    NewsletterModal #nl-help { color: $text-muted; width: 100%; }
    NewsletterModal #nl-audience { margin-bottom: 1; }
    """

    def __init__(self, search: str, filters: svc.DirectoryFilter, description: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.search = search
        self.filters = filters
        self.description = description
        self.count: int | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="nl-dialog"):
            yield Label(
                "Newsletter  ·  ctrl+s sends (asks first), escape cancels",
                classes="dialog-title",
            )
            yield Static(Text("Counting the audience…", style="dim"), id="nl-audience")
            yield Label("Subject")
            yield Input(id="nl-subject")
            yield Label("", id="nl-subject-msg", classes="field-msg error")
            yield Label("Body (Markdown)")
            yield TextArea(id="nl-body")
            yield Label("", id="nl-body-msg", classes="field-msg error")
            yield Label(PLACEHOLDER_HELP, id="nl-help")
            yield Label("", id="nl-progress", classes="field-msg")
            yield Label("", id="nl-error", classes="field-msg error")

    def on_mount(self) -> None:
        for label in self.query(".field-msg").results(Label):
            set_message(label, None)
        search, filters = self.search, self.filters

        def counted(count: int) -> None:
            self.count = count
            text = Text()
            text.append(f"Audience: {count:,} customers", style="bold")
            text.append(" with newsletter consent, not blocked, with an email")
            if self.description:
                text.append("\nfrom the directory: ")
                text.append_text(user_text(self.description, "italic"))
            self.query_one("#nl-audience", Static).update(text)

        self.run_read(
            lambda s: letters.audience_count(session=s, search=search, filters=filters),
            then=counted,
            group="newsletter-count",
        )

    @on(Input.Submitted, "#nl-subject")
    def subject_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.set_focus(self.query_one("#nl-body", TextArea))

    @on(Input.Changed, "#nl-subject")
    @on(TextArea.Changed, "#nl-body")
    def changed(self) -> None:
        for selector in ("#nl-subject-msg", "#nl-body-msg", "#nl-error"):
            set_message(self.query_one(selector, Label), None)

    def action_send(self) -> None:
        if self.busy:
            return
        if self.fd.refuse("newsletter.send"):
            return
        subject = self.query_one("#nl-subject", Input).value
        body = self.query_one("#nl-body", TextArea).text
        try:
            letters.check_newsletter(subject, body)
        except ValidationFailed as exc:
            self.show_error(exc)
            return
        if self.count is None:
            set_message(self.query_one("#nl-error", Label), "Still counting the audience…")
            return
        if self.count == 0:
            set_message(
                self.query_one("#nl-error", Label), "Nobody in this audience can receive it."
            )
            return
        question = Text(f"Send this newsletter to {self.count:,} customers?")
        question.append("\nIt is queued now and sent in the background.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.queue(subject, body)

        self.app.push_screen(ConfirmModal(question, "Send", "Not yet"), answered)

    def queue(self, subject: str, body: str) -> None:
        self.busy = True
        engine, actor, app = self.fd.engine, self.fd.operator, self.app
        search, filters, description = self.search, self.filters, self.description
        progress = self.query_one("#nl-progress", Label)
        set_message(progress, "Queueing…")

        def report(done: int, total: int) -> None:
            app.call_from_thread(set_message, progress, f"Queueing… {done:,} of {total:,}")

        def failed(exc: Exception) -> None:
            self.busy = False
            set_message(progress, None)
            self.show_error(exc)

        self.run_task(
            lambda: letters.queue_newsletter(
                engine,
                subject=subject,
                body=body,
                actor=actor,
                search=search,
                filters=filters,
                audience=description,
                progress=report,
            ),
            then=self.queued,
            on_error=failed,
            group="newsletter-queue",
        )

    def queued(self, result: letters.QueuedNewsletter) -> None:
        self.dismiss(result)

    def show_error(self, exc: Exception) -> None:
        if isinstance(exc, ValidationFailed) and exc.field in ("subject", "body"):
            set_message(self.query_one(f"#nl-{exc.field}-msg", Label), _message(exc))
            return
        set_message(self.query_one("#nl-error", Label), _message(exc))
        if not isinstance(exc, FrontdeskError):
            self.fd.show_error(exc)

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)


# --------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class TemplateForm:
    name: str
    channel: str
    subject: str
    body: str


class TemplateModal(FrontdeskModal[TemplateForm | None]):
    """Add or change a message template; ``ctrl+s`` saves through ``save`` (the service
    refuses a placeholder that cannot be filled, shown under its field)."""

    AUTO_FOCUS = "#tp-name"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]
    CSS = """
    TemplateModal #tp-dialog { width: 100; max-height: 95%; overflow-y: auto; }
    TemplateModal #tp-body { height: 8; }
    TemplateModal #tp-help { color: $text-muted; width: 100%; }
    """
    FIELDS = ("name", "channel", "subject", "body")

    def __init__(
        self,
        initial: TemplateForm | None = None,
        *,
        save: Callable[[TemplateForm], Callable[[Session], object]],
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.initial = initial
        self.save = save
        self.saving = False
        self.result: object = None

    def compose(self) -> ComposeResult:
        i = self.initial
        with Vertical(classes="dialog", id="tp-dialog"):
            yield Label("Message template  ·  ctrl+s saves", classes="dialog-title")
            yield Label("Name")
            yield Input(plain(i.name) if i else "", id="tp-name")
            yield Label("", id="tp-name-msg", classes="field-msg error")
            yield Label("Channel")
            yield Select[str](
                CHANNELS, id="tp-channel", allow_blank=False, value=i.channel if i else "email"
            )
            yield Label("", id="tp-channel-msg", classes="field-msg error")
            yield Label("Subject (email)")
            yield Input(plain(i.subject) if i else "", id="tp-subject")
            yield Label("", id="tp-subject-msg", classes="field-msg error")
            yield Label("Body (Markdown for email)")
            yield TextArea(plain(i.body, multiline=True) if i else "", id="tp-body")
            yield Label("", id="tp-body-msg", classes="field-msg error")
            yield Label(PLACEHOLDER_HELP, id="tp-help")
            yield Label("", id="tp-error", classes="field-msg error")

    def on_mount(self) -> None:
        for label in self.query(".field-msg").results(Label):
            set_message(label, None)

    @on(Input.Submitted)
    def next_field(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def form(self) -> TemplateForm:
        return TemplateForm(
            name=self.query_one("#tp-name", Input).value,
            channel=str(self.query_one("#tp-channel", Select).value),
            subject=self.query_one("#tp-subject", Input).value,
            body=self.query_one("#tp-body", TextArea).text,
        )

    def action_save(self) -> None:
        if self.saving:
            return
        for label in self.query(".field-msg").results(Label):
            set_message(label, None)
        form = self.form()
        self.saving = True

        def done(result: object) -> None:
            self.result = result
            self.dismiss(form)

        self.run_write(self.save(form), then=done, on_error=self.show_error)

    def show_error(self, exc: Exception) -> None:
        self.saving = False
        name = exc.field if isinstance(exc, ValidationFailed) else None
        if name in self.FIELDS:
            set_message(self.query_one(f"#tp-{name}-msg", Label), _message(exc))
            self.set_focus(self.query_one(f"#tp-{name}"))
            return
        set_message(self.query_one("#tp-error", Label), _message(exc))
        if not isinstance(exc, FrontdeskError):
            self.fd.show_error(exc)

    def action_cancel(self) -> None:
        self.dismiss(None)


__all__ = [
    "ComposeModal",
    "ConsentModal",
    "NewsletterModal",
    "TemplateForm",
    "TemplateModal",
]

"""The inline add-customer modal of the booking and order screens."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import Input, Label

from frontdesk.data import customers as svc
from frontdesk.data import formdata
from frontdesk.data import picker as data
from frontdesk.data.errors import DuplicateCustomer, FrontdeskError, ValidationFailed
from frontdesk.data.models import CreatedVia
from frontdesk.text import user_text
from frontdesk.widgets.base import FrontdeskModal
from frontdesk.widgets.keys import KeyReadiness
from frontdesk.widgets.select import InstantSelect, Select

FIELDS = {
    "first_name": "First name *",
    "last_name": "Last name",
    "phone": "Mobile",
    "email": "Email",
}


class QuickInput(Input):
    """A field of the modal: ``enter`` saves inside the key's own handling (not through a
    message), so that keys typed after it wait for the outcome."""

    async def action_submit(self) -> None:
        screen = self.screen
        if isinstance(screen, QuickAddModal):
            screen.action_save()


class QuickAddModal(FrontdeskModal[data.PickedCustomer | None]):
    """Add a customer without leaving the booking. Dismisses with the customer to link.

    A taken phone or email offers the customer who has it (``ctrl+l`` links them instead).
    As it closes, the modal holds the keys of the screen below; the screen's callback (the
    picker's ``added``) releases them once it has shown the customer and moved the focus.
    """

    AUTO_FOCUS = "#q-first_name"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save and use", priority=True),
        Binding("ctrl+l", "link_existing", "Use existing", show=False, priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self,
        *,
        prefill: dict[str, str] | None = None,
        created_via: CreatedVia = CreatedVia.BOOKING,
        region: str | None = None,
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.prefill = prefill or {}
        self.created_via = created_via
        self.duplicate: DuplicateCustomer | None = None
        self.duplicate_value = ""
        self.business_region = region or "US"
        self._region_known = region is not None
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="quick-add"):
            yield Label(
                "New customer  ·  ctrl+s saves and uses them, escape goes back",
                classes="dialog-title",
            )
            with Grid(id="quick-grid"):
                for name, label in FIELDS.items():
                    with Vertical(classes="field"):
                        yield Label(label)
                        yield QuickInput(self.prefill.get(name, ""), id=f"q-{name}")
                        yield Label("", id=f"qe-{name}", classes="field-error")
                with Vertical(classes="field"):
                    yield Label("Mobile country")
                    yield InstantSelect[str](
                        formdata.region_choices(),
                        id="q-country",
                        allow_blank=False,
                        value=self.business_region,
                    )
            yield Label("", id="q-duplicate", classes="error")

    def on_mount(self) -> None:
        if self._region_known:
            self.check_prefilled()
            return
        self.hold_keys()
        self.run_read(
            lambda s: data.quick_add_region(session=s),
            self._region_loaded,
            group="quick-add-region",
            on_error=lambda _exc: self.release_keys(),
        )

    def _region_loaded(self, region: str) -> None:
        self.business_region = region
        self.query_one("#q-country", Select).value = region
        self.check_prefilled()
        self.release_keys()

    def check_prefilled(self) -> None:
        for name in FIELDS:
            value = self.query_one(f"#q-{name}", Input).value
            if value:
                self.show(name, formdata.check_field(name, value, region=self.region_value()))

    def region_value(self) -> str:
        value = self.query_one("#q-country", Select).value
        return value if isinstance(value, str) else self.business_region

    def show(self, name: str, message: str | Text | None) -> None:
        label = self.query_one(f"#qe-{name}", Label)
        label.update(message if isinstance(message, Text) else user_text(message or ""))
        self.query_one(f"#q-{name}", Input).set_class(bool(message), "invalid")

    @on(Input.Changed)
    def changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "")[2:]
        if name in FIELDS:
            self.show(name, formdata.check_field(name, event.value, region=self.region_value()))
            if (
                self.duplicate
                and self.duplicate.field == name
                and event.value != self.duplicate_value
            ):
                self.duplicate = None
                self.query_one("#q-duplicate", Label).update("")

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: self.query_one(f"#q-{name}", Input).value for name in FIELDS}
        out["phone_country"] = self.region_value()
        return out

    # ------------------------------------------------------------------ save / link / leave
    def action_save(self) -> None:
        if self.busy:
            return
        values = self.values()
        errors = {
            name: formdata.check_field(name, values[name], region=self.region_value())
            for name in FIELDS
        }
        for name, message in errors.items():
            self.show(name, message)
        if any(errors.values()):
            return
        self.busy = True
        self.hold_keys()  # keys typed after ctrl+s belong to the booking, once we are back
        via, actor = self.created_via, self.fd.operator
        self.run_write(
            lambda s: data.quick_add_customer(
                session=s, data=svc.CustomerCreate(**values), created_via=via, actor=actor
            ),
            self._close,
            group="quick-add-save",
            on_error=self._refused,
        )

    def _refused(self, exc: Exception) -> None:
        self.busy = False
        self.release_keys()
        if isinstance(exc, DuplicateCustomer):
            self.duplicate = exc
            self.duplicate_value = self.values()[exc.field]
            who = Text.assemble(user_text(exc.existing_code), " ", user_text(exc.existing_name))
            self.show(exc.field, Text.assemble(who, f" already has this {exc.field}"))
            self.query_one("#q-duplicate", Label).update(
                Text.assemble("ctrl+l uses ", who, " for this instead")
            )
        elif isinstance(exc, ValidationFailed):
            self.show(exc.field if exc.field in FIELDS else "phone", exc.message)
        elif isinstance(exc, FrontdeskError):
            self.query_one("#q-duplicate", Label).update(user_text(str(exc)))

    def action_link_existing(self) -> None:
        if self.duplicate is None or self.busy:
            return
        self.busy = True
        self.hold_keys()
        existing = self.duplicate.existing_id

        def failed(_exc: Exception) -> None:
            self.busy = False
            self.release_keys()

        self.run_read(
            lambda s: data.picked(session=s, customer_id=existing),
            self._close,
            group="quick-add-link",
            on_error=failed,
        )

    def action_cancel(self) -> None:
        if not self.busy:
            self._close(None)

    def _close(self, result: data.PickedCustomer | None) -> None:
        """Close; the screen below holds keys until its callback has used the result."""
        stack = self.app.screen_stack
        below = stack[-2] if len(stack) > 1 and stack[-1] is self else None
        if isinstance(below, KeyReadiness):
            below.hold_keys()
        self.dismiss(result)

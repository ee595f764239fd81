"""The inline add-customer modal of the booking and order screens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select

from frontdesk.data import customers as svc
from frontdesk.data import formdata
from frontdesk.data.errors import DuplicateCustomer, ValidationFailed
from frontdesk.data.models import CreatedVia
from frontdesk.data.settings import default_region

if TYPE_CHECKING:
    from frontdesk.app import FrontdeskApp

FIELDS = {
    "first_name": "First name *",
    "last_name": "Last name",
    "phone": "Mobile",
    "email": "Email",
}


class QuickAddModal(ModalScreen[int | None]):
    """Add a customer without leaving the booking. Dismisses with the customer's id."""

    AUTO_FOCUS = "#q-first_name"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("ctrl+l", "link_existing", "Use existing", show=False),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self, *, prefill: dict[str, str] | None = None, created_via: CreatedVia = CreatedVia.BOOKING
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.prefill = prefill or {}
        self.created_via = created_via
        self.duplicate: DuplicateCustomer | None = None
        self.duplicate_value = ""
        self.business_region = "US"

    @property
    def fd(self) -> FrontdeskApp:
        return self.app  # type: ignore[return-value]

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
                        yield Input(self.prefill.get(name, ""), id=f"q-{name}")
                        yield Label("", id=f"qe-{name}", classes="field-error")
                with Vertical(classes="field"):
                    yield Label("Mobile country")
                    yield Select[str](
                        formdata.region_choices(), id="q-country", allow_blank=False, value="US"
                    )
            yield Label("", id="q-duplicate", classes="error")

    def on_mount(self) -> None:
        self.business_region = self.fd.read(default_region)
        self.query_one("#q-country", Select).value = self.business_region
        for name in FIELDS:
            value = self.query_one(f"#q-{name}", Input).value
            if value:
                self.show(name, formdata.check_field(name, value, region=self.region_value()))

    def region_value(self) -> str:
        value = self.query_one("#q-country", Select).value
        return value if isinstance(value, str) else self.business_region

    def show(self, name: str, message: str | None) -> None:
        self.query_one(f"#qe-{name}", Label).update(message or "")
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

    @on(Input.Submitted)
    def submitted(self) -> None:
        self.action_save()

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: self.query_one(f"#q-{name}", Input).value for name in FIELDS}
        out["phone_country"] = self.region_value()
        return out

    def action_save(self) -> None:
        values = self.values()
        errors = {
            name: formdata.check_field(name, values[name], region=self.region_value())
            for name in FIELDS
        }
        for name, message in errors.items():
            self.show(name, message)
        if any(errors.values()):
            return
        try:
            customer_id = self.fd.write(
                lambda s: (
                    svc.create_customer(
                        session=s,
                        data=svc.CustomerCreate(**values),
                        actor=self.fd.operator,
                        created_via=self.created_via,
                    ).id
                )
            )
        except DuplicateCustomer as exc:
            self.duplicate = exc
            self.duplicate_value = values[exc.field]
            self.show(
                exc.field, f"{exc.existing_code} {exc.existing_name} already has this {exc.field}"
            )
            self.query_one("#q-duplicate", Label).update(
                f"ctrl+l uses {exc.existing_code} {exc.existing_name} for this instead"
            )
            return
        except ValidationFailed as exc:
            field = exc.field if exc.field in FIELDS else "phone"
            self.show(field, exc.message)
            return
        self.dismiss(customer_id)

    def action_link_existing(self) -> None:
        if self.duplicate is not None:
            self.dismiss(self.duplicate.existing_id)

    def action_cancel(self) -> None:
        self.dismiss(None)

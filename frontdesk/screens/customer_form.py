"""Add / edit customer form: every standard field, validation as you type and on save."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, Select, SelectionList, Static, Switch

from frontdesk.data import customers as svc
from frontdesk.data import formdata
from frontdesk.data.directory import Lookups, load_lookups
from frontdesk.data.errors import DuplicateCustomer, StaleRecord, ValidationFailed
from frontdesk.data.models import CreatedVia, Customer
from frontdesk.data.settings import default_region
from frontdesk.data.tags import set_tags, tag_ids_of
from frontdesk.screens.common import ConfirmModal

if TYPE_CHECKING:
    from frontdesk.app import FrontdeskApp

LABELS = {
    "first_name": "First name *",
    "last_name": "Last name",
    "display_name": "Display name",
    "phone": "Mobile",
    "other_phone": "Other phone",
    "email": "Email",
    "date_of_birth": "Date of birth",
    "anniversary": "Anniversary",
    "address": "Address",
    "city": "City",
    "state": "State / province",
    "postal_code": "Postal code",
    "country": "Country (code)",
    "blocked_reason": "Blocked because",
    "photo_path": "Photo (path to an image file)",
}
SWITCHES = {
    "blocked": "Blocked",
    "consent_reminders": "Appointment reminders",
    "consent_birthday": "Birthday messages",
    "consent_marketing": "Marketing",
    "consent_newsletter": "Newsletter",
}
PLACEHOLDERS = {"date_of_birth": "YYYY-MM-DD", "anniversary": "YYYY-MM-DD", "country": "e.g. NL"}


class CustomerFormScreen(Screen[int | None]):
    """Add a customer (no id) or edit one. Dismisses with the saved customer's id, or None."""

    AUTO_FOCUS = "#f-first_name"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Back"),
        Binding("ctrl+o", "open_existing", "Open existing", show=False),
        Binding("ctrl+r", "reload", "Reload theirs", show=False),
    ]

    def __init__(
        self,
        *,
        customer_id: int | None = None,
        prefill: dict[str, str] | None = None,
        created_via: CreatedVia = CreatedVia.MANUAL,
    ) -> None:
        super().__init__()
        self.customer_id = customer_id
        self.prefill = prefill or {}
        self.created_via = created_via
        self.version: int | None = None
        self.initial: dict[str, Any] = {}
        self.business_region = "US"
        self.lookups = Lookups()
        self.duplicate: DuplicateCustomer | None = None
        self.code = ""
        self.conflict: Customer | None = None
        self.custom_fields: list[Any] = []
        self.custom_initial: dict[str, str] = {}

    @property
    def fd(self) -> FrontdeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="form-banner")
        with VerticalScroll(id="form"):
            with Grid(id="form-grid"):
                for name in ("first_name", "last_name", "display_name", "email"):
                    yield from self.field(name)
                with Vertical(classes="field"):
                    yield Label("Mobile country")
                    yield Select[str](
                        formdata.region_choices(),
                        id="f-phone_country",
                        allow_blank=False,
                        value="US",
                    )
                yield from self.field("phone")
                yield from self.field("other_phone")
                with Vertical(classes="field"):
                    yield Label("Gender")
                    yield Select[str](
                        [
                            ("Unspecified", "unspecified"),
                            ("Female", "female"),
                            ("Male", "male"),
                            ("Other", "other"),
                        ],
                        id="f-gender",
                        allow_blank=False,
                        value="unspecified",
                    )
                for name in (
                    "date_of_birth",
                    "anniversary",
                    "address",
                    "city",
                    "state",
                    "postal_code",
                    "country",
                ):
                    yield from self.field(name)
                with Vertical(classes="field"):
                    yield Label("Category")
                    yield Select[int]([], id="f-category_id", prompt="(none)")
                with Vertical(classes="field"):
                    yield Label("Home branch")
                    yield Select[int]([], id="f-home_branch_id", prompt="(none)")
                with Vertical(classes="field"):
                    yield Label("Status")
                    yield Select[str](
                        [("Active", "active"), ("Inactive", "inactive")],
                        id="f-status",
                        allow_blank=False,
                        value="active",
                    )
                yield from self.field("photo_path")
            with Horizontal(id="switches"):
                for name, label in SWITCHES.items():
                    with Vertical(classes="switch"):
                        yield Label(label)
                        yield Switch(id=f"f-{name}", value=name == "consent_reminders")
            yield from self.field("blocked_reason")
            yield Label("Tags", classes="section")
            yield SelectionList[int](id="f-tags")
            yield Label("Custom fields", classes="section", id="cf-title")
            yield Grid(id="cf-grid")
        yield Footer()

    def field(self, name: str) -> ComposeResult:
        with Vertical(classes="field", id=f"box-{name}"):
            yield Label(LABELS[name])
            yield Input(id=f"f-{name}", placeholder=PLACEHOLDERS.get(name, ""))
            yield Label("", id=f"e-{name}", classes="field-error")

    # ------------------------------------------------------------------ loading
    async def on_mount(self) -> None:
        await self.mount_custom_fields()
        self.load_form()

    async def mount_custom_fields(self) -> None:
        from frontdesk.data import fields

        customer_id = self.customer_id

        def load(session: Any) -> tuple[list[Any], dict[str, str]]:
            defs = fields.list_fields(session=session)
            values = (
                fields.values_of(session=session, customer_id=customer_id) if customer_id else {}
            )
            return defs, values

        self.custom_fields, self.custom_initial = self.fd.read(load)
        grid = self.query_one("#cf-grid", Grid)
        self.query_one("#cf-title").display = bool(self.custom_fields)
        boxes = []
        for f in self.custom_fields:
            hint = {
                "date": "YYYY-MM-DD",
                "yes_no": "yes / no",
                "number": "a number",
                "choice": "one of: " + ", ".join(f.choices or []),
                "multi_choice": "any of (comma separated): " + ", ".join(f.choices or []),
            }.get(f.type, f.help_text or "")
            label = f.label + (" *" if f.required else "")
            box = Vertical(
                Label(label),
                Input(self.custom_initial.get(f.key, ""), id=f"cf-{f.key}", placeholder=hint),
                Label(f.help_text or "", classes="muted"),
                Label("", id=f"ce-{f.key}", classes="field-error"),
                classes="field",
            )
            boxes.append(box)
        if boxes:
            await grid.mount_all(boxes)

    def custom_values(self) -> dict[str, str]:
        return {f.key: self.query_one(f"#cf-{f.key}", Input).value for f in self.custom_fields}

    def check_custom(self) -> str | None:
        """Validate every custom field; returns the key of the first bad one."""
        from frontdesk.data import fields
        from frontdesk.data.errors import ValidationFailed as Invalid

        first_bad = None
        for f in self.custom_fields:
            value = self.query_one(f"#cf-{f.key}", Input).value
            try:
                fields.parse_value(f, value)
                message = ""
            except Invalid as exc:
                message = exc.message
                first_bad = first_bad or f.key
            self.query_one(f"#ce-{f.key}", Label).update(message)
            self.query_one(f"#cf-{f.key}", Input).set_class(bool(message), "invalid")
        return first_bad

    def load_form(self) -> None:
        def load(session: Any) -> tuple[Lookups, str, Customer | None, set[int]]:
            customer = (
                svc.get_customer(session=session, customer_id=self.customer_id)
                if self.customer_id
                else None
            )
            tags = (
                tag_ids_of(session=session, customer_id=self.customer_id)
                if self.customer_id
                else set()
            )
            return load_lookups(session=session), default_region(session), customer, tags

        self.lookups, self.business_region, customer, tags = self.fd.read(load)
        self.query_one("#f-category_id", Select).set_options(
            [(f"{c.symbol} {c.name}", c.id) for c in self.lookups.categories.values() if c.id]
        )
        self.query_one("#f-home_branch_id", Select).set_options(
            [(b.name, b.id) for b in self.lookups.branches.values() if b.id]
        )
        self.query_one("#f-tags", SelectionList).add_options(
            [(t.name, t.id, t.id in tags) for t in self.lookups.tags.values() if t.id]
        )
        self.query_one("#f-phone_country", Select).value = self.business_region
        if customer is not None:
            self.fill(customer)
            self.title = f"Edit {customer.code} {customer.full_name}"
        else:
            self.title = "New customer"
            for name, value in self.prefill.items():
                if self.query(f"#f-{name}"):
                    self.query_one(f"#f-{name}", Input).value = value
        self.query_one("#box-blocked_reason").display = bool(customer and customer.blocked)
        self.query_one("#form-banner", Static).display = False
        self.initial = self.snapshot() if customer is not None else self.snapshot_empty()

    def snapshot_empty(self) -> dict[str, Any]:
        snap = self.snapshot()
        for name in self.prefill:
            snap[name] = ""
        return snap

    def fill(self, customer: Customer) -> None:
        self.version = customer.version
        self.code = customer.code
        for name, value in formdata.text_values(customer).items():
            self.query_one(f"#f-{name}", Input).value = value
        self.query_one("#f-phone_country", Select).value = (
            customer.phone_country or self.business_region
        )
        self.query_one("#f-gender", Select).value = customer.gender
        self.query_one("#f-status", Select).value = customer.status
        category = self.query_one("#f-category_id", Select)
        if customer.category_id:
            category.value = customer.category_id
        else:
            category.clear()
        branch = self.query_one("#f-home_branch_id", Select)
        if customer.home_branch_id:
            branch.value = customer.home_branch_id
        else:
            branch.clear()
        for name in SWITCHES:
            self.query_one(f"#f-{name}", Switch).value = bool(getattr(customer, name))

    def snapshot(self) -> dict[str, Any]:
        snap: dict[str, Any] = {
            name: self.query_one(f"#f-{name}", Input).value for name in formdata.TEXT_FIELDS
        }
        for name in ("phone_country", "gender", "status", "category_id", "home_branch_id"):
            value = self.query_one(f"#f-{name}", Select).value
            snap[name] = value if value is not Select.NULL else None
        for name in SWITCHES:
            snap[name] = self.query_one(f"#f-{name}", Switch).value
        snap["tags"] = sorted(self.query_one("#f-tags", SelectionList).selected)
        snap["custom"] = self.custom_values()
        return snap

    @property
    def dirty(self) -> bool:
        return bool(self.initial) and self.snapshot() != self.initial

    # ------------------------------------------------------------------ validation as you type
    def current_region(self) -> str:
        value = self.query_one("#f-phone_country", Select).value
        return value if isinstance(value, str) else self.business_region

    def show_error(self, name: str, message: str | None) -> None:
        if not self.query(f"#e-{name}"):
            self.notify(message or "", severity="error")
            return
        label = self.query_one(f"#e-{name}", Label)
        label.update(message or "")
        self.query_one(f"#f-{name}", Input).set_class(bool(message), "invalid")

    @on(Input.Changed)
    def validate_field(self, event: Input.Changed) -> None:
        if (event.input.id or "").startswith("cf-") and self.initial:
            self.check_custom()
            return
        name = (event.input.id or "")[2:]
        if name not in formdata.TEXT_FIELDS or not self.initial:
            return
        if name in ("phone", "email") and self.duplicate and self.duplicate.field == name:
            self.duplicate = None
        self.show_error(name, formdata.check_field(name, event.value, region=self.current_region()))

    @on(Select.Changed, "#f-phone_country")
    def country_changed(self) -> None:
        if self.initial:
            for name in ("phone", "other_phone"):
                value = self.query_one(f"#f-{name}", Input).value
                self.show_error(
                    name, formdata.check_field(name, value, region=self.current_region())
                )

    @on(Switch.Changed, "#f-blocked")
    def blocked_changed(self, event: Switch.Changed) -> None:
        self.query_one("#box-blocked_reason").display = event.value
        if event.value:
            self.query_one("#f-blocked_reason", Input).focus()

    # ------------------------------------------------------------------ saving
    def values(self) -> dict[str, Any]:
        snap = self.snapshot()
        out: dict[str, Any] = {}
        for name in formdata.TEXT_FIELDS:
            if name in ("date_of_birth", "anniversary"):
                out[name] = formdata.parse_date(snap[name], name, LABELS[name])
            elif name != "photo_path":
                out[name] = snap[name]
        for name in ("gender", "status", "category_id", "home_branch_id", *SWITCHES):
            out[name] = snap[name]
        out["phone_country"] = snap["phone_country"]
        return out

    def action_save(self) -> None:
        errors = {
            name: formdata.check_field(
                name, self.query_one(f"#f-{name}", Input).value, region=self.current_region()
            )
            for name in formdata.TEXT_FIELDS
        }
        for name, message in errors.items():
            self.show_error(name, message)
        first_bad = next((n for n, m in errors.items() if m), None)
        bad_custom = self.check_custom()
        if bad_custom and not first_bad:
            self.query_one(f"#cf-{bad_custom}", Input).focus()
            self.notify("Fix the marked fields first", severity="error")
            return
        if first_bad:
            self.query_one(f"#f-{first_bad}", Input).focus()
            self.notify("Fix the marked fields first", severity="error")
            return
        try:
            values = self.values()
        except ValidationFailed as exc:
            self.show_error(exc.field, exc.message)
            return
        photo = self.query_one("#f-photo_path", Input).value.strip()
        tags = set(self.query_one("#f-tags", SelectionList).selected)
        custom = self.custom_values()
        try:
            customer_id = self.fd.write(lambda s: self._save(s, values, photo, tags, custom))
        except DuplicateCustomer as exc:
            self.duplicate = exc
            self.show_error(
                exc.field,
                f"{exc.existing_code} {exc.existing_name} already has this {exc.field} — ctrl+o opens them",
            )
            self.query_one(f"#f-{exc.field}", Input).focus()
            return
        except StaleRecord as exc:
            self.show_conflict(exc.current)
            return
        except ValidationFailed as exc:
            field = "phone" if exc.field == "phone_country" else exc.field
            if field.startswith("cf_") and self.query(f"#ce-{field[3:]}"):
                self.query_one(f"#ce-{field[3:]}", Label).update(exc.message)
                return
            self.show_error(field, exc.message)
            return
        self.initial = {}
        self.dismiss(customer_id)

    def _save(
        self,
        session: Any,
        values: dict[str, Any],
        photo: str,
        tags: set[int],
        custom: dict[str, str],
    ) -> int:
        actor = self.fd.operator
        if self.customer_id is None:
            customer = svc.create_customer(
                session=session,
                data=svc.CustomerCreate(**values),
                actor=actor,
                created_via=self.created_via,
                region=self.business_region,
            )
        else:
            assert self.version is not None
            current = svc.get_customer(session=session, customer_id=self.customer_id)
            original = formdata.text_values(current)
            changed = {
                k: v
                for k, v in values.items()
                if k not in original
                or str(v or "") != original.get(k, "")
                or k in ("phone", "phone_country")
            }
            if changed.get("phone") == original.get("phone"):
                changed.pop("phone", None)
                changed.pop("phone_country", None)
            customer = svc.update_customer(
                session=session,
                customer_id=self.customer_id,
                data=svc.CustomerUpdate(**changed),
                expected_version=self.version,
                actor=actor,
                region=self.business_region,
            )
        assert customer.id is not None
        if photo and photo != (customer.photo_path or ""):
            from frontdesk import config
            from frontdesk.data.photos import store_photo

            stored = store_photo(
                source=photo, code=customer.code, data_dir=self.fd.data_dir or config.data_dir()
            )
            svc.update_customer(
                session=session,
                customer_id=customer.id,
                data=svc.CustomerUpdate(photo_path=stored),
                expected_version=customer.version,
                actor=actor,
            )
        set_tags(session=session, customer_id=customer.id, tag_ids=tags, actor=actor)
        if custom:
            from frontdesk.data import fields

            changed = {k: v for k, v in custom.items() if v != self.custom_initial.get(k, "")}
            if changed:
                fields.set_values(
                    session=session, customer_id=customer.id, values=changed, actor=actor
                )
        return customer.id

    def show_conflict(self, current: Customer) -> None:
        """Someone else saved this customer meanwhile: keep our input, show their values."""
        theirs = formdata.text_values(current)
        ours = self.snapshot()
        lines = [
            f"  {LABELS.get(k, k)}: {theirs[k] or '—'}"
            for k in formdata.TEXT_FIELDS
            if theirs[k] != ours.get(k, "")
        ]
        banner = self.query_one("#form-banner", Static)
        banner.update(
            f"{current.code} was changed in another terminal (now version {current.version}). "
            "Your changes are not saved. Their values:\n"
            + ("\n".join(lines[:8]) or "  (same text fields; other settings differ)")
            + "\nctrl+s saves yours over theirs · ctrl+r loads theirs (discarding yours)"
        )
        banner.display = True
        banner.add_class("conflict")
        self.version = current.version
        self.conflict = current

    def action_reload(self) -> None:
        current = self.conflict
        if current is None:
            return
        self.fill(current)
        self.initial = self.snapshot()
        self.query_one("#form-banner", Static).display = False
        self.conflict = None

    def action_open_existing(self) -> None:
        if self.duplicate is None:
            return
        existing_id = self.duplicate.existing_id

        def go(confirmed: bool | None) -> None:
            if confirmed:
                self.initial = {}
                self.dismiss(None)
                self.fd.open_customer(existing_id)

        if self.dirty:
            self.app.push_screen(
                ConfirmModal("Leave this form and open the existing customer?", "Open"), go
            )
        else:
            go(True)

    def action_cancel(self) -> None:
        if not self.dirty:
            self.dismiss(None)
            return

        def answer(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmModal("Discard your unsaved changes?", "Discard", "Keep editing"), answer
        )

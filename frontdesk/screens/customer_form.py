"""Add / edit customer form: every standard field, validation as you type and on save.

Loading (``load_customer_form``) and saving (``save_customer_form``) are one use-case service
each, run off the UI thread. Keys typed while the form loads wait (``hold_keys``) and land
where they would have landed had the form been instant; nothing typed is ever overwritten.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Header, Input, Label, SelectionList, Static, Switch

from frontdesk.data import formdata
from frontdesk.data.customer_form import (
    CHOICE_FIELDS,
    SWITCH_FIELDS,
    CustomerForm,
    CustomerFormData,
    SaveResult,
    custom_errors,
    form_errors,
    form_of,
    load_customer_form,
    save_customer_form,
)
from frontdesk.data.customers import get_customer
from frontdesk.data.errors import DuplicateCustomer, FrontdeskError, StaleRecord, ValidationFailed
from frontdesk.data.formdata import LABELS
from frontdesk.data.models import CreatedVia, Customer, CustomField
from frontdesk.screens.common import ConfirmModal, discard_or_stay
from frontdesk.text import join, plain, safe_style, user_text
from frontdesk.widgets.base import FrontdeskScreen
from frontdesk.widgets.footer import KeyFooter
from frontdesk.widgets.select import Select

SWITCHES = {
    "blocked": "Blocked",
    "consent_reminders": "Appointment reminders",
    "consent_birthday": "Birthday messages",
    "consent_marketing": "Marketing",
    "consent_newsletter": "Newsletter",
}
PLACEHOLDERS = {"date_of_birth": "YYYY-MM-DD", "anniversary": "YYYY-MM-DD", "country": "e.g. NL"}
GENDERS = [
    ("Unspecified", "unspecified"),
    ("Female", "female"),
    ("Male", "male"),
    ("Other", "other"),
]


class CustomerFormScreen(FrontdeskScreen[int | None]):
    """Add a customer (no id) or edit one. Dismisses with the saved customer's id, or None."""

    AUTO_FOCUS = "#f-first_name"
    KEEP_STYLES = True  # the app keeps a closed new-customer form and reopens it
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
        staged: bool = False,
    ) -> None:
        super().__init__()
        # Composed bare, its widgets mounted later a few at a time (``build_steps``).
        self._staged = staged
        self.complete = False  # every widget mounted (``_ready``)
        self.customer_id = customer_id
        self.prefill = {k: v for k, v in (prefill or {}).items() if k in formdata.TEXT_FIELDS}
        self.created_via = created_via
        self.version: int | None = None
        self.business_region = "US"
        self.custom_fields: list[CustomField] = []
        self.initial: CustomerForm | None = None  # what was loaded: 'dirty' compares with it
        # The customer's saved custom values (editing): a required field they never had a
        # value for may stay empty; None for a new customer (required fields must be filled).
        self.stored_custom: dict[str, str] | None = None
        # The tags the edit form was loaded with (what the user's additions and removals are
        # counted from; ctrl+r keeps the user's tags and leaves this as loaded).
        self.loaded_tags: frozenset[int] | None = None
        self.duplicate: DuplicateCustomer | None = None
        self.conflict: Customer | None = None
        self.saving = False
        self._shown: dict[str, object] = {}  # the choices shown, by part (``_changed``)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="form-banner")
        with VerticalScroll(id="form", can_focus=False):
            with Grid(id="form-grid"):
                if not self._staged:
                    for part in self._grid_parts():
                        yield from part()
            if not self._staged:
                for part in self._lower_parts():
                    yield from part()
        yield KeyFooter()

    # The form's widgets in parts, in their order on the screen: composed at once, or (a form
    # the app builds ahead, ``staged``) mounted a part at a time by :meth:`build_steps`.
    def _grid_parts(self) -> list[Callable[[], list[Widget]]]:
        return [
            lambda: [self.field(n) for n in ("first_name", "last_name", "display_name", "email")],
            lambda: [
                self.choice(
                    "Mobile country",
                    Select[str](
                        formdata.region_choices(),
                        id="f-phone_country",
                        allow_blank=False,
                        value="US",
                    ),
                ),
                self.field("phone"),
                self.field("other_phone"),
            ],
            lambda: [
                self.choice(
                    "Gender",
                    Select[str](GENDERS, id="f-gender", allow_blank=False, value="unspecified"),
                ),
                self.field("date_of_birth"),
                self.field("anniversary"),
            ],
            lambda: [self.field(n) for n in ("address", "city", "state", "postal_code", "country")],
            lambda: [
                self.choice("Category", Select[int]([], id="f-category_id", prompt="(none)")),
                self.choice("Home branch", Select[int]([], id="f-home_branch_id", prompt="(none)")),
            ],
            lambda: [
                self.choice(
                    "Status",
                    Select[str](
                        [("Active", "active"), ("Inactive", "inactive")],
                        id="f-status",
                        allow_blank=False,
                        value="active",
                    ),
                ),
                self.field("photo_path"),
            ],
        ]

    def _lower_parts(self) -> list[Callable[[], list[Widget]]]:
        return [
            lambda: [
                Horizontal(
                    *(
                        Vertical(
                            Label(label),
                            Switch(id=f"f-{name}", value=name == "consent_reminders"),
                            classes="switch",
                        )
                        for name, label in SWITCHES.items()
                    ),
                    id="switches",
                )
            ],
            lambda: [
                self.field("blocked_reason"),
                Label("Tags", classes="section"),
                SelectionList[int](id="f-tags"),
                Label("Custom fields", classes="section", id="cf-title"),
                Grid(id="cf-grid"),
            ],
        ]

    def build_steps(self) -> Iterator[Callable[[], Awaitable[None]]]:
        """A staged form's remaining work, in steps of a few widgets each (each step one
        await): its parts mounted in order, then what mounting the whole form does at once
        (:meth:`_ready`). A key typed while the app builds it ahead waits for one step at
        most. ``complete`` is True after the last."""
        grid = self.query_one("#form-grid", Grid)
        form = self.query_one("#form", VerticalScroll)

        def mounting(parent: Widget, part: Callable[[], list[Widget]]) -> Callable[[], Any]:
            async def step() -> None:
                await parent.mount_all(part())

            return step

        for parent, parts in ((grid, self._grid_parts()), (form, self._lower_parts())):
            for part in parts:
                yield mounting(parent, part)

        async def ready() -> None:
            self._ready()

        yield ready

    def choice(self, label: str, select: Widget) -> Widget:
        return Vertical(Label(label), select, classes="field")

    def field(self, name: str) -> Widget:
        # The line under the field stays blank until it first has a message (the label
        # ``#e-<name>`` is mounted then): 15 widgets fewer to mount, style and lay out.
        box = Vertical(
            Label(LABELS[name]),
            # A new customer's fields start with what was typed in the search box.
            Input(
                self.prefill.get(name, ""),
                id=f"f-{name}",
                placeholder=PLACEHOLDERS.get(name, ""),
            ),
            classes="field",
            id=f"box-{name}",
        )
        box.styles.padding = (0, 0, 1, 0)
        return box

    # ------------------------------------------------------------------ loading
    def on_mount(self) -> None:
        self.title = "Edit customer" if self.customer_id else "New customer"
        if not self._staged:
            self._ready()

    def _ready(self) -> None:
        """Every widget is mounted: hide what waits for a reason to show, load the choices."""
        self.complete = True
        self.query_one("#form-banner", Static).display = False
        self.query_one("#box-blocked_reason").display = False
        self.query_one("#cf-title").display = False
        self._load()

    @property
    def reusable(self) -> bool:
        """A new-customer form that is not open: :meth:`reopen` can show it again."""
        return (
            self.customer_id is None
            and self.complete
            and self.is_attached
            and self not in self.app.screen_stack
        )

    def reopen(self, prefill: dict[str, str] | None = None) -> None:
        """Make this (closed) new-customer form blank again, as a new one would be, and load
        its choices afresh. The app keeps one and reopens it: composing and styling its
        widgets was most of the time an opening took (``FrontdeskApp.new_customer``)."""
        self.prefill = {k: v for k, v in (prefill or {}).items() if k in formdata.TEXT_FIELDS}
        self.version = None
        self.initial = None
        self.duplicate = None
        self.conflict = None
        self.saving = False
        self.title = "New customer"
        typed: dict[str, Any] = dict(self.prefill)
        blank = CustomerForm(**typed, phone_country=self.business_region)
        # Blanking the fields is not the user typing: no validation, no reactions.
        with self.prevent(Input.Changed, Select.Changed, Switch.Changed):
            self.fill(blank)
            self.query_one("#f-tags", SelectionList).deselect_all()
        for name in formdata.TEXT_FIELDS:
            self.show_error(name, None)  # a message line shown last time stays, empty
        for definition in self.custom_fields:
            self.show_custom_error(definition.key, None)
        banner = self.query_one("#form-banner", Static)
        if banner.display:
            banner.update("")
            banner.remove_class("conflict")
            banner.display = False
        self.query_one("#box-blocked_reason").display = False
        for select in self.query(Select):
            select.expanded = False  # a list left open by a ctrl+s that saved
        self.query_one("#form", VerticalScroll).scroll_home(animate=False, immediate=True)
        first = self.query_one("#f-first_name", Input)
        self.set_focus(first)
        first.cursor_position = len(first.value)
        self._load()

    def _load(self) -> None:
        # Keys typed before the form is filled wait, then land where they were meant to.
        self.hold_keys()
        customer_id = self.customer_id
        self.run_read(
            lambda s: load_customer_form(session=s, customer_id=customer_id),
            then=lambda data: self.call_next(self._fill_loaded, data),
            on_error=self._load_failed,
            group="form-load",
        )

    async def _fill_loaded(self, data: CustomerFormData) -> None:
        try:
            await self._apply_loaded(data)
            # A name brought from the search is kept: the cursor after it, not selecting it
            # (focusing selected it, and the first letter typed replaced "Nobody").
            first = self.query_one("#f-first_name", Input)
            if self.prefill.get("first_name") and self.focused is first:
                first.cursor_position = len(first.value)
        finally:
            self.release_keys()

    def _changed(self, part: str, key: object) -> bool:
        """Whether ``part``'s choices differ from what the form shows (a reopened form keeps
        its widgets when nothing changed: no new layout of the whole form)."""
        if self._shown.get(part) == key:
            return False
        self._shown[part] = key
        return True

    async def _apply_loaded(self, data: CustomerFormData) -> None:
        self.business_region = data.region
        self.custom_fields = data.custom_fields
        categories = [c for c in data.categories if c.id]
        if self._changed("categories", [(c.id, c.name, c.symbol, c.colour) for c in categories]):
            self.query_one("#f-category_id", Select).set_options(
                [
                    (join(user_text(c.symbol, safe_style(c.colour)), user_text(c.name)), c.id)
                    for c in categories
                ]
            )
        branches = [b for b in data.branches if b.id]
        if self._changed("branches", [(b.id, b.name) for b in branches]):
            self.query_one("#f-home_branch_id", Select).set_options(
                [(user_text(b.name), b.id) for b in branches]
            )
        chosen = data.form.tags if data.form else frozenset()
        tags = [t for t in data.tags if t.id]
        tag_list = self.query_one("#f-tags", SelectionList)
        if self._changed("tags", [(t.id, t.name) for t in tags]):
            tag_list.clear_options().add_options(
                [(user_text(t.name), t.id, t.id in chosen) for t in tags]
            )
        else:
            for t in tags:
                if t.id in chosen:
                    tag_list.select(t.id)
        self.query_one("#f-phone_country", Select).value = data.region
        await self.mount_custom_fields(data.custom_fields, data.custom_values)
        customer = data.customer
        self.stored_custom = dict(data.custom_values) if customer is not None else None
        self.loaded_tags = data.form.tags if customer is not None and data.form else None
        if customer is not None and data.form is not None:
            self.fill(data.form)
            self.title = plain(f"Edit {customer.code} {customer.full_name}")
        self.query_one("#box-blocked_reason").display = bool(data.form and data.form.blocked)
        self.initial = self.snapshot()
        if customer is None and self.prefill:
            # Pre-filled from the search box: leaving asks before discarding it.
            blank: dict[str, Any] = dict.fromkeys(self.prefill, "")
            self.initial = replace(self.initial, **blank)
            self.validate_all(show_empty=False)

    def _load_failed(self, error: Exception) -> None:
        self.release_keys()
        if isinstance(error, FrontdeskError):
            self.notify(str(error), severity="error", markup=False)
        self.initial = None
        self.dismiss(None)

    async def mount_custom_fields(
        self, definitions: list[CustomField], values: dict[str, str]
    ) -> None:
        self.query_one("#cf-title").display = bool(definitions)
        grid = self.query_one("#cf-grid", Grid)
        shape = [(f.key, f.label, f.type, f.required, f.choices, f.help_text) for f in definitions]
        if not self._changed("custom", shape):  # a reopened form: the same fields
            with self.prevent(Input.Changed):  # not typed: no "required" shown at once
                for f in definitions:
                    self.query_one(f"#cf-{f.key}", Input).value = plain(values.get(f.key, ""))
            return
        if grid.children:  # a reopened form: the fields as they are defined now
            await grid.remove_children()
        boxes: list[Widget] = []
        for f in definitions:
            hint = {
                "date": "YYYY-MM-DD",
                "yes_no": "yes / no",
                "number": "a number",
                "choice": "one of: " + ", ".join(f.choices or []),
                "multi_choice": "any of (comma separated): " + ", ".join(f.choices or []),
            }.get(f.type, f.help_text or "")
            boxes.append(
                Vertical(
                    Label(user_text(f.label + (" *" if f.required else ""))),
                    Input(plain(values.get(f.key, "")), id=f"cf-{f.key}", placeholder=plain(hint)),
                    Label(user_text(f.help_text or ""), classes="muted"),
                    Label("", id=f"ce-{f.key}", classes="field-error"),
                    classes="field",
                )
            )
        if boxes:
            await grid.mount_all(boxes)

    def fill(self, form: CustomerForm) -> None:
        """Show a stored customer's values (stored control characters shown escaped)."""
        self.version = form.expected_version
        for name in formdata.TEXT_FIELDS:
            self.query_one(f"#f-{name}", Input).value = plain(form.text(name))
        self.query_one("#f-phone_country", Select).value = (
            form.phone_country or self.business_region
        )
        self.query_one("#f-gender", Select).value = form.gender
        self.query_one("#f-status", Select).value = form.status
        for name in ("category_id", "home_branch_id"):
            select = self.query_one(f"#f-{name}", Select)
            value = getattr(form, name)
            if value:
                select.value = value
            else:
                select.clear()
        for name in SWITCH_FIELDS:
            self.query_one(f"#f-{name}", Switch).value = bool(getattr(form, name))

    # ------------------------------------------------------------------ the form's values
    def snapshot(self) -> CustomerForm:
        """The form as it is now (everything the user can change)."""
        values: dict[str, Any] = {
            name: self.query_one(f"#f-{name}", Input).value for name in formdata.TEXT_FIELDS
        }
        for name in CHOICE_FIELDS:
            value = self.query_one(f"#f-{name}", Select).value
            values[name] = None if value is Select.NULL else value
        for name in SWITCH_FIELDS:
            values[name] = self.query_one(f"#f-{name}", Switch).value
        return CustomerForm(
            **values,
            tags=frozenset(self.query_one("#f-tags", SelectionList).selected),
            custom={f.key: self.query_one(f"#cf-{f.key}", Input).value for f in self.custom_fields},
            customer_id=self.customer_id,
            created_via=CreatedVia(self.created_via).value,
        )

    @property
    def dirty(self) -> bool:
        return self.initial is not None and self.snapshot() != self.initial

    # ------------------------------------------------------------------ validation as you type
    def current_region(self) -> str:
        value = self.query_one("#f-phone_country", Select).value
        return value if isinstance(value, str) else self.business_region

    def show_error(self, name: str, message: str | None) -> None:
        boxes = self.query(f"#box-{name}")
        if not boxes:
            if message:
                self.notify(message, severity="error", markup=False)
            return
        box = boxes.first()
        lines = box.query(f"#e-{name}")
        if lines:
            lines.first(Label).update(user_text(message or ""))
        elif message:
            # The first message of this field: its line takes the blank line's place.
            box.styles.padding = 0
            box.mount(Label(user_text(message), id=f"e-{name}", classes="field-error"))
        self.query_one(f"#f-{name}", Input).set_class(bool(message), "invalid")

    def show_custom_error(self, key: str, message: str | None) -> None:
        if not self.query(f"#ce-{key}"):
            if message:
                self.notify(message, severity="error", markup=False)
            return
        self.query_one(f"#ce-{key}", Label).update(user_text(message or ""))
        self.query_one(f"#cf-{key}", Input).set_class(bool(message), "invalid")

    def validate_all(self, *, show_empty: bool = True) -> tuple[str | None, str | None]:
        """Show every field's message; returns (first bad standard field, first bad custom)."""
        form = self.snapshot()
        errors = form_errors(form, region=self.business_region)
        for name in formdata.TEXT_FIELDS:
            if show_empty or form.text(name):
                self.show_error(name, errors.get(name))
        stored = self.stored_custom
        bad_custom = custom_errors(self.custom_fields, form.custom, stored) if show_empty else {}
        for f in self.custom_fields:
            self.show_custom_error(f.key, bad_custom.get(f.key))
        return next(iter(errors), None), next(iter(bad_custom), None)

    @on(Input.Changed)
    def validate_field(self, event: Input.Changed) -> None:
        if self.initial is None:
            return  # still loading: the values are not the user's yet
        input_id = event.input.id or ""
        if input_id.startswith("cf-"):
            key = input_id[3:]
            definition = next((f for f in self.custom_fields if f.key == key), None)
            if definition is not None:
                stored = self.stored_custom
                message = custom_errors([definition], {key: event.value}, stored).get(key)
                self.show_custom_error(key, message)
            return
        name = input_id[2:]
        if name not in formdata.TEXT_FIELDS:
            return
        if name in ("phone", "email") and self.duplicate and self.duplicate.field == name:
            self.duplicate = None
        self.show_error(name, formdata.check_field(name, event.value, region=self.current_region()))

    @on(Select.Changed, "#f-phone_country")
    def country_changed(self) -> None:
        if self.initial is None:
            return
        for name in ("phone", "other_phone"):
            value = self.query_one(f"#f-{name}", Input).value
            self.show_error(name, formdata.check_field(name, value, region=self.current_region()))

    @on(Switch.Changed, "#f-blocked")
    def blocked_changed(self, event: Switch.Changed) -> None:
        self.query_one("#box-blocked_reason").display = event.value
        if event.value and self.initial is not None:
            self.set_focus(self.query_one("#f-blocked_reason", Input))

    # ------------------------------------------------------------------ saving
    def action_save(self) -> None:
        if self.saving or self.initial is None:
            return
        first_bad, bad_custom = self.validate_all()
        if first_bad or bad_custom:
            target = f"#f-{first_bad}" if first_bad else f"#cf-{bad_custom}"
            self.set_focus(self.query_one(target, Input))
            self.notify("Fix the marked fields first", severity="error")
            return
        form = replace(self.snapshot(), expected_version=self.version)
        if self.customer_id is not None:
            # Only what was changed here is written: another desk's custom values and tags
            # saved since the form opened stay.
            form = replace(form, loaded_custom=self.stored_custom, loaded_tags=self.loaded_tags)
        actor = self.fd.operator
        data_dir = self.fd.data_dir
        if data_dir is None:
            from frontdesk import config

            data_dir = config.data_dir()
        self.saving = True
        # Keys typed while saving wait: into the form again if it is refused, else onwards.
        self.hold_keys()
        self.run_write(
            lambda s: save_customer_form(session=s, form=form, actor=actor, data_dir=data_dir),
            then=self._saved,
            on_error=self._save_failed,
            group="form-save",
        )

    def _saved(self, result: SaveResult) -> None:
        self.saving = False
        self.initial = None
        self.dismiss(result.customer_id)

    def _save_failed(self, error: Exception) -> None:
        self.saving = False
        self.release_keys()
        if isinstance(error, DuplicateCustomer):
            self.duplicate = error
            label = "phone" if error.field == "phone" else "email"
            self.show_error(
                error.field,
                f"{error.existing_code} {error.existing_name} already has this {label}"
                " — ctrl+o opens them",
            )
            self.set_focus(self.query_one(f"#f-{error.field}", Input))
        elif isinstance(error, StaleRecord):
            self.show_conflict(error.current)
        elif isinstance(error, ValidationFailed):
            if error.field.startswith("cf_"):
                key = error.field[3:]
                self.show_custom_error(key, error.message)
                if self.query(f"#cf-{key}"):
                    self.set_focus(self.query_one(f"#cf-{key}", Input))
                return
            name = "phone" if error.field == "phone_country" else error.field
            self.show_error(name, error.message)
            if self.query(f"#f-{name}"):
                self.set_focus(self.query_one(f"#f-{name}"))
        elif isinstance(error, FrontdeskError):
            self.notify(str(error), severity="error", markup=False)
        # Anything else is shown by the app (with a crash report); the input stays as typed.

    def show_conflict(self, current: Customer, *, adopt: bool = True) -> None:
        """Someone else saved this customer meanwhile: keep our input, show their values.

        ``adopt``: the next ctrl+s saves ours over theirs (after a refused save). Seen by the
        live refresh (``adopt=False``), the next ctrl+s is still refused once, so that a save
        typed before the banner could be read never overwrites another desk's change."""
        theirs = form_of(current)
        ours = self.snapshot()
        text = Text()
        text.append(f"{plain(current.code)} was changed in another terminal ")
        text.append(f"(now version {current.version}). Your changes are not saved. Their values:")
        differing = [k for k in formdata.TEXT_FIELDS if theirs.text(k) != ours.text(k)]
        for k in differing[:8]:
            text.append(f"\n  {LABELS.get(k, k)}: ")
            text.append_text(user_text(theirs.text(k) or "—"))
        if not differing:
            text.append("\n  (same text fields; other settings differ)")
        text.append("\nctrl+s saves yours over theirs · ctrl+r loads theirs (discarding yours)")
        banner = self.query_one("#form-banner", Static)
        banner.update(text)
        banner.display = True
        banner.add_class("conflict")
        if adopt:
            self.version = current.version
        self.conflict = current

    def refresh_data(self) -> None:
        """Another desk saved something. What is typed here is never replaced: when it was
        this customer, the banner says so with their values (ctrl+r loads theirs)."""
        if self.customer_id is None or self.version is None or self.saving or self.conflict:
            return
        customer_id, seen = self.customer_id, self.version

        def compare(current: Customer) -> None:
            still_editing = self.is_current and not self.saving and self.initial is not None
            if still_editing and self.version == seen and current.version != seen:
                self.show_conflict(current, adopt=False)

        self.run_read(
            lambda s: get_customer(session=s, customer_id=customer_id),
            then=compare,
            group="form-live",
        )

    def action_reload(self) -> None:
        current = self.conflict
        if current is None:
            return
        ours = self.snapshot()
        self.fill(replace(form_of(current), tags=ours.tags, custom=ours.custom))
        self.version = current.version  # theirs is what is edited now
        self.initial = self.snapshot()
        self.query_one("#form-banner", Static).display = False
        self.conflict = None

    def action_open_existing(self) -> None:
        if self.duplicate is None:
            return
        existing_id = self.duplicate.existing_id

        def go(confirmed: bool | None) -> None:
            if confirmed:
                self.initial = None
                self.dismiss(None)
                self.fd.open_customer(existing_id)

        if self.dirty:
            self.app.push_screen(
                ConfirmModal("Leave this form and open the existing customer?", "Open"), go
            )
        else:
            go(True)

    def action_cancel(self) -> None:
        discard_or_stay(self, "Discard your unsaved changes?", changed=self.dirty)

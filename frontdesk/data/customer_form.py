"""The add/edit customer form's two use cases: load what it shows, save what was typed.

``load_customer_form`` reads everything the form needs in one session (choices, the business
phone region, the customer, their tags and custom values). ``save_customer_form`` validates
the typed form and saves it in one transaction: the customer (create, or update of only the
changed fields with an optimistic version check), the photo, the tags and the custom field
values, each change audited. The TUI, the CLI and tests call the same two functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from frontdesk.data import customers as svc
from frontdesk.data import fields as custom_fields
from frontdesk.data import roles
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.formdata import LABELS, TEXT_FIELDS, check_field, parse_date, text_values
from frontdesk.data.models import Branch, Category, CreatedVia, Customer, CustomField, Staff, Tag
from frontdesk.data.settings import default_region
from frontdesk.data.tags import set_tags, tag_ids_of

SWITCH_FIELDS = (
    "blocked",
    "consent_reminders",
    "consent_birthday",
    "consent_marketing",
    "consent_newsletter",
)
CHOICE_FIELDS = ("phone_country", "gender", "status", "category_id", "home_branch_id")


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class CustomerFormData:
    """Everything the form shows, read in one session."""

    region: str  # the business's default phone region
    categories: list[Category]
    branches: list[Branch]
    tags: list[Tag]
    custom_fields: list[CustomField]  # active definitions, in order
    customer: Customer | None = None
    form: CustomerForm | None = None  # the customer's values as the form shows them
    custom_values: dict[str, str] = field(default_factory=dict)


def load_customer_form(*, session: Session, customer_id: int | None = None) -> CustomerFormData:
    """What the add (no id) or edit form shows."""
    customer = svc.get_customer(session=session, customer_id=customer_id) if customer_id else None
    custom_values = (
        custom_fields.values_of(session=session, customer_id=customer_id) if customer_id else {}
    )
    form = None
    if customer is not None:
        assert customer.id is not None
        form = form_of(
            customer,
            tags=frozenset(tag_ids_of(session=session, customer_id=customer.id)),
            custom=custom_values,
        )
    return CustomerFormData(
        region=default_region(session),
        categories=list(session.exec(select(Category).order_by(col(Category.position)))),
        branches=list(session.exec(select(Branch).order_by(col(Branch.name)))),
        tags=list(session.exec(select(Tag).order_by(col(Tag.name)))),
        custom_fields=custom_fields.list_fields(session=session),
        customer=customer,
        form=form,
        custom_values=custom_values,
    )


# --------------------------------------------------------------------------- the typed form


@dataclass(frozen=True)
class CustomerForm:
    """The form as the user left it: text exactly as typed, choices, switches, tags, custom.

    ``customer_id`` None adds a customer; otherwise ``expected_version`` is the version the
    form was loaded from (a save over a newer version raises ``StaleRecord``).
    """

    first_name: str = ""
    last_name: str = ""
    display_name: str = ""
    phone: str = ""
    other_phone: str = ""
    email: str = ""
    date_of_birth: str = ""
    anniversary: str = ""
    address: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""
    blocked_reason: str = ""
    photo_path: str = ""
    phone_country: str | None = None  # None: the business region
    gender: str = "unspecified"
    status: str = "active"
    category_id: int | None = None
    home_branch_id: int | None = None
    blocked: bool = False
    consent_reminders: bool = True
    consent_birthday: bool = False
    consent_marketing: bool = False
    consent_newsletter: bool = False
    tags: frozenset[int] = frozenset()
    custom: dict[str, str] = field(default_factory=dict)
    customer_id: int | None = None
    expected_version: int | None = None
    created_via: str = CreatedVia.MANUAL.value
    # What an edit form was loaded with (its custom values and tags): only what the user
    # changed from these is written, so a value or tag another desk saved meanwhile stays
    # (custom values and tags do not move the customer's version). None: the form is all.
    loaded_custom: dict[str, str] | None = None
    loaded_tags: frozenset[int] | None = None

    def text(self, name: str) -> str:
        return str(getattr(self, name))


def form_of(
    customer: Customer, *, tags: frozenset[int] = frozenset(), custom: dict[str, str] | None = None
) -> CustomerForm:
    """A stored customer as the form shows it."""
    values: dict[str, Any] = dict(text_values(customer))
    for name in (*CHOICE_FIELDS, *SWITCH_FIELDS):
        values[name] = getattr(customer, name)
    values["blocked"] = bool(customer.blocked)
    return CustomerForm(
        **values,
        tags=tags,
        custom=dict(custom or {}),
        customer_id=customer.id,
        expected_version=customer.version,
    )


def form_errors(form: CustomerForm, *, region: str | None) -> dict[str, str]:
    """{field: message} for every standard field that cannot be saved as typed.

    ``region`` is the region a phone typed without +country code is read in (the form's
    mobile country, else the business region). Needs no database: the form calls it as you
    type, the save service again before saving.
    """
    errors: dict[str, str] = {}
    for name in TEXT_FIELDS:
        message = check_field(name, form.text(name), region=form.phone_country or region)
        if message:
            errors[name] = message
    if form.blocked and not form.blocked_reason.strip() and "blocked_reason" not in errors:
        errors["blocked_reason"] = "Say why the customer is blocked"
    return errors


def custom_errors(
    definitions: list[CustomField],
    values: dict[str, str],
    stored: dict[str, str] | None = None,
) -> dict[str, str]:
    """{field key: message} for every custom field whose typed value is refused.

    ``stored``: the customer's saved values when editing (None for a new customer). A
    required field must be filled for a new customer and cannot be cleared; an existing
    customer who never had a value (saved before the field was made required) may be saved
    with it still empty."""
    errors: dict[str, str] = {}
    for definition in definitions:
        keep_empty = stored is not None and not stored.get(definition.key, "").strip()
        try:
            custom_fields.parse_value(
                definition, values.get(definition.key, ""), keep_empty=keep_empty
            )
        except ValidationFailed as exc:
            errors[definition.key] = exc.message
    return errors


# --------------------------------------------------------------------------- saving


@dataclass(frozen=True)
class SaveResult:
    customer_id: int
    code: str
    version: int
    created: bool
    changed: tuple[str, ...] = ()  # what changed: field names, "tags", "custom: <key>"


def save_customer_form(
    *,
    session: Session,
    form: CustomerForm,
    actor: Staff | None,
    data_dir: Path | None = None,
) -> SaveResult:
    """Validate and save the whole form in the caller's transaction.

    Raises ``ValidationFailed`` (field names as in the form; custom fields as ``cf_<key>``),
    ``DuplicateCustomer`` (phone/email of another live customer) or ``StaleRecord`` (someone
    else saved this customer since ``form.expected_version``). Nothing is written then.
    ``data_dir`` is where photos are kept (default: the configured data directory).
    Only staff who may add or change customers may save (``NotAllowed``).
    """
    roles.require(actor, "customers.write")
    region = default_region(session)
    errors = form_errors(form, region=region)
    if errors:
        name, message = next(iter(errors.items()))
        raise ValidationFailed(name, message)
    definitions = custom_fields.list_fields(session=session)
    stored_custom: dict[str, str] | None = (
        None
        if form.customer_id is None
        else custom_fields.values_of(session=session, customer_id=form.customer_id)
    )
    active = {d.key for d in definitions}
    # The custom values this save writes: those the user changed from what the form was
    # loaded with (every one that differs from the stored value when it does not say).
    base = form.loaded_custom if form.loaded_custom is not None else (stored_custom or {})
    custom = {
        k: v for k, v in form.custom.items() if k in active and v.strip() != base.get(k, "").strip()
    }
    if stored_custom is not None and form.loaded_custom is not None:
        # Checked as they will be: the stored values with the user's changes on top.
        bad = custom_errors(definitions, {**stored_custom, **custom}, stored_custom)
    else:
        bad = custom_errors(definitions, form.custom, stored_custom)
    if bad:
        key, message = next(iter(bad.items()))
        raise ValidationFailed(f"cf_{key}", message)

    values = _values(form)
    changed: list[str] = []
    if form.customer_id is None:
        customer = svc.create_customer(
            session=session,
            data=svc.CustomerCreate(**values),
            actor=actor,
            created_via=form.created_via,
            region=region,
        )
        changed.extend(k for k, v in values.items() if v not in (None, "", False))
    else:
        current = svc.get_customer(session=session, customer_id=form.customer_id)
        before = current.version
        update = _changes(form, values, current, region=region)
        customer = svc.update_customer(
            session=session,
            customer_id=form.customer_id,
            data=svc.CustomerUpdate(**update),
            expected_version=(
                form.expected_version if form.expected_version is not None else current.version
            ),
            actor=actor,
            region=region,
        )
        if customer.version != before:
            changed.extend(update)
    assert customer.id is not None
    customer_id = customer.id

    photo = form.photo_path.strip()
    if photo != (customer.photo_path or ""):
        stored = None
        if photo:
            from frontdesk.data.photos import store_photo

            if data_dir is None:
                from frontdesk import config

                data_dir = config.data_dir()
            stored = store_photo(source=photo, code=customer.code, data_dir=data_dir)
        customer = svc.update_customer(
            session=session,
            customer_id=customer_id,
            data=svc.CustomerUpdate(photo_path=stored),
            expected_version=customer.version,
            actor=actor,
        )
        changed.append("photo_path")

    wanted = set(form.tags)
    if form.loaded_tags is not None and form.customer_id is not None:
        # The tags as stored now, with the user's own additions and removals.
        added, removed = form.tags - form.loaded_tags, form.loaded_tags - form.tags
        wanted = (tag_ids_of(session=session, customer_id=customer_id) | added) - removed
    if set_tags(session=session, customer_id=customer_id, tag_ids=wanted, actor=actor):
        changed.append("tags")

    saved = stored_custom or {}
    custom = {k: v for k, v in custom.items() if v.strip() != saved.get(k, "").strip()}
    if custom:
        done = custom_fields.set_values(
            session=session,
            customer_id=customer_id,
            values=custom,
            actor=actor,
            new_customer=form.customer_id is None,
        )
        changed.extend(f"custom: {k}" for k in done)
    return SaveResult(
        customer_id=customer_id,
        code=customer.code,
        version=customer.version,
        created=form.customer_id is None,
        changed=tuple(changed),
    )


def _values(form: CustomerForm) -> dict[str, Any]:
    """The form's customer fields as the customer services take them (photo apart)."""
    out: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        if name == "photo_path":
            continue
        value: str | date | None = form.text(name)
        if name in ("date_of_birth", "anniversary"):
            value = parse_date(form.text(name), name, LABELS[name])
        elif name == "blocked_reason" and not form.blocked:
            value = ""  # a reason only means something while blocked
        out[name] = value
    for name in (*CHOICE_FIELDS, *SWITCH_FIELDS):
        out[name] = getattr(form, name)
    return out


def _changes(
    form: CustomerForm, values: dict[str, Any], current: Customer, *, region: str
) -> dict[str, Any]:
    """The fields the form changes on the stored customer (only those are written)."""
    shown = form_of(current)
    update: dict[str, Any] = {}
    for name, value in values.items():
        if name in ("phone", "phone_country"):
            continue
        if name in TEXT_FIELDS:
            if form.text(name).strip() != shown.text(name).strip():
                update[name] = value
        elif value != getattr(shown, name):
            update[name] = value
    # The phone is read in the form's mobile country: send both when either was changed.
    if form.phone.strip() != shown.phone.strip() or (
        form.phone.strip() and (form.phone_country or region) != (shown.phone_country or region)
    ):
        update["phone"] = values["phone"]
        update["phone_country"] = values["phone_country"]
    return update


__all__ = [
    "CustomerForm",
    "CustomerFormData",
    "SaveResult",
    "custom_errors",
    "form_errors",
    "form_of",
    "load_customer_form",
    "save_customer_form",
]

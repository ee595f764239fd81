"""Exporting customers to CSV (UTF-8 with BOM) or XLSX.

Every field goes out as Frontdesk's import reads it back (home branch, category, tags and
custom fields headed with their label), so that an export imported into another database
gives back the same customers. XLSX cells are typed as text (no formula can run and no
apostrophe is needed); CSV cells that a spreadsheet would run as a formula get a leading
apostrophe unless ``plain`` is asked for (for mail platforms and other systems).

Exporting is for the desk: a selection of up to ``roles.EXPORT_SELECTION_LIMIT`` customers
takes "export", anything more or the whole directory takes "export.full".

The file written is never the database's own (nor its -wal, -shm, -journal or -writers
companion), and an existing file is replaced only when asked (``overwrite``). The rows go to a
private temporary file next to the target, moved onto it when complete: a refused or failed
export leaves whatever was there before untouched.

A finished export goes in the audit log (:func:`record_export`: who, when, the file's name
and how many customers), in a write transaction of its own after the file is complete: the
export itself only reads, and a long one holds no write lock.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from frontdesk.data import audit, fields
from frontdesk.data import customers as svc
from frontdesk.data.errors import TargetExists
from frontdesk.data.importing import HEADERS, custom_header, guard, normalise_header
from frontdesk.data.models import (
    AuditEvent,
    Branch,
    Category,
    ContactKind,
    ContactPoint,
    Customer,
    CustomerTag,
    CustomField,
    CustomFieldValue,
    Staff,
    Tag,
)
from frontdesk.data.roles import EXPORT_SELECTION_LIMIT, NotAllowed, allowed, require
from frontdesk.data.targets import check_target

# A search exported by an admin: all its matches (a search is not paged, so bounded).
SEARCH_EXPORT_MOST = 1_000_000

COLUMNS = [
    ("Code", "code"),
    ("First name", "first_name"),
    ("Last name", "last_name"),
    ("Display name", "display_name"),
    ("Email", "email"),
    ("Mobile", "phone"),
    ("Other phone", "other_phone"),
    ("Secondary phones", "secondary_phones"),
    ("Secondary emails", "secondary_emails"),
    ("Gender", "gender"),
    ("Date of birth", "date_of_birth"),
    ("Anniversary", "anniversary"),
    ("Address", "address"),
    ("City", "city"),
    ("State", "state"),
    ("Postal code", "postal_code"),
    ("Country", "country"),
    ("Category", "category"),
    ("Tags", "tags"),
    ("Home branch", "home_branch"),
    ("Status", "status"),
    ("Blocked", "blocked"),
    ("Blocked reason", "blocked_reason"),
    ("Appointment reminders", "consent_reminders"),
    ("Birthday messages", "consent_birthday"),
    ("Marketing", "consent_marketing"),
    ("Newsletter", "consent_newsletter"),
    ("Created", "created_at"),
]


def _as_is(value: Any) -> str:
    return "" if value is None else str(value)


def headers_of(custom: list[CustomField]) -> list[str]:
    """The export's header row: the standard columns, then each custom field by its label
    (``cf:key`` when the label would read as another column)."""
    header = [label for label, _ in COLUMNS]
    taken = {normalise_header(h) for h in header} | set(HEADERS)
    for f in custom:
        name = custom_header(f.label, f.key, taken)
        taken.add(normalise_header(name))
        header.append(name)
    return header


def _exact(value: CustomFieldValue) -> str:
    """A custom value as the import reads it back, numbers without rounding."""
    if value.value_list:
        return ", ".join(value.value_list)
    if value.value_bool is not None:
        return "yes" if value.value_bool else "no"
    if value.value_date is not None:
        return value.value_date.isoformat()
    if value.value_number is not None:
        number = value.value_number
        return str(int(number)) if number.is_integer() else repr(number)
    return value.value_text or ""


def _cell(customer: Customer, key: str, lookups: dict[str, Any]) -> Any:
    if key == "category":
        category = lookups["categories"].get(customer.category_id)
        return category.name if category else ""
    if key == "home_branch":
        branch = lookups["branches"].get(customer.home_branch_id)
        return branch.name if branch else ""
    if key == "tags":
        return ", ".join(lookups["tags_of"].get(customer.id, []))
    if key in ("secondary_phones", "secondary_emails"):
        return ", ".join(lookups[key].get(customer.id, []))
    value = getattr(customer, key)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _rows(
    session: Session,
    filters: svc.DirectoryFilter,
    text: str,
    ids: list[int] | None,
    most: int,
) -> Iterator[list[Customer]]:
    if ids is not None:
        for start in range(0, len(ids), 500):
            yield list(
                session.exec(select(Customer).where(col(Customer.id).in_(ids[start : start + 500])))
            )
        return
    if text.strip():
        # Every match (a search is ranked, not paged): up to ``most``.
        yield svc.search(session=session, text=text, limit=most, filters=filters)
        return
    cursor = None
    while True:
        page = svc.directory_page(session=session, filters=filters, after=cursor, limit=1000)
        if not page:
            return
        yield page
        cursor = svc.cursor_of(page[-1])


def is_full(filters: svc.DirectoryFilter | None, text: str, ids: list[int] | None) -> bool:
    """Whether this export is the whole directory (no selection, search or filter)."""
    if ids is not None or text.strip():
        return False
    return filters is None or filters == svc.DirectoryFilter()


def check_export(
    actor: Staff | None,
    *,
    filters: svc.DirectoryFilter | None = None,
    text: str = "",
    ids: list[int] | None = None,
) -> None:
    """Refuse (``NotAllowed``) what the actor may not export, before anything is read: the
    desk exports a selection of up to EXPORT_SELECTION_LIMIT customers, admins anything."""
    require(actor, "export")
    if is_full(filters, text, ids) or (ids is not None and len(ids) > EXPORT_SELECTION_LIMIT):
        require(actor, "export.full")


class _Writer:
    """CSV or XLSX rows into a private temporary file next to ``path``, moved onto ``path``
    when complete (a refused or failed export leaves nothing behind, and the file that was
    there before as it was). Without ``overwrite`` an existing file is never replaced, also
    one that appeared while the rows were written."""

    def __init__(self, path: Path, plain_values: bool, overwrite: bool = True) -> None:
        self.path = path
        self.overwrite = overwrite
        self.xlsx = path.suffix.lower() == ".xlsx"
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
        self.temp = Path(name)  # mkstemp makes it readable by its owner only
        self.handle: Any = None
        self.writer: Any = None
        self.cell = _as_is if plain_values or self.xlsx else guard
        if self.xlsx:
            os.close(fd)
            from openpyxl import Workbook

            self.book = Workbook(write_only=True)
            self.sheet = self.book.create_sheet("Customers")
        else:
            self.handle = os.fdopen(fd, "w", encoding="utf-8-sig", newline="")
            self.writer = csv.writer(self.handle)

    def row(self, values: list[Any]) -> None:
        cells = [self.cell(v) for v in values]
        if not self.xlsx:
            self.writer.writerow(cells)
            return
        from openpyxl.cell import WriteOnlyCell

        out = []
        for text in cells:
            cell = WriteOnlyCell(self.sheet, value=text)
            cell.data_type = "s"  # text, also when it starts with "=": never a formula
            cell.number_format = "@"
            out.append(cell)
        self.sheet.append(out)

    def finish(self) -> None:
        if self.xlsx:
            self.book.save(self.temp)
        else:
            self.handle.close()
        os.chmod(self.temp, 0o600)
        if self.overwrite:
            os.replace(self.temp, self.path)
            return
        try:
            os.link(self.temp, self.path)  # fails if the name is taken: never replaces
        except FileExistsError:
            raise TargetExists(self.path) from None
        except OSError:  # a file system without hard links
            if os.path.lexists(self.path):
                raise TargetExists(self.path) from None
            os.replace(self.temp, self.path)
            return
        self.temp.unlink()

    def discard(self) -> None:
        if self.handle is not None and not self.handle.closed:
            self.handle.close()
        self.temp.unlink(missing_ok=True)


def export_customers(
    *,
    session: Session,
    path: Path,
    filters: svc.DirectoryFilter | None = None,
    text: str = "",
    ids: list[int] | None = None,
    actor: Staff | None = None,
    plain: bool = False,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the customers (all, a filter, a search or a selection); returns how many.

    ``actor`` must be allowed (see :func:`check_export`); a filter or search that turns out
    to hold more than EXPORT_SELECTION_LIMIT customers takes "export.full" too. ``plain``:
    CSV values without formula protection. The target is checked first (see
    :func:`check_target`): never the database's own files; an existing file only with
    ``overwrite`` (else ``TargetExists``).
    """
    check_export(actor, filters=filters, text=text, ids=ids)
    check_target(session=session, path=path, overwrite=overwrite)
    path = path.expanduser()
    may_all = allowed(actor, "export.full")
    custom = fields.list_fields(session=session)
    header = headers_of(custom)
    lookups: dict[str, Any] = {
        "categories": {c.id: c for c in session.exec(select(Category))},
        "branches": {b.id: b for b in session.exec(select(Branch))},
    }
    field_ids = {f.id: i for i, f in enumerate(custom)}
    out = _Writer(path, plain, overwrite)
    count = 0
    try:
        out.row(header)
        most = SEARCH_EXPORT_MOST if may_all else EXPORT_SELECTION_LIMIT + 1
        for page in _rows(session, filters or svc.DirectoryFilter(), text, ids, most):
            if not may_all and count + len(page) > EXPORT_SELECTION_LIMIT:
                raise NotAllowed("export.full", actor)
            page_ids = [c.id for c in page]
            tags_of: dict[int, list[str]] = {}
            for cid, name in session.exec(
                select(CustomerTag.customer_id, Tag.name)
                .join(Tag, col(Tag.id) == col(CustomerTag.tag_id))
                .where(col(CustomerTag.customer_id).in_(page_ids))
            ):
                tags_of.setdefault(cid, []).append(name)
            lookups["tags_of"] = tags_of
            phones: dict[int, list[str]] = {}
            emails: dict[int, list[str]] = {}
            for point in session.exec(
                select(ContactPoint)
                .where(col(ContactPoint.customer_id).in_(page_ids))
                .order_by(col(ContactPoint.id))
            ):
                if point.kind == ContactKind.PHONE.value:
                    phones.setdefault(point.customer_id, []).append(point.value)
                else:
                    emails.setdefault(point.customer_id, []).append(point.display or point.value)
            lookups["secondary_phones"], lookups["secondary_emails"] = phones, emails
            values_of: dict[int, list[str]] = {}
            if custom:
                for value in session.exec(
                    select(CustomFieldValue).where(col(CustomFieldValue.customer_id).in_(page_ids))
                ):
                    at = field_ids.get(value.field_id)
                    if at is not None:
                        values_of.setdefault(value.customer_id, [""] * len(custom))[at] = _exact(
                            value
                        )
            for customer in page:
                row = [_cell(customer, key, lookups) for _, key in COLUMNS]
                row += values_of.get(customer.id or 0, [""] * len(custom))
                out.row(row)
                count += 1
            if progress:
                progress(len(page))
        out.finish()
    except BaseException:
        out.discard()
        raise
    return count


# The audit log's record kind for exports (entity id 0: no one record).
AUDIT_ENTITY = "export"


def record_export(*, session: Session, path: Path, count: int, actor: Staff | None) -> AuditEvent:
    """Record a finished export in the audit log ("Export of 120 customers by Rita: vip.csv"):
    the file's name (not its folders) and how many customers it holds. The caller commits."""
    return audit.record(
        session=session,
        actor=actor,
        entity=AUDIT_ENTITY,
        entity_id=0,
        action="export",
        changes={"file": (None, Path(path).name), "customers": (None, count)},
    )

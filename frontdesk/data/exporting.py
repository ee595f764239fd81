"""Exporting customers to CSV (UTF-8 with BOM) or XLSX, safe against formula injection."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from frontdesk.data import customers as svc
from frontdesk.data import fields
from frontdesk.data.importing import FORMULA_START
from frontdesk.data.models import Branch, Category, Customer, CustomerTag, Tag

COLUMNS = [
    ("Code", "code"),
    ("First name", "first_name"),
    ("Last name", "last_name"),
    ("Display name", "display_name"),
    ("Email", "email"),
    ("Mobile", "phone"),
    ("Other phone", "other_phone"),
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


def guard(value: Any) -> str:
    """A cell a spreadsheet cannot run as a formula (Frontdesk's import undoes the quote)."""
    text = "" if value is None else str(value)
    if text and text[0] in FORMULA_START:
        return "'" + text
    return text


def _cell(customer: Customer, key: str, lookups: dict[str, Any]) -> Any:
    if key == "category":
        category = lookups["categories"].get(customer.category_id)
        return category.name if category else ""
    if key == "home_branch":
        branch = lookups["branches"].get(customer.home_branch_id)
        return branch.name if branch else ""
    if key == "tags":
        return ", ".join(lookups["tags_of"].get(customer.id, []))
    value = getattr(customer, key)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _rows(
    session: Session, filters: svc.DirectoryFilter, text: str, ids: list[int] | None
) -> Iterator[list[Customer]]:
    if ids is not None:
        for start in range(0, len(ids), 500):
            yield list(
                session.exec(select(Customer).where(col(Customer.id).in_(ids[start : start + 500])))
            )
        return
    if text.strip():
        yield svc.search(session=session, text=text, limit=1000, filters=filters)
        return
    cursor = None
    while True:
        page = svc.directory_page(session=session, filters=filters, after=cursor, limit=1000)
        if not page:
            return
        yield page
        cursor = svc.cursor_of(page[-1])


def export_customers(
    *,
    session: Session,
    path: Path,
    filters: svc.DirectoryFilter | None = None,
    text: str = "",
    ids: list[int] | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the customers (all, a filter, a search or a selection); returns how many."""
    custom = fields.list_fields(session=session)
    header = [label for label, _ in COLUMNS] + [f"cf:{f.key}" for f in custom]
    lookups: dict[str, Any] = {
        "categories": {c.id: c for c in session.exec(select(Category))},
        "branches": {b.id: b for b in session.exec(select(Branch))},
    }
    xlsx = path.suffix.lower() == ".xlsx"
    count = 0
    if xlsx:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("Customers")
        sheet.append(header)
        handle = None
        writer = None
    else:
        handle = path.open("w", encoding="utf-8-sig", newline="")
        writer = csv.writer(handle)
        writer.writerow(header)
    try:
        for page in _rows(session, filters or svc.DirectoryFilter(), text, ids):
            page_ids = [c.id for c in page]
            tags_of: dict[int, list[str]] = {}
            for cid, name in session.exec(
                select(CustomerTag.customer_id, Tag.name)
                .join(Tag, col(Tag.id) == col(CustomerTag.tag_id))
                .where(col(CustomerTag.customer_id).in_(page_ids))
            ):
                tags_of.setdefault(cid, []).append(name)
            lookups["tags_of"] = tags_of
            for customer in page:
                values = (
                    fields.values_of(session=session, customer_id=customer.id or 0)
                    if custom
                    else {}
                )
                row = [guard(_cell(customer, key, lookups)) for _, key in COLUMNS]
                row += [guard(values.get(f.key, "")) for f in custom]
                if xlsx:
                    sheet.append(row)
                else:
                    assert writer is not None
                    writer.writerow(row)
                count += 1
            if progress:
                progress(len(page))
    finally:
        if handle is not None:
            handle.close()
    if xlsx:
        book.save(path)
    path.chmod(0o600)
    return count

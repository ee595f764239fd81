"""Importing customers from CSV/XLSX exports of other systems.

Streams rows (bounded memory), maps headers automatically (Square, Fresha, Vagaro, Shopify,
Google Contacts, Outlook and plain forms), validates every row like the app does, commits in
batches, and reports each bad row with its record number, field and reason. Re-running the
same file changes nothing: rows whose phone or email is already in the database are
duplicates and are handled by the chosen policy.
"""

from __future__ import annotations

import csv
import gc
import json
import multiprocessing
import os
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Generator, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cache
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, literal, union_all, update
from sqlalchemy import func as sa_func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from frontdesk.data import candidates, fields, rewards
from frontdesk.data import customers as svc
from frontdesk.data.bulk import bulk_insert, insert_with_ids
from frontdesk.data.errors import FrontdeskError, ValidationFailed
from frontdesk.data.models import (
    Branch,
    Category,
    ContactKind,
    ContactPoint,
    Counter,
    CreatedVia,
    Customer,
    CustomerTag,
    CustomField,
    Note,
    Staff,
    Tag,
)
from frontdesk.data.notes import note_body
from frontdesk.data.tags import create_tag, tag_name
from frontdesk.data.targets import check_target
from frontdesk.data.validation import check_text, clean_multiline, fold

FIELDS = [
    "first_name",
    "last_name",
    "full_name",
    "display_name",
    "email",
    "phone",
    "other_phone",
    "gender",
    "date_of_birth",
    "anniversary",
    "address",
    "city",
    "state",
    "postal_code",
    "country",
    "category",
    "tags",
    "home_branch",
    "created_at",
    "status",
    "blocked",
    "blocked_reason",
    "consent_reminders",
    "consent_birthday",
    "consent_marketing",
    "consent_newsletter",
    "note",
    "code",
    "secondary_phones",
    "secondary_emails",
]

# Normalised header (lower case, letters and digits only) -> field.
HEADERS: dict[str, str] = {}


def _known(field_name: str, *names: str) -> None:
    for name in names:
        HEADERS[re.sub(r"[^a-z0-9]", "", name.lower())] = field_name


_known(
    "first_name",
    "first name",
    "firstname",
    "given name",
    "first",
    "forename",
    "voornaam",
    "vorname",
    "prénom",
)
_known(
    "last_name", "last name", "lastname", "surname", "family name", "achternaam", "nachname", "nom"
)
_known(
    "full_name", "name", "full name", "customer name", "client name", "client", "customer", "naam"
)
_known("display_name", "display name", "nickname", "preferred name", "file as")
_known(
    "email",
    "email",
    "e-mail",
    "email address",
    "e-mail address",
    "e-mail 1 - value",
    "email 1 - value",
    "emailaddress",
    "mail",
)
_known(
    "phone",
    "mobile",
    "mobile phone",
    "mobile number",
    "mobile phone number",
    "cell",
    "cell phone",
    "cellphone",
    "phone",
    "phone number",
    "phone 1 - value",
    "telephone",
    "tel",
    "mobiel",
    "handy",
)
_known(
    "other_phone",
    "other phone",
    "home phone",
    "business phone",
    "day phone",
    "work phone",
    "phone 2 - value",
    "landline",
)
_known("gender", "gender", "sex")
_known(
    "date_of_birth", "birthday", "date of birth", "dob", "birth date", "birthdate", "geboortedatum"
)
_known("anniversary", "anniversary")
_known(
    "address",
    "address",
    "street",
    "street address",
    "street address 1",
    "address1",
    "address 1",
    "home street",
    "address 1 - street",
    "default address address1",
)
_known("city", "city", "town", "home city", "address 1 - city", "default address city")
_known(
    "state",
    "state",
    "province",
    "region",
    "county",
    "home state",
    "address 1 - region",
    "default address province code",
)
_known(
    "postal_code",
    "postal code",
    "postcode",
    "zip",
    "zip code",
    "home postal code",
    "address 1 - postal code",
    "default address zip",
)
_known(
    "country",
    "country",
    "country code",
    "home country/region",
    "address 1 - country",
    "default address country code",
)
_known("category", "category", "client type", "customer type")
_known("tags", "tags", "labels", "groups", "group membership", "categories")
_known("home_branch", "home branch", "branch", "home location", "preferred location")
_known("created_at", "created", "created at", "customer since", "date created")
_known("status", "status", "customer status")
_known("blocked", "blocked", "blacklisted", "banned", "block")
_known("blocked_reason", "blocked reason", "block reason")
_known(
    "consent_reminders", "appointment reminders", "reminders", "sms reminders", "accepts reminders"
)
_known("consent_birthday", "birthday messages")
_known(
    "consent_marketing",
    "marketing",
    "marketing opt-in",
    "accepts marketing",
    "accepts email marketing",
    "email marketing",
    "email subscription status",
    "sms marketing",
    "accepts sms marketing",
)
_known("consent_newsletter", "newsletter", "subscribed", "newsletter subscription")
_known("note", "note", "notes", "comments", "comment", "remarks", "memo")
_known("code", "code", "customer id", "client id", "reference id", "id")
_known("secondary_phones", "secondary phones", "more phones")
_known("secondary_emails", "secondary emails", "more emails")

YES = {"yes", "y", "true", "1", "on", "x", "subscribed", "opted in", "opt-in", "ja", "oui", "si"}
NO = {
    "no",
    "n",
    "false",
    "0",
    "off",
    "",
    "unsubscribed",
    "not subscribed",
    "opted out",
    "nee",
    "non",
}
GENDERS = {
    "f": "female",
    "female": "female",
    "woman": "female",
    "vrouw": "female",
    "m": "male",
    "male": "male",
    "man": "male",
    "other": "other",
    "x": "other",
    "non-binary": "other",
    "nonbinary": "other",
    "unspecified": "unspecified",
    "unknown": "unspecified",
    "": "unspecified",
}
# A spreadsheet runs a cell starting with one of these as a formula; full-width forms too
# (some spreadsheets read the full-width equals sign U+FF1D as =).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

# Columns of Frontdesk's own error file: ignored when that file is imported again (and not
# repeated in the error file of that import).
REPORT_COLUMNS = ["frontdesk_record", "frontdesk_field", "frontdesk_error"]

# Only these reject a row when they cannot be read; any other value that cannot be read is
# left out of the customer with a warning.
IDENTITY_FIELDS = frozenset(
    {"row", "first_name", "last_name", "full_name", "display_name", "phone", "email"}
)

# Regions writing dates month first (3/14/1990); everyone else writes day first.
MONTH_FIRST_REGIONS = frozenset(
    {"US", "PR", "GU", "VI", "AS", "MP", "UM", "FM", "MH", "PW", "PH", "BZ"}
)


_COUNTRY_ALIASES = {
    "usa": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "the netherlands": "NL",
    "holland": "NL",
    "nederland": "NL",
    "deutschland": "DE",
    "españa": "ES",
    "österreich": "AT",
    "schweiz": "CH",
    "suisse": "CH",
    "belgië": "BE",
    "belgique": "BE",
    "korea": "KR",
    "republic of korea": "KR",
    "uae": "AE",
}
_COUNTRY_NAMES: dict[str, str] = {}


def country_code(name: str) -> str | None:
    """The two-letter code of a country written out ("United Kingdom" -> "GB"), or None."""
    if not _COUNTRY_NAMES:
        import phonenumbers
        from phonenumbers.geocoder import _region_display_name

        for region in phonenumbers.SUPPORTED_REGIONS:
            shown = _region_display_name(region, "en")
            if shown:
                _COUNTRY_NAMES[fold(shown)] = region
        _COUNTRY_NAMES.update({fold(k): v for k, v in _COUNTRY_ALIASES.items()})
    return _COUNTRY_NAMES.get(fold(name.strip().rstrip(".")))


def date_order_for(region: str | None) -> str:
    """ "mdy" for a region that writes month first (the US), else "dmy"."""
    return "mdy" if (region or "").upper() in MONTH_FIRST_REGIONS else "dmy"


def normalise_header(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", (header or "").replace("\ufeff", "").lower())


def custom_header(label: str, key: str, taken: set[str]) -> str:
    """The column of a custom field in an export: its label, unless the label reads as one
    of the standard columns or is taken (then ``cf:key``). ``taken``: normalised headers."""
    norm = normalise_header(label)
    if not norm or norm in HEADERS or norm in taken or label.startswith("cf:"):
        return f"cf:{key}"
    return label


def guess_mapping(
    headers: list[str], custom: list[tuple[str, str]] | None = None
) -> dict[str, str]:
    """{header: field | "ignore"} for a file's headers; ``custom``: the database's custom
    fields as (label, key), whose columns are recognised by label or as ``cf:key``."""
    by_label: dict[str, str] = {}
    for label, key in custom or []:
        norm = normalise_header(label)
        if norm and norm not in HEADERS:
            by_label.setdefault(norm, f"cf:{key}")
    out: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        norm = normalise_header(header)
        target = HEADERS.get(norm) or by_label.get(norm, "ignore")
        if header.startswith("cf:"):
            target = header  # Frontdesk's own export: custom field columns
        if header.strip().lower() in REPORT_COLUMNS:
            target = "ignore"  # a corrected error file
        if target == "phone" and "phone" in used and "other_phone" not in used:
            target = "other_phone"  # a second phone column (Fresha's Telephone)
        if target != "ignore" and target in used and target not in ("note", "tags"):
            target = "ignore"  # e.g. a third phone column mapped only once
        out[header] = target
        used.add(target)
    return out


# --------------------------------------------------------------------------- reading files


# How files that are not text begin: an old Excel workbook (.xls), a zip (an .xlsx renamed
# .csv), a PDF, pictures.
_NOT_TEXT = (b"\xd0\xcf\x11\xe0", b"PK\x03\x04", b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")


def _decode_sample(raw: bytes) -> str | None:
    """The encoding of a file that begins with ``raw``; None for one that is not text."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"  # Excel's "Unicode text" (the codec reads and drops the mark)
    if raw.startswith(_NOT_TEXT):
        return None
    if b"\x00" in raw:
        # UTF-16 without its mark: a zero byte beside each ASCII character, on one side.
        # (A stray NUL in a text file is a control character, said on its row.)
        # Decided by how one-sided the zeros are, not by how many (Cyrillic or CJK text has
        # few ASCII characters, and some characters have a zero byte of their own: "一" is
        # 0x4E00, "Ѐ" 0x0400).
        even, odd = raw[0::2].count(0), raw[1::2].count(0)
        if odd >= len(raw) // 20 and even <= odd // 10:
            return "utf-16-le"
        if even >= len(raw) // 20 and odd <= even // 10:
            return "utf-16-be"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if exc.start >= len(raw) - 3:
            return "utf-8"
        return "cp1252"


@dataclass
class Source:
    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (record number, cells)
    encoding: str = ""
    delimiter: str = ""


def open_source(path: Path) -> Source:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _open_xlsx(path)
    with path.open("rb") as handle:
        sample = handle.read(65536)
    encoding = _decode_sample(sample)
    if encoding is None:
        raise ValidationFailed(
            "path",
            f"cannot read {path.name}: it is not a text (CSV) file; an Excel workbook "
            "imports as .xlsx (an old .xls: save it as .xlsx or CSV first)",
        )
    text_sample = sample.decode(encoding, errors="replace")
    try:
        dialect = csv.Sniffer().sniff(text_sample.split("\n", 20)[0] + "\n", delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    handle_text = path.open("r", encoding=encoding, errors="replace", newline="")
    reader = csv.reader(handle_text, delimiter=delimiter)
    try:
        headers = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        headers = []

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for record, cells in enumerate(reader, start=1):
                if not "".join(cells).strip():
                    continue  # an empty row (or one of blanks)
                yield record, cells
        finally:
            handle_text.close()

    return Source(headers, rows(), encoding, delimiter)


def _open_xlsx(path: Path) -> Source:
    import zipfile

    from openpyxl import load_workbook  # optional dependency for XLSX

    try:
        book = load_workbook(path, read_only=True, data_only=True)
        sheet = book.active
        if sheet is None:
            raise ValueError("no worksheet")
        # The sheet's declared dimension (``<dimension ref="A1"/>``) is often wrong in files
        # written by other programs; trusting it loses rows and columns. Read every row.
        reset = getattr(sheet, "reset_dimensions", None)
        if reset is not None:
            reset()
        iterator = sheet.iter_rows(values_only=True)
        try:
            headers = [str(h or "").strip() for h in next(iterator)]
        except StopIteration:
            headers = []
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, SyntaxError) as exc:
        # Not a workbook (another file renamed .xlsx), or a damaged one: said plainly,
        # never a traceback. (A damaged sheet's XML is a SyntaxError: ParseError.)
        raise ValidationFailed(
            "path", f"cannot read {path.name}: not an Excel workbook, or a damaged one ({exc})"
        ) from None

    def cell(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, date):
            return v.isoformat()[:10]
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for record, values in enumerate(iterator, start=1):
            cells = [cell(v) for v in values]
            if any(c.strip() for c in cells):
                yield record, cells
        book.close()

    return Source(headers, rows(), "xlsx", "")


def count_rows(path: Path) -> int | None:
    """Rows of data in the file (for a progress bar); None when it cannot be known cheaply."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return None
    with path.open("rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return max(lines - 1, 0)


# --------------------------------------------------------------------------- parsing values


def guard(value: Any) -> str:
    """A CSV cell a spreadsheet cannot run as a formula (Frontdesk's import undoes the quote)."""
    text = "" if value is None else str(value)
    if text and text[0] in FORMULA_START:
        return "'" + text
    return text


def unguard(value: str) -> str:
    """Undo spreadsheet formula protection: "'+31 6..." -> "+31 6..."."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]
    return value


def parse_yes_no(value: str, field_name: str) -> bool:
    word = value.strip().lower()
    if word in YES:
        return True
    if word in NO:
        return False
    raise ValidationFailed(field_name, f"{value!r} is not yes or no")


_NUMERIC_DATE = re.compile(r"^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})$")
# How other systems write "no date": Outlook 0/0/00, 00/00/0000, 0000-00-00.
_EMPTY_DATE = re.compile(r"^0{1,4}[/.\-]0{1,2}[/.\-]0{1,4}$")
# A day and month without a year: Google's --03-14, Square's 0000-03-14, Vagaro's 03/14.
_NO_YEAR = re.compile(r"^(?:--|0000-)(\d{1,2})-(\d{1,2})$")
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_DAY_MONTH_NAME = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[ \-/.]+([a-z]+)\.?,?[ \-/.]+(\d{4})$")
_MONTH_NAME_DAY = re.compile(r"^([a-z]+)\.?[ \-/.]+(\d{1,2})(?:st|nd|rd|th)?,?[ \-/.]+(\d{4})$")


def _named_month(text: str) -> date | None:
    lowered = text.lower()
    m = _DAY_MONTH_NAME.match(lowered)
    if m and m.group(2) in MONTHS:
        return date(int(m.group(3)), MONTHS[m.group(2)], int(m.group(1)))
    m = _MONTH_NAME_DAY.match(lowered)
    if m and m.group(1) in MONTHS:
        return date(int(m.group(3)), MONTHS[m.group(1)], int(m.group(2)))
    return None


def parse_created(value: str, order: str = "dmy") -> datetime | None:
    """When a customer was first recorded, as exports write it: an ISO date and time
    (without a zone: UTC) or a date as other systems write it (``order`` as for birthdays).
    A time in the future cannot be right."""
    text = value.strip()
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        day = parse_date(text.split(" ")[0], "created_at", order)
        if day is None:
            return None
        when = datetime(day.year, day.month, day.day, tzinfo=UTC)
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when > datetime.now(UTC):
        raise ValidationFailed("created_at", f"{text!r} is in the future")
    return when.astimezone(UTC)


def parse_date(value: str, field_name: str, order: str = "dmy") -> date | None:
    """A date as other systems write it; None for an empty one (``0/0/00`` included).

    ``order`` ("dmy" or "mdy") decides 3/4/1990; a date that reads only one way
    (3/14/1990, 14/3/1990) is read that way whatever the order.
    """
    text = value.strip()
    if not text or _EMPTY_DATE.match(text.split(" ")[0]):
        return None
    first = text.split("T")[0].split(" ")[0]
    if first[:1].isdigit() and first[-1:].isdigit():
        # ISO first, the most common (a named month never reads as one: it has letters).
        try:
            return date.fromisoformat(first)
        except ValueError:
            pass
    try:
        named = _named_month(text)
    except ValueError:
        named = None
    if named is not None:
        return named
    text = first
    if _NO_YEAR.match(text):
        raise ValidationFailed(field_name, f"{value!r} has no year")
    m = _NUMERIC_DATE.match(text)
    if m:
        a, b, c = (int(x) for x in m.groups())
        try:
            if len(m.group(1)) == 4:
                return date(a, b, c)
            year = c + (1900 if c >= 30 else 2000) if c < 100 else c
            day, month = (a, b) if order == "dmy" else (b, a)
            if month > 12 >= day:  # readable only the other way round
                day, month = month, day
            return date(year, month, day)
        except ValueError:
            pass
    shown = "DD/MM/YYYY" if order == "dmy" else "MM/DD/YYYY"
    raise ValidationFailed(field_name, f"{value!r} is not a date (YYYY-MM-DD or {shown})")


@dataclass
class ImportOptions:
    mapping: dict[str, str] | None = None  # header -> field / ignore / note / cf:key
    default_country: str | None = None
    # "dmy", "mdy", or "auto": by the default country (the business's without one).
    date_order: str = "auto"
    on_duplicate: str = "skip"  # skip | update | overwrite | candidate
    tag: str | None = None
    category: str | None = None
    branch: str | None = None
    program: str | None = None
    points: int = 0
    batch_size: int = 1000
    # Batches written in one transaction until it has been open this long (see _Commits); 0
    # commits every batch.
    commit_seconds: float = 0.2
    dry_run: bool = False
    error_file: Path | None = None
    sample_errors: int = 20
    # Processes validating rows while this one writes: 0 validates in this process; None picks
    # by file size and CPUs. From a process with other threads, worker processes are started
    # with ``spawn``, which re-imports the calling script: a script passing None or a number
    # must guard its entry point with ``if __name__ == "__main__":`` (the CLI and the app do).
    workers: int | None = 0


@dataclass
class RowError:
    record: int
    field: str
    reason: str
    level: str = "error"  # "warning": the row was imported without this value


@dataclass
class ImportSummary:
    rows: int = 0
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    invalid: int = 0
    candidates: int = 0
    duplicates_in_file: int = 0
    duplicates_in_db: int = 0
    warnings: int = 0  # rows imported without a value that could not be read
    errors: list[RowError] = field(default_factory=list)
    warned: list[RowError] = field(default_factory=list)  # the first warnings
    mapping: dict[str, str] = field(default_factory=dict)
    # Batches validated in worker processes (the rest were validated in this one).
    parallel_batches: int = 0
    # The error file, when one was written (rows refused or imported with a warning).
    error_file: Path | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "updated": self.updated,
            "skipped": self.skipped,
            "invalid": self.invalid,
            "merge_candidates": self.candidates,
            "duplicates_in_file": self.duplicates_in_file,
            "duplicates_in_database": self.duplicates_in_db,
            "warnings": self.warnings,
        }


@dataclass(slots=True)
class Prepared:
    record: int
    cells: list[str]
    values: dict[str, Any]
    extras: dict[str, Any]  # category, home_branch, tags, note, custom
    warnings: list[tuple[str, str]]  # (field, problem)
    # (sort_key, name_key, search text before the code, after it): customers.key_parts.
    keys: tuple[str, str, str, str]


# What a column of the file is read as (see _column_plan).
_NOTE, _CUSTOM, _JOINED, _FIELD = range(4)


def _column_plan(headers: list[str], mapping: dict[str, str]) -> list[tuple[int, str, int, str]]:
    """(position, header, how, target) of each column that is read, in the file's order:
    worked out once for a batch rather than for every cell."""
    plan = []
    for i, header in enumerate(headers):
        target = mapping.get(header, "ignore")
        if target == "ignore":
            continue
        if target == "note":
            # A notes column is the note itself; another column sent to the note keeps its name.
            known_note = HEADERS.get(normalise_header(header)) == "note"
            plan.append((i, "" if known_note else f"{header}: ", _NOTE, target))
        elif target.startswith("cf:"):
            plan.append((i, header, _CUSTOM, target[3:]))
        elif target in ("tags", "secondary_phones", "secondary_emails"):
            plan.append((i, header, _JOINED, target))
        else:
            plan.append((i, header, _FIELD, target))
    return plan


_LIST_SEPARATORS = re.compile(r"[,;]")
_TAG_SEPARATORS = re.compile(r"[,;]|:::")


def _row_values(
    plan: list[tuple[int, str, int, str]],
    cells: list[str],
    options: ImportOptions,
    warnings: list[tuple[str, str]] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The row's values and extras; an optional value that cannot be read is left out and
    named in ``warnings`` (or raises when no list is given)."""

    def unreadable(exc: ValidationFailed) -> None:
        if warnings is None:
            raise exc
        warnings.append((exc.field, exc.message))

    raw: dict[str, str] = {}
    notes: list[str] = []
    custom: dict[str, str] = {}
    width = len(cells)
    for i, label, how, target in plan:
        if i >= width:
            break
        value = cells[i].strip()
        if not value:
            continue
        value = unguard(value)
        if how == _FIELD:
            raw.setdefault(target, value)
        elif how == _NOTE:
            notes.append(label + value)
        elif how == _CUSTOM:
            custom[target] = value
        else:
            raw[target] = ",".join(x for x in (raw.get(target, ""), value) if x)
    values: dict[str, Any] = {}
    if "full_name" in raw and not raw.get("first_name"):
        parts = raw["full_name"].split()
        if "," in raw["full_name"]:  # "Garcia, Maria"
            last, _, first = raw["full_name"].partition(",")
            parts = [first.strip(), last.strip()]
        raw["first_name"] = parts[0] if parts else ""
        if len(parts) > 1 and not raw.get("last_name"):
            raw["last_name"] = " ".join(parts[1:])
    for key in (
        "first_name",
        "last_name",
        "display_name",
        "email",
        "phone",
        "other_phone",
        "address",
        "city",
        "state",
        "postal_code",
        "country",
        "blocked_reason",
    ):
        if key in raw:
            values[key] = raw[key]
    if options.default_country:
        values["phone_country"] = options.default_country
    if "gender" in raw:
        gender = GENDERS.get(raw["gender"].strip().lower())
        if gender is None:
            unreadable(
                ValidationFailed("gender", f"{raw['gender']!r} is not female, male or other")
            )
        else:
            values["gender"] = gender
    order = options.date_order if options.date_order in ("dmy", "mdy") else "dmy"
    for key in ("date_of_birth", "anniversary"):
        if key in raw:
            try:
                values[key] = parse_date(raw[key], key, order)
            except ValidationFailed as exc:
                unreadable(exc)
    if "status" in raw:
        status = raw["status"].strip().lower()
        values["status"] = (
            "inactive" if status in ("inactive", "archived", "disabled", "0", "no") else "active"
        )
    for key in (
        "blocked",
        "consent_reminders",
        "consent_birthday",
        "consent_marketing",
        "consent_newsletter",
    ):
        if key in raw:
            try:
                values[key] = parse_yes_no(raw[key], key)
            except ValidationFailed as exc:
                unreadable(exc)
    if values.get("blocked") and not values.get("blocked_reason"):
        values["blocked_reason"] = "Blocked in the imported file"
    if "country" in values and len(values["country"].strip()) != 2:
        # Outlook and Fresha write the country's name: read it as its code.
        code = country_code(values["country"])
        if code is None:
            unreadable(
                ValidationFailed("country", f"{values['country']!r} is not a country we know")
            )
            values.pop("country")
        else:
            values["country"] = code
    created = None
    if raw.get("created_at", "").strip():
        try:
            created = parse_created(raw["created_at"], order)
        except ValidationFailed as exc:
            unreadable(exc)
    extras: dict[str, Any] = {
        "created_at": created,
        "category": raw.get("category"),
        "home_branch": raw.get("home_branch"),
        "code": raw.get("code"),
        # Secondary phones and emails as typed; checked in _check_extras.
        "contacts": [
            t.strip()
            for key in ("secondary_phones", "secondary_emails")
            if key in raw
            for t in _LIST_SEPARATORS.split(raw[key])
            if t.strip()
        ],
        # Google's labels: "* myContacts ::: Clients" (starred ones are Google's own groups).
        "tags": [
            t.strip()
            for t in (_TAG_SEPARATORS.split(raw["tags"]) if "tags" in raw else ())
            if t.strip() and not t.strip().startswith("* ")
        ],
        "note": "\n".join(notes) or None,
        "custom": custom,
    }
    if raw.get("note"):
        extras["note"] = "\n".join(x for x in (raw["note"], extras["note"]) if x)
    return values, extras


# --------------------------------------------------------------------------- the import


def run_import(
    *,
    engine: Engine,
    path: Path,
    options: ImportOptions,
    actor: Staff | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    source = open_source(path)
    with Session(engine) as session:
        custom = [(f.label, f.key) for f in fields.list_fields(session=session)]
    mapping = dict(guess_mapping(source.headers, custom))
    if options.mapping:
        for header, target in options.mapping.items():
            if header not in source.headers:
                raise ValidationFailed("map", f"the file has no column {header!r}")
            if (
                target not in FIELDS
                and target not in ("ignore", "note")
                and not target.startswith("cf:")
            ):
                raise ValidationFailed("map", f"{target!r} is not a Frontdesk field")
            mapping[header] = target
    _check_mapping(mapping)
    summary = ImportSummary(mapping=mapping)
    error_writer = None
    if options.error_file is not None and not options.dry_run:
        with Session(engine) as session:  # never the database's files or the file read
            check_target(session=session, path=options.error_file, overwrite=True, source=path)
        error_writer = ErrorFile(options.error_file, source.headers)
    seen_phones: set[str] = set()
    seen_emails: set[str] = set()
    try:
        # The custom field definitions in the context are read after this session closes.
        with Session(engine, expire_on_commit=False) as session:
            context = _context(session, options, actor)
            session.commit()
        if options.date_order not in ("dmy", "mdy"):
            options = replace(options, date_order=date_order_for(context["region"]))
        context["source_name"] = path.name
        context["created"] = IdSet()  # customers this import created
        context["matched_phone"] = IdSet()  # existing customers a row matched by phone
        context["matched_email"] = IdSet()  # ... and by email
        batches = _batches(source.rows, options.batch_size, summary)
        workers = _worker_count(path, options)
        validated = _validated(
            batches, source.headers, mapping, options, context["region"], workers, summary
        )
        with (
            closing(validated),
            _fewer_collections(),
            _Commits(engine, options, progress) as commits,
        ):
            for size, checked in validated:
                _run_batch(
                    commits.session(),
                    checked,
                    options,
                    context,
                    summary,
                    seen_phones,
                    seen_emails,
                    error_writer,
                    actor,
                )
                if error_writer is not None:
                    error_writer.flush()
                commits.batch_done(size)
    finally:
        if error_writer is not None:
            error_writer.close()
            if error_writer.written:
                summary.error_file = error_writer.path
    return summary


def _check_mapping(mapping: dict[str, str]) -> None:
    """Refuse, before any row, a file whose columns give no row a name or a way to reach
    them: every row would be refused for the same reason (it said so row by row)."""
    targets = set(mapping.values())
    if not targets & {"first_name", "full_name"}:
        raise ValidationFailed(
            "map",
            "no column of the file is read as the first name or the full name: "
            "map one (e.g. Client -> full_name)",
        )
    if not targets & {"phone", "email"}:
        raise ValidationFailed(
            "map",
            "no column of the file is read as a phone or an email (each customer needs one): "
            "map one (e.g. Mobile -> phone)",
        )


def error_file_for(path: Path) -> Path:
    """Where an import of ``path`` writes its refused rows: clients.csv -> clients.errors.csv,
    clients.xlsx -> clients.xlsx.errors.csv (two files of one name keep theirs apart)."""
    if path.suffix.lower() == ".csv":
        return path.with_name(path.stem + ".errors.csv")
    return path.with_name(path.name + ".errors.csv")


# During an import, Python's cycle collector runs after this many new objects (700 by default).
_IMPORT_COLLECT_AFTER = 50_000
_collections_lock = threading.Lock()
_collections_held = 0
_collections_before: tuple[int, int, int] = (700, 10, 10)
_collections_froze = False


def _quiet_collector(*, freeze: bool = True) -> None:
    """Objects that exist now (the app, its libraries' tables) are left out of the cycle
    collector's walks (``freeze``), and it runs after 50,000 new objects instead of 700."""
    if freeze:
        gc.freeze()
    gc.set_threshold(_IMPORT_COLLECT_AFTER, 50, 1000)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Python's cycle collector, quieter while an import runs (:func:`_quiet_collector`).

    An import makes a few dicts and lists a row, and most of them live until their batch
    is written; the collector ran every 700 of them, and every so often walked every object
    of the process (the app and the phone-number tables included): a sixth of a large
    import's time went there. The import itself makes no cycles that need collecting
    sooner. Imports running at once in one process (a second wizard) share the setting;
    the last to end puts the collector back as it was.
    """
    global _collections_held, _collections_before, _collections_froze
    with _collections_lock:
        if _collections_held == 0:
            _collections_before = gc.get_threshold()
            # The full-screen app froze its own objects at start-up (settle_memory): those
            # stay frozen, so the import freezes (and later unfreezes) only where nothing is.
            _collections_froze = gc.get_freeze_count() == 0
            _quiet_collector(freeze=_collections_froze)
        _collections_held += 1
    try:
        yield
    finally:
        with _collections_lock:
            _collections_held -= 1
            if _collections_held == 0:
                gc.set_threshold(*_collections_before)
                if _collections_froze:
                    gc.unfreeze()


# SQLite copies the write-ahead log into the database every this many pages (its default),
# syncing both files; during an import, less often: a page that several commits wrote (an
# index's, the search index's) is copied once, not once for each (a third less writing time).
_DEFAULT_CHECKPOINT_PAGES = 1000
_IMPORT_CHECKPOINT_PAGES = 10_000


class _Commits:
    """The writing side of an import: one connection, committed every
    ``options.commit_seconds`` or so (after the batch that reaches it).

    Each commit writes every page it changed to SQLite's write-ahead log, and the log is
    copied into the database (and both synced) every ``wal_autocheckpoint`` pages: an index
    page or a search-index page that each 1,000-row commit changed again was written and
    copied again each time, which made committing every batch a third slower than one
    transaction. Here a transaction spans the batches of about a fifth of a second, and the
    log is copied every 10,000 pages during the import (SQLite's default again afterwards).
    Another desk's save waits no longer than one such transaction for its turn (0-210 ms
    measured during a 100,000-row import, 0-140 ms with a commit after every batch; half a
    second made it 230-550 ms).

    ``progress(rows)`` is called after each commit with the rows it wrote (after each batch
    in a dry run, which commits nothing): what the bar shows is in the database.
    """

    def __init__(
        self, engine: Engine, options: ImportOptions, progress: Callable[[int], None] | None
    ) -> None:
        self.options = options
        self.progress = progress
        self._conn: Connection = engine.connect()
        self._sqlite = engine.dialect.name == "sqlite" and not options.dry_run
        self._session: Session | None = None
        self._began = 0.0
        self._rows = 0

    def __enter__(self) -> _Commits:
        if self._sqlite:
            self._checkpoint_every(_IMPORT_CHECKPOINT_PAGES)
        return self

    def _checkpoint_every(self, pages: int) -> None:
        # On the driver's connection, outside any transaction (a connection setting).
        dbapi = self._conn.connection.dbapi_connection
        assert dbapi is not None
        dbapi.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")

    def session(self) -> Session:
        if self._session is None:
            self._session = Session(bind=self._conn)
            self._began = time.monotonic()
        return self._session

    def batch_done(self, rows: int) -> None:
        self._rows += rows
        session = self._session
        if session is not None and not self.options.dry_run:
            session.flush()  # the next batch's plain lookups see this one's updates
            session.expunge_all()  # memory stays bounded by one batch's objects
            if time.monotonic() - self._began < self.options.commit_seconds:
                return
        self.commit()

    def commit(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                session.commit()
            finally:
                session.close()
        rows, self._rows = self._rows, 0
        if rows and self.progress is not None:
            self.progress(rows)

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            if kind is None:
                self.commit()
            elif self._session is not None:
                self._session.close()  # rolled back: nothing of the group is half-written
                self._session = None
        finally:
            try:
                if self._conn.in_transaction():
                    self._conn.rollback()
                if self._sqlite:
                    self._checkpoint_every(_DEFAULT_CHECKPOINT_PAGES)
            finally:
                self._conn.close()


def _batches(
    rows: Iterator[tuple[int, list[str]]], size: int, summary: ImportSummary
) -> Iterator[list[tuple[int, list[str]]]]:
    """The file's rows in lists of ``size`` (counting them), read lazily."""
    batch: list[tuple[int, list[str]]] = []
    for row in rows:
        summary.rows += 1
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _context(session: Session, options: ImportOptions, actor: Staff | None) -> dict[str, Any]:
    ctx: dict[str, Any] = {"region": options.default_country}
    from frontdesk.data.settings import default_region

    ctx["region"] = options.default_country or default_region(session)
    ctx["categories"] = {fold(c.name): c.id for c in session.exec(select(Category))}
    ctx["branches"] = {fold(b.name): b.id for b in session.exec(select(Branch))}
    ctx["tags"] = {t.key: t.id for t in session.exec(select(Tag))}
    if options.category:
        cid = ctx["categories"].get(fold(options.category))
        if cid is None:
            raise ValidationFailed("category", f"no category called {options.category!r}")
        ctx["category_id"] = cid
    if options.branch:
        branch = session.exec(select(Branch).where(col(Branch.name) == options.branch)).first()
        if branch is None:
            raise ValidationFailed("branch", f"no branch called {options.branch!r}")
        ctx["branch_id"] = branch.id
    if options.tag:
        key = fold(options.tag)
        if key not in ctx["tags"] and not options.dry_run:
            ctx["tags"][key] = create_tag(session=session, name=options.tag, actor=actor).id
        ctx["tag_id"] = ctx["tags"].get(key)
    if options.program:
        programs = {
            fold(p.name): p for p in rewards.list_programs(session=session, active_only=True)
        }
        program = programs.get(fold(options.program))
        if program is None:
            raise ValidationFailed(
                "program", f"no active loyalty program called {options.program!r}"
            )
        ctx["program_id"] = program.id
        rewards.check_points("points", options.points)
    ctx["fields"] = {f.key: f for f in fields.list_fields(session=session)}
    ctx["required"] = [f for f in ctx["fields"].values() if f.required]
    return ctx


class IdSet:
    """A set of positive integer ids as a bitmap: an eighth of a byte per possible id."""

    def __init__(self) -> None:
        self._bits = bytearray()

    def add(self, value: int) -> None:
        byte = value >> 3
        if byte >= len(self._bits):
            self._bits.extend(bytes(max(byte + 1 - len(self._bits), len(self._bits))))
        self._bits[byte] |= 1 << (value & 7)

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int) or value < 0:
            return False
        byte = value >> 3
        return byte < len(self._bits) and bool(self._bits[byte] & (1 << (value & 7)))


@dataclass
class Failed:
    """A row that did not pass validation: reported, never imported."""

    record: int
    cells: list[str]
    field: str
    message: str


# What validating one row gives: (True, values, extras) or (False, field, message).
Checked = tuple[bool, Any, Any]


def check_rows(
    headers: list[str],
    batch: list[tuple[int, list[str]]],
    mapping: dict[str, str],
    options: ImportOptions,
    region: str | None,
) -> list[Checked]:
    """Validate and normalise a batch of rows, in order, without touching the database.

    Pure (no session, no shared state), so that a large import can run it in worker
    processes while the main process writes the previous batch; the result is plain tuples
    (cheap to send back), which :func:`validate_batch` pairs with the rows again.
    """
    out: list[Checked] = []
    plan = _column_plan(headers, mapping)
    for _record, cells in batch:
        try:
            if len(cells) > len(headers) and any(c.strip() for c in cells[len(headers) :]):
                raise ValidationFailed(
                    "row", f"has {len(cells)} cells but the header has {len(headers)}"
                )
            warnings: list[tuple[str, str]] = []
            values, extras = _row_values(plan, cells, options, warnings)
            normal = _normalised(values, region, warnings)
            _check_extras(extras, warnings)
            extras["contacts"] = _contacts(extras["contacts"], normal, region, warnings)
            if "first_name" not in normal:
                raise ValidationFailed("first_name", "First name is required")
            if not normal.get("phone") and not normal.get("email_key"):
                raise ValidationFailed("phone", "needs a phone number or an email address")
            # The folded keys too (all but the code, which the writer gives): work taken
            # off the writer, which is the slower side of a large import.
            keys = svc.key_parts(
                first_name=normal.get("first_name"),
                last_name=normal.get("last_name"),
                display_name=normal.get("display_name"),
                email_key=normal.get("email_key"),
                phone=normal.get("phone"),
                other_phone=normal.get("other_phone"),
            )
            # Most rows have no extras and no warning: sent as None, not as a dict of empty
            # values and an empty list (reading those back cost the writer a tenth of a
            # large import's time: 4 ms a batch of 1,000 rows, against 0.7 ms without).
            packed = (extras if any(extras.values()) else None, warnings or None, keys)
            out.append((True, normal, packed))
        except ValidationFailed as exc:
            out.append((False, exc.field, exc.message))
    return out


def _normalised(
    values: dict[str, Any], region: str | None, warnings: list[tuple[str, str]]
) -> dict[str, Any]:
    """The customer's values as the app stores them; an optional one that cannot be stored
    (an address over its length, a bad second phone) is left out with a warning."""
    for _ in range(len(values) + 1):
        try:
            return svc.normalise_values(session=None, values=values, region=region)
        except ValidationFailed as exc:
            if exc.field in IDENTITY_FIELDS or exc.field not in values:
                raise
            values.pop(exc.field)
            if exc.field == "blocked":
                values.pop("blocked_reason", None)
            warnings.append((exc.field, exc.message))
    return svc.normalise_values(session=None, values=values, region=region)


def _contacts(
    texts: list[str],
    normal: dict[str, Any],
    region: str | None,
    warnings: list[tuple[str, str]],
) -> list[tuple[str, str, str]]:
    """The row's secondary phones and emails as (kind, value, display), each once and none
    repeating the customer's own; one that cannot be read is left out with a warning."""
    if not texts:
        return []
    from frontdesk.data.contacts import parse_contact

    own = {normal.get("phone"), normal.get("other_phone"), normal.get("email_key")} - {None}
    out: list[tuple[str, str, str]] = []
    for text in texts:
        try:
            kind, value, display = parse_contact(text, normal.get("phone_country") or region)
        except ValidationFailed as exc:
            field_name = "secondary_emails" if "@" in text else "secondary_phones"
            warnings.append((field_name, exc.message))
            continue
        if value not in own and all(value != v for _, v, _ in out):
            out.append((kind.value, value, display))
    return out


def _check_extras(extras: dict[str, Any], warnings: list[tuple[str, str]]) -> None:
    """Leave out a category, tag, note or custom value that could not be stored (control
    characters, over-long tags), with a warning on its row, instead of failing the batch
    when it is written (PostgreSQL refuses NUL in any text)."""
    if not (
        extras["category"]
        or extras["home_branch"]
        or extras["tags"]
        or extras["note"]
        or extras["custom"]
    ):
        return  # most rows of most files: nothing to check
    for key in ("category", "home_branch"):
        try:
            check_text(key, extras.get(key))
        except ValidationFailed as exc:
            extras[key] = None
            warnings.append((exc.field, exc.message))
    tags = []
    for name in extras["tags"]:
        try:
            tags.append(tag_name(name, field="tags"))
        except ValidationFailed as exc:
            warnings.append((exc.field, exc.message))
    extras["tags"] = tags
    if extras.get("note"):
        try:
            extras["note"] = note_body(extras["note"], field="note")
        except ValidationFailed as exc:
            extras["note"] = None
            warnings.append((exc.field, exc.message))
    custom = extras["custom"]
    for key, value in list(custom.items()):
        # The field's own type decides later whether lines are allowed (fields.parse_value).
        try:
            custom[key] = clean_multiline(f"cf:{key}", value) or ""
        except ValidationFailed as exc:
            custom.pop(key)
            warnings.append((f"cf:{key}", exc.message))


def _paired(batch: list[tuple[int, list[str]]], checked: list[Checked]) -> list[Prepared | Failed]:
    """The batch's rows with what :func:`check_rows` made of each, unpacked."""
    out: list[Prepared | Failed] = []
    for (record, cells), (ok, a, b) in zip(batch, checked, strict=True):
        if ok:
            extras, warnings, keys = b
            out.append(Prepared(record, cells, a, extras or _no_extras(), warnings or [], keys))
        else:
            out.append(Failed(record, cells, a, b))
    return out


def _no_extras() -> dict[str, Any]:
    """The extras of a row that has none (see :func:`_row_values`)."""
    return {
        "created_at": None,
        "category": None,
        "home_branch": None,
        "code": None,
        "contacts": [],
        "tags": [],
        "note": None,
        "custom": {},
    }


def validate_batch(
    headers: list[str],
    batch: list[tuple[int, list[str]]],
    mapping: dict[str, str],
    options: ImportOptions,
    region: str | None,
) -> list[Prepared | Failed]:
    """The batch's rows, each validated (:class:`Prepared`) or refused (:class:`Failed`)."""
    return _paired(batch, check_rows(headers, batch, mapping, options, region))


# Files at least this large are validated in worker processes (smaller ones would spend more
# on starting a process than they save).
PARALLEL_FROM_BYTES = 2_000_000


def _worker_count(path: Path, options: ImportOptions) -> int:
    if options.workers is not None:
        return max(0, options.workers)
    try:
        size = path.stat().st_size
    except OSError:
        return 0
    if size < PARALLEL_FROM_BYTES:
        return 0
    try:
        cpus = len(os.sched_getaffinity(0))  # the CPUs this process may use
    except AttributeError:  # not on every platform
        cpus = os.cpu_count() or 1
    return 0 if cpus < 2 else min(4, cpus - 1)


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with a real standard error.

    The tracker is started with the current ``sys.stderr``'s file descriptor; a host that
    captures standard error in an object without one (a full-screen terminal app does)
    would make every worker process fail to start.
    """
    from multiprocessing import resource_tracker

    try:
        usable = sys.stderr is not None and sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = False
    if usable or sys.__stderr__ is None:
        return
    captured = sys.stderr
    sys.stderr = sys.__stderr__
    try:
        resource_tracker.ensure_running()
    finally:
        sys.stderr = captured


def _start_method() -> str:
    """How worker processes start: on Linux, ``fork`` from a process with no other thread
    (the CLI), a copy of this one, ready in milliseconds; else ``spawn``, a new interpreter
    importing the app (a second or more), since forking a process whose other threads may
    hold locks (the full-screen app's) is unsafe."""
    linux = sys.platform.startswith("linux")
    return "fork" if linux and threading.active_count() == 1 else "spawn"


# prctl(2): the signal a process gets when the thread that started it ends.
_PR_SET_PDEATHSIG = 1


def _start_worker(parent: int) -> None:
    """What a worker process does first: end with the importing process, and keep its cycle
    collector quiet (it validates rows until the import ends; see :func:`_fewer_collections`)."""
    _end_with(parent)
    _quiet_collector()


def _end_with(parent: int) -> None:
    """In a worker process, first: end when the importing process ends, however it ends.

    A pool's workers otherwise wait for their next batch for ever once the importing process
    is killed (``kill``, out of memory), and a forked one holds what it inherited open: the
    database's writer-lock file (every other desk's writes then time out), a PostgreSQL
    connection left in its transaction. On Linux the kernel kills the worker when its parent
    ends; elsewhere nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it ended before the line above
        os._exit(1)


def _ready() -> bool:
    """Nothing: a worker that has run it has imported this module (what validates)."""
    return True


def _validated(
    batches: Iterator[list[tuple[int, list[str]]]],
    headers: list[str],
    mapping: dict[str, str],
    options: ImportOptions,
    region: str | None,
    workers: int,
    summary: ImportSummary,
) -> Generator[tuple[int, list[Prepared | Failed]], None, None]:
    """(rows in batch, validated rows) per batch, in file order.

    With workers, up to ``4 * workers + 2`` batches are validated ahead in other processes
    (see :func:`_start_method`) while the caller writes the current one: enough that neither
    side waits for the other when one batch takes longer than the next (with one batch ahead
    per worker, both sat idle about a tenth of the time); memory stays bounded by those few
    batches. When the number of workers was chosen automatically (``options.workers`` is
    None), the batches that come while the workers are still starting are validated here
    instead of waiting for them.
    """

    def inline(batch: list[tuple[int, list[str]]]) -> list[Prepared | Failed]:
        return validate_batch(headers, batch, mapping, options, region)

    if workers <= 0:
        for batch in batches:
            yield len(batch), inline(batch)
        return
    _start_resource_tracker()
    context = multiprocessing.get_context(_start_method())
    Batch = list[tuple[int, list[str]]]
    ahead = 4 * workers + 2
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(os.getpid(),)
    ) as pool:
        pending: deque[tuple[Batch, Future[list[Checked]] | None]] = deque()
        broken = False
        started: Future[bool] | None = None
        if options.workers is None:
            try:
                started = pool.submit(_ready)
            except (BrokenProcessPool, OSError, ValueError):  # no process could start
                broken = True

        def result(batch: Batch, future: Future[list[Checked]] | None) -> list[Prepared | Failed]:
            # A pool that cannot start or loses a worker (a script without a
            # ``__main__`` guard, memory pressure) must not fail the import: the
            # remaining batches are validated here instead.
            nonlocal broken
            if future is not None and not broken:
                try:
                    checked = future.result()
                except BrokenProcessPool:
                    broken = True
                else:
                    summary.parallel_batches += 1
                    return _paired(batch, checked)
            return inline(batch)

        try:
            for batch in batches:
                if started is not None:
                    if not started.done():
                        yield len(batch), inline(batch)  # while the workers start
                        continue
                    started = None
                future = None
                if not broken:
                    try:
                        future = pool.submit(check_rows, headers, batch, mapping, options, region)
                    except (BrokenProcessPool, OSError, ValueError):  # no process could start
                        broken = True
                pending.append((batch, future))
                if len(pending) > ahead:
                    done, future = pending.popleft()
                    yield len(done), result(done, future)
            while pending:
                done, future = pending.popleft()
                yield len(done), result(done, future)
        finally:
            for _batch, future in pending:
                if future is not None:
                    future.cancel()


def _run_batch(
    session: Session,
    checked: list[Prepared | Failed],
    options: ImportOptions,
    ctx: dict[str, Any],
    summary: ImportSummary,
    seen_phones: set[str],
    seen_emails: set[str],
    error_writer: Any,
    actor: Staff | None,
) -> None:
    prepared: list[Prepared] = []
    for item in checked:
        if isinstance(item, Failed):
            _bad(
                summary,
                error_writer,
                options,
                item.record,
                item.cells,
                item.field,
                item.message,
            )
            continue
        _resolve_extras(item, ctx)
        prepared.append(item)
    # Duplicates within the file and against the database.
    phones = [p.values["phone"] for p in prepared if p.values.get("phone")]
    emails = [p.values["email_key"] for p in prepared if p.values.get("email_key")]
    existing: dict[tuple[str, str], Customer] = {}
    # Which keys are taken, in plain rows (most rows of a large import match nobody);
    # only the customers matched are loaded whole.
    conn = session.connection()
    found: dict[int, list[tuple[str, str]]] = {}
    (by_phones, by_emails, by_contacts), bound = _by_keys(conn)
    for name, keys, statement in (("phone", phones, by_phones), ("email", emails, by_emails)):
        if keys:
            for cid, taken in conn.execute(statement, {"keys": bound(keys)}):
                found.setdefault(cid or 0, []).append((name, taken or ""))
    # A phone or email no customer has as their own may be a live customer's second one (a
    # merged-away customer's, kept by the merge; one added in Details): that customer is the
    # match (an export taken before a merge, imported again, brought the merged-away
    # customer back as new).
    primary = {pair for pairs in found.values() for pair in pairs}
    others = [k for k in phones if ("phone", k) not in primary] + [
        k for k in emails if ("email", k) not in primary
    ]
    secondary: set[tuple[str, str]] = set()
    if others:
        for cid, kind, taken in conn.execute(by_contacts, {"keys": bound(others)}):
            pair = (kind, taken)
            if pair not in secondary:
                secondary.add(pair)
                found.setdefault(cid or 0, []).append(pair)
    if found:
        for c in session.exec(select(Customer).where(col(Customer.id).in_(found))):
            for pair in found[c.id or 0]:
                existing[pair] = c
    new_rows: list[Prepared] = []
    for p in prepared:
        phone, email = p.values.get("phone"), p.values.get("email_key")
        match = None
        if existing:  # (most batches of a large import match nobody)
            keys = [("phone", phone or ""), ("email", email or "")]
            # A customer's own phone or email first, then a second one (a row with A's
            # second phone and B's own email is B's).
            match = next((existing[k] for k in keys if k in existing and k not in secondary), None)
            match = match or next((existing[k] for k in keys if k in existing), None)
        repeated = _repeated_key(phone, email, match, seen_phones, seen_emails, ctx)
        if repeated is not None:
            summary.duplicates_in_file += 1
            reason = "duplicate of an earlier row of this file"
            _skipped(summary, error_writer, options, p, repeated, reason)
            continue
        if phone:
            seen_phones.add(phone)
        if email:
            seen_emails.add(email)
        if match is None:
            new_rows.append(p)  # warned about once written (its contacts may add some)
            continue
        summary.duplicates_in_db += 1
        if options.on_duplicate == "skip":
            if options.on_duplicate == "skip" and _another_name(p.values, match):
                # Someone else's phone or email, or a typing error: named in the error file
                # for a person to look at (a count alone did not say which row it was).
                by = "phone" if existing.get(("phone", phone or "")) is match else "email"
                reason = f"not imported: {match.code} {match.label} has this {by} (another name)"
                _skipped(summary, error_writer, options, p, by, reason)
            else:
                summary.skipped += 1
        elif options.on_duplicate in ("update", "overwrite"):
            # A phone or email the customer already has as a second one stays there (not
            # made their own as well).
            # (A dry run updates too, and rolls the batch back: its counts are the import's.)
            known = {value for name, value in secondary if existing.get((name, value)) is match}
            # One that another customer has as a second one is theirs: not given to this one.
            # (Walks the batch's second contacts, usually none, not every matched key.)
            theirs = {
                value: existing[(name, value)]
                for name, value in secondary
                if (name, value) in existing and existing[(name, value)] is not match
            }
            if _update_existing(session, match, p, options, actor, ctx, known, theirs):
                summary.updated += 1
                _warn(summary, error_writer, options, p)
            else:
                summary.skipped += 1
        else:  # merge candidate: kept for someone to merge, add or discard
            clash = [
                name
                for name, value in (("phone", phone), ("email", email))
                if value and existing.get((name, value)) is match
            ]
            extras = {
                k: v
                for k, v in p.extras.items()
                if v and k not in ("home_branch", "code", "contacts", "created_at")
            }
            if options.dry_run:
                fresh = not candidates.exists(
                    session=session, customer_id=match.id or 0, values=p.values, extras=extras
                )
            else:
                fresh = candidates.record_candidate(
                    session=session,
                    customer_id=match.id or 0,
                    values=p.values,
                    extras=extras,
                    reason=f"same {' and '.join(clash)} as {match.code}",
                    source=f"{ctx['source_name']} record {p.record}",
                    actor=actor,
                )
            if fresh:
                summary.candidates += 1
                _warn(summary, error_writer, options, p)
            else:
                summary.skipped += 1  # the same row is already waiting or was decided
        # Remember which of the customer's keys this row used (after an update, its own).
        if phone and match.phone == phone:
            ctx["matched_phone"].add(match.id or 0)
        if email and match.email_key == email:
            ctx["matched_email"].add(match.id or 0)
    for p in new_rows if ctx["required"] else ():
        _missing_required(p, ctx["required"])
    if not options.dry_run:
        _insert(session, new_rows, ctx, summary, actor, options)
        for p in new_rows:
            _warn(summary, error_writer, options, p)
        # The batch's rows are in the database now (new customers, updates; committed with
        # the next commit of the session) and the ids they went to are in ctx's bitmaps:
        # later rows are recognised through the database lookup in the same session, so
        # their keys need not stay in memory (bounded memory).
        seen_phones.clear()
        seen_emails.clear()
    else:
        summary.imported += len(new_rows)
        for p in new_rows:
            _warn(summary, error_writer, options, p)
        session.rollback()


def _lookups(keys_in: Callable[[Any], Any]) -> tuple[Any, Any, Any]:
    """The ids of the live customers with one of a batch's phones or emails (their own;
    someone's second one): one statement each, compiled once."""
    phones = sa_select(col(Customer.id), col(Customer.phone)).where(
        keys_in(col(Customer.phone)), svc.live()
    )
    emails = sa_select(col(Customer.id), col(Customer.email_key)).where(
        keys_in(col(Customer.email_key)), svc.live()
    )
    contacts = (
        sa_select(col(ContactPoint.customer_id), col(ContactPoint.kind), col(ContactPoint.value))
        .join(Customer, col(Customer.id) == col(ContactPoint.customer_id))
        .where(keys_in(col(ContactPoint.value)), svc.live())
        .order_by(col(ContactPoint.id))
    )
    return phones, emails, contacts


# On SQLite the batch's keys are one bound value, a JSON list read by json_each: with a list
# of a thousand bound values, SQLAlchemy's rendering of them cost six times the lookup
# itself (4 ms against 0.6 ms a batch whose rows match nobody). Elsewhere, an expanding list.
_KEYS_JSON = sa_func.json_each(bindparam("keys")).table_valued("value")
_BY_KEYS = {
    "sqlite": _lookups(lambda column: column.in_(sa_select(_KEYS_JSON.c.value))),
    "": _lookups(lambda column: column.in_(bindparam("keys", expanding=True))),
}


def _by_keys(conn: Connection) -> tuple[tuple[Any, Any, Any], Callable[[list[str]], Any]]:
    """The lookups for ``conn``'s database, and how their keys are bound."""
    if conn.dialect.name == "sqlite":
        return _BY_KEYS["sqlite"], json.dumps
    return _BY_KEYS[""], list


def _another_name(values: dict[str, Any], customer: Customer) -> bool:
    """Whether the row names someone other than ``customer`` (accents and case aside; a
    name the row leaves out is no difference)."""
    for key in ("first_name", "last_name"):
        mine, theirs = values.get(key), getattr(customer, key)
        if mine and theirs and fold(mine) != fold(theirs):
            return True
    return False


def _repeated_key(
    phone: str | None,
    email: str | None,
    match: Customer | None,
    seen_phones: set[str],
    seen_emails: set[str],
    ctx: dict[str, Any],
) -> str | None:
    """ "phone" or "email" when the row repeats an earlier row of the file, else None.

    Earlier rows of this batch are in the seen sets; earlier batches are in the database, and
    the bitmaps say whether this import created the matched customer or already sent a row
    with this phone or email to it.
    """
    if phone and phone in seen_phones:
        return "phone"
    if email and email in seen_emails:
        return "email"
    if match is None:
        return None
    cid = match.id or 0
    by_phone = bool(phone) and match.phone == phone
    if cid in ctx["created"]:
        return "phone" if by_phone else "email"
    if by_phone and cid in ctx["matched_phone"]:
        return "phone"
    if email and match.email_key == email and cid in ctx["matched_email"]:
        return "email"
    return None


def _missing_required(item: Prepared, required: list[CustomField]) -> None:
    """A new customer's required custom field that the row leaves empty: the customer is
    imported, with a warning naming the field (a person fills it in later)."""
    custom = item.extras["custom"]
    for field_def in required:
        if not str(custom.get(field_def.key) or "").strip():
            reason = f"{field_def.label} is required; the file has no value"
            item.warnings.append((f"cf:{field_def.key}", reason))


def _resolve_extras(item: Prepared, ctx: dict[str, Any]) -> None:
    """Check the row's custom values, category and home branch against the database; one
    that does not fit is left out with a warning (the row itself is imported)."""
    extras = item.extras
    if not (extras["custom"] or extras["category"] or extras["home_branch"]):
        return  # most rows of most files
    custom = item.extras["custom"]
    for key, value in list(custom.items()):
        field_def = ctx["fields"].get(key)
        problem = None
        if field_def is None:
            problem = "no such custom field"
        else:
            try:
                fields.parse_value(field_def, value)
            except ValidationFailed as exc:  # named by its column in the file
                problem = exc.message
        if problem is not None:
            custom.pop(key)
            item.warnings.append((f"cf:{key}", problem))
    name = item.extras.get("category")
    if name and fold(name) not in ctx["categories"]:
        item.extras["category"] = None
        item.warnings.append(("category", f"no category called {name!r}"))
    name = item.extras.get("home_branch")
    if name:
        branch_id = ctx["branches"].get(fold(name))
        if branch_id is None:
            item.warnings.append(("home_branch", f"no branch called {name!r}"))
        item.extras["home_branch"] = branch_id


class ErrorFile:
    """The rows an import refused or imported with a warning, as the file had them plus the
    reason; created on the first such row, readable by its owner only (it holds customers'
    data). A corrected error file imported again gets new reason columns, not more."""

    def __init__(self, path: Path, headers: list[str]) -> None:
        self.path = path
        self.keep = [
            i for i, header in enumerate(headers) if header.strip().lower() not in REPORT_COLUMNS
        ]
        self.headers = [headers[i] for i in self.keep]
        self.handle: Any = None
        self.writer: Any = None
        self.pending: list[tuple[int, int, list[str]]] = []

    def writerow(self, cells: list[str], record: int, field: str, reason: str) -> None:
        """Note a row; a batch's rows are written at its end (:meth:`flush`), by record."""
        # Guarded as an export's cells are (a spreadsheet must not run a file's "=..." as a
        # formula); importing the corrected file again takes the quote off.
        kept = [guard(cells[i]) if i < len(cells) else "" for i in self.keep]
        self.pending.append((record, len(self.pending), [*kept, str(record), field, guard(reason)]))

    def flush(self) -> None:
        """Write the rows noted so far in the file's order (a batch's refused rows, its
        repeats and its warnings were noted in that order, not as the file had them)."""
        if not self.pending:
            return
        if self.writer is None:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)  # an older file of the same name may have been readable
            self.handle = os.fdopen(fd, "w", encoding="utf-8-sig", newline="")
            self.writer = csv.writer(self.handle)
            self.writer.writerow([*self.headers, *REPORT_COLUMNS])
        self.pending.sort(key=lambda noted: noted[:2])
        self.writer.writerows(row for _record, _n, row in self.pending)
        self.pending.clear()

    @property
    def written(self) -> bool:
        return self.writer is not None or bool(self.pending)

    def close(self) -> None:
        self.flush()
        if self.handle is not None:
            self.handle.close()
        else:
            self._drop_stale()

    def _drop_stale(self) -> None:
        """No row needed reporting: an error file an earlier import of the same file left
        would read as this import's errors, so it goes (only a file this class wrote, known
        by its report columns; any other file of that name is left alone)."""
        try:
            with self.path.open(encoding="utf-8-sig", newline="") as handle:
                header = next(csv.reader(handle), [])
        except (OSError, UnicodeDecodeError, csv.Error):
            return
        if header[-len(REPORT_COLUMNS) :] == REPORT_COLUMNS:
            self.path.unlink(missing_ok=True)


def _bad(
    summary: ImportSummary,
    writer: ErrorFile | None,
    options: ImportOptions,
    record: int,
    cells: list[str],
    field_name: str,
    reason: str,
    count_invalid: bool = True,
) -> None:
    if count_invalid:
        summary.invalid += 1
    if len(summary.errors) < options.sample_errors:
        summary.errors.append(RowError(record, field_name, reason))
    if writer is not None:
        writer.writerow(cells, record, field_name, reason)


def _skipped(
    summary: ImportSummary,
    writer: ErrorFile | None,
    options: ImportOptions,
    p: Prepared,
    field_name: str,
    reason: str,
) -> None:
    """A good row left out (a repeat, another person's phone): counted as skipped, not as
    invalid, and in the error file with why."""
    summary.skipped += 1
    _bad(summary, writer, options, p.record, p.cells, field_name, reason, count_invalid=False)


def _warn(
    summary: ImportSummary, writer: ErrorFile | None, options: ImportOptions, p: Prepared
) -> None:
    """Report the values a row that goes in was imported without."""
    if not p.warnings:
        return
    summary.warnings += 1
    for field_name, reason in p.warnings:
        if len(summary.warned) < options.sample_errors:
            summary.warned.append(RowError(p.record, field_name, reason, level="warning"))
    if writer is not None:
        writer.writerow(
            p.cells,
            p.record,
            "; ".join(f for f, _ in p.warnings),
            "warning: imported without " + "; ".join(f"{f} ({r})" for f, r in p.warnings),
        )


def _update_existing(
    session: Session,
    existing: Customer,
    p: Prepared,
    options: ImportOptions,
    actor: Staff | None,
    ctx: dict[str, Any],
    known: Collection[str] = (),
    theirs: dict[str, Customer] | None = None,
) -> bool:
    """Update ``existing`` from the row (``update``: only what it lacks; ``overwrite``: all
    the row has). A phone or email in ``known`` (the customer's second one) is left alone;
    one in ``theirs`` (another customer's second one) is left out with a warning. A blocked
    customer stays blocked (lifting a block is the desk's decision, with its reason)."""
    raw: dict[str, Any] = {}
    values = dict(p.values)
    theirs = theirs or {}
    for label, key, extra in (("phone", "phone", "phone_country"), ("email", "email_key", "email")):
        value = values.get(key)
        if value in known or value in theirs:
            for name in (key, extra):
                values.pop(name, None)
        if value in theirs:
            other = theirs[value]
            p.warnings.append((label, f"left out: {other.code} {other.label} has this {label}"))
    if existing.blocked and values.get("blocked") is False and options.on_duplicate == "overwrite":
        for name in ("blocked", "blocked_reason"):
            values.pop(name, None)
        p.warnings.append(("blocked", "still blocked: a block is lifted at the desk"))
    if p.extras.get("home_branch"):  # resolved to its id by _resolve_extras
        values["home_branch_id"] = p.extras["home_branch"]
    if p.extras.get("category"):
        values["category_id"] = ctx["categories"].get(fold(p.extras["category"]))
    for key, value in values.items():
        if key in ("email_key", "phone_country") or value in (None, ""):
            continue
        if key not in svc.CustomerUpdate.model_fields:
            continue
        current = getattr(existing, key, None)
        if options.on_duplicate == "update" and current not in (None, "", False):
            continue
        if current != value:
            raw[key] = value
    if not raw:
        return False
    from frontdesk.data.messaging.consent_log import consent_source

    try:
        with session.begin_nested(), consent_source("import"):
            svc.update_customer(
                session=session,
                customer_id=existing.id or 0,
                data=svc.CustomerUpdate(**raw),
                expected_version=existing.version,
                actor=actor,
            )
    except FrontdeskError:
        return False
    return True


def _codes(session: Session, rows: list[Prepared]) -> list[str]:
    """Each new customer's code: the file's own Frontdesk code (C-000123, from an export)
    when no customer has it, so that an export imported elsewhere keeps its codes; else a
    new one. The counter moves past every code kept, so later codes never clash."""
    wanted: dict[int, str] = {}
    for i, p in enumerate(rows):
        text = (p.extras.get("code") or "").strip().upper()
        if text and svc.normalise_code(text) == text:
            wanted[i] = text
    if wanted:
        taken = set(
            session.exec(select(Customer.code).where(col(Customer.code).in_(set(wanted.values()))))
        )
        seen: set[str] = set()
        for i, code in list(wanted.items()):
            if code in taken or code in seen:
                del wanted[i]
            seen.add(code)
    if wanted:
        top = max(int(code[len(svc.CODE_PREFIX) :]) for code in wanted.values())
        counter = session.get(Counter, "customer")
        if counter is None:
            session.add(Counter(name="customer", value=top))
            session.flush()
        else:
            session.execute(
                update(Counter)
                .where(col(Counter.name) == "customer", col(Counter.value) < top)
                .values(value=top)
            )
    fresh = iter(
        svc.allocate_codes(session, len(rows) - len(wanted)) if len(rows) > len(wanted) else []
    )
    return [wanted[i] if i in wanted else next(fresh) for i in range(len(rows))]


def _contact_rows(
    session: Session,
    rows: list[tuple[int, Prepared]],
    actor: Staff | None,
    now: Any,
) -> list[dict[str, Any]]:
    """The secondary phones and emails of new customers (their ids and rows); one that is
    another live customer's own phone or email is left out with a warning (as the Details tab
    refuses it)."""
    out: list[dict[str, Any]] = []
    for cid, p in rows:
        for kind, value, display in p.extras["contacts"]:
            phone = kind == ContactKind.PHONE.value
            found = svc.find_live_duplicate(
                session,
                phone=value if phone else None,
                email_key=None if phone else value,
                exclude_id=cid,
            )
            if found is not None:
                label = "secondary_phones" if phone else "secondary_emails"
                p.warnings.append((label, f"{display} is {found[1].code}'s own {found[0]}"))
                continue
            out.append(
                {
                    "customer_id": cid,
                    "kind": kind,
                    "value": value,
                    "display": None if phone else display,
                    "origin": "imported",
                    "created_at": now,
                    "created_by_id": actor.id if actor else None,
                }
            )
    return out


def _id_filter(ids: list[int]) -> tuple[bool, dict[str, Any]]:
    """The rows of ``customer`` with these ids, for the statements below: (True, the first
    and last) when they follow each other (on SQLite always: they were reserved as max(id) +
    1, 2 ... under the write lock), else (False, the list)."""
    if ids == list(range(ids[0], ids[0] + len(ids))):
        return True, {"first_id": ids[0], "last_id": ids[-1]}
    return False, {"ids": ids}


def _new_customers(in_range: bool) -> Any:
    """The condition on ``customer`` that :func:`_id_filter`'s parameters fill in."""
    column = Customer.__table__.c.id  # type: ignore[attr-defined]
    if in_range:
        return column.between(bindparam("first_id"), bindparam("last_id"))
    return column.in_(bindparam("ids", expanding=True))


# The statements below are built once (and compiled once by SQLAlchemy's cache): built for
# every batch, they cost more of the writer's time than SQLite took to run them.
@cache
def _audit_statement(in_range: bool) -> Any:
    from frontdesk.data.models import AuditEvent

    table = AuditEvent.__table__  # type: ignore[attr-defined]
    customer = Customer.__table__  # type: ignore[attr-defined]
    t = table.c
    return insert(table).from_select(
        ["at", "actor_id", "actor_name", "entity", "entity_id", "action", "customer_id", "changes"],
        sa_select(
            bindparam("at", type_=t.at.type),
            bindparam("actor_id", type_=t.actor_id.type),
            bindparam("actor_name", type_=t.actor_name.type),
            literal("customer", t.entity.type),
            customer.c.id,
            literal("import", t.action.type),
            customer.c.id,
            bindparam("changes", type_=t.changes.type),
        )
        .where(_new_customers(in_range))
        .order_by(customer.c.id),
    )


def _audit_created(
    conn: Any, new_customers: tuple[bool, dict[str, Any]], now: datetime, actor: Staff | None
) -> None:
    """One audit event per created customer (action import, in the order of their ids), in
    one INSERT ... SELECT over the batch's new customers: nothing per row in Python."""
    in_range, params = new_customers
    conn.execute(
        _audit_statement(in_range),
        {
            **params,
            "at": now,
            "actor_id": actor.id if actor else None,
            "actor_name": actor.name if actor else None,
            "changes": {"source": [None, "import"]},
        },
    )


@cache
def _consents_statement(purposes: tuple[tuple[int, str, str], ...], in_range: bool) -> Any:
    """(n, column, purpose) of the consents given: one row per customer and consent."""
    from frontdesk.data.models import ConsentChange

    table = ConsentChange.__table__  # type: ignore[attr-defined]
    customer = Customer.__table__  # type: ignore[attr-defined]
    t = table.c
    given = union_all(
        *(
            sa_select(
                customer.c.id.label("customer_id"),
                literal(purpose, t.purpose.type).label("purpose"),
                literal(n).label("n"),
            ).where(_new_customers(in_range), customer.c[column])
            for n, column, purpose in purposes
        )
    ).subquery("given")
    return insert(table).from_select(
        ["customer_id", "purpose", "granted", "at", "staff_id", "source"],
        sa_select(
            given.c.customer_id,
            given.c.purpose,
            literal(True, t.granted.type),
            bindparam("at", type_=t.at.type),
            bindparam("staff_id", type_=t.staff_id.type),
            literal("import", t.source.type),
        ).order_by(given.c.customer_id, given.c.n),
    )


def _record_consents(
    conn: Any,
    new_customers: tuple[bool, dict[str, Any]],
    records: list[dict[str, Any]],
    now: datetime,
    actor: Staff | None,
) -> None:
    """The consents each new customer arrives with, in the consent history (granted, source
    import): one row per consent given, by customer and then purpose, in one statement that
    reads only the consents some of them give (``records``: their column values)."""
    from frontdesk.data.messaging.consent_log import FIELD_PURPOSE

    purposes = tuple(
        (n, column, purpose)
        for n, (column, purpose) in enumerate(FIELD_PURPOSE.items())
        if any(map(itemgetter(column), records))
    )
    if not purposes:
        return
    in_range, params = new_customers
    statement = _consents_statement(purposes, in_range)
    conn.execute(statement, {**params, "at": now, "staff_id": actor.id if actor else None})


@cache
def _customer_template() -> dict[str, Any]:
    """A new customer's column defaults (read only: each row copies it)."""
    return Customer(code="", first_name="").model_dump(exclude={"id"})


def _insert(
    session: Session,
    rows: list[Prepared],
    ctx: dict[str, Any],
    summary: ImportSummary,
    actor: Staff | None,
    options: ImportOptions,
) -> None:
    """Bulk insert of validated rows (codes allocated in one step, audit events in bulk)."""
    if not rows:
        return
    from frontdesk.data.models import utcnow

    codes = _codes(session, rows)
    template = _customer_template()
    columns = template.keys()
    now = utcnow()
    # The same for every row of the batch.
    common = {
        "created_via": CreatedVia.IMPORT.value,
        "created_by_id": actor.id if actor else None,
        "updated_at": now,
    }
    default_category, default_branch = ctx.get("category_id"), ctx.get("branch_id")
    records = []
    for p, code in zip(rows, codes, strict=True):
        v, extras = p.values, p.extras
        category_id = default_category
        if extras["category"]:
            category_id = ctx["categories"].get(fold(extras["category"]), category_id)
        sort_key, name_key, before, after = p.keys
        # Plain dicts from a defaults template: building ORM objects per row costs more than
        # validating them.
        record = dict(template)
        if v.keys() <= columns:
            record.update(v)
        else:
            record.update({k: val for k, val in v.items() if k in columns})
        record.update(common)
        record["code"] = code
        record["created_at"] = extras["created_at"] or now  # "customer since" kept
        record["category_id"] = category_id
        record["home_branch_id"] = extras["home_branch"] or default_branch
        record["sort_key"] = sort_key
        record["name_key"] = name_key
        record["search_text"] = svc.search_text_of(before, code, after)
        if record["blocked"] and not record["blocked_reason"]:
            record["blocked_reason"] = "Blocked in the imported file"
        records.append(record)
    ids = insert_with_ids(session, Customer, records)
    for new_id in ids:
        ctx["created"].add(new_id)
    summary.imported += len(ids)
    tag_rows: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    # The rows with contacts and custom values (most rows of most files have neither).
    with_contacts: list[tuple[int, Prepared]] = []
    with_custom: list[tuple[int, Prepared]] = []
    tag_id = ctx.get("tag_id")
    for cid, p in zip(ids, rows, strict=True):
        extras = p.extras
        if extras["tags"] or tag_id:
            tag_ids = set()
            for name in extras["tags"]:
                key = fold(name)
                if key not in ctx["tags"]:
                    ctx["tags"][key] = create_tag(session=session, name=name, actor=actor).id
                tag_ids.add(ctx["tags"][key])
            if tag_id:
                tag_ids.add(tag_id)
            tag_rows.extend({"customer_id": cid, "tag_id": t} for t in tag_ids)
        if extras["note"]:
            notes.append(
                {
                    "customer_id": cid,
                    "body": extras["note"],
                    "visibility": "staff",
                    "pinned": False,
                    "is_alert": False,
                    "position": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        if extras["contacts"]:
            with_contacts.append((cid, p))
        if extras["custom"]:
            with_custom.append((cid, p))
    conn = session.connection()
    new_customers = _id_filter(ids)
    _audit_created(conn, new_customers, now, actor)
    _record_consents(conn, new_customers, records, now, actor)
    contact_rows = _contact_rows(session, with_contacts, actor, now)
    if contact_rows:
        bulk_insert(conn, ContactPoint, contact_rows)
    if tag_rows:
        bulk_insert(conn, CustomerTag, tag_rows)
    if notes:
        bulk_insert(conn, Note, notes)
    for cid, p in with_custom:
        fields.set_values(session=session, customer_id=cid, values=p.extras["custom"], actor=actor)
    if ctx.get("program_id"):
        for cid in ids:
            rewards.enrol(
                session=session,
                customer_id=cid,
                program_id=ctx["program_id"],
                starting_balance=options.points,
                actor=actor,
            )


def preview(
    path: Path, options: ImportOptions, engine: Engine, limit: int = 10
) -> tuple[list[str], dict[str, str], list[list[str]], ImportSummary]:
    """Headers, guessed mapping, first rows and a dry-run summary (nothing written)."""
    source = open_source(path)
    first = []
    for _record, cells in source.rows:
        first.append(cells)
        if len(first) >= limit:
            break
    dry = ImportOptions(**{**options.__dict__, "dry_run": True, "error_file": None})
    summary = run_import(engine=engine, path=path, options=dry)
    return source.headers, summary.mapping, first, summary

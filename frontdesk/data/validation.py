"""Identity rules: phone numbers (E.164), email addresses, names and search keys.

Everything here is pure Python so that the same keys are computed the same way on SQLite and
PostgreSQL (SQLite's ``lower()`` only knows ASCII).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat, PhoneNumberType
from phonenumbers import ValidationResult as PR
from phonenumbers import phonenumberutil as _util
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, _number_type_helper

from frontdesk.data.errors import ValidationFailed

# Keep phonenumbers' compiled metadata patterns (it compiles a pattern at every use, through
# the re module's bounded cache, otherwise: a fifth of the time of parsing a number).
_enable_pattern_cache = getattr(phonenumbers, "enable_pattern_cache", None)
if _enable_pattern_cache is not None:
    _enable_pattern_cache()

_NON_DIGITS = re.compile(r"\D+")
_A_DIGIT = re.compile(r"\d")
# Characters a person may type in a phone number besides digits.
_PHONE_CHARS = re.compile(r"^[\d\s()+\-./]*(?:(?:ext|x|#)\.?\s*\d+)?$", re.IGNORECASE)
_MAX_INPUT = 320


def clean_text(value: str | None) -> str | None:
    """Trim and collapse inner whitespace; empty strings become ``None``.

    Only tidies whitespace: text that will be stored goes through :func:`clean_line` or
    :func:`clean_multiline`, which refuse control characters first.
    """
    if value is None:
        return None
    # str.split() splits where the pattern \s+ matches (str.isspace), ends dropped: the
    # same as substituting it, five times faster (an import tidies every cell).
    text = " ".join(str(value).split())
    return text or None


# --------------------------------------------------------------------------- control characters

# C0 controls, DEL and C1 controls: Unicode category Cc, U+0000-U+001F and U+007F-U+009F.
# Besides them, the bidirectional embeddings, overrides and isolates (U+202A-E,
# U+2066-9): a right-to-left override turns "RTL\u202eevil" into another name on screen,
# and the line and paragraph separators (U+2028-9), line breaks by another name.
_FORMAT_CONTROLS = "\u2028-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{_FORMAT_CONTROLS}]")
# The same without tab and newline, which multi-line fields (note bodies ...) may contain.
_CONTROL_MULTILINE = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_FORMAT_CONTROLS}]")
_NAMED_CONTROLS = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def shown_control(char: str) -> str:
    """How a message names a control character: ``\\x1b``, ``\\n`` (never the character)."""
    code = ord(char)
    return _NAMED_CONTROLS.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def check_text(field: str, value: str | None, *, multiline: bool = False) -> str | None:
    """Refuse C0/C1 control characters (NUL included), bidirectional overrides and the
    Unicode line separators in a text value; return it unchanged.

    Every service that stores text a person or a file supplied calls this (directly or
    through :func:`clean_line` / :func:`clean_multiline`), so the TUI, the CLI, the API and
    imports all refuse the same values. Tab and newline are allowed only when ``multiline``
    (note bodies, long-text custom fields, booking and order notes).
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed(field, "must be text")
    if value.isprintable():  # no control character (nor anything else unprintable): fast
        return value
    found = (_CONTROL_MULTILINE if multiline else _CONTROL).search(value)
    if found is None:
        return value
    char = found.group()
    if char in "\n\r" and not multiline:
        message = f"contains a line break ({shown_control(char)}); this field is a single line"
    elif char == "\t" and not multiline:
        message = "contains a tab (\\t); this field is a single line"
    else:
        message = (
            f"contains a control character ({shown_control(char)}) at position "
            f"{found.start() + 1}; remove it"
        )
    raise ValidationFailed(field, message)


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_day(text: str, field: str, example: str = "2026-12-01") -> date:
    """A date typed as YYYY-MM-DD; one of that shape that is not a day ("2026-02-30") is
    said to be so (not asked for in the shape it already has)."""
    raw = (text or "").strip()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        if _ISO_DAY.fullmatch(raw):
            raise ValidationFailed(field, f"{raw} is not a day of the calendar") from None
        raise ValidationFailed(field, f"use YYYY-MM-DD, e.g. {example}") from None


def clean_line(field: str, value: str | None, *, max_length: int | None = None) -> str | None:
    """A single-line text value to store: controls refused, whitespace tidied, "" -> None,
    and at most ``max_length`` characters (the column's size: PostgreSQL refuses more)."""
    text = clean_text(check_text(field, value))
    if text is not None and max_length is not None and len(text) > max_length:
        raise ValidationFailed(field, f"is too long ({max_length} characters at most)")
    return text


def clean_multiline(field: str, value: str | None) -> str | None:
    """A multi-line text value to store: line endings made ``\\n``, other controls refused,
    outer whitespace trimmed (inner lines and tabs kept), "" -> None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed(field, "must be text")
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    check_text(field, text, multiline=True)
    return text.strip() or None


def visible_controls(text: str) -> str:
    """``text`` with every control character written out (``\\x1b``), for labels that come
    from outside (file names) rather than from a person's typing."""
    return _CONTROL.sub(lambda m: shown_control(m.group()), text)


def fold(text: str | None) -> str:
    """A comparison/search key: accents removed, case-folded, whitespace collapsed."""
    if not text:
        return ""
    return _fold(text)


@functools.lru_cache(maxsize=4096)
def _fold(text: str) -> str:
    """:func:`fold`, remembered: an import folds the same first and last names, categories
    and tags over and over."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def digits(text: str | None) -> str:
    """The decimal digits of ``text`` (any script's, as ``\\d``), in order."""
    if not text:
        return ""
    if text.isdecimal():  # already only digits (a stored number without its "+")
        return text
    if text[0] == "+" and text[1:].isdecimal():  # a stored E.164 number
        return text[1:]
    return _NON_DIGITS.sub("", text)


def valid_region(code: str | None) -> str | None:
    """Return the upper-case ISO region code if phonenumbers knows it, else ``None``."""
    if not code:
        return None
    region = code.strip().upper()
    return region if region in phonenumbers.SUPPORTED_REGIONS else None


@dataclass(frozen=True)
class Phone:
    e164: str
    region: str | None

    @property
    def international(self) -> str:
        return format_phone(self.e164)


def normalise_phone(text: str | None, region: str | None, *, field: str = "phone") -> Phone | None:
    """Parse ``text`` as a phone number of ``region`` (or with its own +country code).

    Returns ``None`` for empty input; raises :class:`ValidationFailed` with a message saying
    what is wrong otherwise. Only complete, valid numbers are accepted.
    """
    raw = clean_text(text)
    if raw is None:
        return None
    found = _parsed_phone(raw, region)
    if isinstance(found, str):
        raise ValidationFailed(field, found)
    return found


_PARSE_MESSAGES = {
    NumberParseException.INVALID_COUNTRY_CODE: "has an unknown country code",
    NumberParseException.NOT_A_NUMBER: "is not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "is too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "is too short",
    NumberParseException.TOO_LONG: "is too long",
}


@functools.lru_cache(maxsize=8192)
def _parsed_phone(raw: str, region: str | None) -> Phone | str:
    """The number ``raw`` (already tidied) reads as in ``region``, or what is wrong with it.

    Cached by (text, region): a file repeats numbers (a household, a shop's own number on
    walk-ins, the same person on two rows), and the answer depends on nothing else.
    """
    if len(raw) > 40:
        return "is too long to be a phone number"
    if not _PHONE_CHARS.match(raw):
        return "may contain only digits, spaces, + ( ) - . /"
    if not _A_DIGIT.search(raw):
        return "has no digits"
    region = valid_region(region)
    if region is None and not raw.startswith("+") and not raw.startswith("00"):
        return "needs a country code (start with +) or a country to read it in"
    try:
        parsed = _international(raw) or phonenumbers.parse(raw, region or "ZZ")
    except NumberParseException as exc:
        return _PARSE_MESSAGES.get(exc.error_type, "is not a phone number")
    number_region, valid = _region_and_validity(parsed)
    if not valid:
        reason = phonenumbers.is_possible_number_with_reason(parsed)
        # A number with its own country code is judged in that country (+44 ... in GB, not
        # in the desk's region).
        own = phonenumbers.region_code_for_country_code(parsed.country_code or 0)
        where = number_region or (own if own != "ZZ" else None) or region or "that country"
        if reason == PR.IS_POSSIBLE_LOCAL_ONLY:
            return "is a local number only: add the area code"
        if reason == PR.TOO_SHORT:
            return f"is too short for {where}"
        if reason == PR.TOO_LONG:
            return f"is too long for {where}"
        if reason == PR.INVALID_COUNTRY_CODE:
            return "has an unknown country code"
        return f"is not a valid number in {where}"
    e164 = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    return Phone(e164=e164, region=number_region)


# "+" then ASCII digits and the separators people type: no extension, no second number, no
# letters, no international dialling prefix to strip.
_PLAIN_INTERNATIONAL = re.compile(r"\+[0-9][0-9 ()\-.]*")
_SEPARATORS = str.maketrans("", "", " ()-.")
# What phonenumbers' parse refuses to keep as a national number after stripping a prefix.
_NOT_A_FULL_LENGTH = (
    _util.ValidationResult.TOO_SHORT,
    _util.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    _util.ValidationResult.INVALID_LENGTH,
)


def _international(raw: str) -> phonenumbers.PhoneNumber | None:
    """``phonenumbers.parse(raw)`` for a number written "+" country code and digits (how most
    files and forms write them), or ``None`` for any other text, which ``parse`` reads.

    ``parse`` first looks for extensions, RFC 3966 parameters, letters, an international
    dialling prefix and a second number in the text, with large patterns, and reads each
    character's digit through Unicode tables: two thirds of the time of validating a number
    in an import. Text of this shape has none of those, so this takes the steps of ``parse``
    that apply to it (the country code, the national prefix, the lengths, Italian leading
    zeros) in the same order; tests/data/test_phone_fast_path.py compares both on numbers of
    every country code.
    """
    if not _PLAIN_INTERNATIONAL.fullmatch(raw):
        return None
    number = raw[1:].translate(_SEPARATORS)
    if len(number) <= _util._MIN_LENGTH_FOR_NSN:
        return None  # parse says why
    country_code, national = _util._extract_country_code(number)
    if country_code == 0 or len(national) < _util._MIN_LENGTH_FOR_NSN:
        return None
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(
        country_code, _util.region_code_for_country_code(country_code)
    )
    if metadata is None:
        return None
    _carrier, potential, _ = _util._maybe_strip_national_prefix_carrier_code(national, metadata)
    if _util._test_number_length(potential, metadata) not in _NOT_A_FULL_LENGTH:
        national = potential
    if not _util._MIN_LENGTH_FOR_NSN <= len(national) <= _util._MAX_LENGTH_FOR_NSN:
        return None
    parsed = phonenumbers.PhoneNumber(country_code=country_code)
    _util._set_italian_leading_zeros_for_phone_number(national, parsed)
    parsed.national_number = int(national)
    return parsed


def _region_and_validity(parsed: phonenumbers.PhoneNumber) -> tuple[str | None, bool]:
    """``(region_code_for_number(parsed), is_valid_number_for_region(parsed, that region))``
    with the number's patterns matched once instead of twice.

    For a country code shared by several regions (+1, +7, +44 ...), phonenumbers finds the
    region of a number by matching its patterns region by region, and the validity check
    for the region found matches the same patterns again: a region found that way makes the
    number valid for it. A region found by its leading digits, or the only region of its
    code, is checked as phonenumbers checks it.
    """
    regions = COUNTRY_CODE_TO_REGION_CODE.get(parsed.country_code or 0)
    if regions is None:
        return None, False
    if len(regions) == 1:
        region = regions[0]
        return region, phonenumbers.is_valid_number_for_region(parsed, region)
    national = phonenumbers.national_significant_number(parsed)
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            if re.match(metadata.leading_digits, national):
                return region, phonenumbers.is_valid_number_for_region(parsed, region)
        elif _number_type_helper(national, metadata) != PhoneNumberType.UNKNOWN:
            return region, True
    return None, False


def format_phone(e164: str | None, *, national: bool = False) -> str:
    """Display form of a stored E.164 number (international by default)."""
    if not e164:
        return ""
    try:
        parsed = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    fmt = PhoneNumberFormat.NATIONAL if national else PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(parsed, fmt)


@dataclass(frozen=True)
class Email:
    display: str
    key: str


def email_key(address: str) -> str:
    """Case-insensitive comparison key of an already valid address (Unicode-aware)."""
    local, _, domain = address.rpartition("@")
    local = unicodedata.normalize("NFC", local).casefold()
    return f"{local}@{domain.casefold()}"


# Plain ASCII dot-atom local parts on a domain email-validator already accepted (imports of
# many addresses on the same few domains) skip the full check: the result is the same.
_DOT_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_KNOWN_DOMAINS: dict[str, None] = {}


def _remember_domain(address: str) -> None:
    domain = address.rpartition("@")[2]
    if domain.isascii() and len(_KNOWN_DOMAINS) < 10_000:
        _KNOWN_DOMAINS[domain.lower()] = None


def _fast_email(raw: str) -> Email | None:
    local, at, domain = raw.rpartition("@")
    if not at or not raw.isascii() or domain.lower() not in _KNOWN_DOMAINS:
        return None
    if len(local) > 64 or len(raw) > 254 or not _DOT_ATOM.match(local):
        return None
    normalized = f"{local}@{domain.lower()}"
    return Email(display=raw, key=email_key(normalized))


def normalise_email(text: str | None, *, field: str = "email") -> Email | None:
    """Validate syntax only (no network). Returns display form and comparison key."""
    raw = clean_text(text)
    if raw is None:
        return None
    if len(raw) > _MAX_INPUT:
        raise ValidationFailed(field, "is too long to be an email address")
    fast = _fast_email(raw)
    if fast is not None:
        return fast
    from email_validator import EmailNotValidError, validate_email  # not needed at start-up

    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        message = str(exc).rstrip(".")
        message = message[0].lower() + message[1:] if message else "is not a valid email address"
        raise ValidationFailed(field, message) from None
    except Exception:  # email-validator may raise on exotic Unicode; keep the contract typed
        raise ValidationFailed(field, "is not a valid email address") from None
    normalized: str = result.normalized
    _remember_domain(normalized)
    # Displayed as typed; compared by the normalised key.
    return Email(display=raw, key=email_key(normalized))


def require_name(value: str | None, *, field: str = "first_name", label: str = "First name") -> str:
    name = clean_line(field, value)
    if name is None:
        raise ValidationFailed(field, f"{label} is required")
    if len(name) > 100:
        raise ValidationFailed(field, f"{label} is too long (100 characters at most)")
    return name


# Digits after a leading 0 that make a local number worth looking for without its 0 (fewer
# would match a good part of every phone book).
_LOCAL_DIGITS = 6


def phone_search_variants(text: str, region: str | None) -> list[str]:
    """Digit strings to look for in the stored phone digits for a typed phone fragment.

    "+31 6 1234" -> ["3161234"]; "06 1234 5678" (NL) -> ["0612345678", "612345678"];
    a complete number also yields its full E.164 digits; a number typed with a leading 0 is
    also looked for without it, whatever the region.
    """
    raw = text.strip()
    found = digits(raw)
    if not found:
        return []
    variants: list[str] = []
    if raw.startswith("00"):
        variants.append(found[2:])
    else:
        variants.append(found)
    region = valid_region(region)
    if region and not raw.startswith("+") and not raw.startswith("00"):
        try:
            parsed = phonenumbers.parse(raw, region)
            if phonenumbers.is_valid_number(parsed):
                variants.insert(0, f"{parsed.country_code}{parsed.national_number}")
        except NumberParseException:
            pass
        trunk = phonenumbers.ndd_prefix_for_region(region, True) or ""
        if trunk and found.startswith(trunk) and len(found) > len(trunk):
            variants.append(found[len(trunk) :])
    local = not raw.startswith("+") and found.startswith("0") and not found.startswith("00")
    if local and len(found) > _LOCAL_DIGITS:
        # A number said the local way in another country than the business's ("06 1234
        # 9876" for a Dutch mobile at a desk set to US): 0 is the trunk prefix of most
        # countries, and the rest is the end of the stored number.
        variants.append(found[1:])
    out: list[str] = []
    for v in variants:
        if v and v not in out:
            out.append(v)
    return out

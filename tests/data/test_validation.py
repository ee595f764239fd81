from __future__ import annotations

import re
import unicodedata
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontdesk.data.errors import ValidationFailed
from frontdesk.data.importing import parse_date
from frontdesk.data.validation import (
    check_text,
    clean_text,
    digits,
    email_key,
    fold,
    format_phone,
    normalise_email,
    normalise_phone,
    phone_search_variants,
)


@pytest.mark.parametrize(
    "typed", ["+31 6 12345678", "06 12345678", "0031 6 1234 5678", "0612-345-678"]
)
def test_dutch_variants_are_one_number(typed: str) -> None:
    phone = normalise_phone(typed, "NL")
    assert phone is not None
    assert phone.e164 == "+31612345678"
    assert phone.region == "NL"


def test_explicit_country_code_wins_over_region() -> None:
    phone = normalise_phone("+49 151 23456789", "NL")
    assert phone is not None and phone.e164 == "+4915123456789" and phone.region == "DE"


def test_local_only_number_is_rejected_with_reason() -> None:
    with pytest.raises(ValidationFailed) as err:
        normalise_phone("555-0123", "US")
    assert err.value.field == "phone"
    assert "local number" in err.value.message


@pytest.mark.parametrize(
    ("typed", "needle"),
    [
        ("12", "too short"),
        ("+31 6 1234567890123", "too long"),
        ("hello", "only digits"),
        ("+999 123456789", "country code"),
        # Judged in the number's own country, not the desk's region (it said "in NL").
        ("+44 7700 900123", "is not a valid number in GB"),
        ("06 1234", "is not a valid number in NL"),
    ],
)
def test_bad_phones_say_what_is_wrong(typed: str, needle: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        normalise_phone(typed, "NL")
    assert needle in err.value.message


def test_phone_without_region_needs_country_code() -> None:
    with pytest.raises(ValidationFailed, match="country code"):
        normalise_phone("0612345678", None)


def test_empty_phone_is_none() -> None:
    assert normalise_phone("   ", "NL") is None


def test_format_phone_international() -> None:
    assert format_phone("+31612345678") == "+31 6 12345678"


def test_email_key_is_case_insensitive_and_unicode_aware() -> None:
    a = normalise_email("  Anna.Ölund@Example.COM ")
    b = normalise_email("anna.ölund@example.com")
    assert a is not None and b is not None
    assert a.key == b.key == "anna.ölund@example.com"
    assert a.display == "Anna.Ölund@Example.COM"
    # Non-ASCII upper case that SQLite's lower() would not fold.
    c = normalise_email("ÉLODIE@example.fr")
    d = normalise_email("élodie@EXAMPLE.fr")
    assert c is not None and d is not None and c.key == d.key


@pytest.mark.parametrize("bad", ["plainaddress", "a@", "@example.com", "a b@example.com", "a@b"])
def test_bad_emails_are_rejected(bad: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        normalise_email(bad)
    assert err.value.field == "email"
    assert err.value.message


def test_phone_search_variants_strip_trunk_prefix() -> None:
    assert "612345678" in phone_search_variants("06 12345678", "NL")
    assert "31612345678" in phone_search_variants("06 12345678", "NL")
    assert phone_search_variants("+31 6 1234", "NL") == ["3161234"]


def test_fold_removes_accents_and_case() -> None:
    assert fold("  José   GARCÍA ") == "jose garcia"


# ---------------------------------------------------------------- properties

phone_text = st.text(alphabet="0123456789 +-().", max_size=25)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60), region=st.sampled_from(["NL", "US", "GB", "DE", None]))
def test_phone_never_raises_anything_but_validation(text: str, region: str | None) -> None:
    try:
        normalise_phone(text, region)
    except ValidationFailed:
        pass


@settings(max_examples=300, deadline=None)
@given(text=phone_text, region=st.sampled_from(["NL", "US", "GB", "DE"]))
def test_phone_normalisation_is_idempotent(text: str, region: str) -> None:
    try:
        phone = normalise_phone(text, region)
    except ValidationFailed:
        return
    if phone is None:
        return
    again = normalise_phone(phone.e164, region)
    assert again is not None and again.e164 == phone.e164
    # And the international display form reads back to the same number.
    shown = normalise_phone(format_phone(phone.e164), None)
    assert shown is not None and shown.e164 == phone.e164


@settings(max_examples=200, deadline=None)
@given(
    national=st.sampled_from(["612345678", "687654321", "201234567"]),
    style=st.sampled_from(["+31 {n}", "0{n}", "0031{n}", "+31-{n}", "(0){n}"]),
)
def test_phone_format_variants_collapse(national: str, style: str) -> None:
    typed = style.format(n=national)
    phone = normalise_phone(typed, "NL")
    assert phone is not None and phone.e164 == "+31" + national


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80))
def test_email_never_raises_anything_but_validation(text: str) -> None:
    try:
        normalise_email(text)
    except ValidationFailed:
        pass


local_part = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéÉöÖ.", min_size=1, max_size=20
)


@settings(max_examples=300, deadline=None)
@given(local=local_part, domain=st.sampled_from(["example.com", "EXAMPLE.org", "Mail.Example.NET"]))
def test_email_key_idempotent_and_case_collapses(local: str, domain: str) -> None:
    try:
        email = normalise_email(f"{local}@{domain}")
    except ValidationFailed:
        return
    assert email is not None
    assert email_key(email.key) == email.key
    upper = normalise_email(f"{local.upper()}@{domain.upper()}")
    lower = normalise_email(f"{local.lower()}@{domain.lower()}")
    if upper is not None and lower is not None:
        assert upper.key == lower.key


# The fast paths of the helpers every import cell goes through read as the patterns did.
_SPACE_RUNS = re.compile(r"\s+")
_NOT_DIGITS = re.compile(r"\D+")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069]")


@given(st.text(alphabet=st.sampled_from(" \t\n\x0b\x1c\x1f\x85\xa0\u2003\u3000ab1٣+")))
def test_clean_text_and_fold_tidy_every_kind_of_space(text: str) -> None:
    tidied = _SPACE_RUNS.sub(" ", text).strip()
    assert clean_text(text) == (tidied or None)
    assert fold(text) == _SPACE_RUNS.sub(" ", fold_by_pattern(text)).strip()


def fold_by_pattern(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@given(st.text(alphabet=st.sampled_from("+0123456789٣۴ -()x")))
def test_digits_keeps_every_script_s_digits(text: str) -> None:
    assert digits(text) == _NOT_DIGITS.sub("", text)


@given(
    st.text(
        alphabet=st.sampled_from(
            "ab \t\n\x00\x1b\x7f\x85\x9f\xa0\u200b\u200d\u200e\u2028\u202a\u202e\u2066\u2069"
        )
    )
)
def test_check_text_refuses_exactly_the_controls(text: str) -> None:
    if _CONTROLS.search(text):
        with pytest.raises(ValidationFailed):
            check_text("note", text)
    else:
        assert check_text("note", text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1990-04-23", date(1990, 4, 23)),
        ("1990-04-23T10:00:00", date(1990, 4, 23)),
        ("12 March 2020", date(2020, 3, 12)),
        ("1 OCTOBER 2020", date(2020, 10, 1)),
        ("March 12, 2020", date(2020, 3, 12)),
        ("23/04/1990", date(1990, 4, 23)),
        ("04/23/1990", date(1990, 4, 23)),
        ("0/0/00", None),
    ],
)
def test_dates_as_files_write_them(text: str, expected: date | None) -> None:
    assert parse_date(text, "date_of_birth") == expected

"""The import's short way of reading "+country code digits" gives what phonenumbers' own
parse gives, on numbers of every country code (and refuses nothing parse would read)."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import NumberParseException
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from frontdesk.data import validation
from frontdesk.data.validation import _international, normalise_phone


def _parse(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(raw, region)
    except NumberParseException:
        return None


def _spaced(rng: random.Random, digits: str) -> str:
    out = []
    for d in digits:
        if rng.random() < 0.3:
            out.append(rng.choice([" ", "-", ".", "(", ")", " (", ") ", "  ", "--"]))
        out.append(d)
    return "".join(out)


def _samples() -> list[str]:
    rng = random.Random(20261128)
    numbers: list[str] = []
    for code, regions in COUNTRY_CODE_TO_REGION_CODE.items():
        for region in regions:
            for kind in (
                phonenumbers.PhoneNumberType.MOBILE,
                phonenumbers.PhoneNumberType.FIXED_LINE,
            ):
                example = phonenumbers.example_number_for_type(region, kind)
                if example is not None:
                    numbers.append(
                        phonenumbers.format_number(
                            example, phonenumbers.PhoneNumberFormat.INTERNATIONAL
                        )
                    )
                    numbers.append(
                        phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
                    )
        for _ in range(12):
            national = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 18)))
            prefix = rng.choice(["", "0", "00", "0 ", "(0) ", "1", "8"])
            numbers.append(f"+{code}" + _spaced(rng, prefix + national))
    # Country codes that are not one, numbers too short or too long, leading zeros, Italy.
    numbers += [
        "+0",
        "+00 31 6 1234 5678",
        "+999 123456",
        "+1",
        "+12",
        "+123",
        "+1 2",
        "+39 06 698 1",
        "+39 0669812345",
        "+39 312 345 6789",
        "+44 (0) 20 7946 0958",
        "+44 020 7946 0958",
        "+31 (0)6 1234 5678",
        "+7 8 495 123 4567",
        "+1 415 200 0001)",
        "+1 (415) 200-0001",
        "+1...415...200...0001",
        "+" + "1" * 39,
        "+31 6 1234 5678 9012 3456 7890",
    ]
    return numbers


@pytest.mark.parametrize("region", ["ZZ", "NL", "US", "IT"])
def test_the_short_way_reads_every_number_as_parse_does(region: str) -> None:
    samples = _samples()
    read = 0
    for raw in samples:
        fast = _international(raw)
        slow = _parse(raw, region)
        if fast is not None:
            read += 1
            assert fast == slow, raw
            assert phonenumbers.format_number(fast, phonenumbers.PhoneNumberFormat.E164) == (
                phonenumbers.format_number(slow, phonenumbers.PhoneNumberFormat.E164)
            )
    # Most of them are read the short way (the test would prove nothing otherwise).
    assert read > 0.9 * len(samples)


def test_other_texts_are_left_to_parse() -> None:
    for raw in [
        "0612345678",
        "+31 6 1234 5678 x12",
        "+31 6 1234 5678 ext. 3",
        "+31/6/12345678",
        "0031 6 1234 5678",
        "+(31) 6 1234 5678",
        "++31 612345678",
        "+٣١٦١٢٣٤٥٦٧٨",
        "+31 6 1234 5678 #4",
        "tel:+31612345678",
        "+31 6 CALL NOW",
    ]:
        assert _international(raw) is None, raw


def test_validation_gives_the_same_answers_with_and_without_the_short_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    samples = _samples()

    def answers() -> list[object]:
        validation._parsed_phone.cache_clear()
        out: list[object] = []
        for raw in samples:
            try:
                out.append(normalise_phone(raw, "NL"))
            except validation.ValidationFailed as exc:
                out.append(exc.message)
        return out

    short = answers()
    monkeypatch.setattr(validation, "_international", lambda raw: None)
    assert answers() == short
    validation._parsed_phone.cache_clear()

"""Business-wide settings stored in the database, shared by every terminal."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, select

from frontdesk.data.errors import ValidationFailed
from frontdesk.data.messaging.setting_values import coerce_setting
from frontdesk.data.models import Setting, Staff
from frontdesk.data.validation import check_text, valid_region

DEFAULTS: dict[str, Any] = {
    "default_region": "US",
    "require_phone": False,
    "currency": "USD",
    "business_name": "Frontdesk",
    # A --staff name or OS login that is not on the staff list may read (never change) data.
    "unknown_staff_read_only": False,
    # Booking requests from outside (frontdesk serve) are confirmed at once when nothing
    # needs review; otherwise they wait as pending bookings for the desk to accept.
    "auto_confirm_requests": False,
    # The opening hours (the desk's time zone): a booking starts at or after opening and
    # the visit ends by closing, at the desk, from the CLI and the API; "first free" and the
    # availability offer only such starts.
    "opens_at": "09:00",
    "closes_at": "19:00",
    # Directory filters and the profile's visit rhythm (issue 16): "due back" is past the
    # usual interval by more than this many days; "lapsed" is no visit for this many days.
    "due_back_margin_days": 14,
    "lapsed_after_days": 180,
    # Messaging (frontdesk.data.messaging): passwords and tokens never live here (see
    # frontdesk.data.messaging.secrets).
    "smtp_host": "",
    "smtp_port": 587,
    "smtp_security": "starttls",  # none | starttls | tls
    "smtp_user": "",
    "smtp_timeout": 30,
    "sender_email": "",
    "sender_name": "",  # empty: the business name
    "reply_to": "",  # empty: the sender address
    "unsubscribe_email": "",  # List-Unsubscribe mailbox; empty: the sender address
    "reminder_hours": 24,
    "time_zone": "UTC",
    "twilio_account_sid": "",
    "twilio_sms_from": "",
    "twilio_whatsapp_from": "",
    "twilio_base_url": "https://api.twilio.com",
}


HOURS_KEYS = frozenset({"opens_at", "closes_at"})
MESSAGING_KEYS = frozenset(k for k in DEFAULTS if k.startswith(("smtp_", "sender_", "twilio_"))) | {
    "reply_to",
    "unsubscribe_email",
    "reminder_hours",
    "time_zone",
}


# The currency codes of ISO 4217 (its list of current codes, fund codes such as CHE and
# USN included; not the metals, test and "no currency" codes).
CURRENCIES = frozenset(
    """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN
BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP
ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK
JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK
MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB
TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD
XCG XOF XPF YER ZAR ZMW ZWG ZWL
""".split()  # noqa: SIM905 (a list of 169 codes, read as a table)
)


def get_setting(*, session: Session, key: str) -> Any:
    row = session.get(Setting, key)
    if row is None:
        return DEFAULTS.get(key)
    return row.value


def all_settings(*, session: Session) -> dict[str, Any]:
    values = dict(DEFAULTS)
    for row in session.exec(select(Setting)):
        values[row.key] = row.value
    return values


def _coerce(key: str, value: Any) -> Any:
    check_text("setting", key)
    if isinstance(value, str):
        check_text(key, value)
    if key == "default_region":
        region = valid_region(str(value))
        if region is None:
            raise ValidationFailed(key, f"{value!r} is not a country code (e.g. US, NL, GB)")
        return region
    if key in {"require_phone", "unknown_staff_read_only", "auto_confirm_requests"}:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "yes", "true", "on", "y"}:
            return True
        if text in {"0", "no", "false", "off", "n"}:
            return False
        raise ValidationFailed(key, "must be yes or no")
    if key in {"due_back_margin_days", "lapsed_after_days"}:
        text = str(value).strip()
        least = 0 if key == "due_back_margin_days" else 1
        if not text.isdigit() or int(text) < least or int(text) > 3650:
            raise ValidationFailed(key, f"must be a whole number of days from {least} to 3650")
        return int(text)
    if key in HOURS_KEYS:
        text = str(value).strip()
        match = re.fullmatch(r"(\d{1,2})[:.h](\d{2})", text) or re.fullmatch(r"(\d{1,2})()", text)
        hour, minute = (int(match[1]), int(match[2] or 0)) if match else (-1, -1)
        if key == "closes_at" and (hour, minute) in ((24, 0), (0, 0)):
            return "24:00"  # open until midnight
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            late = " (24:00: until midnight)" if key == "closes_at" else ""
            raise ValidationFailed(key, f"must be a time of day, e.g. 09:00{late}")
        return f"{hour:02d}:{minute:02d}"
    if key in {"currency", "business_name"}:
        text = str(value).strip()
        if not text:
            raise ValidationFailed(key, "must not be empty")
        if key == "currency":
            # What amounts are shown in: an ISO 4217 code (EUR, USD, GBP), never free text.
            code = text.upper()
            if not (len(code) == 3 and code.isascii() and code.isalpha()):
                raise ValidationFailed(key, "must be a three-letter currency code, e.g. EUR or USD")
            if code not in CURRENCIES:
                raise ValidationFailed(
                    key, f"{code} is not a currency code (ISO 4217, e.g. EUR, USD, GBP)"
                )
            return code
        if len(text) > 100:
            raise ValidationFailed(key, "is too long (100 characters at most)")
        return check_text(key, text)
    if key in MESSAGING_KEYS:
        return coerce_setting(key, value)
    raise ValidationFailed(key, f"unknown setting (known: {', '.join(sorted(DEFAULTS))})")


def set_setting(*, session: Session, key: str, value: Any) -> Any:
    coerced = _coerce(key, value)
    if key in HOURS_KEYS:
        if session.get_bind().dialect.name == "postgresql":
            # Two admins changing opening and closing at once each compare with the other's
            # value as it was: one at a time (SQLite's writers already are).
            from sqlalchemy import text

            session.execute(text("SELECT pg_advisory_xact_lock(hashtext('opening_hours'))"))
        other = "closes_at" if key == "opens_at" else "opens_at"
        opens, closes = (
            (coerced, get_setting(session=session, key=other))
            if key == "opens_at"
            else (get_setting(session=session, key=other), coerced)
        )
        if opens >= closes:  # "HH:MM" texts compare as times ("24:00" after every other)
            raise ValidationFailed(
                key,
                f"must be before closing ({closes}); to open later than that, change the "
                "closing time first"
                if key == "opens_at"
                else f"must be after opening ({opens}); to close earlier than that, change "
                "the opening time first",
            )
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=coerced))
    else:
        row.value = coerced
        session.add(row)
    session.flush()
    return coerced


def change_setting(*, session: Session, key: str, value: Any, actor: Staff | None) -> Any:
    """A business setting changed by a staff member (admins only), kept in the audit log
    (entity ``setting``, the key with its value before and after)."""
    from frontdesk.data import audit
    from frontdesk.data.roles import require

    require(actor, "settings")
    before = get_setting(session=session, key=key)
    stored = set_setting(session=session, key=key, value=value)
    if stored != before:
        audit.record(
            session=session,
            actor=actor,
            entity="setting",
            entity_id=0,
            action="changed",
            changes={key: (before, stored)},
        )
    return stored


def default_region(session: Session) -> str:
    return valid_region(get_setting(session=session, key="default_region")) or "US"

"""Checking the messaging business settings as they are set (``frontdesk.data.settings`` calls
:func:`coerce_setting`; this module imports nothing of the settings, so no circle)."""

from __future__ import annotations

import zoneinfo
from typing import Any

from frontdesk.data.errors import ValidationFailed
from frontdesk.data.validation import check_text, normalise_email

SECURITY = ("none", "starttls", "tls")


def coerce_setting(key: str, value: Any) -> Any:
    """Check and normalise one messaging setting (called by frontdesk.data.settings)."""
    text = "" if value is None else str(value).strip()
    if key in {"smtp_port", "reminder_hours", "smtp_timeout"}:
        try:
            number = int(text)
        except ValueError:
            raise ValidationFailed(key, "must be a whole number") from None
        limits = {"smtp_port": (1, 65535), "reminder_hours": (1, 24 * 14), "smtp_timeout": (1, 600)}
        low, high = limits[key]
        if not low <= number <= high:
            raise ValidationFailed(key, f"must be between {low} and {high}")
        return number
    if key == "smtp_security":
        if text.lower() not in SECURITY:
            raise ValidationFailed(key, "must be none, starttls or tls")
        return text.lower()
    if key == "time_zone":
        try:
            zoneinfo.ZoneInfo(text)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValidationFailed(
                key, f"{text!r} is not a time zone (e.g. Europe/Amsterdam)"
            ) from None
        return text
    if key in {"sender_email", "reply_to", "unsubscribe_email"} and text:
        email = normalise_email(text, field=key)
        return email.display if email else ""
    if key == "twilio_base_url" and text and not text.startswith(("http://", "https://")):
        raise ValidationFailed(key, "must start with https:// (or http:// for a local test)")
    if (
        key in {"twilio_sms_from", "twilio_whatsapp_from"}
        and text
        and (not text.startswith("+") or not text[1:].isdigit())
    ):
        raise ValidationFailed(key, "must be a phone number in +E.164 form")
    check_text(key, text)
    if len(text) > 300:
        raise ValidationFailed(key, "is too long (300 characters at most)")
    return text

"""The business settings as the settings screen's Business tab lists them (admins).

Every setting of :data:`frontdesk.data.settings.DEFAULTS` has one entry in :data:`CATALOGUE`:
its group, a label, a one-line description and how it is typed (text, yes/no, a choice).
Two rows stand for the secrets, which are never read, shown or stored here (they come from the
environment or the private user settings file, see ``frontdesk.data.messaging.config``).

Saving goes through :func:`frontdesk.data.settings.change_setting`, the same checks and
permission as ``frontdesk settings KEY VALUE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from frontdesk.data.errors import ValidationFailed
from frontdesk.data.messaging.setting_values import SECURITY
from frontdesk.data.models import Staff
from frontdesk.data.settings import DEFAULTS, all_settings, change_setting

BUSINESS = "Business"
MESSAGES = "Messages & reminders"
BOOKING = "Online booking"
RHYTHM = "Visit rhythm"
GROUPS = (BUSINESS, MESSAGES, BOOKING, RHYTHM)

YES_NO = ("yes", "no")


@dataclass(frozen=True)
class SettingInfo:
    key: str
    group: str
    label: str
    description: str
    kind: str = "text"  # text | number | yes_no | choice | secret (never shown nor set here)
    choices: tuple[str, ...] = ()

    @property
    def editable(self) -> bool:
        return self.kind != "secret"

    @property
    def options(self) -> tuple[str, ...]:
        """What a Select offers (yes/no and choices); empty for a typed value."""
        return YES_NO if self.kind == "yes_no" else self.choices


def _info(key: str, group: str, label: str, description: str, kind: str = "text") -> SettingInfo:
    return SettingInfo(key, group, label, description, kind)


CATALOGUE: tuple[SettingInfo, ...] = (
    _info("business_name", BUSINESS, "Business name", "Shown on messages and as their sender"),
    _info("currency", BUSINESS, "Currency", "Code shown with amounts (e.g. USD, EUR)"),
    _info("default_region", BUSINESS, "Phone country", "Read phones typed without +code (US, NL)"),
    _info("opens_at", BUSINESS, "Opens at", "Bookings start from this time (HH:MM)"),
    _info("closes_at", BUSINESS, "Closes at", "Visits end by this time (HH:MM; 24:00 midnight)"),
    _info(
        "require_phone", BUSINESS, "Mobile required", "A customer needs a mobile number", "yes_no"
    ),
    _info(
        "unknown_staff_read_only",
        BUSINESS,
        "Unknown staff may read",
        "A name not on the staff list may read, never change",
        "yes_no",
    ),
    _info("sender_name", MESSAGES, "Sender name", "Emails come from; empty: the business name"),
    _info("sender_email", MESSAGES, "Sender email", "The address emails are sent from"),
    _info("reply_to", MESSAGES, "Reply-To", "Where replies go; empty: the sender address"),
    _info(
        "unsubscribe_email",
        MESSAGES,
        "Unsubscribe mailbox",
        "Gets unsubscribe requests; empty: the sender",
    ),
    _info(
        "reminder_hours", MESSAGES, "Reminder hours", "Hours before a booking (1 to 336)", "number"
    ),
    _info("time_zone", MESSAGES, "Time zone", "Clock for reminders, birthdays (Europe/Paris)"),
    _info("smtp_host", MESSAGES, "Mail server", "SMTP host; empty: email is not set up"),
    _info("smtp_port", MESSAGES, "Mail server port", "587 with starttls, 465 with tls", "number"),
    SettingInfo(
        "smtp_security",
        MESSAGES,
        "Mail security",
        "starttls (port 587), tls (465) or none",
        "choice",
        SECURITY,
    ),
    _info("smtp_user", MESSAGES, "Mail login", "SMTP user name; empty: no login"),
    _info(
        "smtp_password",
        MESSAGES,
        "Mail password",
        "Not here: FRONTDESK_SMTP_PASSWORD or settings.toml",
        "secret",
    ),
    _info(
        "smtp_timeout",
        MESSAGES,
        "Mail timeout",
        "Seconds to wait for the server (1 to 600)",
        "number",
    ),
    _info(
        "twilio_account_sid", MESSAGES, "Twilio account", "For SMS and WhatsApp; empty: not set up"
    ),
    _info(
        "twilio_auth_token",
        MESSAGES,
        "Twilio token",
        "Not here: FRONTDESK_TWILIO_AUTH_TOKEN or settings.toml",
        "secret",
    ),
    _info("twilio_sms_from", MESSAGES, "SMS from", "The number SMS come from (+E.164)"),
    _info("twilio_whatsapp_from", MESSAGES, "WhatsApp from", "The WhatsApp number (+E.164)"),
    _info("twilio_base_url", MESSAGES, "Twilio address", "Change only for a test server"),
    _info(
        "auto_confirm_requests",
        BOOKING,
        "Confirm at once",
        "Requests that need no review; no: the desk accepts",
        "yes_no",
    ),
    _info(
        "due_back_margin_days",
        RHYTHM,
        "Due back margin",
        "Days past the usual interval (0 to 3650)",
        "number",
    ),
    _info(
        "lapsed_after_days", RHYTHM, "Lapsed after", "Days without a visit (1 to 3650)", "number"
    ),
)

BY_KEY = {info.key: info for info in CATALOGUE}

# Where the secrets come from, said in full in the dialog (never their value).
SECRET_SOURCES = {
    "smtp_password": (
        "The mail password is never shown or stored here: it comes from FRONTDESK_SMTP_PASSWORD "
        "or smtp_password in settings.toml in the user config directory (chmod 600)."
    ),
    "twilio_auth_token": (
        "The Twilio token is never shown or stored here: it comes from "
        "FRONTDESK_TWILIO_AUTH_TOKEN or twilio_auth_token in settings.toml in the user config "
        "directory (chmod 600)."
    ),
}


@dataclass(frozen=True)
class BusinessSetting:
    """One row of the Business tab: the setting and its value now (never a secret's)."""

    info: SettingInfo
    value: Any
    text: str  # as shown and as the dialog starts: yes/no, numbers as typed
    is_default: bool

    @property
    def key(self) -> str:
        return self.info.key


def as_text(info: SettingInfo, value: Any) -> str:
    """A stored value as typed: yes/no for a yes/no setting, numbers as digits."""
    if info.kind == "secret":
        return ""
    if info.kind == "yes_no":
        return "yes" if value else "no"
    return "" if value is None else str(value)


def load_business_settings(*, session: Session) -> list[BusinessSetting]:
    """Every business setting with its value (the default where none is stored), in the
    order of :data:`CATALOGUE`; the secrets with no value."""
    values = all_settings(session=session)
    return [
        BusinessSetting(
            info=info,
            value=None if info.kind == "secret" else values.get(info.key),
            text=as_text(info, values.get(info.key)),
            is_default=info.kind == "secret" or values.get(info.key) == DEFAULTS.get(info.key),
        )
        for info in CATALOGUE
    ]


def save_business_setting(
    *, session: Session, key: str, value: str, actor: Staff | None
) -> BusinessSetting:
    """Set one setting as typed (admins; the checks of ``frontdesk settings``); the row
    as it is now. A secret cannot be set here."""
    info = BY_KEY.get(key)
    if info is None or not info.editable:
        raise ValidationFailed(key, SECRET_SOURCES.get(key, "is not a business setting"))
    stored = change_setting(session=session, key=key, value=value, actor=actor)
    return BusinessSetting(
        info=info,
        value=stored,
        text=as_text(info, stored),
        is_default=stored == DEFAULTS.get(key),
    )

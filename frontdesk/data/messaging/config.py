"""Messaging settings: the business settings (database) plus the secrets (never the database).

Business settings (``frontdesk settings KEY VALUE``): smtp_host, smtp_port, smtp_security
(none / starttls / tls), smtp_user, smtp_timeout, sender_email, sender_name (empty: the business
name), reply_to, unsubscribe_email, reminder_hours, time_zone, twilio_account_sid,
twilio_sms_from, twilio_whatsapp_from, twilio_base_url.

Secrets come from the environment first, then from the user settings file
(``settings.toml`` in the user config directory), which must be private (mode 0600): a file
that others can read is refused rather than used.

- SMTP password: ``FRONTDESK_SMTP_PASSWORD`` or ``smtp_password = "..."`` in the file;
- Twilio auth token: ``FRONTDESK_TWILIO_AUTH_TOKEN`` or ``twilio_auth_token = "..."``.
"""

from __future__ import annotations

import os
import stat
import tomllib
import zoneinfo
from dataclasses import dataclass

from sqlmodel import Session

from frontdesk import config
from frontdesk.data.errors import FrontdeskError

SECRET_ENV = {
    "smtp_password": "FRONTDESK_SMTP_PASSWORD",
    "twilio_auth_token": "FRONTDESK_TWILIO_AUTH_TOKEN",
}


class SecretsFileNotPrivate(FrontdeskError):
    def __init__(self, path: str) -> None:
        super().__init__(
            f"{path} can be read by other users: run `chmod 600 {path}` (it holds passwords)"
        )


def secret(name: str) -> str | None:
    """A password or token: from the environment, else the private user settings file."""
    env = os.environ.get(SECRET_ENV[name])
    if env:
        return env
    path = config.settings_path()
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    raw = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    value = raw.get(name)
    if not isinstance(value, str) or not value:
        return None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretsFileNotPrivate(str(path))
    return value


@dataclass(frozen=True)
class MessagingConfig:
    business_name: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_user: str
    smtp_timeout: int
    sender_email: str
    sender_name: str
    reply_to: str
    unsubscribe_email: str
    reminder_hours: int
    time_zone: str
    twilio_account_sid: str
    twilio_sms_from: str
    twilio_whatsapp_from: str
    twilio_base_url: str

    @property
    def email_ready(self) -> bool:
        return bool(self.smtp_host and self.sender_email)

    @property
    def sms_ready(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_sms_from)

    @property
    def whatsapp_ready(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_whatsapp_from)

    def ready(self, channel: str) -> bool:
        return {
            "email": self.email_ready,
            "sms": self.sms_ready,
            "whatsapp": self.whatsapp_ready,
        }.get(channel, False)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.time_zone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")


def load_config(*, session: Session) -> MessagingConfig:
    from frontdesk.data.settings import all_settings

    v = all_settings(session=session)
    return MessagingConfig(
        business_name=str(v.get("business_name") or "Frontdesk"),
        smtp_host=str(v.get("smtp_host") or ""),
        smtp_port=int(v.get("smtp_port") or 587),
        smtp_security=str(v.get("smtp_security") or "starttls"),
        smtp_user=str(v.get("smtp_user") or ""),
        smtp_timeout=int(v.get("smtp_timeout") or 30),
        sender_email=str(v.get("sender_email") or ""),
        sender_name=str(v.get("sender_name") or v.get("business_name") or "Frontdesk"),
        reply_to=str(v.get("reply_to") or v.get("sender_email") or ""),
        unsubscribe_email=str(v.get("unsubscribe_email") or v.get("sender_email") or ""),
        reminder_hours=int(v.get("reminder_hours") or 24),
        time_zone=str(v.get("time_zone") or "UTC"),
        twilio_account_sid=str(v.get("twilio_account_sid") or ""),
        twilio_sms_from=str(v.get("twilio_sms_from") or ""),
        twilio_whatsapp_from=str(v.get("twilio_whatsapp_from") or ""),
        twilio_base_url=str(v.get("twilio_base_url") or "https://api.twilio.com"),
    )

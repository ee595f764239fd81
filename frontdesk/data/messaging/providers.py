"""The provider interface every channel sends through (SMTP for email, Twilio for SMS and
WhatsApp), and the one error type they raise.

A provider gets an :class:`Outgoing` message and a ``handing_over`` callback, which it calls
at the last moment before the message can reach the far side (just before SMTP ``DATA``, just
before the HTTP request). The outbox records that moment: a process killed before it may send
the message again safely; after it, nobody knows whether the message arrived (see
frontdesk.data.messaging.outbox).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    channel: str  # email | sms | whatsapp
    to: str  # an email address, or a phone in E.164
    subject: str
    text: str
    html: str | None
    message_id: str  # stable Message-ID (email); the idempotency key's digest
    unsubscribe: bool = False  # newsletters and marketing carry List-Unsubscribe
    headers: dict[str, str] = field(default_factory=dict)


class SendFailed(Exception):
    """The server refused or could not be reached. ``transient``: worth trying again later
    (4xx, timeouts, refused connections); otherwise permanent (5xx, a refused address).
    ``uncertain``: the connection failed after the message was handed over (no answer to
    DATA): the server may have accepted it, so it is not retried automatically."""

    def __init__(self, reason: str, *, transient: bool, uncertain: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient and not uncertain
        self.uncertain = uncertain


class Provider(Protocol):
    def send(self, message: Outgoing, *, handing_over: Callable[[], None]) -> str | None:
        """Send one message; return the provider's id for it (or None). Raises SendFailed."""
        ...

    def close(self) -> None: ...

"""SMS and WhatsApp through Twilio's Messages API (httpx).

``POST {twilio_base_url}/2010-04-01/Accounts/{sid}/Messages.json`` with HTTP basic auth
(account SID, auth token) and the form fields ``To``, ``From``, ``Body``; WhatsApp numbers
are written ``whatsapp:+31612345678``. The base URL is a setting so tests (and a proxy) can
stand in for api.twilio.com.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from frontdesk.data.messaging.config import MessagingConfig
from frontdesk.data.messaging.providers import Outgoing, SendFailed


class TwilioProvider:
    def __init__(self, cfg: MessagingConfig, token: str | None, *, timeout: float = 30) -> None:
        self.cfg = cfg
        self.token = token or ""
        self._client = httpx.Client(
            base_url=cfg.twilio_base_url.rstrip("/"),
            auth=(cfg.twilio_account_sid, self.token),
            timeout=timeout,
        )

    def send(self, message: Outgoing, *, handing_over: Callable[[], None]) -> str | None:
        whatsapp = message.channel == "whatsapp"
        sender = self.cfg.twilio_whatsapp_from if whatsapp else self.cfg.twilio_sms_from
        prefix = "whatsapp:" if whatsapp else ""
        form = {"To": prefix + message.to, "From": prefix + sender, "Body": message.text}
        path = f"/2010-04-01/Accounts/{self.cfg.twilio_account_sid}/Messages.json"
        handing_over()
        try:
            response = self._client.post(path, data=form)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise SendFailed(f"cannot reach Twilio: {exc}", transient=True) from None
        except httpx.TimeoutException:
            raise SendFailed(
                "no answer from Twilio in time", transient=True, uncertain=True
            ) from None
        except httpx.HTTPError as exc:
            raise SendFailed(f"Twilio: {exc}", transient=True, uncertain=True) from None
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        if response.status_code >= 400:
            detail = str(payload.get("message") or response.reason_phrase)
            code = payload.get("code")
            reason = f"{response.status_code} {detail}" + (f" (Twilio code {code})" if code else "")
            transient = response.status_code >= 500 or response.status_code == 429
            raise SendFailed(reason[:480], transient=transient)
        sid = payload.get("sid")
        return str(sid) if sid else None

    def close(self) -> None:
        self._client.close()

"""``frontdesk web``: the app served to a browser (textual-serve), to the holder of a key only.

Whoever reached the port got the app as the person who started the server. On the shared
server of the README's SSH set-up, that was every other login on the machine, since
127.0.0.1 is theirs too. So the server makes a random key when it starts and prints its
address with the key. It then answers only a browser that brought the key:

- the first visit to ``/?key=...`` sets a cookie for this server (HttpOnly, SameSite=Lax:
  also when the address is a link clicked elsewhere) and sends the browser on to the address
  without the key;
- any other request without that cookie is refused (403): the page, the terminal's socket
  and downloads. A page of another site cannot open the socket either: its Origin is checked.

The page's own scripts and fonts (``/static``) are public; they hold nothing of the business.
The key never reaches the server's log: its request lines show ``key=...``. The page opens its
socket at the host name the browser used (``localhost`` or ``127.0.0.1``), since the cookie
is the browser's for that name only.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from textual_serve.server import Server

REFUSED = (
    "Frontdesk: this address needs its key. Open the address that `frontdesk web` printed "
    "when it started (it ends in ?key=...)."
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_key() -> str:
    """A key nobody can guess (32 random bytes)."""
    return secrets.token_urlsafe(32)


def cookie_name(port: int) -> str:
    """The cookie of the server on ``port`` (a browser sends a host's cookies to every port
    of it: two servers on one machine must not overwrite each other's)."""
    return f"frontdesk_web_{port}"


_KEY_IN_LINE = re.compile(r"(key=)[^\s&\"]+")


def _hide_key(record: logging.LogRecord) -> bool:
    """A log filter: a request line's key shown as ``key=...`` (the key is never in a log).
    Keeps every record."""
    text = record.getMessage()
    if "key=" in text:
        record.msg, record.args = _KEY_IN_LINE.sub(r"\1...", text), None
    return True


def _same(given: str, key: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), key.encode())


def _same_origin(request: web.Request) -> bool:
    """Whether the request comes from this server's own page (or names no page at all)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not sent by a browser's page (a page always sends it on a socket)
    return urlsplit(origin).netloc.lower() == request.host.lower()


class KeyedServer(Server):
    """textual-serve's server with a key gate (:meth:`gate`) in front of every route."""

    def __init__(self, command: str, *, host: str, port: int, key: str) -> None:
        super().__init__(command, host=host, port=port, title="Frontdesk")
        self.key = key
        self.cookie = cookie_name(port)

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.gate)
        return app

    def initialize_logging(self) -> None:
        super().initialize_logging()
        logging.getLogger("aiohttp.access").addFilter(_hide_key)

    @web.middleware
    async def gate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Only a browser that brought the key reaches the app."""
        if request.path.startswith("/static/"):
            return await handler(request)
        if _same(request.cookies.get(self.cookie, ""), self.key):
            if request.path == "/ws" and not _same_origin(request):
                raise web.HTTPForbidden(
                    text="Frontdesk: the terminal opens from its own page only."
                )
            if request.path == "/":
                # The page's socket at the name the browser used (textual-serve writes the
                # address it was started with, and the cookie goes to one host name only).
                # aiohttp runs a handler up to its first wait: set here, read by it at once.
                self.public_url = f"{request.scheme}://{request.host}"
            return await handler(request)
        offered = request.query.get("key", "")
        if request.method == "GET" and request.path == "/" and _same(offered, self.key):
            rest = request.url.with_query({k: v for k, v in request.query.items() if k != "key"})
            answer = web.HTTPSeeOther(location=str(rest.relative()))
            answer.set_cookie(self.cookie, self.key, httponly=True, samesite="Lax", path="/")
            raise answer
        raise web.HTTPForbidden(text=REFUSED)

    def address(self) -> str:
        """Where a browser opens the app: the server's address with the key."""
        return f"{self.public_url}/?key={self.key}"

"""``frontdesk web``: the app served to a browser (textual-serve), to the holder of a key only.

Whoever reached the port got the app as the person who started the server. On the shared
server of the README's SSH set-up, that was every other login on the machine, since
127.0.0.1 is theirs too. So the server makes a random key when it starts and prints its
address with the key. It then answers only a browser that brought the key:

- the first visit to ``/?key=...`` sets a cookie for this server (HttpOnly, SameSite=Strict)
  and sends the browser on to the address without the key;
- any other request without that cookie is refused (403): the page, the terminal's socket
  and downloads. A page of another site cannot open the socket either: its Origin is checked.

The page's own scripts and fonts (``/static``) are public; they hold nothing of the business.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
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


def _same(given: str, key: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), key.encode())


def _same_origin(request: web.Request) -> bool:
    """Whether the request comes from this server's own page (or names no page at all)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not sent by a browser's page (a page always sends it on a socket)
    return urlsplit(origin).netloc.lower() == request.host.lower()


def key_gate(key: str, port: int) -> Any:
    """aiohttp middleware: only a browser that brought ``key`` reaches the app."""
    cookie = cookie_name(port)

    @web.middleware
    async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/static/"):
            return await handler(request)
        if _same(request.cookies.get(cookie, ""), key):
            if request.path == "/ws" and not _same_origin(request):
                raise web.HTTPForbidden(
                    text="Frontdesk: the terminal opens from its own page only."
                )
            return await handler(request)
        if (
            request.method == "GET"
            and request.path == "/"
            and _same(request.query.get("key", ""), key)
        ):
            rest = request.url.with_query({k: v for k, v in request.query.items() if k != "key"})
            answer = web.HTTPSeeOther(location=str(rest.relative()))
            answer.set_cookie(cookie, key, httponly=True, samesite="Strict", path="/")
            raise answer
        raise web.HTTPForbidden(text=REFUSED)

    return gate


class KeyedServer(Server):
    """textual-serve's server with :func:`key_gate` in front of every route."""

    def __init__(self, command: str, *, host: str, port: int, key: str) -> None:
        super().__init__(command, host=host, port=port, title="Frontdesk")
        self.key = key

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(key_gate(self.key, self.port))
        return app

    def address(self) -> str:
        """Where a browser opens the app: the server's address with the key."""
        return f"{self.public_url}/?key={self.key}"

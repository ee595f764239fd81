"""Several SMTP connections driven from one thread (``frontdesk notify``'s email, a newsletter).

One thread per connection (the sender before this) made the connections take turns on the
interpreter: a reply that arrived while another connection's thread held it waited, and the
server idled meanwhile. Here one loop waits on every connection's socket at once and answers
whichever replied first; while every connection waits for the server, the next messages are
taken and made (so that a connection that finishes starts the next at once); a hand-over is
written while the server answers DATA, together with those of the other connections' messages
under way (so that about one write in four is needed), and the outbox claims the next batch in
a thread of its own.

Each connection goes through a message as :meth:`SmtpProvider.send` does, with the same
outcomes for the same replies: ``MAIL``, ``RCPT``, ``DATA`` (its hand-over written before the
text can reach the server), the text; a refusal at any step resets the connection (``RSET``)
and fails the message with the server's reason (4xx worth retrying, 5xx not); no answer within
the configured timeout, or a connection lost, fails it (``uncertain`` once the server has the
text); a reused connection found closed before its message was handed over is replaced once.
Connecting (with STARTTLS and login) and ``RSET`` keep the provider's blocking code: they are
once per connection, or on an error. The provider keeps the connection and what was read of
it (``ensure_connected``, ``sock``, ``write``, ``received``, ``take_reply``, ``reset``, ``drop``).
"""

from __future__ import annotations

import selectors
import smtplib
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from frontdesk.data.messaging.providers import Outgoing, SendFailed
from frontdesk.data.messaging.smtp import SmtpProvider, _quoted, _reason

T = TypeVar("T")

_IDLE, _MAIL, _RCPT, _DATA, _TEXT = range(5)
_TICK = 0.05  # seconds: how often the connections' timeouts are looked at
_AHEAD = 2  # messages made ready while the connections wait for the server


@dataclass(eq=False)
class _Slot(Generic[T]):
    """One connection and the message it is sending (if any)."""

    provider: SmtpProvider
    item: T | None = None
    message: Outgoing | None = None
    data: bytes = b""
    step: int = _IDLE
    fresh: bool = False  # connected for this message
    retried: bool = False  # already replaced a reused connection found closed
    written: bool = False  # the hand-over is written
    handed: bool = False  # the server has (may have) the text
    early: tuple[int, bytes] | None = None  # DATA's reply, read before the hand-over was written
    deadline: float = 0.0
    sock: socket.socket | None = None  # the socket watched for this slot


class SmtpMux(Generic[T]):
    """Sends messages over ``providers`` (one connection each) from the calling thread.

    ``take`` gives the next message to send (None: no more); ``hand_over`` writes the
    hand-overs of several messages at once (before their text can reach the server);
    ``sent`` and ``failed`` report each message's outcome; ``message`` gives an item's
    message and its DATA text (:func:`wire_bytes`); ``stop``, asked before each message,
    ends the run early (messages made ready and not started are left, see :meth:`left`).
    ``poll``: seconds to keep looking for a reply before the thread sleeps (see :meth:`_poll`);
    0 sleeps at once."""

    def __init__(
        self,
        providers: list[SmtpProvider],
        *,
        take: Callable[[], T | None],
        message: Callable[[T], tuple[Outgoing, bytes]],
        hand_over: Callable[[list[T]], None],
        sent: Callable[[T, str | None], None],
        failed: Callable[[T, SendFailed], None],
        stop: Callable[[], bool] | None = None,
        poll: float = 0.0,
    ) -> None:
        self.slots: list[_Slot[T]] = [_Slot(p) for p in providers]
        self.take = take
        self.message = message
        self.hand_over = hand_over
        self.sent = sent
        self.failed = failed
        self.stop = stop
        self.poll = poll
        self.selector = selectors.DefaultSelector()
        self.idle: list[_Slot[T]] = list(reversed(self.slots))
        self.busy = 0  # connections with a message
        self.waiting = False  # a connection reached DATA before its hand-over was written
        self.more = True  # ``take`` may have more
        # The next messages, taken and made (their DATA text) while every connection waited
        # for the server: a connection that finishes starts the next at once.
        self.ready: deque[tuple[T, Outgoing, bytes]] = deque()

    def run(self) -> None:
        """Until ``take`` has no more and every connection has finished its message."""
        check = time.monotonic() + _TICK
        select = self.selector.select
        try:
            while True:
                while self.idle:
                    ready = self._next()
                    if ready is None:
                        break
                    self._start(self.idle.pop(), ready)
                if self.waiting:
                    self._write_hand_overs()
                if not self.busy:  # no message left to start
                    return
                events = select(0)
                while not events and self._make_ahead():  # nothing to answer yet
                    events = select(0)
                if not events and self.poll:
                    events = self._poll()
                for key, _ in events or select(_TICK):
                    self._readable(key.data)
                now = time.monotonic()
                if now >= check:  # the timeouts, a few times a second
                    check = now + _TICK
                    for slot in self.slots:
                        if slot.step != _IDLE and slot.deadline <= now:
                            self._timed_out(slot)
        finally:
            self.selector.close()

    def left(self) -> list[T]:
        """The messages taken and not finished: those the connections were sending when
        :meth:`run` stopped on an error, and those made ready and not started."""
        return [s.item for s in self.slots if s.item is not None] + [r[0] for r in self.ready]

    # -- one message's steps ------------------------------------------------------------------

    def _next(self) -> tuple[T, Outgoing, bytes] | None:
        """The next message (one made ready, else taken now), or None when there is none."""
        if self.ready and not self._stopping():
            return self.ready.popleft()
        return self._take()

    def _make_ahead(self) -> bool:
        """Take and make a message while the connections wait (False: none, or enough)."""
        if len(self.ready) >= _AHEAD:
            return False
        ready = self._take()
        if ready is None:
            return False
        self.ready.append(ready)
        return True

    def _take(self) -> tuple[T, Outgoing, bytes] | None:
        """A message taken and made now, or None when there is none (or a stop was asked)."""
        if not self.more or self._stopping():
            return None
        item = self.take()
        if item is None:
            self.more = False
            return None
        return (item, *self.message(item))

    def _poll(self) -> list[tuple[selectors.SelectorKey, int]]:
        """The sockets with a reply, looked for again and again for up to ``poll`` seconds
        (nothing else to do meanwhile): a server's reply comes within a few hundred
        microseconds, and waking a thread that slept on the sockets took long enough, on a
        busy machine, for every connection to be waiting on the sender while the server
        idled. Costs processor time while the run sends; never more than ``poll`` a wait."""
        select = self.selector.select
        end = time.perf_counter() + self.poll
        while time.perf_counter() < end:
            events = select(0)
            if events:
                return events
        return []

    def _stopping(self) -> bool:
        if self.stop is not None and self.stop():
            self.more = False
            return True
        return False

    def _start(self, slot: _Slot[T], ready: tuple[T, Outgoing, bytes]) -> None:
        self.busy += 1
        slot.item, slot.message, slot.data = ready
        slot.retried = False
        self._begin(slot)

    def _begin(self, slot: _Slot[T]) -> None:
        """The message from ``MAIL``, on the slot's connection (a new one if it has none)."""
        provider = slot.provider
        slot.written = slot.handed = False
        slot.early = None
        try:
            slot.fresh = provider.ensure_connected()
        except SendFailed as exc:
            self._finish(slot, exc)
            return
        self._watch(slot)
        self._command(slot, _MAIL, f"MAIL FROM:{_quoted(provider.cfg.sender_email)}")

    def _command(self, slot: _Slot[T], step: int, line: str) -> None:
        self._write(slot, step, f"{line}\r\n".encode("ascii"))

    def _write(self, slot: _Slot[T], step: int, data: bytes) -> None:
        slot.step = step
        slot.deadline = time.monotonic() + slot.provider.cfg.smtp_timeout
        try:
            slot.provider.write(data)
        except smtplib.SMTPServerDisconnected:
            self._lost(slot)
        except TimeoutError:
            self._timed_out(slot)

    def _readable(self, slot: _Slot[T]) -> None:
        provider = slot.provider
        sock = provider.sock
        if sock is None:
            self._unwatch(slot)
            return
        try:
            chunk = sock.recv(65536)
            pending = getattr(sock, "pending", None)  # TLS: decrypted bytes not yet read
            while chunk and pending is not None and pending():
                chunk += sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            if slot.step == _IDLE:  # an idle connection the server closed
                self._unwatch(slot)
                provider.drop()
            else:
                self._lost(slot)
            return
        provider.received(chunk)
        while provider.sock is sock:
            try:
                reply = provider.take_reply()
            except smtplib.SMTPResponseException as exc:
                self._refused(slot, exc.smtp_code, exc.smtp_error)
                return
            if reply is None:
                return
            self._reply(slot, *reply)

    def _reply(self, slot: _Slot[T], code: int, text: bytes) -> None:
        step = slot.step
        if step == _MAIL:
            if code != 250:
                self._refused(slot, code, text)
            else:
                assert slot.message is not None
                self._command(slot, _RCPT, f"RCPT TO:{_quoted(slot.message.to)}")
        elif step == _RCPT:
            if code not in (250, 251):
                self._refused(slot, code, text)
            else:
                self._command(slot, _DATA, "DATA")
                # Its hand-over is written while the server answers DATA, before the text
                # can go (unless it was written with another's: see _write_hand_overs).
                if slot.step == _DATA and not slot.written:
                    self.waiting = True
        elif step == _DATA:
            if slot.written:
                self._data_reply(slot, code, text)
            else:
                slot.early = (code, text)
        elif step == _TEXT:
            if code != 250:
                self._refused(slot, code, text)
            else:
                assert slot.message is not None
                self._finish(slot, None, slot.message.message_id)
        else:  # a reply nobody asked for (e.g. 421 to an idle connection): not to be reused
            self._unwatch(slot)
            slot.provider.drop()

    def _data_reply(self, slot: _Slot[T], code: int, text: bytes) -> None:
        if code != 354:
            self._refused(slot, code, text)
            return
        slot.handed = True  # the server waits for the text: from here on it may keep it
        self._write(slot, _TEXT, slot.data)

    def _write_hand_overs(self) -> None:
        """The hand-overs of the connections waiting at DATA, written in one transaction
        while the server answers DATA, and with them those of the others' messages under way
        (not at DATA yet): written a little early, they cost no write of their own when their
        turn comes. A message whose hand-over is written is "may have been delivered" if this
        process dies before its outcome is written — as before, at most one a connection."""
        self.waiting = False
        slots = [s for s in self.slots if s.item is not None and not s.written and s.step != _TEXT]
        if not slots:
            return
        try:
            self.hand_over([s.item for s in slots if s.item is not None])
        except BaseException:
            for slot in slots:
                if slot.step == _DATA:  # the server waits for a text that will not come
                    self._unwatch(slot)
                    slot.provider.drop()
            raise
        for slot in slots:
            slot.written = True
            if slot.early is not None:
                early, slot.early = slot.early, None
                self._data_reply(slot, *early)

    # -- failures -----------------------------------------------------------------------------

    def _refused(self, slot: _Slot[T], code: int, text: bytes | str) -> None:
        slot.provider.reset()
        if slot.provider.sock is None:
            self._unwatch(slot)
        self._finish(slot, SendFailed(_reason(code, text), transient=code < 500))

    def _lost(self, slot: _Slot[T]) -> None:
        self._unwatch(slot)
        slot.provider.drop()
        if not slot.fresh and not slot.handed and not slot.retried:
            slot.retried = True  # an idle connection the server closed: once more, a new one
            self._begin(slot)
            return
        self._finish(
            slot,
            SendFailed("the server closed the connection", transient=True, uncertain=slot.handed),
        )

    def _timed_out(self, slot: _Slot[T]) -> None:
        cfg = slot.provider.cfg
        self._unwatch(slot)
        slot.provider.drop()
        self._finish(
            slot,
            SendFailed(
                f"no answer from {cfg.smtp_host} within {cfg.smtp_timeout} s",
                transient=True,
                uncertain=slot.handed,
            ),
        )

    def _finish(
        self, slot: _Slot[T], failure: SendFailed | None, provider_id: str | None = None
    ) -> None:
        item = slot.item
        self.busy -= 1
        slot.item = slot.message = None
        slot.data = b""
        slot.step = _IDLE
        slot.early = None
        self.idle.append(slot)
        if item is None:
            return
        if failure is None:
            self.sent(item, provider_id)
        else:
            self.failed(item, failure)

    # -- the sockets watched (a socket is unwatched before it is closed) ----------------------

    def _watch(self, slot: _Slot[T]) -> None:
        sock = slot.provider.sock
        if sock is slot.sock:
            return
        self._unwatch(slot)
        if sock is not None:
            self.selector.register(sock, selectors.EVENT_READ, slot)
            slot.sock = sock

    def _unwatch(self, slot: _Slot[T]) -> None:
        if slot.sock is not None:
            try:
                self.selector.unregister(slot.sock)
            except (KeyError, ValueError):
                pass
            slot.sock = None

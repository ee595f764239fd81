"""The one-thread sender (frontdesk.data.messaging.smtp_mux) against scripted SMTP peers on
loopback: each message goes out once, its hand-over written before its text can reach the
server, with the provider's outcomes for the server's answers. (The outbox's own tests run
it too: ``send_queue`` sends email through it.)"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from frontdesk.data.messaging.providers import Outgoing, SendFailed
from frontdesk.data.messaging.smtp import SmtpProvider, wire_bytes
from frontdesk.data.messaging.smtp_mux import SmtpMux
from tests.messaging_peers import ScriptedSmtp, scripted_config


@dataclass
class Run:
    """What the sender reported, in order."""

    handed: list[list[int]]
    sent: list[int]
    failed: list[tuple[int, SendFailed]]
    texts_at_hand_over: list[int]  # messages the server had when each hand-over was written


def send(
    peer: ScriptedSmtp, count: int, connections: int, timeout: float = 5.0, poll: float = 0.0
) -> Run:
    cfg = scripted_config(peer.port, smtp_timeout=timeout)
    messages = {
        n: Outgoing("email", f"r{n}@example.com", f"Hello {n}", f"Hi {n}", None, f"<m{n}@x>")
        for n in range(count)
    }
    queue = list(messages)
    run = Run([], [], [], [])

    def hand_over(items: list[int]) -> None:
        run.handed.append(list(items))
        run.texts_at_hand_over.append(len(peer.messages))
        for n in items:  # none of these may have reached the server yet
            assert not any(f"<m{n}@x>".encode() in text for text in peer.messages)

    providers = [SmtpProvider(cfg, None) for _ in range(connections)]
    mux: SmtpMux[int] = SmtpMux(
        providers,
        take=lambda: queue.pop(0) if queue else None,
        message=lambda n: (messages[n], wire_bytes(messages[n], cfg)),
        hand_over=hand_over,
        sent=lambda n, _id: run.sent.append(n),
        failed=lambda n, exc: run.failed.append((n, exc)),
        poll=poll,
    )
    try:
        mux.run()
    finally:
        for provider in providers:
            provider.close()
    peer.finished()
    return run


@pytest.mark.parametrize("poll", [0.0, 0.0001, 0.05])  # sleeps at once; looks again first
def test_several_connections_send_each_message_once_after_its_hand_over(poll: float) -> None:
    peer = ScriptedSmtp(
        {
            "MAIL": [b"25", b"0 sender ok\r\n"],  # a reply in two packets
            "RCPT": [b"250-first line\r\n", b"250 second line\r\n"],  # on two lines
        }
    )
    run = send(peer, 12, connections=3, poll=poll)
    assert sorted(run.sent) == list(range(12)) and run.failed == []
    handed = [n for batch in run.handed for n in batch]
    assert sorted(handed) == list(range(12))  # each once
    assert peer.connections == 3
    assert len(peer.messages) == 12
    for n in range(12):
        assert sum(f"<m{n}@x>".encode() in text for text in peer.messages) == 1
    # A hand-over written for one connection takes the others' messages under way with it.
    assert len(run.handed) < 12


def test_a_refused_data_command_fails_with_the_reason_and_the_others_go_on() -> None:
    peer = ScriptedSmtp({"DATA": [b"554-5.7.1 refused:\r\n", b"554 5.7.1 policy says no\r\n"]})
    run = send(peer, 2, connections=1)
    assert run.sent == [] and [n for n, _ in run.failed] == [0, 1]
    failure = run.failed[0][1]
    assert failure.reason == "554 5.7.1 refused: 5.7.1 policy says no"
    assert not failure.transient and not failure.uncertain
    assert peer.commands.count(b"RSET") == 2  # each transaction reset, no text sent
    assert peer.text == []


def test_4xx_at_rcpt_is_worth_retrying() -> None:
    peer = ScriptedSmtp({"RCPT": [b"451 4.3.0 try later\r\n"]})
    run = send(peer, 1, connections=1)
    failure = run.failed[0][1]
    assert failure.transient and not failure.uncertain and failure.reason.startswith("451")


def test_a_connection_the_server_closed_between_messages_is_replaced() -> None:
    peer = ScriptedSmtp(close_after=1)  # the server hangs up after each message
    run = send(peer, 4, connections=2)
    assert sorted(run.sent) == [0, 1, 2, 3] and run.failed == []
    assert len(peer.messages) == 4 and peer.connections >= 4


@pytest.mark.parametrize("poll", [0.0, 0.05])  # the timeout holds while it looks again
def test_no_answer_after_the_text_fails_uncertain_not_retried(poll: float) -> None:
    peer = ScriptedSmtp({".": []})  # takes the text, never answers it
    run = send(peer, 1, connections=1, timeout=0.3, poll=poll)
    failure = run.failed[0][1]
    assert failure.uncertain and not failure.transient  # it may have been delivered
    assert run.handed == [[0]] and run.sent == [] and len(peer.messages) == 1


def test_the_next_messages_are_made_while_the_connection_waits_and_left_on_a_stop() -> None:
    peer = ScriptedSmtp({".": []})  # takes the text, never answers it
    cfg = scripted_config(peer.port, smtp_timeout=0.3)
    messages = [
        Outgoing("email", f"r{n}@example.com", "Hello", "Hi", None, f"<m{n}@x>") for n in range(9)
    ]
    queue = list(range(9))
    taken: list[int] = []
    failed: list[int] = []

    def take() -> int | None:
        if queue:
            taken.append(queue.pop(0))
            return taken[-1]
        return None

    provider = SmtpProvider(cfg, None)
    mux: SmtpMux[int] = SmtpMux(
        [provider],
        take=take,
        message=lambda n: (messages[n], wire_bytes(messages[n], cfg)),
        hand_over=lambda items: None,
        sent=lambda n, _id: pytest.fail("no text is answered"),
        failed=lambda n, exc: failed.append(n),
        stop=lambda: bool(failed),  # as the desk's sender stops when asked
    )
    try:
        mux.run()
    finally:
        provider.close()
    peer.finished()
    assert failed == [0] and len(peer.messages) == 1
    assert taken == [0, 1, 2]  # the one under way and two made ready while it waited, no more
    assert mux.left() == [1, 2]  # made ready, never started: to be queued again


def test_a_hand_over_that_cannot_be_written_stops_the_run_before_any_text() -> None:
    peer = ScriptedSmtp()
    cfg = scripted_config(peer.port)
    messages = [
        Outgoing("email", f"r{n}@example.com", "Hello", "Hi", None, f"<m{n}@x>") for n in range(3)
    ]
    queue = list(range(3))

    def hand_over(items: list[int]) -> None:
        raise RuntimeError("database is locked")

    providers = [SmtpProvider(cfg, None) for _ in range(2)]
    mux: SmtpMux[int] = SmtpMux(
        providers,
        take=lambda: queue.pop(0) if queue else None,
        message=lambda n: (messages[n], wire_bytes(messages[n], cfg)),
        hand_over=hand_over,
        sent=lambda n, _id: pytest.fail("nothing may be sent"),
        failed=lambda n, exc: pytest.fail(f"not a send failure: {exc}"),
    )
    with pytest.raises(RuntimeError, match="database is locked"):
        mux.run()
    for provider in providers:
        provider.close()
    peer.finished()
    # under way (0, 1) and made ready while they waited (2): all to be queued again
    assert sorted(mux.left()) == [0, 1, 2]
    assert peer.messages == []  # no text reached the server

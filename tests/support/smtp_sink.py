"""A real SMTP server on loopback that keeps what it accepts and answers what a test tells it."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Any, NamedTuple

from .policy import free_port

SERVER_HOSTNAME = "sink.mailflow.test"  # fixed, so aiosmtpd never looks up the machine's FQDN


class SinkMessage(NamedTuple):
    """One message the sink answered 250 to (or, in `dropped`, hung up on)."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes


class SinkHandler:
    """aiosmtpd handler: stores messages; scripted failures are consumed in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: list[SinkMessage] = []
        self.dropped: list[SinkMessage] = []
        self._data_replies: deque[str | None] = deque()  # None = hang up without reply
        self._rcpt_replies: deque[str] = deque()
        self._refused: dict[str, str] = {}
        self.delay_seconds = 0.0  # a slow relay: each DATA answered this much later

    # --- what the test says ------------------------------------------------------------------
    def fail_next(self, count: int, status: str, *, stage: str = "data") -> None:
        """Answer `status` to the next `count` messages (stage "data") or RCPTs (stage "rcpt")."""
        if stage not in ("data", "rcpt"):
            raise ValueError(f"stage must be 'data' or 'rcpt', not {stage!r}")
        with self._lock:
            queue = self._data_replies if stage == "data" else self._rcpt_replies
            queue.extend([status] * count)

    def refuse_rcpt(self, address: str, status: str = "550 5.1.1 No such user") -> None:
        """Answer `status` to every RCPT TO for `address` (case-insensitive) from now on."""
        with self._lock:
            self._refused[address.lower()] = status

    def drop_next(self, count: int = 1) -> None:
        """Close the connection without replying after the DATA of the next `count` messages."""
        with self._lock:
            self._data_replies.extend([None] * count)

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.dropped.clear()
            self._data_replies.clear()
            self._rcpt_replies.clear()
            self._refused.clear()

    # --- aiosmtpd hooks ------------------------------------------------------------------------
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self._lock:
            refused = self._refused.get(address.lower())
            scripted = self._rcpt_replies.popleft() if self._rcpt_replies else None
        if refused is not None:
            return refused
        if scripted is not None:
            return scripted
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        message = SinkMessage(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            data=bytes(envelope.original_content or envelope.content or b""),
        )
        with self._lock:
            reply = self._data_replies.popleft() if self._data_replies else "250 2.0.0 OK"
            if reply is None:
                self.dropped.append(message)
            elif reply.startswith("250"):
                self.messages.append(message)
        if reply is None:
            server.transport.abort()  # no reply: the client sees the connection reset
            return "421 4.3.0 (connection already closed)"
        return reply


class SmtpSink:
    """An aiosmtpd Controller on 127.0.0.1 with a SinkHandler; use start()/stop()."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.handler = SinkHandler()
        self._controller: Any = None

    @property
    def messages(self) -> list[SinkMessage]:
        return self.handler.messages

    @property
    def dropped(self) -> list[SinkMessage]:
        return self.handler.dropped

    def fail_next(self, count: int, status: str, *, stage: str = "data") -> None:
        self.handler.fail_next(count, status, stage=stage)

    def refuse_rcpt(self, address: str, status: str = "550 5.1.1 No such user") -> None:
        self.handler.refuse_rcpt(address, status)

    def drop_next(self, count: int = 1) -> None:
        self.handler.drop_next(count)

    def reset(self) -> None:
        self.handler.reset()

    def slow(self, seconds: float) -> None:
        """Answer each message's DATA `seconds` late (a slow relay); 0 for full speed."""
        self.handler.delay_seconds = seconds

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        last: Exception | None = None
        for _attempt in range(3):  # the free port may be taken between probe and bind
            self.port = free_port(self.host)
            controller = Controller(
                self.handler,
                hostname=self.host,
                port=self.port,
                server_hostname=SERVER_HOSTNAME,
                ready_timeout=10,
            )
            try:
                controller.start()
            except OSError as exc:
                last = exc
                continue
            self._controller = controller
            return
        raise RuntimeError(f"SMTP sink could not bind a port on {self.host}: {last}")

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

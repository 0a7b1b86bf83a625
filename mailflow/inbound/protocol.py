"""aiosmtpd's SMTP protocol with the listener's connection-level limits.

What a handler cannot see lives here: how many connections one client IP holds (refused with
421 before the greeting), how long a line of DATA may be (RFC 5321's 1,000 octets is what
aiosmtpd enforces, with a permanent 500; real senders exceed it, and bare-LF senders send one
"line" per message, and Postfix accepts them, so inside DATA the limit is the message size,
while command lines keep aiosmtpd's 1,001), and an idle timeout that NOOP, RSET, HELP and VRFY
cannot extend (aiosmtpd restarts its timer on every valid command, so a client could hold a
connection for ever with NOOPs).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.smtp import SMTP, syntax

from mailflow.inbound.limits import PeerLimits

log = logging.getLogger(__name__)

TOO_MANY_CONNECTIONS = b"421 4.7.0 Too many connections from your address, try again later\r\n"
COMMAND_LINE_LIMIT = SMTP.line_length_limit
# Room for a line as long as the whole message, its CRLF and a transparency dot.
LINE_SLACK = 3


class MailflowSMTP(SMTP):
    """The SMTP protocol for one connection, counted against its client's connection limit."""

    def __init__(
        self, handler: Any, *, limits: PeerLimits, max_line_bytes: int, **options: Any
    ) -> None:
        self.data_line_limit = max_line_bytes + LINE_SLACK
        self.limits = limits
        self.peer_ip: str | None = None
        self._refused = False
        self._in_data = False
        self._idle_until: float | None = None
        super().__init__(handler, **options)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.transport is None:  # the connection itself, not the switch to TLS
            peer = transport.get_extra_info("peername")
            ip = str(peer[0]) if peer else ""
            if not self.limits.open(ip):
                log.warning("inbound: %s holds too many connections; answered 421", ip)
                self._refused = True
                transport.write(TOO_MANY_CONNECTIONS)  # type: ignore[attr-defined]
                transport.close()
                return
            self.peer_ip = ip
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:  # nothing was set up for it
            return
        if self.peer_ip is not None:
            self.limits.close(self.peer_ip)
            self.peer_ip = None
        super().connection_lost(error)

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        # aiosmtpd bounds a line by `line_length_limit` and by its stream reader's limit (set
        # from it when the connection is made); both are raised for DATA alone, so a command
        # line still cannot make us buffer more than 1,001 bytes.
        reader = self._reader
        self.line_length_limit = reader._limit = self.data_line_limit  # type: ignore[attr-defined]
        self._in_data = True
        try:
            await super().smtp_DATA(arg)
        finally:
            self._in_data = False
            self.line_length_limit = reader._limit = COMMAND_LINE_LIMIT  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        # aiosmtpd does not restart its timer while DATA streams in, so a big message on a slow
        # link was cut after `timeout` seconds in all; bytes arriving are progress (as
        # Postfix's smtpd_timeout counts each read).
        if self._in_data and self.transport is not None:
            super()._reset_timeout()
        super().data_received(data)

    # --- an idle timeout that commands which do nothing cannot extend ---

    def _reset_timeout(self, duration: float | None = None) -> None:
        # aiosmtpd calls this before running every valid command; remember when the timer
        # would have fired, so a command that does nothing can put that deadline back.
        handle = self._timeout_handle
        self._idle_until = handle.when() if handle is not None else None
        super()._reset_timeout(duration)

    def _keep_idle_deadline(self, deadline: float | None) -> None:
        if deadline is None or self.transport is None:
            return
        left = deadline - self.loop.time()
        if left <= 0:
            self._timeout_cb()
            return
        super()._reset_timeout(left)

    @syntax("NOOP [ignored]")
    async def smtp_NOOP(self, arg: str) -> None:
        deadline = self._idle_until
        await super().smtp_NOOP(arg)
        self._keep_idle_deadline(deadline)

    @syntax("RSET")
    async def smtp_RSET(self, arg: str) -> None:
        deadline = self._idle_until
        await super().smtp_RSET(arg)
        self._keep_idle_deadline(deadline)

    @syntax("HELP [command]")
    async def smtp_HELP(self, arg: str) -> None:
        deadline = self._idle_until
        await super().smtp_HELP(arg)
        self._keep_idle_deadline(deadline)

    @syntax("VRFY <address>")
    async def smtp_VRFY(self, arg: str) -> None:
        deadline = self._idle_until
        await super().smtp_VRFY(arg)
        self._keep_idle_deadline(deadline)

"""Where outgoing mail goes, behind one small interface (as Django's mail backends).

`send(sender, recipients, raw)` either returns (the message is accepted) or raises one of three
named refusals the worker maps to request states: TransientSendError (retry later),
PermanentSendError (failed) and RecipientRefused (the address bounced).
"""

from __future__ import annotations

import asyncio
import logging
import mailbox
import ssl
from collections.abc import Awaitable
from pathlib import Path
from typing import Protocol

import aiosmtplib

from mailflow.settings import OutboundSettings, Settings

log = logging.getLogger(__name__)


class SendError(Exception):
    """A message the transport did not accept."""


class TransientSendError(SendError):
    """Try again later: 4xx replies, dropped connections, timeouts."""


class RelayUnavailable(TransientSendError):
    """The relay itself cannot take mail now (connection refused or timed out, 421, TLS
    failure): nothing is wrong with the message, so its attempts are not spent."""


class PermanentSendError(SendError):
    """Do not try again: 5xx replies to the message."""


class RecipientRefused(PermanentSendError):
    """The server refused the recipient at RCPT with a permanent (5xx) code."""

    def __init__(self, recipient: str, code: int, message: str):
        self.recipient, self.code, self.message = recipient, code, message
        super().__init__(f"{code} {message} ({recipient})")


class Transport(Protocol):
    """Sends one raw message to its recipients."""

    async def send(
        self,
        sender: str,
        recipients: list[str],
        raw: bytes,
        *,
        ready: Awaitable[None] | None = None,
    ) -> None:
        """Return when accepted; raise a SendError subclass otherwise. `ready`, when given, is
        awaited before the message can be accepted (before SMTP's final dot), so the caller
        can finish recording the previous message while this one's envelope goes out."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class MemoryTransport:
    """Keeps what it is given in `.sent`; for tests."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[str], bytes]] = []

    async def send(
        self,
        sender: str,
        recipients: list[str],
        raw: bytes,
        *,
        ready: Awaitable[None] | None = None,
    ) -> None:
        if ready is not None:
            await ready
        self.sent.append((sender, list(recipients), raw))

    async def close(self) -> None:
        return None


class MaildirTransport:
    """Writes each message into a Maildir (./outbox by default) you can open in a mail client."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._box: mailbox.Maildir | None = None

    def _deliver(self, raw: bytes) -> None:
        if self._box is None:
            self._box = mailbox.Maildir(self.path, create=True)
        self._box.add(raw)

    async def send(
        self,
        sender: str,
        recipients: list[str],
        raw: bytes,
        *,
        ready: Awaitable[None] | None = None,
    ) -> None:
        if ready is not None:
            await ready
        try:
            self._deliver(raw)
        except OSError as exc:
            raise TransientSendError(f"maildir {self.path}: {exc}") from exc

    async def close(self) -> None:
        return None


class SmtpTransport:
    """aiosmtplib with a pool of `concurrency` connections, opened lazily and reused."""

    def __init__(self, outbound: OutboundSettings):
        self.settings = outbound
        self._idle: asyncio.Queue[aiosmtplib.SMTP] | None = None
        self._all: list[aiosmtplib.SMTP] = []

    def _client(self) -> aiosmtplib.SMTP:
        out = self.settings
        context = ssl.create_default_context() if out.smtp_security != "none" else None
        return aiosmtplib.SMTP(
            hostname=out.smtp_host,
            port=out.smtp_port,
            username=out.smtp_user,
            password=out.smtp_password.get_secret_value() if out.smtp_password else None,
            timeout=out.smtp_timeout,
            use_tls=out.smtp_security == "tls",
            start_tls=out.smtp_security == "starttls",
            tls_context=context,
        )

    def _pool(self) -> asyncio.Queue[aiosmtplib.SMTP]:
        if self._idle is None:
            self._idle = asyncio.Queue()
            for _ in range(self.settings.concurrency):
                client = self._client()
                self._all.append(client)
                self._idle.put_nowait(client)
        return self._idle

    async def send(
        self,
        sender: str,
        recipients: list[str],
        raw: bytes,
        *,
        ready: Awaitable[None] | None = None,
    ) -> None:
        pool = self._pool()
        client = await pool.get()
        try:
            await self._send_on(client, sender, recipients, raw, ready)
        except SendError:
            raise
        except BaseException:
            self._drop(client, True)  # mid-transaction: never hand it out again as it is
            raise
        finally:
            pool.put_nowait(client)

    async def _send_on(
        self,
        client: aiosmtplib.SMTP,
        sender: str,
        recipients: list[str],
        raw: bytes,
        ready: Awaitable[None] | None,
    ) -> None:
        if not client.is_connected:
            await _connect(client)
        try:
            await _transaction(client, sender, recipients, raw, ready)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            if 400 <= first.code < 500:
                raise TransientSendError(f"{first.code} {first.message}") from exc
            raise RecipientRefused(first.recipient, first.code, first.message) from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421:  # the relay is closing the channel: the relay, not the message
                self._drop(client, True)
                raise RelayUnavailable(f"{exc.code} {exc.message}") from exc
            if 400 <= exc.code < 500:
                raise TransientSendError(f"{exc.code} {exc.message}") from exc
            raise PermanentSendError(f"{exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            self._drop(client, True)
            raise TransientSendError(f"{exc.__class__.__name__}: {exc}") from exc

    @staticmethod
    def _drop(client: aiosmtplib.SMTP, close: bool) -> None:
        """Forget a connection the server closed (or will), so the next send reconnects."""
        if close and client.is_connected:
            client.close()

    async def close(self) -> None:
        for client in self._all:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                    log.debug("closing SMTP connection: %s", exc)
                    client.close()
        self._all.clear()
        self._idle = None


async def _connect(client: aiosmtplib.SMTP) -> None:
    """Connect (and STARTTLS, log in); any failure here is the relay's, not a message's."""
    try:
        await client.connect()
    except (aiosmtplib.SMTPException, OSError, TimeoutError, ssl.SSLError) as exc:
        if client.is_connected:
            client.close()
        raise RelayUnavailable(f"{exc.__class__.__name__}: {exc}") from exc


def _utf8_options(client: aiosmtplib.SMTP, sender: str, recipients: list[str]) -> list[str]:
    """["SMTPUTF8"] when an address has a Unicode local part and the relay offers it; a relay
    that does not cannot carry this one message (PermanentSendError naming the address)."""
    unicode = [address for address in (sender, *recipients) if not address.isascii()]
    if not unicode:
        return []
    if not client.supports_extension("smtputf8"):
        raise PermanentSendError(
            f"the relay does not offer SMTPUTF8, which the address {unicode[0]} needs"
        )
    return ["SMTPUTF8"]


async def _transaction(
    client: aiosmtplib.SMTP,
    sender: str,
    recipients: list[str],
    raw: bytes,
    ready: Awaitable[None] | None,
) -> None:
    """What aiosmtplib's sendmail does (EHLO if needed, MAIL with SIZE, RCPT each, DATA, RSET
    after a refusal), with `ready` awaited between the envelope and DATA."""
    if client.is_ehlo_or_helo_needed:
        try:
            await client.ehlo()
        except aiosmtplib.SMTPHeloError:
            await client.helo()
    options = [f"size={len(raw)}"] if client.supports_extension("size") else []
    utf8 = _utf8_options(client, sender, recipients)
    encoding = "utf-8" if utf8 else "ascii"
    try:
        await client.mail(sender, options=options + utf8, encoding=encoding)
        refused: list[aiosmtplib.SMTPRecipientRefused] = []
        for recipient in recipients:
            try:
                await client.rcpt(recipient, encoding=encoding)
            except aiosmtplib.SMTPRecipientRefused as exc:
                refused.append(exc)
        if len(refused) == len(recipients):
            raise aiosmtplib.SMTPRecipientsRefused(refused)
        if ready is not None:
            await ready
        await client.data(raw)
    except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
        try:
            await client.rset()
        except (ConnectionError, aiosmtplib.SMTPResponseException) as exc:
            log.debug("RSET after a refusal: %s", exc)
        raise


def transport_for(settings: Settings) -> Transport:
    """The configured transport (a fresh one: each owns its connections)."""
    out = settings.outbound
    if out.transport == "smtp":
        return SmtpTransport(out)
    if out.transport == "memory":
        return MemoryTransport()
    return MaildirTransport(out.maildir)

"""The SMTP listener: an aiosmtpd handler that accepts mail for the reply domain and stores it.

The protocol (aiosmtpd.smtp.SMTP, with our connection limits in `protocol`) knows nothing of
Mailflow; this handler refuses what can be known at MAIL and RCPT (a client over its messages a
minute: 450; an address that is not valid UTF-8: 553 5.1.3; too many recipients: 452; a
foreign domain: 550 5.1.1, so we are never an open relay), lets aiosmtpd refuse oversized data
(552), and in DATA writes the raw bytes and commits before answering 250. No parsing happens
here: the worker does it later.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Callable
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from mailflow.inbound.limits import PeerLimits
from mailflow.inbound.protocol import MailflowSMTP
from mailflow.inbound.store import GroupWriter, Incoming
from mailflow.settings import Settings

log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def undecodable(address: str) -> bool:
    """True when an address is not valid UTF-8 (aiosmtpd keeps such bytes as surrogates) or
    holds control characters: nothing could store or answer it, so it is refused at RCPT."""
    try:
        address.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return bool(_CONTROL.search(address))


def domain_of(address: str) -> str:
    """The domain of an address, lowercased ('' when there is none)."""
    return address.rpartition("@")[2].strip().strip(">").lower() if "@" in address else ""


class InboundHandler:
    """aiosmtpd handler: RCPT only in the reply domain; DATA stored and committed before 250."""

    def __init__(
        self, settings: Settings, engine: Engine, *, on_stored: Callable[[], None] | None = None
    ) -> None:
        inbound = settings.inbound
        self.engine = engine
        self.domains = {settings.reply_domain.lower()}
        self.on_stored = on_stored
        self.max_recipients = inbound.max_recipients
        self.offers_auth = bool(inbound.auth_users)
        self.limits = PeerLimits(
            max_connections=inbound.max_connections_per_ip,
            messages_per_minute=inbound.messages_per_ip_per_minute,
            exempt=inbound.trusted_relays,
        )
        self.writer = GroupWriter(engine)

    def close(self) -> None:
        """Finish pending stores and stop the store thread(s)."""
        self.writer.close()

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname  # aiosmtpd leaves this to an EHLO hook
        if self.offers_auth:
            return responses
        # No forwarding hosts configured: AUTH could only ever fail, so it is not offered.
        return [line for line in responses if not line[4:].upper().startswith("AUTH")]

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        ip = str(session.peer[0]) if session.peer else ""
        if not self.limits.take_message(ip):
            log.warning("inbound: %s is over its messages a minute; answered 450", ip)
            return "450 4.7.1 Too many messages from your address, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if undecodable(address):
            return "553 5.1.3 Recipient address rejected: not valid UTF-8"
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return "452 4.5.3 Too many recipients"
        if domain_of(address) not in self.domains:
            return "550 5.1.1 Recipient address rejected: not a reply address here (no relay)"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or envelope.content or b"")
        try:
            incoming = Incoming(
                raw, "smtp", envelope_from=envelope.mail_from, envelope_to=tuple(envelope.rcpt_tos)
            )
            stored = await asyncio.wrap_future(self.writer.submit(incoming))
        except SQLAlchemyError as exc:  # the sender keeps the message and retries later
            log.warning("inbound: could not store a message (%s); answered 451", exc)
            return "451 4.3.0 Temporary storage failure, try again later"
        except Exception:  # a bug must not bounce mail (5xx): the sender retries on 451
            log.exception("inbound: storing a message failed; answered 451")
            return "451 4.3.0 Temporary failure, try again later"
        if stored.created and self.on_stored is not None:
            self.on_stored()
        if stored.created:
            return f"250 2.0.0 OK queued as {stored.id}"
        return f"250 2.0.0 OK already have it ({stored.id})"


class PasswordCheck:
    """aiosmtpd authenticator over the configured `auth_users` (forwarding hosts)."""

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        import hmac

        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = data.login.decode("utf-8", "replace")
        expected = self.users.get(user)
        given = data.password.decode("utf-8", "replace")
        ok = expected is not None and hmac.compare_digest(expected.encode(), given.encode())
        return AuthResult(success=ok, handled=False)


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The STARTTLS context when a certificate and key are configured."""
    inbound = settings.inbound
    if not (inbound.tls_cert and inbound.tls_key):
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(inbound.tls_cert, inbound.tls_key)
    return context


def smtp_factory(settings: Settings, handler: InboundHandler) -> Callable[[], SMTP]:
    """A protocol factory for loop.create_server (or aiosmtpd's Controller)."""
    inbound = settings.inbound
    context = tls_context(settings)
    users = {name: secret.get_secret_value() for name, secret in inbound.auth_users.items()}

    def make() -> SMTP:
        return MailflowSMTP(
            handler,
            limits=handler.limits,
            max_line_bytes=inbound.max_message_bytes,  # long lines and bare LF, as Postfix
            data_size_limit=inbound.max_message_bytes,
            enable_SMTPUTF8=True,  # senders like иван@почта.рф; we store bytes as they come
            hostname=settings.reply_domain,
            ident="Mailflow inbound",
            tls_context=context,
            authenticator=PasswordCheck(users) if users else None,
            auth_require_tls=True,  # never a password in clear: AUTH only after STARTTLS
            timeout=inbound.idle_timeout_seconds,
        )

    return make


async def start_listener(
    settings: Settings,
    engine: Engine,
    host: str,
    port: int,
    *,
    on_stored: Callable[[], None] | None = None,
) -> RunningListener:
    """Start serving SMTP on host:port in the running loop; the caller awaits close()."""
    handler = InboundHandler(settings, engine, on_stored=on_stored)
    if logging.getLogger("mail.log").level == logging.NOTSET:
        # aiosmtpd logs every SMTP command at INFO; only its warnings interest an operator.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(smtp_factory(settings, handler), host=host, port=port)
    log.info("inbound SMTP on %s:%s for @%s", host, port, settings.reply_domain)
    return RunningListener(server, handler)


class RunningListener:
    """A listener serving in the current loop."""

    def __init__(self, server: asyncio.AbstractServer, handler: InboundHandler) -> None:
        self.server, self.handler = server, handler

    async def close(self) -> None:
        """Stop accepting, then let stores in flight finish."""
        self.server.close()
        await self.server.wait_closed()
        await asyncio.to_thread(self.handler.close)


class ThreadedListener:
    """The listener on its own event loop in a thread (tests, benchmarks, embedding)."""

    def __init__(self, settings: Settings, engine: Engine, host: str, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.handler = InboundHandler(settings, engine)
        factory = smtp_factory(settings, self.handler)

        class _Controller(Controller):
            def factory(self) -> SMTP:
                return factory()

        self.host, self.port = host, port
        self._controller = _Controller(
            None, hostname=host, port=port, server_hostname=settings.reply_domain, ready_timeout=10
        )

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        """Stop serving; a second call does nothing."""
        if self._controller.loop.is_running():
            self._controller.stop()
            self.handler.close()

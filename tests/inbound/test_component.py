"""Inbound inside `mailflow up`: a reply sent over SMTP becomes an answer with nobody's help."""

from __future__ import annotations

import asyncio
import time

import aiosmtplib
from sqlmodel import Session, select

from mailflow.service import inbound_components, worker_component
from mailflow.settings import ImapMailbox
from storage.models import InboundMessage, Response
from tests.inbound.conftest import eml
from tests.support.policy import free_port


def test_nothing_to_run_without_smtp_or_imap(inbound_settings, engine):
    quiet = inbound_settings.model_copy(
        update={"inbound": inbound_settings.inbound.model_copy(update={"smtp_enabled": False})}
    )
    assert inbound_components(quiet, engine, asyncio.Event(), smtp=None) == []


def test_smtp_reply_and_imap_form_become_answers(
    inbound_settings, engine, make_sent, dovecot_clean
):
    reply_to = make_sent("csat")
    form_for = make_sent("service_quality")
    box = ImapMailbox(
        name="forms",
        host=dovecot_clean.host,
        port=dovecot_clean.port,
        tls=False,
        user=dovecot_clean.user,
        password=dovecot_clean.password,
    )
    settings = inbound_settings.model_copy(
        update={"inbound": inbound_settings.inbound.model_copy(update={"imap": [box]})}
    )
    port = free_port()

    def answered() -> dict[int, Response]:
        with Session(engine) as session:
            return {r.request_id: r for r in session.exec(select(Response)).all()}

    def stored() -> list[tuple[str, str, str | None]]:
        with Session(engine) as session:
            rows = session.exec(select(InboundMessage)).all()
            return [(r.via, r.status, r.reason) for r in rows]

    async def scenario() -> dict[int, Response]:
        stop, wake = asyncio.Event(), asyncio.Event()
        parts = [
            *inbound_components(settings, engine, wake, smtp=f"127.0.0.1:{port}"),
            worker_component(settings, engine, wake),
        ]
        assert len(parts) == 3  # listener, IMAP pollers, worker
        task = asyncio.gather(*(part(stop) for part in parts))
        try:
            deadline = time.monotonic() + 10
            while True:  # wait for the listener to accept connections
                try:
                    await aiosmtplib.send(
                        reply_to.fill(eml("reply_plus_token_csat_5.eml")),
                        sender=reply_to.email,
                        recipients=[f"survey+{reply_to.reply_token}@reply.localhost"],
                        hostname="127.0.0.1",
                        port=port,
                        start_tls=False,
                    )
                    break
                except (aiosmtplib.SMTPConnectError, OSError):
                    assert time.monotonic() < deadline, "listener did not start"
                    await asyncio.sleep(0.05)
            await asyncio.to_thread(
                dovecot_clean.append, form_for.fill(eml("google_form_service_quality.eml"))
            )
            deadline = time.monotonic() + 60  # a loaded 2-CPU runner can take a while
            while len(found := await asyncio.to_thread(answered)) < 2:
                if time.monotonic() > deadline:
                    rows = await asyncio.to_thread(stored)
                    inbox = dovecot_clean.list_messages("INBOX")
                    raise AssertionError(f"{len(found)} answer(s); inbound {rows}; INBOX {inbox}")
                await asyncio.sleep(0.1)
            return found
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)

    found = asyncio.run(scenario())
    assert found[reply_to.request_id].score == 5
    assert found[form_for.request_id].answers == {"speed": "slow", "work": "bad"}
    with Session(engine) as session:
        vias = {r.via for r in session.exec(select(InboundMessage)).all()}
    assert vias == {"smtp", "imap"}
    assert dovecot_clean.list_messages("INBOX") == []

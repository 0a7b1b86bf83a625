"""`mailflow resend`: send a request again with a new Message-ID and the same tokens.

Tokens are derived from the request id, so links and the reply address in the new email are
the ones in the first. Every Message-ID stays in SentMessage, so replies to either match.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import Engine

from mailflow.outbox.transports import Transport, transport_for
from mailflow.outbox.worker import Outbox
from mailflow.render import Recipient, new_message_id
from mailflow.render.envelope import mailbox
from mailflow.settings import Settings
from storage.clock import utcnow
from storage.engine import session_scope
from storage.models import Contact, SentMessage, SurveyRequest, Task
from storage.states import RequestState


class ResendRefused(Exception):
    """This request may not be sent again (str() says why)."""


NOT_SENT_YET = (RequestState.SCHEDULED, RequestState.SENDING)
NEEDS_FORCE = (RequestState.ANSWERED, RequestState.BOUNCED)


def resend_request(
    settings: Settings,
    engine: Engine,
    request_id: int,
    *,
    force: bool = False,
    transport: Transport | None = None,
) -> str:
    """Send request `request_id` again now; returns the new Message-ID."""
    with session_scope(engine) as session:
        request = session.get(SurveyRequest, request_id)
        if request is None:
            raise ResendRefused(f"no request {request_id}")
        if request.state in NOT_SENT_YET:
            raise ResendRefused(f"request {request_id} is {request.state}; it has not gone out yet")
        if request.state in NEEDS_FORCE and not force:
            raise ResendRefused(f"request {request_id} is {request.state}; use --force to resend")
        try:
            survey = settings.survey(request.survey_key)
        except KeyError:
            raise ResendRefused(f"survey '{request.survey_key}' is not configured") from None
        contact = session.get(Contact, request.contact_id)
        ticket = session.get(Task, request.ticket_id) if request.ticket_id else None
        assert contact is not None
        message_id = new_message_id(settings.msgid_domain)
        session.add(SentMessage(request_id=request_id, message_id=message_id))
        who = Recipient(
            request_id=request_id,
            email=contact.email,
            name=contact.name,
            ticket_ref=ticket.external_ref if ticket else None,
            ticket_title=ticket.title if ticket else None,
        )
        locale = request.locale
    outbox = Outbox.open(settings, engine, transport or transport_for(settings))
    reply_to = outbox.renderer.reply_address(request_id)
    raw = outbox.renderer.render(
        survey, who, locale=locale, message_id=message_id, reply_to=reply_to
    )

    async def send() -> None:
        try:
            await outbox.transport.send(
                outbox.envelope_sender(request_id), [mailbox(who.email)], raw
            )
        finally:
            if transport is None:
                await outbox.transport.close()

    asyncio.run(send())
    now = utcnow()
    with session_scope(engine) as session:
        request = session.get(SurveyRequest, request_id)
        assert request is not None
        request.message_id, request.sent_at = message_id, now
        request.expires_at = now + timedelta(days=survey.expiration_days)
        if request.state != RequestState.ANSWERED:
            request.state, request.reason, request.last_error = RequestState.SENT, None, None
        session.add(request)
    return message_id

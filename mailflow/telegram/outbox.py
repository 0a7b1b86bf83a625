"""The Telegram outbox: messages are rows first, sent by the worker under a lease, retried
with backoff when Telegram or the network fails, failed alone (poison isolated) when the Bot
API refuses one (blocked bot, bad chat), like the email outbox.

`plan_surveys` turns every sent, unexpired, unanswered survey request whose contact has a
linked chat into one survey message (unique per request): the same request as the email,
so the cap, expiry and forbid_change are the request's and hold across channels.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from mailflow.settings import Settings
from mailflow.telegram.bot import make_bot, send
from mailflow.telegram.messages import survey_message
from storage.clock import as_utc, utcnow
from storage.engine import session_scope
from storage.models import Contact, SurveyRequest, TelegramChat, TelegramMessage
from storage.states import RequestState

log = logging.getLogger(__name__)
LEASE_SECONDS = 120
OWNER = f"telegram-{uuid.uuid4().hex[:12]}"


def queue(
    session: Session, chat_id: int, key: str, payload: dict[str, Any], request_id: int | None
) -> bool:
    """Queue one message (a repeat of `key` is a no-op); whether it was new."""
    try:
        with session.begin_nested():
            session.add(
                TelegramMessage(
                    dedupe_key=key, chat_id=chat_id, request_id=request_id, payload=payload
                )
            )
    except IntegrityError:
        return False
    return True


def queue_survey(
    session: Session, settings: Settings, request: SurveyRequest, chat_id: int
) -> bool:
    """Queue the survey of `request` to `chat_id` (once per request)."""
    assert request.id is not None
    try:
        survey = settings.survey(request.survey_key)
    except KeyError:
        return False
    locale = request.locale if request.locale in survey.texts else settings.default_locale
    payload = survey_message(survey, locale, request.id)
    return queue(session, chat_id, f"survey:{request.id}", payload, request.id)


def plan_surveys(session: Session, settings: Settings, now: datetime, limit: int = 200) -> int:
    """Survey messages for sent requests of linked contacts that have none yet."""
    planned = select(TelegramMessage.request_id).where(TelegramMessage.request_id.is_not(None))
    query = (
        select(SurveyRequest, TelegramChat.chat_id)
        .join(Contact, Contact.id == SurveyRequest.contact_id)
        .join(TelegramChat, TelegramChat.contact_id == Contact.id)
        .where(
            SurveyRequest.state == RequestState.SENT,
            or_(SurveyRequest.expires_at.is_(None), SurveyRequest.expires_at > now),
            SurveyRequest.id.not_in(planned),
            Contact.unsubscribed_at.is_(None),
        )
        .limit(limit)
    )
    return sum(queue_survey(session, settings, r, chat) for r, chat in session.exec(query).all())


def _claim(engine: Engine, now: datetime, limit: int) -> list[TelegramMessage]:
    with session_scope(engine) as session:
        due = session.exec(
            select(TelegramMessage.id)
            .where(
                TelegramMessage.state == "pending",
                TelegramMessage.due_at <= now,
                or_(TelegramMessage.lease_until.is_(None), TelegramMessage.lease_until < now),
            )
            .order_by(TelegramMessage.due_at)
            .limit(limit)
        ).all()
        if not due:
            return []
        until = now + timedelta(seconds=LEASE_SECONDS)
        session.execute(
            update(TelegramMessage)
            .where(
                TelegramMessage.id.in_(due),
                or_(TelegramMessage.lease_until.is_(None), TelegramMessage.lease_until < now),
            )
            .values(lease_owner=OWNER, lease_until=until)
        )
    with Session(engine, expire_on_commit=False) as session:
        query = select(TelegramMessage).where(
            TelegramMessage.id.in_(due), TelegramMessage.lease_owner == OWNER
        )
        return list(session.exec(query).all())


def _expired(session: Session, message: TelegramMessage, now: datetime) -> bool:
    """A survey message whose request can no longer be answered is not sent."""
    if message.request_id is None or not message.dedupe_key.startswith("survey:"):
        return False
    request = session.get(SurveyRequest, message.request_id)
    if request is None or request.state != RequestState.SENT:
        return True
    return request.expires_at is not None and as_utc(request.expires_at) < now


async def _send_all(
    settings: Settings, rows: list[TelegramMessage]
) -> list[tuple[int | None, str | None, bool]]:
    """(message id, error, retry) per row, in order; one failure never stops the others."""
    results: list[tuple[int | None, str | None, bool]] = []
    async with make_bot(settings) as bot:
        for row in rows:
            try:
                results.append((await send(bot, row.chat_id, row.payload), None, False))
            except (BadRequest, Forbidden) as exc:  # refused: this message fails alone
                results.append((None, f"{type(exc).__name__}: {exc.message}"[:300], False))
            except RetryAfter as exc:
                results.append((None, f"RetryAfter: {exc.retry_after}", True))
            except TelegramError as exc:  # network, timeout, 5xx: try again later
                results.append((None, f"{type(exc).__name__}: {exc.message}"[:300], True))
    return results


def drain(
    settings: Settings, engine: Engine, *, limit: int = 50, now: datetime | None = None
) -> int:
    """Plan survey messages, then send the due ones (at most `limit`); how many were tried."""
    if not settings.telegram.enabled:
        return 0
    given = now
    with session_scope(engine) as session:
        plan_surveys(session, settings, now or utcnow())
    now = given or utcnow()  # after planning, so what was just planned is due
    rows = _claim(engine, now, limit)
    if not rows:
        return 0
    with session_scope(engine) as session:
        skipped = {row.id for row in rows if _expired(session, row, now)}
    sendable = [row for row in rows if row.id not in skipped]
    try:
        results = asyncio.run(_send_all(settings, sendable)) if sendable else []
    except TelegramError as exc:  # getMe failed: the Bot API is unreachable, keep every row
        results = [(None, f"{type(exc).__name__}: {exc.message}"[:300], True)] * len(sendable)
    with session_scope(engine) as session:
        for row in rows:
            if row.id in skipped:
                _mark(session, row, state="failed", error="request closed or expired")
        for row, (message_id, error, retry) in zip(sendable, results, strict=True):
            _record(session, settings, row, message_id, error, retry, now)
    return len(rows)


def _mark(session: Session, row: TelegramMessage, **values: Any) -> None:
    state = values.pop("state")
    error = values.pop("error", None)
    session.execute(
        update(TelegramMessage)
        .where(TelegramMessage.id == row.id, TelegramMessage.lease_owner == OWNER)
        .values(state=state, last_error=error, lease_owner=None, lease_until=None, **values)
    )


def _record(
    session: Session,
    settings: Settings,
    row: TelegramMessage,
    message_id: int | None,
    error: str | None,
    retry: bool,
    now: datetime,
) -> None:
    attempts = row.attempts + 1
    if error is None:
        _mark(session, row, state="sent", attempts=attempts, telegram_message_id=message_id)
        return
    if retry and attempts < settings.telegram.max_attempts:
        delay = settings.telegram.retry_base_seconds * (2 ** (attempts - 1))
        log.warning("telegram message %s: %s (retry %s)", row.id, error, attempts)
        _mark(
            session,
            row,
            state="pending",
            error=error,
            attempts=attempts,
            due_at=now + timedelta(seconds=delay),
        )
        return
    log.warning("telegram message %s failed: %s", row.id, error)
    _mark(session, row, state="failed", error=error, attempts=attempts)

"""One Bot API update in: /start TOKEN links the chat, a button press records the answer
through record_answer (source "telegram"), and what the person writes next is the comment
(or the "Other" reason). Returns the immediate calls (answerCallbackQuery,
editMessageReplyMarkup); every message the bot sends goes through the Telegram outbox.

A button's callback data names a request; it counts only from the chat linked to that
request's contact, so a forged button press from another chat records nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from mailflow import answer_reasons
from mailflow.answers import (
    AlreadyAnswered,
    Answer,
    AnswerRefused,
    RequestExpired,
    record_answer,
    record_comment,
    record_reasons,
)
from mailflow.reason_words import words
from mailflow.settings import Settings
from mailflow.telegram.messages import parse_callback, reason_message, text_message
from mailflow.telegram.outbox import queue, queue_survey
from mailflow.telegram_chats import link_chat
from mailflow.tokens import Purpose, Signer, TokenError
from storage.clock import utcnow
from storage.engine import session_scope
from storage.models import Response, SurveyRequest, TelegramChat

log = logging.getLogger(__name__)
Calls = list[tuple[str, dict[str, Any]]]
MAX_TEXT = 4000


def _locale(settings: Settings, request: SurveyRequest) -> str:
    return request.locale if request.locale in settings.locales else settings.default_locale


def _say(session: Session, chat_id: int, key: str, text: str) -> None:
    queue(session, chat_id, key, text_message(text), None)


def _start(
    session: Session, settings: Settings, signer: Signer, chat_id: int, arg: str, update_id: int
) -> None:
    try:
        request_id = signer.verify(arg.strip(), Purpose.TELEGRAM)
    except TokenError:
        request_id = None
    request = session.get(SurveyRequest, request_id) if request_id else None
    if request is None:
        _say(
            session,
            chat_id,
            f"start:{update_id}",
            words(settings.default_locale)["telegram_unknown"],
        )
        return
    link_chat(session, request.contact_id, chat_id)
    _say(
        session,
        chat_id,
        f"linked:{update_id}",
        words(_locale(settings, request))["telegram_linked"],
    )
    queue_survey(session, settings, request, chat_id)


def _request_for_chat(session: Session, request_id: int, chat_id: int) -> SurveyRequest | None:
    request = session.get(SurveyRequest, request_id)
    if request is None:
        return None
    chat = session.exec(select(TelegramChat).where(TelegramChat.chat_id == chat_id)).first()
    if chat is None or chat.contact_id != request.contact_id:
        return None
    return request


def _callback(session: Session, settings: Settings, query: dict[str, Any], calls: Calls) -> None:
    message = query.get("message") or {}
    chat_id = (message.get("chat") or {}).get("id")
    parsed = parse_callback(str(query.get("data") or ""))
    request = _request_for_chat(session, parsed[1], chat_id) if parsed and chat_id else None
    if parsed is None or request is None:
        calls.append(("answerCallbackQuery", {"callback_query_id": query["id"]}))
        return
    w = words(_locale(settings, request))
    kind, request_id, rest = parsed
    survey = settings.survey(request.survey_key)
    chat = session.exec(select(TelegramChat).where(TelegramChat.chat_id == chat_id)).one()
    try:
        if kind == "a":
            recorded = record_answer(
                session, settings, request, Answer(answers={"a": rest[0]}), "telegram"
            )
            asked = survey.reasons_for(answer_reasons.answer_key(survey, recorded.response.answers))
            for question in asked:
                payload = reason_message(question, _locale(settings, request), request_id)
                queue(
                    session,
                    chat_id,
                    f"reason:{request_id}:{question.key}:{query['id']}",
                    payload,
                    None,
                )
            if not asked:
                _say(session, chat_id, f"comment:{query['id']}", w["telegram_comment"])
            chat.awaiting_request_id, chat.awaiting = request_id, "comment"
            text = w["telegram_thanks"]
        else:
            question_key, option = rest
            if option == "other":
                chat.awaiting_request_id, chat.awaiting = request_id, f"reason:{question_key}"
                _say(
                    session,
                    chat_id,
                    f"other:{query['id']}",
                    words(_locale(settings, request))["other_prompt"],
                )
                text = None
            else:
                record_reasons(session, settings, request, {question_key: option}, {}, "telegram")
                _say(session, chat_id, f"comment:{query['id']}", w["telegram_comment"])
                chat.awaiting_request_id, chat.awaiting = request_id, "comment"
                text = w["telegram_reason_saved"]
    except AlreadyAnswered:
        text = w["telegram_already"]
    except RequestExpired:
        text = w["telegram_expired"]
    except AnswerRefused as refused:
        text = None
        log.info("telegram answer refused: %s", refused.reason)
    chat.updated_at = utcnow()
    session.add(chat)
    calls.append(("answerCallbackQuery", {"callback_query_id": query["id"], "text": text}))
    if message.get("message_id") and kind == "a":
        calls.append(
            ("editMessageReplyMarkup", {"chat_id": chat_id, "message_id": message["message_id"]})
        )


def _text(session: Session, settings: Settings, chat_id: int, text: str, update_id: int) -> None:
    chat = session.exec(select(TelegramChat).where(TelegramChat.chat_id == chat_id)).first()
    if chat is None or chat.awaiting_request_id is None:
        return
    request = session.get(SurveyRequest, chat.awaiting_request_id)
    response = session.exec(
        select(Response).where(Response.request_id == chat.awaiting_request_id)
    ).first()
    if request is None or response is None:
        return
    w = words(_locale(settings, request))
    text = text.strip()[:MAX_TEXT]
    try:
        if chat.awaiting and chat.awaiting.startswith("reason:"):
            key = chat.awaiting.split(":", 1)[1]
            record_reasons(session, settings, request, {key: "other"}, {key: text}, "telegram")
            chat.awaiting = "comment"
            _say(session, chat_id, f"reason-text:{update_id}", w["telegram_reason_saved"])
        else:
            record_comment(session, settings, request, text, "telegram")
            chat.awaiting_request_id, chat.awaiting = None, None
            _say(session, chat_id, f"comment-saved:{update_id}", w["telegram_comment_saved"])
    except AlreadyAnswered:
        chat.awaiting_request_id, chat.awaiting = None, None
        _say(session, chat_id, f"already:{update_id}", w["telegram_already"])
    except AnswerRefused as refused:
        log.info("telegram comment refused: %s", refused.reason)
    session.add(chat)


def handle(settings: Settings, engine: Engine, signer: Signer, update: dict[str, Any]) -> Calls:
    """Apply one update in one transaction; the immediate Bot API calls it needs."""
    calls: Calls = []
    update_id = int(update.get("update_id") or 0)
    with session_scope(engine) as session:
        if isinstance(update.get("callback_query"), dict):
            _callback(session, settings, update["callback_query"], calls)
            return calls
        message = update.get("message")
        if not isinstance(message, dict):
            return calls
        chat_id = (message.get("chat") or {}).get("id")
        text = message.get("text")
        if not isinstance(chat_id, int) or not isinstance(text, str):
            return calls
        if text.startswith("/start"):
            _start(session, settings, signer, chat_id, text[len("/start") :], update_id)
        elif not text.startswith("/"):
            _text(session, settings, chat_id, text, update_id)
    return calls

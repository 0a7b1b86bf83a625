"""The Telegram channel against a local Bot API server (tests/support/telegram_api.py): the
production code path (python-telegram-bot, the outbox, the updates handler, the webhook
route); only the base URL differs from Telegram's."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from mailflow.telegram import outbox
from mailflow.telegram.bot import make_bot
from mailflow.telegram.component import poll_once
from mailflow.telegram_chats import link_chat
from mailflow.tokens import Purpose
from storage.clock import utcnow
from storage.engine import session_scope
from storage.models import (
    AnswerReason,
    Comment,
    Escalation,
    Response,
    SurveyRequest,
    TelegramChat,
    TelegramMessage,
)
from tests.support.telegram_api import BotApi
from tests.web.conftest import make_site, served_site, serving

TOKEN = "7000001:AAE-secret-bot-token-for-tests_0123"
CHAT = 55501


@pytest.fixture
def api():
    server = BotApi(TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def site(tmp_path, monkeypatch, api):
    made = make_site(
        tmp_path,
        monkeypatch,
        TELEGRAM__BOT_TOKEN=TOKEN,
        TELEGRAM__BOT_USERNAME="acme_bot",
        TELEGRAM__API_BASE_URL=api.base_url,
        TELEGRAM__POLL_TIMEOUT_SECONDS="0",
        TELEGRAM__RETRY_BASE_SECONDS="0",
    )
    yield made
    made.engine.dispose()


def poll(site) -> None:
    async def once() -> None:
        async with make_bot(site.settings) as bot:
            await poll_once(site.settings, site.engine, bot, None)

    asyncio.run(once())


def linked_request(site, locale="ru", chat=CHAT, survey="csat") -> int:
    request_id = site.request(survey, locale=locale)
    with session_scope(site.engine) as session:
        link_chat(session, session.get(SurveyRequest, request_id).contact_id, chat)
    return request_id


def test_survey_buttons_answer_reason_and_comment_land_on_the_ticket(site, api, caplog):
    caplog.set_level(logging.DEBUG)
    request_id = linked_request(site)
    assert outbox.drain(site.settings, site.engine) == 1
    [survey] = api.sent()
    assert survey["chat_id"] == CHAT and "Как мы справились?" in survey["text"]
    keyboard = survey["reply_markup"]["inline_keyboard"]
    buttons = [b for row in keyboard for b in row]
    assert [b["callback_data"] for b in buttons if "callback_data" in b] == [
        f"a:{request_id}:{n}" for n in "12345"
    ]
    assert {"text": "Политика конфиденциальности", "url": "https://example.com/privacy"} in buttons
    assert outbox.drain(site.settings, site.engine) == 0  # once per request

    api.press(CHAT, 101, f"a:{request_id}:2")
    poll(site)
    [answered] = api.sent("answerCallbackQuery")
    assert answered["text"] == "Спасибо! Ваш ответ записан."
    assert api.sent("editMessageReplyMarkup")[0]["message_id"] == 101
    with session_scope(site.engine) as session:
        response = session.exec(select(Response)).one()
        assert (response.score, response.source, response.negative) == (2, "telegram", True)
        assert session.exec(select(Escalation)).one().response_id == response.id

    outbox.drain(site.settings, site.engine)
    question = api.sent()[-1]
    assert question["text"] == "Что пошло не так?"
    options = [row[0]["callback_data"] for row in question["reply_markup"]["inline_keyboard"]]
    assert f"r:{request_id}:what_went_wrong:rude" in options

    api.updates.clear()
    api.press(CHAT, 102, f"r:{request_id}:what_went_wrong:rude")
    poll(site)
    api.updates.clear()
    api.write(CHAT, "Оператор грубил")
    poll(site)
    outbox.drain(site.settings, site.engine)
    texts = [m["text"] for m in api.sent()]
    assert "Спасибо, комментарий добавлен." in texts
    with session_scope(site.engine) as session:
        response = session.exec(select(Response)).one()
        assert response.comment == "Оператор грубил" and response.source == "telegram"
        reason = session.exec(select(AnswerReason)).one()
        assert (reason.option, reason.source) == ("rude", "telegram")
        [comment] = session.exec(select(Comment)).all()
        assert "What went wrong? Rude staff" in comment.body  # in the staff's language
        assert "Оператор грубил" in comment.body
    assert TOKEN not in caplog.text  # the bot token never reaches a log


def test_start_on_the_deep_link_links_the_chat_and_sends_the_survey(site, api):
    request_id = site.request("nps", locale="pl")
    html = site.email_html(request_id, "nps", "pl")
    token = site.signer_token = site.token(request_id, Purpose.TELEGRAM)
    assert f"https://t.me/acme_bot?start={token}" in html
    api.write(CHAT, f"/start {token}")
    poll(site)
    outbox.drain(site.settings, site.engine)
    texts = [m["text"] for m in api.sent()]
    assert texts[0].startswith("Gotowe")
    assert "Czy poleciłbyś nas?" in texts[1]
    with session_scope(site.engine) as session:
        assert session.exec(select(TelegramChat)).one().chat_id == CHAT


def test_tampered_start_and_foreign_buttons_record_nothing(site, api):
    request_id = linked_request(site)
    api.write(CHAT + 1, "/start " + site.token(request_id, Purpose.LINK))  # wrong purpose
    api.press(CHAT + 1, 7, f"a:{request_id}:1")  # a chat that is not the contact's
    poll(site)
    outbox.drain(site.settings, site.engine)
    assert "This link is not valid any more." in [m["text"] for m in api.sent()]
    with session_scope(site.engine) as session:
        assert session.exec(select(Response)).all() == []
    assert api.sent("answerCallbackQuery")  # the button is still answered


def test_forbid_change_and_expiry_hold_across_channels(site, api):
    object.__setattr__(site.settings.survey("csat"), "forbid_change", True)
    request_id = linked_request(site)
    outbox.drain(site.settings, site.engine)
    api.press(CHAT, 101, f"a:{request_id}:5")
    api.press(CHAT, 101, f"a:{request_id}:1")
    poll(site)
    texts = [c["text"] for c in api.sent("answerCallbackQuery")]
    assert texts[-1] == "На этот опрос уже ответили."
    with session_scope(site.engine) as session:
        assert session.exec(select(Response)).one().score == 5
    expired = linked_request(site, chat=CHAT + 2)
    with session_scope(site.engine) as session:
        request = session.get(SurveyRequest, expired)
        request.expires_at = utcnow() - timedelta(hours=1)
        session.add(request)
    outbox.drain(site.settings, site.engine)
    assert [m for m in api.sent() if m["chat_id"] == CHAT + 2] == []  # expired: not sent


def test_forbid_change_keeps_the_score_but_takes_the_comment_asked_for(site, api):
    object.__setattr__(site.settings.survey("csat"), "forbid_change", True)
    request_id = linked_request(site)
    outbox.drain(site.settings, site.engine)
    api.press(CHAT, 101, f"a:{request_id}:5")
    poll(site)
    outbox.drain(site.settings, site.engine)
    api.updates.clear()
    api.write(CHAT, "Всё отлично, спасибо")
    poll(site)
    outbox.drain(site.settings, site.engine)
    assert "Спасибо, комментарий добавлен." in [m["text"] for m in api.sent()]
    with session_scope(site.engine) as session:
        response = session.exec(select(Response)).one()
        assert (response.score, response.comment) == (5, "Всё отлично, спасибо")
        [comment] = session.exec(select(Comment)).all()
        assert "Всё отлично, спасибо" in comment.body  # on the ticket like any other
    api.updates.clear()
    api.press(CHAT, 101, f"a:{request_id}:1")  # the score itself stays final
    poll(site)
    assert api.sent("answerCallbackQuery")[-1]["text"] == "На этот опрос уже ответили."
    with session_scope(site.engine) as session:
        assert session.exec(select(Response)).one().score == 5


def test_a_blocked_chat_fails_alone_and_a_bad_gateway_is_retried(site, api):
    linked_request(site, chat=1)
    linked_request(site, chat=2)
    linked_request(site, chat=3)
    api.blocked.add(1)
    api.failing[2] = 1
    outbox.drain(site.settings, site.engine)
    with session_scope(site.engine) as session:
        rows = {m.chat_id: m for m in session.exec(select(TelegramMessage))}
        assert rows[1].state == "failed" and "blocked" in rows[1].last_error
        assert rows[2].state == "pending" and rows[2].attempts == 1
        assert rows[3].state == "sent" and rows[3].telegram_message_id
    outbox.drain(site.settings, site.engine)
    with session_scope(site.engine) as session:
        assert (
            session.exec(select(TelegramMessage).where(TelegramMessage.chat_id == 2)).one().state
            == "sent"
        )


def test_webhook_checks_path_and_secret_header(tmp_path, monkeypatch, api):
    site = served_site(
        tmp_path,
        monkeypatch,
        TELEGRAM__BOT_TOKEN=TOKEN,
        TELEGRAM__API_BASE_URL=api.base_url,
        TELEGRAM__UPDATES="webhook",
        TELEGRAM__WEBHOOK_PATH="hook-path-0123456789abcdef",
        TELEGRAM__WEBHOOK_SECRET_TOKEN="header-secret-0123456789",
    )
    request_id = linked_request(site)
    update = api.press(CHAT, 101, f"a:{request_id}:4")
    header = {"X-Telegram-Bot-Api-Secret-Token": "header-secret-0123456789"}
    with serving(site) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert (
            client.post("/telegram/wrong-path-0123456789", json=update, headers=header).status_code
            == 404
        )
        wrong = client.post(
            "/telegram/hook-path-0123456789abcdef",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": "nope"},
        )
        assert wrong.status_code == 403 and "Traceback" not in wrong.text
        assert client.post("/telegram/hook-path-0123456789abcdef", json=update).status_code == 403
        bad = client.post("/telegram/hook-path-0123456789abcdef", content=b"{", headers=header)
        assert bad.status_code == 400
        ok = client.post("/telegram/hook-path-0123456789abcdef", json=update, headers=header)
        assert ok.status_code == 200
    with session_scope(site.engine) as session:
        assert session.exec(select(Response)).one().source == "telegram"
    assert api.sent("answerCallbackQuery")
    site.engine.dispose()


def test_webhook_mode_registers_with_set_webhook(tmp_path, monkeypatch, api):
    from mailflow.telegram.component import telegram_components

    site = make_site(
        tmp_path,
        monkeypatch,
        TELEGRAM__BOT_TOKEN=TOKEN,
        TELEGRAM__API_BASE_URL=api.base_url,
        TELEGRAM__UPDATES="webhook",
        TELEGRAM__WEBHOOK_PATH="hook-path-0123456789abcdef",
        TELEGRAM__WEBHOOK_SECRET_TOKEN="header-secret-0123456789",
    )
    [component] = telegram_components(site.settings, site.engine)

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(component(stop))
        for _ in range(200):
            if api.webhook:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await task

    asyncio.run(run())
    assert api.webhook["url"].endswith("/telegram/hook-path-0123456789abcdef")
    assert api.webhook["secret_token"] == "header-secret-0123456789"
    site.engine.dispose()


def test_webhook_mode_needs_long_secrets(tmp_path, monkeypatch):
    from mailflow.settings import ConfigError

    with pytest.raises(ConfigError, match="webhook_path"):
        make_site(tmp_path, monkeypatch, TELEGRAM__BOT_TOKEN=TOKEN, TELEGRAM__UPDATES="webhook")


def test_the_bot_token_never_prints(site):
    assert TOKEN not in repr(site.settings) and TOKEN not in str(site.settings.telegram)

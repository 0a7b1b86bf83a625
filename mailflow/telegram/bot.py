"""The Bot API client: python-telegram-bot's Bot on the configured base URL (Telegram's, or a
local Bot API server in tests: the same code path), and a log filter that keeps the bot token
out of every log line (httpx logs request URLs, and the token is part of them)."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, InlineKeyboardMarkup

from mailflow.settings import Settings


class RedactToken(logging.Filter):
    """Replaces the bot token in log records with "<bot-token>"."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<bot-token>"), None
        return True


# A logger's filters see only its own records, not its children's: name every logger that
# may print a request URL or the Bot's own settings.
LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "telegram",
    "telegram.Bot",
    "telegram.request",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
    "telegram.ext",
)


def _guard_logs(token: str) -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactToken) and f.token == token for f in logger.filters):
            logger.addFilter(RedactToken(token))


def make_bot(settings: Settings) -> Bot:
    """A Bot for the configured token and base URL (call inside `async with bot:`)."""
    secret = settings.telegram.bot_token
    if secret is None:
        raise RuntimeError("telegram.bot_token is not set")
    token = secret.get_secret_value()
    _guard_logs(token)
    return Bot(token=token, base_url=settings.telegram.api_base_url)


async def send(bot: Bot, chat_id: int, payload: dict[str, Any]) -> int:
    """sendMessage with the payload's text and inline keyboard; the message id."""
    markup = payload.get("reply_markup")
    message = await bot.send_message(
        chat_id=chat_id,
        text=payload["text"],
        reply_markup=InlineKeyboardMarkup.de_json(markup, bot) if markup else None,
        disable_web_page_preview=True,
    )
    return message.message_id


async def perform(bot: Bot, calls: list[tuple[str, dict[str, Any]]]) -> None:
    """The immediate calls an update asks for (answerCallbackQuery, editMessageReplyMarkup)."""
    for method, params in calls:
        if method == "answerCallbackQuery":
            await bot.answer_callback_query(params["callback_query_id"], text=params.get("text"))
        elif method == "editMessageReplyMarkup":
            await bot.edit_message_reply_markup(
                chat_id=params["chat_id"], message_id=params["message_id"], reply_markup=None
            )

"""The Telegram updates loop for `mailflow up`: long polling with getUpdates, or, in webhook
mode, one setWebhook (URL under web.base_url, with the secret token) and nothing else.

Every update is applied in its own transaction (mailflow.telegram.updates.handle) before the
offset moves past it, so an update is never lost; a repeat is harmless (keyed rows).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import Engine
from telegram.error import TelegramError

from mailflow.settings import Settings
from mailflow.telegram.bot import make_bot, perform
from mailflow.telegram.updates import handle
from mailflow.tokens import signer_for

log = logging.getLogger(__name__)


def webhook_url(settings: Settings) -> str:
    """Where Telegram posts updates in webhook mode."""
    path = settings.telegram.webhook_path
    assert path is not None
    return f"{settings.web.base_url.rstrip('/')}/telegram/{path.get_secret_value()}"


async def poll_once(settings: Settings, engine: Engine, bot: Any, offset: int | None) -> int | None:
    """One getUpdates round: apply each update, then answer its button; the next offset."""
    signer = signer_for(settings)
    updates = await bot.get_updates(
        offset=offset,
        timeout=settings.telegram.poll_timeout_seconds,
        allowed_updates=["message", "callback_query"],
    )
    for update in updates:
        data = update.to_dict()
        calls = await asyncio.to_thread(handle, settings, engine, signer, data)
        try:
            await perform(bot, calls)
        except TelegramError as exc:  # a late button answer is not worth losing the update
            log.warning("telegram: %s", exc.message)
        offset = update.update_id + 1
    return offset


def telegram_components(settings: Settings, engine: Engine) -> list[Any]:
    """The updates component, when the channel is configured."""
    if not settings.telegram.enabled:
        return []

    async def run(stop: asyncio.Event) -> None:
        async with make_bot(settings) as bot:
            if settings.telegram.updates == "webhook":
                secret = settings.telegram.webhook_secret_token
                assert secret is not None
                await bot.set_webhook(
                    url=webhook_url(settings),
                    secret_token=secret.get_secret_value(),
                    allowed_updates=["message", "callback_query"],
                )
                await stop.wait()
                return
            await bot.delete_webhook()
            offset = None
            while not stop.is_set():
                offset = await poll_once(settings, engine, bot, offset)

    return [run]

"""POST /telegram/{path}: Telegram's webhook. A wrong path is 404 and a wrong
X-Telegram-Bot-Api-Secret-Token header 403, both before the body is read; an update is applied
(mailflow.telegram.updates.handle) and answered 200 so Telegram does not resend it."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from telegram.error import TelegramError

from mailflow.telegram.bot import make_bot, perform
from mailflow.telegram.updates import handle
from mailflow.web.context import web

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)
HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1_000_000


def _same(given: str | None, secret: object) -> bool:
    value = getattr(secret, "get_secret_value", lambda: None)()
    return bool(given and value) and hmac.compare_digest(str(given).encode(), str(value).encode())


@router.post("/telegram/{path}")
async def telegram_webhook(path: str, request: Request) -> JSONResponse:
    """One update from Telegram."""
    ctx = web(request)
    config = ctx.settings.telegram
    if not config.enabled or config.updates != "webhook" or not _same(path, config.webhook_path):
        return JSONResponse({"error": "not found"}, status_code=404)
    if not _same(request.headers.get(HEADER), config.webhook_secret_token):
        return JSONResponse({"error": "forbidden"}, status_code=403)
    body = await request.body()
    try:
        update = json.loads(body[:MAX_BODY]) if len(body) <= MAX_BODY else None
    except ValueError:
        update = None
    if not isinstance(update, dict):
        return JSONResponse({"error": "body: not a Telegram update"}, status_code=400)
    calls = await asyncio.to_thread(handle, ctx.settings, ctx.engine, ctx.signer, update)
    if calls:
        try:
            async with make_bot(ctx.settings) as bot:
                await perform(bot, calls)
        except TelegramError as exc:
            log.warning("telegram: %s", exc.message)
    return JSONResponse({"ok": True})

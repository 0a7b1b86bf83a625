"""A local Bot API server on 127.0.0.1 for tests: it speaks the documented methods Mailflow
uses (getMe, sendMessage, answerCallbackQuery, editMessageReplyMarkup, getUpdates,
setWebhook, deleteWebhook) at /bot<TOKEN>/<method>, with the documented JSON shapes
({"ok": true, "result": …} or {"ok": false, "error_code", "description"}). It records every
call, holds queued updates for getUpdates, and can be told to refuse or fail a chat."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_ID = 7000001


class BotApi:
    """The server; `base_url` goes into `telegram.api_base_url`."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.updates: list[dict[str, Any]] = []
        self.blocked: set[int] = set()  # chats that blocked the bot: 403
        self.failing: dict[int, int] = {}  # chat -> how many 502s before it works
        self.webhook: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._next_message_id = 100
        self._next_update_id = 500
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                api._serve(self)

            do_GET = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/bot"

    def start(self) -> BotApi:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # What a test does as the person in the chat.
    def press(
        self, chat_id: int, message_id: int, data: str, user_id: int | None = None
    ) -> dict[str, Any]:
        """Queue a callback_query update as Telegram sends it after a button press."""
        with self._lock:
            self._next_update_id += 1
            update = {
                "update_id": self._next_update_id,
                "callback_query": {
                    "id": f"cq{self._next_update_id}",
                    "from": _user(user_id or chat_id),
                    "chat_instance": f"ci{chat_id}",
                    "data": data,
                    "message": _message(message_id, chat_id, "survey", bot=True),
                },
            }
            self.updates.append(update)
        return update

    def write(self, chat_id: int, text: str) -> dict[str, Any]:
        """Queue a text message update from the person."""
        with self._lock:
            self._next_update_id += 1
            self._next_message_id += 1
            message = _message(self._next_message_id, chat_id, text)
            message["from"] = _user(chat_id)
            if text.startswith("/"):
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
                ]
            update = {"update_id": self._next_update_id, "message": message}
            self.updates.append(update)
        return update

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    # The server side.
    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        prefix = f"/bot{self.token}/"
        if not handler.path.startswith(prefix):
            return self._reply(
                handler, 404, {"ok": False, "error_code": 404, "description": "Not Found"}
            )
        method = handler.path[len(prefix) :].split("?")[0]
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode("utf-8") if length else ""
        if handler.headers.get("Content-Type", "").startswith("application/json"):
            params = json.loads(raw or "{}")
        else:
            params = {k: _value(v) for k, v in parse_qsl(raw, keep_blank_values=True)}
        with self._lock:
            self.calls.append((method, params))
        status, body = self._result(method, params)
        self._reply(handler, status, body)

    def _result(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        ok = lambda result: (200, {"ok": True, "result": result})  # noqa: E731
        if method == "getMe":
            return ok({"id": BOT_ID, "is_bot": True, "first_name": "Acme", "username": "acme_bot"})
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            if chat_id in self.blocked:
                return 403, {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                }
            if self.failing.get(chat_id):
                self.failing[chat_id] -= 1
                return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
            with self._lock:
                self._next_message_id += 1
                message = _message(self._next_message_id, chat_id, str(params["text"]), bot=True)
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            return ok(message)
        if method == "answerCallbackQuery":
            return ok(True)
        if method == "editMessageReplyMarkup":
            return ok(
                _message(int(params["message_id"]), int(params["chat_id"]), "survey", bot=True)
            )
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            deadline = time.monotonic() + min(float(params.get("timeout") or 0), 2)
            while True:
                with self._lock:
                    found = [u for u in self.updates if u["update_id"] >= offset]
                if found or time.monotonic() >= deadline:
                    return ok(found)
                time.sleep(0.02)  # long polling, bounded by the request's own timeout
        if method == "setWebhook":
            self.webhook = dict(params)
            return ok(True)
        if method == "deleteWebhook":
            self.webhook = None
            return ok(True)
        return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


def _value(text: str) -> Any:
    """Bot API form parameters: JSON-serialised objects and numbers, or plain strings."""
    if text[:1] in "{[" or text.lstrip("-").isdigit() or text in ("true", "false"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Anna", "language_code": "ru"}


def _message(message_id: int, chat_id: int, text: str, *, bot: bool = False) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Anna"},
        "text": text,
    }
    if bot:
        message["from"] = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Acme",
            "username": "acme_bot",
        }
    return message

"""A real HTTP webhook receiver on 127.0.0.1 that verifies signatures independently.

It answers from a script (e.g. 500, 500, then 200), can stall past the client's timeout, and
keeps every request it saw with whether its Mailflow-Signature was valid.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    status: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def check_signature(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """The documented scheme, re-implemented here so the test does not trust the code under test."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if "t" not in fields or "v1" not in fields:
        return False
    if abs(time.time() - int(fields["t"])) > tolerance:
        return False
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields["v1"])


class WebhookReceiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[Received] = []
        self.script: deque[int | str] = deque()  # status codes, or "stall"
        self._lock = threading.Lock()
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    action = receiver.script.popleft() if receiver.script else 200
                if action == "stall":
                    receiver._release.wait(5)  # longer than the client's timeout
                    action = 200
                ok = check_signature(
                    receiver.secret, self.headers.get("Mailflow-Signature", ""), body
                )
                with receiver._lock:
                    receiver.received.append(
                        Received(self.path, dict(self.headers), body, ok, int(action))
                    )
                self.send_response(int(action))
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks/mailflow"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if 200 <= r.status < 300]

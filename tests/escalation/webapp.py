"""The app served by a real uvicorn on a free loopback port, and an admin signed in with httpx."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from mailflow.auth import create_user
from mailflow.settings import Settings
from mailflow.web.app import create_app
from storage.engine import session_scope

PASSWORD = "correct horse battery staple"


@contextmanager
def serving(settings: Settings, engine) -> Iterator[str]:
    """create_app(settings, engine) on the port of settings.web.base_url; yields the URL."""
    port = int(settings.web.base_url.rsplit(":", 1)[1])
    config = uvicorn.Config(
        create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:  # the server's own flag, bounded by the deadline
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def signed_in(engine, base_url: str, username: str = "maria", locale: str = "en") -> httpx.Client:
    """A staff user and an httpx client holding their session cookie."""
    with session_scope(engine) as session:
        create_user(session, username, PASSWORD, locale=locale)
    client = httpx.Client(base_url=base_url, timeout=10)
    page = client.get("/admin/login?next=/admin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    reply = client.post(
        "/admin/login",
        data={"csrf": csrf, "username": username, "password": PASSWORD, "next": "/admin"},
    )
    assert reply.status_code == 303, reply.text
    return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)

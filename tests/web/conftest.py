"""Web fixtures: the example configuration on a SQLite file, survey requests as the outbox
leaves them (state "sent"), and the app on a real uvicorn server on a free loopback port with a
plain HTTP client (httpx) or the browser in front of it."""

from __future__ import annotations

import string
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine
from sqlmodel import select

from mailflow.database import open_engine
from mailflow.render import Recipient, Renderer
from mailflow.settings import Settings, load_settings
from mailflow.tokens import Purpose, signer_for
from mailflow.web.app import create_app
from mailflow.web.context import forwarded_options
from storage.clock import utcnow
from storage.engine import session_scope
from storage.models import Contact, SurveyRequest, Task
from tests.support.policy import free_port

TEST_KEY = "web-test-secret-key-0123456789abcdef0123"


def write_config(directory: Path) -> Path:
    """The text `mailflow init` writes, with a known secret."""
    template = resources.files("mailflow").joinpath("example_config.toml").read_text("utf-8")
    path = directory / "mailflow.toml"
    path.write_text(string.Template(template).substitute(secret=TEST_KEY), encoding="utf-8")
    return path


@dataclass
class Site:
    """A configured Mailflow with its database, and helpers to make requests and tokens."""

    settings: Settings
    engine: Engine

    def request(
        self,
        survey: str = "csat",
        *,
        locale: str = "en",
        state: str = "sent",
        expires_in: timedelta | None = timedelta(days=7),
        email: str | None = None,
    ) -> int:
        """A survey request about a fresh ticket, as the outbox leaves it after sending."""
        now = utcnow()
        with session_scope(self.engine) as session:
            count = len(session.exec(select(SurveyRequest.id)).all())
            contact = Contact(email=email or f"client{count}@example.com", locale=locale)
            ticket = Task(kind="ticket", title="Printer", external_ref=f"T-{count}")
            session.add_all([contact, ticket])
            session.flush()
            request = SurveyRequest(
                survey_key=survey,
                dedupe_key=f"{survey}:{count}:{now.timestamp()}",
                contact_id=contact.id,
                ticket_id=ticket.id,
                locale=locale,
                state=state,
                sent_at=now,
                expires_at=(now + expires_in) if expires_in is not None else None,
            )
            session.add(request)
            session.flush()
            return request.id

    def token(self, request_id: int, purpose: Purpose = Purpose.LINK) -> str:
        return signer_for(self.settings).sign(request_id, purpose)

    def email_html(self, request_id: int, survey: str = "csat", locale: str = "en") -> str:
        """The HTML part of the survey email for a request, as the client receives it."""
        recipient = Recipient(request_id=request_id, email="client@example.com", name="Anna")
        renderer = Renderer(self.settings)
        config = self.settings.survey(survey)
        return renderer.parts(config, locale, recipient)["html"]


def make_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> Site:
    """Settings from the example config (overridden by `env`) and a migrated SQLite database."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAILFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'mailflow.db'}")
    for key, value in env.items():
        monkeypatch.setenv(f"MAILFLOW_{key}", value)
    settings = load_settings(write_config(tmp_path))
    return Site(settings, open_engine(settings, auto_upgrade=True))


@contextmanager
def serving(site: Site) -> Iterator[str]:
    """The app of `site` served by uvicorn on its base_url's port; yields that URL."""
    port = int(site.settings.web.base_url.rsplit(":", 1)[1])
    server = ServerThread(site, port)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


class ServerThread:
    """uvicorn serving the app on 127.0.0.1:<port> in a background thread."""

    def __init__(self, site: Site, port: int):
        config = uvicorn.Config(
            create_app(site.settings, site.engine),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            **forwarded_options(site.settings),  # as mailflow.service.web_component
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)  # polls the server's own started flag, bounded by the deadline

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def served_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> Site:
    """make_site with base_url on a free loopback port (start it with `serving`)."""
    port = free_port()
    return make_site(tmp_path, monkeypatch, WEB__BASE_URL=f"http://127.0.0.1:{port}", **env)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """The example configuration, its database, and the app serving its base_url."""
    made = served_site(tmp_path, monkeypatch)
    with serving(made):
        yield made
    made.engine.dispose()


@pytest.fixture
def client(site: Site) -> Iterator[httpx.Client]:
    """A plain HTTP client on the served app (no redirects followed, no script run)."""
    with httpx.Client(base_url=site.settings.web.base_url, timeout=10) as http:
        yield http

"""Outbound fixtures: the example configuration `mailflow init` writes, on a real database."""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from mailflow.events import EventResult, handle_event
from mailflow.outbox.transports import MemoryTransport
from mailflow.settings import Settings, load_settings
from mailflow.surveys import TriggerConfig
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade

TEST_KEY = "outbound-test-key-0123456789abcdef01234567"


def example_config(secret: str = TEST_KEY) -> str:
    """The text `mailflow init` writes, with a known secret."""
    template = resources.files("mailflow").joinpath("example_config.toml").read_text("utf-8")
    return string.Template(template).substitute(secret=secret)


def with_outbound(settings: Settings, **values: Any) -> Settings:
    """The settings with some [outbound] keys changed."""
    return settings.model_copy(update={"outbound": settings.outbound.model_copy(update=values)})


def with_trigger(settings: Settings, survey_key: str, **trigger: Any) -> Settings:
    """The settings with one survey's trigger replaced."""
    surveys = [
        s.model_copy(update={"trigger": TriggerConfig(**trigger)}) if s.key == survey_key else s
        for s in settings.surveys
    ]
    return settings.model_copy(update={"surveys": surveys})


def ticket_event(
    kind: str = "ticket.closed",
    *,
    ticket: str = "T-1",
    status: str = "Closed",
    email: str = "anna@example.com",
    occurred_at: datetime | None = None,
    employee: str = "bob@example.com",
    vip: bool | None = None,
    locale: str | None = "en",
) -> dict[str, Any]:
    """An event as a helpdesk sends it."""
    payload: dict[str, Any] = {
        "type": kind,
        "ticket": {"id": ticket, "title": f"Ticket {ticket}", "status": status},
        "contact": {"email": email, "name": "Anna", "locale": locale},
        "employee": {"name": employee.split("@")[0].title(), "email": employee},
    }
    if vip is not None:
        payload["contact"]["vip"] = vip
    if occurred_at is not None:
        payload["occurred_at"] = occurred_at.isoformat()
    return payload


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "mailflow.toml"
    path.write_text(example_config(), encoding="utf-8")
    return path


@pytest.fixture
def settings(config_file: Path, tmp_path: Path, sqlite_url: str) -> Settings:
    """The example settings on a SQLite file, memory-free: maildir under tmp_path."""
    loaded = load_settings(config_file)
    loaded = loaded.model_copy(update={"database_url": sqlite_url})
    return with_outbound(loaded, maildir=str(tmp_path / "outbox"), retry_base_seconds=0)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    db = make_engine(settings.database_url)
    upgrade(db)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def memory() -> MemoryTransport:
    return MemoryTransport()


@pytest.fixture
def post(engine: Engine, settings: Settings) -> Callable[..., EventResult]:
    """post(payload, settings=...) applies one event in its own transaction."""

    def apply(payload: dict[str, Any], *, config: Settings | None = None, **kw: Any) -> EventResult:
        with session_scope(engine) as session:
            return handle_event(session, config or settings, payload, **kw)

    return apply

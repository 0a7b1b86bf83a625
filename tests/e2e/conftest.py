"""The mission fixture: the whole of Mailflow on loopback, in a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailflow.database import open_engine
from mailflow.settings import load_settings
from tests.e2e.mission import Mission, mission_config
from tests.escalation.conftest import WEBHOOK_SECRET
from tests.escalation.receiver import WebhookReceiver
from tests.escalation.webapp import serving
from tests.support.policy import free_port


@pytest.fixture
def mission(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mission]:
    receiver = WebhookReceiver(WEBHOOK_SECRET)
    receiver.start()
    monkeypatch.setenv("MAILFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'mailflow.db'}")
    monkeypatch.setenv("MAILFLOW_WEB__BASE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("MAILFLOW_OUTBOUND__MAILDIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("MAILFLOW_INBOUND__SMTP_LISTEN", f"127.0.0.1:{free_port()}")
    path = tmp_path / "mailflow.toml"
    path.write_text(mission_config(receiver.url), encoding="utf-8")
    settings = load_settings(path)
    engine = open_engine(settings)
    try:
        with serving(settings, engine):
            yield Mission(settings, engine, receiver, tmp_path / "outbox")
    finally:
        engine.dispose()
        receiver.stop()

"""Console fixtures: the whole mission on loopback (tests/e2e) for the browser scenarios, and
`site`: the console served by a real uvicorn on an SQLite file, as (settings, engine, url)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailflow.database import open_engine
from mailflow.settings import load_settings
from tests.e2e.conftest import mission  # noqa: F401  (the fixture, shared)
from tests.escalation.conftest import escalation_config
from tests.escalation.webapp import serving
from tests.support.policy import free_port


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MAILFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'mailflow.db'}")
    monkeypatch.setenv("MAILFLOW_WEB__BASE_URL", f"http://127.0.0.1:{free_port()}")
    path = tmp_path / "mailflow.toml"
    path.write_text(escalation_config(), encoding="utf-8")
    settings = load_settings(path)
    engine = open_engine(settings)
    with serving(settings, engine) as url:
        yield settings, engine, url
    engine.dispose()

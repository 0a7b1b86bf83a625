"""Report fixtures: the example configuration and a migrated database seeded by seed.py."""

from __future__ import annotations

import string
import threading
import time
from importlib import resources
from pathlib import Path

import pytest

from mailflow.settings import Settings, load_settings

from .seed import seed

TEST_KEY = "test-secret-key-0123456789abcdef0123456789"


def example_config(database_url: str) -> str:
    """The text `mailflow init` writes, with a known secret and the test's database."""
    template = resources.files("mailflow").joinpath("example_config.toml").read_text("utf-8")
    text = string.Template(template).substitute(secret=TEST_KEY)
    return text.replace(
        'database_url = "sqlite:///./mailflow.db"', f'database_url = "{database_url}"'
    )


@pytest.fixture
def config_file(tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "mailflow.toml"
    path.write_text(example_config(db_url), encoding="utf-8")
    return path


@pytest.fixture
def settings(config_file: Path) -> Settings:
    return load_settings(config_file)


@pytest.fixture
def engine(migrated_engine):
    return migrated_engine


@pytest.fixture
def seeded(engine) -> dict[str, int]:
    """Employee name -> id of the seeded data set."""
    return seed(engine)


# --- the app on a real uvicorn server ---------------------------------------------------------
PASSWORD = "correct horse battery staple"


class Server:
    """uvicorn serving create_app(settings, engine) on 127.0.0.1:<free port> in a thread."""

    def __init__(self, settings, engine, port: int):
        import uvicorn

        from mailflow.web.app import create_app

        config = uvicorn.Config(
            create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)  # polls the server's started flag, bounded by the deadline
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def served(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, engine, seeded):
    """The seeded database behind the app, with a staff user 'maria' (English interface)."""
    from mailflow.auth import create_api_key, create_user
    from storage.engine import session_scope
    from tests.support.policy import free_port

    port = free_port()
    monkeypatch.setenv("MAILFLOW_WEB__BASE_URL", f"http://127.0.0.1:{port}")
    path = tmp_path / "mailflow.toml"
    path.write_text(example_config(db_url), encoding="utf-8")
    current = load_settings(path)
    with session_scope(engine) as session:
        create_user(session, "maria", PASSWORD, locale="en")
        api_key = create_api_key(session, "reports-test", ["reports:read"])
    with Server(current, engine, port) as server:
        server.api_key = api_key  # type: ignore[attr-defined]
        yield server


def sign_in(client) -> None:
    """Log in as maria through the real login form (CSRF field included)."""
    import re

    page = client.get("/admin/login?next=/admin/dashboard")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    answer = client.post(
        "/admin/login",
        data={"csrf": csrf, "username": "maria", "password": PASSWORD, "next": "/admin/dashboard"},
    )
    assert answer.status_code == 303, answer.text

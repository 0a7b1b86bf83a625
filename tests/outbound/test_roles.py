"""Roles: `mailflow up --role …` runs only the components named, as separate hosts would."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import select

from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import SurveyRequest
from tests.support.policy import free_port, port_accepts

from .crash_run import wait_until, worker_env
from .seed import seed_due_requests


@contextlib.contextmanager
def mailflow_up(tmp_path: Path, config_file: Path, env: dict, *args: str) -> Iterator[None]:
    """`mailflow up ARGS` in a child process, stopped with SIGTERM when the block ends."""
    command = [sys.executable, "-m", "mailflow", "--config", str(config_file), "up", *args]
    child = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE)
    try:
        yield
        assert child.poll() is None, child.stderr.read().decode()
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(5)
        child.stderr.close()


def healthz(base: str) -> dict | None:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).json()
    except httpx.HTTPError:
        return None


def test_a_web_role_serves_pages_but_sends_nothing_and_a_worker_role_sends_without_a_web_port(
    tmp_path, config_file, sqlite_url, smtp_sink
):
    engine = make_engine(sqlite_url)
    upgrade(engine)
    seed_due_requests(engine, 20)
    env = worker_env(sqlite_url, smtp_sink)
    web_port, smtp_port = free_port(), free_port()
    base = f"http://127.0.0.1:{web_port}"
    ports = ("--web", f"127.0.0.1:{web_port}", "--smtp", f"127.0.0.1:{smtp_port}")

    with mailflow_up(tmp_path, config_file, env, "--role", "web", *ports):
        wait_until(lambda: healthz(base) is not None, 30, "the web role to answer")
        body = healthz(base)
        assert body["roles"] == ["web"]
        assert set(body["components"]) == {"web"} and "relay" not in body
        assert httpx.get(f"{base}/admin/login", timeout=5).status_code == 200
        assert not port_accepts("127.0.0.1", smtp_port)  # no SMTP listener
        threading.Event().wait(3)  # a worker would have sent within its first pass
        assert smtp_sink.messages == []
        with engine.connect() as conn:
            assert set(conn.execute(select(SurveyRequest.state)).scalars()) == {"scheduled"}

    with mailflow_up(tmp_path, config_file, env, "--role", "worker", *ports):
        wait_until(lambda: len(smtp_sink.messages) >= 20, 60, "the worker role to send")
        assert not port_accepts("127.0.0.1", web_port)
        assert not port_accepts("127.0.0.1", smtp_port)
    with engine.connect() as conn:
        assert set(conn.execute(select(SurveyRequest.state)).scalars()) == {"sent"}
    assert len(smtp_sink.messages) == 20
    engine.dispose()


def test_the_web_and_listener_roles_report_only_their_components(
    tmp_path, config_file, sqlite_url, smtp_sink
):
    engine = make_engine(sqlite_url)
    upgrade(engine)
    engine.dispose()
    env = worker_env(sqlite_url, smtp_sink)
    web_port, smtp_port = free_port(), free_port()
    base = f"http://127.0.0.1:{web_port}"
    ports = ("--web", f"127.0.0.1:{web_port}", "--smtp", f"127.0.0.1:{smtp_port}")
    with mailflow_up(tmp_path, config_file, env, "--role", "listener, web", *ports):
        wait_until(lambda: healthz(base) is not None, 30, "the web role to answer")
        wait_until(lambda: port_accepts("127.0.0.1", smtp_port), 10, "the SMTP listener")
        body = healthz(base)
        assert body["roles"] == ["listener", "web"]
        assert set(body["components"]) == {"web", "inbound"}


def test_an_unknown_role_is_named(tmp_path, config_file):
    command = [sys.executable, "-m", "mailflow", "--config", str(config_file)]
    done = subprocess.run(
        [*command, "up", "--role", "web,mailer"], cwd=tmp_path, capture_output=True, timeout=60
    )
    assert done.returncode == 2
    assert "unknown role 'mailer'" in done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()
    assert not (tmp_path / "mailflow.db").exists()  # refused before anything started


def test_a_listener_role_with_nothing_to_listen_on_says_so(tmp_path, config_file, sqlite_url):
    env = dict(os.environ, MAILFLOW_DATABASE_URL=sqlite_url, MAILFLOW_INBOUND__SMTP_ENABLED="false")
    command = [sys.executable, "-m", "mailflow", "--config", str(config_file)]
    done = subprocess.run(
        [*command, "up", "--role", "listener"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "nothing to run" in done.stderr.decode() and "Traceback" not in done.stderr.decode()

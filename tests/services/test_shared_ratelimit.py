"""The POST rate limit on PostgreSQL holds across web processes: two real `mailflow up --role
web` processes on one schema share one count per client address."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mailflow.settings import load_settings
from mailflow.web.csrf import form_field
from mailflow.web.ratelimit import SharedRateLimiter
from storage.engine import make_engine
from storage.migrate import upgrade
from tests.support.policy import free_port
from tests.web.conftest import Site, write_config

pytestmark = pytest.mark.pg
ROOT = Path(__file__).resolve().parents[2]


def start_web(tmp_path: Path, config: Path, env: dict[str, str], port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "mailflow", "--config", str(config), "up"]
    command += ["--role", "web", "--web", f"127.0.0.1:{port}"]
    return subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE)


def wait_for(url: str, child: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert child.poll() is None, child.stderr.read().decode()
        try:
            httpx.get(f"{url}/healthz", timeout=1)
            return
        except httpx.HTTPError:
            assert time.monotonic() < deadline, f"{url} did not start"
            time.sleep(0.05)


def test_the_answer_limit_holds_across_two_web_processes(tmp_path, pg_schema_url, monkeypatch):
    url = pg_schema_url()
    engine = make_engine(url)
    upgrade(engine)
    config = write_config(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT), MAILFLOW_DATABASE_URL=url)
    env["MAILFLOW_WEB__RATE_LIMIT_PER_MINUTE"] = "6"
    monkeypatch.setenv("MAILFLOW_DATABASE_URL", url)
    site = Site(load_settings(config), engine)
    token = site.token(site.request("csat"))
    data = {"csrf": form_field(site.settings, token, "link"), "a": "4"}
    ports = [free_port(), free_port()]
    children = [start_web(tmp_path, config, env, port) for port in ports]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base, child in zip(bases, children, strict=True):
            wait_for(base, child)
        codes = []
        for n in range(10):  # alternate between the two processes
            reply = httpx.post(f"{bases[n % 2]}/r/{token}", data=data, timeout=10)
            codes.append(reply.status_code)
        assert codes == [200] * 6 + [429] * 4  # one count: each process alone would allow 6
        limited = httpx.post(f"{bases[1]}/r/{token}", data=data, timeout=10)
        assert int(limited.headers["retry-after"]) >= 1
        assert httpx.get(f"{bases[0]}/r/{token}", timeout=10).status_code == 200  # reads free
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            child.wait(15)
            child.stderr.close()
    engine.dispose()


def test_the_shared_window_slides(pg_schema_url):
    engine = make_engine(pg_schema_url())
    upgrade(engine)
    now = [1000.0 * 60]
    limiter = SharedRateLimiter(engine, "answers", 4, 60, clock=lambda: now[0])
    other = SharedRateLimiter(engine, "answers", 4, 60, clock=lambda: now[0])  # another host
    assert [limiter.hit("1.2.3.4"), other.hit("1.2.3.4")] == [None, None]
    now[0] += 30
    assert [other.hit("1.2.3.4"), limiter.hit("1.2.3.4")] == [None, None]
    assert limiter.hit("1.2.3.4") is not None  # 4 in the last minute
    assert other.hit("5.6.7.8") is None  # per address
    assert (
        SharedRateLimiter(engine, "unsubscribe", 4, 60, clock=lambda: now[0]).hit("1.2.3.4") is None
    )  # per bucket
    now[0] += 45  # the first two are out of the last minute (the estimate weighs by overlap)
    assert limiter.hit("1.2.3.4") is None
    engine.dispose()

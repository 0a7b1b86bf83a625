"""Pools on PostgreSQL: sizes and statement timeouts are settings, and reports have their own
pool, so rating links answer while every reporting connection is stuck in a slow query."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from mailflow.database import open_engine, reporting_engine
from mailflow.settings import ConfigError, load_settings
from tests.escalation.webapp import serving, signed_in
from tests.support.policy import free_port
from tests.web.conftest import Site, write_config

pytestmark = pytest.mark.pg


def pg_settings(tmp_path: Path, url: str, monkeypatch, **database: str):
    monkeypatch.setenv("MAILFLOW_DATABASE_URL", url)
    monkeypatch.setenv("MAILFLOW_WEB__BASE_URL", f"http://127.0.0.1:{free_port()}")
    for key, value in database.items():
        monkeypatch.setenv(f"MAILFLOW_DATABASE__{key.upper()}", value)
    return load_settings(write_config(tmp_path))


def test_rating_links_answer_while_the_reporting_pool_is_held_by_slow_queries(
    tmp_path, pg_schema_url, monkeypatch
):
    settings = pg_settings(
        tmp_path,
        pg_schema_url(),
        monkeypatch,
        pool_size="2",
        max_overflow="0",
        reporting_pool_size="2",
        reporting_statement_timeout="30",
    )
    engine = open_engine(settings, auto_upgrade=True)
    site = Site(settings, engine)
    token = site.token(site.request())
    reports = reporting_engine(settings, engine)
    assert reports is reporting_engine(settings, engine)  # one reporting pool per database

    def slow_report() -> None:
        with reports.connect() as conn:
            conn.execute(text("SELECT pg_sleep(6)"))

    with serving(settings, engine) as base:
        admin = signed_in(engine, base)
        assert admin.get("/admin/dashboard").status_code == 200
        sleepers = [threading.Thread(target=slow_report) for _ in range(2)]
        for sleeper in sleepers:
            sleeper.start()
        deadline = time.monotonic() + 5
        while reports.pool.checkedout() < 2:
            assert time.monotonic() < deadline, "the slow queries did not start"
            time.sleep(0.01)
        dashboard: list[int] = []
        queued = threading.Thread(
            target=lambda: dashboard.append(admin.get("/admin/dashboard", timeout=30).status_code)
        )
        queued.start()
        with httpx.Client(base_url=base, timeout=3) as client:
            answers = [client.get(f"/r/{token}").status_code for _ in range(20)]
        assert answers == [200] * 20
        assert all(s.is_alive() for s in sleepers), "rating links answered only after the sleep"
        assert dashboard == [], "the dashboard did not wait for the reporting pool"
        for thread in [*sleepers, queued]:
            thread.join(30)
        assert dashboard == [200]  # the dashboard waited its turn, then answered
        admin.close()
    reports.dispose()
    engine.dispose()


def test_statement_timeouts_apply_per_connection(tmp_path, pg_schema_url, monkeypatch):
    settings = pg_settings(
        tmp_path,
        pg_schema_url(),
        monkeypatch,
        statement_timeout="7",
        reporting_statement_timeout="0.5",
    )
    engine = open_engine(settings, auto_upgrade=True)
    reports = reporting_engine(settings, engine)
    with engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "7s"
    with reports.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "500ms"
        with pytest.raises(OperationalError, match="statement timeout"):
            conn.execute(text("SELECT pg_sleep(3)"))
    assert engine.pool.size() == settings.database.pool_size
    reports.dispose()
    engine.dispose()


def test_a_bad_pool_setting_is_refused_at_start_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MAILFLOW_DATABASE__POOL_SIZE", "0")
    with pytest.raises(ConfigError, match=r"database\.pool_size"):
        load_settings(write_config(tmp_path))

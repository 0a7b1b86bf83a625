"""Shared pytest fixtures for real services; loaded by tests/conftest.py as a plugin.

Every fixture that needs a service calls `require_service` when it is missing: the test is
skipped, or fails when MAILFLOW_REQUIRE_SERVICES=1 (as in CI). Tests that use one of these
fixtures get the matching marker (pg, dovecot, browser, amp) automatically.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .amp import AmpValidator
from .browser import SharedBrowser
from .dovecot import DovecotError, DovecotServer
from .pg import PgSchemas, base_pg_url
from .policy import require_service
from .smtp_sink import SmtpSink

MARKERS = {
    "pg": "needs the PostgreSQL server (MAILFLOW_TEST_PG_URL)",
    "dovecot": "needs a private Dovecot IMAP server (dovecot-imapd)",
    "browser": "needs Chromium (/usr/bin/chromium) driven by Playwright",
    "amp": "needs the offline AMP validator (.cache/amp)",
}
FIXTURE_MARKERS = {
    "pg_url": "pg",
    "pg_schema_url": "pg",
    "dovecot": "dovecot",
    "dovecot_clean": "dovecot",
    "browser": "browser",
    "page": "browser",
    "amp_validator": "amp",
}
BROWSER_FIXTURES = {"browser", "page"}
_shared_browser = pytest.StashKey[SharedBrowser]()


# --- hooks ---------------------------------------------------------------------------------------
def pytest_configure(config: pytest.Config) -> None:
    registered = {line.split(":")[0].strip() for line in config.getini("markers")}
    for name, text in MARKERS.items():
        if name not in registered:
            config.addinivalue_line("markers", f"{name}: {text}")
    config.stash[_shared_browser] = SharedBrowser()


def pytest_unconfigure(config: pytest.Config) -> None:
    shared = config.stash.get(_shared_browser, None)
    if shared is not None:
        shared.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for marker in sorted({FIXTURE_MARKERS[n] for n in names if n in FIXTURE_MARKERS}):
            if item.get_closest_marker(marker) is None:
                item.add_marker(marker)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # While Playwright's sync API is started, asyncio.run() fails in the main thread: close the
    # shared browser before any test that does not use it.
    if BROWSER_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())):
        item.config.stash[_shared_browser].stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# --- PostgreSQL ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def _pg_unavailable() -> str | None:
    """None when the test PostgreSQL answers, else why not (checked once per session)."""
    return PgSchemas(base_pg_url()).check()


@pytest.fixture(scope="session")
def pg_url(_pg_unavailable: str | None) -> Iterator[str]:
    """SQLAlchemy URL of a fresh schema mf_test_<hex>, shared by the session, dropped after."""
    if _pg_unavailable:
        require_service("postgresql", _pg_unavailable)
    schemas = PgSchemas(base_pg_url())
    try:
        yield schemas.create()
    finally:
        schemas.cleanup()


@pytest.fixture
def pg_schema_url(_pg_unavailable: str | None) -> Iterator[Callable[[], str]]:
    """Factory: each call creates another isolated schema; all are dropped after the test."""
    if _pg_unavailable:
        require_service("postgresql", _pg_unavailable)
    schemas = PgSchemas(base_pg_url())
    try:
        yield schemas.create
    finally:
        schemas.cleanup()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """SQLAlchemy URL of an empty SQLite file in the test's tmp_path."""
    return f"sqlite:///{tmp_path / 'mailflow.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database per test: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_schema_url")()


@pytest.fixture
def migrated_engine(db_url: str) -> Iterator[Any]:
    """An engine on `db_url` with every migration applied (SQLite and PostgreSQL)."""
    from storage.engine import make_engine
    from storage.migrate import upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


# --- Dovecot -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A private Dovecot on 127.0.0.1 (host, port, user, password, append, list_messages...)."""
    import shutil

    if shutil.which("dovecot") is None and not Path("/usr/sbin/dovecot").exists():
        require_service("dovecot", "dovecot is not installed (run .ci/install-services.sh)")
    server = DovecotServer()
    try:
        server.start()
    except (DovecotError, OSError) as exc:
        server.cleanup()
        require_service("dovecot", str(exc))
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def dovecot_clean(dovecot: DovecotServer) -> DovecotServer:
    """The session's Dovecot with every folder emptied first."""
    dovecot.reset()
    return dovecot


# --- Chromium ------------------------------------------------------------------------------------
@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Any:
    """The shared Playwright Browser (Chromium); prefer `page`, which isolates each test."""
    shared = request.config.stash[_shared_browser]
    reason = shared.missing()
    if reason:
        require_service("chromium", reason)
    from playwright.sync_api import Error as PlaywrightError

    try:
        return shared.get()
    except (PlaywrightError, OSError) as exc:  # a launch failure means "no browser here"
        shared.stop()
        require_service("chromium", f"Chromium did not start: {exc}")


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A Playwright Page in a fresh browser context; screenshot in test-artifacts/ on failure."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        try:
            report = getattr(request.node, "rep_call", None)
            if report is not None and report.failed and not page.is_closed():
                name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid).strip("_")
                target = request.config.rootpath / "test-artifacts" / f"{name[:200]}.png"
                target.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(target), full_page=True)
        finally:
            context.close()


# --- AMP validator -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def amp_validator(pytestconfig: pytest.Config) -> Callable[[str], tuple[bool, str]]:
    """validate(html) -> (ok, output) with the offline AMP4EMAIL validator from .cache/amp/."""
    validator = AmpValidator(pytestconfig.rootpath)
    reason = validator.missing()
    if reason:
        require_service("amp-validator", reason)
    return validator.validate


# --- SMTP ----------------------------------------------------------------------------------------
@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """An SMTP server on 127.0.0.1:<free port> keeping accepted messages in `.messages`."""
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()

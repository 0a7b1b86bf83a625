"""Opening the configured database, migrated: SQLite upgrades itself, PostgreSQL is checked.

On PostgreSQL the main engine's pool is sized by [database] pool_size, max_overflow and
pool_timeout, each connection with statement_timeout; reports get their own small engine
(`reporting_engine`) so a dashboard full of slow queries never takes the connections the
rating links need.
"""

from __future__ import annotations

import weakref
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event

from mailflow.settings import DatabaseSettings, Settings
from storage.engine import READ_ONLY, make_engine
from storage.migrate import alembic_config, current_revision, upgrade


class DatabaseNotMigrated(Exception):
    """The PostgreSQL schema is behind the code: run `mailflow db upgrade`."""


def head_revision(engine: Engine) -> str | None:
    """The newest migration this code ships."""
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def open_engine(settings: Settings, *, auto_upgrade: bool | None = None) -> Engine:
    """An engine on the configured database, at the newest schema.

    SQLite (the embedded default) is upgraded in place; PostgreSQL, shared by several
    workers, is upgraded only by `mailflow db upgrade` and refused when behind.
    """
    engine = main_engine(settings)
    if auto_upgrade is None:
        auto_upgrade = engine.dialect.name == "sqlite"
    if current_revision(engine) != head_revision(engine):
        if not auto_upgrade:
            raise DatabaseNotMigrated(
                "the database schema is not current; run `mailflow db upgrade`"
            )
        upgrade(engine)
    return engine


def _is_postgres_url(url: str) -> bool:
    return url.startswith("postgresql")


def pool_options(url: str, settings: Settings) -> dict[str, Any]:
    """make_engine arguments for the main pool (PostgreSQL only; SQLite keeps its defaults)."""
    if not _is_postgres_url(url):
        return {}
    db = settings.database
    return {
        "pool_size": db.pool_size,
        "max_overflow": db.max_overflow,
        "pool_timeout": db.pool_timeout,
    }


def _statement_timeout(engine: Engine, seconds: float) -> None:
    """Every new connection of `engine` gets `SET statement_timeout` (0 = none)."""
    if seconds <= 0:
        return

    @event.listens_for(engine, "connect")
    def _set(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, false)", (f"{int(seconds * 1000)}",)
            )
        dbapi_connection.commit()


def main_engine(settings: Settings, url: str | None = None) -> Engine:
    """An engine on `url` (default the configured one) with the [database] pool and timeout,
    unmigrated (open_engine checks the schema)."""
    url = url or settings.database_url
    engine = make_engine(url, **pool_options(url, settings))
    if engine.dialect.name == "postgresql":
        _statement_timeout(engine, settings.database.statement_timeout)
    return engine


_REPORTING: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def reporting_engine(settings: Settings, engine: Engine) -> Engine:
    """The engine reports (dashboard, report API, export) run on, for the database `engine`
    is on: on PostgreSQL its own pool of reporting_pool_size connections (no overflow) with
    reporting_statement_timeout, made once per engine; on SQLite the same file, read-only
    (deferred BEGIN, so reports never take the write lock)."""
    if engine.dialect.name != "postgresql":
        return engine.execution_options(**READ_ONLY)
    found = _REPORTING.get(engine)
    if found is None:
        db: DatabaseSettings = settings.database
        found = make_engine(
            engine.url.render_as_string(hide_password=False),
            pool_size=db.reporting_pool_size,
            max_overflow=0,
            pool_timeout=db.reporting_pool_timeout,
        )
        _statement_timeout(found, db.reporting_statement_timeout)
        _REPORTING[engine] = found
    return found

"""Opening the configured database, migrated: SQLite upgrades itself, PostgreSQL is checked.

On PostgreSQL the main engine's pool is sized by [database] pool_size, max_overflow and
pool_timeout, each connection with statement_timeout; reports get their own small engine
(`reporting_engine`) so a dashboard full of slow queries never takes the connections the
rating links need.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import weakref
from contextlib import closing
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event
from sqlalchemy.engine import URL, make_url

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


class BackupRefused(Exception):
    """A backup that must not be written (the target exists, or is the database itself)."""


def backup_sqlite(settings: Settings, target: Path, *, force: bool = False) -> int:
    """Copy the SQLite database to `target` with SQLite's online backup API: one consistent
    snapshot, taken while `mailflow up` goes on writing (WAL readers never block writers).
    The copy is written beside `target` and renamed into place, owner-only (0600), as one
    self-contained file (journal_mode DELETE). Returns its size in bytes."""
    source = settings.sqlite_path()
    if source is None:
        raise BackupRefused("the database is not a SQLite file")
    if not source.exists():
        raise BackupRefused(f"no database at {source}")
    if target.resolve() == source.resolve():
        raise BackupRefused(f"{target} is the database itself")
    if target.exists() and not force:
        raise BackupRefused(f"{target} already exists; use --force to overwrite it")
    if not target.parent.is_dir():
        raise BackupRefused(f"no directory {target.parent}")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    try:
        with (
            closing(sqlite3.connect(source, timeout=30)) as src,
            closing(sqlite3.connect(partial)) as copy,
        ):
            src.backup(copy)  # all pages in one step: one snapshot
            copy.execute("PRAGMA journal_mode=DELETE")
            ok = copy.execute("PRAGMA quick_check").fetchone()[0]
        if ok != "ok":
            raise BackupRefused(f"the copy failed its check: {ok}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size


def pg_dump_command(settings: Settings, target: Path) -> str:
    """The documented PostgreSQL backup: pg_dump in its custom format (password left out:
    give it with PGPASSWORD or ~/.pgpass)."""
    given = make_url(settings.database_url)
    url = URL.create(
        "postgresql", given.username, None, given.host, given.port, given.database, given.query
    )
    return (
        f"pg_dump --format=custom --no-owner --file {shlex.quote(str(target))} "
        f"{shlex.quote(url.render_as_string(hide_password=False))}"
    )

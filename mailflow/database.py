"""Opening the configured database, migrated: SQLite upgrades itself, PostgreSQL is checked."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from mailflow.settings import Settings
from storage.engine import make_engine
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
    engine = make_engine(settings.database_url)
    if auto_upgrade is None:
        auto_upgrade = engine.dialect.name == "sqlite"
    if current_revision(engine) != head_revision(engine):
        if not auto_upgrade:
            raise DatabaseNotMigrated(
                "the database schema is not current; run `mailflow db upgrade`"
            )
        upgrade(engine)
    return engine

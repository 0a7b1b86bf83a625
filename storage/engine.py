"""Engine and session factory: SQLite by default (WAL, foreign keys), PostgreSQL for scale.

SQLite transactions begin as writers (BEGIN IMMEDIATE, the pysqlite recipe of SQLAlchemy's
"Serializable isolation / Savepoints / Transactional DDL"): a deferred transaction that reads
and then writes cannot wait for the write lock (SQLITE_BUSY at once, busy_timeout does not
apply), so under concurrent writers it failed with "database is locked". An immediate one
waits its turn, up to busy_timeout, before its first read. A connection that only reads may
ask for a deferred BEGIN with the execution option `sqlite_deferred=True` (READ_ONLY).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session


def local_time(stamp: str | None, zone: str) -> str | None:
    """SQLite function mf_local(ts, zone): a stored UTC timestamp as wall time in `zone`, in the
    same text form, so date functions can bucket it. PostgreSQL's timezone(zone, ts) is the
    same function there (reports group by local weeks and months identically on both)."""
    if stamp is None:
        return None
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_zone(zone)).strftime("%Y-%m-%d %H:%M:%S.%f")


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


READ_ONLY = {"sqlite_deferred": True}  # Connection.execution_options(**READ_ONLY)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own implicit BEGIN (deferred, and only before DML) is turned off; the
    # "begin" hook below emits every BEGIN itself.
    dbapi_connection.isolation_level = None
    dbapi_connection.create_function("mf_local", 2, local_time, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    """Every transaction a writer from its first statement, unless asked to only read."""
    deferred = conn.get_execution_options().get("sqlite_deferred", False)
    conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def _private_file(database: str | None) -> None:
    """Create a new SQLite file readable by its owner only (0600) before SQLite opens it with
    the umask's mode (often 0644); its -wal and -shm files take the same mode."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.exists() or not path.parent.is_dir():
        return
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL and foreign keys (a new file is created 0600),
    PostgreSQL uses psycopg 3."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _private_file(parsed.database)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def is_postgres(engine: Engine) -> bool:
    """Whether row locking with SKIP LOCKED is available."""
    return engine.dialect.name == "postgresql"


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

"""Isolated PostgreSQL schemas for tests: one fresh schema per use, dropped afterwards."""

from __future__ import annotations

import os
import secrets

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_URL_ENV = "MAILFLOW_TEST_PG_URL"


def base_pg_url() -> str:
    """The SQLAlchemy URL of the test database (env MAILFLOW_TEST_PG_URL or the default)."""
    return os.environ.get(PG_URL_ENV) or DEFAULT_PG_URL


def libpq_conninfo(sqlalchemy_url: str) -> str:
    """The libpq URL psycopg understands, from a SQLAlchemy one (drops the `+driver` part)."""
    from sqlalchemy.engine import make_url

    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PgSchemas:
    """Creates schemas named mf_test_<hex> in the test database and drops them on cleanup()."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.conninfo = libpq_conninfo(base_url)
        self.created: list[str] = []

    def check(self) -> str | None:
        """None when the server answers, else the reason it does not."""
        import psycopg

        try:
            with psycopg.connect(self.conninfo, connect_timeout=3, autocommit=True) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            return f"cannot connect to {self.conninfo}: {exc}".strip()
        return None

    def create(self) -> str:
        """Create a fresh schema and return a SQLAlchemy URL whose connections use it."""
        import psycopg
        from psycopg import sql
        from sqlalchemy.engine import make_url

        schema = f"mf_test_{secrets.token_hex(6)}"
        with psycopg.connect(self.conninfo, connect_timeout=5, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        self.created.append(schema)
        url = make_url(self.base_url).update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    def cleanup(self) -> None:
        """Drop every schema this object created (CASCADE)."""
        if not self.created:
            return
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.conninfo, connect_timeout=5, autocommit=True) as conn:
            # A connection a test left open may hold locks: fail after a bounded wait instead
            # of hanging the run.
            conn.execute("SET lock_timeout = '10s'")
            while self.created:
                schema = self.created.pop()
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )

"""`mailflow backup FILE`: a consistent SQLite copy taken while `mailflow up` sends (and so
writes); never over an existing file unless --force; PostgreSQL gets the pg_dump command."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing

from storage.engine import make_engine
from storage.migrate import upgrade
from tests.support.policy import free_port

from .crash_run import ROOT, wait_until, worker_env
from .seed import seed_due_requests
from .test_roles import mailflow_up


def backup(tmp_path, config_file, env, *args):
    command = [sys.executable, "-m", "mailflow", "--config", str(config_file), "backup", *args]
    return subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )


def test_a_backup_taken_while_up_is_sending_is_whole_and_never_overwrites(
    tmp_path, config_file, sqlite_url, smtp_sink
):
    engine = make_engine(sqlite_url)
    upgrade(engine)
    seed_due_requests(engine, 600)
    env = worker_env(sqlite_url, smtp_sink)
    copy = tmp_path / "copy.db"
    ports = ("--web", f"127.0.0.1:{free_port()}", "--smtp", f"127.0.0.1:{free_port()}")
    with mailflow_up(tmp_path, config_file, env, "--role", "worker", *ports):
        wait_until(lambda: len(smtp_sink.messages) >= 50, 60, "the worker to be sending")
        smtp_sink.slow(0.5)  # a slow relay from here: the worker is still sending (and
        done = backup(tmp_path, config_file, env, str(copy))  # writing) while we copy
        assert done.returncode == 0, done.stderr
        sent_at_backup = len(smtp_sink.messages)
        assert sent_at_backup < 600, "the worker finished before the backup; nothing was writing"
        again = backup(tmp_path, config_file, env, str(copy))
        assert again.returncode == 2 and "already exists; use --force" in again.stderr
        forced = backup(tmp_path, config_file, env, str(copy), "--force")
        assert forced.returncode == 0, forced.stderr
        smtp_sink.slow(0)
    assert "Backed up" in done.stdout and copy.stat().st_mode & 0o077 == 0
    with closing(sqlite3.connect(copy)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file
        states = dict(db.execute("SELECT state, count(*) FROM surveyrequest GROUP BY state"))
        assert db.execute("SELECT count(*) FROM contact").fetchone()[0] == 600
    assert sum(states.values()) == 600 and states.get("sent", 0) > 0
    assert not list(tmp_path.glob(".copy.db.partial"))
    engine.dispose()


def test_on_postgresql_backup_prints_the_pg_dump_command(tmp_path, config_file, pg_schema_url):
    url = pg_schema_url().replace("postgres@", "postgres:secret@")
    env = dict(os.environ, MAILFLOW_DATABASE_URL=url, PYTHONPATH=str(ROOT))
    done = backup(tmp_path, config_file, env, "mailflow.dump")
    assert done.returncode == 1
    assert done.stdout.startswith("pg_dump --format=custom --no-owner --file mailflow.dump ")
    assert "secret" not in done.stdout  # the password goes in PGPASSWORD or ~/.pgpass
    assert "pg_restore" in done.stderr and "Traceback" not in done.stderr

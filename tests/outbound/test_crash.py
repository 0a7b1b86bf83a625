"""Durability: kill -9 of a real worker mid-batch, and two workers on PostgreSQL."""

from __future__ import annotations

import collections
import email
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from mailflow.outbox.transports import MemoryTransport
from mailflow.service import run_until_empty
from storage.clock import as_utc, utcnow
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import SurveyRequest

from .conftest import with_outbound
from .seed import seed_due_requests

ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate, timeout: float, what: str) -> None:
    """Poll `predicate` until true, failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        threading.Event().wait(0.01)


def worker_env(tmp_path: Path, db_url: str, sink) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MAILFLOW_DATABASE_URL=db_url,
        MAILFLOW_OUTBOUND__TRANSPORT="smtp",
        MAILFLOW_OUTBOUND__SMTP_HOST=sink.host,
        MAILFLOW_OUTBOUND__SMTP_PORT=str(sink.port),
        MAILFLOW_OUTBOUND__SMTP_SECURITY="none",
        MAILFLOW_OUTBOUND__CONCURRENCY="4",
        MAILFLOW_OUTBOUND__BATCH_SIZE="50",
        MAILFLOW_OUTBOUND__LEASE_SECONDS="1",
        PYTHONPATH=str(ROOT),
    )
    return env


def test_a_killed_worker_loses_nothing_and_repeats_only_what_was_in_flight(
    tmp_path, config_file, sqlite_url, smtp_sink
):
    engine = make_engine(sqlite_url)
    upgrade(engine)
    ids = seed_due_requests(engine, 500)
    env = worker_env(tmp_path, sqlite_url, smtp_sink)
    command = [sys.executable, "-m", "mailflow", "--config", str(config_file), "worker"]
    worker = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: len(smtp_sink.messages) >= 120, 60, "the worker to send 120 messages")
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        worker.stderr.close()
    assert len(smtp_sink.messages) < 500, "the worker finished before it was killed"
    with engine.connect() as conn:
        in_flight = set(
            conn.execute(
                select(SurveyRequest.message_id).where(SurveyRequest.state == "sending")
            ).scalars()
        )
        leases = conn.execute(select(func.max(SurveyRequest.lease_until))).scalar()
    assert in_flight, "nothing was in flight at the kill"
    wait_until(lambda: utcnow() > as_utc(leases), 10, "the dead worker's lease to end")

    restart = subprocess.run(
        [*command, "--until-empty"], cwd=tmp_path, env=env, capture_output=True, timeout=120
    )
    assert restart.returncode == 0, restart.stderr.decode()
    with engine.connect() as conn:
        rows = conn.execute(select(SurveyRequest.state, SurveyRequest.message_id)).all()
    assert len(rows) == len(ids) and {state for state, _ in rows} == {"sent"}
    seen = collections.Counter(
        email.message_from_bytes(m.data)["Message-ID"] for m in smtp_sink.messages
    )
    assert set(seen) == {message_id for _, message_id in rows}  # none lost
    duplicates = {message_id for message_id, n in seen.items() if n > 1}
    assert duplicates <= in_flight  # a repeat is only ever a message in flight at the kill
    assert len(duplicates) <= 4  # at most `concurrency` messages are on the wire at once
    engine.dispose()


def test_two_workers_on_postgresql_never_send_one_request_twice(settings, pg_schema_url):
    url = pg_schema_url()
    engine = make_engine(url)
    upgrade(engine)
    seed_due_requests(engine, 300)
    config = with_outbound(
        settings.model_copy(update={"database_url": url}), batch_size=20, cap_days=0
    )
    transports = [MemoryTransport(), MemoryTransport()]
    errors: list[BaseException] = []

    def work(transport: MemoryTransport) -> None:
        own = make_engine(url)
        try:
            run_until_empty(config, own, transport=transport)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=work, args=(t,)) for t in transports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    sent = [email.message_from_bytes(raw)["Message-ID"] for t in transports for *_, raw in t.sent]
    assert len(sent) == 300 and len(set(sent)) == 300
    assert all(t.sent for t in transports), "one worker did all the work; no concurrency tested"
    with engine.connect() as conn:
        states = set(conn.execute(select(SurveyRequest.state)).scalars())
    assert states == {"sent"}
    engine.dispose()

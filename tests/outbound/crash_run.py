"""One crash run: real `mailflow worker` processes sending through SMTP to a local aiosmtpd
sink, each killed with SIGKILL part-way, then a last worker finishing the queue; deliveries
are counted by Message-ID. Used by tests/outbound/test_crash.py (scaled down) and
benchmarks/crash.py (2,000 sends, 5 kills)."""

from __future__ import annotations

import collections
import email
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from storage.clock import as_utc, utcnow
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import SurveyRequest
from tests.outbound.seed import seed_due_requests

ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate, timeout: float, what: str) -> None:
    """Poll `predicate` until true, failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        threading.Event().wait(0.01)


def worker_env(db_url: str, sink, *, concurrency: int = 4, lease: float = 1) -> dict[str, str]:
    """The environment of a worker sending to `sink` over plain SMTP."""
    env = dict(os.environ)
    env.update(
        MAILFLOW_DATABASE_URL=db_url,
        MAILFLOW_OUTBOUND__TRANSPORT="smtp",
        MAILFLOW_OUTBOUND__SMTP_HOST=sink.host,
        MAILFLOW_OUTBOUND__SMTP_PORT=str(sink.port),
        MAILFLOW_OUTBOUND__SMTP_SECURITY="none",
        MAILFLOW_OUTBOUND__CONCURRENCY=str(concurrency),
        MAILFLOW_OUTBOUND__BATCH_SIZE="50",
        MAILFLOW_OUTBOUND__LEASE_SECONDS=str(lease),
        PYTHONPATH=str(ROOT),
    )
    return env


@dataclass
class CrashResult:
    """What the kills cost: rows, deliveries, and what was in flight at each kill."""

    rows: int
    states: dict[str, int]
    deliveries: int
    lost: int  # requests whose Message-ID never reached the sink
    duplicated: set[str]  # Message-IDs delivered more than once
    extra: int  # deliveries beyond one per request
    in_flight: list[set[str]] = field(default_factory=list)  # Message-IDs `sending` per kill
    seconds: float = 0.0

    @property
    def in_flight_total(self) -> int:
        return sum(len(found) for found in self.in_flight)

    @property
    def repeats_only_in_flight(self) -> bool:
        """Every repeated message was on the wire at a kill, and no more repeats than that."""
        union = set().union(*self.in_flight) if self.in_flight else set()
        return self.duplicated <= union and self.extra <= self.in_flight_total


def crash_run(
    workdir: Path, config_file: Path, db_url: str, sink, *, rows: int, kills: int
) -> CrashResult:
    """Seed `rows` due requests, kill `kills` workers in turn, finish with `--until-empty`."""
    engine = make_engine(db_url)
    upgrade(engine)
    ids = seed_due_requests(engine, rows)
    env = worker_env(db_url, sink)
    command = [sys.executable, "-m", "mailflow", "--config", str(config_file), "worker"]
    step = rows // (kills + 1)
    result = CrashResult(rows=len(ids), states={}, deliveries=0, lost=0, duplicated=set(), extra=0)
    started = time.monotonic()
    for kill in range(kills):
        target = (kill + 1) * step
        worker = subprocess.Popen(command, cwd=workdir, env=env, stderr=subprocess.PIPE)
        try:
            wait_until(lambda t=target: len(sink.messages) >= t, 120, f"{target} deliveries")
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            worker.stderr.close()
        with engine.connect() as conn:
            result.in_flight.append(
                set(
                    conn.execute(
                        select(SurveyRequest.message_id).where(SurveyRequest.state == "sending")
                    ).scalars()
                )
            )
    with engine.connect() as conn:
        leases = conn.execute(select(func.max(SurveyRequest.lease_until))).scalar()
    if leases is not None:  # the last dead worker's rows are free once its lease ends
        wait_until(lambda: utcnow() > as_utc(leases), 30, "the dead worker's lease to end")
    finish = subprocess.run(
        [*command, "--until-empty"], cwd=workdir, env=env, capture_output=True, timeout=300
    )
    if finish.returncode != 0:
        raise AssertionError(finish.stderr.decode())
    result.seconds = time.monotonic() - started
    with engine.connect() as conn:
        stored = conn.execute(select(SurveyRequest.state, SurveyRequest.message_id)).all()
    engine.dispose()
    result.states = dict(collections.Counter(state for state, _ in stored))
    seen = collections.Counter(
        email.message_from_bytes(m.data)["Message-ID"] for m in sink.messages
    )
    result.deliveries = sum(seen.values())
    result.lost = len({message_id for _, message_id in stored} - set(seen))
    result.duplicated = {message_id for message_id, n in seen.items() if n > 1}
    result.extra = result.deliveries - len(seen)
    return result

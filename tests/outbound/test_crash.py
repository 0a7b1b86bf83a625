"""Durability: kill -9 of real workers five times during a run (SMTP to a local sink, SQLite
and PostgreSQL), and two workers on PostgreSQL."""

from __future__ import annotations

import email
import threading

from sqlalchemy import select

from mailflow.outbox.transports import MemoryTransport
from mailflow.service import run_until_empty
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import SurveyRequest

from .conftest import with_outbound
from .crash_run import crash_run
from .seed import seed_due_requests

KILLS = 5
ROWS = 360  # the full 2,000-send run is benchmarks/crash.py


def test_five_kills_lose_nothing_and_repeat_only_what_was_in_flight(
    tmp_path, config_file, db_url, smtp_sink
):
    result = crash_run(tmp_path, config_file, db_url, smtp_sink, rows=ROWS, kills=KILLS)
    assert result.states == {"sent": ROWS}
    assert result.lost == 0
    assert all(result.in_flight), "a kill found nothing in flight; no crash was tested"
    assert result.repeats_only_in_flight, (
        f"{result.extra} repeats, {sorted(result.duplicated)[:5]}…, in flight "
        f"{[len(found) for found in result.in_flight]}"
    )
    assert result.extra <= 4 * KILLS  # at most `concurrency` (4) on the wire at each kill


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

"""Exactly once with many workers: leases are renewed while a row is worked on, so two workers
behind a slow relay (each message slower than a whole lease) never send one request twice; and
a worker that lost its claim can mark nothing. SQLite and PostgreSQL."""

from __future__ import annotations

import collections
import email
import threading
from datetime import timedelta

from sqlalchemy import select

from mailflow.health import Health
from mailflow.outbox.claim import claim
from mailflow.outbox.outcomes import Job, Recorder
from mailflow.outbox.relay import Relay as RelayState
from mailflow.service import run_until_empty
from storage.clock import utcnow
from storage.engine import make_engine
from storage.models import SurveyRequest

from .conftest import with_outbound
from .seed import seed_due_requests
from .sinks import Relay, SlowHandler

ROWS = 300


def test_two_workers_behind_a_slow_relay_send_each_request_once(settings, migrated_engine):
    engine = migrated_engine
    url = engine.url.render_as_string(hide_password=False)
    seed_due_requests(engine, ROWS)
    relay = Relay(handler=SlowHandler(delay=0.1)).start()
    config = with_outbound(
        settings.model_copy(update={"database_url": url}),
        transport="smtp",
        smtp_host=relay.host,
        smtp_port=relay.port,
        smtp_security="none",
        smtp_timeout=10,
        concurrency=4,
        batch_size=20,
        cap_days=0,
        lease_seconds=0.6,  # every message waits in a queue longer than this
    )
    errors: list[BaseException] = []

    def work() -> None:
        own = make_engine(url)
        try:
            run_until_empty(config, own)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=work) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(180)
    finally:
        relay.stop()
    assert errors == []
    seen = collections.Counter(
        email.message_from_bytes(m.data)["Message-ID"] for m in relay.messages
    )
    duplicates = sum(n - 1 for n in seen.values())
    with engine.connect() as conn:
        states = collections.Counter(conn.execute(select(SurveyRequest.state)).scalars())
    assert states == {"sent": ROWS}
    assert len(seen) == ROWS  # none lost
    assert duplicates == 0, f"{duplicates} duplicate emails for {ROWS} requests"


def test_a_worker_that_lost_its_claim_cannot_mark_the_row(migrated_engine, settings):
    engine = migrated_engine
    (row,) = seed_due_requests(engine, 1)
    now = utcnow()
    assert claim(engine, SurveyRequest, owner="a", limit=1, lease_seconds=1, now=now) == [row]
    later = now + timedelta(seconds=5)  # a's lease ran out; b claims the row
    assert claim(engine, SurveyRequest, owner="b", limit=1, lease_seconds=60, now=later) == [row]
    health = Health()
    out = settings.outbound
    stale = Recorder(
        engine, SurveyRequest, out, owner="a", relay=RelayState(out, health), health=health
    )
    job = Job(row_id=row, attempts=1, sender="s@example.com", recipients=["r@example.com"])
    stale.failed(job, "a's late verdict")
    stale.transient(job, "a's late retry")
    stale.hold([row])
    stale.renew()
    assert not stale.holds(job)  # the renewal found the row taken: a will not send it
    with engine.connect() as conn:
        state, owner, error = conn.execute(
            select(SurveyRequest.state, SurveyRequest.lease_owner, SurveyRequest.last_error)
        ).one()
    assert (state, owner, error) == ("sending", "b", None)

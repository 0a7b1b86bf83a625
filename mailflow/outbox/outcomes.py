"""What a send attempt leaves behind on an outbox row (SurveyRequest or Notification).

Accepted -> sent. Transient trouble -> scheduled again after an exponential backoff, until
max_attempts, then failed with last_error. Permanent -> failed. A refused recipient -> the
request is bounced and the contact's address is marked, so nothing is sent to it again. The
relay unreachable -> the row goes back as it was (its attempt given back) and sending pauses
(mailflow.outbox.relay). A message that cannot be made (bad data, a template bug) -> that row
failed with the reason; the others go on.

Every change after the claim is fenced by it: the UPDATE matches only a row still `sending`
under this drain's lease owner, so a worker that lost its lease can mark nothing. The lease is
renewed while the drain works (`renew`), and a job whose row is no longer held is not sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, update

from mailflow.health import Health, queue_name
from mailflow.outbox.relay import Relay
from mailflow.outbox.transports import (
    PermanentSendError,
    RecipientRefused,
    RelayUnavailable,
    TransientSendError,
    Transport,
)
from mailflow.settings import OutboundSettings
from storage.clock import utcnow
from storage.models import Contact
from storage.states import RequestState

log = logging.getLogger(__name__)
ERROR_MAX = 500


@dataclass
class Job:
    """One rendered message ready for the transport, and what to record once it is sent."""

    row_id: int
    attempts: int
    sender: str
    recipients: list[str]
    raw: bytes | None = None
    contact_id: int | None = None
    expiration_days: int | None = None
    build: Callable[[], bytes] | None = None

    def message(self) -> bytes:
        """The raw message; rendered on first use, so rendering overlaps other sends' I/O."""
        if self.raw is None:
            assert self.build is not None
            self.raw = self.build()
        return self.raw


def backoff(outbound: OutboundSettings, attempts: int) -> timedelta:
    """retry_base_seconds * 2^(attempts-1): 1, 2, 4, 8 … times the base."""
    return timedelta(seconds=outbound.retry_base_seconds * 2 ** max(attempts - 1, 0))


class Mark:
    """The sent mark of one job. Awaiting it commits every mark queued so far (one
    transaction) unless that already happened; a mark nobody awaits costs no commit."""

    def __init__(self, recorder: Recorder, committed: asyncio.Future[None]):
        self.recorder, self.committed = recorder, committed

    def __await__(self) -> Generator[Any, None, None]:
        if not self.committed.done():
            self.recorder.commit()
        return self.committed.__await__()


class Recorder:
    """Writes outcomes for one outbox table.

    Sent marks are group-committed on demand: `sent` queues a mark and returns it; the first
    sender that needs its mark committed (just before its next message's DATA) commits every
    queued mark in one transaction. Marks arrive while other senders' envelopes are on the
    wire, so one commit serves several messages. Failures are written at once.
    """

    def __init__(
        self,
        engine: Engine,
        model: Any,
        outbound: OutboundSettings,
        *,
        owner: str,
        relay: Relay,
        health: Health,
    ):
        self.engine, self.model, self.outbound = engine, model, outbound
        self.owner, self.relay, self.health = owner, relay, health
        self.queue = queue_name(model)
        self._sent_count = health.sent.labels(queue=self.queue)
        self.table = model.__table__
        self._sent: list[dict[str, Any]] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._conn: Connection | None = None
        self.held: set[int] = set()  # rows this drain still holds under its lease
        self._renewed = utcnow()
        c = self.table.c
        marks: dict[str, Any] = {
            "state": RequestState.SENT,
            "sent_at": bindparam("at"),
            "last_error": None,
            "lease_owner": None,
            "lease_until": None,
        }
        mark = update(self.table).where(c.id == bindparam("row"), *self._fence())
        self._mark = mark.values(**marks)
        self._mark_expiring = mark.values(**marks, expires_at=bindparam("exp"))

    def _fence(self) -> tuple[Any, ...]:
        """The claim a change must still hold: `sending`, under this drain's owner."""
        c = self.table.c
        return (c.state == RequestState.SENDING, c.lease_owner == self.owner)

    def hold(self, ids: list[int]) -> None:
        """Rows just claimed by this drain."""
        self.held.update(ids)

    def holds(self, job: Job) -> bool:
        """Whether `job`'s row is still ours: renewed in time and not taken by another."""
        lease = self.outbound.lease_seconds
        fresh = (utcnow() - self._renewed).total_seconds() < lease * 0.9
        return fresh and job.row_id in self.held

    def renew(self) -> None:
        """Extend the lease on every row this drain still holds (one UPDATE); rows someone
        else took meanwhile drop out of `held`."""
        now = utcnow()
        asked = set(self.held)  # rows held (or marked) meanwhile are left as they are
        if asked:
            c = self.table.c
            with self.engine.begin() as conn:
                kept = conn.execute(
                    update(self.table)
                    .where(c.id.in_(sorted(asked)), *self._fence())
                    .values(lease_until=now + timedelta(seconds=self.outbound.lease_seconds))
                    .returning(c.id)
                ).scalars()
                lost = asked - set(kept)
            if lost:
                log.warning("%s: lease lost on %d rows; another has them", self.queue, len(lost))
                self.held -= lost
        self._renewed = now

    def sent(self, job: Job) -> Mark:
        """Queue `job`'s sent mark; awaiting the result commits it (the row stays held, its
        lease renewed, until then)."""
        self._sent_count.inc()
        now = utcnow()
        row: dict[str, Any] = {"row": job.row_id, "at": now}
        if job.expiration_days is not None:
            row["exp"] = now + timedelta(days=job.expiration_days)
        committed = asyncio.get_running_loop().create_future()
        self._sent.append(row)
        self._waiters.append(committed)
        return Mark(self, committed)

    def commit(self) -> None:
        """Commit every queued sent mark in one transaction and settle their futures."""
        pending, self._sent = self._sent, []
        waiters, self._waiters = self._waiters, []
        if not pending:
            return
        try:
            self._write(pending)
            self.held.difference_update(row["row"] for row in pending)
        except Exception as exc:  # each sender waiting on one of these marks raises it
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
            raise
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _write(self, pending: list[dict[str, Any]]) -> None:
        if self._conn is None:
            self._conn = self.engine.connect()
        conn = self._conn
        try:
            expiring = [row for row in pending if "exp" in row]
            plain = [row for row in pending if "exp" not in row]
            if expiring:
                conn.execute(self._mark_expiring, expiring)
            if plain:
                conn.execute(self._mark, plain)
            conn.commit()
        except BaseException:
            self._conn = None
            conn.close()  # rolls back; the next group takes a fresh connection
            raise

    def close(self) -> None:
        """Commit what is left and give the marks' connection back."""
        try:
            self.commit()
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _update(self, row_id: int, **values: Any) -> None:
        self.held.discard(row_id)
        c = self.table.c
        with self.engine.begin() as conn:
            conn.execute(
                update(self.table)
                .where(c.id == row_id, *self._fence())
                .values(lease_owner=None, lease_until=None, **values)
            )

    def transient(self, job: Job, error: str) -> None:
        if job.attempts >= self.outbound.max_attempts:
            self.failed(job, f"gave up after {job.attempts} attempts: {error}")
            return
        self.health.retried.labels(queue=self.queue).inc()
        due = utcnow() + backoff(self.outbound, job.attempts)
        self._update(
            job.row_id, state=RequestState.SCHEDULED, due_at=due, last_error=error[:ERROR_MAX]
        )

    def released(self, job: Job, error: str) -> None:
        """Back to the queue as it was, its attempt given back: the relay was the trouble."""
        c = self.table.c
        self._update(
            job.row_id,
            state=RequestState.SCHEDULED,
            attempts=c.attempts - 1,
            last_error=error[:ERROR_MAX],
        )

    def failed(self, job: Job, error: str) -> None:
        self.health.failed.labels(queue=self.queue).inc()
        self._update(job.row_id, state=RequestState.FAILED, last_error=error[:ERROR_MAX])

    def bounced(self, job: Job, refused: RecipientRefused) -> None:
        reason = f"{refused.code} {refused.message}"[:ERROR_MAX]
        if "reason" not in self.table.c:  # a notification: its recipient is not a contact
            self.failed(job, f"recipient refused: {reason}")
            return
        self.held.discard(job.row_id)
        self.health.failed.labels(queue=self.queue).inc()
        c = self.table.c
        with self.engine.begin() as conn:
            conn.execute(
                update(self.table)
                .where(c.id == job.row_id, *self._fence())
                .values(
                    state=RequestState.BOUNCED,
                    reason=f"address bounced: {reason}",
                    last_error=reason,
                    lease_owner=None,
                    lease_until=None,
                )
            )
            if job.contact_id is not None:
                conn.execute(
                    update(Contact.__table__)
                    .where(Contact.__table__.c.id == job.contact_id)
                    .values(bounced_at=utcnow(), bounce_reason=reason)
                )


async def attempt(
    transport: Transport, recorder: Recorder, job: Job, ready: Awaitable[None] | None = None
) -> Mark | None:
    """Send one job (the transport awaits `ready` before the message can be accepted) and
    record its outcome: failures are committed before this returns; a success returns its
    sent mark, committed when awaited. Nothing is sent for a row this drain no longer holds,
    nor while the relay is paused (the row goes back with its attempt)."""
    if not recorder.holds(job):
        recorder.held.discard(job.row_id)  # not renewed any more: its lease runs out
        log.warning("row %s: lease lost before sending; left to its new owner", job.row_id)
        return None
    if recorder.relay.paused():
        recorder.released(job, f"relay unavailable: {recorder.relay.status.error}")
        return None
    try:
        raw = job.message()
    except Exception as exc:  # bad data or a template bug: this row fails, the others go on
        log.exception("row %s: cannot make the message", job.row_id)
        recorder.failed(job, f"cannot make the message: {exc.__class__.__name__}: {exc}")
        return None
    try:
        await transport.send(job.sender, job.recipients, raw, ready=ready)
    except RelayUnavailable as exc:
        recorder.relay.down(str(exc))
        recorder.released(job, f"relay unavailable: {exc}")
    except RecipientRefused as exc:
        log.warning("row %s: recipient refused: %s", job.row_id, exc)
        recorder.bounced(job, exc)
    except TransientSendError as exc:
        log.info("row %s: will retry: %s", job.row_id, exc)
        recorder.transient(job, str(exc))
    except PermanentSendError as exc:
        log.warning("row %s: failed: %s", job.row_id, exc)
        recorder.failed(job, str(exc))
    else:
        recorder.relay.up()
        return recorder.sent(job)
    return None


async def gather_all(calls: list[Awaitable[None]]) -> None:
    """Await every call; the first unexpected error is raised after all have finished."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result

"""Keeping every connection busy: `concurrency` senders fed from one queue, batch after batch.

Each sender takes a job, renders it and sends it; the sent mark of its previous message is
committed after the new message's envelope (MAIL, RCPT) and before its DATA, together with the
marks other senders queued meanwhile. So per sender at most one message is accepted (or about
to be) but not yet recorded: a crash repeats at most `concurrency` messages.

The next batch is claimed (and its Message-IDs committed) while the last jobs of the current
one are still being sent, so connections do not wait at a barrier between batches. Meanwhile
the leases of every row held are renewed every third of the lease, and no new batch is
claimed while the relay is paused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from mailflow.outbox.outcomes import Job, Mark, Recorder, attempt, gather_all
from mailflow.outbox.transports import Transport

log = logging.getLogger(__name__)

# (rows claimed, jobs to send) for at most the given number of rows; (0, []) = nothing due.
NextBatch = Callable[[int], tuple[int, list[Job]]]


async def pump(
    transport: Transport,
    recorder: Recorder,
    next_batch: NextBatch,
    *,
    limit: int,
    seconds: float | None = None,
) -> int:
    """Claim and send batches until nothing is due, `limit` rows were claimed, or `seconds`
    have passed; the number of rows claimed."""
    concurrency = recorder.outbound.concurrency
    loop = asyncio.get_running_loop()
    deadline = None if seconds is None else loop.time() + seconds
    queue: asyncio.Queue[Job | None] = asyncio.Queue()
    hungry = asyncio.Event()  # the queue is short: claim the next batch
    hungry.set()
    claimed = 0
    stopped = False

    def refill_wanted() -> None:
        if queue.qsize() <= concurrency:
            hungry.set()

    async def feed() -> None:
        nonlocal claimed
        try:
            while claimed < limit and not stopped:
                if deadline is not None and claimed and loop.time() > deadline:
                    break
                await hungry.wait()
                hungry.clear()
                if stopped or recorder.relay.paused():
                    break
                count, jobs = next_batch(limit - claimed)
                if not count:
                    break
                claimed += count
                recorder.hold([job.row_id for job in jobs])
                for job in jobs:
                    queue.put_nowait(job)
                refill_wanted()
        finally:
            for _ in range(concurrency):
                queue.put_nowait(None)

    async def send() -> None:
        nonlocal stopped
        committed: Mark | None = None  # this sender's last sent mark
        try:
            while (job := await queue.get()) is not None:
                refill_wanted()
                mark = await attempt(transport, recorder, job, ready=committed)
                committed = mark or committed
            if committed is not None:
                await committed
        except BaseException:
            stopped = True  # claim no more; the other senders finish what is queued
            hungry.set()
            raise

    async def keep_leases() -> None:
        interval = recorder.outbound.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(recorder.renew)
            except Exception as exc:  # the database away: rows not renewed are not sent
                log.warning("renewing leases failed: %s", exc)

    renewing = asyncio.create_task(keep_leases())
    try:
        await gather_all([feed(), *(send() for _ in range(concurrency))])
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
        recorder.close()
    return claimed


async def deliver(transport: Transport, recorder: Recorder, jobs: list[Job]) -> int:
    """Send one list of jobs with `concurrency` senders; the number of jobs."""
    batches = [jobs]

    def next_batch(limit: int) -> tuple[int, list[Job]]:
        return (len(batches[0]), batches.pop()) if batches and batches[0] else (0, [])

    await pump(transport, recorder, next_batch, limit=len(jobs))
    return len(jobs)

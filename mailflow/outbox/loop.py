"""The worker loop: an ordered list of queue drainers, run over and over.

A step is `async step(limit) -> int` (0 when nothing is due). Which queues a pass drains, and in
what order, is decided by the assembly (mailflow.service); this module only knows how to run
them: once per pass, until nothing is due, or until stopped. The outbox's own steps (survey
requests, notifications, expiry) share one transport, so SMTP connections are reused across
batches; synchronous drainers run in a thread. A step that raises is logged and skipped for
this pass: one broken queue (or the database away for a moment) never stops the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from mailflow.outbox.notifications import drain_notifications
from mailflow.outbox.worker import Outbox, drain_requests, expire
from mailflow.settings import Settings

log = logging.getLogger(__name__)
Step = Callable[[int], Awaitable[int]]
Drainer = Callable[..., int]  # drain(settings, engine, *, limit) -> rows processed
IDLE_SECONDS = 1.0
# Survey requests stream batch after batch (no idle connections between batches) for up to
# this many batches or seconds per pass; then the other drainers get their turn.
REQUEST_BATCHES_PER_PASS = 20
REQUEST_SECONDS_PER_PASS = 2.0


def in_thread(drainer: Drainer, settings: Settings, engine: Engine) -> Step:
    """A synchronous `drain(settings, engine, *, limit)` as a step, run in a thread."""

    async def step(limit: int) -> int:
        return int(await asyncio.to_thread(drainer, settings, engine, limit=limit))

    return step


def outbox_steps(outbox: Outbox) -> list[Step]:
    """The outbox's own queues, in order: survey requests, notifications, expiry."""

    async def requests(limit: int) -> int:
        return await drain_requests(
            outbox, limit=limit * REQUEST_BATCHES_PER_PASS, seconds=REQUEST_SECONDS_PER_PASS
        )

    async def notifications(limit: int) -> int:
        return await drain_notifications(outbox, limit=limit)

    async def expiry(limit: int) -> int:
        return expire(outbox.settings, outbox.engine, limit=limit)

    return [requests, notifications, expiry]


@dataclass
class Worker:
    """One pass = every step once, in order; the outbox's transport is closed at the end."""

    outbox: Outbox
    steps: Sequence[Step]

    async def one_pass(self) -> int:
        """Rows processed by all steps together (0 = nothing was due anywhere)."""
        limit = self.outbox.settings.outbound.batch_size
        total = 0
        for step in self.steps:
            name = getattr(step, "__name__", "step")
            try:
                total += await step(limit)
            except OperationalError as exc:  # database away for a moment: say so, go on
                log.warning("worker step %s failed, retrying next pass: %s", name, exc)
            except Exception:  # a bug in one queue's drainer: logged, the others go on
                log.exception("worker step %s failed; the other queues go on", name)
        return total

    async def close(self) -> None:
        await self.outbox.transport.close()


async def until_empty(worker: Worker) -> int:
    """Pass after pass until one finds nothing due; the number of rows processed."""
    total = 0
    try:
        while done := await worker.one_pass():
            total += done
    finally:
        await worker.close()
    return total


async def forever(
    worker: Worker,
    stop: asyncio.Event,
    *,
    wake: asyncio.Event | None = None,
    idle_seconds: float = IDLE_SECONDS,
) -> None:
    """Pass after pass until `stop` is set; idle `idle_seconds` (or until `wake` is set, e.g.
    by the listener storing a reply) whenever nothing is due."""
    wake = wake or asyncio.Event()
    try:
        while not stop.is_set():
            wake.clear()  # before the pass: what is stored during it wakes the next at once
            if await worker.one_pass():
                continue
            waits = [asyncio.create_task(stop.wait()), asyncio.create_task(wake.wait())]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait(waits, timeout=idle_seconds, return_when=asyncio.FIRST_COMPLETED)
            for waiting in waits:
                waiting.cancel()
    finally:
        await worker.close()

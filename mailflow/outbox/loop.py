"""The worker loop: every drainer, over and over, until nothing is due (or until stopped).

A drainer is `drain(settings, engine, *, limit) -> int` (0 when nothing is due). The outbox's
own drainers (survey requests, notifications, expiry) share one transport, so SMTP connections
are reused across batches; the inbound worker, escalation filing and webhook deliveries join
when their modules exist, run in a thread since they are synchronous. Order within a pass:
inbound answers, then the escalations they opened, then the mail and webhooks those queued.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from mailflow.outbox.notifications import drain_notifications
from mailflow.outbox.transports import Transport
from mailflow.outbox.worker import Outbox, drain_requests, expire
from mailflow.settings import Settings

log = logging.getLogger(__name__)
Drainer = Callable[..., int]
FIRST_DRAINERS = ("mailflow.inbound.worker", "mailflow.escalation.filing")
LAST_DRAINERS = ("mailflow.escalation.webhooks",)
IDLE_SECONDS = 1.0
# Survey requests stream batch after batch (no idle connections between batches) for up to
# this many batches or seconds per pass; then the other drainers get their turn.
REQUEST_BATCHES_PER_PASS = 20
REQUEST_SECONDS_PER_PASS = 2.0


def optional_drainers(names: tuple[str, ...]) -> list[Drainer]:
    """`drain` of the other areas' workers, when those modules exist."""
    found: list[Drainer] = []
    for name in names:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue
            raise
        drainer = getattr(module, "drain", None)
        if drainer is not None:
            found.append(drainer)
    return found


class Worker:
    """One pass = every drainer once; returns how many rows were processed in total."""

    def __init__(self, settings: Settings, engine: Engine, transport: Transport | None = None):
        self.settings, self.engine = settings, engine
        self.outbox = Outbox.open(settings, engine, transport)
        self.first = optional_drainers(FIRST_DRAINERS)
        self.last = optional_drainers(LAST_DRAINERS)

    def steps(self) -> list[Callable[[int], Awaitable[int]]]:
        outbox, settings, engine = self.outbox, self.settings, self.engine

        async def requests(limit: int) -> int:
            return await drain_requests(
                outbox, limit=limit * REQUEST_BATCHES_PER_PASS, seconds=REQUEST_SECONDS_PER_PASS
            )

        async def notifications(limit: int) -> int:
            return await drain_notifications(outbox, limit=limit)

        async def expiry(limit: int) -> int:
            return expire(settings, engine, limit=limit)

        def threaded(drainer: Drainer) -> Callable[[int], Awaitable[int]]:
            async def run(limit: int) -> int:
                return int(await asyncio.to_thread(drainer, settings, engine, limit=limit))

            return run

        return [
            *(threaded(d) for d in self.first),
            requests,
            notifications,
            expiry,
            *(threaded(d) for d in self.last),
        ]

    async def one_pass(self) -> int:
        limit = self.settings.outbound.batch_size
        total = 0
        for step in self.steps():
            total += await step(limit)
        return total

    async def close(self) -> None:
        await self.outbox.transport.close()


async def _until_empty(worker: Worker) -> int:
    total = 0
    try:
        while done := await worker.one_pass():
            total += done
    finally:
        await worker.close()
    return total


def run_until_empty(
    settings: Settings, engine: Engine, *, transport: Transport | None = None
) -> int:
    """Process until every drainer reports nothing due; the number of rows processed."""
    return asyncio.run(_until_empty(Worker(settings, engine, transport)))


async def run_forever(
    settings: Settings,
    engine: Engine,
    stop: asyncio.Event,
    *,
    transport: Transport | None = None,
    idle_seconds: float = IDLE_SECONDS,
) -> None:
    """Process until `stop` is set, idling `idle_seconds` whenever nothing is due."""
    worker = Worker(settings, engine, transport)
    try:
        while not stop.is_set():
            try:
                if await worker.one_pass():
                    continue
            except OperationalError as exc:  # database away for a moment: say so, try again
                log.warning("outbox pass failed, retrying: %s", exc)
            try:
                await asyncio.wait_for(stop.wait(), timeout=idle_seconds)
            except TimeoutError:
                continue
    finally:
        await worker.close()

"""The outbox inside `mailflow up`: the campaign scheduler and the worker loop."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Engine

from mailflow.outbox.loop import run_forever
from mailflow.outbox.scheduler import build_scheduler
from mailflow.service import Component
from mailflow.settings import Settings

log = logging.getLogger(__name__)


def component(settings: Settings, engine: Engine, *, smtp: str | None) -> Component:
    """Scheduler plus worker loop, until the service stops."""
    del smtp  # the inbound listener's address; nothing to do with sending

    async def run(stop: asyncio.Event) -> None:
        scheduler = build_scheduler(settings, engine)
        scheduler.start()
        log.info("outbox worker running (transport %s)", settings.outbound.transport)
        try:
            await run_forever(settings, engine, stop)
        finally:
            scheduler.shutdown(wait=False)

    return run

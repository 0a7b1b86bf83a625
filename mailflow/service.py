"""The assembly: which components a Mailflow process runs and which queues its worker drains.

Everything the long-running service (`mailflow up`, `mailflow worker`, `mailflow listen`) is
made of is named here, once, in order: the web app, the SMTP listener, the IMAP pollers, the
worker with its ordered queue drainers (inbound answers, escalation filing, survey requests,
notifications, expiry, webhooks) and the campaign scheduler. The areas themselves know nothing
of each other's loops; a component is an async function taking the stop event.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

import uvicorn
from sqlalchemy import Engine

from mailflow import webhooks
from mailflow.escalation import filing
from mailflow.inbound import worker as inbound_worker
from mailflow.inbound.component import run_imap_pollers, run_listener
from mailflow.outbox import loop
from mailflow.outbox.scheduler import build_scheduler
from mailflow.outbox.transports import Transport
from mailflow.outbox.worker import Outbox
from mailflow.settings import Settings, split_hostport
from mailflow.web.app import create_app
from mailflow.web.context import forwarded_options

log = logging.getLogger(__name__)
Component = Callable[[asyncio.Event], Awaitable[None]]


def queue_drainers(settings: Settings, engine: Engine, outbox: Outbox) -> list[loop.Step]:
    """The queues one worker pass drains, in order: inbound answers, then the escalations they
    opened, then the survey mail, the notifications and webhooks those queued, then expiry."""
    return [
        loop.in_thread(inbound_worker.drain, settings, engine),
        loop.in_thread(filing.drain, settings, engine),
        *loop.outbox_steps(outbox),
        loop.in_thread(webhooks.drain, settings, engine),
    ]


def build_worker(
    settings: Settings, engine: Engine, *, transport: Transport | None = None
) -> loop.Worker:
    """A worker over every queue, sending through `transport` (default: the configured one)."""
    outbox = Outbox.open(settings, engine, transport)
    return loop.Worker(outbox, queue_drainers(settings, engine, outbox))


def run_until_empty(
    settings: Settings, engine: Engine, *, transport: Transport | None = None
) -> int:
    """Drain every queue until nothing is due (`mailflow worker --until-empty`, tests)."""
    return asyncio.run(loop.until_empty(build_worker(settings, engine, transport=transport)))


def web_component(settings: Settings, engine: Engine, listen: str) -> Component:
    """uvicorn serving the web app until stop is set."""
    host, port = split_hostport(listen, 8000)
    config = uvicorn.Config(
        create_app(settings, engine),
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        server_header=False,
        **forwarded_options(settings),  # X-Forwarded-For only from web.trusted_proxies
    )
    server = uvicorn.Server(config)

    async def run(stop: asyncio.Event) -> None:
        serving = asyncio.create_task(server.serve())
        await stop.wait()
        server.should_exit = True
        await serving

    log.info("web on http://%s:%s", host, port)
    return run


def worker_component(
    settings: Settings,
    engine: Engine,
    wake: asyncio.Event,
    *,
    transport: Transport | None = None,
    idle_seconds: float = loop.IDLE_SECONDS,
) -> Component:
    """The worker draining every queue, woken at once when inbound mail is stored."""

    async def run(stop: asyncio.Event) -> None:
        worker = build_worker(settings, engine, transport=transport)
        log.info("worker running (transport %s)", settings.outbound.transport)
        await loop.forever(worker, stop, wake=wake, idle_seconds=idle_seconds)

    return run


def scheduler_component(settings: Settings, engine: Engine) -> Component:
    """The campaign scheduler (APScheduler), until stop is set."""

    async def run(stop: asyncio.Event) -> None:
        scheduler = build_scheduler(settings, engine)
        scheduler.start()
        try:
            await stop.wait()
        finally:
            scheduler.shutdown(wait=False)

    return run


def inbound_components(
    settings: Settings, engine: Engine, wake: asyncio.Event, *, smtp: str | None
) -> list[Component]:
    """The SMTP listener (on `smtp`, else inbound.smtp_listen when enabled) and the IMAP
    pollers (when mailboxes are configured); they store mail and set `wake`."""
    found: list[Component] = []
    listen = smtp or (settings.inbound.smtp_listen if settings.inbound.smtp_enabled else None)
    if listen:
        found.append(lambda stop: run_listener(settings, engine, listen, stop, wake))
    boxes = list(settings.inbound.imap)
    if boxes:
        found.append(lambda stop: run_imap_pollers(settings, engine, boxes, stop, wake))
    return found


def components(
    settings: Settings, engine: Engine, *, web: str, smtp: str | None
) -> list[Component]:
    """Everything `mailflow up` runs, in start order."""
    wake = asyncio.Event()
    return [
        web_component(settings, engine, web),
        *inbound_components(settings, engine, wake, smtp=smtp),
        worker_component(settings, engine, wake),
        scheduler_component(settings, engine),
    ]


async def run_components(parts: list[Component]) -> None:
    """Run components until SIGINT/SIGTERM or until one of them fails."""
    stop = asyncio.Event()
    running = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        running.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(part(stop)) for part in parts]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            raise result


def run_service(settings: Settings, engine: Engine, *, web: str, smtp: str | None) -> None:
    """Block running every component; returns on Ctrl+C or SIGTERM."""
    asyncio.run(run_components(components(settings, engine, web=web, smtp=smtp)))


def run_worker(settings: Settings, engine: Engine) -> None:
    """Block running the worker alone (`mailflow worker`); returns on Ctrl+C or SIGTERM."""
    asyncio.run(run_components([worker_component(settings, engine, asyncio.Event())]))


def run_listener_only(settings: Settings, engine: Engine, *, smtp: str | None) -> None:
    """Block running the SMTP listener and the inbound drainer for what it stores, nothing
    else (`mailflow listen`); returns on Ctrl+C or SIGTERM."""
    wake = asyncio.Event()
    only_smtp = settings.model_copy(
        update={"inbound": settings.inbound.model_copy(update={"imap": [], "smtp_enabled": True})}
    )

    async def inbound_only(stop: asyncio.Event) -> None:
        outbox = Outbox.open(settings, engine)
        worker = loop.Worker(outbox, [loop.in_thread(inbound_worker.drain, settings, engine)])
        await loop.forever(worker, stop, wake=wake)

    listeners = inbound_components(only_smtp, engine, wake, smtp=smtp)
    asyncio.run(run_components([*listeners, inbound_only]))

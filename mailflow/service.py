"""The assembly: which components a Mailflow process runs and which queues its worker drains.

Everything the long-running service (`mailflow up`, `mailflow worker`, `mailflow listen`) is
made of is named here, once, in order: the web app, the SMTP listener, the IMAP pollers, the
worker with its ordered queue drainers (inbound answers, escalation filing, survey requests,
notifications, expiry, webhooks) and the campaign scheduler. The areas themselves know nothing
of each other's loops; a component is an async function taking the stop event.

Which of them a process runs is its role set (`mailflow up --role web,worker`, default all four:
web, listener, worker, scheduler), so several hosts can share one PostgreSQL database: N web
hosts behind a proxy, M workers, one scheduler (a second is harmless: the unique run key).

Components are supervised (`run_components`): one that crashes is logged and restarted with
backoff, and the others go on; only a signal stops them all. Their states, with the relay's,
are kept in the process's Health, which /healthz and /metrics read.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Awaitable, Callable

import uvicorn
from sqlalchemy import Engine

from mailflow import webhooks
from mailflow.escalation import filing, reminders
from mailflow.health import Health
from mailflow.inbound import worker as inbound_worker
from mailflow.inbound.component import run_imap_pollers, run_listener
from mailflow.inbound.prune import prune_raw
from mailflow.outbox import loop
from mailflow.outbox.scheduler import build_scheduler, catch_up
from mailflow.outbox.transports import Transport
from mailflow.outbox.worker import Outbox
from mailflow.settings import Settings, split_hostport
from mailflow.survey_store import follow as follow_surveys
from mailflow.telegram import outbox as telegram_outbox
from mailflow.telegram.component import telegram_components
from mailflow.web.app import create_app
from mailflow.web.context import forwarded_options

log = logging.getLogger(__name__)
Component = Callable[[asyncio.Event], Awaitable[None]]
RESTART_FIRST_SECONDS = 1.0
RESTART_MAX_SECONDS = 60.0
PRUNE_EVERY_SECONDS = 3600.0
ROLES = ("web", "listener", "worker", "scheduler")


class UnknownRole(ValueError):
    """A --role value that is not one of ROLES (or roles that leave nothing to run)."""


def parse_roles(text: str | None) -> frozenset[str]:
    """The role set named by a comma-separated list ("web,worker"); None or "all" is every role.

    Raises UnknownRole naming the first unknown one, and for an empty list."""
    if text is None or text.strip().lower() == "all":
        return frozenset(ROLES)
    chosen = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not chosen:
        raise UnknownRole(f"no role given; choose from {', '.join(ROLES)}")
    for role in chosen:
        if role not in ROLES:
            raise UnknownRole(f"unknown role '{role}'; choose from {', '.join(ROLES)}")
    return frozenset(chosen)


def queue_drainers(settings: Settings, engine: Engine, outbox: Outbox) -> list[loop.Step]:
    """The queues one worker pass drains, in order: inbound answers, then the escalations they
    opened, then the survey mail, the notifications and webhooks those queued, then expiry."""
    counted = functools.partial(inbound_worker.drain, health=outbox.health)
    return [
        loop.in_thread(follow_surveys, settings, engine),  # survey versions saved elsewhere
        loop.in_thread(counted, settings, engine),
        loop.in_thread(filing.drain, settings, engine),
        loop.in_thread(reminders.drain, settings, engine),
        *loop.outbox_steps(outbox),
        loop.in_thread(webhooks.drain, settings, engine),
        loop.in_thread(telegram_outbox.drain, settings, engine),
    ]


def build_worker(
    settings: Settings,
    engine: Engine,
    *,
    transport: Transport | None = None,
    health: Health | None = None,
) -> loop.Worker:
    """A worker over every queue, sending through `transport` (default: the configured one)."""
    outbox = Outbox.open(settings, engine, transport, health=health)
    return loop.Worker(outbox, queue_drainers(settings, engine, outbox))


def run_until_empty(
    settings: Settings, engine: Engine, *, transport: Transport | None = None
) -> int:
    """Drain every queue until nothing is due (`mailflow worker --until-empty`, tests)."""
    return asyncio.run(loop.until_empty(build_worker(settings, engine, transport=transport)))


def web_component(
    settings: Settings, engine: Engine, listen: str, *, health: Health | None = None
) -> Component:
    """uvicorn serving the web app until stop is set (a fresh server on each restart)."""
    host, port = split_hostport(listen, 8000)
    app = create_app(settings, engine, health=health)

    async def run(stop: asyncio.Event) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="on",
            server_header=False,
            **forwarded_options(settings),  # X-Forwarded-For only from web.trusted_proxies
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait([serving, stopping], return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        stopping.cancel()
        await serving
        if not stop.is_set():
            raise RuntimeError(f"the web server on {host}:{port} stopped by itself")

    log.info("web on http://%s:%s", host, port)
    return run


def worker_component(
    settings: Settings,
    engine: Engine,
    wake: asyncio.Event,
    *,
    transport: Transport | None = None,
    idle_seconds: float = loop.IDLE_SECONDS,
    health: Health | None = None,
) -> Component:
    """The worker draining every queue, woken at once when inbound mail is stored."""

    async def run(stop: asyncio.Event) -> None:
        worker = build_worker(settings, engine, transport=transport, health=health)
        log.info("worker running (transport %s)", settings.outbound.transport)
        await loop.forever(worker, stop, wake=wake, idle_seconds=idle_seconds)

    return run


def scheduler_component(settings: Settings, engine: Engine) -> Component:
    """The campaign scheduler (APScheduler), until stop is set; runs missed while nothing was
    up are caught up first (within outbound.campaign_grace_hours). It also prunes raw inbound
    mail past inbound.keep_raw_days, at start and hourly."""

    async def run(stop: asyncio.Event) -> None:
        await asyncio.to_thread(catch_up, settings, engine)
        scheduler = build_scheduler(settings, engine)
        scheduler.start()
        try:
            while not stop.is_set():  # housekeeping: raw inbound mail past inbound.keep_raw_days
                pruned = await asyncio.to_thread(prune_raw, settings, engine)
                if pruned:
                    log.info("pruned the raw mail of %d inbound message(s)", pruned)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=PRUNE_EVERY_SECONDS)
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
    settings: Settings,
    engine: Engine,
    *,
    web: str,
    smtp: str | None,
    health: Health | None = None,
    roles: frozenset[str] = frozenset(ROLES),
) -> list[Component]:
    """What `mailflow up` runs for `roles`, in start order; they share one Health. The
    listener stores mail and wakes this process's worker; without one, another host's worker
    finds it on its next pass."""
    wake = asyncio.Event()
    health = health or Health()
    health.roles = frozenset(roles)
    found: list[Component] = []
    if "web" in roles:
        found.append(named("web", web_component(settings, engine, web, health=health)))
    if "listener" in roles:
        listeners = inbound_components(settings, engine, wake, smtp=smtp)
        found += [named("inbound", part) for part in listeners]
    if "worker" in roles:
        found.append(named("worker", worker_component(settings, engine, wake, health=health)))
    if "listener" in roles:  # Telegram updates (polling, or setWebhook once) come in here
        found += [named("telegram", part) for part in telegram_components(settings, engine)]
    if "scheduler" in roles:
        found.append(named("scheduler", scheduler_component(settings, engine)))
    return found


def named(name: str, part: Component) -> Component:
    """`part`, known by `name` in logs and /healthz."""
    part.__name__ = name
    return part


async def supervise(
    part: Component,
    stop: asyncio.Event,
    health: Health,
    *,
    first_delay: float = RESTART_FIRST_SECONDS,
    max_delay: float = RESTART_MAX_SECONDS,
) -> None:
    """Run `part` until stop is set; each crash (or unasked return) is logged and the part
    restarted after a backoff that doubles up to `max_delay` (and starts over once it has
    run for `max_delay`)."""
    name = getattr(part, "__name__", "component")
    running = asyncio.get_running_loop()
    delay = first_delay
    while not stop.is_set():
        health.set_component(name, "running")
        started = running.time()
        try:
            await part(stop)
        except (Exception, SystemExit) as exc:  # uvicorn exits when it cannot bind
            error = f"{exc.__class__.__name__}: {exc}"
            log.exception("component %s crashed; restarting in %.1f s", name, delay)
        else:
            if stop.is_set():
                break
            error = "returned by itself"
            log.error("component %s stopped by itself; restarting in %.1f s", name, delay)
        if running.time() - started >= max_delay:
            delay = first_delay
        health.set_component(name, "restarting", error)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
        delay = min(delay * 2, max_delay)
    health.set_component(name, "stopped")


async def run_components(
    parts: list[Component], *, health: Health | None = None, stop: asyncio.Event | None = None
) -> None:
    """Run components, each supervised, until SIGINT/SIGTERM (or `stop` is set)."""
    stop = stop or asyncio.Event()
    health = health or Health()
    running = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(RuntimeError, ValueError):  # not the main thread (tests)
            running.add_signal_handler(sig, stop.set)
    await asyncio.gather(*(supervise(part, stop, health) for part in parts))


def run_service(
    settings: Settings,
    engine: Engine,
    *,
    web: str,
    smtp: str | None,
    roles: frozenset[str] = frozenset(ROLES),
) -> None:
    """Block running the components of `roles`; returns on Ctrl+C or SIGTERM."""
    health = Health()
    parts = components(settings, engine, web=web, smtp=smtp, health=health, roles=roles)
    if not parts:  # only `listener`, with SMTP disabled and no IMAP mailbox
        raise UnknownRole(
            "nothing to run: the listener role has no SMTP listener (inbound.smtp_enabled) "
            "and no IMAP mailbox (inbound.imap)"
        )
    asyncio.run(run_components(parts, health=health))


def run_worker(settings: Settings, engine: Engine) -> None:
    """Block running the worker alone (`mailflow worker`); returns on Ctrl+C or SIGTERM."""
    worker = named("worker", worker_component(settings, engine, asyncio.Event()))
    asyncio.run(run_components([worker]))


def run_listener_only(settings: Settings, engine: Engine, *, smtp: str | None) -> None:
    """Block running the SMTP listener and the inbound drainer for what it stores, nothing
    else (`mailflow listen`); returns on Ctrl+C or SIGTERM."""
    wake = asyncio.Event()
    only_smtp = settings.model_copy(
        update={"inbound": settings.inbound.model_copy(update={"imap": [], "smtp_enabled": True})}
    )

    @functools.partial(named, "inbound-worker")
    async def inbound_only(stop: asyncio.Event) -> None:
        outbox = Outbox.open(settings, engine)
        worker = loop.Worker(outbox, [loop.in_thread(inbound_worker.drain, settings, engine)])
        await loop.forever(worker, stop, wake=wake)

    listeners = inbound_components(only_smtp, engine, wake, smtp=smtp)
    asyncio.run(run_components([*listeners, inbound_only]))

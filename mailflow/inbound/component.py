"""Inbound inside `mailflow up`: the SMTP listener and one IMAP poller thread per mailbox.

Stored mail is processed by the outbox worker loop, which calls
`mailflow.inbound.worker.drain`. When that loop is not part of the service (`mailflow listen`,
or an installation without the outbox), this component runs its own small drain loop, woken
as soon as something is stored. Two drains never process one message twice (the worker claims
rows with a conditional UPDATE), so both running at once would be safe, only wasteful.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import threading
from collections.abc import Awaitable, Callable

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from mailflow.settings import Settings

log = logging.getLogger(__name__)
Component = Callable[[asyncio.Event], Awaitable[None]]
DRAIN_EVERY_SECONDS = 5.0


def outbox_drains_inbound() -> bool:
    """Whether `mailflow up` has the outbox worker loop, which drains inbound mail too."""
    return importlib.util.find_spec("mailflow.outbox.loop") is not None


def component(
    settings: Settings, engine: Engine, *, smtp: str | None, drain: bool | None = None
) -> Component | None:
    """The inbound component, or None when neither SMTP nor IMAP is configured.

    `drain`: run our own drain loop (default: only when the outbox loop does not).
    """
    from mailflow.service import split_hostport

    if drain is None:
        drain = not outbox_drains_inbound()

    listen = smtp or (settings.inbound.smtp_listen if settings.inbound.smtp_enabled else None)
    if not listen and not settings.inbound.imap:
        return None

    async def run(stop: asyncio.Event) -> None:
        from mailflow.inbound.imap import ImapPoller
        from mailflow.inbound.listener import start_listener

        loop = asyncio.get_running_loop()
        wake = asyncio.Event()

        def poke() -> None:
            loop.call_soon_threadsafe(wake.set)

        server = None
        if listen:
            host, port = split_hostport(listen, 2525)
            server = await start_listener(settings, engine, host, port, on_stored=wake.set)
        thread_stop = threading.Event()
        threads = [
            threading.Thread(
                target=ImapPoller(settings, engine, box, on_stored=poke).run,
                args=(thread_stop,),
                name=f"imap-{box.name}",
                daemon=True,
            )
            for box in settings.inbound.imap
        ]
        for thread in threads:
            thread.start()
        drainer = asyncio.create_task(
            drain_loop(settings, engine, stop, wake) if drain else stop.wait()
        )
        try:
            await stop.wait()
        finally:
            thread_stop.set()
            if server is not None:
                await server.close()
            await drainer
            for thread in threads:
                await asyncio.to_thread(thread.join, 10)

    return run


async def drain_loop(
    settings: Settings, engine: Engine, stop: asyncio.Event, wake: asyncio.Event
) -> None:
    """Process received mail when told something arrived, and every few seconds anyway."""
    from mailflow.inbound.worker import run_until_empty

    while not stop.is_set():
        wake.clear()  # before the round: mail stored during it wakes the next one at once
        try:
            await asyncio.to_thread(run_until_empty, settings, engine)
        except SQLAlchemyError as exc:  # the database is away: try again on the next round
            log.warning("inbound worker: %s", exc)
        waits = [asyncio.create_task(stop.wait()), asyncio.create_task(wake.wait())]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait(
                waits, timeout=DRAIN_EVERY_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
        for waiting in waits:
            waiting.cancel()

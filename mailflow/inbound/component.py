"""Inbound inside the service: the SMTP listener and one IMAP poller thread per mailbox.

They only store mail (accept, store, acknowledge) and set `wake` when something was stored;
the worker's inbound drainer processes it (mailflow.service puts the two together).
"""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import Engine

from mailflow.inbound.imap import ImapPoller
from mailflow.inbound.listener import start_listener
from mailflow.settings import ImapMailbox, Settings, split_hostport


async def run_listener(
    settings: Settings, engine: Engine, listen: str, stop: asyncio.Event, wake: asyncio.Event
) -> None:
    """The SMTP listener on `listen` (HOST:PORT) until `stop` is set."""
    host, port = split_hostport(listen, 2525)
    server = await start_listener(settings, engine, host, port, on_stored=wake.set)
    try:
        await stop.wait()
    finally:
        await server.close()


async def run_imap_pollers(
    settings: Settings,
    engine: Engine,
    boxes: list[ImapMailbox],
    stop: asyncio.Event,
    wake: asyncio.Event,
) -> None:
    """One poller thread per mailbox until `stop` is set."""
    loop = asyncio.get_running_loop()

    def poke() -> None:
        loop.call_soon_threadsafe(wake.set)

    thread_stop = threading.Event()
    threads = [
        threading.Thread(
            target=ImapPoller(settings, engine, box, on_stored=poke).run,
            args=(thread_stop,),
            name=f"imap-{box.name}",
            daemon=True,
        )
        for box in boxes
    ]
    for thread in threads:
        thread.start()
    try:
        await stop.wait()
    finally:
        thread_stop.set()
        for thread in threads:
            await asyncio.to_thread(thread.join, 10)

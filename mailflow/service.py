"""The long-running service behind `mailflow up`: one asyncio loop running every component.

A component is an async function taking the stop event; the web server is one of them. Each
area (outbox worker and scheduler, SMTP listener, IMAP poller) contributes its own component
through `components()`, so this file stays an assembly.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

import uvicorn
from sqlalchemy import Engine

from mailflow.settings import Settings

log = logging.getLogger(__name__)
Component = Callable[[asyncio.Event], Awaitable[None]]


def split_hostport(value: str, default_port: int) -> tuple[str, int]:
    """'127.0.0.1:8000' -> ('127.0.0.1', 8000)."""
    host, _, port = value.rpartition(":")
    if not host:
        return value, default_port
    return host.strip("[]"), int(port)


def web_component(settings: Settings, engine: Engine, listen: str) -> Component:
    """uvicorn serving the web app until stop is set."""
    from mailflow.web.app import create_app

    host, port = split_hostport(listen, 8000)
    config = uvicorn.Config(
        create_app(settings, engine),
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        server_header=False,
    )
    server = uvicorn.Server(config)

    async def run(stop: asyncio.Event) -> None:
        serving = asyncio.create_task(server.serve())
        await stop.wait()
        server.should_exit = True
        await serving

    log.info("web on http://%s:%s", host, port)
    return run


def components(
    settings: Settings, engine: Engine, *, web: str, smtp: str | None
) -> list[Component]:
    """Every component `mailflow up` runs, in start order."""
    found: list[Component] = [web_component(settings, engine, web)]
    for factory in extra_component_factories():
        component = factory(settings, engine, smtp=smtp)
        if component is not None:
            found.append(component)
    return found


def extra_component_factories() -> list[Callable[..., Component | None]]:
    """Components of the other areas, imported lazily so a missing one cannot break start-up."""
    factories: list[Callable[..., Component | None]] = []
    for module_name in ("mailflow.outbox.component", "mailflow.inbound.component"):
        try:
            module = __import__(module_name, fromlist=["component"])
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue
            raise
        factories.append(module.component)
    return factories


async def run_components(parts: list[Component]) -> None:
    """Run components until SIGINT/SIGTERM or until one of them fails."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
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

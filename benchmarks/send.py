"""send: survey requests through the whole outbox vs raw aiosmtplib, to one aiosmtpd sink.

Ours: N due requests in a SQLite file; `run_until_empty` claims, renders, sends over SMTP and
marks each one sent. Baseline: the same N messages, rendered beforehand, sent by plain
aiosmtplib over the same number of connections. Both go to an aiosmtpd server on loopback
running in its own process. Ratio = baseline time / our time (1.0 = no overhead). The machine
may be shared, so both sides run in several interleaved rounds (a fresh database each round)
and the round with the median ratio is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import socket
import string
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiosmtplib

from mailflow.render import Recipient, Renderer, new_message_id
from mailflow.service import run_until_empty
from mailflow.settings import Settings, load_settings
from storage.engine import make_engine
from storage.migrate import upgrade

TARGET = 0.7
CONCURRENCY = 4


class _Accept:
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 OK"


def _sink(port: int, ready, stop) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(
        _Accept(), hostname="127.0.0.1", port=port, server_hostname="sink.bench", ready_timeout=10
    )
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _settings(directory: Path, port: int) -> Settings:
    template = resources.files("mailflow").joinpath("example_config.toml").read_text("utf-8")
    config = directory / "mailflow.toml"
    config.write_text(string.Template(template).substitute(secret="b" * 40), encoding="utf-8")
    settings = load_settings(config)
    outbound = settings.outbound.model_copy(
        update={
            "transport": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
            "concurrency": CONCURRENCY,
            "batch_size": 200,
            "cap_days": 0,
        }
    )
    return settings.model_copy(
        update={"database_url": f"sqlite:///{directory / 'bench.db'}", "outbound": outbound}
    )


def _seed(settings: Settings, count: int, round_no: int = 0):
    """A fresh database for one round with `count` due requests."""
    from tests.outbound.seed import seed_due_requests

    url = settings.database_url.replace("bench.db", f"bench{round_no}.db")
    engine = make_engine(url)
    upgrade(engine)
    seed_due_requests(engine, count)
    return engine


def _prerendered(settings: Settings, count: int) -> list[tuple[str, bytes]]:
    renderer = Renderer(settings)
    survey = settings.survey("csat")
    messages = []
    for i in range(count):
        who = Recipient(request_id=i + 1, email=f"client{i}@example.com", name=f"Client {i}")
        raw = renderer.render(survey, who, locale="en", message_id=new_message_id("bench"))
        messages.append((who.email, raw))
    return messages


async def _raw_send(port: int, messages: list[tuple[str, bytes]]) -> None:
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    for item in messages:
        queue.put_nowait(item)

    async def connection() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await client.connect()
        while not queue.empty():
            rcpt, raw = queue.get_nowait()
            await client.sendmail("survey@reply.localhost", [rcpt], raw)
        await client.quit()

    await asyncio.gather(*(connection() for _ in range(CONCURRENCY)))


def _round(settings: Settings, port: int, messages: list, round_no: int) -> tuple[float, float]:
    """(baseline seconds, our seconds) for one round; the order alternates between rounds."""
    count = len(messages)
    engine = _seed(settings, count, round_no)
    times: dict[str, float] = {}

    def baseline() -> None:
        started = time.perf_counter()
        asyncio.run(_raw_send(port, messages))
        times["baseline"] = time.perf_counter() - started

    def ours() -> None:
        started = time.perf_counter()
        processed = run_until_empty(settings, engine)
        times["ours"] = time.perf_counter() - started
        if processed != count:
            raise SystemExit(f"the outbox processed {processed} of {count} requests")

    for step in (baseline, ours) if round_no % 2 == 0 else (ours, baseline):
        step()
    engine.dispose()
    return times["baseline"], times["ours"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 requests instead of 5,000")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    args = parser.parse_args()
    count = 1000 if args.quick else 5000
    logging.basicConfig(level=logging.WARNING)
    port = _free_port()
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    sink = context.Process(target=_sink, args=(port, ready, stop), daemon=True)
    sink.start()
    if not ready.wait(30):
        raise SystemExit("the SMTP sink did not start")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = _settings(Path(tmp), port)
            messages = _prerendered(settings, count)
            rounds = [_round(settings, port, messages, n) for n in range(max(args.rounds, 1))]
    finally:
        stop.set()
        sink.join(10)
    rounds.sort(key=lambda r: r[0] / r[1])
    baseline, ours = rounds[len(rounds) // 2]
    print(
        f"raw aiosmtplib (pre-rendered): {count} messages in {baseline:.2f}s "
        f"({count / baseline:.0f}/s)"
    )
    print(
        f"outbox (claim+render+send+mark): {count} requests in {ours:.2f}s ({count / ours:.0f}/s)"
    )
    print(f"send: ratio {baseline / ours:.2f} (target >= {TARGET})")


if __name__ == "__main__":
    main()

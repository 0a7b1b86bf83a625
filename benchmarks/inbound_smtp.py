"""Messages per second stored by Mailflow's SMTP listener (raw bytes stored and committed before
250) against a bare aiosmtpd handler that discards, same run, same message mix, same clients.

    python benchmarks/inbound_smtp.py [--quick] [--messages N] [--clients C]

Both servers run on loopback in a thread (aiosmtpd's Controller); clients are aiosmtplib
sessions sending over persistent connections. Our listener writes to a SQLite file (the
default deployment). Prints per-run figures and, last, `inbound_smtp: ratio R (target >= 0.5)`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosmtplib
from aiosmtpd.controller import Controller

from mailflow.database import open_engine
from mailflow.inbound.listener import ThreadedListener
from mailflow.settings import Settings

SERVER_NAME = "reply.localhost"


class Discard:
    """The baseline: accept every recipient, throw the data away."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 OK"


def message_mix(count: int, run: str) -> list[bytes]:
    """Replies, HTML replies, Google Form notifications and a few with attachments."""
    plain = (
        "From: Anna Kowalska <anna{n}@example.com>\r\nTo: survey+{tok}@reply.localhost\r\n"
        "Subject: Re: How did we do?\r\nMessage-ID: <{run}-{n}@mail.example.com>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "9, thank you! Quick and friendly.\r\n\r\nOn Mon, Acme wrote:\r\n"
        + "> How likely are you to recommend us?\r\n"
        * 20
    )
    html = (
        "From: Иван <ivan{n}@example.ru>\r\nTo: survey+{tok}@reply.localhost\r\n"
        "Subject: Re: Оцените нашу работу\r\nMessage-ID: <{run}-{n}@mail.example.ru>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        "<html><body><p>Оценка 5, спасибо!</p>"
        + "<blockquote><p>Насколько вы довольны?</p></blockquote>\r\n" * 80
        + "</body></html>\r\n"
    )
    form = (
        "From: Google Forms <forms-receipts-noreply@google.com>\r\nTo: forms@reply.localhost\r\n"
        "Subject: Service quality: new response\r\nMessage-ID: <{run}-{n}@docs.google.com>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nHow fast did we solve it?\r\nSlow\r\n"
        "How good was the work?\r\nBad\r\n\r\nReference\r\n{tok}\r\n"
    )
    attachment = (
        "From: Piotr <piotr{n}@example.pl>\r\nTo: survey+{tok}@reply.localhost\r\n"
        "Subject: Re: Ocena\r\nMessage-ID: <{run}-{n}@mail.example.pl>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        "Content-Type: text/plain; charset=utf-8\r\n\r\nocena: 4, w załączniku zrzut ekranu\r\n"
        "--b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + (
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
            + "\r\n"
        )
        * 600
        + "--b--\r\n"
    )
    shapes = [plain] * 6 + [html] * 2 + [form] + [attachment]
    token = "abcdefghijklmnopqrstuvwxyz234567"
    return [
        shapes[n % len(shapes)].format(n=n, run=run, tok=token).encode("utf-8")
        for n in range(count)
    ]


async def blast(port: int, messages: list[bytes], clients: int) -> float:
    """Send every message over `clients` persistent sessions; messages per second."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for raw in messages:
        queue.put_nowait(raw)

    async def client() -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60, start_tls=False)
        await smtp.connect()
        try:
            while not queue.empty():
                raw = queue.get_nowait()
                errors, reply = await smtp.sendmail(
                    "sender@example.com", ["survey@reply.localhost"], raw
                )
                if errors or "OK" not in reply:
                    raise RuntimeError(f"refused: {errors} {reply}")
        finally:
            await smtp.quit()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return len(messages) / (time.perf_counter() - started)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_baseline(messages: list[bytes], clients: int) -> float:
    port = free_port()
    controller = Controller(
        Discard(),
        hostname="127.0.0.1",
        port=port,
        server_hostname=SERVER_NAME,
        data_size_limit=25 * 1024 * 1024,
    )
    controller.start()
    try:
        return asyncio.run(blast(port, messages, clients))
    finally:
        controller.stop()


def run_mailflow(messages: list[bytes], clients: int, workdir: Path, run: str) -> float:
    settings = Settings(
        secret_keys=["benchmark-key-0123456789abcdef0123456789"],
        database_url=f"sqlite:///{workdir / f'{run}.db'}",
    )
    engine = open_engine(settings)
    port = free_port()
    listener = ThreadedListener(settings, engine, "127.0.0.1", port)
    listener.start()
    try:
        rate = asyncio.run(blast(port, messages, clients))
    finally:
        listener.stop()
    with engine.connect() as connection:
        from sqlalchemy import text

        stored = connection.execute(text("SELECT count(*) FROM inboundmessage")).scalar()
    engine.dispose()
    if stored != len(messages):
        raise RuntimeError(f"stored {stored} of {len(messages)} messages")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer messages (< 1 minute)")
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    count = args.messages or (400 if args.quick else 2000)
    rounds = args.rounds or (1 if args.quick else 5)
    base_rates, our_rates = [], []
    with tempfile.TemporaryDirectory(prefix="mailflow-bench-") as tmp:
        run_baseline(message_mix(50, "warm"), args.clients)  # warm imports and sockets
        for n in range(rounds):  # interleaved, so drift in the machine hits both alike
            messages = message_mix(count, f"r{n}")
            base_rates.append(run_baseline(messages, args.clients))
            our_rates.append(run_mailflow(messages, args.clients, Path(tmp), f"r{n}"))
            print(
                f"round {n + 1}: bare aiosmtpd {base_rates[-1]:.0f} msg/s, "
                f"mailflow listener (stored + committed) {our_rates[-1]:.0f} msg/s"
            )
    base, ours = statistics.median(base_rates), statistics.median(our_rates)
    size = sum(len(m) for m in message_mix(count, "x")) / count
    print(f"{count} messages (mean {size / 1024:.1f} KiB), {args.clients} clients, {rounds} rounds")
    print(f"baseline: bare aiosmtpd handler that discards: {base:.0f} msg/s (median)")
    print(f"mailflow: listener storing in SQLite, commit before 250: {ours:.0f} msg/s (median)")
    print(f"inbound_smtp: ratio {ours / base:.2f} (target >= 0.5)")


if __name__ == "__main__":
    main()

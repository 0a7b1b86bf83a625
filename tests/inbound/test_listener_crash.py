"""kill -9 of `mailflow listen` in the middle of a stream of replies: every message that got
a 250 is stored exactly once (counted by SHA-256), and a sender's retry after the restart
stores nothing twice. Bounded: at most 4 x 60 messages, each wait capped."""

from __future__ import annotations

import hashlib
import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import text

from storage.engine import make_engine
from storage.migrate import upgrade
from tests.support.policy import free_port

CLIENTS = 4
PER_CLIENT = 60
KILL_AFTER = 40  # acknowledged messages before the kill: the stream is still running then


def reply(client: int, n: int) -> bytes:
    return (
        f"From: client{client}@example.com\r\nTo: survey@reply.localhost\r\n"
        f"Subject: Re: How did we do?\r\nMessage-ID: <crash-{client}-{n}@example.com>\r\n\r\n"
        f"{n % 10}, reply {n} of client {client}\r\n"
    ).encode()


def listen(workdir: Path, db_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILFLOW_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    env["MAILFLOW_DATABASE_URL"] = db_url
    process = subprocess.Popen(
        [sys.executable, "-m", "mailflow", "listen", "--smtp", f"127.0.0.1:{port}"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while True:  # until it answers SMTP (each try waits for the connection, not a sleep)
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as probe:
                probe.noop()
            return process
        except OSError:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read().decode()) from None
            assert time.monotonic() < deadline, "mailflow listen did not start"
            try:  # wait a moment for the process (returns at once if it dies)
                process.wait(0.05)
            except subprocess.TimeoutExpired:
                continue


def stop(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait(20)
    process.stderr.close()  # type: ignore[union-attr]


def stored(db_url: str) -> dict[str, int]:
    """sha256 -> how many rows hold it, after checking each row's bytes still hash to it."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT sha256, raw FROM inboundmessage")).all()
    finally:
        engine.dispose()
    counts: dict[str, int] = {}
    for sha, raw in found:
        assert hashlib.sha256(bytes(raw)).hexdigest() == sha  # no torn or half-written row
        counts[sha] = counts.get(sha, 0) + 1
    return counts


def test_kill_9_during_a_stream_keeps_every_acknowledged_message_once(config_file, db_url):
    workdir, port = config_file.parent, free_port()
    acked: list[bytes] = []
    lock, enough = threading.Lock(), threading.Event()

    def stream(client: int) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
                for n in range(PER_CLIENT):
                    raw = reply(client, n)
                    smtp.sendmail(f"client{client}@example.com", ["survey@reply.localhost"], raw)
                    with lock:  # sendmail returned: the listener answered 250
                        acked.append(raw)
                        if len(acked) >= KILL_AFTER:
                            enough.set()
        except (smtplib.SMTPException, OSError):
            pass  # the listener died under us: what was not acknowledged may be lost
        finally:
            enough.set()

    migrated = make_engine(db_url)  # `mailflow db upgrade`, as an operator runs it first
    try:
        upgrade(migrated)
    finally:
        migrated.dispose()
    process = listen(workdir, db_url, port)
    threads = [threading.Thread(target=stream, args=(c,)) for c in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        assert enough.wait(120)
        os.kill(process.pid, signal.SIGKILL)  # no shutdown, no flush: only what is committed
        for thread in threads:
            thread.join(60)
    finally:
        stop(process)
    assert KILL_AFTER <= len(acked) < CLIENTS * PER_CLIENT  # killed mid-stream

    counts = stored(db_url)
    shas = [hashlib.sha256(raw).hexdigest() for raw in acked]
    missing = [sha for sha in shas if sha not in counts]
    assert missing == [], f"{len(missing)} acknowledged message(s) lost"
    assert all(counts[sha] == 1 for sha in shas)
    assert all(count == 1 for count in counts.values())

    # The senders retry everything after a restart: the acknowledged ones are not stored
    # again, and every message ends up stored exactly once.
    process = listen(workdir, db_url, port)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            for client in range(CLIENTS):
                for n in range(PER_CLIENT):
                    smtp.sendmail("retry@example.com", ["survey@reply.localhost"], reply(client, n))
    finally:
        stop(process)
    counts = stored(db_url)
    assert len(counts) == CLIENTS * PER_CLIENT
    assert set(counts.values()) == {1}

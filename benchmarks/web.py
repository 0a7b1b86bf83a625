"""web: POST /r/{token} recording answers vs a bare FastAPI JSON route, same uvicorn setup.

The server is the app of `mailflow up` (create_app on a SQLite file, uvicorn as service.py
configures it) in its own process, with one extra route, GET /bench/json, returning a small
JSON body: the baseline. A bounded load generator (httpx.AsyncClient, a fixed number of
requests at a fixed concurrency, a time limit) on loopback first drives the baseline, then
POSTs one answer to each of N distinct survey requests (form-encoded, with the page's anti-
forgery field), each recorded by record_answer (Response, analytics rows, ticket comment).

Ratio = answer throughput / baseline throughput. Targets: ratio >= 0.5 and answer p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import string
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
CONCURRENCY = 8
TIME_LIMIT = 90.0
WARM_ANSWERS = 100


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_config(directory: Path) -> Path:
    template = resources.files("mailflow").joinpath("example_config.toml").read_text("utf-8")
    path = directory / "mailflow.toml"
    text = string.Template(template).substitute(secret="bench-secret-0123456789abcdef0123456789")
    path.write_text(text, encoding="utf-8")
    return path


def _environment(directory: Path, port: int) -> None:
    os.environ["MAILFLOW_DATABASE_URL"] = f"sqlite:///{directory / 'mailflow.db'}"
    os.environ["MAILFLOW_WEB__BASE_URL"] = f"http://127.0.0.1:{port}"
    os.environ["MAILFLOW_WEB__RATE_LIMIT_PER_MINUTE"] = "1000000000"  # one client address


def _serve(directory: str, port: int) -> None:
    """The server process: `mailflow up`'s web component plus the baseline route."""
    import logging

    import uvicorn
    from fastapi.responses import JSONResponse

    from mailflow.database import open_engine
    from mailflow.settings import load_settings
    from mailflow.web.app import create_app

    logging.disable(logging.WARNING)
    _environment(Path(directory), port)
    settings = load_settings(Path(directory) / "mailflow.toml")
    app = create_app(settings, open_engine(settings))

    @app.get("/bench/json")
    async def bare() -> JSONResponse:
        return JSONResponse({"status": "ok", "answer": 42})

    uvicorn.run(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", server_header=False
    )


def _prepare(directory: Path, port: int, count: int) -> list[tuple[str, dict[str, str]]]:
    """N sent csat requests; the (path, form) of one answer to each."""
    from sqlalchemy import insert

    from mailflow.database import open_engine
    from mailflow.settings import load_settings
    from mailflow.tokens import Purpose, signer_for
    from mailflow.web.csrf import form_field
    from storage.clock import utcnow
    from storage.engine import session_scope
    from storage.models import Contact, SurveyRequest, Task

    _environment(directory, port)
    settings = load_settings(directory / "mailflow.toml")
    engine = open_engine(settings)
    now = utcnow()
    with session_scope(engine) as session:
        session.execute(
            insert(Contact),
            [{"email": f"c{i}@example.com", "created_at": now} for i in range(count)],
        )
        session.execute(
            insert(Task),
            [
                {"kind": "ticket", "title": "t", "external_ref": f"T{i}", "created_at": now}
                for i in range(count)
            ],
        )
    with session_scope(engine) as session:
        contacts = session.exec(Contact.__table__.select().with_only_columns(Contact.id)).all()
        tickets = session.exec(Task.__table__.select().with_only_columns(Task.id)).all()
        rows = [
            {
                "survey_key": "csat",
                "dedupe_key": f"bench:{i}",
                "contact_id": c[0],
                "ticket_id": t[0],
                "locale": "en",
                "state": "sent",
                "due_at": now,
                "sent_at": now,
                "created_at": now,
                "attempts": 0,
            }
            for i, (c, t) in enumerate(zip(contacts, tickets, strict=True))
        ]
        session.execute(insert(SurveyRequest), rows)
    with session_scope(engine) as session:
        ids = [
            r[0]
            for r in session.exec(
                SurveyRequest.__table__.select().with_only_columns(SurveyRequest.id)
            )
        ]
    engine.dispose()
    signer = signer_for(settings)
    jobs = []
    for n, request_id in enumerate(ids):
        token = signer.sign(request_id, Purpose.LINK)
        form = {
            "a": str(1 + n % 5),
            "comment": "bench",
            "csrf": form_field(settings, token, "link"),
        }
        jobs.append((f"/r/{token}", form))
    return jobs


async def _drive(
    base: str, jobs: list[tuple[str, dict[str, str] | None]]
) -> tuple[float, list[float], int]:
    """Run `jobs` at CONCURRENCY; (seconds, latencies, failures)."""
    latencies: list[float] = []
    failures = 0
    queue = iter(jobs)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        deadline = time.monotonic() + TIME_LIMIT

        async def worker() -> None:
            nonlocal failures
            for path, form in queue:
                if time.monotonic() > deadline:
                    return
                started = time.perf_counter()
                if form is None:
                    reply = await client.get(path)
                else:
                    reply = await client.post(path, data=form)
                latencies.append(time.perf_counter() - started)
                if reply.status_code != 200:
                    failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - started, latencies, failures


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (< 1 minute)")
    parser.add_argument("--requests", type=int, default=None)
    args = parser.parse_args()
    count = args.requests or (800 if args.quick else 4000)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        _write_config(directory)
        port = _free_port()
        jobs = _prepare(directory, port, count + WARM_ANSWERS)
        warm, jobs = jobs[:WARM_ANSWERS], jobs[WARM_ANSWERS:]
        ctx = multiprocessing.get_context("spawn")
        server = ctx.Process(target=_serve, args=(tmp, port), daemon=True)
        server.start()
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"{base}/healthz", timeout=1).raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or not server.is_alive():
                        raise SystemExit("web: the server did not start") from None
                    time.sleep(0.05)
            # Warm up both routes: the first answers compile templates and statements.
            asyncio.run(_drive(base, [("/bench/json", None)] * 200))
            asyncio.run(_drive(base, list(warm)))
            bare_s, bare_lat, bare_fail = asyncio.run(_drive(base, [("/bench/json", None)] * count))
            post_s, post_lat, post_fail = asyncio.run(_drive(base, list(jobs)))
        finally:
            server.terminate()
            server.join(10)
    bare_rps, post_rps = len(bare_lat) / bare_s, len(post_lat) / post_s
    print(f"concurrency {CONCURRENCY}, {count} requests each, loopback, uvicorn in its own process")
    print(
        f"baseline GET /bench/json: {bare_rps:8.0f} req/s  p50 {_p(bare_lat, 0.5):5.1f} ms  "
        f"p99 {_p(bare_lat, 0.99):5.1f} ms  failures {bare_fail}"
    )
    print(
        f"answers  POST /r/TOKEN:   {post_rps:8.0f} req/s  p50 {_p(post_lat, 0.5):5.1f} ms  "
        f"p99 {_p(post_lat, 0.99):5.1f} ms  failures {post_fail}"
    )
    ratio = post_rps / bare_rps
    p99 = _p(post_lat, 0.99)
    target = f">= {TARGET_RATIO}, p99 {p99:.0f} ms < {TARGET_P99_MS:.0f} ms"
    print(f"web: ratio {ratio:.2f} (target {target})")


if __name__ == "__main__":
    main()

"""reports: the per-employee report on 1,000,000 answers in PostgreSQL vs a bare SQL GROUP BY.

Loads N answers (default 1,000,000; --quick 100,000) with INSERT … SELECT generate_series into
a private schema (dropped afterwards), then times, in the same run:

  ours  mailflow.reports.figures(by="employee") for the whole six months: three GROUP BY
        queries (answers, sent/answered, median wait) built by SQLAlchemy, plus Python merging;
  bare  one hand-written SQL GROUP BY computing the same counts (positive, negative, CSAT,
        NPS, CES, thumbs sums) and sent/answered, over the same rows.

It also prints the dashboard overview's time to first byte (uvicorn on loopback, signed in).
Last line: `reports: ratio R (target <= 3)` with R = ours / bare.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import socket
import statistics
import string
import sys
import tempfile
import threading
import time
from importlib import resources
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailflow.reports import build_filter, figures, survey_types
from mailflow.settings import load_settings
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade

BASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET = 3.0
EMPLOYEES, CONTACTS = 40, 20_000
SURVEYS = ("csat", "nps", "ces", "thumbs", "service_quality")

LOAD = [
    "INSERT INTO employee (id, name, email, team, notify_email, created_at) "
    "SELECT g, 'Agent ' || g, 'agent' || g || '@example.com', 'team' || (g % 5), true, now() "
    "FROM generate_series(1, :employees) g",
    "INSERT INTO contact (id, email, vip, created_at) "
    "SELECT g, 'c' || g || '@example.org', g % 50 = 0, now() FROM generate_series(1, :contacts) g",
    # requests: one in five never answered; sent every ~12 s over six months
    "INSERT INTO surveyrequest (id, survey_key, dedupe_key, contact_id, employee_id, locale, "
    "state, due_at, sent_at, answered_at, attempts, created_at) "
    "SELECT g, (ARRAY['csat','nps','ces','thumbs','service_quality'])[1 + g % 5], 'b' || g, "
    "1 + g % :contacts, 1 + (g * 7) % :employees, 'en', "
    "CASE WHEN g % 5 = 0 THEN 'expired' ELSE 'answered' END, "
    "TIMESTAMPTZ '2026-05-01 00:00+00' + g * :step * INTERVAL '1 second', "
    "TIMESTAMPTZ '2026-05-01 00:00+00' + g * :step * INTERVAL '1 second', "
    "CASE WHEN g % 5 = 0 THEN NULL ELSE TIMESTAMPTZ '2026-05-01 00:00+00' "
    "+ (g * :step + 60 + (g * 37) % 7200) * INTERVAL '1 second' END, 1, now() "
    "FROM generate_series(1, :requests) g",
    "INSERT INTO response (request_id, survey_key, score, answers, source, negative, weak_match, "
    "locked, created_at, updated_at) "
    "SELECT r.id, r.survey_key, s.score, '{}'::json, "
    "(ARRAY['link','amp','reply','google_form','web_form'])[1 + (r.id / 5) % 5], "
    "CASE r.survey_key WHEN 'csat' THEN s.score <= 2 WHEN 'nps' THEN s.score <= 6 "
    "WHEN 'ces' THEN s.score <= 3 WHEN 'thumbs' THEN s.score = 0 ELSE (r.id / 5) % 4 = 0 END, "
    "false, false, r.answered_at, r.answered_at "
    "FROM surveyrequest r CROSS JOIN LATERAL (SELECT CASE r.survey_key "
    "WHEN 'csat' THEN 1 + (r.id * 13 / 5) % 5 WHEN 'nps' THEN (r.id * 17 / 5) % 11 "
    "WHEN 'ces' THEN 1 + (r.id * 11 / 5) % 7 WHEN 'thumbs' THEN (r.id / 5) % 3 % 2 "
    "ELSE NULL END AS score) s WHERE r.answered_at IS NOT NULL",
]

BARE = """
SELECT q.employee_id,
  count(*) FILTER (WHERE NOT p.negative) AS positive,
  count(*) FILTER (WHERE p.negative) AS negative,
  count(*) FILTER (WHERE p.survey_key = 'csat' AND p.score IS NOT NULL) AS csat_n,
  count(*) FILTER (WHERE p.survey_key = 'csat' AND p.score >= 4) AS csat_top,
  count(*) FILTER (WHERE p.survey_key = 'nps' AND p.score IS NOT NULL) AS nps_n,
  count(*) FILTER (WHERE p.survey_key = 'nps' AND p.score >= 9) AS nps_promoters,
  count(*) FILTER (WHERE p.survey_key = 'nps' AND p.score <= 6) AS nps_detractors,
  count(*) FILTER (WHERE p.survey_key = 'ces' AND p.score IS NOT NULL) AS ces_n,
  sum(p.score) FILTER (WHERE p.survey_key = 'ces') AS ces_sum,
  count(*) FILTER (WHERE p.survey_key = 'thumbs' AND p.score IS NOT NULL) AS thumbs_n,
  count(*) FILTER (WHERE p.survey_key = 'thumbs' AND p.score = 1) AS thumbs_up
FROM response p JOIN surveyrequest q ON p.request_id = q.id
WHERE p.created_at >= :start AND p.created_at < :end
GROUP BY q.employee_id
"""
BARE_SENT = """
SELECT q.employee_id, count(*) AS sent, count(p.id) AS answered
FROM surveyrequest q LEFT JOIN response p ON p.request_id = q.id
WHERE q.sent_at >= :start AND q.sent_at < :end
GROUP BY q.employee_id
"""


def _settings(tmp: Path, url: str, port: int):
    template = resources.files("mailflow").joinpath("example_config.toml").read_text("utf-8")
    config = string.Template(template).substitute(secret="b" * 40)
    config = config.replace('database_url = "sqlite:///./mailflow.db"', f'database_url = "{url}"')
    config = config.replace(
        'base_url = "http://127.0.0.1:8000"', f'base_url = "http://127.0.0.1:{port}"'
    )
    path = tmp / "mailflow.toml"
    path.write_text(config, encoding="utf-8")
    return load_settings(path)


def _best(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def _ttfb(settings, engine) -> float:
    """Seconds to the first byte of GET /admin/dashboard (signed in), median of 3."""
    import re

    import httpx
    import uvicorn

    from mailflow.auth import create_user
    from mailflow.web.app import create_app

    with session_scope(engine) as session:
        create_user(session, "bench", "benchmark password 123", locale="en")
    port = int(settings.web.base_url.rsplit(":", 1)[1])
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        with httpx.Client(base_url=settings.web.base_url, timeout=120) as client:
            page = client.get("/admin/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            client.post(
                "/admin/login",
                data={
                    "csrf": csrf,
                    "username": "bench",
                    "password": "benchmark password 123",
                    "next": "/",
                },
            )
            samples = []
            for _ in range(3):
                started = time.perf_counter()
                with client.stream("GET", "/admin/dashboard") as answer:
                    next(answer.iter_raw())
                    samples.append(time.perf_counter() - started)
                    assert answer.status_code == 200, answer.status_code
            return statistics.median(samples)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 answers")
    parser.add_argument("--url", default=BASE_URL)
    args = parser.parse_args()
    answers = 100_000 if args.quick else 1_000_000
    requests = answers * 5 // 4
    step = 6 * 30 * 86400 // requests
    logging.basicConfig(level=logging.WARNING)
    schema = f"bench_reports_{secrets.token_hex(4)}"
    conninfo = make_url(args.url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    url = make_url(args.url).update_query_dict({"options": f"-csearch_path={schema}"})
    url_text = url.render_as_string(hide_password=False)
    engine = make_engine(url_text)
    try:
        upgrade(engine)
        started = time.perf_counter()
        with engine.begin() as conn:
            values = {
                "employees": EMPLOYEES,
                "contacts": CONTACTS,
                "requests": requests,
                "step": step,
            }
            for statement in LOAD:
                conn.execute(text(statement), values)
            conn.execute(text("ANALYZE"))
        with engine.connect() as conn:
            loaded = conn.execute(text("SELECT count(*) FROM response")).scalar_one()
        print(
            f"loaded {loaded:,} answers / {requests:,} requests in "
            f"{time.perf_counter() - started:.1f} s"
        )
        with tempfile.TemporaryDirectory() as tmp:
            settings = _settings(Path(tmp), url_text, _free_port())
        types = survey_types(settings)
        flt = build_filter(settings, date_from="2026-05-01", date_to="2026-10-31")
        bounds = {"start": flt.start, "end": flt.end}

        def ours() -> None:
            with Session(engine) as session:
                rows = figures(session, types, flt, by="employee")
                assert len(rows) == EMPLOYEES and sum(r.answers for r in rows) == loaded

        def bare() -> None:
            with engine.connect() as conn:
                rows = conn.execute(text(BARE), bounds).all()
                sent = conn.execute(text(BARE_SENT), bounds).all()
                assert sum(r.positive + r.negative for r in rows) == loaded and sent

        ours(), bare()  # warm caches and plans
        repeat = 5 if args.quick else 3
        ours_s, bare_s = _best(ours, repeat), _best(bare, repeat)
        print(f"per-employee report (ours, incl. median): {ours_s * 1000:.0f} ms")
        print(f"bare SQL GROUP BY (same counts):          {bare_s * 1000:.0f} ms")
        ttfb = _ttfb(settings, engine)
        print(f"dashboard overview time to first byte at {loaded:,} answers: {ttfb * 1000:.0f} ms")
        print(f"reports: ratio {ours_s / bare_s:.2f} (target <= {TARGET:g})")
    finally:
        engine.dispose()
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


if __name__ == "__main__":
    main()

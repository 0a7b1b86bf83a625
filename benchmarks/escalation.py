"""Escalation overhead: recording N negative answers against N positive ones through
record_answer, in the same run, on a SQLite file.

Each answer is its own transaction, as in the web and inbound workers. Positive and negative
batches of 25 alternate (so load from elsewhere hits both alike). A negative answer commits its
escalation with the answer; the worker then files it (subtask, manager email, webhook rows):
that filing is timed separately and reported, since it runs off the client's path. Last line:
`escalation: ratio R (target <= 1.2)`, R = the median of negative / positive batch times.
"""

from __future__ import annotations

import argparse
import string
import sys
import tempfile
import time
from datetime import timedelta
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import Session, select

from mailflow.answers import Answer, record_answer
from mailflow.escalation.filing import file_pending
from mailflow.settings import Settings, load_settings
from storage.clock import utcnow
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import (
    Contact,
    Employee,
    Escalation,
    Notification,
    SurveyRequest,
    Task,
    WebhookDelivery,
)

WEBHOOK = """
[[webhooks]]
url = "http://127.0.0.1:9/hooks"
secret = "bench-secret"
events = ["response.created", "response.negative", "escalation.created"]
"""


def _settings(directory: Path) -> Settings:
    template = resources.files("mailflow").joinpath("example_config.toml").read_text("utf-8")
    text = string.Template(template).substitute(secret="bench-" + "0" * 32) + WEBHOOK
    path = directory / "mailflow.toml"
    path.write_text(text, encoding="utf-8")
    settings = load_settings(path)
    return settings.model_copy(update={"database_url": f"sqlite:///{directory / 'bench.db'}"})


def _requests(engine, count: int, tag: str) -> list[int]:
    """`count` sent csat requests, each with its own contact, agent and ticket."""
    now = utcnow()
    with Session(engine, expire_on_commit=False) as session:
        contacts = [
            Contact(email=f"{tag}-{i}@example.com", name=f"Client {i}") for i in range(count)
        ]
        agents = [
            Employee(name=f"Agent {tag} {i}", email=f"agent-{tag}-{i}@example.com")
            for i in range(count)
        ]
        session.add_all(contacts + agents)
        session.flush()
        tickets = [
            Task(
                kind="ticket",
                title="Printer",
                external_ref=f"{tag}-{i}",
                contact_id=c.id,
                employee_id=a.id,
            )
            for i, (c, a) in enumerate(zip(contacts, agents, strict=True))
        ]
        session.add_all(tickets)
        session.flush()
        requests = [
            SurveyRequest(
                survey_key="csat",
                dedupe_key=f"csat:{tag}:{i}",
                contact_id=c.id,
                ticket_id=t.id,
                employee_id=a.id,
                state="sent",
                sent_at=now,
                expires_at=now + timedelta(days=7),
            )
            for i, (c, a, t) in enumerate(zip(contacts, agents, tickets, strict=True))
        ]
        session.add_all(requests)
        session.commit()
        return [r.id for r in requests]


def _record(engine, settings: Settings, ids: list[int], score: int) -> float:
    start = time.perf_counter()
    for request_id in ids:
        with Session(engine) as session:
            request = session.get(SurveyRequest, request_id)
            record_answer(session, settings, request, Answer(score=score, comment="bench"), "link")
            session.commit()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer answers (under a minute)")
    parser.add_argument("--count", type=int, default=None, help="answers of each kind")
    args = parser.parse_args()
    count = args.count or (300 if args.quick else 1200)
    chunk = 25
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp))
        engine = make_engine(settings.database_url)
        upgrade(engine)
        # Warm up both paths (template compilation, manager creation, statement caches).
        warm = _requests(engine, 20, "warm")
        _record(engine, settings, warm[:10], 5)
        _record(engine, settings, warm[10:], 1)
        positive_ids = _requests(engine, count, "p")
        negative_ids = _requests(engine, count, "n")
        # Alternate small batches so that load from elsewhere hits both kinds alike.
        pairs: list[tuple[float, float]] = []
        for start in range(0, count, chunk):
            pos = _record(engine, settings, positive_ids[start : start + chunk], 5)
            neg = _record(engine, settings, negative_ids[start : start + chunk], 1)
            pairs.append((pos, neg))
        started = time.perf_counter()
        filed = file_pending(settings, engine)
        filing = time.perf_counter() - started
        with Session(engine) as session:
            escalations = len(session.exec(select(Escalation.id)).all())
            notifications = len(session.exec(select(Notification.id)).all())
            deliveries = len(session.exec(select(WebhookDelivery.id)).all())
        engine.dispose()
    expected = count + 10
    if escalations != expected or notifications != expected:
        raise SystemExit(
            f"expected {expected} escalations and emails, got {escalations}/{notifications}"
        )
    total_pos = sum(p for p, _ in pairs)
    total_neg = sum(n for _, n in pairs)
    ratios = sorted(n / p for p, n in pairs)
    median = ratios[len(ratios) // 2]
    print(f"answers of each kind: {count} in batches of {chunk}; webhook rows: {deliveries}")
    print(f"positive: {total_pos:.3f}s ({total_pos / count * 1000:.2f} ms/answer)")
    print(f"negative: {total_neg:.3f}s ({total_neg / count * 1000:.2f} ms/answer)")
    print(f"total ratio {total_neg / total_pos:.2f}; median of {len(ratios)} batches {median:.2f}")
    print(
        f"filing by the worker, off the answer path: {filed} escalations in {filing:.3f}s "
        f"({filing / max(filed, 1) * 1000:.2f} ms each; answer + filing vs positive: "
        f"{(total_neg + filing) / total_pos:.2f})"
    )
    print(f"escalation: ratio {median:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()

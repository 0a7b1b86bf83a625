"""Many due survey requests at once, inserted in bulk (the kill and concurrency tests)."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select

from storage.clock import utcnow
from storage.models import Contact, SurveyRequest


def seed_due_requests(engine: Engine, count: int, survey: str = "csat") -> list[int]:
    """`count` contacts, each with one request due now; returns the request ids."""
    now = utcnow()
    contacts = [
        {"email": f"client{i}@example.com", "name": f"Client {i}", "vip": False, "created_at": now}
        for i in range(count)
    ]
    with engine.begin() as conn:
        conn.execute(insert(Contact), contacts)
        ids = list(conn.execute(select(Contact.id).order_by(Contact.id)).scalars())
        conn.execute(
            insert(SurveyRequest),
            [
                {
                    "survey_key": survey,
                    "dedupe_key": f"{survey}:seed:{cid}",
                    "contact_id": cid,
                    "locale": "en",
                    "state": "scheduled",
                    "due_at": now,
                    "attempts": 0,
                    "created_at": now,
                }
                for cid in ids
            ],
        )
        return list(conn.execute(select(SurveyRequest.id).order_by(SurveyRequest.id)).scalars())

"""A small, explicit data set whose figures the tests work out by hand (see test_figures.py).

October 2026 is the period under test; one answer in September and one in November lie outside.
Every answer: (employee, survey, score, negative, channel, sent day, seconds to answer).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from storage.engine import session_scope
from storage.models import Contact, Employee, Response, SurveyRequest, Task

ANSWERS = [
    # Alice (team A): 3 positive, 1 negative; csat 5,4,2 -> 2/3; nps 10; waits 600,1200,1800,300
    ("alice", "csat", 5, False, "link", datetime(2026, 10, 1, 10, tzinfo=UTC), 600),
    ("alice", "csat", 4, False, "amp", datetime(2026, 10, 2, 10, tzinfo=UTC), 1200),
    ("alice", "csat", 2, True, "reply", datetime(2026, 10, 3, 10, tzinfo=UTC), 1800),
    ("alice", "nps", 10, False, "link", datetime(2026, 10, 4, 10, tzinfo=UTC), 300),
    # Bob (team A): 3 positive, 2 negative; nps 9,3 -> 0; ces 6; thumbs good, bad -> 50 %
    ("bob", "nps", 9, False, "google_form", datetime(2026, 10, 6, 9, tzinfo=UTC), 3600),
    ("bob", "nps", 3, True, "reply", datetime(2026, 10, 13, 9, tzinfo=UTC), 7200),
    ("bob", "ces", 6, False, "link", datetime(2026, 10, 14, 9, tzinfo=UTC), 60),
    ("bob", "thumbs", 1, False, "link", datetime(2026, 10, 20, 9, tzinfo=UTC), 120),
    ("bob", "thumbs", 0, True, "web_form", datetime(2026, 10, 21, 9, tzinfo=UTC), 240),
    # Carol (team B): csat 3 (neutral, positive); the September and November answers lie outside
    ("carol", "csat", 3, False, "link", datetime(2026, 10, 22, 9, tzinfo=UTC), 100),
    ("carol", "csat", 1, True, "reply", datetime(2026, 9, 15, 9, tzinfo=UTC), 50),
    ("alice", "csat", 1, True, "link", datetime(2026, 11, 2, 9, tzinfo=UTC), 70),
]
# Sent in October, never answered: one for Alice, two for Carol.
UNANSWERED = [
    ("alice", "csat", datetime(2026, 10, 5, 10, tzinfo=UTC)),
    ("carol", "csat", datetime(2026, 10, 23, 10, tzinfo=UTC)),
    ("carol", "nps", datetime(2026, 10, 24, 10, tzinfo=UTC)),
]
TEAMS = {"alice": "A", "bob": "A", "carol": "B"}


def seed(engine: Engine) -> dict[str, int]:
    """Insert the data set; returns employee name -> id."""
    with session_scope(engine) as session:
        employees = {
            name: Employee(name=name.title(), email=f"{name}@example.com", team=team)
            for name, team in TEAMS.items()
        }
        contact = Contact(email="client@example.com", name="=Client, Ltd")
        session.add_all([*employees.values(), contact])
        session.flush()
        number = 0
        for who, survey, score, negative, channel, sent, wait in ANSWERS:
            number += 1
            ticket = Task(
                kind="ticket",
                title=f"Ticket {number}",
                external_ref=f"T-{number}",
                contact_id=contact.id,
                employee_id=employees[who].id,
            )
            session.add(ticket)
            session.flush()
            answered = sent + timedelta(seconds=wait)
            request = SurveyRequest(
                survey_key=survey,
                dedupe_key=f"seed-{number}",
                contact_id=contact.id,
                ticket_id=ticket.id,
                employee_id=employees[who].id,
                state="answered",
                due_at=sent,
                sent_at=sent,
                answered_at=answered,
            )
            session.add(request)
            session.flush()
            answers = {"thumbs": "good" if score else "bad"} if survey == "thumbs" else {}
            session.add(
                Response(
                    request_id=request.id,
                    survey_key=survey,
                    score=score,
                    answers=answers or {"score": str(score)},
                    comment='=HYPERLINK("http://evil")' if number == 3 else None,
                    source=channel,
                    negative=negative,
                    created_at=answered,
                    updated_at=answered,
                )
            )
        for who, survey, sent in UNANSWERED:
            number += 1
            session.add(
                SurveyRequest(
                    survey_key=survey,
                    dedupe_key=f"seed-{number}",
                    contact_id=contact.id,
                    employee_id=employees[who].id,
                    state="sent",
                    due_at=sent,
                    sent_at=sent,
                )
            )
        session.flush()
        return {name: employee.id for name, employee in employees.items()}

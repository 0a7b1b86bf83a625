"""Escalation fixtures: the example configuration plus webhooks, follow-ups and managers, a
migrated database, a real webhook receiver on loopback, and helpers that make a sent request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from mailflow.settings import Settings, load_settings
from storage.clock import utcnow
from storage.models import Contact, Employee, SurveyRequest, Task
from tests.escalation.receiver import WebhookReceiver
from tests.foundation.conftest import example_config

WEBHOOK_SECRET = "whsec-test-0123456789"


def escalation_config(webhook_url: str | None = None, extra: str = "") -> str:
    """The init example with follow-ups on csat, team managers and (optionally) a webhook."""
    text = example_config().replace(
        "negative = { score_at_most = 2 }",
        "negative = { score_at_most = 2 }\nfollowup = { apology = true, thank_you = true }",
        1,
    )
    text += """
[escalation]
team_managers = { printers = "printers-lead@example.com" }
ticket_url = "https://helpdesk.example.com/tickets/{ref}"

[[escalation.managers]]
email = "manager@example.com"
name = "Maria Manager"
locale = "ru"

[[escalation.managers]]
email = "quiet@example.com"
name = "Quiet Manager"
notify_email = false
"""
    if webhook_url:
        text += f"""
[[webhooks]]
url = "{webhook_url}"
secret = "{WEBHOOK_SECRET}"
events = ["response.created", "response.negative", "escalation.created", "request.bounced"]
max_attempts = 4
retry_base_seconds = 10
timeout_seconds = 0.5
"""
    return text + extra


@pytest.fixture
def receiver():
    server = WebhookReceiver(WEBHOOK_SECRET)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def settings(tmp_path: Path, receiver: WebhookReceiver) -> Settings:
    path = tmp_path / "mailflow.toml"
    path.write_text(escalation_config(receiver.url), encoding="utf-8")
    return load_settings(path)


@pytest.fixture
def engine(migrated_engine):
    return migrated_engine


@dataclass
class Made:
    request_id: int
    contact_id: int
    employee_id: int
    ticket_id: int | None


def make_request(
    engine,
    survey_key: str,
    *,
    tag: str = "1",
    team: str | None = None,
    manager_email: str | None = None,
    locale: str = "en",
    with_ticket: bool = True,
    unsubscribed: bool = False,
) -> Made:
    """A contact, an employee (with an own manager when asked), a ticket and a sent request."""
    with Session(engine, expire_on_commit=False) as session:
        contact = Contact(
            email=f"client-{tag}@example.com",
            name=f"Client {tag}",
            locale=locale,
            unsubscribed_at=utcnow() if unsubscribed else None,
        )
        manager = None
        if manager_email:
            manager = Employee(name="Own Manager", email=manager_email, locale="pl")
            session.add(manager)
            session.flush()
        employee = Employee(
            name=f"Agent {tag}",
            email=f"agent-{tag}@example.com",
            team=team,
            manager_id=manager.id if manager else None,
        )
        session.add_all([contact, employee])
        session.flush()
        ticket = None
        if with_ticket:
            ticket = Task(
                kind="ticket",
                title=f"Printer {tag}",
                external_ref=f"T-{tag}",
                contact_id=contact.id,
                employee_id=employee.id,
            )
            session.add(ticket)
            session.flush()
        now = utcnow()
        request = SurveyRequest(
            survey_key=survey_key,
            dedupe_key=f"{survey_key}:{tag}",
            contact_id=contact.id,
            ticket_id=ticket.id if ticket else None,
            employee_id=employee.id,
            locale=locale,
            state="sent",
            sent_at=now,
            expires_at=now + timedelta(days=7),
        )
        session.add(request)
        session.commit()
        return Made(request.id, contact.id, employee.id, ticket.id if ticket else None)

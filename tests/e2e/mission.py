"""The whole mission, assembled from real parts: settings from the init example plus webhooks
and follow-ups, a SQLite file, the outbox worker writing to a Maildir, the web app on uvicorn,
a webhook receiver on loopback; helpers to close tickets, read the Maildir and count effects."""

from __future__ import annotations

import email
import mailbox
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from mailflow.events import handle_event
from mailflow.service import run_until_empty
from mailflow.settings import Settings
from storage.clock import utcnow
from storage.engine import session_scope
from storage.models import (
    AnalyticsRow,
    Comment,
    Escalation,
    Notification,
    Response,
    SurveyRequest,
    Task,
    WebhookDelivery,
)
from tests.escalation.conftest import escalation_config
from tests.escalation.receiver import WebhookReceiver

TOKEN = r"([a-z2-7]{32})"
FORM_SURVEY = """trigger = { on = "status", status = "Completed", delay_hours = 0 }
google_form_url = "https://docs.google.com/forms/d/e/FORM_ID/viewform"
google_form_token_entry = "entry.1234567890"
# Negative when speed is slow"""


def mission_config(webhook_url: str) -> str:
    """The init example + escalation settings; service_quality sent on status "Completed" and
    answered through a Google Form whose notifications reach a mailbox."""
    text = escalation_config(webhook_url)
    old = 'trigger = { on = "never" }\n# Negative when speed is slow'
    assert old in text
    return text.replace(old, FORM_SURVEY, 1)


@dataclass
class Mail:
    raw: bytes
    message: Message
    html: str
    text: str

    @property
    def kind(self) -> str:
        if self.message["X-Mailflow-Escalation"]:
            return "escalation"
        if self.message["X-Mailflow-Followup"]:
            return f"followup.{self.message['X-Mailflow-Followup']}"
        return "survey"

    @property
    def to(self) -> str:
        return email.utils.parseaddr(self.message["To"])[1]


def _mail(raw: bytes) -> Mail:
    message = email.message_from_bytes(raw)
    parts = {
        p.get_content_type(): p.get_payload(decode=True).decode("utf-8")
        for p in message.walk()
        if not p.is_multipart()
    }
    return Mail(raw, message, parts.get("text/html", ""), parts.get("text/plain", ""))


@dataclass
class Mission:
    settings: Settings
    engine: Engine
    receiver: WebhookReceiver
    maildir: Path
    tickets: dict[str, int] = field(default_factory=dict)

    # --- the helpdesk --------------------------------------------------------------------------
    def close_ticket(
        self,
        ref: str,
        client: str,
        *,
        locale: str = "en",
        status: str = "",
        occurred_at: datetime | None = None,
        vip: bool = False,
    ) -> None:
        """A ticket closes (or, with `status`, reaches that status) for a new client."""
        event: dict[str, Any] = {
            "occurred_at": (occurred_at or utcnow() - timedelta(minutes=1)).isoformat(),
            "type": "ticket.status_changed" if status else "ticket.closed",
            "ticket": {"id": ref, "title": f"Printer {ref}", "status": status or "Closed"},
            "contact": {
                "email": client,
                "name": client.split("@")[0].title(),
                "locale": locale,
                **({"vip": True} if vip else {}),
            },
            "employee": {"name": f"Agent of {ref}", "email": f"agent-{ref.lower()}@example.com"},
        }
        with session_scope(self.engine) as session:
            self.tickets[ref] = handle_event(session, self.settings, event).ticket_id

    # --- the worker ----------------------------------------------------------------------------
    def work(self) -> int:
        """`mailflow worker --until-empty`, on its own thread (Playwright holds this loop)."""
        result: list[int] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                result.append(run_until_empty(self.settings, self.engine))
            except BaseException as exc:  # handed to the test thread below
                errors.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(timeout=60)
        if errors:
            raise errors[0]
        assert result, "the worker did not finish within 60 s"
        return result[0]

    # --- the Maildir ---------------------------------------------------------------------------
    def mails(self, kind: str | None = None) -> list[Mail]:
        box = mailbox.Maildir(self.maildir, create=True)
        found = [_mail(bytes(msg)) for msg in box]
        return [m for m in found if kind is None or m.kind == kind]

    def survey_mail(self, client: str) -> Mail:
        [mail] = [m for m in self.mails("survey") if m.to == client]
        return mail

    def link(self, client: str, answer: str) -> str:
        """The one-click link for `answer` in the survey email `client` received."""
        html = self.survey_mail(client).html
        found = re.search(
            r'href="([^"]*/r/' + TOKEN + r"\?[^\"]*a=" + re.escape(answer) + r')"', html
        )
        assert found, f"no link for answer {answer} in the email to {client}"
        return found.group(1).replace("&amp;", "&")

    def form_token(self, client: str) -> str:
        """The token prefilled in the Google Form link of the email `client` received."""
        html = self.survey_mail(client).html
        return re.search(r"entry\.1234567890=" + TOKEN, html).group(1)

    # --- what happened -------------------------------------------------------------------------
    def request_of(self, ref: str) -> int:
        """The id of the survey request about ticket `ref`."""
        with Session(self.engine) as session:
            query = select(SurveyRequest.id).where(
                SurveyRequest.ticket_id == self.tickets[ref], SurveyRequest.state != "scheduled"
            )
            return session.exec(query).one()

    def response_of(self, ref: str) -> Response | None:
        with Session(self.engine) as session:
            query = (
                select(Response)
                .join(SurveyRequest, SurveyRequest.id == Response.request_id)
                .where(SurveyRequest.ticket_id == self.tickets[ref])
            )
            return session.exec(query).first()

    def filed(self, ref: str) -> tuple[dict[str, str | None], list[Comment], Task | None]:
        """The analytics row on the "Survey" task, the ticket's comments, the subtask."""
        response = self.response_of(ref)
        assert response is not None, f"no answer recorded for {ref}"
        with Session(self.engine) as session:
            rows = session.exec(select(AnalyticsRow).where(AnalyticsRow.response_id == response.id))
            rows = list(rows)
            survey_tasks = {r.survey_task_id for r in rows}
            [task_id] = survey_tasks
            task = session.get(Task, task_id)
            assert task.kind == "survey" and task.external_ref == response.survey_key
            comments = list(
                session.exec(select(Comment).where(Comment.task_id == self.tickets[ref]))
            )
            subtask = session.exec(
                select(Task).where(Task.kind == "escalation", Task.parent_id == self.tickets[ref])
            ).first()
            return {r.field: r.value for r in rows}, comments, subtask

    def counts(self) -> dict[str, int]:
        """Everything a repeat must not change."""
        with Session(self.engine) as session:

            def count(model: Any) -> int:
                return session.exec(select(func.count()).select_from(model)).one()

            numbers = {
                name: count(model)
                for name, model in (
                    ("requests", SurveyRequest),
                    ("responses", Response),
                    ("analytics", AnalyticsRow),
                    ("comments", Comment),
                    ("tasks", Task),
                    ("escalations", Escalation),
                    ("notifications", Notification),
                    ("webhooks", WebhookDelivery),
                )
            }
        numbers["maildir"] = len(self.mails())
        numbers["received"] = len(self.receiver.accepted())
        return numbers

    def webhook_events(self) -> list[tuple[str, dict[str, Any]]]:
        accepted = self.receiver.accepted()
        assert all(r.signature_ok for r in self.receiver.received), "a webhook was badly signed"
        return [(r.json["event"], r.json["data"]) for r in accepted]

"""`mailflow demo`: six months of realistic data so a new user sees a living dashboard.

Contacts, employees in teams with managers, tickets, survey requests in every state, and
answers of every survey type through every channel. Answers go through
`mailflow.answers.record_answer`, so analytics rows, ticket comments and escalations are the
real ones. Reply and form answers get the inbound message they would have come in.
"""

from __future__ import annotations

import hashlib
import logging
import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select, update
from sqlmodel import Session

from mailflow.answers import Answer, record_answer
from mailflow.demo_data import BAD, FIRST, GOOD, LAST, QUARANTINE, TEAMS, TITLES
from mailflow.escalation.filing import file_escalation
from mailflow.settings import Settings
from mailflow.surveys import SurveyConfig
from storage.clock import utcnow
from storage.engine import session_scope
from storage.models import (
    AnalyticsRow,
    CampaignRun,
    Comment,
    Contact,
    Employee,
    Escalation,
    InboundMessage,
    Notification,
    Response,
    SurveyRequest,
    Task,
)
from storage.states import EscalationStatus, InboundStatus, RequestState

log = logging.getLogger(__name__)

SOURCES = ("link", "link", "link", "amp", "reply", "reply", "google_form", "web_form", "telegram")


class DemoRefused(Exception):
    """The database already holds data; `--force` adds the demo anyway."""


@dataclass
class DemoSummary:
    """What the demo created (printed by the CLI)."""

    counts: dict[str, int] = field(default_factory=dict)


def _is_empty(session: Session) -> bool:
    tables = (Contact, Employee, Task, SurveyRequest, Response)
    return all(
        session.execute(select(func.count()).select_from(t)).scalar_one() == 0 for t in tables
    )


def _raw(sender: str, subject: str, body: str, message_id: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: survey@reply.localhost\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body}\r\n"
    ).encode()


class _Builder:
    """Creates the data in one session; `rng` and `now` make it reproducible."""

    def __init__(
        self, session: Session, settings: Settings, rng: random.Random, now: datetime, tag: str
    ):
        self.s, self.settings, self.rng, self.now, self.tag = session, settings, rng, now, tag
        self.by_type = {}
        for survey in settings.surveys:
            self.by_type.setdefault(survey.type, survey)
        self.numbers = 0
        self.tickets_count = 600

    def key(self, text: str) -> str:
        self.numbers += 1
        return f"demo{self.tag}-{text}-{self.numbers}"

    def people(self) -> tuple[list[Employee], dict[int, float], list[Contact]]:
        agents, quality = [], {}
        for team, members in TEAMS.items():
            manager = None
            for name, locale, happy in members:
                email = name.lower().replace(" ", ".").replace("ś", "s") + f"{self.tag}@example.com"
                employee = Employee(
                    name=name,
                    email=email,
                    team=team,
                    locale=locale,
                    manager_id=manager.id if manager else None,
                )
                self.s.add(employee)
                self.s.flush()
                manager = manager or employee
                agents.append(employee)
                quality[employee.id] = happy
        contacts = []
        for n in range(40):
            locale = self.rng.choice(["en", "en", "ru", "pl"])
            name = f"{self.rng.choice(FIRST[locale])} {self.rng.choice(LAST[locale])}"
            contacts.append(
                Contact(
                    email=f"client{n + 1}{self.tag}@example.org",
                    name=name,
                    locale=locale,
                    vip=n % 9 == 0,
                    created_at=self.now - timedelta(days=200),
                )
            )
        contacts[7].unsubscribed_at = self.now - timedelta(days=40)
        contacts[13].bounced_at = self.now - timedelta(days=20)
        contacts[13].bounce_reason = "550 5.1.1 mailbox unavailable"
        self.s.add_all(contacts)
        self.s.flush()
        return agents, quality, contacts

    def answer_for(self, survey: SurveyConfig, happy: bool, locale: str) -> Answer:
        r = self.rng
        comment = r.choice((GOOD if happy else BAD)[locale]) if r.random() < 0.35 else None
        if survey.type == "form":
            answers = {}
            for question in survey.questions:
                options = list(question.options)
                answers[question.key] = options[r.randrange(0, 2)] if happy else options[-1]
            return Answer(answers=answers, comment=comment)
        scale = survey.kind.scale
        if survey.type == "thumbs":
            return Answer(answers={"thumbs": "good" if happy else "bad"}, comment=comment)
        cut = (survey.kind.negative_at_most or 0) + 1
        good, bad = scale[cut:], scale[:cut]
        return Answer(
            answers={"score": r.choice(good[len(good) // 3 :] if happy else bad)}, comment=comment
        )

    def request(
        self,
        survey: SurveyConfig,
        contact: Contact,
        employee: Employee,
        ticket: Task | None,
        sent: datetime,
        run: CampaignRun | None = None,
    ) -> SurveyRequest:
        request = SurveyRequest(
            survey_key=survey.key,
            dedupe_key=self.key(survey.key),
            contact_id=contact.id,
            ticket_id=ticket.id if ticket else None,
            employee_id=employee.id,
            campaign_run_id=run.id if run else None,
            locale=contact.locale or "en",
            state=RequestState.SENT,
            due_at=sent,
            sent_at=sent,
            attempts=1,
            expires_at=sent + timedelta(days=survey.expiration_days),
            message_id=f"<{self.key('m')}@mailflow.demo>",
            created_at=sent,
        )
        r, age = self.rng.random(), self.now - sent
        if contact.unsubscribed_at and sent > contact.unsubscribed_at:
            request.state, request.reason, request.sent_at = (
                RequestState.SUPPRESSED,
                "unsubscribed",
                None,
            )
            request.message_id = None
        elif contact.bounced_at and sent > contact.bounced_at - timedelta(days=2):
            request.state, request.last_error = RequestState.BOUNCED, contact.bounce_reason
        elif sent > self.now:
            request.state, request.sent_at, request.message_id = RequestState.SCHEDULED, None, None
            request.attempts = 0
        elif r < 0.02:
            request.state, request.sent_at, request.message_id = RequestState.FAILED, None, None
            request.last_error, request.attempts = "421 4.7.0 relay temporarily unavailable", 6
        elif r < 0.03 and age < timedelta(hours=6):
            request.state, request.sent_at = RequestState.SENDING, None
        self.s.add(request)
        return request

    def answer(
        self, survey: SurveyConfig, request: SurveyRequest, happy: bool, locale: str
    ) -> None:
        r = self.rng
        answered = request.sent_at + timedelta(minutes=min(r.lognormvariate(4, 1.4), 9000))
        if answered > self.now:
            return
        if request.expires_at and answered > request.expires_at:
            return
        source = r.choice(SOURCES)
        if survey.type == "form":
            source = r.choice(["google_form", "web_form", "link"])
        inbound_id = None
        if source in ("reply", "google_form", "web_form"):
            message_id = f"<{self.key('in')}@client.example.org>"
            raw = _raw("client@example.org", "Re: survey", "demo answer", message_id)
            inbound = InboundMessage(
                message_id=message_id,
                sha256=hashlib.sha256(raw).hexdigest(),
                raw=raw,
                via=r.choice(["smtp", "imap"]),
                status=InboundStatus.PARSED,
                kind="reply" if source == "reply" else source,
                request_id=request.id,
                received_at=answered,
                processed_at=answered,
            )
            self.s.add(inbound)
            self.s.flush()
            inbound_id = inbound.id
        record_answer(
            self.s,
            self.settings,
            request,
            self.answer_for(survey, happy, locale),
            source,
            inbound_message_id=inbound_id,
            now=answered,
        )

    def tickets(
        self, agents: list[Employee], quality: dict[int, float], contacts: list[Contact]
    ) -> None:
        r, start = self.rng, self.now - timedelta(days=182)
        csat, ces = self.by_type.get("csat"), self.by_type.get("ces")
        thumbs, form = self.by_type.get("thumbs"), self.by_type.get("form")
        for n in range(self.tickets_count):
            contact, employee = r.choice(contacts), r.choice(agents)
            opened = start + timedelta(minutes=r.randrange(0, 182 * 24 * 60))
            closed = opened + timedelta(hours=r.choice([1, 2, 5, 20, 48]))
            status = "Completed" if r.random() < 0.3 else "Closed"
            ticket = Task(
                kind="ticket",
                title=r.choice(TITLES),
                status=status,
                external_ref=f"{self.tag or ''}HD-{1000 + n}",
                contact_id=contact.id,
                employee_id=employee.id,
                created_at=opened,
                closed_at=closed if closed < self.now else None,
            )
            self.s.add(ticket)
            self.s.flush()
            if ticket.closed_at is None:
                continue
            surveys = [csat] if r.random() < 0.8 else []
            if status == "Completed" and ces:
                surveys.append(ces)
            if contact.vip and thumbs:
                surveys.append(thumbs)
            if r.random() < 0.08 and form:
                surveys.append(form)
            for survey in filter(None, surveys):
                sent = closed + timedelta(hours=1 if survey is ces else 0)
                request = self.request(survey, contact, employee, ticket, sent)
                self.s.flush()
                self.settle(survey, request, employee, quality, contact)

    def settle(
        self,
        survey: SurveyConfig,
        request: SurveyRequest,
        employee: Employee,
        quality: dict[int, float],
        contact: Contact,
    ) -> None:
        if request.state != RequestState.SENT:
            return
        if self.rng.random() < 0.68:
            happy = self.rng.random() < quality[employee.id]
            self.answer(survey, request, happy, contact.locale or "en")
        if request.state == RequestState.SENT and request.expires_at < self.now:
            request.state = RequestState.EXPIRED
            self.s.add(request)

    def campaigns(
        self, agents: list[Employee], quality: dict[int, float], contacts: list[Contact]
    ) -> None:
        nps = self.by_type.get("nps")
        if nps is None:
            return
        for months_ago in range(6, -1, -1):
            when = (self.now - timedelta(days=30 * months_ago)).replace(
                day=1, hour=10, minute=0, second=0, microsecond=0
            )
            run = CampaignRun(
                run_key=self.key(f"nps-{when:%Y-%m}"),
                survey_key=nps.key,
                scheduled_for=when,
                started_at=when,
                finished_at=when,
                created_requests=len(contacts),
            )
            self.s.add(run)
            self.s.flush()
            for contact in contacts:
                employee = agents[contact.id % len(agents)]
                request = self.request(nps, contact, employee, None, when, run)
                self.s.flush()
                self.settle(nps, request, employee, quality, contact)

    def upcoming(self, agents: list[Employee], contacts: list[Contact]) -> None:
        """Tickets closed minutes ago whose surveys wait for their delay: 'scheduled'."""
        survey = self.by_type.get("ces") or self.by_type.get("csat")
        if survey is None:
            return
        for n in range(4):
            closed = self.now - timedelta(minutes=10 + 7 * n)
            ticket = Task(
                kind="ticket",
                title=self.rng.choice(TITLES),
                status="Completed",
                external_ref=f"{self.tag or ''}HD-{1600 + n}",
                contact_id=contacts[n].id,
                employee_id=agents[n].id,
                created_at=closed - timedelta(hours=3),
                closed_at=closed,
            )
            self.s.add(ticket)
            self.s.flush()
            self.request(survey, contacts[n], agents[n], ticket, closed + timedelta(hours=1))

    def quarantine(self) -> None:
        for n in range(9):
            reason, detail = QUARANTINE[n % len(QUARANTINE)]
            message_id = f"<{self.key('q')}@client.example.org>"
            raw = _raw(f"someone{n}@example.net", "Re: How did we do?", detail, message_id)
            self.s.add(
                InboundMessage(
                    message_id=message_id,
                    sha256=hashlib.sha256(raw).hexdigest(),
                    raw=raw,
                    via="smtp",
                    status=InboundStatus.QUARANTINED,
                    kind="reply",
                    reason=f"{reason}: {detail}",
                    received_at=self.now - timedelta(days=n * 3, hours=n),
                )
            )

    def file_escalations(self) -> None:
        """File the answers' escalations now (what the worker does after each answer); their
        manager emails belong to the past, so they count as sent, not as mail to send now."""
        first_new = self.s.execute(select(func.coalesce(func.max(Notification.id), 0))).scalar_one()
        pending = select(Escalation).where(Escalation.subtask_id.is_(None))
        for escalation in self.s.scalars(pending).all():
            file_escalation(self.s, self.settings, escalation)
        self.s.execute(
            update(Notification)
            .where(Notification.id > first_new, Notification.state == RequestState.SCHEDULED)
            .values(state=RequestState.SENT, sent_at=self.now)
        )

    def backdate(self) -> None:
        """Comments, analytics rows and escalations carry the time of their answer."""
        answered = (
            select(Response.created_at).where(Response.id == Comment.response_id).scalar_subquery()
        )
        self.s.execute(
            update(Comment).where(Comment.response_id.is_not(None)).values(created_at=answered)
        )
        answered = (
            select(Response.created_at)
            .where(Response.id == AnalyticsRow.response_id)
            .scalar_subquery()
        )
        self.s.execute(update(AnalyticsRow).values(created_at=answered))
        answered = (
            select(Response.created_at)
            .where(Response.id == Escalation.response_id)
            .scalar_subquery()
        )
        self.s.execute(update(Escalation).values(created_at=answered))
        old = self.now - timedelta(days=10)
        self.s.execute(
            update(Escalation)
            .where(Escalation.created_at < old)
            .values(
                status=EscalationStatus.RESOLVED,
                resolved_at=self.now - timedelta(days=9),
                resolved_by="demo",
                resolution_note="Called the client back.",
            )
        )


def run_demo(
    engine: Engine,
    settings: Settings,
    *,
    force: bool = False,
    seed: int = 42,
    now: datetime | None = None,
    tickets: int = 600,
) -> DemoSummary:
    """Fill the database with the demo data set; DemoRefused if it holds data already."""
    now = now or utcnow()
    with session_scope(engine) as session:
        tag = ""
        if not _is_empty(session):
            if not force:
                raise DemoRefused(
                    "the database already holds data; use --force to add the demo data set anyway"
                )
            tag = "-" + secrets.token_hex(3)
        builder = _Builder(session, settings, random.Random(seed), now, tag)
        builder.tickets_count = tickets
        agents, quality, contacts = builder.people()
        builder.tickets(agents, quality, contacts)
        builder.campaigns(agents, quality, contacts)
        builder.upcoming(agents, contacts)
        builder.quarantine()
        session.flush()
        builder.file_escalations()
        builder.backdate()
        summary = DemoSummary()
        for name, table in (
            ("contacts", Contact),
            ("employees", Employee),
            ("tickets", Task),
            ("requests", SurveyRequest),
            ("answers", Response),
            ("escalations", Escalation),
            ("inbound", InboundMessage),
        ):
            query = select(func.count()).select_from(table)
            if table is Task:
                query = query.where(Task.kind == "ticket")
            summary.counts[name] = session.execute(query).scalar_one()
    log.info("demo data created: %s", summary.counts)
    return summary

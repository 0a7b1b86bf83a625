"""The tables of DESIGN.md. Idempotency lives here, as unique constraints, not in code.

Timestamps are naive UTC (storage.clock). JSON columns hold plain dicts/lists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.clock import utcnow
from storage.states import EscalationStatus, InboundStatus, RequestState, WebhookState

REQUEST_STATES = tuple(RequestState)
SOURCES = ("link", "amp", "reply", "google_form", "web_form", "telegram")


class Contact(SQLModel, table=True):
    """A client who is asked and answers; one per address."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, max_length=320)
    name: str | None = None
    locale: str | None = Field(default=None, max_length=16)
    vip: bool = False
    external_id: str | None = Field(default=None, unique=True, max_length=200)
    team: str | None = None
    unsubscribed_at: datetime | None = None
    bounced_at: datetime | None = None
    bounce_reason: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Employee(SQLModel, table=True):
    """The agent whose work is rated; managers are employees too."""

    id: int | None = Field(default=None, primary_key=True)
    name: str
    email: str | None = Field(default=None, unique=True, max_length=320)
    external_id: str | None = Field(default=None, unique=True, max_length=200)
    team: str | None = Field(default=None, index=True)
    locale: str | None = None
    manager_id: int | None = Field(default=None, foreign_key="employee.id")
    notify_email: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class Task(SQLModel, table=True):
    """A ticket, a survey's "Survey" task, or an escalation subtask."""

    __table_args__ = (UniqueConstraint("kind", "external_ref", name="uq_task_kind_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)  # ticket | survey | escalation
    title: str
    status: str | None = None
    description: str | None = None
    external_ref: str | None = Field(default=None, max_length=200)
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    employee_id: int | None = Field(default=None, foreign_key="employee.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None


class Comment(SQLModel, table=True):
    """A comment on a task; one per response per task keeps repeats out."""

    __table_args__ = (UniqueConstraint("task_id", "response_id", name="uq_comment_response"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    response_id: int | None = Field(default=None, foreign_key="response.id")
    author: str
    body: str
    source: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow)


class CampaignRun(SQLModel, table=True):
    """One scheduled run of a campaign; the run key makes a second run a no-op."""

    id: int | None = Field(default=None, primary_key=True)
    run_key: str = Field(unique=True, max_length=200)
    survey_key: str
    scheduled_for: datetime
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    created_requests: int = 0


class SurveyRequest(SQLModel, table=True):
    """One survey sent (or to be sent) to one contact about one ticket: the outbox row."""

    __table_args__ = (
        Index("ix_request_due", "state", "due_at"),
        Index("ix_request_contact_sent", "contact_id", "sent_at"),
        Index("ix_request_survey_sent", "survey_key", "sent_at"),
        # reports: requests sent / first answered in a period (response rate, time to answer)
        Index("ix_request_sent", "sent_at"),
        Index("ix_request_answered", "answered_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    survey_key: str = Field(max_length=100)
    dedupe_key: str = Field(unique=True, max_length=300)
    contact_id: int = Field(foreign_key="contact.id")
    ticket_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    employee_id: int | None = Field(default=None, foreign_key="employee.id", index=True)
    campaign_run_id: int | None = Field(default=None, foreign_key="campaignrun.id")
    # the survey version the request was asked with (None: before surveys lived in the database)
    survey_version_id: int | None = Field(default=None, foreign_key="surveyversion.id")
    locale: str = Field(default="en", max_length=16)
    state: str = Field(default=RequestState.SCHEDULED, max_length=20)
    reason: str | None = None
    due_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    expires_at: datetime | None = None
    answered_at: datetime | None = None
    message_id: str | None = Field(default=None, unique=True, max_length=250)
    attempts: int = 0
    last_error: str | None = None
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class SentMessage(SQLModel, table=True):
    """Every Message-ID we ever sent for a request, so replies to a resend still match."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="surveyrequest.id", index=True)
    message_id: str = Field(unique=True, max_length=250)
    sent_at: datetime = Field(default_factory=utcnow)


class Response(SQLModel, table=True):
    """The answer to a request; one per request (a later answer replaces it if allowed)."""

    __table_args__ = (Index("ix_response_created", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="surveyrequest.id", unique=True)
    survey_key: str = Field(max_length=100, index=True)
    score: int | None = None
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    comment: str | None = None
    source: str = Field(max_length=20)
    negative: bool = False
    weak_match: bool = False
    locked: bool = False
    inbound_message_id: int | None = Field(default=None, foreign_key="inboundmessage.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AnswerReason(SQLModel, table=True):
    """The reason a client gave after an answer (a follow-up question's option, or "other" with
    its text); one per response and follow-up question, so a repeat replaces, never doubles."""

    __table_args__ = (
        UniqueConstraint("response_id", "followup", name="uq_answerreason_followup"),
        Index("ix_answerreason_survey_option", "survey_key", "followup", "option"),
    )

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", index=True)
    survey_key: str = Field(max_length=100)
    followup: str = Field(max_length=100)
    option: str = Field(max_length=100)  # an option key, or "other"
    text: str | None = None  # what the client wrote for "other"
    source: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow)


class TelegramChat(SQLModel, table=True):
    """A Telegram chat linked to a contact (by an event's chat id or the Start deep link), and
    what the bot waits for there next (a comment or an "other" reason for a request)."""

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    contact_id: int = Field(foreign_key="contact.id", unique=True)
    awaiting_request_id: int | None = Field(default=None, foreign_key="surveyrequest.id")
    awaiting: str | None = Field(default=None, max_length=120)  # "comment" | "reason:KEY"
    updated_at: datetime = Field(default_factory=utcnow)


class TelegramMessage(SQLModel, table=True):
    """The Telegram outbox: one message to send (the survey, a follow-up question), claimed
    under a lease by the worker, retried with backoff, failed alone when Telegram refuses it."""

    __table_args__ = (Index("ix_telegrammessage_due", "state", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True, max_length=300)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    request_id: int | None = Field(default=None, foreign_key="surveyrequest.id")
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="pending", max_length=20)  # pending | sent | failed
    attempts: int = 0
    due_at: datetime = Field(default_factory=utcnow)
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = None
    last_error: str | None = None
    telegram_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(default_factory=utcnow)


class AnalyticsRow(SQLModel, table=True):
    """One field of one answer, filed on the survey's "Survey" task."""

    __table_args__ = (UniqueConstraint("response_id", "field", name="uq_analytics_field"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_task_id: int = Field(foreign_key="task.id", index=True)
    response_id: int = Field(foreign_key="response.id")
    field: str = Field(max_length=100)
    value: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class InboundMessage(SQLModel, table=True):
    """Raw inbound mail, stored before it is acknowledged; processed later by the worker.

    Its identity is the SHA-256 of the bytes (unique): two different messages may carry the
    same Message-ID (a client's second reply, a careless sender) and each is its own row, so
    `message_id` is only indexed, for threading and the IMAP poller's look-ups.
    """

    __table_args__ = (Index("ix_inbound_status", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(index=True, max_length=250)
    sha256: str = Field(unique=True, max_length=64)
    # None once pruned (inbound.keep_raw_days); the header sender and subject are kept.
    raw: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    raw_pruned_at: datetime | None = None
    sender: str | None = Field(default=None, max_length=320)
    subject: str | None = Field(default=None, max_length=300)
    via: str = Field(max_length=10)  # smtp | imap | file
    mailbox: str | None = None
    # Where the IMAP poller left it in that mailbox (processed or failed folder), so mail the
    # worker later quarantines can follow to the failed folder.
    imap_folder: str | None = Field(default=None, max_length=200)
    envelope_from: str | None = None
    envelope_to: str | None = None
    status: str = Field(default=InboundStatus.RECEIVED, max_length=20)
    kind: str | None = Field(default=None, max_length=20)
    reason: str | None = None
    request_id: int | None = Field(default=None, foreign_key="surveyrequest.id")
    received_at: datetime = Field(default_factory=utcnow)
    processed_at: datetime | None = None


class Escalation(SQLModel, table=True):
    """A negative answer brought to a manager; exactly one per response."""

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", unique=True)
    subtask_id: int | None = Field(default=None, foreign_key="task.id")
    manager_id: int | None = Field(default=None, foreign_key="employee.id")
    rule: str | None = None
    status: str = Field(default=EscalationStatus.OPEN, max_length=20, index=True)
    resolution_note: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    # The staff user working on it ("mine" in the console); the overdue reminder, sent once.
    assignee_user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    reminded_at: datetime | None = None


class EscalationEvent(SQLModel, table=True):
    """One entry of an escalation's timeline: opened, assigned, an internal comment, a reply to
    the client (its Message-ID, so the client's answer to it is recognised), the client's
    answer, resolved, reopened, reminded."""

    id: int | None = Field(default=None, primary_key=True)
    escalation_id: int = Field(foreign_key="escalation.id", index=True)
    kind: str = Field(max_length=20)
    actor: str = Field(max_length=200)
    body: str | None = None
    detail: str | None = Field(default=None, max_length=320)  # e.g. the assignee's name
    message_id: str | None = Field(default=None, unique=True, max_length=250)
    inbound_message_id: int | None = Field(
        default=None, foreign_key="inboundmessage.id", unique=True
    )
    created_at: datetime = Field(default_factory=utcnow)


class Notification(SQLModel, table=True):
    """A non-survey email (manager escalation, follow-up) in the outbox; deduped by key."""

    __table_args__ = (Index("ix_notification_due", "state", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    dedupe_key: str = Field(unique=True, max_length=300)
    recipient: str = Field(max_length=320)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=RequestState.SCHEDULED, max_length=20)
    due_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    message_id: str | None = Field(default=None, unique=True, max_length=250)
    attempts: int = 0
    last_error: str | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class WebhookDelivery(SQLModel, table=True):
    """One webhook event for one subscription, sent by the worker with retries."""

    __table_args__ = (Index("ix_webhook_due", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True, max_length=300)
    url: str
    event: str = Field(max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=WebhookState.PENDING, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str | None = None
    last_status: int | None = None
    lease_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None


class ApiKey(SQLModel, table=True):
    """An API key; only its hash is stored, the prefix identifies it in lists."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    prefix: str = Field(max_length=16, index=True)
    key_hash: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    # What the key may do, space-separated: events:write, reports:read.
    scopes: str = Field(
        default="events:write", max_length=200, sa_column_kwargs={"server_default": "events:write"}
    )


class User(SQLModel, table=True):
    """A staff login for the admin pages; password hashed with argon2."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=100)
    password_hash: str
    locale: str = "en"
    employee_id: int | None = Field(default=None, foreign_key="employee.id")
    created_at: datetime = Field(default_factory=utcnow)
    disabled_at: datetime | None = None  # a disabled user cannot sign in; sessions ended
    # admin (everything) | manager (surveys, escalations, all reports) | agent (their own results)
    role: str = Field(default="admin", max_length=20)
    email: str | None = Field(default=None, max_length=320)  # where an invite is sent


class WebSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds a random token, this row only its SHA-256, so
    signing out, a password change, disabling or deleting the user ends it on the server."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class Segment(SQLModel, table=True):
    """A saved filter over contacts and responses, usable as audience and report filter."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    definition: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class ImapState(SQLModel, table=True):
    """Where the poller is in one mailbox folder: UIDVALIDITY and the last UID seen."""

    id: int | None = Field(default=None, primary_key=True)
    mailbox: str = Field(unique=True, max_length=300)
    uidvalidity: int | None = None
    last_uid: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class RateLimitHit(SQLModel, table=True):
    """POSTs counted per bucket, client key and fixed window (PostgreSQL, several web
    processes): one upsert per hit, so a limit holds across every host."""

    bucket: str = Field(primary_key=True, max_length=30)
    key: str = Field(primary_key=True, max_length=500)
    window_start: int = Field(primary_key=True)  # unix seconds, a multiple of the window
    hits: int = 0


class Survey(SQLModel, table=True):
    """A survey by key; its configuration is the newest of its SurveyVersion rows."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=100)
    # SurveyVersion.id (no FK: the two rows would point at each other)
    current_version_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


class SurveyVersion(SQLModel, table=True):
    """One saved state of a survey: the whole validated SurveyConfig as JSON, who, when, what."""

    __table_args__ = (UniqueConstraint("survey_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    number: int
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    author: str = Field(max_length=100)
    summary: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class BrandRecord(SQLModel, table=True):
    """The brand as edited in the browser (one row): BrandSettings fields as JSON, the logo."""

    id: int | None = Field(default=None, primary_key=True)
    revision: int = 1
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    logo: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    logo_type: str | None = Field(default=None, max_length=40)
    updated_by: str | None = Field(default=None, max_length=100)
    updated_at: datetime = Field(default_factory=utcnow)

"""What the escalation workspace shows: the one list (filters open / mine / unassigned /
overdue / resolved / all, search, sort, pages through mailflow.web.listing) and one
escalation's detail (the answer, the client's history, the rated ticket's comments, the
timeline). Reads only; the actions are mailflow.escalation.workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from mailflow.escalation.resolve import EscalationView, get_escalation
from mailflow.escalation.workspace import (
    Sla,
    assignable_users,
    sla_hours,
    sla_of,
    staff_name,
    timeline,
)
from mailflow.facts import gather
from mailflow.notice_words import words
from mailflow.settings import Settings
from mailflow.web.listing import ListSpec, Page, Wanted, paginate
from storage.models import (
    Comment,
    Contact,
    Employee,
    Escalation,
    EscalationEvent,
    Response,
    SurveyRequest,
    User,
)
from storage.states import EscalationStatus

VIEWS = ("open", "mine", "unassigned", "overdue", "resolved", "all")
Agent = aliased(Employee)
SPEC = ListSpec(
    sorts={
        "id": Escalation.id,
        "created": Escalation.created_at,
        "status": Escalation.status,
        "survey": Response.survey_key,
        "client": Contact.email,
        "assignee": User.username,
    },
    default_sort="-created",
    filters=("view", "q", "survey"),
)
HISTORY = 50


@dataclass(frozen=True)
class Row:
    """One escalation in the list."""

    escalation: Escalation
    response: Response
    contact: Contact | None
    employee: Employee | None
    assignee: str | None
    sla: Sla


def read_wanted(params: Any, status: str | None) -> Wanted:
    """The list's query; the old `?status=open|resolved|` links map onto views."""
    wanted = SPEC.read(params)
    if "view" not in wanted.filters and status is not None:
        view = status if status in ("open", "resolved") else "all"
        wanted = Wanted(
            wanted.page,
            wanted.per_page,
            wanted.sort,
            {**wanted.filters, "view": view},
            wanted.default_per_page,
        )
    if wanted.filters.get("view") not in VIEWS:
        wanted = Wanted(
            wanted.page,
            wanted.per_page,
            wanted.sort,
            {**wanted.filters, "view": "open"},
            wanted.default_per_page,
        )
    return wanted


def _overdue(settings: Settings, now: datetime) -> Any:
    """SQL: open and older than its survey's target (24 h for unconfigured surveys)."""
    keys = [s.key for s in settings.surveys]
    per_survey = [
        and_(
            col(Response.survey_key) == s.key,
            col(Escalation.created_at) < now - timedelta(hours=s.escalation_sla_hours),
        )
        for s in settings.surveys
    ]
    others = and_(
        col(Response.survey_key).not_in(keys) if keys else true(),
        col(Escalation.created_at) < now - timedelta(hours=24),
    )
    return and_(col(Escalation.status) == EscalationStatus.OPEN, or_(*per_survey, others))


def list_page(
    session: Session, settings: Settings, wanted: Wanted, *, user_id: int, now: datetime
) -> Page:
    """One page of the list as `wanted` asks, for the signed-in user `user_id` ("mine")."""
    query = (
        select(Escalation, Response, Contact, Agent, User)
        .join(Response, col(Response.id) == Escalation.response_id)
        .join(SurveyRequest, col(SurveyRequest.id) == Response.request_id)
        .outerjoin(Contact, col(Contact.id) == SurveyRequest.contact_id)
        .outerjoin(Agent, col(Agent.id) == SurveyRequest.employee_id)
        .outerjoin(User, col(User.id) == Escalation.assignee_user_id)
    )
    view = wanted.filters.get("view", "open")
    if view in ("open", "mine", "unassigned"):
        query = query.where(col(Escalation.status) == EscalationStatus.OPEN)
    if view == "mine":
        query = query.where(col(Escalation.assignee_user_id) == user_id)
    elif view == "unassigned":
        query = query.where(col(Escalation.assignee_user_id).is_(None))
    elif view == "overdue":
        query = query.where(_overdue(settings, now))
    elif view == "resolved":
        query = query.where(col(Escalation.status) == EscalationStatus.RESOLVED)
    if wanted.filters.get("survey"):
        query = query.where(col(Response.survey_key) == wanted.filters["survey"])
    if wanted.filters.get("q"):
        needle = f"%{wanted.filters['q'].lower()}%"
        query = query.where(
            or_(func.lower(Contact.email).like(needle), func.lower(Contact.name).like(needle))
        )
    page = paginate(session, query, wanted, SPEC)
    rows = [
        Row(e, r, c, a, u.username if u else None, sla_of(settings, e, r.survey_key, now))
        for e, r, c, a, u in page.rows
    ]
    names = _names(session, [r.escalation.assignee_user_id for r in rows])
    rows = [
        Row(
            r.escalation,
            r.response,
            r.contact,
            r.employee,
            names.get(r.escalation.assignee_user_id),
            r.sla,
        )
        for r in rows
    ]
    return Page(rows, page.total, page.wanted)


def _names(session: Session, user_ids: list[int | None]) -> dict[int | None, str]:
    wanted = {i for i in user_ids if i is not None}
    if not wanted:
        return {}
    users = session.exec(select(User).where(col(User.id).in_(wanted)))
    return {u.id: staff_name(session, u) for u in users}


@dataclass(frozen=True)
class HistoryRow:
    """One of the client's answers."""

    when: datetime
    survey: str
    score: int | None
    comment: str | None
    negative: bool
    this_one: bool


@dataclass(frozen=True)
class Detail:
    """Everything the escalation's page shows."""

    view: EscalationView
    rows: list[tuple[str, str]]
    ticket_url: str | None
    sla: Sla
    assignee: str | None
    history: list[HistoryRow]
    history_total: int
    ticket_comments: list[Comment]
    events: list[EscalationEvent]
    users: list[tuple[User, str]]
    client_email: str | None
    sla_target: float


def detail(
    session: Session, settings: Settings, escalation_id: int, locale: str, now: datetime
) -> Detail:
    """One escalation for its page, or EscalationNotFound."""
    view = get_escalation(session, escalation_id)
    request = session.get(SurveyRequest, view.response.request_id)
    try:
        survey = settings.survey(view.response.survey_key)
    except KeyError:  # the survey was removed from the configuration: show the raw answer
        rows = [(k, str(v)) for k, v in view.response.answers.items()]
        rows.append((words(locale)["comment"], view.response.comment or "—"))
        ticket_url = None
    else:
        facts = gather(session, settings, survey, request, view.response, rule=view.escalation.rule)
        rows, ticket_url = facts.rows(locale), facts.ticket_url
    history, total = _history(session, request, view.response.id)
    comments: list[Comment] = []
    if request is not None and request.ticket_id is not None:
        comments = list(
            session.exec(
                select(Comment)
                .where(Comment.task_id == request.ticket_id)
                .order_by(col(Comment.created_at), col(Comment.id))
            )
        )
    assignee = None
    if view.escalation.assignee_user_id is not None:
        user = session.get(User, view.escalation.assignee_user_id)
        assignee = staff_name(session, user) if user else None
    sla = sla_of(settings, view.escalation, view.response.survey_key, now)
    return Detail(
        view=view,
        rows=rows,
        ticket_url=ticket_url,
        sla=sla,
        assignee=assignee,
        history=history,
        history_total=total,
        ticket_comments=comments,
        events=timeline(session, escalation_id),
        users=assignable_users(session),
        client_email=view.contact.email if view.contact else None,
        sla_target=sla_hours(settings, view.response.survey_key),
    )


def _history(
    session: Session, request: SurveyRequest | None, current: int | None
) -> tuple[list[HistoryRow], int]:
    if request is None:
        return [], 0
    base = (
        select(Response)
        .join(SurveyRequest, col(SurveyRequest.id) == Response.request_id)
        .where(SurveyRequest.contact_id == request.contact_id)
    )
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    found = session.exec(
        base.order_by(col(Response.created_at).desc(), col(Response.id).desc()).limit(HISTORY)
    )
    rows = [
        HistoryRow(r.created_at, r.survey_key, r.score, r.comment, r.negative, r.id == current)
        for r in found
    ]
    return rows, int(total)

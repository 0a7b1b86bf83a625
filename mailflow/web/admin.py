"""GET /admin: the most recent answers (the dashboard and escalations pages add to this area)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from mailflow.web.auth import admin_page, require_user
from mailflow.web.context import web
from mailflow.web.guards import agent_employee_id
from storage.models import Contact, Response, SurveyRequest, User

router = APIRouter(include_in_schema=False)
RECENT = 50


@dataclass(frozen=True)
class ResponseRow:
    """One answer as the admin list shows it."""

    when: datetime
    survey: str
    answer: str
    comment: str | None
    source: str
    contact: str
    negative: bool


def recent_responses(
    session: Session, limit: int = RECENT, employee_id: int | None = None
) -> list[ResponseRow]:
    """The newest answers with their client, in one query (only `employee_id`'s when given)."""
    query = (
        select(Response, Contact.email)
        .join(SurveyRequest, col(SurveyRequest.id) == Response.request_id)
        .join(Contact, col(Contact.id) == SurveyRequest.contact_id)
        .order_by(col(Response.updated_at).desc(), col(Response.id).desc())
        .limit(limit)
    )
    if employee_id is not None:
        query = query.where(col(SurveyRequest.employee_id) == employee_id)
    rows = []
    for response, email in session.exec(query):
        if response.score is not None and "score" in response.answers:
            answer = str(response.answers["score"])
        else:
            answer = ", ".join(f"{k}: {v}" for k, v in response.answers.items())
        rows.append(
            ResponseRow(
                response.updated_at,
                response.survey_key,
                answer,
                response.comment,
                response.source,
                email,
                response.negative,
            )
        )
    return rows


@router.get("/admin", response_class=HTMLResponse)
async def admin_home(request: Request, user: User = Depends(require_user)) -> HTMLResponse:
    """Recent answers, newest first (an agent's own only)."""
    own = agent_employee_id(user)
    rows = await web(request).run_db(lambda session: recent_responses(session, employee_id=own))
    return admin_page(request, user, "admin.html", rows=rows)

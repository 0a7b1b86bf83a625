"""Reasons after a bad rating, counted: per survey and reason question, and per employee.

One GROUP BY over `answerreason` (indexed by survey, question and option) joined to the
request for the rated employee; the labels come from the survey configuration, so a renamed
option keeps its counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from mailflow.settings import Settings
from storage.models import AnswerReason, Employee, Response, SurveyRequest


@dataclass(frozen=True)
class ReasonCount:
    """How many answers gave one reason (for one employee, or for all of them)."""

    survey_key: str
    question: str
    option: str
    employee: str | None
    count: int


def reason_counts(
    session: Session,
    *,
    survey_key: str | None = None,
    since: datetime | None = None,
    by_employee: bool = False,
) -> list[ReasonCount]:
    """Counts per survey, reason question and option (and rated employee), most first."""
    columns = [AnswerReason.survey_key, AnswerReason.followup, AnswerReason.option]
    where = []
    if survey_key:
        where.append(AnswerReason.survey_key == survey_key)
    if since is not None:
        where.append(AnswerReason.created_at >= since)
    if not by_employee:
        query = select(*columns, func.count()).where(*where).group_by(*columns)
        query = query.order_by(func.count().desc(), *columns)
        return [ReasonCount(s, q, o, None, n) for s, q, o, n in session.exec(query).all()]
    grouped = select(*columns, Employee.name, func.count()).select_from(AnswerReason)
    grouped = (
        grouped.join(Response, Response.id == AnswerReason.response_id)
        .join(SurveyRequest, SurveyRequest.id == Response.request_id)
        .outerjoin(Employee, Employee.id == SurveyRequest.employee_id)
        .where(*where)
        .group_by(*columns, Employee.name)
        .order_by(Employee.name, func.count().desc(), *columns)
    )
    return [ReasonCount(s, q, o, e, n) for s, q, o, e, n in session.exec(grouped).all()]


@dataclass(frozen=True)
class BreakdownRow:
    """One line of the breakdown as a page shows it."""

    survey: str
    question: str
    label: str
    employee: str | None
    count: int
    share: float  # of the answers to this question (for this employee)


def breakdown(
    settings: Settings, counts: list[ReasonCount], locale: str, other_word: str
) -> list[BreakdownRow]:
    """Counts with their labels in `locale` and their share of the question's answers."""
    totals: dict[tuple[str, str, str | None], int] = {}
    for c in counts:
        key = (c.survey_key, c.question, c.employee)
        totals[key] = totals.get(key, 0) + c.count
    rows = []
    for c in counts:
        survey_title, question_text, label = c.survey_key, c.question, c.option
        try:
            survey = settings.survey(c.survey_key)
        except KeyError:
            survey = None
        if survey is not None:
            texts = survey.texts.get(locale)
            survey_title = texts.title if texts else survey.key
            question = survey.reason_question(c.question)
            if question is not None:
                question_text = question.text.get(locale) or question.key
                label = other_word if c.option == "other" else question.label(c.option, locale)
        total = totals[(c.survey_key, c.question, c.employee)]
        rows.append(
            BreakdownRow(survey_title, question_text, label, c.employee, c.count, c.count / total)
        )
    return rows

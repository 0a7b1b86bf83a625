"""Weekly and monthly NPS, CSAT, CES and response rate: GROUP BY a date bucket in SQL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from mailflow.reports.figures import Figures, answer_sums, apply_answer_sums, pct
from mailflow.reports.filters import (
    ReportFilter,
    ReportInputError,
    needs_request,
    response_conditions,
    sent_conditions,
)
from mailflow.reports.format import period_days
from mailflow.reports.sqlfuncs import bucket
from storage.models import Employee, Response, SurveyRequest


@dataclass
class TrendPoint:
    """The figures of one week (its Monday, 'YYYY-MM-DD') or one month ('YYYY-MM')."""

    bucket: str
    answers: int = 0
    nps: float | None = None
    nps_answers: int = 0
    csat: float | None = None
    csat_answers: int = 0
    ces: float | None = None
    ces_answers: int = 0
    coefficient: float | None = None
    sent: int = 0
    answered: int = 0
    response_rate: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def trends(
    session: Session, types: Mapping[str, str], flt: ReportFilter, size: str = "month"
) -> list[TrendPoint]:
    """One point per bucket that has answers or sent requests, oldest first."""
    if size not in ("week", "month"):
        raise ReportInputError("bucket", f"'{size}' is not week or month")
    dialect = session.get_bind().dialect.name
    team_joined = bool(flt.team)

    zone = str(flt.zone)
    answer_bucket = bucket(Response.created_at, size, dialect, zone).label("bucket")  # type: ignore[arg-type]
    answers_q = select(answer_bucket, *answer_sums(types)).select_from(Response)
    if needs_request(flt):
        answers_q = answers_q.join(SurveyRequest, Response.request_id == SurveyRequest.id)
        if team_joined:
            answers_q = answers_q.outerjoin(Employee, SurveyRequest.employee_id == Employee.id)
    sent_bucket = bucket(SurveyRequest.sent_at, size, dialect, zone).label("bucket")  # type: ignore[arg-type]
    answered = func.count(SurveyRequest.answered_at)  # stamped by the first answer
    sent_q = select(sent_bucket, func.count().label("sent"), answered.label("answered"))
    sent_q = sent_q.select_from(SurveyRequest)
    if flt.channels:
        answered = func.count(Response.id).filter(Response.source.in_(flt.channels))
        sent_q = select(sent_bucket, func.count().label("sent"), answered.label("answered"))
        sent_q = sent_q.select_from(SurveyRequest).outerjoin(
            Response, Response.request_id == SurveyRequest.id
        )
    if team_joined:
        sent_q = sent_q.outerjoin(Employee, SurveyRequest.employee_id == Employee.id)
    answers_q = answers_q.where(response_conditions(session, flt, team_joined=team_joined))
    sent_q = sent_q.where(sent_conditions(session, flt, team_joined=team_joined))
    answers_q = answers_q.group_by(answer_bucket.element)
    sent_q = sent_q.group_by(sent_bucket.element)

    points: dict[str, TrendPoint] = {}
    for result in session.execute(answers_q).mappings():
        figures = Figures(key=result["bucket"], label=result["bucket"])
        apply_answer_sums(figures, result)
        points[result["bucket"]] = TrendPoint(
            bucket=result["bucket"],
            answers=figures.answers,
            nps=figures.nps,
            nps_answers=figures.nps_answers,
            csat=figures.csat,
            csat_answers=figures.csat_answers,
            ces=figures.ces,
            ces_answers=figures.ces_answers,
            coefficient=figures.coefficient,
        )
    for result in session.execute(sent_q).mappings():
        point = points.setdefault(result["bucket"], TrendPoint(bucket=result["bucket"]))
        point.sent, point.answered = int(result["sent"]), int(result["answered"])
        point.response_rate = pct(point.answered, point.sent)
    return [points[key] for key in sorted(points)]


def _next_bucket(key: str, size: str) -> str:
    if size == "month":
        year, month = int(key[:4]), int(key[5:7])
        return f"{year + month // 12:04d}-{month % 12 + 1:02d}"
    return (date.fromisoformat(key) + timedelta(days=7)).isoformat()


def _bucket_of(day: date, size: str) -> str:
    if size == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return (day - timedelta(days=day.weekday())).isoformat()


def with_gaps(points: list[TrendPoint], flt: ReportFilter, size: str) -> list[TrendPoint]:
    """Every bucket of the period (or from the first to the last point), the empty ones
    as points without figures, so a chart shows a gap there instead of joining over it."""
    first, last = period_days(flt)
    keys = [p.bucket for p in points]
    start = _bucket_of(first, size) if first else (keys[0] if keys else None)
    stop = _bucket_of(last, size) if last else (keys[-1] if keys else None)
    if start is None or stop is None:
        return points
    known = {p.bucket: p for p in points}
    filled, key = [], start
    while key <= stop and len(filled) < 1000:
        filled.append(known.get(key) or TrendPoint(bucket=key))
        key = _next_bucket(key, size)
    return filled

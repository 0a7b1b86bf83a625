"""Per-employee / per-survey / per-team figures: three GROUP BY queries, merged per group.

1. answers in the period: positive, negative, CSAT / NPS / CES / thumbs sums;
2. requests sent in the period: sent and answered (response rate);
3. the median time to answer of the answers in the period.

The database does the counting; Python only divides the sums of each group, so SQLite and
PostgreSQL give the same figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from mailflow.reports.filters import (
    GROUPINGS,
    ReportFilter,
    ReportInputError,
    answered_conditions,
    needs_request,
    response_conditions,
    sent_conditions,
)
from mailflow.reports.sqlfuncs import epoch_seconds, median_by
from storage.models import Employee, Response, SurveyRequest


@dataclass
class Figures:
    """One row of a report: a group (employee, survey, team, or everything) and its figures."""

    key: str | int | None
    label: str
    team: str | None = None
    answers: int = 0
    positive: int = 0
    negative: int = 0
    coefficient: float | None = None  # positive / (positive + negative), %
    csat: float | None = None  # % of csat answers that are 4 or 5
    csat_answers: int = 0
    nps: float | None = None  # % promoters - % detractors
    nps_answers: int = 0
    ces: float | None = None  # mean score
    ces_answers: int = 0
    thumbs_up: float | None = None  # % of thumbs answers that are up
    thumbs_answers: int = 0
    sent: int = 0
    answered: int = 0
    response_rate: float | None = None  # answered / sent, %
    median_seconds: float | None = None  # answered_at - sent_at
    # distributions: NPS groups, thumbs up/down, and how many answers gave each score
    nps_promoters: int = 0
    nps_passives: int = 0
    nps_detractors: int = 0
    thumbs_up_count: int = 0
    thumbs_down_count: int = 0
    csat_histogram: dict[int, int] = field(default_factory=dict)
    ces_histogram: dict[int, int] = field(default_factory=dict)

    @property
    def coefficient_answers(self) -> int:
        return self.positive + self.negative

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def pct(part: int, whole: int) -> float | None:
    """A percentage with one decimal, or None when there is nothing to divide."""
    return None if not whole else round(100.0 * part / whole, 1)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# The scales histograms are drawn over (mailflow.survey_types).
HISTOGRAMS = {"csat": range(1, 6), "ces": range(1, 8)}


def _keys_of(types: Mapping[str, str], kind: str) -> list[str]:
    return sorted(key for key, value in types.items() if value == kind)


def answer_sums(types: Mapping[str, str]) -> list[ColumnElement[Any]]:
    """The SUM(CASE …) columns of the answers query."""
    csat, nps = _keys_of(types, "csat"), _keys_of(types, "nps")
    ces, thumbs = _keys_of(types, "ces"), _keys_of(types, "thumbs")
    score = Response.score
    scored = score.is_not(None)
    survey = Response.survey_key
    return [
        func.count(Response.id).label("answers"),
        _count(Response.negative.is_(False)).label("positive"),
        _count(Response.negative.is_(True)).label("negative"),
        _count(and_(survey.in_(csat), scored)).label("csat_n"),
        _count(and_(survey.in_(csat), score >= 4)).label("csat_top"),
        _count(and_(survey.in_(nps), scored)).label("nps_n"),
        _count(and_(survey.in_(nps), score >= 9)).label("nps_promoters"),
        _count(and_(survey.in_(nps), score <= 6)).label("nps_detractors"),
        _count(and_(survey.in_(ces), scored)).label("ces_n"),
        func.coalesce(func.sum(case((and_(survey.in_(ces), scored), score), else_=0)), 0).label(
            "ces_sum"
        ),
        _count(and_(survey.in_(thumbs), scored)).label("thumbs_n"),
        _count(and_(survey.in_(thumbs), score == 1)).label("thumbs_up"),
        *(
            _count(and_(survey.in_(_keys_of(types, kind)), score == value)).label(f"{kind}_{value}")
            for kind, values in HISTOGRAMS.items()
            for value in values
        ),
    ]


def apply_answer_sums(row: Figures, sums: Mapping[str, Any]) -> None:
    """Fill a Figures from one row of the answers query."""
    row.answers, row.positive, row.negative = (
        int(sums["answers"]),
        int(sums["positive"]),
        int(sums["negative"]),
    )
    row.coefficient = pct(row.positive, row.positive + row.negative)
    row.csat_answers = int(sums["csat_n"])
    row.csat = pct(int(sums["csat_top"]), row.csat_answers)
    row.nps_answers = int(sums["nps_n"])
    if row.nps_answers:
        promoters, detractors = int(sums["nps_promoters"]), int(sums["nps_detractors"])
        row.nps = round(100.0 * (promoters - detractors) / row.nps_answers, 1)
        row.nps_promoters, row.nps_detractors = promoters, detractors
        row.nps_passives = row.nps_answers - promoters - detractors
    row.ces_answers = int(sums["ces_n"])
    row.ces = round(int(sums["ces_sum"]) / row.ces_answers, 2) if row.ces_answers else None
    row.thumbs_answers = int(sums["thumbs_n"])
    row.thumbs_up = pct(int(sums["thumbs_up"]), row.thumbs_answers)
    row.thumbs_up_count = int(sums["thumbs_up"])
    row.thumbs_down_count = row.thumbs_answers - row.thumbs_up_count
    row.csat_histogram = {v: int(sums[f"csat_{v}"]) for v in HISTOGRAMS["csat"]}
    row.ces_histogram = {v: int(sums[f"ces_{v}"]) for v in HISTOGRAMS["ces"]}


def _group(by: str | None, survey_column: Any) -> tuple[list[ColumnElement[Any]], bool]:
    """Group-key columns (labelled 'key') and whether Employee must be joined."""
    if by is None:
        return [], False
    if by == "employee":
        return [SurveyRequest.employee_id.label("key")], False
    if by == "survey":
        return [survey_column.label("key")], False
    if by == "team":
        return [Employee.team.label("key")], True
    raise ReportInputError("by", f"'{by}' is not one of {', '.join(GROUPINGS)}")


def _queries(session: Session, types: Mapping[str, str], flt: ReportFilter, by: str | None):
    """The answers, sent and median queries; each joins only the tables it needs."""
    dialect = session.get_bind().dialect.name
    answer_keys, join_employee = _group(by, Response.survey_key)
    request_keys, _ = _group(by, SurveyRequest.survey_key)
    team_joined = join_employee or bool(flt.team)

    def with_employee(query: Any) -> Any:
        if team_joined:
            return query.outerjoin(Employee, SurveyRequest.employee_id == Employee.id)
        return query

    answers_q = select(*answer_keys, *answer_sums(types)).select_from(Response)
    if by in ("employee", "team") or needs_request(flt):
        answers_q = with_employee(
            answers_q.join(SurveyRequest, Response.request_id == SurveyRequest.id)
        )
    answers_q = answers_q.where(response_conditions(session, flt, team_joined=team_joined))
    answers_q = answers_q.group_by(*answer_keys)

    # answered_at is stamped by the first answer: no join unless a channel is asked for.
    answered = func.count(SurveyRequest.answered_at)
    sent_q = select(*request_keys, func.count().label("sent"), answered.label("answered"))
    sent_q = with_employee(sent_q.select_from(SurveyRequest))
    if flt.channels:
        sent_q = sent_q.add_columns(_count(Response.source.in_(flt.channels)).label("by_channel"))
        sent_q = sent_q.outerjoin(Response, Response.request_id == SurveyRequest.id)
    sent_q = sent_q.where(sent_conditions(session, flt, team_joined=team_joined))
    sent_q = sent_q.group_by(*request_keys)

    waited = (
        epoch_seconds(SurveyRequest.answered_at, dialect)
        - epoch_seconds(SurveyRequest.sent_at, dialect)
    ).label("waited")
    durations = with_employee(select(*request_keys, waited).select_from(SurveyRequest))
    if flt.channels:
        durations = durations.join(Response, Response.request_id == SurveyRequest.id)
    durations = durations.where(answered_conditions(session, flt, team_joined=team_joined))
    median_q = median_by(durations, "waited", ["key"] if request_keys else [])
    return answers_q, sent_q, median_q


def figures(
    session: Session,
    types: Mapping[str, str],
    flt: ReportFilter,
    by: str | None = "employee",
) -> list[Figures]:
    """The report grouped `by` employee | survey | team, or one total row when None."""
    answers_q, sent_q, median_q = _queries(session, types, flt, by)
    rows: dict[Any, Figures] = {}

    def row_for(key: Any) -> Figures:
        if key not in rows:
            rows[key] = Figures(key=key, label="" if key is None else str(key))
        return rows[key]

    for result in session.execute(answers_q).mappings():
        apply_answer_sums(row_for(result.get("key")), result)
    for result in session.execute(sent_q).mappings():
        row = row_for(result.get("key"))
        row.sent = int(result["sent"])
        row.answered = int(result["by_channel" if flt.channels else "answered"])
        row.response_rate = pct(row.answered, row.sent)
    for result in session.execute(median_q).mappings():
        if result["median"] is not None:
            row_for(result.get("key")).median_seconds = float(result["median"])
    if by is None:
        total = rows.get(None) or Figures(key=None, label="")
        total.label = "total"
        return [total]
    _label(session, by, rows)
    return sorted(rows.values(), key=lambda r: (r.key is None, r.label.lower()))


def _label(session: Session, by: str, rows: dict[Any, Figures]) -> None:
    """Names and teams for employee rows (one small query); '—' for a missing key."""
    if by == "employee":
        ids = [key for key in rows if key is not None]
        found = session.execute(
            select(Employee.id, Employee.name, Employee.team).where(Employee.id.in_(ids))
        ).all()
        for employee_id, name, team in found:
            rows[employee_id].label, rows[employee_id].team = name, team
    for key, row in rows.items():
        if key is None:
            row.label = "—"


def total_figures(session: Session, types: Mapping[str, str], flt: ReportFilter) -> Figures:
    """Everything in the filter as one row (the overview's headline figures)."""
    return figures(session, types, flt, by=None)[0]

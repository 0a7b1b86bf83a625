"""Segments: saved filters over contacts and their responses.

A definition is a small JSON object (validated here, stored in storage.models.Segment):

    {"type": "last_score", "survey": "csat", "below": 3}          last CSAT below 3
    {"type": "nps_group", "survey": "nps", "group": "detractor"}  latest NPS 0-6
    {"type": "no_answer_in_days", "days": 90}                     no answer in 90 days
    {"type": "negative_in_days", "days": 30}                      a negative answer lately
    {"type": "reason", "reason": "rude", "days": 90}              gave reason "rude" lately
    {"type": "team", "team": "printers"} / {"type": "vip"}        contact attributes
    {"type": "all" | "any", "of": [ … ]}                          AND / OR of the above

`condition(definition)` is a SQL boolean over Contact.id, so a campaign can use it as its
audience (`contacts_in_segment`) and a report can filter requests or responses by it
(`SurveyRequest.contact_id.in_(contact_ids(definition))`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, true
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.clock import utcnow
from storage.models import AnswerReason, Contact, Response, Segment, SurveyRequest

Strict = ConfigDict(extra="forbid", frozen=True)
NPS_GROUPS = {"detractor": (0, 6), "passive": (7, 8), "promoter": (9, 10)}


class SegmentError(Exception):
    """A segment that cannot be saved or used; str() is the one line to show."""


class InvalidSegment(SegmentError):
    """The definition does not validate; the message names the field."""


class UnknownSegment(SegmentError):
    """No segment has this name."""


class SegmentExists(SegmentError):
    """A segment with this name exists already."""


class LastScore(BaseModel):
    """The contact's latest answer to `survey` has a score in the given bounds."""

    model_config = Strict
    type: Literal["last_score"]
    survey: str
    below: int | None = None
    at_most: int | None = None
    at_least: int | None = None

    @model_validator(mode="after")
    def _bounded(self) -> LastScore:
        if self.below is None and self.at_most is None and self.at_least is None:
            raise ValueError("give at least one of below, at_most, at_least")
        return self


class NpsGroup(BaseModel):
    """The contact's latest NPS answer makes them a detractor, passive or promoter."""

    model_config = Strict
    type: Literal["nps_group"]
    survey: str = "nps"
    group: Literal["detractor", "passive", "promoter"]


class NoAnswerInDays(BaseModel):
    """No response from the contact in the last `days` days (or ever)."""

    model_config = Strict
    type: Literal["no_answer_in_days"]
    days: int = Field(gt=0)


class NegativeInDays(BaseModel):
    """At least one negative response from the contact in the last `days` days."""

    model_config = Strict
    type: Literal["negative_in_days"]
    days: int = Field(gt=0)


class ReasonGiven(BaseModel):
    """Contacts who gave reason `reason` (an option key, or "other") after an answer, in the
    last `days` days if set; `survey` and `question` narrow it to one survey or question."""

    model_config = Strict
    type: Literal["reason"]
    reason: str = Field(min_length=1, max_length=100)
    survey: str | None = None
    question: str | None = None
    days: int | None = Field(default=None, gt=0)


class Team(BaseModel):
    """Contacts of one team."""

    model_config = Strict
    type: Literal["team"]
    team: str


class Vip(BaseModel):
    """VIP contacts (or, with vip = false, the others)."""

    model_config = Strict
    type: Literal["vip"]
    vip: bool = True


class AllOf(BaseModel):
    """Every part matches (AND)."""

    model_config = Strict
    type: Literal["all"]
    of: list[Definition] = Field(min_length=1)


class AnyOf(BaseModel):
    """Some part matches (OR)."""

    model_config = Strict
    type: Literal["any"]
    of: list[Definition] = Field(min_length=1)


Definition = Annotated[
    LastScore
    | NpsGroup
    | NoAnswerInDays
    | NegativeInDays
    | ReasonGiven
    | Team
    | Vip
    | AllOf
    | AnyOf,
    Field(discriminator="type"),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()
_ADAPTER: TypeAdapter[Any] = TypeAdapter(Definition)

PRESETS: dict[str, dict[str, Any]] = {
    "csat_below_3": {"type": "last_score", "survey": "csat", "below": 3},
    "nps_detractors": {"type": "nps_group", "survey": "nps", "group": "detractor"},
    "no_answer_90_days": {"type": "no_answer_in_days", "days": 90},
}


def parse(definition: dict[str, Any]) -> Any:
    """The validated definition, or InvalidSegment naming the field."""
    try:
        return _ADAPTER.validate_python(definition)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if not str(p).startswith("function"))
        message = first.get("msg", "invalid").removeprefix("Value error, ")
        if first.get("type") == "extra_forbidden":
            message = "unknown field"
        raise InvalidSegment(f"segment definition: {where or 'type'}: {message}") from None


def _latest_scores(survey: str) -> Any:
    """Per contact, the score of the latest response to `survey` (a subquery)."""
    ranked = (
        select(
            SurveyRequest.contact_id.label("contact_id"),
            Response.score.label("score"),
            func.row_number()
            .over(
                partition_by=SurveyRequest.contact_id,
                order_by=(Response.created_at.desc(), Response.id.desc()),
            )
            .label("rank"),
        )
        .join(SurveyRequest, SurveyRequest.id == Response.request_id)
        .where(Response.survey_key == survey)
        .subquery()
    )
    return ranked


def _score_between(survey: str, low: int | None, high: int | None) -> ColumnElement[bool]:
    ranked = _latest_scores(survey)
    bounds = [ranked.c.rank == 1, ranked.c.score.is_not(None)]
    if low is not None:
        bounds.append(ranked.c.score >= low)
    if high is not None:
        bounds.append(ranked.c.score <= high)
    return Contact.id.in_(select(ranked.c.contact_id).where(*bounds))


def _answered_since(since: datetime, *, negative: bool = False) -> Any:
    query = (
        select(Response.id)
        .join(SurveyRequest, SurveyRequest.id == Response.request_id)
        .where(SurveyRequest.contact_id == Contact.id, Response.created_at >= since)
    )
    if negative:
        query = query.where(Response.negative.is_(True))
    return exists(query)


def _gave_reason(definition: ReasonGiven, now: datetime) -> Any:
    query = (
        select(AnswerReason.id)
        .join(Response, Response.id == AnswerReason.response_id)
        .join(SurveyRequest, SurveyRequest.id == Response.request_id)
        .where(SurveyRequest.contact_id == Contact.id, AnswerReason.option == definition.reason)
    )
    if definition.survey:
        query = query.where(AnswerReason.survey_key == definition.survey)
    if definition.question:
        query = query.where(AnswerReason.followup == definition.question)
    if definition.days:
        query = query.where(AnswerReason.created_at >= now - timedelta(days=definition.days))
    return exists(query)


def condition(definition: Any, *, now: datetime | None = None) -> ColumnElement[bool]:
    """A SQL boolean over Contact (use with select(Contact…)) for a parsed or raw definition."""
    if isinstance(definition, dict):
        definition = parse(definition)
    now = now or utcnow()
    match definition:
        case LastScore(survey=survey, below=below, at_most=at_most, at_least=at_least):
            highs = [h for h in (at_most, None if below is None else below - 1) if h is not None]
            return _score_between(survey, at_least, min(highs) if highs else None)
        case NpsGroup(survey=survey, group=group):
            low, high = NPS_GROUPS[group]
            return _score_between(survey, low, high)
        case NoAnswerInDays(days=days):
            return ~_answered_since(now - timedelta(days=days))
        case NegativeInDays(days=days):
            return _answered_since(now - timedelta(days=days), negative=True)
        case ReasonGiven():
            return _gave_reason(definition, now)
        case Team(team=team):
            return Contact.team == team
        case Vip(vip=vip):
            return Contact.vip.is_(vip)
        case AllOf(of=parts):
            return and_(true(), *(condition(p, now=now) for p in parts))
        case AnyOf(of=parts):
            return or_(false(), *(condition(p, now=now) for p in parts))
    raise InvalidSegment(f"segment definition: type: unsupported {definition!r}")


def contact_ids(definition: Any, *, now: datetime | None = None) -> Select[Any]:
    """SELECT Contact.id of the segment: `SurveyRequest.contact_id.in_(contact_ids(d))`."""
    return select(Contact.id).where(condition(definition, now=now))


def _segment(session: Session, segment: Segment | str) -> Segment:
    if isinstance(segment, Segment):
        return segment
    found = session.exec(select(Segment).where(Segment.name == segment)).first()
    if found is None:
        raise UnknownSegment(f"no segment named '{segment}' (see `mailflow segments list`)")
    return found


def contacts_in_segment(
    session: Session, segment: Segment | str, *, now: datetime | None = None
) -> list[int]:
    """The ids of the contacts in a segment (by row or by name), ascending."""
    definition = _segment(session, segment).definition
    query = contact_ids(definition, now=now).order_by(Contact.id)
    return list(session.exec(query))


def create_segment(session: Session, name: str, definition: dict[str, Any]) -> Segment:
    """Validate and save a segment; InvalidSegment or SegmentExists on refusal."""
    name = name.strip()
    if not name:
        raise InvalidSegment("segment name: required")
    stored = parse(definition).model_dump(mode="json", exclude_none=True)
    segment = Segment(name=name, definition=stored)
    try:
        with session.begin_nested():
            session.add(segment)
    except IntegrityError:
        raise SegmentExists(f"a segment named '{name}' exists already") from None
    return segment


def list_segments(session: Session) -> list[Segment]:
    """All saved segments by name."""
    return list(session.exec(select(Segment).order_by(Segment.name)))


def get_segment(session: Session, name: str) -> Segment:
    """One segment by name, or UnknownSegment."""
    return _segment(session, name)

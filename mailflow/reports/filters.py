"""What a report is about: period, survey, employee, team, channel and segment, parsed once.

Every report (CLI, JSON API, dashboard, CSV) takes the same `ReportFilter`, so a figure means
the same thing wherever it is shown. Bad input raises `ReportInputError` naming the field.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, and_, true
from sqlmodel import Session

from mailflow import segments
from mailflow.settings import Settings
from storage.models import SOURCES, Employee, Response, SurveyRequest

# "form" is what a user calls both form channels.
CHANNEL_ALIASES: dict[str, tuple[str, ...]] = {"form": ("google_form", "web_form")}
GROUPINGS = ("employee", "survey", "team")
# Date presets a user picks instead of typing dates; "custom" means the from/to fields.
PRESETS = ("7d", "30d", "90d", "this_month", "last_month", "quarter", "year", "custom")


class ReportError(Exception):
    """A report that cannot be produced as asked; the message is shown to the user."""


class ReportInputError(ReportError):
    """A filter value that does not parse; `field` names the option."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class ReportFilter:
    """The filters every report accepts; `start` inclusive, `end` exclusive, both UTC instants
    of local midnights in `zone` (the configured time zone)."""

    start: datetime | None = None
    end: datetime | None = None
    survey: str | None = None
    employee_id: int | None = None
    team: str | None = None
    channel: str | None = None
    segment: str | None = None
    zone: tzinfo = UTC

    def previous(self) -> ReportFilter | None:
        """The same filter over the period of the same length just before this one
        (None for an open-ended period, which has nothing to compare with)."""
        if self.start is None or self.end is None:
            return None
        return replace(self, start=self.start - (self.end - self.start), end=self.start)

    def without_period(self) -> ReportFilter:
        return replace(self, start=None, end=None)

    @property
    def channels(self) -> tuple[str, ...] | None:
        if self.channel is None:
            return None
        return CHANNEL_ALIASES.get(self.channel, (self.channel,))


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ReportInputError(field, f"'{value}' is not a date (YYYY-MM-DD)") from None


def _midnight(day: date, zone: tzinfo = UTC) -> datetime:
    """The UTC instant of local midnight starting `day` in `zone` (DST-safe: no day lengths)."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def parse_period(value: str, zone: tzinfo = UTC) -> tuple[datetime, datetime]:
    """'2026', '2026-10' or '2026-10-05' -> [start, end), local midnights in `zone` as UTC."""
    text = value.strip()
    if re.fullmatch(r"\d{4}", text):
        year = int(text)
        return _midnight(date(year, 1, 1), zone), _midnight(date(year + 1, 1, 1), zone)
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", text)
    if match:
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise ReportInputError("period", f"'{value}' has no month {month}")
        last = date(year, month, calendar.monthrange(year, month)[1])
        return _midnight(date(year, month, 1), zone), _midnight(last + timedelta(days=1), zone)
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
        day = _day(text, "period")
        return _midnight(day, zone), _midnight(day + timedelta(days=1), zone)
    raise ReportInputError("period", f"'{value}' is not YYYY, YYYY-MM or YYYY-MM-DD")


def _month_start(day: date, back: int = 0) -> date:
    month = day.year * 12 + day.month - 1 - back
    return date(month // 12, month % 12 + 1, 1)


def preset_days(preset: str, today: date) -> tuple[date, date]:
    """[first day, day after the last] of a preset, in the local calendar; today included."""
    tomorrow = today + timedelta(days=1)
    if preset in ("7d", "30d", "90d"):
        return tomorrow - timedelta(days=int(preset[:-1])), tomorrow
    if preset == "this_month":
        return _month_start(today), tomorrow
    if preset == "last_month":
        return _month_start(today, 1), _month_start(today)
    if preset == "quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), tomorrow
    if preset == "year":
        return date(today.year, 1, 1), tomorrow
    raise ReportInputError("preset", f"'{preset}' is not one of {', '.join(PRESETS)}")


def build_filter(
    settings: Settings,
    *,
    preset: str | None = None,
    today: date | None = None,
    period: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    survey: str | None = None,
    employee: str | int | None = None,
    team: str | None = None,
    channel: str | None = None,
    segment: str | None = None,
) -> ReportFilter:
    """A validated filter from user strings (CLI options, query arguments)."""
    start = end = None
    zone = settings.zone
    if preset and preset != "custom":
        if period or date_from or date_to:
            raise ReportInputError("preset", "use either a preset or a period / from / to")
        local_today = today or datetime.now(UTC).astimezone(zone).date()
        first, after = preset_days(preset, local_today)
        start, end = _midnight(first, zone), _midnight(after, zone)
    elif preset == "custom" and not (date_from or date_to or period):
        raise ReportInputError("from", "a custom period needs a start or an end date")
    if period:
        if date_from or date_to:
            raise ReportInputError("period", "use either a period or --from/--to, not both")
        start, end = parse_period(period, zone)
    if date_from:
        start = _midnight(_day(date_from, "from"), zone)
    if date_to:
        end = _midnight(_day(date_to, "to") + timedelta(days=1), zone)
    if start is not None and end is not None and end <= start:
        raise ReportInputError("to", "the end of the period is before its start")
    known = [s.key for s in settings.surveys]
    if survey and survey not in known:
        raise ReportInputError("survey", f"unknown survey '{survey}' (configured: {known})")
    if channel and channel not in SOURCES and channel not in CHANNEL_ALIASES:
        names = ", ".join((*SOURCES, *CHANNEL_ALIASES))
        raise ReportInputError("channel", f"unknown channel '{channel}' (one of {names})")
    employee_id = None
    if employee not in (None, ""):
        try:
            employee_id = int(employee)  # type: ignore[arg-type]
        except ValueError:
            raise ReportInputError("employee", f"'{employee}' is not an employee id") from None
    return ReportFilter(
        start=start,
        end=end,
        survey=survey or None,
        employee_id=employee_id,
        team=team or None,
        channel=channel or None,
        segment=segment or None,
        zone=zone,
    )


def survey_types(settings: Settings) -> Mapping[str, str]:
    """Survey key -> type (nps, csat, ces, thumbs, form) from the configuration."""
    return {s.key: s.type for s in settings.surveys}


def segment_condition(session: Session, name: str) -> ColumnElement[bool]:
    """Requests whose contact is in the named segment, as a subquery the database filters."""
    try:
        definition = segments.get_segment(session, name).definition
    except segments.SegmentError as exc:
        raise ReportInputError("segment", str(exc) or f"unknown segment '{name}'") from None
    return SurveyRequest.contact_id.in_(segments.contact_ids(definition))


def needs_request(flt: ReportFilter) -> bool:
    """Whether answer queries must join SurveyRequest (employee, team or segment filters)."""
    return flt.employee_id is not None or bool(flt.team) or bool(flt.segment)


def request_conditions(
    session: Session, flt: ReportFilter, *, team_joined: bool, survey_column: Any = None
) -> list[ColumnElement[bool]]:
    """Conditions on SurveyRequest (and Employee when `team_joined`) shared by all reports."""
    conditions: list[ColumnElement[bool]] = []
    if flt.survey:
        column = SurveyRequest.survey_key if survey_column is None else survey_column
        conditions.append(column == flt.survey)
    if flt.employee_id is not None:
        conditions.append(SurveyRequest.employee_id == flt.employee_id)
    if flt.team:
        if team_joined:
            conditions.append(Employee.team == flt.team)
        else:
            team_members = Employee.__table__.select().with_only_columns(Employee.id)
            conditions.append(
                SurveyRequest.employee_id.in_(team_members.where(Employee.team == flt.team))
            )
    if flt.segment:
        conditions.append(segment_condition(session, flt.segment))
    return conditions


def response_conditions(
    session: Session, flt: ReportFilter, *, team_joined: bool = False
) -> ColumnElement[bool]:
    """The WHERE of every answer-based report: period on Response.created_at, then the rest.

    Survey is matched on Response.survey_key, so without employee/team/segment filters the
    query needs no join with SurveyRequest (see `needs_request`).
    """
    conditions = request_conditions(
        session, flt, team_joined=team_joined, survey_column=Response.survey_key
    )
    if flt.start is not None:
        conditions.append(Response.created_at >= flt.start)
    if flt.end is not None:
        conditions.append(Response.created_at < flt.end)
    if flt.channels:
        conditions.append(Response.source.in_(flt.channels))
    return and_(true(), *conditions)


def sent_conditions(
    session: Session, flt: ReportFilter, *, team_joined: bool = False
) -> ColumnElement[bool]:
    """The WHERE of response-rate figures: requests sent in the period."""
    conditions = request_conditions(session, flt, team_joined=team_joined)
    conditions.append(SurveyRequest.sent_at.is_not(None))
    if flt.start is not None:
        conditions.append(SurveyRequest.sent_at >= flt.start)
    if flt.end is not None:
        conditions.append(SurveyRequest.sent_at < flt.end)
    return and_(true(), *conditions)


def answered_conditions(
    session: Session, flt: ReportFilter, *, team_joined: bool = False
) -> ColumnElement[bool]:
    """The WHERE of time-to-answer figures: requests first answered in the period.

    record_answer stamps SurveyRequest.answered_at with the first answer's time, the same
    instant as its Response.created_at, so this is the answers' period without a join.
    """
    conditions = request_conditions(session, flt, team_joined=team_joined)
    conditions += [SurveyRequest.sent_at.is_not(None), SurveyRequest.answered_at.is_not(None)]
    if flt.start is not None:
        conditions.append(SurveyRequest.answered_at >= flt.start)
    if flt.end is not None:
        conditions.append(SurveyRequest.answered_at < flt.end)
    if flt.channels:
        conditions.append(Response.source.in_(flt.channels))
    return and_(true(), *conditions)

"""JSON API for the report figures (API key, `Authorization: Bearer …`).

Keys need the reports:read scope (`mailflow apikey create NAME --scope reports:read`); a key
for events alone (the default) gets 403.

GET /api/reports/figures?by=employee|survey|team&period=2026-10&…  rows + total
GET /api/reports/trends?bucket=week|month&…                          one point per bucket
GET /api/reports/tickets?page=1&limit=50&negative=1&…                answers with their ticket

Filters are the dashboard's: period, from, to, survey, employee, team, channel, segment.
A bad value answers 400 with {"error": "...", "field": "..."}.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session

from mailflow.reports import (
    GROUPINGS,
    ReportError,
    ReportFilter,
    ReportInputError,
    build_filter,
    figures,
    rated_tickets,
    survey_types,
    total_figures,
    trends,
)
from mailflow.web.api import require_scope
from mailflow.web.context import web
from mailflow.web.limits import MAX_PAGE, employee_id_text
from storage.models import ApiKey

router = APIRouter(prefix="/api/reports", tags=["reports"])


def _filter(request: Request) -> ReportFilter:
    q = request.query_params
    return build_filter(
        web(request).settings,
        period=q.get("period"),
        date_from=q.get("from"),
        date_to=q.get("to"),
        survey=q.get("survey"),
        employee=employee_id_text(q.get("employee")),
        team=q.get("team"),
        channel=q.get("channel"),
        segment=q.get("segment"),
    )


def _describe(flt: ReportFilter) -> dict[str, Any]:
    return {
        "from": flt.start.isoformat() if flt.start else None,
        "to": flt.end.isoformat() if flt.end else None,
        "survey": flt.survey,
        "employee": flt.employee_id,
        "team": flt.team,
        "channel": flt.channel,
        "segment": flt.segment,
    }


def _error(exc: ReportError) -> JSONResponse:
    field = exc.field if isinstance(exc, ReportInputError) else None
    return JSONResponse({"error": str(exc), "field": field}, status_code=400)


@router.get("/figures")
async def report_figures(
    request: Request,
    by: str = Query("employee", description="employee, survey or team"),
    key: ApiKey = Depends(require_scope("reports:read")),
) -> JSONResponse:
    """Positive/negative counts, coefficient, CSAT, NPS, CES, thumbs, response rate, median."""
    ctx = web(request)
    types = survey_types(ctx.settings)
    try:
        if by not in GROUPINGS:
            raise ReportInputError("by", f"'{by}' is not one of {', '.join(GROUPINGS)}")
        flt = _filter(request)

        def load(session: Session) -> dict[str, Any]:
            rows = figures(session, types, flt, by=by)
            return {
                "by": by,
                "filter": _describe(flt),
                "rows": [row.as_dict() for row in rows],
                "total": total_figures(session, types, flt).as_dict(),
            }

        return JSONResponse(await ctx.run_report(load))
    except ReportError as exc:
        return _error(exc)


@router.get("/trends")
async def report_trends(
    request: Request,
    bucket: str = Query("month", description="week or month"),
    key: ApiKey = Depends(require_scope("reports:read")),
) -> JSONResponse:
    """NPS, CSAT, CES and response rate per ISO week (its Monday) or month."""
    ctx = web(request)
    types = survey_types(ctx.settings)
    try:
        flt = _filter(request)
        points = await ctx.run_report(lambda session: trends(session, types, flt, bucket))
    except ReportError as exc:
        return _error(exc)
    return JSONResponse(
        {"bucket": bucket, "filter": _describe(flt), "points": [p.as_dict() for p in points]}
    )


@router.get("/tickets")
async def report_tickets(
    request: Request,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    limit: int = Query(50, ge=1, le=500),
    negative: bool = Query(False, description="only negative answers"),
    key: ApiKey = Depends(require_scope("reports:read")),
) -> JSONResponse:
    """Answers newest first with ticket, contact, employee, comment and escalation ids."""
    ctx = web(request)
    types = survey_types(ctx.settings)
    try:
        flt = _filter(request)
        rows, count = await ctx.run_report(
            lambda session: rated_tickets(
                session, types, flt, limit=limit, offset=(page - 1) * limit, negative_only=negative
            )
        )
    except ReportError as exc:
        return _error(exc)
    return JSONResponse(
        {"count": count, "page": page, "limit": limit, "rows": [r.as_dict() for r in rows]}
    )

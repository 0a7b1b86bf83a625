"""The dashboard under the admin login: overview, employees, tickets, escalations, quarantine,
survey requests, and the CSV download. Every figure comes from mailflow.reports.

Pages speak the user's locale, or `?lang=en|ru|pl`; filters are plain GET forms, so a
filtered view is a link that can be shared. Bad filter values show the reason on the page.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import select
from sqlmodel import Session

from mailflow.export import BOM, csv_chunks, safe_cell
from mailflow.i18n import ui
from mailflow.reports import (
    GROUPINGS,
    ReportError,
    ReportFilter,
    build_filter,
    figures,
    iter_rated_tickets,
    rated_tickets,
    survey_types,
    table,
    total_figures,
    trends,
    with_gaps,
)
from mailflow.reports import admin as lists
from mailflow.reports.filters import PRESETS
from mailflow.reports.format import duration, number, period_caption
from mailflow.reports.kpis import kpis
from mailflow.web.auth import require_user
from mailflow.web.charts import Series, bar_chart, line_chart
from mailflow.web.context import web
from mailflow.web.errors import NotFound
from mailflow.web.guards import may_see_employee, scope_filter
from mailflow.web.limits import DbId, employee_id_text, page_number
from storage.models import REQUEST_STATES, SOURCES, Comment, Contact, Employee, Segment, Task, User

router = APIRouter(include_in_schema=False, prefix="/admin/dashboard")
PAGE_SIZE = 50
FILTER_FIELDS = (
    "preset",
    "period",
    "from",
    "to",
    "survey",
    "team",
    "channel",
    "segment",
    "employee",
)
# Filters that belong to one page's drill-down and do not follow the user to other tabs.
PAGE_ONLY_FIELDS = ("employee",)
ESCALATIONS_PAGE = "/admin/escalations"


@dataclass
class Filters:
    """The filter as parsed, the raw values for the form, and what went wrong (if anything)."""

    flt: ReportFilter
    raw: dict[str, str] = field(default_factory=dict)
    error: str | None = None


def _locale(request: Request, user: User) -> str:
    settings = web(request).settings
    wanted = request.query_params.get("lang")
    if wanted in settings.locales:
        return wanted  # type: ignore[return-value]
    return user.locale if user.locale in settings.locales else settings.default_locale


def _filters(request: Request) -> Filters:
    settings = web(request).settings
    raw = {k: request.query_params.get(k, "").strip() for k in FILTER_FIELDS}
    raw = {k: v for k, v in raw.items() if v}
    try:
        flt = build_filter(
            settings,
            preset=raw.get("preset"),
            period=raw.get("period"),
            date_from=raw.get("from"),
            date_to=raw.get("to"),
            survey=raw.get("survey"),
            employee=employee_id_text(raw.get("employee")),
            team=raw.get("team"),
            channel=raw.get("channel"),
            segment=raw.get("segment"),
        )
    except ReportError as exc:
        return Filters(scope_filter(request.state.user, ReportFilter()), raw, str(exc))
    return Filters(scope_filter(request.state.user, flt), raw)  # an agent: their own only


def _escalation_link(escalation_id: int) -> str:
    """Where an escalation id links: its page in the escalations console."""
    return f"{ESCALATIONS_PAGE}/{escalation_id}"


def _choices(session: Session, flt: ReportFilter | None = None) -> dict[str, Any]:
    """Teams and segments for the form, and the name of the employee filtered on (if any)."""
    teams = session.execute(select(Employee.team).where(Employee.team.is_not(None)).distinct())
    segments = session.execute(select(Segment.name).order_by(Segment.name))
    employee = None
    if flt is not None and flt.employee_id is not None:
        found = session.get(Employee, flt.employee_id)
        employee = found.name if found else f"#{flt.employee_id}"
    return {
        "teams": sorted(t for t in teams.scalars() if t),
        "segments": list(segments.scalars()),
        "employee": employee,
    }


def _caption(filters: Filters, locale: str) -> str:
    """The visible range and time zone of what the page shows."""
    return period_caption(filters.flt, ui(locale)["dash_all_time"])


def _page(request: Request, user: User, template: str, filters: Filters | None, **context: Any):
    """Render a dashboard page with what every one of them shows (nav, filters, languages)."""
    ctx = web(request)
    locale = _locale(request, user)
    keep = dict(filters.raw) if filters else {}
    if request.query_params.get("lang"):
        keep["lang"] = locale
    context.setdefault("status_code", 400 if filters and filters.error else 200)
    tab_keep = {k: v for k, v in keep.items() if k not in PAGE_ONLY_FIELDS}
    without = {k: urlencode({x: v for x, v in keep.items() if x != k}) for k in keep}
    return ctx.pages.render(
        f"dashboard/{template}",
        locale=locale,
        user=user,
        csrf=request.state.csrf,
        filters=filters,
        raw=filters.raw if filters else {},
        query=urlencode(keep),
        tab_query=urlencode(tab_keep),
        query_without=without,
        caption=_caption(filters, locale) if filters and not filters.error else "",
        presets=PRESETS,
        min_n=ctx.settings.web.report_min_answers,
        lang_query=lambda lang: urlencode({**keep, "lang": lang}),
        lang_path=request.url.path,
        locales=ctx.settings.locales,
        surveys=[s.key for s in ctx.settings.surveys],
        channels=(*SOURCES, "form"),
        groupings=GROUPINGS,
        escalations_page=ESCALATIONS_PAGE,
        escalation_link=_escalation_link,
        duration=lambda seconds: duration(seconds, locale),
        number=number,
        current=request.url.path,
        **context,
    )


@router.get("", response_class=HTMLResponse)
async def overview(request: Request, user: User = Depends(require_user)) -> HTMLResponse:
    """Headline figures with their n and change, distributions, trends, and the period's
    request states, escalations and quarantine."""
    ctx, filters = web(request), _filters(request)
    size = "week" if request.query_params.get("bucket") == "week" else "month"
    types = survey_types(ctx.settings)
    flt = filters.flt

    def lists_of(session: Session) -> dict[str, Any]:
        return {
            "choices": _choices(session, flt),
            "states": lists.request_states(session, flt),
            "escalations": lists.escalation_counts(session, flt),
            "quarantined": lists.quarantine_count(session, flt),
        }

    def before(session: Session) -> Any:
        previous = flt.previous()
        return None if previous is None else total_figures(session, types, previous)

    data: dict[str, Any] = {}
    try:
        if filters.error:
            data = await ctx.run_report(lists_of)
        else:
            # Independent queries: on PostgreSQL each runs in its own thread and connection.
            total, previous, per_survey, points, data = await asyncio.gather(
                ctx.run_report(lambda session: total_figures(session, types, flt)),
                ctx.run_report(before),
                ctx.run_report(lambda session: figures(session, types, flt, by="survey")),
                ctx.run_report(lambda session: trends(session, types, flt, size)),
                ctx.run_report(lists_of),
            )
            data.update(
                total=total,
                previous=previous,
                kpis=kpis(total, previous, ctx.settings.web.report_min_answers),
                per_survey=[row for row in per_survey if row.key in types],
                points=with_gaps(points, flt, size),
            )
    except ReportError as exc:
        filters.error, data = str(exc), {"choices": {"teams": [], "segments": []}}
    charts = _overview_charts(data, _locale(request, user), ctx.settings.web.report_min_answers)
    return _page(request, user, "overview.html", filters, bucket=size, charts=charts, **data)


def _overview_charts(data: dict[str, Any], locale: str, min_n: int) -> list[Any]:
    """Trend lines (with n per point) and the distributions and request-state bars."""
    if "points" not in data:
        return []
    points, words = data["points"], ui(locale)
    labels = [p.bucket for p in points]
    marks = {"min_n": min_n, "n_word": words["dash_n"], "few_word": words["dash_too_few"]}
    total = data["total"]
    return [
        line_chart(
            "NPS",
            labels,
            [Series("NPS", [p.nps for p in points], [p.nps_answers for p in points])],
            low=-100,
            high=100,
            **marks,
        ),
        line_chart(
            f"{words['dash_csat']} · {words['dash_response_rate']}",
            labels,
            [
                Series("CSAT", [p.csat for p in points], [p.csat_answers for p in points]),
                Series(
                    words["dash_response_rate"],
                    [p.response_rate for p in points],
                    [p.sent for p in points],
                ),
            ],
            low=0,
            high=100,
            unit="%",
            **marks,
        ),
        line_chart(
            "CES",
            labels,
            [Series("CES", [p.ces for p in points], [p.ces_answers for p in points])],
            low=1,
            high=7,
            **marks,
        ),
        bar_chart(
            words["dash_nps_groups"],
            [
                (words["dash_promoters"], total.nps_promoters),
                (words["dash_passives"], total.nps_passives),
                (words["dash_detractors"], total.nps_detractors),
            ],
        ),
        bar_chart(words["dash_csat_hist"], [(str(k), v) for k, v in total.csat_histogram.items()]),
        bar_chart(words["dash_ces_hist"], [(str(k), v) for k, v in total.ces_histogram.items()]),
        bar_chart(words["dash_requests_counts"], list(data["states"].items())),
    ]


@router.get("/employees", response_class=HTMLResponse)
async def employees(request: Request, user: User = Depends(require_user)) -> HTMLResponse:
    """The per-employee (or per-team, per-survey) report with its filters."""
    ctx, filters = web(request), _filters(request)
    by = request.query_params.get("by", "employee")
    by = by if by in GROUPINGS else "employee"
    sort = request.query_params.get("sort", "label")
    sort = sort if sort in table.SORTS else "label"
    descending = request.query_params.get("dir") == "desc"
    types = survey_types(ctx.settings)

    data: dict[str, Any] = {"rows": [], "total": None}
    try:
        data["choices"] = await ctx.run_report(lambda session: _choices(session, filters.flt))
        if not filters.error:
            data["rows"], data["total"] = await asyncio.gather(
                ctx.run_report(lambda session: figures(session, types, filters.flt, by=by)),
                ctx.run_report(lambda session: total_figures(session, types, filters.flt)),
            )
    except ReportError as exc:
        filters.error = str(exc)
        data = {"choices": {"teams": [], "segments": []}, "rows": [], "total": None}
    data["rows"] = table.sort_rows(data["rows"], sort, descending)
    return _page(
        request,
        user,
        "employees.html",
        filters,
        by=by,
        sort=sort,
        descending=descending,
        columns=table.COLUMNS,
        **data,
    )


@router.get("/employees.csv")
async def employees_csv(request: Request, user: User = Depends(require_user)) -> Response:
    """The Employees table itself (the rows and figures on screen, each with its n) as CSV."""
    ctx, filters = web(request), _filters(request)
    if filters.error:
        return Response(filters.error + "\n", status_code=400, media_type="text/plain")
    by = request.query_params.get("by", "employee")
    by = by if by in GROUPINGS else "employee"
    types = survey_types(ctx.settings)
    try:
        rows = await ctx.run_report(lambda session: figures(session, types, filters.flt, by=by))
    except ReportError as exc:
        return Response(str(exc) + "\n", status_code=400, media_type="text/plain")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.csv_header())
    for row in rows:
        writer.writerow([safe_cell(c) if isinstance(c, str) else c for c in table.csv_row(row)])
    return Response(
        BOM + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="mailflow-{by}-table.csv"'},
    )


@router.get("/tickets", response_class=HTMLResponse)
async def tickets(request: Request, user: User = Depends(require_user)) -> HTMLResponse:
    """Answers with their ticket, contact, employee, comment and escalation, newest first."""
    ctx, filters = web(request), _filters(request)
    page = page_number(request.query_params.get("page"))
    negative = request.query_params.get("negative") == "1"
    types = survey_types(ctx.settings)

    def load(session: Session) -> dict[str, Any]:
        data: dict[str, Any] = {"choices": _choices(session, filters.flt), "rows": [], "count": 0}
        if not filters.error:
            data["rows"], data["count"] = rated_tickets(
                session,
                types,
                filters.flt,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
                negative_only=negative,
                tickets_only=True,
            )
        return data

    try:
        data = await ctx.run_report(load)
    except ReportError as exc:
        filters.error = str(exc)
        data = {"choices": {"teams": [], "segments": []}, "rows": [], "count": 0}
    pages = max((data["count"] + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return _page(
        request, user, "tickets.html", filters, page=page, pages=pages, negative=negative, **data
    )


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
async def ticket(ticket_id: DbId, request: Request, user: User = Depends(require_user)):
    """One ticket: its comments (answers filed by surveys) and escalations, with anchors."""
    ctx = web(request)

    def load(session: Session) -> dict[str, Any] | None:
        task = session.get(Task, ticket_id)
        if task is None or task.kind != "ticket" or not may_see_employee(user, task.employee_id):
            return None
        comments = (
            session.execute(
                select(Comment).where(Comment.task_id == ticket_id).order_by(Comment.created_at)
            )
            .scalars()
            .all()
        )
        escalations = [
            e for e in lists.escalations(session, limit=10_000) if e.ticket_id == ticket_id
        ]
        return {
            "task": task,
            "contact": session.get(Contact, task.contact_id) if task.contact_id else None,
            "employee": session.get(Employee, task.employee_id) if task.employee_id else None,
            "comments": comments,
            "escalations": escalations,
        }

    data = await ctx.run_report(load)
    if data is None:
        raise NotFound(_locale(request, user))
    return _page(request, user, "ticket.html", None, **data)


@router.get("/escalations", response_class=HTMLResponse)
async def escalations(request: Request, user: User = Depends(require_user)) -> HTMLResponse:
    """Escalations newest first, with counts per status."""
    status = request.query_params.get("status") or None

    def load(session: Session) -> dict[str, Any]:
        return {
            "rows": lists.escalations(session, status=status, limit=200),
            "counts": lists.escalation_counts(session),
        }

    data = await web(request).run_report(load)
    return _page(request, user, "escalations.html", None, status=status, **data)


@router.get("/quarantine", response_class=HTMLResponse)
async def quarantine(request: Request, user: User = Depends(require_user)) -> HTMLResponse:
    """Inbound mail the worker could not file, with the reason."""
    rows = await web(request).run_report(lambda session: lists.quarantine(session, limit=200))
    return _page(request, user, "quarantine.html", None, rows=rows)


@router.get("/requests", response_class=HTMLResponse)
async def requests_page(request: Request, user: User = Depends(require_user)) -> HTMLResponse:
    """Survey requests with their states; one state at a time on `?state=`."""
    state = request.query_params.get("state") or None
    state = state if state in REQUEST_STATES else None

    def load(session: Session) -> dict[str, Any]:
        return {
            "rows": lists.requests(session, state=state, limit=200),
            "states": lists.request_states(session),
        }

    data = await web(request).run_report(load)
    return _page(request, user, "requests.html", None, state=state, **data)


@router.get("/export.csv")
async def export_csv(request: Request, user: User = Depends(require_user)) -> Response:
    """The answers in the filter as CSV (UTF-8 with BOM), streamed from the database."""
    ctx, filters = web(request), _filters(request)
    if filters.error:
        return Response(filters.error + "\n", status_code=400, media_type="text/plain")
    types = survey_types(ctx.settings)

    def rows() -> Iterator[str]:
        with Session(ctx.reports) as session:
            yield from csv_chunks(iter_rated_tickets(session, types, filters.flt))

    name = "-".join(["responses", *(v for k, v in sorted(filters.raw.items()) if k != "segment")])
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:80]
    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="mailflow-{safe}.csv"'},
    )

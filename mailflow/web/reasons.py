"""GET /admin/reasons: why clients rated badly, per survey and per employee.

Its own page (and template) beside the dashboard: the counts come from
mailflow.reports.reasons, the labels from the survey configuration, in the user's language.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from mailflow.reason_words import words
from mailflow.reports.reasons import BreakdownRow, breakdown, reason_counts
from mailflow.web.auth import admin_page, require_user
from mailflow.web.context import web
from storage.models import User

router = APIRouter(include_in_schema=False)


@router.get("/admin/reasons", response_class=HTMLResponse)
async def reasons_page(
    request: Request, survey: str | None = None, user: User = Depends(require_user)
) -> HTMLResponse:
    """The breakdown of reasons; ?survey=KEY for one survey."""
    ctx = web(request)
    locale = user.locale if user.locale in ctx.settings.locales else ctx.settings.default_locale
    w = words(locale)
    key = survey if survey in {s.key for s in ctx.settings.surveys} else None

    def read(session: Session) -> tuple[list[BreakdownRow], list[BreakdownRow]]:
        overall = reason_counts(session, survey_key=key)
        per_employee = reason_counts(session, survey_key=key, by_employee=True)
        return (
            breakdown(ctx.settings, overall, locale, w["other"]),
            breakdown(ctx.settings, per_employee, locale, w["other"]),
        )

    overall, per_employee = await ctx.run_db(read)
    surveys = [
        (s.key, s.texts[locale].title if locale in s.texts else s.key)
        for s in ctx.settings.surveys
        if s.reasons
    ]
    return admin_page(
        request,
        user,
        "reasons.html",
        w=w,
        overall=overall,
        per_employee=per_employee,
        surveys=surveys,
        chosen=key or "",
    )

"""The one-click rating page: GET /r/{token} shows, POST /r/{token} records.

A GET never records, so link scanners, Safe Links and antivirus prefetchers that open every
link change nothing. The page shows the whole scale with the clicked answer preselected; a
small inline script submits it at once, so a person's click still counts immediately, and the
thank-you page then offers a comment box (a second POST within the edit window). Surveys with
`forbid_change` are never auto-submitted: their first answer is final, so the person submits it
(with an optional comment) themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from mailflow.answers import (
    AlreadyAnswered,
    AnswerRefused,
    InvalidAnswer,
    RequestExpired,
    RequestNotAnswerable,
    record_answer,
)
from mailflow.i18n import ui
from mailflow.scale import form_questions, scale_options
from mailflow.tokens import Purpose
from mailflow.web.answering import (
    Loaded,
    answer_from,
    is_complete,
    is_expired,
    is_final,
    load,
    outcome_texts,
    selection,
    selection_of,
    summary,
)
from mailflow.web.context import WebContext, web
from mailflow.web.csrf import check_form_field, form_field
from mailflow.web.errors import CsrfFailed, Gone, NotFound
from mailflow.web.guards import limit_posts
from storage.clock import utcnow
from storage.models import Response

router = APIRouter(include_in_schema=False)
FORM_PURPOSE = "link"


@dataclass
class Outcome:
    """What a POST did: recorded (response), or refused with a reason."""

    loaded: Loaded
    response: Response | None = None
    negative: bool = False
    refused: AnswerRefused | None = None


def _form_data(form: Mapping[str, Any]) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _rating_page(
    ctx: WebContext,
    token: str,
    loaded: Loaded,
    chosen: Mapping[str, str],
    *,
    comment: str = "",
    auto_submit: bool = False,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    survey, locale = loaded.survey, loaded.locale
    return ctx.pages.render(
        "rating.html",
        locale=locale,
        status_code=status_code,
        survey=survey,
        texts=survey.texts[locale],
        question=survey.question_text(locale),
        options=scale_options(survey, locale) if survey.type != "form" else [],
        questions=form_questions(survey, locale) if survey.type == "form" else [],
        show_each_label=survey.type in ("csat", "thumbs"),
        chosen=chosen,
        comment=comment,
        auto_submit=auto_submit,
        error=error,
        action=f"/r/{token}",
        form_csrf=form_field(ctx.settings, token, FORM_PURPOSE),
        comment_max_length=ctx.settings.web.comment_max_length,
        privacy_url=str(survey.privacy_url),
    )


def _answered_page(
    ctx: WebContext,
    token: str,
    loaded: Loaded,
    response: Response,
    *,
    template: str,
    negative: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    survey, locale = loaded.survey, loaded.locale
    chosen = selection_of(survey, response)
    thank_you, apology = outcome_texts(survey, locale, negative)
    can_comment = not is_final(survey, response, utcnow())
    return ctx.pages.render(
        template,
        locale=locale,
        status_code=status_code,
        texts=survey.texts[locale],
        thank_you=thank_you,
        apology=apology,
        summary=summary(survey, locale, chosen),
        chosen=chosen,
        comment=response.comment or "",
        can_comment=can_comment,
        action=f"/r/{token}",
        form_csrf=form_field(ctx.settings, token, FORM_PURPOSE),
        comment_max_length=ctx.settings.web.comment_max_length,
        privacy_url=str(survey.privacy_url),
    )


@router.get("/r/{token}", response_class=HTMLResponse)
async def rating_page(token: str, request: Request) -> HTMLResponse:
    """The survey with the clicked answer preselected; records nothing."""
    ctx = web(request)
    loaded = await ctx.run_db(
        lambda session: load(session, ctx.settings, ctx.signer, token, Purpose.LINK)
    )
    now = utcnow()
    survey, response = loaded.survey, loaded.response
    if response is not None and is_final(survey, response, now):
        return _answered_page(ctx, token, loaded, response, template="already.html")
    if is_expired(loaded.request, now):
        raise Gone(loaded.locale)
    clicked = selection(survey, request.query_params)
    chosen = clicked or (selection_of(survey, response) if response else {})
    changeable = not survey.forbid_change and survey.edit_window_hours > 0
    auto_submit = bool(clicked) and is_complete(survey, chosen) and changeable
    comment = (response.comment or "") if response else ""
    return _rating_page(ctx, token, loaded, chosen, comment=comment, auto_submit=auto_submit)


@router.post("/r/{token}", response_class=HTMLResponse, dependencies=[Depends(limit_posts)])
async def rating_submit(token: str, request: Request) -> HTMLResponse:
    """Record the answer (or replace it inside the edit window) and thank the client."""
    ctx = web(request)
    data = _form_data(await request.form())
    if not check_form_field(ctx.settings, token, FORM_PURPOSE, data.get("csrf")):
        raise CsrfFailed()
    comment = data.get("comment", "").strip()
    max_length = ctx.settings.web.comment_max_length

    def work(session: Session) -> Outcome:
        loaded = load(session, ctx.settings, ctx.signer, token, Purpose.LINK, with_response=False)
        chosen = selection(loaded.survey, data)
        if not chosen or len(comment) > max_length:
            return Outcome(loaded, refused=InvalidAnswer("incomplete"))
        answer = answer_from(loaded.survey, chosen, comment or None)
        try:
            recorded = record_answer(session, ctx.settings, loaded.request, answer, "link")
        except AnswerRefused as refused:
            # Refusals come before any write; the savepoint keeps the batch clean regardless.
            if isinstance(refused, AlreadyAnswered):  # keep the first answer readable
                refused.response = Response(**refused.response.model_dump())
            return Outcome(loaded, refused=refused)
        return Outcome(loaded, recorded.response, recorded.negative)

    outcome = await ctx.write(work)
    loaded, refused = outcome.loaded, outcome.refused
    if isinstance(refused, AlreadyAnswered):
        return _answered_page(
            ctx, token, loaded, refused.response, template="already.html", status_code=409
        )
    if isinstance(refused, RequestExpired):
        raise Gone(loaded.locale)
    if isinstance(refused, RequestNotAnswerable):
        raise NotFound(loaded.locale)
    if refused is not None:
        strings = ui(loaded.locale)
        if len(comment) > max_length:
            error = strings["web_comment_too_long"].format(max=max_length)
        else:
            error = strings["web_choose_answer"]
        chosen = selection(loaded.survey, data)
        return _rating_page(
            ctx, token, loaded, chosen, comment=comment, error=error, status_code=400
        )
    assert outcome.response is not None
    return _answered_page(
        ctx, token, loaded, outcome.response, template="thanks.html", negative=outcome.negative
    )

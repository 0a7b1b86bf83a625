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
from sqlmodel import Session, select

from mailflow import answer_reasons
from mailflow.answers import (
    AlreadyAnswered,
    AnswerRefused,
    InvalidAnswer,
    RequestExpired,
    RequestNotAnswerable,
    record_answer,
    record_reasons,
)
from mailflow.i18n import ui
from mailflow.reason_words import words as reason_words
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
    reason_views,
    reasons_from,
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
    reasons: dict[str, answer_reasons.Reason] | None = None


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
    data: Mapping[str, str] | None = None,
) -> HTMLResponse:
    survey, locale = loaded.survey, loaded.locale
    chosen_reasons, reason_texts = reasons_from(survey, data or {})
    return ctx.pages.render(
        "rating.html",
        telegram_link=_telegram_link(ctx, loaded),
        reasons=reason_views(survey, locale),
        chosen_reasons=chosen_reasons,
        reason_texts=reason_texts,
        reason_words=reason_words(locale),
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


def _telegram_link(ctx: WebContext, loaded: Loaded) -> str | None:
    """The t.me deep link that brings this survey to Telegram, when the channel is on."""
    config = ctx.settings.telegram
    if not (config.enabled and config.bot_username) or loaded.request.id is None:
        return None
    token = ctx.signer.sign(loaded.request.id, Purpose.TELEGRAM)
    return f"https://t.me/{config.bot_username}?start={token}"


def _answered_page(
    ctx: WebContext,
    token: str,
    loaded: Loaded,
    response: Response,
    *,
    template: str,
    negative: bool = False,
    status_code: int = 200,
    reasons: Mapping[str, answer_reasons.Reason] | None = None,
) -> HTMLResponse:
    survey, locale = loaded.survey, loaded.locale
    chosen = selection_of(survey, response)
    thank_you, apology = outcome_texts(survey, locale, negative)
    can_comment = not is_final(survey, response, utcnow())
    given = dict(reasons or {})
    asked = survey.reasons_for(answer_reasons.answer_key(survey, dict(response.answers)))
    # The second step: reasons still open for this answer (all of them while it may change).
    open_keys = [q.key for q in asked if can_comment or q.key not in given]
    return ctx.pages.render(
        template,
        reasons=reason_views(survey, locale, open_keys),
        chosen_reasons={k: r.option for k, r in given.items()},
        reason_texts={k: r.text for k, r in given.items() if r.text},
        given_reasons=answer_reasons.labelled(
            survey, given, locale, reason_words(locale)["other"]
        ),
        reason_words=reason_words(locale),
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

    def read(session: Session) -> tuple[Loaded, dict[str, answer_reasons.Reason]]:
        loaded = load(session, ctx.settings, ctx.signer, token, Purpose.LINK)
        found = loaded.response
        given = {}
        if found is not None and found.id is not None and loaded.survey.reasons:
            given = answer_reasons.stored(session, found.id)
        return loaded, given

    loaded, given = await ctx.run_db(read)
    now = utcnow()
    survey, response = loaded.survey, loaded.response
    if response is not None and is_final(survey, response, now):
        return _answered_page(
            ctx, token, loaded, response, template="already.html", reasons=given
        )
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
    """Record the answer (or replace it inside the edit window) and thank the client; with
    `step=reasons`, add the reasons asked after it (the page's second step)."""
    ctx = web(request)
    data = _form_data(await request.form())
    if not check_form_field(ctx.settings, token, FORM_PURPOSE, data.get("csrf")):
        raise CsrfFailed()
    comment = data.get("comment", "").strip()
    max_length = ctx.settings.web.comment_max_length
    second_step = data.get("step") == "reasons"

    def work(session: Session) -> Outcome:
        loaded = load(session, ctx.settings, ctx.signer, token, Purpose.LINK, with_response=False)
        chosen = selection(loaded.survey, data)
        if not second_step and (not chosen or len(comment) > max_length):
            return Outcome(loaded, refused=InvalidAnswer("incomplete"))
        answer = answer_from(loaded.survey, chosen, comment or None, data)
        try:
            if second_step:
                reasons, texts = reasons_from(loaded.survey, data)
                recorded = record_reasons(
                    session, ctx.settings, loaded.request, reasons, texts, "link"
                )
            else:
                recorded = record_answer(session, ctx.settings, loaded.request, answer, "link")
        except AnswerRefused as refused:
            # Refusals come before any write; the savepoint keeps the batch clean regardless.
            if isinstance(refused, AlreadyAnswered):  # keep the first answer readable
                refused.response = Response(**refused.response.model_dump())
            outcome = Outcome(loaded, refused=refused)
            if second_step and isinstance(refused, InvalidAnswer):  # show the step again
                found = session.exec(
                    select(Response).where(Response.request_id == loaded.request.id)
                ).first()
                if found is not None and found.id is not None:
                    outcome.response = Response(**found.model_dump())
                    outcome.reasons = answer_reasons.stored(session, found.id)
            return outcome
        assert recorded.response.id is not None
        given = answer_reasons.stored(session, recorded.response.id)
        return Outcome(loaded, recorded.response, recorded.negative, reasons=given)

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
    if refused is not None and second_step:
        if outcome.response is None:
            raise NotFound(loaded.locale)
        return _answered_page(
            ctx,
            token,
            loaded,
            outcome.response,
            template="thanks.html",
            negative=outcome.response.negative,
            reasons=outcome.reasons,
            status_code=400,
        )
    if refused is not None:
        strings = ui(loaded.locale)
        if len(comment) > max_length:
            error = strings["web_comment_too_long"].format(max=max_length)
        else:
            error = strings["web_choose_answer"]
        chosen = selection(loaded.survey, data)
        return _rating_page(
            ctx, token, loaded, chosen, comment=comment, error=error, status_code=400, data=data
        )
    assert outcome.response is not None
    return _answered_page(
        ctx,
        token,
        loaded,
        outcome.response,
        template="thanks.html",
        negative=outcome.negative,
        reasons=outcome.reasons,
    )

"""POST /amp/{token}: the endpoint of the AMP form inside the survey email.

CORS per AMP for Email (v2 sender header, v1 origin + __amp_source_origin; amp_forms.cors),
the same recording rules as the rating page (mailflow.answers.record_answer), JSON bodies that
the form's submit-success (`{{message}}`) and submit-error (`{{error}}`) templates show, no
redirects and no cookies.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from amp_forms.cors import CorsRefused, amp_cors_headers, preflight_headers
from mailflow.answers import AlreadyAnswered, AnswerRefused, RequestExpired, record_answer
from mailflow.i18n import ui
from mailflow.tokens import Purpose
from mailflow.web.answering import answer_from, load, outcome_texts, selection
from mailflow.web.context import client_address, web
from mailflow.web.errors import NotFound, PreviewOnly

router = APIRouter(include_in_schema=False)


def _json(body: dict[str, Any], status: int, headers: dict[str, str]) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


@router.options("/amp/{token}")
async def amp_preflight(token: str, request: Request) -> Response:
    """CORS preflight from a known mail client."""
    headers = preflight_headers(request.headers, web(request).amp_origins)
    return Response(status_code=204 if headers else 403, headers=headers)


@router.post("/amp/{token}")
async def amp_submit(token: str, request: Request) -> JSONResponse:
    """Record the AMP form's answer; 200 {"message"} or 4xx {"error"}."""
    ctx = web(request)
    locale = ctx.locale_for(request)
    try:
        cors = amp_cors_headers(
            request.headers,
            request.query_params,
            ctx.settings.brand.sender_email,
            ctx.amp_origins,
        )
    except CorsRefused:
        return _json({"error": ui(locale)["web_amp_not_allowed"]}, 403, {})
    # Mail providers proxy AMP requests from a few shared addresses: limit per address *and*
    # token, so one client hammering stays limited without throttling a whole provider.
    wait = await ctx.limiter.check(f"{client_address(request)}|amp|{token}")
    if wait is not None:
        headers = {**cors, "Retry-After": str(max(1, math.ceil(wait)))}
        return _json({"error": ui(locale)["web_rate_limited"]}, 429, headers)
    form = await request.form()
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    comment = (data.get("comment") or "").strip()[: ctx.settings.web.comment_max_length]

    def work(session: Session) -> tuple[str, int, str]:
        loaded = load(session, ctx.settings, ctx.signer, token, Purpose.AMP, with_response=False)
        strings = ui(loaded.locale)
        chosen = selection(loaded.survey, data)
        if not chosen:
            return "error", 400, strings["web_amp_invalid"]
        answer = answer_from(loaded.survey, chosen, comment or None, data)
        try:
            recorded = record_answer(session, ctx.settings, loaded.request, answer, "amp")
        except AlreadyAnswered:
            return "error", 409, strings["web_already"]
        except RequestExpired:
            return "error", 410, strings["web_expired"]
        except AnswerRefused:
            return "error", 400, strings["web_amp_invalid"]
        thank_you, apology = outcome_texts(loaded.survey, loaded.locale, recorded.negative)
        if apology:
            return "message", 200, f"{thank_you} {apology}"
        return "message", 200, thank_you

    try:
        key, status, text = await ctx.write(work)
    except NotFound:
        return _json({"error": ui(locale)["web_not_found"]}, 404, cors)
    except PreviewOnly:
        return _json({"message": ui(locale)["web_preview"]}, 200, cors)
    return _json({key: text}, status, cors)

"""What the rating page and the AMP endpoint share: finding the request behind a token, reading
an answer from form fields, and the words shown after it is recorded.

Recording itself is mailflow.answers.record_answer, the one function every channel calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from mailflow.answer_reasons import ReasonView, reason_views
from mailflow.answers import Answer
from mailflow.i18n import ui
from mailflow.settings import Settings
from mailflow.surveys import SurveyConfig
from mailflow.tokens import Purpose, Signer, TokenError
from mailflow.web.errors import NotFound, PreviewOnly
from storage.clock import as_utc
from storage.models import Response, SurveyRequest
from storage.states import UNDELIVERED, RequestState

__all__ = ["ReasonView", "reason_views"]

# Requests in these states were never delivered: their tokens are not honoured.


@dataclass
class Loaded:
    """A verified token's request, its survey, its answer so far and the client's locale."""

    request: SurveyRequest
    survey: SurveyConfig
    response: Response | None
    locale: str


def load(
    session: Session,
    settings: Settings,
    signer: Signer,
    token: str,
    purpose: Purpose,
    *,
    with_response: bool = True,
) -> Loaded:
    """The request a token names, or NotFound (tampered, unknown, undelivered, unknown survey);
    PreviewOnly for a preview email's token, before anything is read or written."""
    try:
        request_id = signer.verify(token, purpose)
    except TokenError:
        if signer.is_preview(token):
            raise PreviewOnly() from None
        raise NotFound() from None
    request = session.get(SurveyRequest, request_id)
    if request is None or request.state in UNDELIVERED:
        raise NotFound()
    locale = request.locale if request.locale in settings.locales else settings.default_locale
    try:
        survey = settings.survey(request.survey_key)
    except KeyError:
        raise NotFound(locale) from None
    response = None
    if with_response:
        query = select(Response).where(Response.request_id == request.id)
        response = session.exec(query).first()
    return Loaded(request, survey, response, locale)


def is_expired(request: SurveyRequest, now: datetime) -> bool:
    """Whether the time to answer is over."""
    if request.state == RequestState.EXPIRED:
        return True
    return request.expires_at is not None and as_utc(request.expires_at) < now


def is_final(survey: SurveyConfig, response: Response | None, now: datetime) -> bool:
    """Whether an existing answer can no longer be changed (forbidden, locked, window over)."""
    if response is None:
        return False
    if response.locked or survey.forbid_change:
        return True
    return now - as_utc(response.created_at) > timedelta(hours=survey.edit_window_hours)


def selection(survey: SurveyConfig, data: Mapping[str, str]) -> dict[str, str]:
    """The valid choices in form fields or a query: `a` for scales, question keys for forms."""
    if survey.type == "form":
        chosen = {}
        for question in survey.questions:
            value = data.get(question.key)
            if value in question.options:
                chosen[question.key] = value
        return chosen
    value = data.get("a")
    return {"a": value} if value in survey.kind.scale else {}


def selection_of(survey: SurveyConfig, response: Response) -> dict[str, str]:
    """The page's choice fields for a stored answer."""
    if survey.type == "form":
        return {k: str(v) for k, v in response.answers.items()}
    key = response.answers.get(survey.type) or response.answers.get("score")
    return {"a": str(key)} if key is not None else {}


def is_complete(survey: SurveyConfig, chosen: Mapping[str, str]) -> bool:
    """Whether every question has a choice."""
    if survey.type == "form":
        return all(q.key in chosen for q in survey.questions)
    return "a" in chosen


def reasons_from(
    survey: SurveyConfig, data: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The reason fields of a form: `reason.KEY` (an option or "other") and `reason_text.KEY`
    (the "other" text), for the survey's reason questions only."""
    reasons, texts = {}, {}
    for question in survey.reasons:
        option = (data.get(f"reason.{question.key}") or "").strip()
        text = (data.get(f"reason_text.{question.key}") or "").strip()
        if option:
            reasons[question.key] = option
        if text and option in ("", "other"):
            texts[question.key] = text
    return reasons, texts


def answer_from(
    survey: SurveyConfig,
    chosen: Mapping[str, str],
    comment: str | None,
    data: Mapping[str, str] | None = None,
) -> Answer:
    """The Answer record_answer takes, from a selection (and the form's reason fields)."""
    reasons, texts = reasons_from(survey, data or {})
    if survey.type == "form":
        return Answer(None, dict(chosen), comment, reasons, texts)
    return Answer(None, {"a": chosen["a"]} if "a" in chosen else {}, comment, reasons, texts)


def summary(survey: SurveyConfig, locale: str, chosen: Mapping[str, str]) -> list[tuple[str, str]]:
    """(question, answer label) pairs to show a client what they answered."""
    if survey.type == "form":
        rows = []
        for q in survey.questions:
            if q.key in chosen:
                option = q.options.get(chosen[q.key], {})
                rows.append((q.text.get(locale, q.key), option.get(locale, chosen[q.key])))
        return rows
    key = chosen.get("a")
    if key is None:
        return []
    label = survey.labels(locale).get(key, "")
    emoji = survey.kind.emoji.get(key, "")
    shown = " ".join(
        part for part in (emoji, key if survey.type != "thumbs" else "", label) if part
    )
    return [(survey.question_text(locale), shown)]


def outcome_texts(survey: SurveyConfig, locale: str, negative: bool) -> tuple[str, str | None]:
    """The thank-you text and, for a negative answer, the apology (survey's own, else default)."""
    strings = ui(locale)
    texts = survey.texts.get(locale)
    thank_you = (texts.thank_you if texts else None) or strings["web_thank_you"]
    apology = None
    if negative:
        apology = (texts.apology if texts else None) or strings["web_apology"]
    return thank_you, apology

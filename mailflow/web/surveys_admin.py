"""/admin/surveys (admins and managers): list, create, edit, preview, send a test, history.

The form edits the fields people change (texts and scale labels per locale, trigger, expiry,
negative rule, escalation target, follow-ups); it starts from the survey's current JSON, so
every other field of the model (questions, campaign, fields added later) is carried over
untouched. Saving validates the whole SurveyConfig and stores a new SurveyVersion
(mailflow.survey_store); errors are shown next to their field and nothing typed is lost.
Preview renders the unsaved form (email HTML, text, AMP and the rating page) in every locale
with PREVIEW tokens, which record nothing.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from mailflow.i18n import t
from mailflow.notifications import enqueue_notification
from mailflow.reason_words import words as reason_words
from mailflow.render import Recipient, Renderer
from mailflow.scale import form_questions, scale_options
from mailflow.survey_store import current_versions, history, live_for, save_survey
from mailflow.survey_types import SURVEY_TYPES
from mailflow.surveys import SurveyConfig
from mailflow.tokens import PREVIEW_ID, Purpose
from mailflow.web.answering import reason_views
from mailflow.web.auth import admin_page, user_locale
from mailflow.web.context import web
from mailflow.web.csrf import form_field
from mailflow.web.errors import NotFound
from mailflow.web.guards import require_role, require_role_csrf
from storage.models import User

router = APIRouter(include_in_schema=False)
STAFF = ("admin", "manager")
staff_only = require_role(*STAFF)
staff_post = require_role_csrf(*STAFF)
TEXT_FIELDS = (
    "title",
    "subtitle",
    "question",
    "button",
    "comment_prompt",
    "subject",
    "thank_you",
    "apology",
)
REQUIRED_TEXTS = ("title", "subtitle", "button", "comment_prompt")
PLAIN_FIELDS = ("privacy_url", "comment_author", "escalate_to")
NEW_SURVEY: dict[str, Any] = {
    "key": "",
    "type": "csat",
    "privacy_url": "",
    "expiration_days": 7,
    "texts": {},
    "trigger": {"on": "ticket.closed", "delay_hours": 0, "vip_only": False},
}


def _number(raw: str) -> float | int | str:
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        return raw  # the model names the field and says why
    return int(value) if value.is_integer() and "." not in raw and "," not in raw else value


def document_from_form(base: dict[str, Any], form: dict[str, str], locales: list[str]) -> dict:
    """The survey document: `base` (the current version, or a new survey) with the form's
    fields laid over it. Empty optional fields are left out (the model's defaults apply)."""
    doc = json.loads(json.dumps(base))
    if "key" in form:
        doc["key"] = form["key"].strip()
    if form.get("type"):
        doc["type"] = form["type"]
    for name in PLAIN_FIELDS:
        if name in form:
            value = form[name].strip()
            if value:
                doc[name] = value
            else:
                doc.pop(name, None) if name != "privacy_url" else doc.update(privacy_url="")
    for name in ("expiration_days", "edit_window_hours"):
        if form.get(name, "").strip():
            doc[name] = _number(form[name].strip())
    doc["forbid_change"] = form.get("forbid_change") == "on"
    scale = SURVEY_TYPES[doc["type"]].scale if doc.get("type") in SURVEY_TYPES else ()
    texts = doc.setdefault("texts", {})
    for locale in locales:
        mine = dict(texts.get(locale) or {})
        for name in TEXT_FIELDS:
            key = f"texts.{locale}.{name}"
            if key in form:
                value = form[key].strip()
                if value or name in REQUIRED_TEXTS:
                    mine[name] = value
                else:
                    mine.pop(name, None)
        labels = {}
        for answer in scale:
            value = form.get(f"texts.{locale}.labels.{answer}", "").strip()
            if value:
                labels[answer] = value
        if any(k.startswith(f"texts.{locale}.labels.") for k in form):
            mine["labels"] = labels
        texts[locale] = mine
    on = form.get("trigger.on", "")
    if on == "":
        doc.pop("trigger", None)
    else:
        trigger: dict[str, Any] = {"on": on, "vip_only": form.get("trigger.vip_only") == "on"}
        delay = form.get("trigger.delay_hours", "").strip()
        trigger["delay_hours"] = _number(delay) if delay else 0
        if isinstance(trigger["delay_hours"], int):
            trigger["delay_hours"] = float(trigger["delay_hours"])
        if form.get("trigger.status", "").strip():
            trigger["status"] = form["trigger.status"].strip()
        doc["trigger"] = trigger
    at_most = form.get("negative.score_at_most", "").strip()
    words = [w.strip() for w in form.get("negative.comment_contains", "").split(",") if w.strip()]
    if at_most or words:
        negative = dict(doc.get("negative") or {})
        negative["score_at_most"] = _number(at_most) if at_most else None
        negative["comment_contains"] = words
        doc["negative"] = {k: v for k, v in negative.items() if v is not None}
    elif "negative.score_at_most" in form:
        doc.pop("negative", None)
    apology, thanks = form.get("followup.apology") == "on", form.get("followup.thank_you") == "on"
    if apology or thanks:
        doc["followup"] = {"apology": apology, "thank_you": thanks}
    else:
        doc.pop("followup", None)
    return doc


def survey_errors(doc: dict[str, Any], locales: list[str], locale: str) -> dict[str, str]:
    """Field (dotted, as the form names it) -> the reason, for every problem found."""
    try:
        config = SurveyConfig.model_validate(doc)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            loc = [str(p) for p in error.get("loc", ()) if not str(p).startswith("function-")]
            message = str(error.get("msg", "")).removeprefix("Value error, ")
            if not loc and ": " in message:
                field, message = message.split(": ", 1)
                loc = field.split(".")
            if error.get("type") in ("missing", "string_too_short"):
                message = t(locale, "surveys_err_required")
            errors.setdefault(".".join(loc) or "survey", message)
        return errors
    try:
        config.check_locales(locales)
    except ValueError as exc:
        field, message = str(exc).split(": ", 1)
        return {field: message}
    return {}


def _form_context(
    request: Request, doc: dict[str, Any], *, is_new: bool, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    ctx = web(request)
    kind = SURVEY_TYPES.get(doc.get("type", "csat"), SURVEY_TYPES["csat"])
    trigger = doc.get("trigger") or {}
    negative = doc.get("negative") or {}
    return {
        "doc": doc,
        "is_new": is_new,
        "errors": errors or {},
        "types": list(SURVEY_TYPES),
        "scale": kind.scale,
        "locales": ctx.settings.locales,
        "text_fields": TEXT_FIELDS,
        "required_texts": REQUIRED_TEXTS,
        "trigger": trigger,
        "negative_words": ", ".join(negative.get("comment_contains", [])),
        "negative_at_most": negative.get("score_at_most", ""),
        "followup": doc.get("followup") or {},
    }


@router.get("/admin/surveys", response_class=HTMLResponse)
async def surveys_page(request: Request, user: User = Depends(staff_only)) -> HTMLResponse:
    """Every survey with its current version, and the button to make a new one."""
    versions = await web(request).run_db(current_versions)
    saved = request.query_params.get("saved")
    return admin_page(request, user, "surveys/list.html", versions=versions, saved=saved)


@router.get("/admin/surveys/new", response_class=HTMLResponse)
async def new_survey(request: Request, user: User = Depends(staff_only)) -> HTMLResponse:
    doc = json.loads(json.dumps(NEW_SURVEY))
    return admin_page(
        request,
        user,
        "surveys/edit.html",
        **_form_context(request, doc, is_new=True),
        versions=[],
        notice=None,
    )


@router.get("/admin/surveys/{key}", response_class=HTMLResponse)
async def edit_survey(key: str, request: Request, user: User = Depends(staff_only)) -> HTMLResponse:
    """The edit form of a survey's current version, and its history (who, when, what)."""
    versions = await web(request).run_db(lambda s: history(s, key))
    if not versions:
        raise NotFound(user.locale)
    notice = (
        t(user.locale, "surveys_saved", number=versions[0].number)
        if request.query_params.get("saved")
        else None
    )
    return admin_page(
        request,
        user,
        "surveys/edit.html",
        **_form_context(request, versions[0].config, is_new=False),
        versions=versions,
        notice=notice,
    )


async def _posted(request: Request) -> tuple[dict[str, str], dict[str, Any], bool]:
    """The form's fields, the document they make, and whether it is a new survey."""
    ctx = web(request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    is_new = form.get("is_new") == "1"
    base: dict[str, Any] = json.loads(json.dumps(NEW_SURVEY))
    if not is_new:
        key = form.get("key", "")
        versions = await ctx.run_db(lambda s: history(s, key))
        if not versions:
            raise NotFound()
        base = versions[0].config
    return form, document_from_form(base, form, ctx.settings.locales), is_new


@router.post("/admin/surveys/save", response_class=HTMLResponse)
async def save(request: Request, user: User = Depends(staff_post)) -> Response:
    """Validate the whole survey and store it as a new version."""
    ctx = web(request)
    form, doc, is_new = await _posted(request)
    errors = survey_errors(doc, ctx.settings.locales, user.locale)
    if not errors and is_new:
        taken = await ctx.run_db(lambda s: bool(history(s, doc["key"])))
        if taken:
            errors["key"] = t(user.locale, "surveys_err_taken")
    if errors:
        versions = [] if is_new else await ctx.run_db(lambda s: history(s, doc["key"]))
        return admin_page(
            request,
            user,
            "surveys/edit.html",
            **_form_context(request, doc, is_new=is_new, errors=errors),
            versions=versions,
            notice=None,
            status_code=400,
        )
    config = SurveyConfig.model_validate(doc)
    summary = form.get("summary", "").strip() or None

    def work(session: Session) -> None:
        save_survey(session, config, user.username, summary)

    await ctx.run_db(work)
    live_for(ctx.settings, ctx.engine).refresh(force=True)  # this process at once
    return RedirectResponse(f"/admin/surveys/{config.key}?saved=1", status_code=303)


def _previews(request: Request, config: SurveyConfig) -> list[dict[str, Any]]:
    """Subject, HTML, text, AMP and the rating page of `config` in every locale."""
    ctx = web(request)
    renderer = Renderer(ctx.settings)  # its own: the unsaved survey never enters the live cache
    token = ctx.signer.sign(PREVIEW_ID, Purpose.PREVIEW)
    who = Recipient(
        request_id=PREVIEW_ID,
        email="preview@example.com",
        name="Anna",
        ticket_ref="1042",
        ticket_title="Printer",
        preview=True,
    )
    out = []
    for locale in ctx.settings.locales:
        parts = renderer.parts(config, locale, who)
        page, _ = ctx.pages.html(
            "rating.html",
            locale=locale,
            survey=config,
            texts=config.texts[locale],
            question=config.question_text(locale),
            options=scale_options(config, locale) if config.type != "form" else [],
            questions=form_questions(config, locale) if config.type == "form" else [],
            show_each_label=config.type in ("csat", "thumbs"),
            chosen={},
            comment="",
            auto_submit=False,
            error=None,
            action=f"/r/{token}",
            form_csrf=form_field(ctx.settings, token, "link"),
            comment_max_length=ctx.settings.web.comment_max_length,
            privacy_url=str(config.privacy_url),
            reasons=reason_views(config, locale),  # the follow-up questions, as the page asks them
            chosen_reasons={},
            reason_texts={},
            reason_words=reason_words(locale),
            telegram_link=None,
        )
        out.append(
            {
                "locale": locale,
                "subject": renderer.subject(config, locale),
                "html": parts.get("html", ""),
                "text": parts.get("text", ""),
                "amp": parts.get("amp"),
                "page": page,
            }
        )
    return out


@router.post("/admin/surveys/preview", response_class=HTMLResponse)
async def preview(request: Request, user: User = Depends(staff_post)) -> HTMLResponse:
    """The unsaved form rendered in every locale (or its errors, next to the fields)."""
    ctx = web(request)
    form, doc, is_new = await _posted(request)
    errors = survey_errors(doc, ctx.settings.locales, user.locale)
    versions = [] if is_new else await ctx.run_db(lambda s: history(s, doc["key"]))
    context = _form_context(request, doc, is_new=is_new, errors=errors)
    previews = [] if errors else _previews(request, SurveyConfig.model_validate(doc))
    notice = None
    if not errors and form.get("send_test") == "1":
        notice = await _send_test(request, user, SurveyConfig.model_validate(doc))
    return ctx.pages.render(
        "surveys/edit.html",
        locale=_locale(request, user),
        user=user,
        csrf=request.state.csrf,
        current=request.url.path,
        previews=previews,
        versions=versions,
        notice=notice,
        status_code=400 if errors else 200,
        headers={"Content-Security-Policy": _preview_policy()},
        **context,
    )


_locale = user_locale


def _preview_policy() -> str:
    """The page policy, letting the sandboxed srcdoc frames of the previews show."""
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src * data:; frame-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


async def _send_test(request: Request, user: User, config: SurveyConfig) -> str:
    """Queue one preview email (PREVIEW tokens: nothing is recorded) to the signed-in user."""
    ctx = web(request)
    if not user.email:
        return t(user.locale, "surveys_test_no_email")
    locale = _locale(request, user)
    renderer = Renderer(ctx.settings)
    who = Recipient(
        request_id=PREVIEW_ID,
        email=user.email,
        name=user.username,
        ticket_ref="1042",
        ticket_title="Printer",
        preview=True,
    )
    eml = renderer.render(config, who, locale=locale)
    message_id = next(
        (
            line.split(":", 1)[1].strip()
            for line in eml.decode("utf-8", "replace").splitlines()
            if line.lower().startswith("message-id:")
        ),
        "",
    )

    def work(session: Session) -> None:
        enqueue_notification(
            session,
            kind="survey.test",
            dedupe_key=f"survey-test:{message_id}",
            recipient=user.email or "",
            message_id=message_id,
            eml=eml,
        )

    await ctx.run_db(work)
    return t(user.locale, "surveys_test_sent", email=user.email)

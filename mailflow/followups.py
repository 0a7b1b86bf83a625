"""The client's follow-up after an answer: an apology for a negative one, a thank-you for a
positive one, when the survey asks for it (`followup = { apology = true, thank_you = true }`).

Written inside the answer's transaction (mailflow.after_answer), at most one per response
(the notification's dedupe key), never to a contact who unsubscribed or whose address bounced.
"""

from __future__ import annotations

from sqlmodel import Session

from mailflow.answer_sql import People
from mailflow.i18n import ui
from mailflow.notice_words import words
from mailflow.notifications import enqueue_notification
from mailflow.render import Email, render_notice
from mailflow.settings import Settings
from mailflow.surveys import SurveyConfig
from mailflow.tokens import Purpose, signer_for
from storage.models import Notification, Response, SurveyRequest

KINDS = ("apology", "thank_you")


def followup_email(
    settings: Settings,
    survey: SurveyConfig,
    *,
    kind: str,
    to: str,
    to_name: str | None,
    locale: str | None,
    unsubscribe_token: str,
) -> Email:
    """An apology (`kind="apology"`) or thank-you (`kind="thank_you"`) to the client."""
    if kind not in KINDS:
        raise ValueError(f"unknown follow-up kind {kind!r}")
    locale = locale if locale in survey.texts else settings.default_locale
    w, strings = words(locale), ui(locale)
    texts = survey.texts.get(locale)
    base = settings.web.base_url.rstrip("/")
    unsubscribe_url = f"{base}/u/{unsubscribe_token}"
    context = {
        "greeting": w["greeting_named"].format(name=to_name) if to_name else w["greeting"],
        "message": (getattr(texts, kind, None) if texts else None) or w[kind],
        "ui": strings,
        "footer": settings.brand.footer_for(locale, strings["footer"]),
        "privacy_url": str(survey.privacy_url),
        "unsubscribe_url": unsubscribe_url,
    }
    return render_notice(
        settings,
        "followup/message",
        context,
        to=to,
        to_name=to_name,
        subject=f"{settings.brand.company}: {w[f'followup_subject_{kind}']}",
        locale=locale,
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Mailflow-Survey": survey.key,
            "X-Mailflow-Followup": kind,
        },
    )


def send_followup(
    session: Session,
    settings: Settings,
    survey: SurveyConfig,
    request: SurveyRequest,
    response: Response,
    people: People,
) -> Notification | None:
    """Queue the follow-up this answer calls for; None when there is none to send."""
    config = survey.followup
    kind = "apology" if response.negative else "thank_you"
    if config is None or not getattr(config, kind):
        return None
    if people.contact_unsubscribed or people.contact_bounced:
        return None
    email = followup_email(
        settings,
        survey,
        kind=kind,
        to=people.contact_email,
        to_name=people.contact_name,
        locale=request.locale or people.contact_locale,
        unsubscribe_token=signer_for(settings).sign(request.id or 0, Purpose.UNSUBSCRIBE),
    )
    return enqueue_notification(
        session,
        kind=f"followup.{kind}",
        dedupe_key=f"followup:{response.id}",
        recipient=people.contact_email,
        eml=email.eml,
        message_id=email.message_id,
    )

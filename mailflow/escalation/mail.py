"""Escalation and follow-up emails from email_templates/ to MIME bytes.

The templates are small and styled inline, so there is no premailer pass; Jinja2 compiles each
template once per process (a cache keyed by nothing configurable). HTML is autoescaped; the
text part is plain text and is never shown in a browser.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from email.utils import format_datetime, formataddr
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlmodel import Session

import email_templates
from mailflow.escalation.facts import Facts, gather
from mailflow.escalation.strings import words
from mailflow.i18n import ui
from mailflow.render import header_safe, new_message_id
from mailflow.settings import Settings
from mailflow.surveys import SurveyConfig
from storage.clock import utcnow
from storage.models import Escalation, Response, SurveyRequest


@dataclass(frozen=True)
class Email:
    """A rendered email ready for the Notification outbox."""

    recipient: str
    message_id: str
    subject: str
    text: str
    html: str
    eml: bytes


@cache
def _environments() -> tuple[Environment, Environment]:
    """(html, text) environments over email_templates/; compiled templates are cached inside."""
    loader = FileSystemLoader(str(email_templates.TEMPLATE_DIR))
    html = Environment(loader=loader, autoescape=True, undefined=StrictUndefined, auto_reload=False)
    text = Environment(
        loader=loader,
        autoescape=False,  # noqa: S701  (text/plain part, never HTML)
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    return html, text


def _render(name: str, context: dict[str, Any]) -> tuple[str, str]:
    html_env, text_env = _environments()
    return (
        html_env.get_template(f"{name}.html").render(context),
        text_env.get_template(f"{name}.txt").render(context),
    )


def _encoded_words(value: str) -> str:
    """An RFC 2047 header value: ASCII as is, else base64 encoded-words of <= 45 bytes each,
    folded (email.header.Header does the same, several times slower)."""
    value = header_safe(value)
    if value.isascii():
        return value
    words, chunk = [], b""
    for char in value:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > 45:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return "\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


def _qp(text: str) -> bytes:
    """A quoted-printable body (readable in the raw message, safe for 7-bit relays)."""
    return binascii.b2a_qp(text.replace("\r\n", "\n").encode("utf-8"), istext=True)


def _mime(
    settings: Settings,
    *,
    to: str,
    to_name: str | None,
    subject: str,
    text: str,
    html: str,
    locale: str,
    headers: dict[str, str],
    message_id: str | None = None,
) -> tuple[str, bytes]:
    """multipart/alternative (text, then HTML) assembled directly: the stdlib generator costs
    milliseconds per message, and follow-ups are written inside the answer's transaction."""
    brand = settings.brand
    message_id = message_id or new_message_id(settings.msgid_domain)
    boundary = f"=_mf_{uuid.uuid4().hex}"
    lines = [
        f"Message-ID: {message_id}",
        f"Date: {format_datetime(utcnow())}",
        f"From: {formataddr((header_safe(brand.sender_name), brand.sender_email), 'utf-8')}",
        f"To: {formataddr((header_safe(to_name or ''), header_safe(to)), 'utf-8')}",
        f"Subject: {_encoded_words(subject)}",
        "Auto-Submitted: auto-generated",
        "X-Auto-Response-Suppress: OOF, AutoReply",
        f"Content-Language: {header_safe(locale)}",
        *(f"{name}: {header_safe(value)}" for name, value in headers.items()),
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "",
    ]
    head = "\n".join(lines).encode("ascii")
    parts = b"".join(
        f'\n--{boundary}\nContent-Type: text/{kind}; charset="utf-8"\n'
        "Content-Transfer-Encoding: quoted-printable\n\n".encode("ascii")
        + _qp(body)
        for kind, body in (("plain", text), ("html", html))
    )
    return message_id, head + parts + f"\n--{boundary}--\n".encode("ascii")


def escalation_email(
    settings: Settings,
    facts: Facts,
    *,
    to: str,
    to_name: str | None,
    locale: str | None,
    message_id: str | None = None,
) -> Email:
    """The email telling a manager about a negative answer, in the manager's locale."""
    locale = locale if locale in settings.locales else settings.default_locale
    w = words(locale)
    survey_title = facts.survey_title(locale)
    subject = w["subject"].format(client=facts.client, survey=survey_title)
    context = {
        "locale": locale,
        "subject": subject,
        "intro": w["intro"].format(survey=survey_title),
        "rows": facts.rows(locale),
        "w": w,
        "brand": settings.brand,
        "admin_url": facts.admin_url,
        "ticket_url": facts.ticket_url,
        "response_url": facts.response_url,
    }
    html, text = _render("escalation/manager", context)
    message_id, eml = _mime(
        settings,
        to=to,
        to_name=to_name,
        subject=subject,
        text=text,
        html=html,
        locale=locale,
        headers={"X-Mailflow-Escalation": str(facts.response_id)},
        message_id=message_id,
    )
    return Email(to, message_id, subject, text, html, eml)


def queued_escalation_email(
    session: Session, settings: Settings, render: dict[str, Any], message_id: str
) -> bytes:
    """The escalation email the outbox worker sends for a queued notification (`render` holds
    escalation_id, to, to_name, locale), with the facts as they are when it goes out."""
    escalation = session.get(Escalation, int(render["escalation_id"]))
    if escalation is None:
        raise LookupError(f"escalation {render['escalation_id']} does not exist")
    response = session.get(Response, escalation.response_id)
    request = session.get(SurveyRequest, response.request_id) if response else None
    if response is None or request is None:
        raise LookupError(f"escalation {escalation.id}: its answer is gone")
    survey = settings.survey(request.survey_key)
    facts = gather(session, settings, survey, request, response, rule=escalation.rule)
    email = escalation_email(
        settings,
        facts,
        to=str(render["to"]),
        to_name=render.get("to_name"),
        locale=render.get("locale"),
        message_id=message_id or None,
    )
    return email.eml


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
    if kind not in ("apology", "thank_you"):
        raise ValueError(f"unknown follow-up kind {kind!r}")
    locale = locale if locale in survey.texts else settings.default_locale
    w = words(locale)
    texts = survey.texts.get(locale)
    message = (getattr(texts, kind, None) if texts else None) or w[kind]
    subject = f"{settings.brand.company}: {w[f'followup_subject_{kind}']}"
    base = settings.web.base_url.rstrip("/")
    context = {
        "locale": locale,
        "subject": subject,
        "greeting": w["greeting_named"].format(name=to_name) if to_name else w["greeting"],
        "message": message,
        "brand": settings.brand,
        "ui": ui(locale),
        "privacy_url": str(survey.privacy_url),
        "unsubscribe_url": f"{base}/u/{unsubscribe_token}",
    }
    html, text = _render("followup/message", context)
    message_id, eml = _mime(
        settings,
        to=to,
        to_name=to_name,
        subject=subject,
        text=text,
        html=html,
        locale=locale,
        headers={
            "List-Unsubscribe": f"<{base}/u/{unsubscribe_token}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Mailflow-Survey": survey.key,
            "X-Mailflow-Followup": kind,
        },
    )
    return Email(to, message_id, subject, text, html, eml)

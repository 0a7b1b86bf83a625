"""Notices: the emails Mailflow writes about an answer (the manager's escalation, the client's
follow-up, and any digest to come), from email_templates/ in the shared frame.

A notice differs per message, so it is rendered whole each time (Jinja2 compiles each template
once per process); its styles are inline, so there is no premailer pass. HTML is autoescaped;
the text part is plain text and never shown in a browser. It leaves through the same assembly
and DKIM signing as a survey (mailflow.render.envelope).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import format_datetime, formataddr
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

import email_templates
from mailflow.mime import qp
from mailflow.render.envelope import (
    address_header,
    assemble,
    encode_header,
    header_safe,
    new_message_id,
)
from mailflow.settings import Settings
from storage.clock import utcnow


@dataclass(frozen=True)
class Email:
    """A rendered notice, ready for the notification outbox."""

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


def render_notice(
    settings: Settings,
    template: str,
    context: dict[str, Any],
    *,
    to: str,
    to_name: str | None,
    subject: str,
    locale: str,
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
    written_by_person: bool = False,
) -> Email:
    """`template`.html and .txt with `context` (plus brand and locale) as one signed email.
    `written_by_person`: a staff member wrote it (a console reply to a client), so it is not
    marked Auto-Submitted and the client's mail program may answer it as usual."""
    html_env, text_env = _environments()
    context = {"brand": settings.brand, "locale": locale, "subject": subject, **context}
    html = html_env.get_template(f"{template}.html").render(context)
    text = text_env.get_template(f"{template}.txt").render(context)
    brand = settings.brand
    message_id = message_id or new_message_id(settings.msgid_domain)
    head = [
        ("Message-ID", message_id),
        ("Date", format_datetime(utcnow())),
        ("From", formataddr((header_safe(brand.sender_name), brand.sender_email), "utf-8")),
        ("To", address_header(to_name, to)),
        ("Subject", encode_header(subject)),
        *(
            ()
            if written_by_person
            else (
                ("Auto-Submitted", "auto-generated"),
                ("X-Auto-Response-Suppress", "OOF, AutoReply"),
            )
        ),
        ("Content-Language", header_safe(locale)),
        *((name, header_safe(value)) for name, value in (headers or {}).items()),
    ]
    parts = (("text/plain", text), ("text/html", html))
    bodies = [(kind, qp(body.replace("\r\n", "\n"))) for kind, body in parts]
    return Email(to, message_id, subject, text, html, assemble(settings, head, bodies))

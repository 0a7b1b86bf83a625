"""The emails the escalation console sends: to a newly assigned staff member, the one overdue
reminder, and a manager's reply to the client in the survey's thread (In-Reply-To/References
to our survey Message-ID, Reply-To an ESCALATION-token address that brings the client's answer
back to the same escalation: mailflow.inbound.matching.escalation_of)."""

from __future__ import annotations

from mailflow.console_words import console_words
from mailflow.facts import one_line
from mailflow.render import Email, render_notice
from mailflow.render.envelope import reply_address
from mailflow.settings import Settings
from mailflow.tokens import Purpose, signer_for


def escalation_url(settings: Settings, escalation_id: int) -> str:
    """The escalation's page in the console."""
    return f"{settings.web.base_url.rstrip('/')}/admin/escalations/{escalation_id}"


def _locale(settings: Settings, locale: str | None) -> str:
    return locale if locale in settings.locales else settings.default_locale


def staff_notice(
    settings: Settings,
    *,
    kind: str,
    escalation_id: int,
    to: str,
    to_name: str | None,
    locale: str | None,
    values: dict[str, object],
) -> Email:
    """`kind` "assigned" or "overdue": a short notice with a link to the escalation."""
    locale = _locale(settings, locale)
    w = console_words(locale)
    values = {"id": escalation_id, **values}
    subject = one_line(w[f"con_mail_{kind}_subject"].format(**values))
    return render_notice(
        settings,
        "escalation/console",
        {
            "lines": [w[f"con_mail_{kind}_body"].format(**values)],
            "url": escalation_url(settings, escalation_id),
            "open_label": w["con_mail_open"],
        },
        to=to,
        to_name=to_name,
        subject=subject,
        locale=locale,
        headers={"X-Mailflow-Console": kind},
    )


def escalation_reply_address(settings: Settings, escalation_id: int) -> str:
    """survey+TOKEN@reply_domain with an ESCALATION token naming this escalation."""
    return reply_address(settings, signer_for(settings).sign(escalation_id, Purpose.ESCALATION))


def client_reply(
    settings: Settings,
    *,
    escalation_id: int,
    to: str,
    to_name: str | None,
    locale: str | None,
    subject: str,
    text: str,
    signature: str,
    thread: list[str],
) -> Email:
    """The manager's text to the client, threaded under `thread` (our Message-IDs, oldest
    first: the survey, then earlier replies)."""
    locale = _locale(settings, locale)
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    headers = {"Reply-To": escalation_reply_address(settings, escalation_id)}
    if thread:
        headers["In-Reply-To"] = thread[-1]
        headers["References"] = " ".join(thread)
    return render_notice(
        settings,
        "escalation/client_reply",
        {"paragraphs": paragraphs, "signature": signature},
        to=to,
        to_name=to_name,
        subject=one_line(subject),
        locale=locale,
        headers=headers,
        written_by_person=True,
    )

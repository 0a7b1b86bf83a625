"""The escalation email to a manager: the facts of a negative answer, in the manager's locale,
as a notice in the shared frame (mailflow.render)."""

from __future__ import annotations

from mailflow.facts import Facts, one_line
from mailflow.notice_words import words
from mailflow.render import Email, render_notice
from mailflow.settings import Settings


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
    context = {
        "intro": w["intro"].format(survey=survey_title),
        "rows": facts.rows(locale),
        "text_lines": facts.text_lines(locale),  # client text quoted (mailflow.facts)
        "w": w,
        "admin_url": facts.admin_url,
        "ticket_url": facts.ticket_url,
        "response_url": facts.response_url,
    }
    return render_notice(
        settings,
        "escalation/manager",
        context,
        to=to,
        to_name=to_name,
        subject=one_line(w["subject"].format(client=facts.client, survey=survey_title)),
        locale=locale,
        headers={"X-Mailflow-Escalation": str(facts.response_id)},
        message_id=message_id,
    )

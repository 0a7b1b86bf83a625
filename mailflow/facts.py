"""The analytics row of one answer, as a manager reads it: in the subtask, the email, the page.

One place gathers what was answered (every answer with its label, the score, the comment), by
whom (client, employee), about what (ticket) and the links to the ticket and the response, so
the subtask description, the escalation email and the webhook payload all say the same thing.

In plain text (the email's text part, the subtask description) what the client or the
helpdesk wrote can never pass for Mailflow's own lines: the comment is quoted, every line
prefixed with "> ", and every other value is folded onto its row's one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from mailflow import answer_reasons
from mailflow.answer_reasons import Reason
from mailflow.answer_sql import People, people_of
from mailflow.notice_words import words
from mailflow.reason_words import words as reason_words
from mailflow.settings import Settings
from mailflow.surveys import SurveyConfig
from storage.clock import as_utc
from storage.models import Response, SurveyRequest

# Everything a mail client or terminal may show as a line break, and other control characters.
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


def one_line(text: str) -> str:
    """`text` on one line: line breaks and control characters (bidi overrides too) folded."""
    return _CONTROL.sub(" ", text).strip()


def quoted(text: str) -> str:
    """`text` as a quotation: every line prefixed with "> " (the client's words, not ours)."""
    lines = _LINE_BREAKS.split(text.strip())
    return "\n".join(f"> {one_line(line)}".rstrip() for line in lines)


@dataclass(frozen=True)
class Facts:
    """Everything about one answer a manager needs; locale-independent keys plus labels."""

    survey: SurveyConfig
    response_id: int
    request_id: int
    score: int | None
    answers: dict[str, str]
    comment: str | None
    source: str
    answered_at: datetime
    negative: bool
    client_email: str
    client_name: str | None
    employee_name: str | None
    employee_email: str | None
    ticket_id: int | None
    ticket_ref: str | None
    ticket_title: str | None
    ticket_url: str | None
    response_url: str
    admin_url: str
    rule: str | None = None
    reasons: dict[str, Reason] = field(default_factory=dict)

    @property
    def survey_key(self) -> str:
        return self.survey.key

    def survey_title(self, locale: str) -> str:
        """The survey's title in `locale`, else its key."""
        texts = self.survey.texts.get(locale)
        return texts.title if texts else self.survey.key

    @property
    def client(self) -> str:
        """The client as shown: name and address, or the address."""
        return (
            f"{self.client_name} <{self.client_email}>" if self.client_name else self.client_email
        )

    def rows(self, locale: str) -> list[tuple[str, str]]:
        """The analytics row as (label, value) pairs in `locale`; the same in every channel."""
        w = words(locale)
        none = w["none"]
        ticket = none
        if self.ticket_id is not None:
            ticket = f"#{self.ticket_ref or self.ticket_id}"
            if self.ticket_title:
                ticket = f"{ticket} {self.ticket_title}"
        rows = [
            (w["survey"], self.survey_title(locale)),
            (w["client"], self.client),
            (w["employee"], self.employee_name or none),
            (w["ticket"], ticket),
        ]
        rows.extend(answer_labels(self.survey, self.answers, self.score, locale))
        other = reason_words(locale)["other"]
        rows.extend(answer_reasons.labelled(self.survey, self.reasons, locale, other))
        rows.append((w["comment"], self.comment or none))
        rows.append((w["source"], self.source))
        rows.append((w["answered_at"], as_utc(self.answered_at).strftime("%Y-%m-%d %H:%M UTC")))
        if self.rule:
            rows.append((w["rule"], self.rule))
        return rows

    def text_lines(self, locale: str) -> list[str]:
        """rows() as plain-text lines: the comment quoted on the lines below its label, every
        other value folded onto its one line, so nothing supplied can add a line of its own."""
        comment_label = words(locale)["comment"]
        out = []
        for label, value in self.rows(locale):
            if label == comment_label and self.comment:
                out.append(f"{label}:\n{quoted(self.comment)}")
            else:
                out.append(f"{label}: {one_line(value)}")
        return out

    def description(self, locale: str) -> str:
        """The subtask description: the analytics row, then the links."""
        w = words(locale)
        lines = self.text_lines(locale)
        if self.ticket_url:
            lines.append(f"{w['ticket']}: {self.ticket_url}")
        lines.append(f"{w['response']}: {self.response_url}")
        return "\n".join(lines)

    def payload(self) -> dict[str, object]:
        """The same facts as JSON for webhooks (locale-independent keys)."""
        return {
            "survey": self.survey_key,
            "response_id": self.response_id,
            "request_id": self.request_id,
            "score": self.score,
            "answers": dict(self.answers),
            "reasons": answer_reasons.payload(self.reasons),
            "comment": self.comment,
            "source": self.source,
            "negative": self.negative,
            "answered_at": as_utc(self.answered_at).isoformat(),
            "client": {"email": self.client_email, "name": self.client_name},
            "employee": {"name": self.employee_name, "email": self.employee_email},
            "ticket": None
            if self.ticket_id is None
            else {"id": self.ticket_id, "ref": self.ticket_ref, "title": self.ticket_title},
            "links": {"ticket": self.ticket_url, "response": self.response_url},
        }


def answer_labels(
    survey: SurveyConfig, answers: dict[str, str], score: int | None, locale: str
) -> list[tuple[str, str]]:
    """Every question (or the scale) with the label of the option chosen, in `locale`."""
    pairs: list[tuple[str, str]] = []
    if survey.type == "form":
        for question in survey.questions:
            option = answers.get(question.key)
            if option is not None:
                label = question.options.get(option, {}).get(locale, option)
                pairs.append((question.text.get(locale, question.key), label))
        return pairs
    key = answers.get(survey.type) or answers.get("score")
    if key is None and score is not None:
        key = str(score)
    if key is not None:
        label = survey.labels(locale).get(key)
        shown = f"{key} ({label})" if label else key
        if survey.type != "thumbs":
            scale = survey.kind.scale
            shown = f"{shown} — {survey.type.upper()} {scale[0]}–{scale[-1]}"
        pairs.append((words(locale)["score"], shown))
    return pairs


def admin_link(settings: Settings, response_id: int) -> str:
    """The admin page of the escalation of a response (known before the escalation's id)."""
    return f"{settings.web.base_url.rstrip('/')}/admin/escalations/response/{response_id}"


def gather(
    session: Session,
    settings: Settings,
    survey: SurveyConfig,
    request: SurveyRequest,
    response: Response,
    *,
    rule: str | None = None,
    people: People | None = None,
) -> Facts:
    """Collect the facts of one answer (`people` when the caller has read them already)."""
    if people is None:
        assert request.id is not None
        people = people_of(session, request.id)
    admin_url = admin_link(settings, response.id or 0)
    ticket_url = None
    if people.ticket_id is not None:
        template = settings.escalation.ticket_url
        ref = people.ticket_ref or str(people.ticket_id)
        ticket_url = (
            template.replace("{ref}", ref).replace("{id}", str(people.ticket_id))
            if template
            else f"{admin_url}#ticket"
        )
    return Facts(
        survey=survey,
        response_id=response.id or 0,
        request_id=request.id or 0,
        score=response.score,
        answers={k: str(v) for k, v in response.answers.items()},
        comment=response.comment,
        source=response.source,
        answered_at=response.updated_at,
        negative=response.negative,
        client_email=people.contact_email,
        client_name=people.contact_name,
        employee_name=people.employee_name,
        employee_email=people.employee_email,
        ticket_id=people.ticket_id,
        ticket_ref=people.ticket_ref,
        ticket_title=people.ticket_title,
        ticket_url=ticket_url,
        response_url=f"{admin_url}#response",
        admin_url=admin_url,
        rule=rule,
        reasons=answer_reasons.stored(session, response.id)
        if survey.reasons and response.id
        else {},
    )

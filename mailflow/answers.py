"""`record_answer`: the ONE function every channel (link, AMP, reply, form) calls.

It writes the Response, one AnalyticsRow per field on the survey's "Survey" task, the comment
on the rated ticket, marks the request answered, and sets off what every answer does
(mailflow.after_answer: the webhook, the follow-up, a negative answer's open escalation), all
in the caller's session (so the caller's commit makes it durable at once). Repeats are handled by
unique constraints: a second answer replaces the first only inside the survey's edit window
and when the survey allows changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, delete, select

from mailflow import answer_reasons, answer_sql
from mailflow.after_answer import on_answer, reasons_added
from mailflow.answer_reasons import Reason, UnknownReason
from mailflow.answer_sql import People
from mailflow.i18n import ui
from mailflow.reason_words import words as reason_words
from mailflow.settings import Settings
from mailflow.surveys import SurveyConfig
from parsers import refusals
from parsers.refusals import Refusal
from storage.clock import as_utc, utcnow
from storage.models import (
    SOURCES,
    AnalyticsRow,
    Comment,
    Response,
    SurveyRequest,
    Task,
)
from storage.states import UNDELIVERED, RequestState


class AnswerRefused(Refusal):
    """An answer that cannot be recorded; `reason` is stable for pages, logs and the inbound
    row (one family with the parsers' and matching refusals)."""

    reason = "refused"


class RequestExpired(AnswerRefused):
    """The survey's expiration period is over."""

    reason = "expired"


class AlreadyAnswered(AnswerRefused):
    """The request has a final answer (change forbidden, locked, or edit window over)."""

    reason = "already_answered"

    def __init__(self, response: Response):
        super().__init__("this survey was already answered")
        self.response = response


class InvalidAnswer(AnswerRefused, refusals.InvalidAnswer):
    """The answer is not on the survey's scale or names unknown questions/options."""

    reason = "invalid_answer"


class RequestNotAnswerable(AnswerRefused):
    """The request never went out (suppressed, failed, bounced) or is otherwise closed."""

    reason = "not_answerable"


@dataclass
class Answer:
    """What a client answered, in the survey's locale-independent keys."""

    score: int | None = None
    answers: dict[str, str] = field(default_factory=dict)
    comment: str | None = None
    reasons: dict[str, str] = field(default_factory=dict)  # follow-up key -> option key
    reason_texts: dict[str, str] = field(default_factory=dict)  # follow-up key -> "other" text


@dataclass
class Recorded:
    """What record_answer did."""

    response: Response
    created: bool
    replaced: bool
    negative: bool


def normalise(survey: SurveyConfig, answer: Answer) -> Answer:
    """Check an answer against the survey and fill score/answers consistently."""
    kind = survey.kind
    answers = {k: str(v) for k, v in answer.answers.items() if v not in (None, "")}
    comment = (answer.comment or "").strip() or None
    if survey.type == "form":
        questions = {q.key: q for q in survey.questions}
        for key, option in answers.items():
            if key not in questions:
                raise InvalidAnswer(f"unknown question '{key}'")
            if option not in questions[key].options:
                raise InvalidAnswer(f"unknown option '{option}' for question '{key}'")
        if not answers:
            raise InvalidAnswer("no question was answered")
        return Answer(None, answers, comment, dict(answer.reasons), dict(answer.reason_texts))
    key = answers.get(survey.type) or answers.get("score") or answers.get("a")
    if key is None and answer.score is not None:
        key = "good" if survey.type == "thumbs" and answer.score > 0 else str(answer.score)
        if survey.type == "thumbs" and answer.score <= 0:
            key = "bad"
    if key is None or key not in kind.scale:
        raise InvalidAnswer(f"answer must be one of {', '.join(kind.scale)}")
    score = kind.score_of(key)
    stored = {survey.type: key} if survey.type == "thumbs" else {"score": key}
    return Answer(score, stored, comment, dict(answer.reasons), dict(answer.reason_texts))


def survey_task_id(session: Session, survey: SurveyConfig) -> int:
    """The id of the survey's "Survey" task, created on first use (unique by kind + key).

    An id found already committed is remembered on the pooled DB connection, so the hot path
    asks the database once per connection, not once per answer.
    """
    cache: dict[str, int] = session.connection().info.setdefault("mailflow_survey_tasks", {})
    if survey.key in cache:
        return cache[survey.key]
    query = select(Task.id).where(Task.kind == "survey", Task.external_ref == survey.key)
    found = session.exec(query).first()
    if found is not None:
        cache[survey.key] = found
        return found
    try:
        with session.begin_nested():
            task = Task(kind="survey", external_ref=survey.key, title=f"Survey: {survey.key}")
            session.add(task)
    except IntegrityError:
        return session.exec(query).one()
    assert task.id is not None
    return task.id


def _analytics_fields(
    response: Response, people: People, reasons: dict[str, Reason]
) -> dict[str, str | None]:
    """Every field of the analytics row."""
    fields: dict[str, str | None] = {
        "score": None if response.score is None else str(response.score),
        "comment": response.comment,
        "source": response.source,
        "negative": "yes" if response.negative else "no",
        "contact": people.contact_email,
        "employee": people.employee_name,
        "ticket": (people.ticket_ref or str(people.ticket_id)) if people.ticket_id else None,
    }
    for key, value in response.answers.items():
        if key not in ("score",):
            fields[f"answer.{key}"] = value
    for key, reason in reasons.items():
        fields[f"reason.{key}"] = reason.option
        if reason.text:
            fields[f"reason.{key}.text"] = reason.text
    return fields


def _comment_body(
    settings: Settings, survey: SurveyConfig, response: Response, reasons: dict[str, Reason]
) -> str:
    """The ticket comment, in the staff's language (the default locale), not the client's."""
    locale = settings.default_locale
    words = ui(locale)
    texts = survey.texts.get(locale)
    title = texts.title if texts else survey.key
    lines = [words["comment_answered"].format(survey=title, source=response.source)]
    if survey.type == "form":
        for question in survey.questions:
            option = response.answers.get(question.key)
            if option:
                label = question.options[option].get(locale, option)
                lines.append(f"{question.text.get(locale, question.key)} {label}")
    elif response.score is not None:
        key = str(response.answers.get(survey.type, response.score))
        label = survey.labels(locale).get(key)
        shown = f"{key} — {label}" if label and survey.type != "thumbs" else (label or key)
        scale = f"{survey.type.upper()} {survey.kind.scale[0]}–{survey.kind.scale[-1]}"
        lines.append(words["comment_rating"].format(shown=shown, scale=scale))
    extra = reason_words(locale)
    for question, label in answer_reasons.labelled(survey, reasons, locale, extra["other"]):
        lines.append(extra["comment_reason"].format(question=question, answer=label))
    if response.comment:
        lines.append(words["comment_comment"].format(comment=response.comment))
    if response.negative:
        lines.append(words["comment_negative"])
    return "\n".join(lines)


def _file(
    session: Session,
    settings: Settings,
    survey: SurveyConfig,
    request: SurveyRequest,
    response: Response,
    people: People,
    *,
    replaced: bool,
    reasons: dict[str, Reason],
) -> None:
    """Analytics rows on the Survey task and the comment on the ticket.

    A first answer inserts (one prebuilt statement per table); a replaced answer rewrites its
    rows and updates its comment.
    """
    sql = answer_sql.for_session(session)
    task_id = survey_task_id(session, survey)
    if replaced:
        session.exec(delete(AnalyticsRow).where(AnalyticsRow.response_id == response.id))
    now = utcnow()
    rows = [
        {
            "survey_task_id": task_id,
            "response_id": response.id,
            "field": name,
            "value": value,
            "created_at": now,
        }
        for name, value in _analytics_fields(response, people, reasons).items()
    ]
    answer_sql.execute(session, sql.insert_analytics, rows)
    if request.ticket_id is None:
        return
    body = _comment_body(settings, survey, response, reasons)
    if replaced:
        session.execute(
            update(Comment)
            .where(Comment.task_id == request.ticket_id, Comment.response_id == response.id)
            .values(body=body, source=response.source)
        )
        return
    comment = {
        "task_id": request.ticket_id,
        "response_id": response.id,
        "author": survey.comment_author,
        "body": body,
        "source": response.source,
        "created_at": now,
    }
    answer_sql.execute(session, sql.insert_comment, comment)


def _insert_response(session: Session, values: dict[str, object]) -> Response | None:
    """Insert the first Response of a request in one statement; None when one exists.

    INSERT … ON CONFLICT (request_id) DO NOTHING RETURNING id: the unique constraint decides
    between racing channels, with no savepoint and no prior SELECT. The Response returned is a
    snapshot of the row, not attached to the session.
    """
    found = answer_sql.execute(session, answer_sql.for_session(session).insert_response, values)
    new_id = found.scalar()
    return None if new_id is None else Response(id=new_id, **values)


def _mark_answered(session: Session, request: SurveyRequest, now: datetime) -> None:
    """State answered in the database and on the loaded request (without dirtying it)."""
    sql = answer_sql.for_session(session)
    answer_sql.execute(session, sql.mark_answered, {"b_id": request.id, "b_now": now})
    set_committed_value(request, "state", RequestState.ANSWERED)
    set_committed_value(request, "answered_at", request.answered_at or now)


def record_answer(
    session: Session,
    settings: Settings,
    request: SurveyRequest,
    answer: Answer,
    source: str,
    *,
    inbound_message_id: int | None = None,
    weak_match: bool = False,
    now: datetime | None = None,
) -> Recorded:
    """Record `answer` to `request` from `source`; raises AnswerRefused subclasses."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    now = now or utcnow()
    survey = settings.survey(request.survey_key)
    clean = normalise(survey, answer)
    if clean.comment and len(clean.comment) > settings.web.comment_max_length:
        clean.comment = clean.comment[: settings.web.comment_max_length]
    if request.state in UNDELIVERED:
        raise RequestNotAnswerable(f"request is {request.state}")
    if request.state == RequestState.EXPIRED or (
        request.expires_at and as_utc(request.expires_at) < now
    ):
        raise RequestExpired("the survey has expired")
    try:
        reasons = answer_reasons.clean(
            survey,
            answer_reasons.answer_key(survey, clean.answers),
            clean.reasons,
            clean.reason_texts,
            max_length=settings.web.comment_max_length,
        )
    except UnknownReason as exc:
        raise InvalidAnswer(str(exc)) from None
    chosen = answer_reasons.options(reasons)
    negative = survey.is_negative(clean.score, clean.answers, clean.comment, chosen)
    assert request.id is not None
    session.flush()  # the caller's pending rows (e.g. the inbound message) come first
    response = _insert_response(
        session,
        {
            "request_id": request.id,
            "survey_key": survey.key,
            "score": clean.score,
            "answers": clean.answers,
            "comment": clean.comment,
            "source": source,
            "negative": negative,
            "weak_match": weak_match,
            "locked": survey.forbid_change,
            "inbound_message_id": inbound_message_id,
            "created_at": now,
            "updated_at": now,
        },
    )
    existing = None
    if response is None:
        existing = session.exec(select(Response).where(Response.request_id == request.id)).one()
        if _is_final(survey, existing, now):
            raise AlreadyAnswered(existing)
        new_key = answer_reasons.answer_key(survey, clean.answers)
        asked = {f.key for f in survey.reasons_for(new_key)}
        assert existing.id is not None
        reasons = answer_reasons.store(session, survey, existing.id, source, reasons, keep=asked)
        negative = survey.is_negative(
            clean.score, clean.answers, clean.comment, answer_reasons.options(reasons)
        )
        existing.score, existing.answers = clean.score, clean.answers
        existing.comment, existing.source, existing.negative = clean.comment, source, negative
        existing.updated_at = now
        existing.inbound_message_id = inbound_message_id or existing.inbound_message_id
        session.add(existing)
        session.flush()
        response = existing
    elif reasons:
        assert response.id is not None
        answer_reasons.store(session, survey, response.id, source, reasons)
    _mark_answered(session, request, now)
    people = answer_sql.people_of(session, request.id)
    _file(
        session,
        settings,
        survey,
        request,
        response,
        people,
        replaced=existing is not None,
        reasons=reasons,
    )
    on_answer(session, settings, survey, request, response, people)
    return Recorded(response, existing is None, existing is not None, negative)


def _answered(
    session: Session, settings: Settings, request: SurveyRequest, source: str, now: datetime
) -> tuple[SurveyConfig, Response]:
    """The survey and the recorded answer that a later reason or comment adds to; refused
    when the survey has expired or nothing was answered yet."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    survey = settings.survey(request.survey_key)
    if request.state == RequestState.EXPIRED or (
        request.expires_at and as_utc(request.expires_at) < now
    ):
        raise RequestExpired("the survey has expired")
    response = session.exec(select(Response).where(Response.request_id == request.id)).first()
    if response is None or response.id is None:
        raise RequestNotAnswerable("nothing was answered yet")
    return survey, response


def _is_final(survey: SurveyConfig, response: Response, now: datetime) -> bool:
    """Whether the answer itself may no longer change (forbid_change, or its edit window)."""
    window = timedelta(hours=survey.edit_window_hours)
    return response.locked or survey.forbid_change or now - as_utc(response.created_at) > window


def record_comment(
    session: Session,
    settings: Settings,
    request: SurveyRequest,
    text: str,
    source: str,
    *,
    now: datetime | None = None,
) -> Recorded:
    """Add the comment asked for after an answer already recorded (Telegram asks for it once
    the score button is pressed). Like a reason, a comment not given yet may be added even
    when the answer is final (forbid_change keeps the score, not the person's words); one
    already given is extended only while the answer itself may change."""
    now = now or utcnow()
    survey, response = _answered(session, settings, request, source, now)
    text = text.strip()
    if not text:
        raise InvalidAnswer("no comment was given")
    if _is_final(survey, response, now) and response.comment:
        raise AlreadyAnswered(response)
    comment = f"{response.comment}\n{text}" if response.comment else text
    comment = comment[: settings.web.comment_max_length]
    reasons = answer_reasons.stored(session, response.id)
    answers = {k: str(v) for k, v in response.answers.items()}
    was_negative = response.negative
    negative = was_negative or survey.is_negative(
        response.score, answers, comment, answer_reasons.options(reasons)
    )
    response.comment, response.negative, response.updated_at = comment, negative, now
    session.add(response)
    session.flush()
    people = answer_sql.people_of(session, request.id or 0)
    _file(session, settings, survey, request, response, people, replaced=True, reasons=reasons)
    on_answer(session, settings, survey, request, response, people)
    return Recorded(response, False, True, negative)


def record_reasons(
    session: Session,
    settings: Settings,
    request: SurveyRequest,
    reasons: dict[str, str],
    texts: dict[str, str],
    source: str,
    *,
    now: datetime | None = None,
) -> Recorded:
    """Add the reasons asked after an answer already recorded (the rating page's second step,
    a Telegram button). A follow-up not answered yet may be answered even when the answer is
    final; one already answered changes only while the answer itself may change. A reason
    that makes the answer negative opens its escalation; one that names whom to escalate to
    re-addresses an escalation not filed yet."""
    now = now or utcnow()
    survey, response = _answered(session, settings, request, source, now)
    key = answer_reasons.answer_key(survey, {k: str(v) for k, v in response.answers.items()})
    try:
        clean = answer_reasons.clean(
            survey, key, reasons, texts, max_length=settings.web.comment_max_length
        )
    except UnknownReason as exc:
        raise InvalidAnswer(str(exc)) from None
    if not clean:
        raise InvalidAnswer("no reason was given")
    current = answer_reasons.stored(session, response.id)
    if _is_final(survey, response, now) and any(name in current for name in clean):
        raise AlreadyAnswered(response)
    merged = answer_reasons.store(session, survey, response.id, source, clean)
    was_negative = response.negative
    negative = was_negative or survey.is_negative(
        response.score,
        {k: str(v) for k, v in response.answers.items()},
        response.comment,
        answer_reasons.options(merged),
    )
    response.negative, response.updated_at = negative, now
    session.add(response)
    session.flush()
    people = answer_sql.people_of(session, request.id or 0)
    _file(session, settings, survey, request, response, people, replaced=True, reasons=merged)
    reasons_added(session, settings, survey, request, response, people, was_negative)
    return Recorded(response, False, True, negative)

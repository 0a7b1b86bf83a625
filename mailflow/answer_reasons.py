"""Reasons after an answer: which follow-up options a client chose, checked against the
survey, and their rows in `answerreason`.

A reason belongs to one answer and one follow-up question (unique response + follow-up), so a
repeat replaces it. Reasons are asked only after some answers (`ReasonQuestion.when`): a
reason for a follow-up that does not apply to the answer is dropped, not refused, because a
page may still carry a choice hidden when the client changed the score.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlmodel import Session, delete, select

from mailflow.reason_words import words as reason_words
from mailflow.surveys import SurveyConfig
from parsers.reasons import match_option
from storage.clock import utcnow
from storage.models import AnswerReason

OTHER = "other"


class UnknownReason(ValueError):
    """A reason naming a follow-up question or option the survey does not have."""


@dataclass(frozen=True)
class Reason:
    """One chosen option (or "other" with the client's text)."""

    option: str
    text: str | None = None


def answer_key(survey: SurveyConfig, answers: Mapping[str, str]) -> str | None:
    """The scale answer the follow-ups are chosen by."""
    return answers.get(survey.type) or answers.get("score")


def clean(
    survey: SurveyConfig,
    key: str | None,
    reasons: Mapping[str, str],
    texts: Mapping[str, str],
    *,
    max_length: int,
) -> dict[str, Reason]:
    """The reasons that apply to answer `key`; UnknownReason for a name the survey lacks.

    "other" needs its text (an empty "other" is no reason); text alone means "other"."""
    out: dict[str, Reason] = {}
    for name in {*reasons, *texts}:
        followup = survey.reason_question(name)
        if followup is None:
            raise UnknownReason(f"unknown follow-up question '{name}'")
        option = (reasons.get(name) or "").strip()
        text = (texts.get(name) or "").strip()[:max_length] or None
        if not option and text and followup.other:
            option = OTHER
        if not option:
            continue
        if option == OTHER:
            if not followup.other:
                raise UnknownReason(f"follow-up '{name}' has no 'other' option")
            if text is None:
                continue
        elif option not in followup.options:
            raise UnknownReason(f"unknown option '{option}' for follow-up '{name}'")
        else:
            text = None
        if followup.applies(key):
            out[name] = Reason(option, text)
    return out


def options(reasons: Mapping[str, Reason]) -> dict[str, str]:
    """Follow-up key -> option key, what the negative rules look at."""
    return {name: reason.option for name, reason in reasons.items()}


def stored(session: Session, response_id: int) -> dict[str, Reason]:
    """The reasons stored for a response."""
    rows = session.exec(select(AnswerReason).where(AnswerReason.response_id == response_id))
    return {row.followup: Reason(row.option, row.text) for row in rows}


def store(
    session: Session,
    survey: SurveyConfig,
    response_id: int,
    source: str,
    reasons: Mapping[str, Reason],
    *,
    keep: set[str] | None = None,
) -> dict[str, Reason]:
    """Write `reasons` for a response, replacing earlier ones for the same follow-ups and
    dropping any whose follow-up is not in `keep` (the ones the answer still asks);
    the reasons the response has afterwards."""
    current = stored(session, response_id)
    drop = set(reasons) | {name for name in current if keep is not None and name not in keep}
    if drop:
        session.exec(
            delete(AnswerReason).where(
                AnswerReason.response_id == response_id, AnswerReason.followup.in_(drop)
            )
        )
    now = utcnow()
    for name, reason in reasons.items():
        session.add(
            AnswerReason(
                response_id=response_id,
                survey_key=survey.key,
                followup=name,
                option=reason.option,
                text=reason.text,
                source=source,
                created_at=now,
            )
        )
    session.flush()
    kept = {name: r for name, r in current.items() if name not in drop}
    return {**kept, **reasons}


def labelled(
    survey: SurveyConfig, reasons: Mapping[str, Reason], locale: str, other_word: str
) -> list[tuple[str, str]]:
    """(follow-up question, chosen label) pairs in a locale, for comments and emails."""
    pairs = []
    for followup in survey.reasons:
        reason = reasons.get(followup.key)
        if reason is None:
            continue
        text = followup.text.get(locale) or followup.text.get("en") or followup.key
        if reason.option == OTHER:
            shown = f"{other_word}: {reason.text}" if reason.text else other_word
        else:
            shown = followup.label(reason.option, locale)
        pairs.append((text, shown))
    return pairs


def payload(reasons: Mapping[str, Reason]) -> dict[str, dict[str, str | None]]:
    """Locale-independent JSON for webhooks and reports."""
    return {name: {"option": r.option, "text": r.text} for name, r in sorted(reasons.items())}


def read(
    survey: SurveyConfig, score: int | None, answers: Mapping[str, str], text: str | None
) -> dict[str, str]:
    """The options a reply names in words, for the follow-ups its answer asks (labels in every
    locale and the survey's extra `words`); follow-up key -> option key."""
    key = answer_key(survey, answers) or (None if score is None else str(score))
    if not text or key is None:
        return {}
    found = {}
    for followup in survey.reasons_for(key):
        phrases = {
            option: [*labels.values(), *_words_of(followup.words.get(option, {}))]
            for option, labels in followup.options.items()
        }
        option = match_option(text, phrases)
        if option is not None:
            found[followup.key] = option
    return found


def _words_of(per_locale: Mapping[str, list[str]]) -> list[str]:
    return [word for words in per_locale.values() for word in words]


@dataclass(frozen=True)
class ReasonView:
    """A reason question as a page or the AMP form shows it."""

    key: str
    text: str
    when: tuple[str, ...]
    options: tuple[tuple[str, str], ...]  # (option key, label)
    other: bool
    other_label: str
    other_prompt: str


def reason_views(
    survey: SurveyConfig, locale: str, only: Iterable[str] | None = None
) -> list[ReasonView]:
    """The survey's reason questions in a locale (`only`: these keys)."""
    extra = reason_words(locale)
    keep = None if only is None else set(only)
    return [
        ReasonView(
            key=q.key,
            text=q.text.get(locale) or q.text.get("en") or q.key,
            when=tuple(q.when),
            options=tuple((option, q.label(option, locale)) for option in q.options),
            other=q.other,
            other_label=extra["other"],
            other_prompt=extra["other_prompt"],
        )
        for q in survey.reasons
        if keep is None or q.key in keep
    ]

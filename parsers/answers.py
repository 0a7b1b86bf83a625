"""Form answers -> the survey's question keys and option keys, whatever the locale.

Labels are compared normalised (case, spaces, punctuation); a question also matches by
prefix or containment because form tools shorten or decorate titles ("1. Speed *").
Unmatched labels are simply not answers to this survey.
"""

from __future__ import annotations

import re

from parsers.types import QuestionSpec, SurveySpec
from parsers.words import normalise_label

_COMMENT_LABEL = re.compile(
    r"comment|remarks?|feedback|anything else|suggestion|your message|^message$|"
    r"комментар|отзыв|пожелани|замечани|сообщени|komentarz|uwag|opini|wiadomość|sugesti",
    re.I,
)
_NUMBERING = re.compile(r"^\s*(?:\d{1,2}|[a-z])[.)]\s+", re.I)
_MIN_CONTAINED = 6


def _norm(text: str) -> str:
    text = _NUMBERING.sub("", text)
    return normalise_label(re.sub(r"[\s*?!:;.,\"'«»„”“()]+", " ", text))


def is_comment_label(label: str) -> bool:
    """A free-text field: "Comment", "Комментарий", "Komentarz", "Additional comments"…"""
    return bool(_COMMENT_LABEL.search(label or ""))


def match_question(label: str, survey: SurveySpec) -> QuestionSpec | None:
    """The question a form label names: exact text in any locale, then prefix/containment."""
    wanted = _norm(label)
    if not wanted:
        return None
    loose: QuestionSpec | None = None
    for question in survey.questions:
        names = [_norm(t) for t in question.texts.values()] + [_norm(question.key)]
        for name in names:
            if not name:
                continue
            if name == wanted:
                return question
            shorter, longer = sorted((name, wanted), key=len)
            if (
                loose is None
                and len(shorter) >= _MIN_CONTAINED
                and (longer.startswith(shorter) or shorter in longer)
            ):
                loose = question
    return loose


def match_option(value: str, question: QuestionSpec) -> str | None:
    """The option key a value names: any locale's label, or the key itself."""
    wanted = _norm(value)
    if not wanted:
        return None
    for option in question.options:
        names = {_norm(label) for label in option.labels.values()}
        names |= {_norm(option.key), _norm(option.key.replace("_", " "))}
        if wanted in names:
            return option.key
    return None


def _by_value(value: str, survey: SurveySpec, answered: dict[str, str]) -> tuple[str, str] | None:
    """(question, option) when `value` is an option of exactly one unanswered question: a reply
    that says "Скорость: медленно" or just "slow, bad" names no question the survey knows."""
    hits = [
        (question.key, option)
        for question in survey.questions
        if question.options and question.key not in answered
        for option in [match_option(value, question)]
        if option is not None
    ]
    return hits[0] if len(hits) == 1 else None


def map_fields(fields: list[tuple[str, str]], survey: SurveySpec) -> dict[str, str]:
    """Question key -> option key for every field that names a question and an option; then
    fields whose label names no question, by a value only one question offers."""
    answers: dict[str, str] = {}
    unmatched: list[str] = []
    for label, value in fields:
        question = match_question(label, survey) if label else None
        if question is None:
            if not is_comment_label(label):
                unmatched.append(value)
            continue
        if question.key in answers:
            continue
        option = match_option(value, question) if question.options else value.strip() or None
        if option is not None:
            answers[question.key] = option
    for value in unmatched:
        found = _by_value(value, survey, answers)
        if found is not None:
            answers[found[0]] = found[1]
    return answers


def comment_field(fields: list[tuple[str, str]]) -> str | None:
    """The value of the first comment-like field, when it says something."""
    for label, value in fields:
        if is_comment_label(label) and value.strip():
            return value.strip()
    return None

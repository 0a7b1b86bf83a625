"""Form answers -> the survey's question keys and option keys, whatever the locale.

Labels are compared normalised (case, spaces, punctuation); a question also matches by
prefix or containment because form tools shorten or decorate titles ("1. Speed *").
Unmatched labels are simply not answers to this survey.
"""

from __future__ import annotations

import functools
import re

from parsers.types import QuestionSpec, SurveySpec
from parsers.words import normalise_label

_COMMENT_LABEL = re.compile(
    r"comment|remarks?|feedback|anything else|suggestion|your message|^message(?: body)?$|"
    r"комментар|отзыв|пожелани|замечани|сообщени|komentarz|uwag|opini|wiadomo[śs][ćc]|"
    r"wiadomości|treść|sugesti",
    re.I,
)
# How form tools print a field left blank.
EMPTY_VALUE = re.compile(
    r"^\s*(?:\(?(?:empty|none|n/?a|not answered|no answer|пусто|нет ответа|brak|"
    r"brak odpowiedzi|puste)\)?|[-—–]+)\s*$",
    re.I,
)
_NUMBERING = re.compile(r"^\s*(?:\d{1,2}|[a-z])[.)]\s+", re.I)
_MIN_CONTAINED = 6


@functools.lru_cache(maxsize=4096)  # every option's labels are compared for every reply line
def _norm(text: str) -> str:
    text = _NUMBERING.sub("", text)
    return normalise_label(re.sub(r"[\s*?!:;.,\"'«»„”“()_-]+", " ", text))


_OPTIONAL = re.compile(r"\((?:optional|необязательно|opcjonalnie)\)", re.I)


def is_comment_label(label: str, survey: SurveySpec | None = None) -> bool:
    """A free-text field: "Comment", "Комментарий", "Komentarz", "Additional comments"…, or
    the survey's own comment prompt ("What is the main reason for your score?")."""
    if _COMMENT_LABEL.search(label or ""):
        return True
    wanted = _norm(label or "")
    if survey is None or len(wanted) < _MIN_CONTAINED:
        return False
    for prompt in survey.comment_prompts.values():
        name = _norm(_OPTIONAL.sub("", prompt))
        if name and (name == wanted or (len(name) >= _MIN_CONTAINED and name in wanted)
                     or wanted in name):
            return True
    return False


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


# A match starts only where a space run begins ((?<!\s)), so a long run is scanned once.
_VALUE_SPLIT = re.compile(r"(?<!\s)\s*(?:[,;]|\s[-–—]\s|[.!](?:\s|$))\s*")


def split_option(value: str, question: QuestionSpec) -> tuple[str | None, str]:
    """(option key, the rest) for "очень плохо, грубил по телефону": an option said first
    and explained after; (None, value) when the value does not start with an option."""
    whole = match_option(value, question)
    if whole is not None:
        return whole, ""
    head, *tail = _VALUE_SPLIT.split(value.strip(), maxsplit=1)
    found = match_option(head, question)
    return (found, tail[0].strip() if tail else "") if found else (None, value)


def _by_value(value: str, survey: SurveySpec, answered: dict[str, str]) -> tuple[str, str] | None:
    """(question, option) when `value` is an option of exactly one unanswered question: a reply
    that says "Скорость: медленно" or just "slow, bad" names no question the survey knows."""
    hits = [
        (question.key, option)
        for question in survey.questions
        if question.options and question.key not in answered
        for option in [split_option(value, question)[0]]
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
            if not is_comment_label(label, survey):
                unmatched.append(value)
            continue
        if question.key in answers:
            continue
        option = split_option(value, question)[0] if question.options else value.strip() or None
        if option is not None:
            answers[question.key] = option
    for value in unmatched:
        found = _by_value(value, survey, answers)
        if found is not None:
            answers[found[0]] = found[1]
    return answers


def comment_field(
    fields: list[tuple[str, str]], survey: SurveySpec | None = None
) -> str | None:
    """The value of the first comment-like field, when it says something."""
    for label, value in fields:
        if is_comment_label(label, survey) and value.strip() and not EMPTY_VALUE.match(value):
            return value.strip()
    return None


_NEGATION_BEFORE = re.compile(r"(?:\bnot|\bnever|\bnie|(?<!\w)не|(?<!\w)ни)\s+(?:\w+\s+)?$", re.I)
_GREETING = re.compile(r"\bgood\s+(?:morning|afternoon|evening|day|night)\b|добр\w+\s+\w+", re.I)


def _mentions(text: str, question: QuestionSpec) -> set[str]:
    """The options of `question` a free sentence names, longest label first, negated ones
    ("not fast", "nie szybko") left out."""
    names = sorted(
        (
            (label.lower(), option.key)
            for option in question.options
            for label in {*option.labels.values(), option.key.replace("_", " ")}
            if label.strip()
        ),
        key=lambda pair: -len(pair[0]),
    )
    found: set[str] = set()
    for label, key in names:
        for m in re.finditer(rf"(?<!\w){re.escape(label)}(?!\w)", text):
            if not _NEGATION_BEFORE.search(text[: m.start()]):
                found.add(key)
        text = re.sub(rf"(?<!\w){re.escape(label)}(?!\w)", " ", text)
    return found


def sentence_answers(text: str, survey: SurveySpec) -> dict[str, str]:
    """Answers said in a sentence ("It was fast and the manager did an excellent job"): only
    when every question is named by exactly one of its options, else nothing, because a
    guess here would file an answer the client never gave."""
    text = _GREETING.sub(" ", text.lower())
    answers: dict[str, str] = {}
    for question in survey.questions:
        if not question.options:
            continue
        found = _mentions(text, question)
        if len(found) != 1:
            return {}
        answers[question.key] = found.pop()
    return answers


def explanations(fields: list[tuple[str, str]], survey: SurveySpec) -> list[str]:
    """What follows an option in a "Question: option, why" answer, in order."""
    out: list[str] = []
    for label, value in fields:
        if is_comment_label(label, survey):
            continue
        named = match_question(label, survey) if label else None
        for question in [named] if named is not None else survey.questions:
            option, rest = split_option(value, question) if question.options else (None, "")
            if option is not None:
                if rest:
                    out.append(rest)
                break
    return out

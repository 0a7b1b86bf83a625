"""interpret: a ParsedMessage read on a survey's scale -> score, answers, comment or a reason.

Never raises: anything unexpected becomes a named error on the Interpretation, because the
inbound worker stores reasons and a parser bug must not lose a customer's answer.
"""

from __future__ import annotations

import re

from parsers import answers as form_answers
from parsers import forms, quotes, scores
from parsers.refusals import AmbiguousScore, InvalidAnswer, NoBody, NoScore, NotAnAnswer, OutOfScale
from parsers.types import Interpretation, ParsedMessage, QuestionSpec, SurveySpec

_TRIVIAL = re.compile(r"^[\s\W_]+|(?<![\s\W_])[\s\W_]+$")
_LETTER = re.compile(r"[^\W\d_]")
_SPACE_PUNCT = re.compile(r"(?<!\s)\s+([,.;:!?])")  # "Obsługa , dziękuję" once the score is out
_TOKEN_LABEL = re.compile(r"^\s*(?:ref|token|reference|реф|токен)\b", re.I)
FORM_KINDS = ("google_form", "web_form")


def comment_without(text: str, spans: tuple[tuple[int, int], ...]) -> str | None:
    """The text minus the score's spans and trivial punctuation; None when nothing is left."""
    chars = list(text)
    for start, end in spans:
        for i in range(max(0, start), min(len(chars), end)):
            chars[i] = " "
    lines = [_SPACE_PUNCT.sub(r"\1", " ".join(line.split())) for line in "".join(chars).split("\n")]
    cleaned = "\n".join(_TRIVIAL.sub("", line) for line in lines if _TRIVIAL.sub("", line))
    return cleaned if _LETTER.search(cleaned) else None


def _answers_for(survey: SurveySpec | None, score: int | None) -> dict[str, str]:
    if score is None:
        return {}
    if survey is not None and survey.type == "thumbs":
        return {"thumbs": "good" if score else "bad"}
    return {"score": str(score)}


# Fields that hold numbers but never the score: ticket and phone numbers, names, ids.
_NOT_A_SCORE_LABEL = re.compile(
    r"ticket|number|phone|e-?mail|\bname|\bid\b|\border|номер|телефон|имя|фамили|заказ|"
    r"numer|telefon|imi[ęe]|nazwisko|zamówieni",
    re.I,
)
# "10", "10 - Extremely likely", "9 (very likely)": a scale value with its label.
_LABELLED_VALUE = re.compile(r"^\s*(\d{1,2})(?:\s*+(?:[-–—:.)(]|$).*)?$", re.S)


def _asking_the_question(
    fields: list[tuple[str, str]], survey: SurveySpec | None
) -> list[tuple[str, str]]:
    """The fields labelled with the survey's own scale question, in any locale."""
    if survey is None or not survey.question_texts:
        return []
    spec = QuestionSpec(key="score", texts=survey.question_texts)
    as_form = SurveySpec(survey.key, "form", questions=(spec,))
    return [f for f in fields if form_answers.match_question(f[0], as_form) is not None]


def _scale_from_fields(
    fields: list[tuple[str, str]], survey: SurveySpec | None
) -> scores.ScoreResult:
    """A score-type survey answered through a form: the field that holds a scale value
    (the one labelled with the survey's question when there is one)."""
    asked = _asking_the_question(fields, survey)
    values: list[str] = []
    first = scores.ScoreResult(None, str(NoScore()))
    for label, value in asked or fields:
        if not asked and (
            form_answers.is_comment_label(label, survey)
            or _TOKEN_LABEL.match(label)
            or _NOT_A_SCORE_LABEL.search(label)
        ):
            continue
        labelled = _LABELLED_VALUE.match(value)
        if survey is not None and survey.type in ("thumbs", "csat"):
            result = scores.read_score(value, survey)
        elif labelled:
            value = labelled.group(1)
            result = scores.read_score(value, survey)
        else:
            continue
        if result.score is not None or (result.error or "").startswith(OutOfScale.reason):
            values.append(value)
            if len(values) == 1:
                first = result
    if not values:
        return scores.ScoreResult(None, str(NoScore()))
    if len(set(values)) > 1:
        return scores.ScoreResult(None, str(AmbiguousScore(" or ".join(values))))
    return first


# No leading \s*: a search would rescan a space run from each of its positions; the parts
# are stripped, so the spaces before a separator need not be part of it.
_PART_SPLIT = re.compile(r"(?:[,;/|?!]|\.\s|\.$|\s-\s|\s–\s|^\s*\d[.)]\s*)\s*")


def _bare_parts(text: str) -> list[str]:
    """Short pieces of lines without a "Label:", as a reply answers a form: "slow, bad",
    "1) Медленно 2) Плохо" reads as two pieces each."""
    parts: list[str] = []
    for line in text.split("\n"):
        if ":" in line or len(line) > 120:
            continue
        line = re.sub(r"(?:^|\s)\d[.)]\s*", ",", line)
        parts.extend(p.strip() for p in _PART_SPLIT.split(line) if p.strip())
    return parts


def _answers_only(line: str, survey: SurveySpec) -> bool:
    """A line made only of option labels ("slow, bad"): an answer, not part of the comment."""
    parts = _bare_parts(line)
    return bool(parts) and all(
        any(form_answers.match_option(part, q) for q in survey.questions if q.options)
        for part in parts
    )


# Scoring reads only the top of what the sender wrote: an answer is said first, and the
# work per message stays bounded whatever the size of the mail.
SCORE_PREFIX = 4000


def _scored_text(msg: ParsedMessage) -> str:
    """The bounded prefix of the visible text that scoring reads, cut at a line end; a
    closing sign-off ("Thanks, Alex") is the sender's but neither score nor comment."""
    text = quotes.without_signoff(msg.visible_text) if msg.kind == "reply" else msg.visible_text
    if len(text) <= SCORE_PREFIX:
        return text
    cut = text.rfind("\n", 0, SCORE_PREFIX)
    return text[: cut if cut > SCORE_PREFIX // 2 else SCORE_PREFIX]


def _form_survey(msg: ParsedMessage, survey: SurveySpec) -> Interpretation:
    visible = _scored_text(msg)
    if msg.kind in FORM_KINDS:
        fields = msg.form_fields
        comment = form_answers.comment_field(fields, survey)
    else:
        fields = forms.text_fields(visible)
        fields += [("", part) for part in _bare_parts(visible)]
        used = {label for label, _ in fields if label}
        rest = [
            line for line in visible.split("\n")
            if not any(line.strip().startswith(label) for label in used)
            and not _answers_only(line, survey)
        ]  # fmt: skip
        said = form_answers.explanations(fields, survey)
        comment = form_answers.comment_field(fields, survey) or comment_without(
            "\n".join([*said, *rest]), ()
        )
    mapped = form_answers.map_fields(fields, survey)
    if not mapped and msg.kind not in FORM_KINDS:
        mapped = form_answers.sentence_answers(visible, survey)
    if not mapped:
        return Interpretation(None, comment, {}, "no_answers")
    return Interpretation(None, comment, mapped, None)


def _subject_answer(subject: str) -> str:
    """What was typed after the survey's question in the subject ("Re: How did we do? 10"),
    for replies whose body holds nothing but the quote."""
    head, mark, tail = subject.rpartition("?")
    return tail.strip() if mark and head and len(tail.strip()) <= 60 else ""


def _scale_survey(msg: ParsedMessage, survey: SurveySpec | None) -> Interpretation:
    visible = _scored_text(msg)
    if msg.kind == "reply" and not visible.strip() and _subject_answer(msg.subject):
        text = _subject_answer(msg.subject)
        result = scores.read_score(text, survey)
        comment = comment_without(text, result.spans)
        return Interpretation(
            result.score, comment, _answers_for(survey, result.score), result.error
        )
    if msg.kind in FORM_KINDS:
        result = _scale_from_fields(msg.form_fields, survey)
        comment = form_answers.comment_field(msg.form_fields, survey)
    else:
        result = scores.read_score(visible, survey)
        comment = comment_without(visible, result.spans)
        if comment and (result.in_words or scores.has_correction(visible)):
            # "Excellent service!", "not 5, more like 3": only the whole text says it
            comment = comment_without(visible, ())
    return Interpretation(result.score, comment, _answers_for(survey, result.score), result.error)


def interpret(msg: ParsedMessage, survey: SurveySpec | None) -> Interpretation:
    """The answer `msg` gives to `survey` (None: a bare number is the score)."""
    try:
        if msg.kind in ("auto_reply", "bounce"):
            return Interpretation(None, None, {}, str(NotAnAnswer(msg.kind)))
        if msg.kind == "unknown":
            return Interpretation(None, None, {}, msg.error or str(NoBody("nothing readable")))
        if survey is not None and survey.type == "form":
            return _form_survey(msg, survey)
        return _scale_survey(msg, survey)
    except (ValueError, TypeError, LookupError, AttributeError, RecursionError) as exc:
        return Interpretation(None, None, {}, str(InvalidAnswer(exc.__class__.__name__)))

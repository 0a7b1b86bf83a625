"""Words that mean a score, per survey type, in en/ru/pl, plus the survey's own labels.

Longer phrases are matched first and masked ("very bad" is 1, not 2 + "very"), and a
survey's scale label counts only when a whole line says exactly that label.
"""

from __future__ import annotations

import re
from functools import lru_cache

from parsers.types import SurveySpec

CSAT_WORDS: dict[int, tuple[str, ...]] = {
    5: (
        "excellent", "great", "perfect", "outstanding", "amazing", "awesome", "superb",
        "very good", "fantastic", "отлично", "отличный", "отличная", "превосходно",
        "великолепно", "очень хорошо", "супер", "świetnie", "doskonale", "znakomicie",
        "rewelacyjnie", "bardzo dobrze", "rewelacja", "super",
        "very satisfied", "extremely satisfied", "100% satisfied", "очень доволен",
        "очень довольна", "очень довольны", "полностью доволен", "полностью довольна",
        "bardzo zadowolony", "bardzo zadowolona", "bardzo zadowoleni", "w pełni zadowolony",
        "w pełni zadowolona",
        # uk, de, fr, es
        "відмінно", "чудово", "дуже добре", "прекрасно", "sehr gut", "ausgezeichnet",
        "hervorragend", "perfekt", "spitze", "sehr zufrieden", "très bien", "parfait",
        "très satisfait", "très satisfaite", "génial", "excelente", "muy bien", "perfecto",
        "genial", "muy satisfecho", "muy satisfecha", "estupendo",
    ),
    4: (
        "good", "хорошо", "хороший", "хорошая", "неплохо", "dobrze", "dobry", "dobra",
        "nieźle", "niezle", "не плохо", "nie źle", "nie zle",
        "satisfied", "happy", "доволен", "довольна", "довольны", "zadowolony", "zadowolona",
        "zadowoleni",
        "добре", "задоволений", "задоволена", "gut", "zufrieden", "bien", "satisfait",
        "satisfaite", "bueno", "satisfecho", "satisfecha",
    ),
    3: (
        "ok", "okay", "average", "so-so", "so so", "not bad", "mediocre", "нормально",
        "средне", "так себе", "ничего", "średnio", "srednio", "przeciętnie", "normalnie",
        "w porządku",
        "нормально", "посередньо", "так собі", "mittelmäßig", "geht so", "passabel",
        "moyen", "bof", "más o menos",
    ),
    2: (
        "poor", "bad", "not good", "not great", "плохо", "не очень", "слабо", "źle", "zle",
        "słabo", "slabo", "kiepsko", "nie bardzo",
        "unsatisfied", "dissatisfied", "unhappy", "недоволен", "недовольна", "недовольны",
        "niezadowolony", "niezadowolona", "niezadowoleni",
        "погано", "незадоволений", "незадоволена", "schlecht", "unzufrieden", "mauvais",
        "insatisfait", "insatisfaite", "malo", "insatisfecho", "insatisfecha",
    ),
    1: (
        "terrible", "awful", "horrible", "very bad", "worst", "ужасно", "очень плохо",
        "отвратительно", "кошмар", "fatalnie", "okropnie", "bardzo źle", "tragicznie",
        "beznadziejnie", "very unsatisfied", "very dissatisfied", "not satisfied at all",
        "очень недоволен", "очень недовольна", "bardzo niezadowolony", "bardzo niezadowolona",
        "жахливо", "дуже погано", "жах", "sehr schlecht", "schrecklich", "furchtbar",
        "katastrophal", "très mauvais", "horrible", "nul", "catastrophique", "muy malo",
        "muy mal", "terrible", "pésimo", "fatal",
    ),
}  # fmt: skip
# Customer effort, 1 (very difficult) .. 7 (very easy).
CES_WORDS: dict[int, tuple[str, ...]] = {
    7: ("very easy", "effortless", "super easy", "очень легко", "очень просто", "bardzo łatwo",
        "bardzo prosto", "bardzo latwo"),
    6: ("easy", "легко", "просто", "łatwo", "latwo", "prosto"),
    3: ("rather difficult", "somewhat difficult", "довольно сложно", "довольно трудно",
        "raczej trudno", "dość trudno"),
    2: ("difficult", "hard", "сложно", "трудно", "trudno", "ciężko", "ciezko"),
    1: ("very difficult", "very hard", "extremely difficult", "очень сложно", "очень трудно",
        "bardzo trudno", "bardzo ciężko"),
}  # fmt: skip
_NEGATED_CES = {7: 3, 6: 3, 3: 5, 2: 5, 1: 5}
THUMBS_EMOJI: dict[int, tuple[str, ...]] = {1: ("👍",), 0: ("👎",)}
THUMBS_WORDS: dict[int, tuple[str, ...]] = {
    1: (
        "good", "great", "excellent", "thumbs up", "хорошо", "отлично", "dobrze", "świetnie",
        "super",
    ),
    0: ("bad", "thumbs down", "плохо", "ужасно", "źle", "zle", "słabo", "fatalnie",
        "не очень", "nie bardzo", "unhappy", "not happy"),
}  # fmt: skip
# Yes/no words answer a thumbs question only as the first word ("nie" is in every sentence).
THUMBS_FIRST_WORDS: dict[int, tuple[str, ...]] = {
    1: ("yes", "yep", "да", "ага", "tak"),
    0: ("no", "nope", "нет", "nie"),
}
# A negation right before a score word turns it around: "not good", "не очень хорошо",
# "niezbyt dobrze" are poor; "not terrible" is middling. Fixed phrases ("not bad", "не плохо",
# "nie źle") are listed in the tables and win, being longer.
_NEGATION = re.compile(
    r"(?:(?<!\w)(?:not(?: very| so| really| that)?|never|hardly|не(?: очень| слишком| особо)?|"
    r"nie(?: bardzo| za bardzo)?|niezbyt|wcale nie|ни разу не)\s+)$",
    re.I,
)
_NEGATED_CSAT = {5: 2, 4: 2, 3: 2, 2: 3, 1: 3}
_SIGN_ONLY = re.compile(r"^\s*([+-])1?\s*[.!]*\s*$")
_EDGE = re.compile(r"^[\s\W_]+|(?<![\s\W_])[\s\W_]+$")
_SKIN = "\U0001f3fb-\U0001f3ff"


@lru_cache(maxsize=32)
def _pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    ordered = sorted(set(phrases), key=len, reverse=True)
    alternatives = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in ordered)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.I)


def _find(
    text: str, table: dict[int, tuple[str, ...]], negated: dict[int, int]
) -> list[tuple[int, int, int]]:
    """Every phrase of `table` in `text`; one after a negation counts as `negated[value]`
    and its span takes the negation with it."""
    lookup = {p.lower(): v for v, phrases in table.items() for p in phrases}
    pattern = _pattern(tuple(lookup))
    found = []
    for m in pattern.finditer(text):
        key = " ".join(m.group(0).lower().split())
        if key not in lookup:
            continue
        value, start = lookup[key], m.start()
        negation = _NEGATION.search(text[max(0, start - 30) : start])
        if negation:
            value = negated.get(value, value)
            start -= len(negation.group(0))
        found.append((value, start, m.end()))
    return found


def _emoji(text: str) -> list[tuple[int, int, int]]:
    found = []
    for value, marks in THUMBS_EMOJI.items():
        for mark in marks:
            for m in re.finditer(rf"{mark}[{_SKIN}]?", text):
                found.append((value, m.start(), m.end()))
    return found


def normalise_label(text: str) -> str:
    """Lower-case, single spaces, no surrounding punctuation: how labels are compared."""
    return _EDGE.sub("", " ".join(text.lower().split()))


def _label_lines(text: str, survey: SurveySpec) -> list[tuple[int, int, int]]:
    """A whole line that says exactly one of the survey's scale labels."""
    labels: dict[str, str] = {}
    for answer, per_locale in survey.scale_labels.items():
        for label in per_locale.values():
            if label and normalise_label(label):
                labels[normalise_label(label)] = answer
    found = []
    offset = 0
    for line in text.split("\n"):
        answer = labels.get(normalise_label(line))
        if answer is not None:
            value = _answer_value(answer)
            if value is not None:
                found.append((value, offset, offset + len(line)))
        offset += len(line) + 1
    return found


def _answer_value(answer: str) -> int | None:
    if answer.lstrip("-").isdigit():
        return int(answer)
    return {"good": 1, "up": 1, "bad": 0, "down": 0}.get(answer.lower())


def _first_word(text: str) -> list[tuple[int, int, int]]:
    stripped = text.lstrip()
    start = len(text) - len(stripped)
    for value, phrases in THUMBS_FIRST_WORDS.items():
        for phrase in phrases:
            # "No, it was bad" / "Tak!" / "да" — a yes/no word that stands alone
            if re.match(rf"{re.escape(phrase)}\s*(?:[,.!;:\n]|$)", stripped, re.I):
                return [(value, start, start + len(phrase))]
    sign = _SIGN_ONLY.match(text)
    if sign:
        return [(1 if sign.group(1) == "+" else 0, sign.start(1), sign.end(1))]
    return []


def find_words(text: str, survey: SurveySpec | None) -> list[tuple[int, int, int]]:
    """(value, start, end) of every score word in `text` for this survey's type."""
    if survey is None:
        return _emoji(text)
    found = _label_lines(text, survey)
    if found:
        return found
    if survey.type == "thumbs":
        return _emoji(text) + _first_word(text) + _find(text, THUMBS_WORDS, {1: 0, 0: 1})
    if survey.type == "csat":
        return _find(text, CSAT_WORDS, _NEGATED_CSAT)
    if survey.type == "ces":
        return _find(text, CES_WORDS, _NEGATED_CES)
    return []

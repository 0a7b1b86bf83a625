"""What a survey type fixes: its scale, default question, default labels and negative answers.

A survey in mailflow.toml names a type; everything here is the default it may override, so a
minimal survey still renders a sensible question in every supported locale.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SurveyType:
    """A survey type: the ordered answer keys and the texts a survey gets for free."""

    name: str
    scale: tuple[str, ...]
    questions: dict[str, str]
    labels: dict[str, dict[str, str]]  # locale -> answer key -> label
    negative_at_most: int | None = None  # numeric types: score <= this is negative
    negative_answers: tuple[str, ...] = ()
    scored: bool = True
    emoji: dict[str, str] = field(default_factory=dict)

    def score_of(self, answer: str) -> int | None:
        """The numeric score of an answer key (thumbs: good=1, bad=0)."""
        if not self.scored or answer not in self.scale:
            return None
        if self.name == "thumbs":
            return 1 if answer == "good" else 0
        return int(answer)


NPS = SurveyType(
    name="nps",
    scale=tuple(str(n) for n in range(0, 11)),
    questions={
        "en": "How likely are you to recommend us to a friend or colleague?",
        "ru": "Насколько вероятно, что вы порекомендуете нас другу или коллеге?",
        "pl": "Jak bardzo prawdopodobne jest, że polecisz nas znajomemu lub współpracownikowi?",
    },
    labels={
        "en": {"0": "Not at all likely", "10": "Extremely likely"},
        "ru": {"0": "Совсем маловероятно", "10": "Очень вероятно"},
        "pl": {"0": "Zdecydowanie nie", "10": "Zdecydowanie tak"},
    },
    negative_at_most=6,
)

CSAT = SurveyType(
    name="csat",
    scale=("1", "2", "3", "4", "5"),
    questions={
        "en": "How satisfied are you with the resolution of your request?",
        "ru": "Насколько вы довольны решением вашего обращения?",
        "pl": "Jak bardzo jesteś zadowolony z rozwiązania Twojego zgłoszenia?",
    },
    labels={
        "en": {
            "1": "Very dissatisfied",
            "2": "Dissatisfied",
            "3": "Neutral",
            "4": "Satisfied",
            "5": "Very satisfied",
        },
        "ru": {
            "1": "Очень недоволен",
            "2": "Недоволен",
            "3": "Нейтрально",
            "4": "Доволен",
            "5": "Очень доволен",
        },
        "pl": {
            "1": "Bardzo niezadowolony",
            "2": "Niezadowolony",
            "3": "Neutralnie",
            "4": "Zadowolony",
            "5": "Bardzo zadowolony",
        },
    },
    negative_at_most=2,
)

CES = SurveyType(
    name="ces",
    scale=tuple(str(n) for n in range(1, 8)),
    questions={
        "en": "How easy was it to resolve your issue?",
        "ru": "Насколько легко было решить ваш вопрос?",
        "pl": "Jak łatwo było rozwiązać Twój problem?",
    },
    labels={
        "en": {"1": "Very difficult", "7": "Very easy"},
        "ru": {"1": "Очень сложно", "7": "Очень легко"},
        "pl": {"1": "Bardzo trudno", "7": "Bardzo łatwo"},
    },
    negative_at_most=3,
)

THUMBS = SurveyType(
    name="thumbs",
    scale=("good", "bad"),
    questions={
        "en": "Were you happy with how we handled your request?",
        "ru": "Вам понравилось, как мы решили ваш вопрос?",
        "pl": "Czy jesteś zadowolony z obsługi Twojego zgłoszenia?",
    },
    labels={
        "en": {"good": "Good", "bad": "Bad"},
        "ru": {"good": "Хорошо", "bad": "Плохо"},
        "pl": {"good": "Dobrze", "bad": "Źle"},
    },
    negative_answers=("bad",),
    emoji={"good": "👍", "bad": "👎"},
)

FORM = SurveyType(
    name="form",
    scale=(),
    questions={"en": "", "ru": "", "pl": ""},
    labels={"en": {}, "ru": {}, "pl": {}},
    scored=False,
)

SURVEY_TYPES: dict[str, SurveyType] = {t.name: t for t in (NPS, CSAT, CES, THUMBS, FORM)}

"""SurveySpecs the parser tests read answers with (as mailflow.surveys.Survey.spec() builds)."""

from __future__ import annotations

from parsers.types import OptionSpec, QuestionSpec, SurveySpec

NPS = SurveySpec(
    key="nps",
    type="nps",
    scale=tuple(str(n) for n in range(11)),
    scale_labels={
        "0": {"en": "Not at all likely", "ru": "Точно не порекомендую", "pl": "Zdecydowanie nie"},
        "10": {"en": "Very likely", "ru": "Обязательно порекомендую", "pl": "Zdecydowanie tak"},
    },
    question_texts={
        "en": "How likely are you to recommend Acme Support to a friend or colleague?",
        "ru": "Насколько вероятно, что вы порекомендуете Acme Support друзьям или коллегам?",
        "pl": "Jak bardzo prawdopodobne jest, że polecisz Acme Support znajomemu?",
    },
    comment_prompts={
        "en": "What is the main reason for your score? (optional)",
        "ru": "Почему вы поставили такую оценку? (необязательно)",
        "pl": "Co jest głównym powodem Twojej oceny? (opcjonalnie)",
    },
)
CSAT = SurveySpec(
    key="csat",
    type="csat",
    scale=("1", "2", "3", "4", "5"),
    scale_labels={
        "1": {"en": "Very unsatisfied", "ru": "Очень недоволен", "pl": "Bardzo niezadowolony"},
        "5": {"en": "Very satisfied", "ru": "Очень доволен", "pl": "Bardzo zadowolony"},
    },
)
CES = SurveySpec(
    key="ces",
    type="ces",
    scale=tuple(str(n) for n in range(1, 8)),
    scale_labels={"1": {"en": "Very difficult"}, "7": {"en": "Very easy", "ru": "Очень легко"}},
)
THUMBS = SurveySpec(
    key="thumbs",
    type="thumbs",
    scale=("good", "bad"),
    scale_labels={"good": {"en": "Thumbs up"}, "bad": {"en": "Thumbs down"}},
)
SERVICE_QUALITY = SurveySpec(
    key="service_quality",
    type="form",
    questions=(
        QuestionSpec(
            key="speed",
            texts={
                "en": "How quickly was your request handled?",
                "ru": "Как быстро была обработана ваша заявка?",
                "pl": "Jak szybko Twoje zgłoszenie zostało obsłużone?",
            },
            options=(
                OptionSpec("immediately", {"en": "Immediately", "ru": "Моментально",
                                           "pl": "Natychmiast"}),
                OptionSpec("fast", {"en": "Fast", "ru": "Быстро", "pl": "Szybko"}),
                OptionSpec("normal", {"en": "Normal", "ru": "Нормально", "pl": "Normalnie"}),
                OptionSpec("slow", {"en": "Slow", "ru": "Медленно", "pl": "Wolno"}),
            ),
        ),
        QuestionSpec(
            key="work",
            texts={
                "en": "How do you rate the manager's work?",
                "ru": "Как вы оцениваете работу менеджера?",
                "pl": "Jak oceniasz pracę menedżera?",
            },
            options=(
                OptionSpec("excellent", {"en": "Excellent", "ru": "Отлично", "pl": "Doskonale"}),
                OptionSpec("good", {"en": "Good", "ru": "Хорошо", "pl": "Dobrze"}),
                OptionSpec("bad", {"en": "Bad", "ru": "Плохо", "pl": "Źle"}),
                OptionSpec("very_bad", {"en": "Very bad", "ru": "Очень плохо",
                                        "pl": "Bardzo źle"}),
            ),
        ),
    ),
)
SURVEYS = {s.key: s for s in (NPS, CSAT, CES, THUMBS, SERVICE_QUALITY)}

"""A survey's answers as a client sees them, the same in the email and on the rating page: each
scale answer with its label, emoji and colour, and each form question with its option labels."""

from __future__ import annotations

from mailflow.surveys import SurveyConfig

RED, AMBER, GREEN = "#dc2626", "#d97706", "#16a34a"


def scale_options(survey: SurveyConfig, locale: str) -> list[dict[str, str]]:
    """The scale's answers in order: red for negative, amber for passive, green for positive."""
    kind = survey.kind
    labels = survey.labels(locale)
    passive = (kind.negative_at_most or 0) + (2 if kind.name == "nps" else 1)
    options = []
    for key in kind.scale:
        score = kind.score_of(key)
        if kind.name == "thumbs":
            colour = GREEN if key == "good" else RED
        elif score is not None and score <= (kind.negative_at_most or -1):
            colour = RED
        elif score is not None and score <= passive:
            colour = AMBER
        else:
            colour = GREEN
        options.append(
            {
                "key": key,
                "label": labels.get(key, ""),
                "emoji": kind.emoji.get(key, ""),
                "colour": colour,
            }
        )
    return options


def form_questions(survey: SurveyConfig, locale: str) -> list[dict[str, object]]:
    """A form survey's questions with their options' labels in `locale`."""
    return [
        {
            "key": q.key,
            "text": q.text.get(locale, q.key),
            "options": [{"key": k, "label": v.get(locale, k)} for k, v in q.options.items()],
        }
        for q in survey.questions
    ]

"""Interface strings shared by emails and pages, per locale (en, ru, pl).

Survey-specific words live in the survey configuration; these are the words around them.
"""

from __future__ import annotations

from typing import Any

UI: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hello!",
        "greeting_named": "Hello, {name}!",
        "ticket_line": "About your request “{title}” (#{ref}).",
        "reply_hint": "Or simply reply to this email with your answer.",
        "privacy": "Privacy policy",
        "unsubscribe": "Unsubscribe",
        "subject": "{title}",
        "footer": "You receive this email because we recently helped you.",
        "comment_answered": "Survey “{survey}” answered via {source}.",
        "comment_rating": "Rating: {shown} ({scale})",
        "comment_comment": "Comment: {comment}",
        "comment_negative": "Negative answer: escalated to a manager.",
    },
    "ru": {
        "greeting": "Здравствуйте!",
        "greeting_named": "Здравствуйте, {name}!",
        "ticket_line": "По вашей заявке «{title}» (№{ref}).",
        "reply_hint": "Или просто ответьте на это письмо своей оценкой.",
        "privacy": "Политика конфиденциальности",
        "unsubscribe": "Отписаться",
        "subject": "{title}",
        "footer": "Вы получили это письмо, потому что недавно обращались к нам.",
        "comment_answered": "Ответ на опрос «{survey}» получен ({source}).",
        "comment_rating": "Оценка: {shown} ({scale})",
        "comment_comment": "Комментарий: {comment}",
        "comment_negative": "Негативный ответ: передан руководителю.",
    },
    "pl": {
        "greeting": "Dzień dobry!",
        "greeting_named": "Dzień dobry, {name}!",
        "ticket_line": "Dotyczy zgłoszenia „{title}” (nr {ref}).",
        "reply_hint": "Możesz też po prostu odpowiedzieć na tę wiadomość, podając ocenę.",
        "privacy": "Polityka prywatności",
        "unsubscribe": "Wypisz się",
        "subject": "{title}",
        "footer": "Otrzymujesz tę wiadomość, ponieważ niedawno Ci pomagaliśmy.",
        "comment_answered": "Odpowiedź na ankietę „{survey}” ({source}).",
        "comment_rating": "Ocena: {shown} ({scale})",
        "comment_comment": "Komentarz: {comment}",
        "comment_negative": "Negatywna odpowiedź: przekazano kierownikowi.",
    },
}

FALLBACK = "en"


def ui(locale: str) -> dict[str, str]:
    """All interface strings of a locale, English for any key it lacks."""
    merged = dict(UI[FALLBACK])
    merged.update(UI.get(locale, {}))
    return merged


def t(locale: str, key: str, **values: Any) -> str:
    """One interface string, formatted with `values`."""
    return ui(locale)[key].format(**values)


def register(strings: dict[str, dict[str, str]]) -> None:
    """Add strings for a feature (web pages, notifications) without editing this table."""
    for locale, table in strings.items():
        UI.setdefault(locale, {}).update(table)

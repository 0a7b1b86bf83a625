"""The words around reasons and the Telegram channel, per locale (en, ru, pl).

The follow-up questions and their options are the survey's own words (mailflow.toml); these
are the few words Mailflow adds around them.
"""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "other": "Other",
        "other_prompt": "Tell us in your own words",
        "comment_reason": "{question} {answer}",
        "step_title": "One more question",
        "send_reason": "Send",
        "reasons_title": "Reasons after a bad rating",
        "reasons_none": "No reasons given yet.",
        "reasons_by_survey": "By survey",
        "reasons_by_employee": "By employee",
        "reason": "Reason",
        "count": "Answers",
        "share": "Share",
        "employee_none": "(no employee)",
        "employee": "Employee",
        "all_surveys": "All surveys",
        "telegram_link": "Answer in Telegram",
        "telegram_intro": "Prefer Telegram? Get this survey there:",
        "telegram_linked": "Done: surveys will come here. You can answer right now:",
        "telegram_unknown": "This link is not valid any more.",
        "telegram_thanks": "Thank you! Your answer is recorded.",
        "telegram_comment": "Would you like to add a comment? Just write it here.",
        "telegram_comment_saved": "Thank you, your comment is added.",
        "telegram_already": "This survey was already answered.",
        "telegram_expired": "This survey has expired.",
        "telegram_reason_saved": "Thank you, noted.",
    },
    "ru": {
        "other": "Другое",
        "other_prompt": "Расскажите своими словами",
        "comment_reason": "{question} {answer}",
        "step_title": "Ещё один вопрос",
        "send_reason": "Отправить",
        "reasons_title": "Причины низких оценок",
        "reasons_none": "Причин пока нет.",
        "reasons_by_survey": "По опросам",
        "reasons_by_employee": "По сотрудникам",
        "reason": "Причина",
        "count": "Ответов",
        "share": "Доля",
        "employee_none": "(без сотрудника)",
        "employee": "Сотрудник",
        "all_surveys": "Все опросы",
        "telegram_link": "Ответить в Telegram",
        "telegram_intro": "Удобнее в Telegram? Получите опрос там:",
        "telegram_linked": "Готово: опросы будут приходить сюда. Ответить можно прямо сейчас:",
        "telegram_unknown": "Эта ссылка больше не действует.",
        "telegram_thanks": "Спасибо! Ваш ответ записан.",
        "telegram_comment": "Хотите добавить комментарий? Просто напишите его здесь.",
        "telegram_comment_saved": "Спасибо, комментарий добавлен.",
        "telegram_already": "На этот опрос уже ответили.",
        "telegram_expired": "Срок ответа на опрос истёк.",
        "telegram_reason_saved": "Спасибо, учтём.",
    },
    "pl": {
        "other": "Inne",
        "other_prompt": "Opisz to własnymi słowami",
        "comment_reason": "{question} {answer}",
        "step_title": "Jeszcze jedno pytanie",
        "send_reason": "Wyślij",
        "reasons_title": "Powody niskich ocen",
        "reasons_none": "Nie podano jeszcze żadnych powodów.",
        "reasons_by_survey": "Według ankiet",
        "reasons_by_employee": "Według pracowników",
        "reason": "Powód",
        "count": "Odpowiedzi",
        "share": "Udział",
        "employee_none": "(bez pracownika)",
        "employee": "Pracownik",
        "all_surveys": "Wszystkie ankiety",
        "telegram_link": "Odpowiedz w Telegramie",
        "telegram_intro": "Wolisz Telegram? Otrzymaj tam tę ankietę:",
        "telegram_linked": "Gotowe: ankiety będą przychodzić tutaj. Możesz odpowiedzieć od razu:",
        "telegram_unknown": "Ten link jest już nieważny.",
        "telegram_thanks": "Dziękujemy! Twoja odpowiedź została zapisana.",
        "telegram_comment": "Chcesz dodać komentarz? Po prostu napisz go tutaj.",
        "telegram_comment_saved": "Dziękujemy, komentarz został dodany.",
        "telegram_already": "Na tę ankietę już odpowiedziano.",
        "telegram_expired": "Czas na odpowiedź minął.",
        "telegram_reason_saved": "Dziękujemy, uwzględnimy to.",
    },
}


def words(locale: str) -> dict[str, str]:
    """The words of a locale, English for any it lacks."""
    merged = dict(WORDS["en"])
    merged.update(WORDS.get(locale, {}))
    return merged

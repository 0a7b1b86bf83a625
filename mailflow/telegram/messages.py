"""What the bot says: the survey with a button per answer, the reason question with a button
per option, and the short texts around them, as Bot API sendMessage parameters.

Callback data is "a:REQUEST:ANSWER" (an answer) or "r:REQUEST:QUESTION:OPTION" (a reason);
it is trusted only from the chat linked to the request's contact (mailflow.telegram.updates).
"""

from __future__ import annotations

from typing import Any

from mailflow.i18n import ui
from mailflow.reason_words import words
from mailflow.scale import scale_options
from mailflow.surveys import ReasonQuestion, SurveyConfig


def _keyboard(rows: list[list[dict[str, str]]]) -> dict[str, Any]:
    return {"inline_keyboard": rows}


def survey_message(
    survey: SurveyConfig, locale: str, request_id: int, greeting: str | None = None
) -> dict[str, Any]:
    """The survey: title, subtitle, question, a button per answer, the privacy link."""
    texts = survey.texts[locale]
    buttons = []
    for option in scale_options(survey, locale):
        key = option["key"]
        shown = key if survey.type not in ("csat", "thumbs") else option["label"]
        label = f"{option['emoji']} {shown}".strip()
        buttons.append({"text": label, "callback_data": f"a:{request_id}:{key}"})
    per_row = 6 if len(buttons) > 5 else 1 if survey.type == "csat" else len(buttons)
    rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    rows.append([{"text": _privacy(locale), "url": str(survey.privacy_url)}])
    lines = [line for line in (greeting, texts.title, texts.subtitle) if line]
    lines.append("")
    lines.append(survey.question_text(locale))
    if survey.type not in ("csat", "thumbs"):
        labels = survey.labels(locale)
        scale = survey.kind.scale
        lines.append(
            f"{scale[0]} — {labels.get(scale[0], '')} · {scale[-1]} — {labels.get(scale[-1], '')}"
        )
    return {"text": "\n".join(lines), "reply_markup": _keyboard(rows)}


def reason_message(question: ReasonQuestion, locale: str, request_id: int) -> dict[str, Any]:
    """The reason question with a button per option (and "Other", answered in words)."""
    rows = [
        [
            {
                "text": question.label(key, locale),
                "callback_data": f"r:{request_id}:{question.key}:{key}",
            }
        ]
        for key in question.options
    ]
    if question.other:
        other = words(locale)["other"]
        rows.append([{"text": other, "callback_data": f"r:{request_id}:{question.key}:other"}])
    text = question.text.get(locale) or question.text.get("en") or question.key
    return {"text": text, "reply_markup": _keyboard(rows)}


def text_message(text: str) -> dict[str, Any]:
    """A plain message."""
    return {"text": text}


def _privacy(locale: str) -> str:
    return ui(locale)["privacy"]


def parse_callback(data: str) -> tuple[str, int, list[str]] | None:
    """("a" | "r", request id, the rest) from callback data, or None when malformed."""
    parts = data.split(":")
    if len(parts) < 3 or parts[0] not in ("a", "r") or not parts[1].isdigit():
        return None
    if parts[0] == "r" and len(parts) != 4:
        return None
    return parts[0], int(parts[1]), parts[2:]

"""parse: raw bytes -> the JSON-ready dict the `mailflow parse` CLI prints (a stable contract)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from parsers.interpret import interpret
from parsers.read import read_message
from parsers.types import SurveySpec

CONTRACT_KEYS = (
    "file", "kind", "request_token", "in_reply_to", "language", "visible_text", "score",
    "comment", "answers", "error",
)  # fmt: skip


def parse(
    raw: bytes,
    survey: SurveySpec | None = None,
    *,
    resolve_survey: Callable[[str], SurveySpec | None] | None = None,
    file: str | None = None,
) -> dict[str, Any]:
    """Read and interpret one message: the given survey, else the one its token names,
    else none (then a bare number is the score)."""
    msg = read_message(raw)
    token = msg.request_token
    if survey is None and resolve_survey is not None and token:
        survey = resolve_survey(token)
    reading = interpret(msg, survey)
    error = msg.error if msg.kind == "unknown" and msg.error else reading.error
    return {
        "file": file,
        "kind": msg.kind,
        "request_token": token,
        "in_reply_to": msg.in_reply_to,
        "language": msg.language,
        "visible_text": msg.visible_text,
        "score": reading.score,
        "comment": reading.comment,
        "answers": dict(reading.answers),
        "error": error,
    }

"""Refusals with names: why an inbound message did not become an answer.

Each subclass carries the `reason` stored on the InboundMessage row (shown by `mailflow inbound`
and the admin page) and the `status` the row ends in. The worker raises them; nothing else
interprets them. `str(exc)` adds the detail after the reason ("ambiguous_score: 3 or 4").
"""

from __future__ import annotations

from storage.states import InboundStatus


class Quarantined(Exception):
    """A message kept for a human: stored, not answered, retryable after a config change."""

    reason = "quarantined"
    status = InboundStatus.QUARANTINED

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail
        self.request_id: int | None = None  # set once the message was matched
        super().__init__(self.stored_reason)

    @property
    def stored_reason(self) -> str:
        """The text stored on the row: the named reason, then the detail."""
        if self.detail and not self.detail.startswith(self.reason):
            return f"{self.reason}: {self.detail}"
        return self.detail or self.reason


class Unmatched(Quarantined):
    """No survey request could be found for the message."""

    reason = "unmatched"
    status = InboundStatus.UNMATCHED


class NoRequestToken(Unmatched):
    """No token, no known In-Reply-To, and the sender has no open request."""

    reason = "no_request_token"


class BadToken(Unmatched):
    """A token was present but does not verify (tampered, retired key, wrong purpose)."""

    reason = "bad_token"


class UnknownRequest(Unmatched):
    """The token verifies but names a request this database does not have."""

    reason = "unknown_request"


class UnreadableMime(Quarantined):
    """The MIME structure could not be read at all."""

    reason = "unreadable_mime"


class UnknownSurvey(Quarantined):
    """The request's survey is no longer configured (retry after fixing mailflow.toml)."""

    reason = "unknown_survey"


class AmbiguousScore(Quarantined):
    """Two different numbers or "3 or 4": we do not guess."""

    reason = "ambiguous_score"


class NoScore(Quarantined):
    """The reply says something, but no answer on the survey's scale."""

    reason = "no_score"


class UnreadableAnswer(Quarantined):
    """The parser named another reason it could not read an answer."""

    reason = "unreadable_answer"


class InvalidAnswer(Quarantined):
    """The answer is not on the survey's scale or names unknown questions/options."""

    reason = "invalid_answer"


class Expired(Quarantined):
    """The survey's expiration period is over."""

    reason = "expired"


class AlreadyAnswered(Quarantined):
    """The request already has a final answer (the web rules: locked, forbidden, window over)."""

    reason = "already_answered"


class NotAnswerable(Quarantined):
    """The request never went out or is closed (suppressed, failed, bounced)."""

    reason = "not_answerable"


class InternalError(Quarantined):
    """A bug while processing: kept for a retry once fixed, logged with its traceback."""

    reason = "internal_error"


_INTERPRETATION_ERRORS: dict[str, type[Quarantined]] = {
    "ambiguous_score": AmbiguousScore,
    "no_score": NoScore,
    "invalid_answer": InvalidAnswer,
}


def from_interpretation(error: str) -> Quarantined:
    """The named refusal for a parser's Interpretation.error ("ambiguous_score: 3 or 4")."""
    name = error.split(":", 1)[0].strip()
    cls = _INTERPRETATION_ERRORS.get(name, UnreadableAnswer)
    return cls(error)


def from_refusal(refusal: Exception) -> Quarantined:
    """The named refusal for an AnswerRefused raised by mailflow.answers.record_answer."""
    from mailflow import answers

    mapping: dict[type[Exception], type[Quarantined]] = {
        answers.RequestExpired: Expired,
        answers.AlreadyAnswered: AlreadyAnswered,
        answers.InvalidAnswer: InvalidAnswer,
        answers.RequestNotAnswerable: NotAnswerable,
    }
    for refused, named in mapping.items():
        if isinstance(refusal, refused):
            return named(str(refusal))
    return Quarantined(f"{getattr(refusal, 'reason', 'refused')}: {refusal}")

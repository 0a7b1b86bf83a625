"""Refusals with names: the one family of reasons why mail or an answer was not used.

A refusal is a value with a stable `reason` (stored on the inbound row, shown by `mailflow
inbound` and the admin page, tested) and the `status` an inbound message with it ends in; the
detail follows the reason in `str()` ("ambiguous_score: 3 or 4"). The parsers' own refusals
are here, and the rest of the family extends `Refusal` where it is raised: matching
(mailflow.inbound.quarantine) and recording (mailflow.answers). The pure parsers never raise:
they return `str(refusal)` as their `error`, and `refusal_of` names it again.
"""

from __future__ import annotations


class Refusal(Exception):
    """Why something was not used: kept for a human, retryable after a fix."""

    reason = "refused"
    status = "quarantined"

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail
        self.request_id: int | None = None  # set once the message was matched to a request
        super().__init__(self.stored_reason)

    @property
    def stored_reason(self) -> str:
        """The text stored on the row: the named reason, then the detail."""
        if self.detail and not self.detail.startswith(self.reason):
            return f"{self.reason}: {self.detail}"
        return self.detail or self.reason


class UnreadableMime(Refusal):
    """The MIME structure could not be read at all."""

    reason = "unreadable_mime"


class NoBody(Refusal):
    """Nothing readable in the message."""

    reason = "no_body"


class NotAnAnswer(Refusal):
    """Machine mail (a bounce, an auto-reply) is never an answer."""

    reason = "not_an_answer"


class NoScore(Refusal):
    """The reply says something, but no answer on the survey's scale."""

    reason = "no_score"


class AmbiguousScore(Refusal):
    """Two different numbers or "3 or 4": we do not guess."""

    reason = "ambiguous_score"


class OutOfScale(Refusal):
    """A number that is not on the survey's scale (15 on a 0-10 NPS)."""

    reason = "out_of_scale"


class InvalidAnswer(Refusal):
    """The answer is not on the survey's scale or names unknown questions/options."""

    reason = "invalid_answer"


class UnreadableAnswer(Refusal):
    """A reason the parser gave that has no name of its own here."""

    reason = "unreadable_answer"


PARSER_REFUSALS: dict[str, type[Refusal]] = {
    cls.reason: cls
    for cls in (
        UnreadableMime,
        NoBody,
        NotAnAnswer,
        NoScore,
        AmbiguousScore,
        OutOfScale,
        InvalidAnswer,
    )
}


def refusal_of(error: str) -> Refusal:
    """The named refusal of a parser's error ("ambiguous_score: 3 or 4" -> AmbiguousScore)."""
    name = error.split(":", 1)[0].strip()
    return PARSER_REFUSALS.get(name, UnreadableAnswer)(error)

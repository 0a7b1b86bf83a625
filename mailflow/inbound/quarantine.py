"""The refusals of matching: why an inbound message found no request, or could not be used.

They belong to the one family of parsers.refusals (whose parser refusals, and the recording
refusals of mailflow.answers, the worker stores the same way): each carries the `reason` stored
on the InboundMessage row and the `status` the row ends in.
"""

from __future__ import annotations

from parsers.refusals import Refusal
from storage.states import InboundStatus


class Unmatched(Refusal):
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


class UnknownSurvey(Refusal):
    """The request's survey is no longer configured (retry after fixing mailflow.toml)."""

    reason = "unknown_survey"


class InternalError(Refusal):
    """A bug while processing: kept for a retry once fixed, logged with its traceback."""

    reason = "internal_error"


class UnverifiedSender(Refusal):
    """No token and no thread: only the From address names an open request, and nothing
    proves the message comes from that domain (no aligned DKIM, no trusted
    Authentication-Results). Kept for staff: `mailflow inbound accept ID` records it."""

    reason = "unverified_sender"
    status = InboundStatus.QUARANTINED


class UnverifiedBounce(Refusal):
    """A bounce that neither arrived on a bounce address whose token verifies nor quotes one
    of our Message-IDs: anyone can write one naming any address, so it changes nothing."""

    reason = "unverified_bounce"
    status = InboundStatus.IGNORED

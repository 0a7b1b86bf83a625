"""The states a row goes through, as names: one enum per table that has a life cycle.

They are `StrEnum`s, so a member is the very string stored in the column (and shown by
`mailflow requests`, `mailflow inbound` and the admin pages); comparing a loaded row's plain
string with a member works both ways.
"""

from __future__ import annotations

from enum import StrEnum


class RequestState(StrEnum):
    """A survey request: scheduled -> sending -> sent -> answered | expired, or failed |
    suppressed | bounced (DESIGN.md). Notification rows use the sending states too."""

    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    ANSWERED = "answered"
    EXPIRED = "expired"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    BOUNCED = "bounced"


# Not (yet) in the client's mailbox: nothing there can be answered.
UNDELIVERED = (
    RequestState.SCHEDULED,
    RequestState.SENDING,
    RequestState.SUPPRESSED,
    RequestState.FAILED,
)


class InboundStatus(StrEnum):
    """An inbound message: received (stored, not processed yet) -> parsed (it did its job),
    ignored (machine mail), unmatched (no request found) or quarantined (kept for a human)."""

    RECEIVED = "received"
    PARSED = "parsed"
    IGNORED = "ignored"
    UNMATCHED = "unmatched"
    QUARANTINED = "quarantined"


class EscalationStatus(StrEnum):
    """An escalation (and its subtask): open until a manager resolves it."""

    OPEN = "open"
    RESOLVED = "resolved"


class WebhookState(StrEnum):
    """A webhook delivery: pending (due at next_attempt_at) -> delivered | failed."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"

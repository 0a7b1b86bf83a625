"""Raw inbound mail is kept `inbound.keep_raw_days` (90), then pruned: the bytes go, the row
stays with what was made of it (status, reason, kind, request, the answer itself) and its
header sender and subject, so lists and audits still read. Mail still `received` (not yet
processed) is never pruned. The scheduler runs it hourly; `mailflow inbound prune` at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import default
from email.utils import parseaddr

from sqlalchemy import Engine, func, select, update

from mailflow.settings import Settings
from storage.clock import utcnow
from storage.models import InboundMessage
from storage.states import InboundStatus

HEAD_BYTES = 16 * 1024  # enough for any real header block
BATCH = 200


def sender_and_subject(head: bytes | None) -> tuple[str | None, str | None]:
    """The From address and Subject of a message, from its first bytes (None when absent)."""
    if not head:
        return None, None
    top = head.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    try:
        msg = BytesHeaderParser(policy=default).parsebytes(top)
        sender = parseaddr(str(msg.get("From", "")))[1]
        subject = " ".join(str(msg.get("Subject", "")).split())
    except (ValueError, TypeError, LookupError, IndexError):
        return None, None
    return (sender[:320] or None), (subject[:300] or None)


def prune_raw(settings: Settings, engine: Engine, *, now: datetime | None = None) -> int:
    """Drop the raw bytes of processed mail older than keep_raw_days (0 keeps it forever);
    returns how many messages were pruned."""
    days = settings.inbound.keep_raw_days
    if days <= 0:
        return 0
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    table = InboundMessage.__table__
    pruned = 0
    while True:
        with engine.begin() as conn:
            rows = conn.execute(
                select(table.c.id, func.substr(table.c.raw, 1, HEAD_BYTES))
                .where(
                    table.c.raw.is_not(None),
                    table.c.status != InboundStatus.RECEIVED,
                    table.c.received_at < cutoff,
                )
                .order_by(table.c.id)
                .limit(BATCH)
            ).all()
            for inbound_id, head in rows:
                sender, subject = sender_and_subject(bytes(head) if head is not None else None)
                conn.execute(
                    update(table)
                    .where(table.c.id == inbound_id, table.c.status != InboundStatus.RECEIVED)
                    .values(raw=None, raw_pruned_at=now, sender=sender, subject=subject)
                )
        pruned += len(rows)
        if len(rows) < BATCH:
            return pruned

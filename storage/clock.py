"""One notion of "now" for storage: timezone-aware UTC, the same on SQLite and PostgreSQL.

SQLModel's UTCDateTime columns refuse naive values, so everything that writes a timestamp
goes through these helpers.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Aware UTC now."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)

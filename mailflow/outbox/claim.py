"""Claiming due outbox rows in batches with a lease, safely with several workers.

A row is due when it is scheduled and its due_at has passed, or when it is `sending` under
someone else's lease that ran out (its worker died). A lease owner never takes back its own
rows: they may still be waiting in its queue. PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED, then one
UPDATE, so concurrent workers take disjoint rows. SQLite: one atomic UPDATE … WHERE id IN
(subquery) AND <still due> RETURNING id, which takes the write lock before reading.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update

from storage.clock import utcnow
from storage.engine import is_postgres
from storage.states import RequestState


def _due(table: Any, now: datetime, owner: str) -> Any:
    c = table.c
    return or_(
        and_(c.state == RequestState.SCHEDULED, c.due_at <= now),
        and_(
            c.state == RequestState.SENDING,
            c.lease_until < now,
            or_(c.lease_owner.is_(None), c.lease_owner != owner),
        ),
    )


def claim(
    engine: Engine,
    model: Any,
    *,
    owner: str,
    limit: int,
    lease_seconds: float,
    now: datetime | None = None,
) -> list[int]:
    """Lease up to `limit` due rows of `model` (SurveyRequest or Notification) to `owner`.

    Each claim counts as an attempt, so a message that kills its worker every time still
    ends up failed after max_attempts.
    """
    now = now or utcnow()
    table = model.__table__
    c = table.c
    values = {
        "state": RequestState.SENDING,
        "lease_owner": owner,
        "lease_until": now + timedelta(seconds=lease_seconds),
        "attempts": c.attempts + 1,
    }
    pick = select(c.id).where(_due(table, now, owner)).order_by(c.due_at, c.id).limit(limit)
    with engine.begin() as conn:
        if is_postgres(engine):
            ids = list(conn.execute(pick.with_for_update(skip_locked=True)).scalars())
            if ids:
                conn.execute(update(table).where(c.id.in_(ids)).values(**values))
            return ids
        returned = conn.execute(
            update(table)
            .where(c.id.in_(pick.scalar_subquery()), _due(table, now, owner))
            .values(**values)
            .returning(c.id)
        )
        return sorted(returned.scalars())

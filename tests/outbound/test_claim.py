"""Leases: a worker never takes back its own rows (they may still wait in its queue), another
worker takes them once the lease is over, and never while it runs. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from mailflow.outbox.claim import claim
from storage.clock import utcnow
from storage.models import SurveyRequest
from tests.outbound.seed import seed_due_requests


def test_an_owner_never_reclaims_its_own_rows_and_others_wait_for_the_lease(migrated_engine):
    db = migrated_engine
    ids = seed_due_requests(db, 5)
    now = utcnow()
    taken = claim(db, SurveyRequest, owner="a", limit=10, lease_seconds=60, now=now)
    assert taken == sorted(ids)
    later = now + timedelta(seconds=120)  # the lease is over
    assert claim(db, SurveyRequest, owner="a", limit=10, lease_seconds=60, now=later) == []
    during = now + timedelta(seconds=30)  # still leased to a
    assert claim(db, SurveyRequest, owner="b", limit=10, lease_seconds=60, now=during) == []
    again = claim(db, SurveyRequest, owner="b", limit=10, lease_seconds=60, now=later)
    assert again == sorted(ids)  # a died: b takes everything it left

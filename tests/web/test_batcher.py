"""Group commit: concurrent writes share a transaction; one failure spoils only its own item."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from mailflow.web.batcher import WriteBatcher
from storage.engine import session_scope
from storage.models import Contact


class Boom(Exception):
    pass


def test_batch_commits_good_items_and_fails_only_the_bad_one(site):
    batcher = WriteBatcher(site.engine, max_batch=3)

    def add(email):
        def work(session):
            session.add(Contact(email=email))
            session.flush()
            if email.startswith("bad"):
                raise Boom(email)
            return email

        return work

    async def main():
        emails = ["a@x.org", "bad@x.org", "b@x.org", "c@x.org", "d@x.org"]
        return await asyncio.gather(*(batcher.run(add(e)) for e in emails), return_exceptions=True)

    results = asyncio.run(main())
    assert results[0] == "a@x.org" and isinstance(results[1], Boom)
    assert results[2:] == ["b@x.org", "c@x.org", "d@x.org"]
    with session_scope(site.engine) as session:
        stored = {c.email for c in session.exec(select(Contact))}
    assert stored == {"a@x.org", "b@x.org", "c@x.org", "d@x.org"}


def test_a_unique_conflict_inside_a_batch_fails_only_the_second_writer(site):
    batcher = WriteBatcher(site.engine)

    def duplicate(session):
        session.add(Contact(email="same@x.org"))
        return "queued"

    async def main():
        return await asyncio.gather(
            batcher.run(duplicate), batcher.run(duplicate), return_exceptions=True
        )

    # Releasing each savepoint flushes it, so the conflict lands on the second item alone.
    first, second = asyncio.run(main())
    assert first == "queued" and isinstance(second, IntegrityError)
    with session_scope(site.engine) as session:
        assert [c.email for c in session.exec(select(Contact))] == ["same@x.org"]


@pytest.mark.parametrize("size", [1, 2])
def test_single_item_batches_work(site, size):
    batcher = WriteBatcher(site.engine, max_batch=size)
    assert asyncio.run(batcher.run(lambda session: 42)) == 42

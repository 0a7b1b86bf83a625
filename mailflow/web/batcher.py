"""Group commit: database work of concurrent requests shares one transaction.

Answers arrive in bursts (a campaign goes out, clients click within minutes). A batch runs
every request's work in one transaction and one COMMIT makes it durable before any of its
requests is answered (accept, store, acknowledge). Work that refuses an answer returns the
refusal rather than raising, so the common path needs no savepoints; when an item does raise
(or the commit fails), the batch is rolled back and each item is run again alone, so the
failure stays with its own request. On SQLite, the single writer, batches run on the event
loop; elsewhere in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from storage.engine import session_scope

T = TypeVar("T")
Work = Callable[[Session], Any]


class WriteBatcher:
    """Runs queued `work(session)` calls in batches of at most `max_batch`, one commit each."""

    def __init__(self, engine: Engine, max_batch: int = 32):
        self.engine, self.max_batch = engine, max_batch
        self.inline = engine.dialect.name == "sqlite"
        self._queue: list[tuple[Work, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def run(self, work: Callable[[Session], T]) -> T:
        """The result of `work(session)` once its batch has committed (or its exception)."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((work, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all())
        return await future

    async def _flush_all(self) -> None:
        await asyncio.sleep(0)  # let requests that arrived together join the batch
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            if self.inline:
                outcomes = self._commit(batch)
            else:
                outcomes = await run_in_threadpool(self._commit, batch)
            for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
            await asyncio.sleep(0)

    def _commit(self, batch: list[tuple[Work, asyncio.Future[Any]]]) -> list[tuple[bool, Any]]:
        """(ok, value or exception) per item: together in one transaction, else one by one."""
        try:
            with session_scope(self.engine) as session:
                values = [work(session) for work, _ in batch]
        except Exception as exc:  # nothing of the batch is stored
            if len(batch) == 1:
                return [(False, exc)]
            return [outcome for item in batch for outcome in self._commit([item])]
        return [(True, value) for value in values]

"""Group commit: database work of concurrent requests shares one transaction.

Answers arrive in bursts (a campaign goes out, clients click within minutes). Each request's
work runs in its own savepoint, so one refusal or error rolls back only that request, and one
COMMIT makes the whole batch durable before any of its requests is answered (accept, store,
acknowledge). On SQLite, the single writer, batches run on the event loop; elsewhere in a
worker thread.
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
        """Each item in a savepoint, then one commit; a failed commit fails every item."""
        outcomes: list[tuple[bool, Any]] = []
        try:
            with session_scope(self.engine) as session:
                for work, _ in batch:
                    try:
                        with session.begin_nested():
                            value = work(session)
                    except Exception as exc:  # handed to that request's awaiting route
                        outcomes.append((False, exc))
                    else:  # the savepoint was released (flushed) without error
                        outcomes.append((True, value))
        except Exception as exc:  # the commit itself failed: nothing of the batch is stored
            return [(False, exc)] * len(batch)
        return outcomes

"""Rate limits held by the app (not module globals): a sliding window per key (RateLimiter),
growing delays after failures (Backoff), and the two together for sign-in (LoginGuard).

Each kind of POST has its own bucket (rating and AMP, unsubscribe, sign-in), so clicking
survey links never uses up anyone's sign-in attempts, nor the other way round.

On PostgreSQL several web processes answer the same clients, so the answer and unsubscribe
limits are counted in the database (SharedRateLimiter: one upsert per POST, a sliding-window
estimate over two fixed windows) and hold across every process; SQLite (one process) keeps the
in-memory windows. `rate_limiter` picks one."""

from __future__ import annotations

import itertools
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from starlette.concurrency import run_in_threadpool

from storage.models import RateLimitHit


class RateLimiter:
    """At most `limit` hits per `window` seconds per key (the client address).

    Memory is bounded: at most `max_keys` addresses are tracked, the least recently seen
    is forgotten first. Single event loop, so no lock is needed.
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.limit, self.window, self.max_keys, self.clock = limit, window, max_keys, clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def hit(self, key: str) -> float | None:
        """Count a hit; None when allowed, else the seconds until the next one would be."""
        now = self.clock()
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
            if len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
        else:
            self._hits.move_to_end(key)
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(hits[0] + self.window - now, 0.0)
        hits.append(now)
        return None

    async def check(self, key: str) -> float | None:
        """`hit` for async callers (the same interface as SharedRateLimiter)."""
        return self.hit(key)


class SharedRateLimiter:
    """At most `limit` hits per `window` seconds per key, counted in the database so every
    process sharing it sees the same counts.

    Hits are counted per fixed window (one row per bucket, key and window, upserted); the
    count used is the classic sliding-window estimate: this window's hits plus the previous
    window's, weighted by how much of it still lies within the last `window` seconds. A
    refused hit is not counted (as in RateLimiter). Old windows are deleted now and then.
    """

    PRUNE_EVERY = 500  # hits between deletions of finished windows

    def __init__(
        self,
        engine: Engine,
        bucket: str,
        limit: int,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.time,
    ):
        self.engine, self.bucket, self.limit, self.clock = engine, bucket, limit, clock
        self.window = max(1, math.ceil(window))
        self._count = itertools.count(1)

    def hit(self, key: str) -> float | None:
        """Count a hit; None when allowed, else the seconds until the next one would be."""
        now = self.clock()
        start = int(now // self.window) * self.window
        table = RateLimitHit.__table__
        where = (table.c.bucket == self.bucket) & (table.c.key == key[:500])
        upsert = (
            insert(table)
            .values(bucket=self.bucket, key=key[:500], window_start=start, hits=1)
            .on_conflict_do_update(
                index_elements=["bucket", "key", "window_start"],
                set_={"hits": table.c.hits + 1},
            )
            .returning(table.c.hits)
        )
        with self.engine.begin() as conn:
            current = conn.execute(upsert).scalar_one()
            previous = conn.execute(
                select(table.c.hits).where(where, table.c.window_start == start - self.window)
            ).scalar()
            weight = 1 - (now - start) / self.window
            estimate = current + (previous or 0) * weight
            if estimate <= self.limit:
                wait = None
            else:
                conn.execute(
                    update(table)
                    .where(where, table.c.window_start == start)
                    .values(hits=table.c.hits - 1)
                )
                wait = self._wait(now, start, current - 1, previous or 0)
            if next(self._count) % self.PRUNE_EVERY == 0:
                conn.execute(
                    delete(table).where(
                        table.c.bucket == self.bucket,
                        table.c.window_start < start - self.window,
                    )
                )
        return wait

    def _wait(self, now: float, start: int, current: int, previous: int) -> float:
        """Seconds until the estimate has room for one more hit."""
        if current + 1 > self.limit or previous == 0:
            return max(start + self.window - now, 0.0)  # not before the next window
        # current + previous * (1 - (t - start) / window) <= limit - 1, solved for t
        room = (self.limit - 1 - current) / previous
        return max(start + self.window * (1 - room) - now, 0.0)

    async def check(self, key: str) -> float | None:
        """`hit` in a worker thread, so the database round trip never blocks the event loop."""
        return await run_in_threadpool(self.hit, key)


def rate_limiter(
    engine: Engine, bucket: str, limit: int, window: float = 60.0
) -> RateLimiter | SharedRateLimiter:
    """The limiter for one kind of POST: counted in the database on PostgreSQL (it holds
    across processes), in this process's memory on SQLite."""
    if engine.dialect.name == "postgresql":
        return SharedRateLimiter(engine, bucket, limit, window)
    return RateLimiter(limit, window)


class Backoff:
    """Growing delays after failures: after the n-th failure in a row for a key, the next
    attempt waits base * 2**(n-1) seconds (at most `cap`); a success forgets the key.

    Used for sign-in, per username and per client address, so guessing one account from many
    addresses, or many accounts from one address, slows down either way. Bounded like
    RateLimiter.
    """

    def __init__(
        self,
        base: float,
        cap: float,
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.base, self.cap, self.max_keys, self.clock = base, cap, max_keys, clock
        self._state: OrderedDict[str, tuple[int, float]] = OrderedDict()  # failures, not before

    def wait(self, key: str) -> float | None:
        """None when an attempt for `key` may go ahead now, else the seconds to wait."""
        found = self._state.get(key)
        if found is None:
            return None
        remaining = found[1] - self.clock()
        return remaining if remaining > 0 else None

    def failed(self, key: str) -> None:
        """Count a failure for `key`: its next attempt waits longer."""
        failures = self._state.pop(key, (0, 0.0))[0] + 1
        delay = min(self.base * 2 ** min(failures - 1, 30), self.cap)
        self._state[key] = (failures, self.clock() + delay)
        if len(self._state) > self.max_keys:
            self._state.popitem(last=False)

    def succeeded(self, key: str) -> None:
        """Forget the failures of `key`."""
        self._state.pop(key, None)


class LoginGuard:
    """The sign-in limits: attempts per minute and growing delays, per address and account."""

    def __init__(self, per_minute: int, base: float, cap: float):
        self.attempts = RateLimiter(per_minute, 60.0)
        self.backoff = Backoff(base, cap)

    @staticmethod
    def _keys(address: str, username: str) -> tuple[str, str]:
        return f"addr|{address}", f"user|{username.strip().lower()[:200]}"

    def check(self, address: str, username: str) -> float | None:
        """None when this attempt may be checked, else the seconds to wait (nothing counted
        for a refused attempt but the per-minute hit)."""
        waits = [self.backoff.wait(key) for key in self._keys(address, username)]
        waits += [self.attempts.hit(key) for key in self._keys(address, username)]
        found = [w for w in waits if w is not None]
        return max(found) if found else None

    def failed(self, address: str, username: str) -> None:
        for key in self._keys(address, username):
            self.backoff.failed(key)

    def succeeded(self, address: str, username: str) -> None:
        for key in self._keys(address, username):
            self.backoff.succeeded(key)

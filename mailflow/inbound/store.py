"""Storing raw inbound mail, idempotently: the one write the listener and poller make.

A message's identity is its content: a repeat is the same bytes (the SHA-256, unique on
InboundMessage), a no-op enforced by the constraint, never by "select, then insert". Another
message that carries a known Message-ID (a client's second reply) is its own row. Nothing here
parses a body: only the header block is scanned for the Message-ID.
"""

from __future__ import annotations

import hashlib
import queue
import re
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from storage.clock import utcnow
from storage.models import InboundMessage
from storage.states import InboundStatus

SYNTHETIC_DOMAIN = "mailflow.invalid"
MAX_MESSAGE_ID = 250
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*((?:.*)(?:\r?\n[ \t].*)*)", re.I | re.M)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TABLE = InboundMessage.__table__  # type: ignore[attr-defined]
_INSERT = insert(_TABLE)  # one statement, parameters per call: no per-message SQL building
_INSERT_RETURNING = _INSERT.returning(_TABLE.c.id, sort_by_parameter_order=True)


@dataclass(frozen=True)
class Stored:
    """What a store call did: the row id, and whether this call created it."""

    id: int | None
    created: bool


def header_block(raw: bytes) -> bytes:
    """The bytes before the first empty line (the whole message when there is none)."""
    found = _HEADER_END.search(raw)
    return raw[: found.start()] if found else raw


def message_id_of(raw: bytes, digest: str) -> str:
    """The Message-ID header, or '<sha256@mailflow.invalid>' when it is missing or unusable."""
    found = _MESSAGE_ID.search(header_block(raw))
    if found:
        value = b" ".join(found.group(1).split()).decode("ascii", "replace").strip()
        undecodable = "\ufffd" in value
        # a control character (a NUL is refused by PostgreSQL's text type) makes it unusable
        if 2 < len(value) <= MAX_MESSAGE_ID and not undecodable and not _CONTROL.search(value):
            return value
    return f"<{digest}@{SYNTHETIC_DOMAIN}>"


def storable_text(value: str | None) -> str | None:
    """`value` as text every database keeps: undecodable bytes (surrogates) and NULs escaped.

    An envelope address is whatever the peer sent; a lone surrogate or a NUL would make the
    driver refuse the whole row, so they become visible escapes instead.
    """
    if not value:
        return None
    try:
        data = value.encode("utf-8", "surrogateescape")  # back to the bytes the peer sent
    except UnicodeEncodeError:
        data = value.encode("utf-8", "backslashreplace")
    return data.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")


def _row(
    raw: bytes,
    via: str,
    mailbox: str | None,
    envelope_from: str | None,
    envelope_to: Iterable[str],
) -> dict[str, Any]:
    digest = hashlib.sha256(raw).hexdigest()
    return {
        "message_id": message_id_of(raw, digest),
        "sha256": digest,
        "raw": raw,
        "via": via,
        "mailbox": mailbox,
        "envelope_from": storable_text(envelope_from),
        "envelope_to": storable_text(", ".join(envelope_to)),
        "status": InboundStatus.RECEIVED,
        "received_at": utcnow(),
    }


def _existing(engine: Engine, row: dict[str, Any]) -> int | None:
    query = select(_TABLE.c.id).where(_TABLE.c.sha256 == row["sha256"])
    with engine.connect() as connection:
        return connection.execute(query).scalars().first()


def _insert_one(engine: Engine, row: dict[str, Any]) -> Stored:
    try:
        with engine.begin() as connection:
            new_id = connection.execute(_INSERT, row).inserted_primary_key[0]
    except IntegrityError:
        existing = _existing(engine, row)
        if existing is None:  # not a repeat: some other constraint refused the row
            raise
        return Stored(existing, False)
    return Stored(int(new_id), True)


def store_raw(
    engine: Engine,
    raw: bytes,
    *,
    via: str,
    mailbox: str | None = None,
    envelope_from: str | None = None,
    envelope_to: Iterable[str] = (),
) -> Stored:
    """Insert one raw message with status `received` and commit; a repeat stores nothing."""
    return _insert_one(engine, _row(raw, via, mailbox, envelope_from, envelope_to))


@dataclass(frozen=True)
class Incoming:
    """One message waiting to be stored by `store_many`."""

    raw: bytes
    via: str
    mailbox: str | None = None
    envelope_from: str | None = None
    envelope_to: tuple[str, ...] = ()


def _one_by_one(engine: Engine, rows: Sequence[dict[str, Any]]) -> list[Stored | Exception]:
    results: list[Stored | Exception] = []
    for row in rows:
        try:
            results.append(_insert_one(engine, row))
        except Exception as exc:  # this row's failure is this row's answer (451), no other's
            results.append(exc)
    return results


def store_many(engine: Engine, items: Sequence[Incoming]) -> list[Stored | Exception]:
    """Store several messages in ONE transaction (group commit), in order.

    The listener uses it to amortise the commit over messages that arrive together. When the
    batch fails for any reason (a repeat, a row the database refuses, a lost connection) it is
    rolled back and stored one by one, so repeats stay no-ops and one message's failure is
    returned in its own place, never in its neighbours'.
    """
    rows = [_row(i.raw, i.via, i.mailbox, i.envelope_from, i.envelope_to) for i in items]
    if len(rows) == 1:
        return _one_by_one(engine, rows)
    try:
        with engine.begin() as connection:
            ids = connection.execute(_INSERT_RETURNING, rows).scalars().all()
    except Exception:  # isolate: each row gets its own transaction and its own outcome
        return _one_by_one(engine, rows)
    return [Stored(int(new_id), True) for new_id in ids]


class GroupWriter:
    """One writer thread storing what concurrent SMTP sessions hand it, a batch per commit.

    SQLite has one writer, so several threads writing at once only queue on its lock (with
    sleeps); one thread that takes everything waiting and commits it together is both kinder
    to SQLite and faster on PostgreSQL. Each caller's future resolves after the commit.
    """

    def __init__(self, engine: Engine, *, max_batch: int = 64) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Incoming, Future[Stored]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="inbound-store", daemon=True)
        self._thread.start()

    def submit(self, item: Incoming) -> Future[Stored]:
        """Queue one message; the future holds its Stored (or the storage error)."""
        future: Future[Stored] = Future()
        self._queue.put((item, future))
        return future

    def close(self) -> None:
        """Store what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stopping = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            self._write(batch)
            if stopping:
                return

    def _write(self, batch: list[tuple[Incoming, Future[Stored]]]) -> None:
        try:
            results = store_many(self.engine, [item for item, _ in batch])
        except Exception as exc:  # e.g. hashing failed before any row: every session answers 451
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                future.set_exception(result)  # only this message's session answers 451
            else:
                future.set_result(result)

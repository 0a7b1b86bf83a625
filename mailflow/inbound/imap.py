"""The IMAP poller: mailboxes where companies forward form results (and replies) to us.

For each configured mailbox: select the folder, compare UIDVALIDITY with ImapState (a change
means every UID is new again, so `last_uid` is reset), fetch what is new, store the raw bytes
(idempotent: a message fetched twice is stored once), commit, and only THEN move the messages
to the processed folder (MOVE when advertised, else COPY + \\Deleted + EXPUNGE). A message that
was stored but not moved (the connection dropped) is simply moved on the next round. Oversized
messages go to the failed folder, and so does mail the worker quarantines later. IDLE is used
when the server has it, polling otherwise; errors reconnect with exponential backoff. Runs in
its own thread: imapclient is blocking.
"""

from __future__ import annotations

import hashlib
import imaplib
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from imapclient import IMAPClient
from sqlalchemy import Engine, func, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from mailflow.inbound.store import SYNTHETIC_DOMAIN, store_raw
from mailflow.settings import ImapMailbox, Settings
from storage.clock import utcnow
from storage.models import ImapState, InboundMessage
from storage.states import InboundStatus

log = logging.getLogger(__name__)
FETCH_BATCH = 25
MAX_BACKOFF = 300.0
IDLE_RENEW_SECONDS = 25 * 60  # servers drop IDLE after 30 minutes (RFC 2177)
RECOVERABLE = (imaplib.IMAP4.error, OSError, SQLAlchemyError)


@dataclass
class PollResult:
    """What one round did, for logs and tests."""

    stored: list[int] = field(default_factory=list)
    duplicates: int = 0
    moved: int = 0
    failed: int = 0
    uidvalidity_reset: bool = False
    more: bool = False  # the server announced new mail while we worked: poll again at once


def backoff(failures: int) -> float:
    """Seconds to wait after `failures` consecutive failures: 1, 2, 4 … up to 5 minutes."""
    return min(MAX_BACKOFF, 2.0 ** max(0, failures - 1)) * (0.75 + random.random() / 2)


class ImapPoller:
    """One mailbox folder: poll_once() for tests and `run(stop)` for the service."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        mailbox: ImapMailbox,
        *,
        on_stored: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.mailbox = mailbox
        self.on_stored = on_stored
        self.state_key = f"{mailbox.name}/{mailbox.folder}"

    # --- connection --------------------------------------------------------------------------
    def connect(self) -> IMAPClient:
        """A logged-in client with the processed and failed folders present."""
        box = self.mailbox
        client = IMAPClient(box.host, port=box.port, ssl=box.tls, timeout=60)
        try:
            client.login(box.user, box.password.get_secret_value())
            for folder in (box.processed_folder, box.failed_folder):
                if not client.folder_exists(folder):
                    client.create_folder(folder)
        except RECOVERABLE:
            _close(client)
            raise
        return client

    # --- one round ---------------------------------------------------------------------------
    def poll_once(self, client: IMAPClient | None = None) -> PollResult:
        """Store everything new in the folder, then move it; connects when no client given."""
        own = client is None
        client = client or self.connect()
        try:
            return self._poll(client)
        finally:
            if own:
                _close(client)

    def _poll(self, client: IMAPClient) -> PollResult:
        box, result = self.mailbox, PollResult()
        info = client.select_folder(box.folder)
        announced(client)  # forget what SELECT said; later EXISTS means mail arrived meanwhile
        last_uid, result.uidvalidity_reset = self._sync_state(int(info[b"UIDVALIDITY"]))
        uids = sorted(client.search(["ALL"]))
        self._move(client, [u for u in uids if u <= last_uid], box.processed_folder, result)
        fresh = [u for u in uids if u > last_uid]
        for start in range(0, len(fresh), FETCH_BATCH):
            chunk = fresh[start : start + FETCH_BATCH]
            sizes = client.fetch(chunk, [b"RFC822.SIZE"])
            limit = self.settings.inbound.max_message_bytes
            big = [u for u in chunk if int(sizes.get(u, {}).get(b"RFC822.SIZE", 0)) > limit]
            wanted = [u for u in chunk if u not in big]
            fetched = client.fetch(wanted, [b"RFC822"]) if wanted else {}
            done, new_ids = [], []
            for uid in wanted:
                raw = fetched.get(uid, {}).get(b"RFC822")
                if raw is None:  # expunged by someone else meanwhile
                    continue
                stored = store_raw(self.engine, bytes(raw), via="imap", mailbox=box.name)
                if stored.created:
                    result.stored.append(stored.id or 0)
                    new_ids.append(stored.id or 0)
                else:
                    result.duplicates += 1
                done.append(uid)
            self._save_last_uid(max(chunk))  # the rows are committed: now the server may forget
            if result.stored and self.on_stored is not None:
                self.on_stored()
            self._move(client, done, box.processed_folder, result)
            self._left_in(new_ids, box.processed_folder)
            if big:
                log.warning("imap %s: %d message(s) over the size limit", box.name, len(big))
                result.failed += len(big)
                self._move(client, big, box.failed_folder, result, count=False)
        result.more = announced(client)
        if self._quarantined_to_failed(client, result):
            result.more = True  # the folder was selected again: look once more for news
        return result

    def _left_in(self, ids: Sequence[int], folder: str | None) -> None:
        """Record where the poller left these messages."""
        if ids:
            with Session(self.engine) as session:
                session.execute(
                    update(InboundMessage)
                    .where(col(InboundMessage.id).in_(list(ids)))
                    .values(imap_folder=folder)
                )
                session.commit()

    def _quarantined_to_failed(self, client: IMAPClient, result: PollResult) -> bool:
        """Mail the worker quarantined after it went to the processed folder moves on to the
        failed folder, where the mailbox's owner looks for what Mailflow could not use; mail
        that became an answer after all (`mailflow inbound retry`) moves back from there.
        Whether found or not, each is looked for once. True when a folder was selected."""
        box = self.mailbox
        failed = self._relocate(
            client,
            (InboundStatus.QUARANTINED, InboundStatus.UNMATCHED),
            box.processed_folder,
            box.failed_folder,
        )
        back = self._relocate(
            client, (InboundStatus.PARSED,), box.failed_folder, box.processed_folder
        )
        if failed < 0 and back < 0:
            return False
        result.failed += max(failed, 0)
        client.select_folder(box.folder)
        return True

    def _relocate(
        self, client: IMAPClient, statuses: tuple[str, ...], source: str, target: str
    ) -> int:
        """Move this mailbox's messages in `statuses` that were left in `source` to `target`,
        found by content (`_find`); how many moved, or -1 when there was nothing to look for."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(
                    InboundMessage.id,
                    InboundMessage.message_id,
                    InboundMessage.sha256,
                    func.length(InboundMessage.raw),
                )
                .where(
                    InboundMessage.via == "imap",
                    InboundMessage.mailbox == self.mailbox.name,
                    col(InboundMessage.status).in_(statuses),
                    InboundMessage.imap_folder == source,
                )
                .order_by(col(InboundMessage.id))
                .limit(FETCH_BATCH)
            ).all()
        if not rows:
            return -1
        client.select_folder(source)
        moved, lost = [], []
        scratch = PollResult()
        for row_id, message_id, digest, size in rows:
            uids = _find(client, message_id, digest, int(size or 0))
            if uids:
                self._move(client, uids, target, scratch, count=False)
                moved.append(row_id)
            else:
                lost.append(row_id)
        self._left_in(moved, target)
        self._left_in(lost, None)  # not there any more (someone moved it): stop looking
        return len(moved)

    def _move(
        self,
        client: IMAPClient,
        uids: Sequence[int],
        folder: str,
        result: PollResult,
        *,
        count: bool = True,
    ) -> None:
        if not uids:
            return
        capabilities = client.capabilities()
        if b"MOVE" in capabilities:
            client.move(list(uids), folder)
        else:
            client.copy(list(uids), folder)
            client.delete_messages(list(uids))
            if b"UIDPLUS" in capabilities:
                client.expunge(list(uids))
            else:
                client.expunge()
        if count:
            result.moved += len(uids)

    # --- state -------------------------------------------------------------------------------
    def _state(self, session: Session) -> ImapState:
        query = select(ImapState).where(ImapState.mailbox == self.state_key)
        state = session.exec(query).first()
        if state is None:
            try:
                with session.begin_nested():
                    state = ImapState(mailbox=self.state_key)
                    session.add(state)
            except IntegrityError:
                state = session.exec(query).one()
        return state

    def _sync_state(self, uidvalidity: int) -> tuple[int, bool]:
        """(last_uid to continue from, whether UIDVALIDITY changed and reset it)."""
        with Session(self.engine, expire_on_commit=False) as session:
            state = self._state(session)
            reset = state.uidvalidity is not None and state.uidvalidity != uidvalidity
            if reset:
                log.warning(
                    "imap %s: UIDVALIDITY changed (%s -> %s); reading the folder again",
                    self.state_key,
                    state.uidvalidity,
                    uidvalidity,
                )
                state.last_uid = 0
            if reset or state.uidvalidity != uidvalidity:
                state.uidvalidity, state.updated_at = uidvalidity, utcnow()
                session.add(state)
            session.commit()
            return state.last_uid, reset

    def _save_last_uid(self, uid: int) -> None:
        with Session(self.engine) as session:
            state = self._state(session)
            if uid > state.last_uid:
                state.last_uid, state.updated_at = uid, utcnow()
                session.add(state)
            session.commit()

    # --- the long run ------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Poll (or IDLE) until `stop` is set; reconnect with backoff on any failure."""
        failures = 0
        while not stop.is_set():
            try:
                client = self.connect()
            except RECOVERABLE as exc:
                failures += 1
                log.warning("imap %s: cannot connect (%s)", self.mailbox.name, exc)
                stop.wait(backoff(failures))
                continue
            try:
                failures = 0
                self._serve(client, stop)
            except RECOVERABLE as exc:
                failures += 1
                log.warning("imap %s: connection lost (%s)", self.mailbox.name, exc)
                stop.wait(backoff(failures))
            finally:
                _close(client)

    def _serve(self, client: IMAPClient, stop: threading.Event) -> None:
        idle = self.mailbox.idle and b"IDLE" in client.capabilities()
        while not stop.is_set():
            result = self.poll_once(client)
            if result.stored:
                log.info("imap %s: stored %d message(s)", self.mailbox.name, len(result.stored))
            if result.more:
                continue
            if idle:
                self._idle(client, stop)
            else:
                stop.wait(self.mailbox.poll_seconds)

    def _idle(self, client: IMAPClient, stop: threading.Event) -> None:
        """Wait for the server to announce mail (or poll_seconds, or stop)."""
        deadline = time.monotonic() + min(self.mailbox.poll_seconds, IDLE_RENEW_SECONDS)
        client.idle()
        try:
            if announced(client):  # arrived between our last command and the continuation
                return
            while not stop.is_set() and time.monotonic() < deadline:
                responses: list[Any] = client.idle_check(timeout=1.0)
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    break
        finally:
            client.idle_done()


def _find(client: IMAPClient, message_id: str | None, digest: str, size: int) -> list[int]:
    """The UIDs in the selected folder holding exactly the stored bytes. A Message-ID may be
    shared by different messages (storage identity is the SHA-256), so the header search, or
    for a message without one the size search, only names candidates: each candidate's bytes
    are fetched (BODY.PEEK: its \\Seen flag stays as it was) and compared by SHA-256."""
    if message_id and not message_id.endswith(f"@{SYNTHETIC_DOMAIN}>"):
        candidates = client.search(["HEADER", "Message-ID", message_id])
    else:  # the id was made up by the store: the message carries none to search for
        candidates = client.search(["LARGER", max(size - 1, 0), "SMALLER", size + 1])
    if not candidates:
        return []
    bodies = client.fetch(sorted(candidates), [b"BODY.PEEK[]"])
    return sorted(
        uid
        for uid, data in bodies.items()
        if hashlib.sha256(bytes(data.get(b"BODY[]") or b"")).hexdigest() == digest
    )


def announced(client: IMAPClient) -> bool:
    """Whether the server announced new mail (EXISTS/RECENT) since the last call; clears it.

    imaplib files untagged responses that arrive with a command's answer (or before IDLE's
    continuation) in its buffer, where imapclient's idle_check() never sees them; without
    this, mail arriving during a poll would wait a whole poll interval.
    """
    pending = getattr(client._imap, "untagged_responses", {})
    exists = pending.pop("EXISTS", None)
    recent = pending.pop("RECENT", None)
    return bool(exists) or any(value not in (b"0", "0") for value in recent or ())


def _close(client: IMAPClient) -> None:
    """Log out; a connection that is already gone is just shut."""
    try:
        client.logout()
    except RECOVERABLE:
        try:
            client.shutdown()
        except OSError as exc:
            log.debug("imap: shutdown after failed logout: %s", exc)

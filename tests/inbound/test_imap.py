"""The IMAP poller against a real, private Dovecot."""

from __future__ import annotations

import threading
import time

import pytest
from sqlmodel import Session, select

from mailflow.inbound.imap import ImapPoller, backoff
from mailflow.settings import ImapMailbox
from storage.engine import make_engine
from storage.models import ImapState, InboundMessage
from tests.inbound.conftest import eml

FORM = eml("google_form_service_quality.eml")
REPLY = eml("reply_plus_token_csat_5.eml")


def raw(template: str, unique: str) -> bytes:
    return template.replace("{UNIQUE}", unique).replace("\n", "\r\n").encode()


def mailbox(dovecot, **overrides) -> ImapMailbox:
    values = dict(
        name="forms",
        host=dovecot.host,
        port=dovecot.port,
        tls=False,
        user=dovecot.user,
        password=dovecot.password,
        poll_seconds=5,
    )
    values.update(overrides)
    return ImapMailbox(**values)


def stored(engine) -> list[InboundMessage]:
    with Session(engine) as session:
        return list(session.exec(select(InboundMessage).order_by(InboundMessage.id)).all())


def test_poll_stores_then_moves_to_processed(dovecot_clean, inbound_settings, engine):
    form, reply = raw(FORM, "a1"), raw(REPLY, "a2")
    dovecot_clean.append(form)
    dovecot_clean.append(reply)
    poller = ImapPoller(inbound_settings, engine, mailbox(dovecot_clean))

    result = poller.poll_once()

    assert len(result.stored) == 2 and result.moved == 2
    rows = stored(engine)
    assert [r.raw for r in rows] == [form, reply]
    assert {(r.via, r.mailbox, r.status) for r in rows} == {("imap", "forms", "received")}
    assert dovecot_clean.list_messages("INBOX") == []
    assert dovecot_clean.list_messages("Processed") == [form, reply]

    again = poller.poll_once()  # nothing new, nothing stored twice
    assert again.stored == [] and len(stored(engine)) == 2


def test_nothing_is_moved_when_the_row_cannot_be_committed(
    dovecot_clean, inbound_settings, tmp_path
):
    dovecot_clean.append(raw(FORM, "b1"))
    broken = make_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}")
    try:
        with pytest.raises(Exception, match="unable to open database"):
            ImapPoller(inbound_settings, broken, mailbox(dovecot_clean)).poll_once()
    finally:
        broken.dispose()
    assert len(dovecot_clean.list_messages("INBOX")) == 1
    assert dovecot_clean.list_messages("Processed") == []


def test_stored_but_unmoved_message_is_moved_next_round(dovecot_clean, inbound_settings, engine):
    message = raw(FORM, "c1")
    dovecot_clean.append(message)
    poller = ImapPoller(inbound_settings, engine, mailbox(dovecot_clean))
    # as if the connection dropped between the commit and the MOVE:
    with dovecot_clean.connect() as client:
        uidvalidity = client.select_folder("INBOX")[b"UIDVALIDITY"]
        [uid] = client.search(["ALL"])
    from mailflow.inbound.store import store_raw

    store_raw(engine, message, via="imap", mailbox="forms")
    with Session(engine) as session:
        session.add(ImapState(mailbox="forms/INBOX", uidvalidity=uidvalidity, last_uid=uid))
        session.commit()

    result = poller.poll_once()

    assert result.stored == [] and result.moved == 1
    assert dovecot_clean.list_messages("Processed") == [message]
    assert len(stored(engine)) == 1


def test_uidvalidity_change_reads_the_folder_again(dovecot_clean, inbound_settings, engine):
    box = mailbox(dovecot_clean, folder="Forms")
    dovecot_clean.append(raw(FORM, "d1"), folder="Forms")
    poller = ImapPoller(inbound_settings, engine, box)
    assert len(poller.poll_once().stored) == 1
    with dovecot_clean.connect() as client:  # recreate the folder: new UIDVALIDITY, UIDs from 1
        before = client.select_folder("Forms")[b"UIDVALIDITY"]
        client.close_folder()
        client.delete_folder("Forms")
        deadline = time.monotonic() + 5
        while True:
            client.create_folder("Forms")
            after = client.select_folder("Forms")[b"UIDVALIDITY"]
            client.close_folder()
            if after != before or time.monotonic() > deadline:
                break
            client.delete_folder("Forms")
    assert after != before
    second = raw(REPLY, "d2")
    dovecot_clean.append(second, folder="Forms")

    result = poller.poll_once()

    assert result.uidvalidity_reset
    assert len(result.stored) == 1 and stored(engine)[-1].raw == second
    with Session(engine) as session:
        state = session.exec(select(ImapState).where(ImapState.mailbox == "forms/Forms")).one()
    assert state.uidvalidity == after and state.last_uid == 1


def test_oversized_message_goes_to_failed(dovecot_clean, inbound_settings, engine):
    small = inbound_settings.model_copy(
        update={"inbound": inbound_settings.inbound.model_copy(update={"max_message_bytes": 600})}
    )
    big = raw(FORM, "e1") + b"padding line\r\n" * 100
    ok = raw(REPLY, "e2")
    dovecot_clean.append(big)
    dovecot_clean.append(ok)

    result = ImapPoller(small, engine, mailbox(dovecot_clean)).poll_once()

    assert result.failed == 1 and len(result.stored) == 1
    assert dovecot_clean.list_messages("Failed") == [big]
    assert dovecot_clean.list_messages("Processed") == [ok]


@pytest.mark.parametrize("idle", [True, False], ids=["idle", "polling"])
def test_run_picks_up_new_mail(dovecot_clean, inbound_settings, engine, idle):
    arrived = threading.Event()
    poller = ImapPoller(
        inbound_settings,
        engine,
        mailbox(dovecot_clean, idle=idle, poll_seconds=0.5 if not idle else 3),
        on_stored=arrived.set,
    )
    # With IDLE the server announces new mail (within ~1 s); poll_seconds bounds how long a
    # missed announcement (mail landing while IDLE starts) can wait.
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,), daemon=True)
    thread.start()
    try:
        dovecot_clean.append(raw(REPLY, f"f-{idle}"))
        assert arrived.wait(15), "the poller did not store the new message"
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert len(stored(engine)) == 1
    assert dovecot_clean.list_messages("INBOX") == []


def test_run_reconnects_with_backoff(inbound_settings, engine):
    from tests.support.policy import free_port

    box = ImapMailbox(
        name="down", host="127.0.0.1", port=free_port(), tls=False, user="u", password="p"
    )
    stop = threading.Event()
    thread = threading.Thread(target=ImapPoller(inbound_settings, engine, box).run, args=(stop,))
    thread.start()
    stop.set()  # a down server must not keep the poller from stopping
    thread.join(10)
    assert not thread.is_alive()
    assert 0.75 <= backoff(1) <= 1.25 and 6 <= backoff(4) <= 10 and backoff(50) <= 375


def test_without_move_it_copies_flags_deleted_and_expunges(dovecot_clean, inbound_settings, engine):
    form = raw(FORM, "g1")
    dovecot_clean.append(form)
    poller = ImapPoller(inbound_settings, engine, mailbox(dovecot_clean))
    client = poller.connect()
    advertised = client.capabilities()
    client.capabilities = lambda: tuple(c for c in advertised if c != b"MOVE")  # an older server
    try:
        result = poller.poll_once(client)
    finally:
        client.logout()
    assert result.moved == 1
    assert dovecot_clean.list_messages("INBOX") == []
    assert dovecot_clean.list_messages("Processed") == [form]


def test_several_mailboxes_keep_their_own_state(dovecot_clean, inbound_settings, engine):
    dovecot_clean.append(raw(FORM, "h1"))
    dovecot_clean.append(raw(REPLY, "h2"), folder="Forms")
    forms = ImapPoller(inbound_settings, engine, mailbox(dovecot_clean, name="forms"))
    web = ImapPoller(inbound_settings, engine, mailbox(dovecot_clean, name="web", folder="Forms"))

    assert len(forms.poll_once().stored) == 1 and len(web.poll_once().stored) == 1

    assert {r.mailbox for r in stored(engine)} == {"forms", "web"}
    with Session(engine) as session:
        states = {s.mailbox: s for s in session.exec(select(ImapState)).all()}
    assert set(states) == {"forms/INBOX", "web/Forms"}
    assert states["forms/INBOX"].uidvalidity != states["web/Forms"].uidvalidity
    assert all(s.last_uid >= 1 for s in states.values())


def test_mail_quarantined_later_follows_to_the_failed_folder(
    dovecot_clean, inbound_settings, engine
):
    """The worker quarantines what it cannot use; the mailbox owner finds it in Failed."""
    from mailflow.inbound.worker import run_until_empty

    stranger = raw(eml("reply_no_token_unknown_sender.eml"), "q1")
    form = raw(eml("auto_reply_out_of_office.eml"), "q2")  # ignored: it stays processed
    dovecot_clean.append(stranger)
    dovecot_clean.append(form)
    poller = ImapPoller(inbound_settings, engine, mailbox(dovecot_clean))
    assert len(poller.poll_once().stored) == 2
    assert dovecot_clean.list_messages("Processed") == [stranger, form]
    run_until_empty(inbound_settings, engine)
    by_raw = {r.raw: r for r in stored(engine)}
    assert by_raw[stranger].status == "unmatched"  # kept for a human, with its reason
    assert by_raw[form].status == "ignored"
    again = poller.poll_once()
    assert again.failed == 1
    assert dovecot_clean.list_messages("Failed") == [stranger]
    assert dovecot_clean.list_messages("Processed") == [form]
    assert poller.poll_once().failed == 0  # looked for once, moved once
    assert {r.raw: r.imap_folder for r in stored(engine)} == {
        stranger: "Failed",
        form: "Processed",
    }


def test_mail_retried_into_an_answer_comes_back_from_failed(
    dovecot_clean, inbound_settings, engine, make_sent
):
    """`mailflow inbound accept` (staff vouch for an unsigned sender; a retry alone leaves it
    unverified_sender) turns an unmatched reply into an answer once its sender is known: the
    message leaves Failed for Processed, so Failed holds only what still needs a human."""
    from mailflow.inbound.worker import accept, retry, run_until_empty

    stranger = raw(eml("reply_no_token_unknown_sender.eml"), "r1")
    dovecot_clean.append(stranger)
    poller = ImapPoller(inbound_settings, engine, mailbox(dovecot_clean))
    poller.poll_once()
    run_until_empty(inbound_settings, engine)
    assert poller.poll_once().failed == 1
    assert dovecot_clean.list_messages("Failed") == [stranger]

    make_sent("csat", email="stranger@example.org")  # the sender is a client after all
    (row,) = stored(engine)
    retry(inbound_settings, engine, row.id or 0)
    assert stored(engine)[0].reason.startswith("unverified_sender")
    accept(inbound_settings, engine, row.id or 0)
    assert stored(engine)[0].status == "parsed"
    poller.poll_once()
    assert dovecot_clean.list_messages("Failed") == []
    assert dovecot_clean.list_messages("Processed") == [stranger]
    assert stored(engine)[0].imap_folder == "Processed"


def _with_message_id(message: bytes, message_id: bytes) -> bytes:
    head, body = message.split(b"\r\n\r\n", 1)
    lines = [
        b"Message-ID: " + message_id if line.lower().startswith(b"message-id:") else line
        for line in head.split(b"\r\n")
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def test_only_the_message_with_the_stored_bytes_moves_when_message_ids_repeat(
    dovecot_clean, inbound_settings, engine
):
    """Two different messages share one Message-ID (a broken mailer, a gateway): each is
    stored as its own, and when the worker quarantines one, that one - found by its SHA-256,
    not by the shared Message-ID - leaves Processed; the other stays where it is."""
    from mailflow.inbound.worker import run_until_empty

    shared = b"<same-id@example.org>"
    stranger = _with_message_id(raw(eml("reply_no_token_unknown_sender.eml"), "s1"), shared)
    away = _with_message_id(raw(eml("auto_reply_out_of_office.eml"), "s2"), shared)
    dovecot_clean.append(stranger)
    dovecot_clean.append(away)
    poller = ImapPoller(inbound_settings, engine, mailbox(dovecot_clean))
    assert len(poller.poll_once().stored) == 2
    run_until_empty(inbound_settings, engine)
    by_raw = {r.raw: r for r in stored(engine)}
    assert {r.message_id for r in by_raw.values()} == {shared.decode()}
    assert (by_raw[stranger].status, by_raw[away].status) == ("unmatched", "ignored")

    assert poller.poll_once().failed == 1

    assert dovecot_clean.list_messages("Failed") == [stranger]
    assert dovecot_clean.list_messages("Processed") == [away]
    assert {r.raw: r.imap_folder for r in stored(engine)} == {
        stranger: "Failed",
        away: "Processed",
    }


def test_a_message_without_a_message_id_is_found_by_its_bytes(
    dovecot_clean, inbound_settings, engine
):
    """No Message-ID to search for (the store made one up): same-sized candidates are
    compared by SHA-256, so only the quarantined message moves."""
    from mailflow.inbound.worker import run_until_empty

    def without_id(message: bytes) -> bytes:
        head, body = message.split(b"\r\n\r\n", 1)
        kept = [x for x in head.split(b"\r\n") if not x.lower().startswith(b"message-id:")]
        return b"\r\n".join(kept) + b"\r\n\r\n" + body

    stranger = without_id(raw(eml("reply_no_token_unknown_sender.eml"), "t1"))
    twin = stranger.replace(b"Subject: ", b"Subject:X", 1)  # same size, other bytes
    assert len(twin) == len(stranger) and twin != stranger
    dovecot_clean.append(stranger)
    poller = ImapPoller(inbound_settings, engine, mailbox(dovecot_clean))
    poller.poll_once()
    run_until_empty(inbound_settings, engine)
    dovecot_clean.append(twin, folder="Processed")  # someone filed a look-alike there

    assert poller.poll_once().failed == 1

    assert dovecot_clean.list_messages("Failed") == [stranger]
    assert dovecot_clean.list_messages("Processed") == [twin]

"""Storing raw mail: identity is the content (SHA-256), batched commits that isolate each row,
cheap Message-ID reading."""

from __future__ import annotations

from concurrent.futures import wait

from sqlmodel import Session, func, select

from mailflow.inbound.store import GroupWriter, Incoming, Stored, message_id_of, store_many
from storage.models import InboundMessage


def mail(n: int, body: str = "9") -> bytes:
    return f"Message-ID: <m{n}@example.com>\r\nSubject: x\r\n\r\n{body}\r\n".encode()


def count(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(InboundMessage)).one()


def stored(results: list[Stored | Exception]) -> list[Stored]:
    assert all(isinstance(r, Stored) for r in results), results
    return [r for r in results if isinstance(r, Stored)]


def test_batch_with_a_repeat_inside_stores_each_message_once(any_engine):
    first = stored(store_many(any_engine, [Incoming(mail(1), "smtp"), Incoming(mail(2), "smtp")]))
    assert [s.created for s in first] == [True, True]

    batch = [
        Incoming(mail(3), "smtp"),
        Incoming(mail(1), "smtp"),  # the same bytes again: a repeat
        Incoming(mail(3), "smtp"),
    ]
    second = stored(store_many(any_engine, batch))

    assert [s.created for s in second] == [True, False, False]
    assert second[1].id == first[0].id and second[2].id == second[0].id
    assert count(any_engine) == 3


def test_another_message_with_a_known_message_id_is_its_own_row(any_engine):
    positive, negative = mail(7, "9, great"), mail(7, "2, still broken")  # one Message-ID
    [first] = stored(store_many(any_engine, [Incoming(positive, "smtp")]))
    [second, again] = stored(
        store_many(any_engine, [Incoming(negative, "smtp"), Incoming(negative, "smtp")])
    )
    assert first.created and second.created and second.id != first.id
    assert not again.created and again.id == second.id
    with Session(any_engine) as session:
        rows = session.exec(select(InboundMessage).order_by(InboundMessage.id)).all()
    assert [r.raw for r in rows] == [positive, negative]
    assert {r.message_id for r in rows} == {"<m7@example.com>"}


def test_a_row_the_database_refuses_fails_alone(any_engine):
    # A lone surrogate (undecodable peer input) in a text column: the driver refuses that row.
    batch = [Incoming(mail(n), "smtp") for n in range(5)]
    batch[2] = Incoming(mail(2), "smtp", mailbox="bad\udcff")
    results = store_many(any_engine, batch)
    assert isinstance(results[2], Exception)
    assert [r.created for i, r in enumerate(results) if i != 2] == [True] * 4  # type: ignore[union-attr]
    assert count(any_engine) == 4


def test_group_writer_fails_only_the_refused_message(any_engine):
    writer = GroupWriter(any_engine, max_batch=64)
    try:
        items = [
            Incoming(mail(n), "smtp", envelope_to=(f"s{n}@reply.localhost",)) for n in range(40)
        ]
        items[17] = Incoming(mail(17), "smtp", mailbox="\udcff")
        futures = [writer.submit(item) for item in items]
        wait(futures, timeout=30)
    finally:
        writer.close()
    assert isinstance(futures[17].exception(), UnicodeEncodeError)
    assert sum(f.result().created for i, f in enumerate(futures) if i != 17) == 39
    assert count(any_engine) == 39


def test_undecodable_envelope_is_stored_escaped():
    from mailflow.inbound.store import storable_text

    assert storable_text("survey+\udcff@reply.localhost") == "survey+\\xff@reply.localhost"
    assert storable_text("a\x00b") == "a\\x00b"
    assert storable_text("") is None


def test_group_writer_commits_concurrent_messages(any_engine):
    writer = GroupWriter(any_engine, max_batch=8)
    try:
        futures = [writer.submit(Incoming(mail(n % 20), "smtp")) for n in range(60)]
        wait(futures, timeout=30)
    finally:
        writer.close()
    results = [f.result() for f in futures]
    assert sum(r.created for r in results) == 20
    assert count(any_engine) == 20


def test_message_id_header_is_read_from_the_header_block_only():
    folded = b"Subject: x\r\nMessage-ID:\r\n <folded@example.com>\r\n\r\nMessage-ID: <body@x>\r\n"
    assert message_id_of(folded, "d" * 64) == "<folded@example.com>"
    only_body = b"Subject: x\r\n\r\nMessage-ID: <body@x>\r\n"
    assert message_id_of(only_body, "d" * 64) == f"<{'d' * 64}@mailflow.invalid>"
    with_nul = b"Message-ID: <a\x00b@example.com>\r\n\r\n"  # PostgreSQL refuses NUL in text
    assert message_id_of(with_nul, "f" * 64) == f"<{'f' * 64}@mailflow.invalid>"
    too_long = b"Message-ID: <" + b"a" * 300 + b"@x>\r\n\r\n"
    assert message_id_of(too_long, "e" * 64).endswith("@mailflow.invalid>")

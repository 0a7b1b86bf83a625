"""Storing raw mail: idempotent by constraint, batched commits, cheap Message-ID reading."""

from __future__ import annotations

from concurrent.futures import wait

from sqlmodel import Session, func, select

from mailflow.inbound.store import GroupWriter, Incoming, message_id_of, store_many
from storage.models import InboundMessage


def mail(n: int, body: str = "9") -> bytes:
    return f"Message-ID: <m{n}@example.com>\r\nSubject: x\r\n\r\n{body}\r\n".encode()


def count(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(InboundMessage)).one()


def test_batch_with_a_repeat_inside_stores_each_message_once(any_engine):
    first = store_many(any_engine, [Incoming(mail(1), "smtp"), Incoming(mail(2), "smtp")])
    assert [s.created for s in first] == [True, True]

    batch = [
        Incoming(mail(3), "smtp"),
        Incoming(mail(1, "other"), "smtp"),
        Incoming(mail(3), "smtp"),
    ]
    second = store_many(any_engine, batch)

    assert [s.created for s in second] == [True, False, False]
    assert second[1].id == first[0].id and second[2].id == second[0].id
    assert count(any_engine) == 3


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
    too_long = b"Message-ID: <" + b"a" * 300 + b"@x>\r\n\r\n"
    assert message_id_of(too_long, "e" * 64).endswith("@mailflow.invalid>")

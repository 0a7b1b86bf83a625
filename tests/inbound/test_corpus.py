"""Every fixture we have, and hostile mail, goes through the worker without stopping it."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from mailflow.inbound.store import store_raw
from mailflow.inbound.worker import run_until_empty
from storage.models import InboundMessage, Response

TESTS = Path(__file__).resolve().parents[1]


def hostile() -> list[bytes]:
    nested = b"".join(
        f'Content-Type: multipart/mixed; boundary="b{n}"\r\n\r\n--b{n}\r\n'.encode()
        for n in range(50)
    )
    return [
        b"",
        b"\x00" * 100,
        b"Subject: header only\r\nFrom: a@example.com\r\n",
        b'Content-Type: multipart/alternative; boundary="x"\r\n\r\n--x\r\nContent-Type: text/pl',
        b"Content-Type: text/plain; charset=koi8-r\r\n\r\n\xff\xfe\x00 5 \x00",
        b"Message-ID: <nested@x>\r\n" + nested + b"9\r\n",
        b"From: a@example.com\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n",
    ]


def test_the_worker_finishes_every_fixture_and_hostile_message(engine, inbound_settings):
    files = sorted({*TESTS.glob("fixtures/**/*.eml"), *TESTS.glob("inbound/fixtures/*.eml")})
    corpus = [p.read_bytes() for p in files] + hostile()
    for raw in corpus:
        store_raw(engine, raw, via="file")

    run_until_empty(inbound_settings, engine)

    with Session(engine) as session:
        rows = session.exec(select(InboundMessage)).all()
        assert session.exec(select(Response)).all() == []  # no request exists: nothing answered
    assert len(rows) == len({r.sha256 for r in rows}) >= len(hostile())
    assert [r for r in rows if r.status == "received"] == []
    assert [r.reason for r in rows if (r.reason or "").startswith("internal_error")] == []
    assert {r.status for r in rows} <= {"ignored", "unmatched", "quarantined", "parsed"}

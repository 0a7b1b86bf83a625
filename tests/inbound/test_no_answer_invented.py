"""The measurement of issue 14, on our own corpus: a survey is sent to the sender of every
fixture (replies, forms, auto-replies, acknowledgements, bounces, hostile mail), the fixtures'
own tokens are not ours, and none of that mail may become an answer."""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path

from sqlmodel import Session, select

from mailflow.inbound.store import store_raw
from mailflow.inbound.worker import run_until_empty
from parsers import read_message
from storage.models import Escalation, InboundMessage, Response

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_no_fixture_becomes_the_answer_of_its_sender(engine, inbound_settings, make_sent):
    corpus = [p.read_bytes() for p in sorted(FIXTURES.glob("**/*.eml"))]
    senders = {read_message(raw).from_address for raw in corpus} - {None}
    for address in sorted(senders):
        if parseaddr(address)[1]:
            make_sent("csat", email=address)
    for raw in corpus:
        store_raw(engine, raw, via="file")

    run_until_empty(inbound_settings, engine)

    with Session(engine) as session:
        rows = session.exec(select(InboundMessage)).all()
        assert session.exec(select(Response)).all() == []
        assert session.exec(select(Escalation)).all() == []
    held = [r for r in rows if (r.reason or "").startswith("unverified_sender")]
    assert len(senders) > 40 and len(held) > 20  # waiting for staff, not lost
    assert all(r.status == "quarantined" and r.request_id for r in held)

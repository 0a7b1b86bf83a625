"""A reply that names a reason in words ("долго ждал ответа") files it as the option ("Slow
response"), in en/ru/pl, through the real inbound worker."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from storage.models import AnswerReason, Response
from tests.inbound.conftest import eml
from tests.inbound.test_worker import ingest


@pytest.mark.parametrize(
    ("fixture", "score", "option"),
    [
        ("reply_ru_csat_2_reason_slow.eml", 2, "slow"),
        ("reply_pl_csat_1_reason_slow.eml", 1, "slow"),
        ("reply_en_csat_2_reason_rude.eml", 2, "rude"),
    ],
)
def test_reply_names_the_reason_in_words(
    engine, inbound_settings, make_sent, fixture, score, option
):
    sent = make_sent("csat")
    row = ingest(engine, inbound_settings, sent.fill(eml(fixture)))
    assert row.status == "parsed", row.reason
    with Session(engine) as session:
        response = session.exec(
            select(Response).where(Response.request_id == sent.request_id)
        ).one()
        reasons = session.exec(select(AnswerReason)).all()
    assert response.score == score and response.negative
    assert [(r.followup, r.option, r.source) for r in reasons] == [
        ("what_went_wrong", option, "reply")
    ]


def test_a_good_score_with_the_same_words_gives_no_reason(engine, inbound_settings, make_sent):
    sent = make_sent("csat")
    text = eml("reply_ru_csat_2_reason_slow.eml").replace(
        "2, долго ждал ответа", "5, долго ждал, но всё решили"
    )
    row = ingest(engine, inbound_settings, sent.fill(text))
    assert row.status == "parsed", row.reason
    with Session(engine) as session:
        assert session.exec(select(AnswerReason)).all() == []

"""Helpdesk acknowledgements are machine mail even without auto-reply headers.

"Your request has been registered… within 2 business days" used to be read as a score of 2.
The fixtures follow the default receipts of Zendesk, Freshdesk, Jira Service Management,
OTRS, Bitrix24, 1C:Itilium, Planfix, Usedesk, Omnidesk and a Polish helpdesk; none carries
Auto-Submitted, X-Autoreply or a helpdesk X-Mailer, so wording and structure must tell.
"""

from __future__ import annotations

import pytest

from parsers import interpret, read_message
from tests.parsers.conftest import all_fixtures, load
from tests.parsers.surveys import SURVEYS

ACKS = all_fixtures("acks")


def test_there_is_an_acknowledgement_of_each_helpdesk() -> None:
    assert len(ACKS) >= 10


@pytest.mark.parametrize("name", ACKS)
@pytest.mark.parametrize("survey", ["csat", "nps"])
def test_acknowledgement_is_never_scored(name: str, survey: str) -> None:
    raw = load(name)
    assert b"Auto-Submitted" not in raw and b"X-Autoreply" not in raw
    msg = read_message(raw)
    assert msg.kind == "auto_reply", msg.visible_text
    reading = interpret(msg, SURVEYS[survey])
    assert reading.score is None and reading.error == "not_an_answer: auto_reply"


def _reply(body: str, subject: str = "Re: How did we do?") -> bytes:
    return (
        f"From: anna@client.example\r\nTo: survey@reply.localhost\r\nSubject: {subject}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body
    ).encode()


@pytest.mark.parametrize(
    ("body", "score"),
    [
        ("5 - your agent said my request was registered and fixed it within 2 days", 5),
        ("Thanks, my ticket was handled within 2 hours. 4", 4),
        ("Спасибо, заявка принята быстро, решили в течение дня. 5", 5),
        ("Ваше обращение зарегистрировано — так мне ответили, а потом тишина. 1", 1),
        ("Zgłoszenie przyjęte szybko, naprawione w ciągu 2 dni. Ocena 5", 5),
    ],
)
def test_a_real_answer_that_talks_about_its_request_is_still_an_answer(
    body: str, score: int
) -> None:
    msg = read_message(_reply(body))
    assert msg.kind == "reply"
    assert interpret(msg, SURVEYS["csat"]).score == score


def test_a_reply_quoting_an_acknowledgement_is_read_by_what_the_client_wrote() -> None:
    ack = load("acks/bitrix24_obrashchenie_ru.eml").decode().split("\r\n\r\n", 1)[1]
    quoted = "".join(f"> {line}\r\n" for line in ack.splitlines())
    body = "4, помогли\r\n\r\nПн, 23 нояб. 2026 г. в 10:21, Техподдержка <s@acme.ru>:\r\n" + quoted
    msg = read_message(_reply(body))
    assert msg.kind == "reply" and interpret(msg, SURVEYS["csat"]).score == 4

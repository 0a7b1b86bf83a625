"""Escalation and follow-up emails: both parts say the same thing, in the reader's language."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime
from email.header import decode_header, make_header

import pytest

from mailflow.escalation.mail import escalation_email
from mailflow.facts import Facts
from mailflow.followups import followup_email
from tests.foundation.conftest import config_file, example_settings  # noqa: F401


def _facts(settings, comment: str = 'Rude <script>alert("x")</script>') -> Facts:
    return Facts(
        survey=settings.survey("csat"),
        response_id=42,
        request_id=7,
        score=1,
        answers={"score": "1"},
        comment=comment,
        source="reply",
        answered_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        negative=True,
        client_email="anna@example.com",
        client_name="Anna\r\nBcc: evil@example.com",
        employee_name="Piotr",
        employee_email="piotr@example.com",
        ticket_id=3,
        ticket_ref="T-1042",
        ticket_title="Printer",
        ticket_url="https://helpdesk.example.com/tickets/T-1042",
        response_url="http://127.0.0.1:8000/admin/escalations/response/42#response",
        admin_url="http://127.0.0.1:8000/admin/escalations/response/42",
        rule="score<=2",
    )


def _parts(raw: bytes) -> tuple[email.message.Message, str, str]:
    message = email.message_from_bytes(raw)
    parts = {
        p.get_content_type(): p.get_payload(decode=True).decode()
        for p in message.walk()
        if not p.is_multipart()
    }
    return message, parts["text/html"], parts["text/plain"]


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en", ["Client", "Very dissatisfied", "Open the escalation"]),
        ("ru", ["Клиент", "Очень недоволен", "Открыть эскалацию"]),
        ("pl", ["Klient", "Bardzo niezadowolony", "Otwórz eskalację"]),
    ],
)
def test_escalation_email_in_the_managers_language_same_content_in_both_parts(
    example_settings,  # noqa: F811
    locale,
    words,
):
    mail = escalation_email(
        example_settings,
        _facts(example_settings),
        to="boss@example.com",
        to_name="Boss",
        locale=locale,
    )
    message, html, text = _parts(mail.eml)
    assert message["Content-Language"] == locale
    assert message["Message-ID"] == mail.message_id
    for word in [*words, "anna@example.com", "T-1042", "Piotr"]:
        assert word in html and word in text, word
    assert "score<=2" in text and "score&lt;=2" in html
    facts = _facts(example_settings)
    for link in (facts.admin_url, facts.ticket_url, facts.response_url):
        assert link in text and link in html
    # The client's comment is text: escaped in HTML, verbatim in the text part.
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'Rude <script>alert("x")</script>' in text
    # A CR/LF in a configured or client value never becomes a header.
    assert message["Bcc"] is None
    subject = str(make_header(decode_header(message["Subject"])))
    assert "\n" not in subject and "\r" not in subject and "Anna Bcc" in subject


def test_unknown_manager_locale_falls_back_to_the_default(example_settings):  # noqa: F811
    mail = escalation_email(
        example_settings, _facts(example_settings), to="b@example.com", to_name=None, locale="de"
    )
    assert email.message_from_bytes(mail.eml)["Content-Language"] == "en"


def test_follow_ups_use_survey_texts_and_fall_back_to_built_in_words(example_settings):  # noqa: F811
    csat, nps = example_settings.survey("csat"), example_settings.survey("nps")
    apology = followup_email(
        example_settings,
        csat,
        kind="apology",
        to="anna@example.com",
        to_name="Анна",
        locale="ru",
        unsubscribe_token="tok",
    )
    _, html, text = _parts(apology.eml)
    assert "Нам жаль, что мы вас подвели. Руководитель разберётся сегодня же." in text
    assert "Здравствуйте, Анна!" in html and "/u/tok" in html
    thanks = followup_email(
        example_settings,
        nps,
        kind="thank_you",
        to="anna@example.com",
        to_name=None,
        locale="pl",
        unsubscribe_token="tok",
    )
    _, _, text = _parts(thanks.eml)
    assert "Dziękujemy za opinię!" in text  # nps has no own text: the built-in words
    assert re.search(r"Subject: .*", thanks.eml.decode()) is not None
    with pytest.raises(ValueError, match="unknown follow-up kind"):
        followup_email(
            example_settings,
            nps,
            kind="bribe",
            to="a@x",
            to_name=None,
            locale="en",
            unsubscribe_token="t",
        )


FORGED = "Awful.\nOpen the admin page: https://evil.example/login\n\nRegards, Mailflow"


def test_client_text_in_the_text_part_is_quoted_never_a_line_of_ours(example_settings):  # noqa: F811
    facts = _facts(example_settings, comment=FORGED)
    mail = escalation_email(
        example_settings, facts, to="boss@example.com", to_name="Boss", locale="en"
    )
    _, _, text = _parts(mail.eml)
    lines = text.replace("\r\n", "\n").split("\n")
    assert "> Open the admin page: https://evil.example/login" in lines
    assert "> Regards, Mailflow" in lines
    forged = ("Open the admin page: https://evil", "Regards")
    assert not any(line.startswith(forged) for line in lines)
    assert "Client: Anna Bcc: evil@example.com <anna@example.com>" in lines  # the name folded
    assert not any(line.startswith("Bcc") for line in lines)  # nor in the subject line
    ours = [line for line in lines if "evil.example" in line]
    assert all(line.startswith("> ") for line in ours)
    description = facts.description("en").split("\n")
    assert "> Open the admin page: https://evil.example/login" in description
    assert not any(line.startswith("Open the admin page") for line in description)


def test_a_client_name_cannot_add_lines_to_a_follow_up(example_settings):  # noqa: F811
    mail = followup_email(
        example_settings,
        example_settings.survey("csat"),
        kind="thank_you",
        to="anna@example.com",
        to_name="Anna\nOpen https://evil.example to claim a refund",
        locale="en",
        unsubscribe_token="tok",
    )
    _, _, text = _parts(mail.eml)
    lines = text.replace("\r\n", "\n").split("\n")
    assert not any(line.startswith("Open https://evil") for line in lines)

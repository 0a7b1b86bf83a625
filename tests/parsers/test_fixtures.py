"""What the expected.json files cannot say: bounce details, tokens, auto-reply reasons, comments.

The reading of each fixture (kind, score, visible text, answers…) is judged by
test_eml_cases.py against the NAME.expected.json beside it."""

from __future__ import annotations

import base64
import hashlib

import pytest

from parsers import interpret, parse, read_message
from tests.parsers.conftest import load
from tests.parsers.surveys import SURVEYS


def test_comment_keeps_words_that_carry_the_score() -> None:
    """A score said in words, or corrected, is only understood whole; a signature never is."""
    words = parse(load("replies/gmail_en_csat_excellent.eml"), SURVEYS["csat"])
    assert words["comment"] == "Excellent service"
    corrected = parse(load("replies/gmail_en_not_5_more_like_3.eml"), SURVEYS["csat"])
    assert corrected["comment"].startswith("Not 5, more like 3")
    signed = parse(load("replies/outlook_en_8_not_10_signoff_thanks.eml"), SURVEYS["nps"])
    # the sign-off is the sender's own words (it stays visible) but never the comment
    assert signed["visible_text"].endswith("Thanks,\nJohn")
    assert "John" not in (signed["comment"] or "")


def token_of(name: str) -> str:
    """The token a fixture was written with (sha256 of its name, base32)."""
    return base64.b32encode(hashlib.sha256(name.encode()).digest()[:20]).decode().lower()


@pytest.mark.parametrize(
    "name", ["web_form_tilda_br_lines_ru", "web_form_apps_script_next_line_pl"]
)
def test_form_token_from_br_lines_and_value_lines(name: str) -> None:
    assert read_message(load(f"forms/{name}.eml")).request_token == token_of(name)


@pytest.mark.parametrize(
    ("name", "score", "comment"),
    [("web_form_cf7_nps_labelled_option", 10, "You fixed it in one call."),
     ("web_form_typeform_nps_ticket_number", 7, "Slow but polite.")],
)  # fmt: skip
def test_nps_through_a_website_form(name: str, score: int, comment: str) -> None:
    result = parse(load(f"forms/{name}.eml"), SURVEYS["nps"])
    assert (result["kind"], result["score"], result["error"]) == ("web_form", score, None)
    assert result["comment"] == comment


@pytest.mark.parametrize(
    "name", ["google_form_notification_service_quality_en_negative", "web_form_table_cf7_ru",
             "google_form_respondent_copy_ru", "google_form_addon_email_notifications_en"]
)  # fmt: skip
def test_form_token_comes_from_the_ref_field(name: str) -> None:
    msg = read_message(load(f"forms/{name}.eml"))
    assert msg.request_token is not None and len(msg.request_token) == 32
    assert ("Ref", msg.request_token) in msg.form_fields or (
        "Token", msg.request_token) in msg.form_fields


def test_google_form_on_a_scale_survey_gives_the_score() -> None:
    result = parse(load("forms/google_form_addon_nps_9.eml"), SURVEYS["nps"])
    assert (result["kind"], result["score"], result["error"]) == ("google_form", 9, None)
    assert result["answers"] == {"score": "9"}
    assert result["comment"] == "Quick and friendly."


def test_form_mail_for_a_form_survey_with_no_matching_question() -> None:
    result = parse(load("forms/google_form_addon_nps_9.eml"), SURVEYS["service_quality"])
    assert result["error"] == "no_answers"


AUTO = {
    "ooo_en_outlook": "auto-submitted",
    "ooo_ru_outlook": "auto-submitted",
    "ooo_pl_outlook": "auto-submitted",
    "auto_submitted_gmail_vacation_en": "auto-submitted: auto-replied",
    "precedence_bulk_newsletter": "precedence: bulk",
    "x_autoreply_yandex_ru": "x-autoreply",
    "x_autorespond_en": "x-autorespond",
    "ooo_subject_only_ru_net_na_meste": "subject: нет на месте",
    "ooo_subject_only_pl_poza_biurem": "subject: poza biurem",
    "ooo_subject_only_pl_automatyczna_odpowiedz": "subject: automatyczna odpowiedź",
    "ooo_subject_only_lotus_auto_prefix": "subject: auto:",
    "ooo_text_only_ru_date_in_words": "text: меня нет в офисе",
    "ooo_text_only_en_annual_leave": "text: i am currently on annual leave",
    "ooo_text_only_pl_na_urlopie": "text: przebywam na urlopie",
}


@pytest.mark.parametrize("name", sorted(AUTO))
def test_auto_reply_fixture(name: str) -> None:
    msg = read_message(load(f"auto/{name}.eml"))
    assert msg.kind == "auto_reply"
    assert (msg.auto_reply_reason or "").startswith(AUTO[name])
    reading = interpret(msg, SURVEYS["nps"])
    assert reading.score is None and reading.error == "not_an_answer: auto_reply"


BOUNCES = {
    "postfix_5_1_1": ("nobody@client.example", "5.1.1", True, "User unknown"),
    "postfix_4_4_1_delayed": ("slow@client.example", "4.4.1", False, "timed out"),
    "exchange_ndr_5_1_10": ("gone@contoso.com", "5.1.10", True, "RecipientNotFound"),
    "exchange_ndr_5_2_2_headers_only": ("full@firma.ru", "5.2.2", True, "Mailbox full"),
    "gmail_dsn_5_1_1": ("nosuchuser@gmail.com", "5.1.1", True, "does not exist"),
    "mailer_daemon_nonstandard_attached": ("nobody@client.example", "5.1.1", True, "User unknown"),
    "yandex_ru_nonstandard_attached": ("net-takogo@yandex.ru", "5.7.1", True, "No such user"),
}


@pytest.mark.parametrize("name", sorted(BOUNCES))
def test_bounce_fixture(name: str) -> None:
    recipient, status, permanent, diagnostic = BOUNCES[name]
    msg = read_message(load(f"bounces/{name}.eml"))
    assert msg.kind == "bounce" and msg.bounce is not None
    assert (msg.bounce.recipient, msg.bounce.status, msg.bounce.permanent) == (
        recipient, status, permanent)
    assert diagnostic in (msg.bounce.diagnostic or "")
    assert (msg.bounce.original_message_id or "").startswith("<survey.")
    assert msg.body_tokens, "the original's reply-to token must be offered for matching"
    assert msg.recipient_token is None  # the DSN itself went to support@, not a plus-address

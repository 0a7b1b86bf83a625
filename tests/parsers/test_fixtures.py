"""Table tests: each real-format fixture -> kind, score, language, visible text, answers."""

from __future__ import annotations

import base64
import hashlib

import pytest

from parsers import interpret, parse, read_message
from tests.parsers.conftest import all_fixtures, load
from tests.parsers.surveys import SURVEYS

# name: (survey, kind, score, language, must be in visible_text, must not be in it, error prefix)
REPLIES = {
    "gmail_en_score_typed_in_subject": ("nps", 10, "en", "", "wrote", None),
    "outlook_en_html_only_block_in_word_section": ("nps", 10, "en", "10", "How did we do", None),
    "outlook_ru_units_out_of_ten": ("nps", 8, "ru", "Мастер пришёл", "Acme Support", None),
    "gmail_en_number_in_the_explanation": ("nps", 6, "en", "process was slow", "wrote:", None),
    "gmail_en_nps_9_quoted": ("nps", 9, "en", "very happy", "wrote:", None),
    "gmail_ru_score_9_quoted": ("nps", 9, "ru", "быструю помощь", "Насколько", None),
    "gmail_pl_score_8_quoted": ("nps", 8, "pl", "dziękuję", "napisał", None),
    "gmail_ru_no_verb_header_10": ("nps", 10, "ru", "10", "Acme Support", None),
    "gmail_en_wrapped_header_7": ("nps", 7, "en", "7", "wrote", None),
    "gmail_en_ambiguous_3_or_4": ("csat", None, "en", "3 or 4", "On Mon", "ambiguous_score"),
    "gmail_en_between_7_and_8": ("nps", None, "en", "between", ">", "ambiguous_score"),
    "gmail_en_range_8_9": ("nps", None, "en", "8-9", "recommend", "ambiguous_score"),
    "gmail_en_4_maybe_5": ("csat", None, "en", "maybe", "recommend", "ambiguous_score"),
    "gmail_en_out_of_scale_15": ("nps", None, "en", "best", "recommend", "out_of_scale: 15"),
    "gmail_en_9_of_10": ("nps", 9, "en", "would recommend", "wrote", None),
    "gmail_ru_9_iz_10": ("nps", 9, "ru", "Твёрдые", "Насколько", None),
    "gmail_pl_ocena_5": ("csat", 5, "pl", "w porządku", "polecisz", None),
    "gmail_en_noise_numbers_8": ("nps", 8, "en", "#12345", "wrote", None),
    "gmail_en_no_score_thanks": ("nps", None, "en", "Thanks", "wrote", "no_score"),
    "gmail_en_csat_excellent": ("csat", 5, "en", "Excellent", "wrote", None),
    "gmail_ru_csat_plokho": ("csat", 2, "ru", "долго ждал", "Насколько", None),
    "gmail_pl_csat_fatalnie": ("csat", 1, "pl", "Fatalnie", "napisał", None),
    "gmail_en_keycap_9": ("nps", 9, "en", "9", "wrote", None),
    "gmail_en_stars_4": ("csat", 4, "en", "good overall", "wrote", None),
    "gmail_en_same_number_twice_9": ("nps", 9, "en", "Really", "wrote", None),
    "gmail_en_nps_scale_label_very_likely": ("nps", 10, "en", "Very likely", "wrote", None),
    "gmail_en_html_only_6": ("nps", 6, "en", "6, fine", "wrote", None),
    "gmail_ru_forwarded_8": ("nps", 8, "ru", "пересылаю", "Forwarded", None),
    "gmail_pl_forwarded_wiadomosc_przekazana_6": ("nps", 6, "pl", "dalej", "przekazana", None),
    "apple_mail_ru_forwarded_nachalo_5": ("csat", 5, "ru", "отлично", "Начало", None),
    "apple_mail_en_thumbs_up": ("thumbs", 1, "en", "👍", "wrote", None),
    "apple_mail_ru_10": ("nps", 10, "ru", "всё отлично", "написал", None),
    "apple_mail_pl_thumbs_down_nie": ("thumbs", 0, "pl", "niestety", "napisana", None),
    "iphone_ru_otpravleno_s_iphone_10": ("nps", 10, "ru", "10", "iPhone", None),
    "iphone_pl_wyslane_z_iphonea_9": ("nps", 9, "pl", "9", "iPhone", None),
    "iphone_en_two_days_7": ("nps", 7, "en", "2 days", "Sent from", None),
    "outlook_en_nps_10_signature": ("nps", 10, "en", "great job", "Contoso", None),
    "outlook_ru_nps_6_signature": ("nps", 6, "ru", "быстрее", "495", None),
    "outlook_pl_signature_only": ("nps", None, "pl", "", "Kowalski", "no_score"),
    "outlook_en_original_message_5": ("csat", 5, "en", "5", "Original Message", None),
    "outlook_ru_iskhodnoe_soobshchenie_4": ("csat", 4, "ru", "хорошо", "Исходное", None),
    "outlook_pl_wiadomosc_oryginalna_3": ("csat", 3, "pl", "średnio", "oryginalna", None),
    "outlook_ru_cp1251_8": ("nps", 8, "ru", "спасибо", "уважением", None),
    "outlook_web_en_csat_5_html_only": ("csat", 5, "en", "excellent support", "Sent:", None),
    "outlook_web_ru_7": ("nps", 7, "ru", "долго ждали", "Отправлено", None),
    "outlook_web_pl_thumbs_dobrze": ("thumbs", 1, "pl", "Dobrze", "Wysłano", None),
    "thunderbird_pl_bottom_posted_8": ("nps", 8, "pl", "sprawna", "pisze", None),
    "thunderbird_en_top_posted_3": ("csat", 3, "en", "3", "Tom", None),
    "thunderbird_ru_bottom_posted_9": ("nps", 9, "ru", "спасибо", "пишет", None),
    "yandex_ru_koi8r_4": ("csat", 4, "ru", "всё хорошо", "Яндекс", None),
    "yandex_ru_thumbs_plus": ("thumbs", 1, "ru", "+", "Яндекс", None),
    "mailru_ru_cp1251_plokho": ("csat", 2, "ru", "перезвонил", "Понедельник", None),
    "mailru_ru_mobile_10": ("nps", 10, "ru", "10", "Mail.ru", None),
    "android_en_outlook_for_android_9": ("nps", 9, "en", "9", "Outlook", None),
    "android_ru_galaxy_8": ("nps", 8, "ru", "нормально", "Galaxy", None),
    # A number taken back is not a candidate; a negated word turns around.
    "gmail_en_not_5_more_like_3": ("csat", 3, "en", "more like 3", "wrote", None),
    "outlook_en_8_not_10_signoff_thanks": ("nps", 8, "en", "not 10", "John", None),
    "thunderbird_pl_nie_5_tylko_3": ("csat", 3, "pl", "tylko 3", "pisze", None),
    "mailru_ru_ne_5_a_3": ("csat", 3, "ru", "а 3", "Понедельник", None),
    "yandex_ru_ne_ochen_horosho": ("csat", 2, "ru", "Не очень хорошо", "Яндекс", None),
    "gmail_pl_niezbyt_dobrze": ("csat", 2, "pl", "Niezbyt dobrze", "napisał", None),
    "apple_mail_en_thumbs_not_good": ("thumbs", 0, "en", "Not good", "wrote", None),
    "gmail_ru_ne_ploho_spasibo_signoff": ("csat", 4, "ru", "Не плохо", "Иван", None),
    # More clients; scores spelled out; number words that are not a score.
    "proton_en_8_sent_with_proton": ("nps", 8, "en", "friendly", "Proton", None),
    "yahoo_en_3_quote_unmarked": ("csat", 3, "en", "second agent", "recommend", None),
    "gmail_en_spelled_a_ten": ("nps", 10, "en", "Anna fixed", "wrote", None),
    "mailru_ru_spelled_pyaterka": ("csat", 5, "ru", "всё быстро", "Понедельник", None),
    "thunderbird_pl_spelled_dziewiec_na_dziesiec": ("nps", 9, "pl", "konkretnie", "pisze", None),
    "outlook_en_two_agents_no_score": ("nps", None, "en", "Two agents", "From:", "no_score"),
}


@pytest.mark.parametrize("name", sorted(REPLIES))
def test_reply_fixture(name: str) -> None:
    survey, score, language, present, absent, error = REPLIES[name]
    result = parse(load(f"replies/{name}.eml"), SURVEYS[survey], file=name)
    assert result["kind"] == "reply"
    assert result["score"] == score, result
    assert result["language"] == language
    assert present in result["visible_text"]
    assert absent not in result["visible_text"]
    if error is None:
        assert result["error"] is None
        assert result["answers"] == (
            {"thumbs": "good" if score else "bad"} if survey == "thumbs" else {"score": str(score)}
        )
    else:
        assert (result["error"] or "").startswith(error)
        assert result["answers"] == {}
    assert result["request_token"] and len(result["request_token"]) == 32


# Replies to the two-question form: labels in the client's words, bare option labels, or
# "question? answer" lines; the rest is the comment.
FORM_REPLIES = {
    "gmail_ru_form_reply_lines": ({"speed": "slow", "work": "bad"}, "Никто не ответил вовремя"),
    "outlook_ru_form_reply_translated": ({"speed": "slow", "work": "bad"}, "Никто не перезвонил"),
    "thunderbird_pl_form_reply_values_only": (
        {"speed": "slow", "work": "very_bad"}, "Nikt nie oddzwonił"),
    "gmail_en_form_reply_question_answer": ({"speed": "fast", "work": "excellent"}, None),
}  # fmt: skip


def test_every_reply_fixture_is_in_a_table() -> None:
    names = {n.split("/")[1].removesuffix(".eml") for n in all_fixtures("replies")}
    assert names == set(REPLIES) | set(FORM_REPLIES)


@pytest.mark.parametrize("name", sorted(FORM_REPLIES))
def test_reply_answers_a_form_survey(name: str) -> None:
    answers, comment = FORM_REPLIES[name]
    result = parse(load(f"replies/{name}.eml"), SURVEYS["service_quality"])
    assert result["answers"] == answers and result["error"] is None
    if comment is not None:
        assert result["comment"] == comment


def test_comment_keeps_words_that_carry_the_score() -> None:
    """A score said in words, or corrected, is only understood whole; a signature never is."""
    words = parse(load("replies/gmail_en_csat_excellent.eml"), SURVEYS["csat"])
    assert words["comment"] == "Excellent service"
    corrected = parse(load("replies/gmail_en_not_5_more_like_3.eml"), SURVEYS["csat"])
    assert corrected["comment"].startswith("Not 5, more like 3")
    signed = parse(load("replies/outlook_en_8_not_10_signoff_thanks.eml"), SURVEYS["nps"])
    assert "Thanks" not in signed["visible_text"] and "John" not in (signed["comment"] or "")


SPEED, WORK = "speed", "work"
FORMS = {
    "google_form_notification_service_quality_en_negative": (
        "google_form", "en", {SPEED: "slow", WORK: "bad"}, "Waited three days"),
    "google_form_notification_service_quality_ru_negative": (
        "google_form", "ru", {SPEED: "slow", WORK: "very_bad"}, "Ждал ответа"),
    "google_form_notification_service_quality_pl_negative": (
        "google_form", "pl", {SPEED: "slow", WORK: "bad"}, "Czekałem"),
    "google_form_respondent_copy_en": ("google_form", "en", {SPEED: "slow", WORK: "bad"}, "polite"),
    "google_form_respondent_copy_ru": (
        "google_form", "ru", {SPEED: "fast", WORK: "good"}, "быстро"),
    "google_form_respondent_copy_pl": (
        "google_form", "pl", {SPEED: "normal", WORK: "excellent"}, "dziękuję"),
    "google_form_addon_email_notifications_en": (
        "google_form", "en", {SPEED: "fast", WORK: "good"}, "Waited"),
    "google_form_addon_form_notifications_pl": (
        "google_form", "pl", {SPEED: "slow", WORK: "very_bad"}, "Czekałem"),
    "web_form_table_cf7_ru": ("web_form", "ru", {SPEED: "slow", WORK: "bad"}, "Долго ждал"),
    "web_form_table_wpforms_en": ("web_form", "en", {SPEED: "fast", WORK: "good"}, "Nice people"),
    "web_form_table_tilda_ru": (
        "web_form", "ru", {SPEED: "immediately", WORK: "excellent"}, "Всё супер"),
    "web_form_label_lines_cf7_en": (
        "web_form", "en", {SPEED: "slow", WORK: "very_bad"}, "Nobody called back."),
    "web_form_label_lines_webflow_pl": ("web_form", "pl", {SPEED: "fast", WORK: "good"}, "Miła"),
    "web_form_label_lines_cp1251_ru": (
        "web_form", "ru", {SPEED: "normal", WORK: "very_bad"}, "Не перезвонили"),
    "web_form_webflow_p_strong_en": (
        "web_form", "en", {SPEED: "immediately", WORK: "excellent"},
        "Great job, Dana!\nSee you next time."),
    "web_form_tilda_br_lines_ru": ("web_form", "ru", {SPEED: "fast", WORK: "excellent"}, "Спасибо"),
    "web_form_wix_auto_generated_en": (
        "web_form", "en", {SPEED: "fast", WORK: "very_bad"}, "never answered my emails."),
    "web_form_apps_script_next_line_pl": (
        "google_form", "pl", {SPEED: "fast", WORK: "good"}, "Wszystko sprawnie,\ndziękuję."),
    "web_form_bitrix_ruler_cp1251_ru": (
        "web_form", "ru", {SPEED: "slow", WORK: "bad"}, "Менеджер не перезвонил"),
}  # fmt: skip
# The layouts above must not leak a link's text into the comment ("View Submission").
COMMENT_ENDS = {"web_form_webflow_p_strong_en", "web_form_wix_auto_generated_en"}


@pytest.mark.parametrize("name", sorted(FORMS))
def test_form_fixture(name: str) -> None:
    kind, language, answers, comment = FORMS[name]
    result = parse(load(f"forms/{name}.eml"), SURVEYS["service_quality"])
    assert (result["kind"], result["language"]) == (kind, language)
    assert result["answers"] == answers
    assert comment in (result["comment"] or "")
    if name in COMMENT_ENDS:
        assert (result["comment"] or "").endswith(comment)
    assert result["error"] is None
    assert result["score"] is None


def token_of(name: str) -> str:
    """The token build_fixtures.py gave a fixture (sha256 of its name, base32)."""
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

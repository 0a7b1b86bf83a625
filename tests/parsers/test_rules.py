"""Each named rule alone: kinds, scores, quotes, tokens, language, charsets, forms, answers."""

from __future__ import annotations

import pytest

from parsers import answers, forms, html, kinds, language, mime, quotes, scores, tokens, words
from parsers.interpret import comment_without
from parsers.mime import Bodies
from tests.parsers.surveys import CSAT, NPS, SERVICE_QUALITY, THUMBS

TOKEN = "k5vdm3qxr7ag2nhbte4wyc6pfjzlu3os"


def evidence(headers: str = "", *, subject: str = "", fields=(), text="hi", **kw):
    msg = mime.parse_bytes(f"{headers}Subject: {subject}\n\n{text}".encode())
    return kinds.Evidence(
        msg=msg, subject=subject, from_header=mime.header(msg, "From"),
        bodies=kw.get("bodies", Bodies(text=text)), body_text=text, visible_text=text,
        form_fields=list(fields), in_reply_to=kw.get("in_reply_to"),
    )  # fmt: skip


# ------------------------------------------------------------------ kind rules


@pytest.mark.parametrize(
    ("rule", "headers", "subject", "hit"),
    [
        (kinds.AutoSubmitted(), "Auto-Submitted: auto-replied\n", "", True),
        (kinds.AutoSubmitted(), "Auto-Submitted: no\n", "", False),
        (kinds.AutoReplyHeaders(), "X-Autoreply: yes\n", "", True),
        (kinds.AutoReplyHeaders(), "X-Auto-Response-Suppress: OOF\n", "", True),
        (kinds.AutoReplyHeaders(), "X-Auto-Response-Suppress: DR\n", "", False),
        (kinds.BulkPrecedence(), "Precedence: junk\n", "", True),
        (kinds.BulkPrecedence(), "Precedence: list\n", "", False),
        (kinds.OutOfOfficeSubject(), "", "Автоматический ответ: Re: опрос", True),
        (kinds.OutOfOfficeSubject(), "", "Odpowiedź automatyczna", True),
        (kinds.OutOfOfficeSubject(), "", "Out of Office: survey", True),
        (kinds.OutOfOfficeSubject(), "", "Re: How did we do?", False),
        (kinds.OutOfOfficeSubject(), "", "Automatyczna odpowiedź: Ankieta", True),
        (kinds.OutOfOfficeSubject(), "", "Auto: How did we do?", True),
        (kinds.OutOfOfficeSubject(), "", "Re: Automation was great", False),
        (kinds.MailerDaemonBounce(), "From: mailer-daemon@yandex.ru\n", "Недоставленное сообщение",
         True),
        (kinds.MailerDaemonBounce(), "From: MAILER-DAEMON@mx.example\n", "Returned mail", True),
        (kinds.MailerDaemonBounce(), "From: ann@example.com\n", "Returned mail", False),
    ],
)
def test_kind_rule_alone(rule: kinds.Rule, headers: str, subject: str, hit: bool) -> None:
    assert bool(rule.check(evidence(headers, subject=subject))) is hit


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("Thank you for your email. I am currently on annual leave until 2 December.", True),
        ("Hi, I'm out of the office until Monday.", True),
        ("Здравствуйте! Я в отпуске до 1 декабря.", True),
        ("Dzień dobry, jestem na urlopie do 5 grudnia.", True),
        ("I was on vacation when the ticket closed, but 9 - great work", False),
        ("10, and sorry for the delay: I'm out of the office today", False),
        ("Здравствуйте. Я нахожусь в командировке до 14.01 с ограниченным доступом к почте.",
         True),
        ("Dzień dobry,\nuprzejmie informuję, że do 7 stycznia przebywam na urlopie.", True),
        ("Do 8.01 jestem nieobecny. W pilnych sprawach proszę pisać na biuro@firma.pl.", True),
        ("Thank you for your email. I'm travelling on business and will be back in the office "
         "on January 9.", True),
        ("Please note I am away until Monday 10 January with no access to email.", True),
        ("9! Wracam z urlopu jutro, dziękuję za pomoc", False),
        ("Когда я был в отпуске, вы всё сделали. 10", False),
    ],
)
def test_out_of_office_text_rule(text: str, hit: bool) -> None:
    assert bool(kinds.OutOfOfficeText().check(evidence(text=text))) is hit


def test_read_receipt_rule() -> None:
    raw = (b"Subject: Read: How did we do?\nContent-Type: multipart/report; "
           b'report-type=disposition-notification; boundary="b"\n\n--b\nContent-Type: '
           b"text/plain\n\nYour message was read on Monday.\n--b\nContent-Type: "
           b"message/disposition-notification\n\nDisposition: manual-action/MDN-sent-manually; "
           b"displayed\n--b--\n")
    msg = mime.parse_bytes(raw)
    assert kinds.ReadReceipt().check(kinds.Evidence(msg=msg, subject="Read: How did we do?"))
    assert kinds.ReadReceipt().check(evidence(subject="Прочитано: Как мы справились?"))
    assert not kinds.ReadReceipt().check(evidence(subject="Re: Reading your survey"))


def test_delivery_report_rule() -> None:
    raw = (b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
           b"--b\nContent-Type: text/plain\n\nfailed\n--b--\n")
    msg = mime.parse_bytes(raw)
    ev = kinds.Evidence(msg=msg, bodies=mime.collect_bodies(msg))
    assert kinds.DeliveryReport().check(ev)
    assert not kinds.DeliveryReport().check(evidence())


def test_google_form_rule_needs_google_sender_or_markers_with_answers() -> None:
    rule = kinds.GoogleFormResult()
    assert rule.check(evidence("From: Google Forms <forms-receipts-noreply@google.com>\n"))
    fields = [("Q", "A")]
    marked = evidence(text="see docs.google.com/forms/d/1/edit", fields=fields)
    assert rule.check(marked)
    assert not rule.check(evidence(text="see docs.google.com/forms/d/1/edit"))


def test_web_form_rule_refuses_replies() -> None:
    rule = kinds.WebFormResult()
    fields = [("Name", "Bob"), ("speed", "slow")]
    assert rule.check(evidence("From: no-reply@site.example\n", fields=fields))
    jotform = evidence("From: noreply@jotform.com\n", subject="Re: Survey", fields=fields)
    assert rule.check(jotform)
    assert not rule.check(evidence("From: bob@example.com\n", subject="Re: form", fields=fields))
    answered = evidence("From: no-reply@site.example\n", fields=fields, in_reply_to="<a@b>")
    assert not rule.check(answered)
    assert not rule.check(evidence("From: bob@example.com\n", subject="hello", fields=fields))


def test_chain_puts_machines_first() -> None:
    ev = evidence("Auto-Submitted: auto-replied\n", subject="Out of office", text="9")
    assert kinds.classify(ev)[0] == "auto_reply"
    assert kinds.classify(evidence(text=""))[0] == "unknown"
    assert kinds.classify(evidence(text="9"))[0] == "reply"


# ------------------------------------------------------------------ score rules


@pytest.mark.parametrize(
    ("rule", "text", "values"),
    [
        (scores.Keycaps(), "1\ufe0f\u20e3 and \U0001f51f", [1, 10]),
        (scores.Stars(), "★★★☆☆", [3]),
        (scores.OutOf(), "9/10, 4 из 5, 6 na 10, 7 out of 10", [9, 4, 6, 7]),
        (scores.OutOf(), "12/11/2026", []),
        (scores.DecimalScore(), "8.5", [8, 9]),
        (scores.BareNumber(), "оценка 4, ocena: 5, 10!", [4, 5, 10]),
    ],
)
def test_score_rule_alone(rule: scores.ScoreRule, text: str, values: list[int]) -> None:
    found, _ = rule.find(text, NPS)
    assert [c.value for c in found] == values


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("Wracam 2 grudnia.", None),
        ("Вернусь 1 декабря", None),
        ("Back on December 1st. 8", 8),
        ("9, see you on 5 May", 9),
        ("10 may be too generous, but yes", 10),
    ],
)
def test_dates_in_words_are_not_scores(text: str, score: int | None) -> None:
    assert scores.read_score(text, NPS).score == score


def test_noise_rule_masks_numbers_that_are_not_scores() -> None:
    text = "#12345 on 12.11.2026 at 10:15, call +48 601 234 567, 2 days, 3 дня, 50%, 1999"
    _, masked = scores.Noise().find(text, NPS)
    assert not any(ch.isdigit() for ch in masked)


@pytest.mark.parametrize(
    ("text", "survey", "score", "error"),
    [
        ("9", NPS, 9, None),
        ("I'd give 8", NPS, 8, None),
        ("10!", NPS, 10, None),
        ("9 из 10", NPS, 9, None),
        ("ocena: 5", CSAT, 5, None),
        ("15", NPS, None, "out_of_scale: 15"),
        ("7", CSAT, None, "out_of_scale: 7"),
        ("3 or 4", CSAT, None, "ambiguous_score: 3 or 4"),
        ("8-9", NPS, None, "ambiguous_score: 8 or 9"),
        ("9 and again 9", NPS, 9, None),
        ("great", NPS, None, "no_score"),
        ("great", CSAT, 5, None),
        ("very bad", CSAT, 1, None),
        ("ужасно", CSAT, 1, None),
        ("średnio", CSAT, 3, None),
        ("good but terrible wait", CSAT, None, "ambiguous_score: 4 or 1"),
        ("👎", THUMBS, 0, None),
        ("да, хорошо", THUMBS, 1, None),
        ("no score here", THUMBS, None, "no_score"),
        ("-", THUMBS, 0, None),
        ("Zdecydowanie tak", NPS, 10, None),
        ("7", None, 7, None),
        ("👍", None, 1, None),
        ("great", None, None, "no_score"),
        ("4 and 5", None, None, "ambiguous_score: 4 or 5"),
        # a unit between the score and its scale
        ("5 баллов из 10", NPS, 5, None),
        ("Ставлю 8 баллов из 10", NPS, 8, None),
        ("9 points out of 10", NPS, 9, None),
        ("Oceniam na 8 punktów na 10", NPS, 8, None),
        ("11 out of 10!", NPS, 10, None),
        # numbers in the explanation that are not a second score
        ("9 - the engineer arrived at 8 am sharp, as promised.", NPS, 9, None),
        ("10. Please have Anna call me on extension 7 about the invoice.", NPS, 10, None),
        ("6 - I would give Anna 5 stars personally, but the process was slow.", NPS, 6, None),
        ("9. Last time I would have said 4, honestly", NPS, 9, None),
        # …while doubt, ranges and one number read two ways stay ambiguous
        ("9, maybe 10", NPS, None, "ambiguous_score: 9 or 10"),
        ("8 или 9", NPS, None, "ambiguous_score: 8 or 9"),
        ("7.5", NPS, None, "ambiguous_score: 7 or 8"),
        ("7, 8", NPS, None, "ambiguous_score: 7 or 8"),
        ("Last month I gave you a 4, but this time it's a 9.", NPS, None,
         "ambiguous_score: 4 or 9"),
        ("Твёрдая девятка", NPS, 9, None),
    ],
)
def test_read_score(text: str, survey, score: int | None, error: str | None) -> None:
    result = scores.read_score(text, survey)
    assert (result.score, result.error) == (score, error)


@pytest.mark.parametrize(
    ("text", "survey", "score"),
    [
        ("Ten!", NPS, 10),
        ("I'd give you a ten", NPS, 10),
        ("ten out of ten", NPS, 10),
        ("Zero. Terrible.", NPS, 0),
        ("восемь из десяти", NPS, 8),
        ("Ставлю девять", NPS, 9),
        ("на пятёрку", CSAT, 5),
        ("dziesięć!", NPS, 10),
        ("Daję czwórkę", CSAT, 4),
        ("five stars", CSAT, 5),
        ("семь баллов", NPS, 7),
        ("not five, more like three", CSAT, 3),
        ("One.", CSAT, 1),
        # words that are not ratings
        ("Zero problems, thank you", NPS, None),
        ("Two agents helped me", NPS, None),
        ("You were the only one who answered", NPS, None),
        ("It was a one-time issue", NPS, None),
        ("It took two days but fine", NPS, None),
        ("Number one support", NPS, None),
        # a written number wins; a number word never contradicts it
        ("9, two agents helped", NPS, 9),
    ],
)
def test_spelled_out_scores(text: str, survey, score: int | None) -> None:
    assert scores.read_score(text, survey).score == score


@pytest.mark.parametrize(
    ("text", "survey", "comment"),
    [
        ("Моя оценка - 7 баллов", NPS, None),
        ("Daję 7 punktów", NPS, None),
        ("Ocena: 4/5", CSAT, None),
        ("I'd give it a solid 9", NPS, None),
        ("ten - thank you Anna!", NPS, "thank you Anna"),
        ("Ставлю десять, всё быстро", NPS, "всё быстро"),
        ("Definitely a 10", NPS, None),
        ("mocne 8", NPS, None),
        ("Na 7.", NPS, None),
        ("Hi there,\n\nI'd rate you a 9.", NPS, "Hi there"),
    ],
)
def test_rating_phrases_are_not_the_comment(text: str, survey, comment: str | None) -> None:
    result = scores.read_score(text, survey)
    assert comment_without(text, result.spans) == comment


def test_words_longest_phrase_wins() -> None:
    assert [v for v, *_ in words.find_words("Очень плохо", CSAT)] == [1]
    assert [v for v, *_ in words.find_words("Bardzo dobrze", CSAT)] == [5]


# ------------------------------------------------------------------ quotes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9\n\nOn Mon, Nov 16, 2026 at 12:01 PM A <a@b.c> wrote:\n> old 3", "9"),
        ("9\n\nOn Mon, Nov 16, 2026 at 12:01 PM Name <a@b.c>\nwrote:\n\n> 3", "9"),
        ("8\n\nпн, 16 нояб. 2026 г. в 12:01, Name <a@b.c>:\n> 3", "8"),
        ("7\n\npon., 16 lis 2026 o 12:01 Name <a@b.c> napisał(a):\n> 3", "7"),
        ("6\n\nW dniu 12.11.2026 o 10:15, X pisze:\n> 3", "6"),
        ("5\n\n12.11.2026, 10:15, \"X\" <x@y.ru>:\n> 3", "5"),
        ("4\n\nСреда, 12 ноября 2026, 10:15 +03:00 от X <x@y.ru>:\n> 3", "4"),
        ("3\n-----Original Message-----\nFrom: a\n2", "3"),
        ("2\n\nОт: A\nОтправлено: вчера\nКому: B\nТема: x\n\n1", "2"),
        ("2\n\nOd: A\nWysłano: wczoraj\nDo: B\nTemat: x\n\n1", "2"),
        ("1\n________________________________\nFrom: a\nSent: b\n\n9", "1"),
        ("On 11/12/26 10:15, X wrote:\n> question 3\n\n8 below", "8 below"),
        ("10\n\nSent from my iPhone\n\n> old", "10"),
        ("10\n\nОтправлено из мобильной Почты Mail.ru", "10"),
        ("Good\n-- \nJohn\n+1 555 1234", "Good"),
        ("Ocena 5\n\nPozdrawiam\nJan", "Ocena 5"),
        ("Fwd below\n\n---------- Forwarded message ---------\nFrom: x\n9", "Fwd below"),
        ("Thanks, 9\nOn Mon, Nov 16, 2026 at 12:01 PM S <s@x.com> wrote:\n> 3", "Thanks, 9"),
        ("9 gut\n\nAm 20.11.2026 um 10:00 schrieb Acme <s@acme.example>:\n> 0-10", "9 gut"),
        ("10 merci\n\nLe ven. 20 nov. 2026 à 10:00, Acme <s@a.fr> a écrit :\n> 0", "10 merci"),
        ("8\n\nDe : Acme <a@b.c>\nEnvoyé : vendredi\nÀ : x@y.z\nObjet : 0-10\n", "8"),
        ("7\n\nVon: Acme <a@b.c>\nGesendet: Freitag\nAn: x@y.z\nBetreff: 0-10\n", "7"),
        ("9\n\nSent from my Verizon Wireless BlackBerry", "9"),
        ("8\n\nGet Outlook for iOS<https://aka.ms/o0ukef>", "8"),
        ("9\n\nSent from my desk, it is easier than my phone.",
         "9\n\nSent from my desk, it is easier than my phone."),
        ("8\n\nWysłane z aplikacji Poczta w systemie Windows", "8"),
        ("Great -- really\n\n-- \nrick", "Great -- really"),
        ("Keys below.\n\nOn Tue, Apr 5, 2011 at 11:00 AM, Some Person <s@p.com>wrote:\n\n> Hi",
         "Keys below."),
    ],
)
def test_visible_text(text: str, expected: str) -> None:
    assert quotes.visible_text(text) == expected


@pytest.mark.parametrize(
    ("html_body", "expected"),
    [
        ('<div dir="ltr">9</div><div class="gmail_quote"><div>On Mon A wrote:</div>'
         "<blockquote>0-10</blockquote></div>", "9"),
        ('<p>8 great</p><div style="border:none;border-top:solid #E1E1E1 1.0pt"><p><b>From:</b>'
         " Acme</p><p><b>Sent:</b> Fri</p></div><p>How likely, 0-10? 3</p>", "8 great"),
        ('<div>7</div><div style="border-top: 1pt solid rgb(225,225,225)"><b>Von:</b> Acme'
         "<br><b>Gesendet:</b> Freitag</div><div>0-10</div>", "7"),
        ('<div>6</div><div class="protonmail_quote">On Fri wrote:<blockquote>3</blockquote></div>',
         "6"),
        ('<div>5 ok</div><div id="mail-editor-reference-message-container"><b>From:</b> A'
         "<div>0-10</div></div>", "5 ok"),
        ("<div>10</div><blockquote type=\"cite\">On 20 Nov, A wrote: 2</blockquote>", "10"),
        # Word puts the reply and the From/Sent block in one WordSection1 div
        ('<div class="WordSection1"><p class="MsoNormal">10</p><p class="MsoNormal">Ann</p>'
         '<div style="border:none;border-top:solid #E1E1E1 1.0pt"><p><b>From:</b> Acme</p>'
         "<p><b>Sent:</b> Fri</p></div><p>How likely, 0-10?</p></div>", "10\n\nAnn"),
    ],
)
def test_visible_html_text(html_body: str, expected: str) -> None:
    assert html.visible_html_text(html_body) == expected


# ------------------------------------------------------------------ tokens, language, mime


def test_token_candidates() -> None:
    assert tokens.plus_token([f"Survey+{TOKEN.upper()}@reply.localhost"]) == TOKEN
    assert tokens.plus_token(["plain@reply.localhost"]) is None
    other = "a" * 32
    text = (f"x http://h/u/{other} y http://h/r/{TOKEN}?a=9\nentry.123={TOKEN}\n"
            f"Ref: {TOKEN}\nhttp://h/r/{TOKEN}x")
    assert tokens.body_tokens([text]) == [TOKEN, other]
    assert tokens.body_tokens(["/r/" + "a" * 31]) == []
    # a labelled token first; any field holding only a token-shaped value after it
    assert tokens.field_tokens([("Name", "b" * 32), ("Ref", TOKEN)]) == [TOKEN, "b" * 32]
    assert tokens.body_tokens([f"Identyfikator\n{TOKEN}\n"]) == [TOKEN]


@pytest.mark.parametrize(
    ("text", "lang"),
    [("Спасибо, всё отлично", "ru"), ("Dziękuję, było świetnie", "pl"),
     ("Bardzo dobrze, ocena 5", "pl"), ("Great job, thanks", "en"), ("10", None),
     ("9 http://example.com/very/long/latin/path", None), ("Osiem", "pl"), ("zero", None),
     ("mocne 8", "pl"), ("Na 7.", "pl")],
)  # fmt: skip
def test_language(text: str, lang: str | None) -> None:
    assert language.detect(text) == lang


@pytest.mark.parametrize(
    ("data", "charset", "expected"),
    [
        ("привет мир".encode("koi8-r"), "koi8-r", "привет мир"),
        ("привет мир".encode("cp1251"), "koi8-r", "привет мир"),  # mislabelled
        ("привет мир".encode("koi8-r"), "windows-1251", "привет мир"),  # mislabelled
        ("привет мир".encode(), "iso-8859-1", "привет мир"),
        ("zażółć gęślą".encode("iso-8859-2"), "iso-8859-2", "zażółć gęślą"),
        ("zażółć gęślą".encode("iso-8859-2"), "x-unknown", "zażółć gęślą"),
        ("привет".encode("cp1251"), None, "привет"),
    ],
)
def test_decode_bytes(data: bytes, charset: str | None, expected: str) -> None:
    assert mime.decode_bytes(data, charset) == expected


def test_header_decoding_survives_bad_encoded_words() -> None:
    msg = mime.parse_bytes(b"Subject: =?utf-8?B?0J/RgNC40LLQtdGC?= =?bogus?Q?x?=\n\n")
    assert mime.header(msg, "Subject").startswith("Привет")


# ------------------------------------------------------------------ forms and answers


def test_text_fields() -> None:
    text = "Name: Bob\nhttp://example.com\nComment:\nToo slow\nNobody called\n\nTime 10:15"
    assert forms.text_fields(text) == [("Name", "Bob"), ("Comment", "Too slow\nNobody called")]
    # a question over its answer, a label over a ruler (1C-Bitrix), an empty field
    text = "Jak szybko?\nSzybko\n\nPraca menedżera\n*****\nDobrze\nUwagi: (Empty)"
    assert forms.text_fields(text) == [
        ("Jak szybko?", "Szybko"), ("Praca menedżera", "Dobrze"), ("Uwagi", "(Empty)")]
    assert answers.comment_field(forms.text_fields(text)) is None


def test_html_fields_checked_option_wins() -> None:
    html = ('<div role="heading">Speed</div><div role="radio" aria-checked="false">Fast</div>'
            '<div role="radio" aria-checked="true">Slow</div>')
    assert forms.html_fields(html) == [("Speed", "Slow")]


def test_answer_mapping_any_locale() -> None:
    fields = [("1. Как быстро была обработана ваша заявка? *", "Медленно"),
              ("How do you rate the manager", "Very bad"), ("Unrelated", "x"),
              ("speed", "fast")]  # fmt: skip
    assert answers.map_fields(fields, SERVICE_QUALITY) == {"speed": "slow", "work": "very_bad"}
    assert answers.match_option("very_bad", SERVICE_QUALITY.questions[1]) == "very_bad"
    assert answers.is_comment_label("Ваш комментарий")
    assert answers.comment_field([("Additional comments", " ok "), ("Name", "x")]) == "ok"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It was fast and the manager did an excellent job.",
         {"speed": "fast", "work": "excellent"}),
        ("Всё было быстро, менеджер сработал отлично.", {"speed": "fast", "work": "excellent"}),
        ("Good afternoon, it was slow and the manager was bad at explaining.",
         {"speed": "slow", "work": "bad"}),
        ("Wolno, a praca menedżera bardzo źle.", {"speed": "slow", "work": "very_bad"}),
        ("Good afternoon, it was slow.", {}),  # the greeting is no answer about the manager
        ("Not fast at all, but the manager was good.", {}),  # taken back: no guess
        ("Fast, then slow; the manager was good.", {}),  # two speeds: no guess
    ],
)
def test_answers_said_in_a_sentence(text: str, expected: dict[str, str]) -> None:
    assert answers.sentence_answers(text, SERVICE_QUALITY) == expected

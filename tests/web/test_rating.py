"""The one-click rating page over plain HTTP: what a link scanner, a person and an attacker see."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from mailflow.tokens import Purpose, Signer
from mailflow.web.csrf import form_field
from storage.engine import session_scope
from storage.models import AnalyticsRow, Comment, Response, SurveyRequest

from .conftest import served_site, serving


def responses(site):
    with session_scope(site.engine) as session:
        return list(session.exec(select(Response)))


def post_answer(client, site, token, **fields):
    data = {"csrf": form_field(site.settings, token, "link"), **fields}
    return client.post(f"/r/{token}", data=data)


def test_get_shows_whole_scale_preselected_and_records_nothing(client, site):
    request_id = site.request("csat")
    token = site.token(request_id)
    for _ in range(3):  # a scanner may fetch the link several times
        page = client.get(f"/r/{token}?a=4")
        assert page.status_code == 200
    html = page.text
    assert re.search(r'value="4" required checked', html)
    assert all(f'value="{n}"' in html for n in "12345")
    assert 'name="comment"' in html and 'id="send-answer"' in html
    assert "Very satisfied" in html  # csat labels each answer
    assert "submit.call(" in html  # a person's browser submits the click at once
    assert responses(site) == []
    with session_scope(site.engine) as session:
        assert session.get(SurveyRequest, request_id).state == "sent"


def test_head_and_get_without_answer_record_nothing(client, site):
    token = site.token(site.request("nps"))
    assert client.head(f"/r/{token}?a=9").status_code in (200, 405)
    page = client.get(f"/r/{token}")
    assert page.status_code == 200 and "required checked" not in page.text
    assert "submit.call" not in page.text  # nothing chosen, nothing to submit
    assert responses(site) == []


def test_post_records_through_record_answer_and_thanks(client, site):
    request_id = site.request("csat")
    token = site.token(request_id)
    page = post_answer(client, site, token, a="5", comment="Quick and friendly")
    assert page.status_code == 200
    assert "Thank you for your feedback!" in page.text  # the survey's own thank_you text
    assert 'id="apology"' not in page.text
    assert "Quick and friendly" in page.text
    [response] = responses(site)
    assert (response.score, response.comment, response.source) == (5, "Quick and friendly", "link")
    with session_scope(site.engine) as session:
        fields = {row.field for row in session.exec(select(AnalyticsRow))}
        assert {"score", "comment", "source"} <= fields
        [comment] = session.exec(select(Comment)).all()
        assert "Quick and friendly" in comment.body
        assert session.get(SurveyRequest, request_id).state == "answered"


def test_negative_answer_gets_the_apology_in_the_clients_language(client, site):
    token = site.token(site.request("csat", locale="ru"))
    page = post_answer(client, site, token, a="1")
    assert page.status_code == 200
    assert "Спасибо за ваш отзыв!" in page.text
    assert "Нам жаль, что мы вас подвели" in page.text
    assert '<html lang="ru">' in page.text
    assert responses(site)[0].negative


def test_default_texts_when_the_survey_has_none(client, site):
    token = site.token(site.request("nps", locale="pl"))
    page = post_answer(client, site, token, a="2")
    assert "Dziękujemy za opinię!" in page.text
    assert "Przykro nam, że nie spełniliśmy" in page.text


def test_answer_can_be_replaced_and_commented_within_the_edit_window(client, site):
    token = site.token(site.request("csat"))
    post_answer(client, site, token, a="5")
    page = post_answer(client, site, token, a="5", comment="Added later")
    assert page.status_code == 200 and "Added later" in page.text
    post_answer(client, site, token, a="3")
    [response] = responses(site)
    assert response.score == 3


def test_comment_is_escaped_on_output(client, site):
    token = site.token(site.request("csat"))
    page = post_answer(client, site, token, a="4", comment="<script>alert('x')</script>")
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert" in page.text


def test_too_long_comment_is_refused_and_nothing_recorded(client, site):
    token = site.token(site.request("csat"))
    limit = site.settings.web.comment_max_length
    page = post_answer(client, site, token, a="4", comment="x" * (limit + 1))
    assert page.status_code == 400
    assert f"at most {limit} characters" in page.text
    assert responses(site) == []


def test_missing_or_off_scale_answer_asks_again(client, site):
    token = site.token(site.request("csat"))
    assert post_answer(client, site, token).status_code == 400
    page = post_answer(client, site, token, a="11")
    assert page.status_code == 400 and "Please choose an answer." in page.text
    assert responses(site) == []


def test_post_without_the_pages_form_field_is_refused(client, site):
    token = site.token(site.request("csat"))
    assert client.post(f"/r/{token}", data={"a": "5"}).status_code == 403
    other = site.token(site.request("csat"))
    forged = {"a": "5", "csrf": form_field(site.settings, other, "link")}
    assert client.post(f"/r/{token}", data=forged).status_code == 403
    assert responses(site) == []


@pytest.mark.parametrize("method", ["get", "post"])
def test_tampered_unknown_or_wrong_purpose_token_is_a_404_page(client, site, method):
    request_id = site.request("csat")
    token = site.token(request_id)
    tampered = token[:-1] + ("a" if token[-1] != "a" else "b")
    unknown = site.token(10_000)
    amp = site.token(request_id, Purpose.AMP)
    foreign = Signer(["someone-else's-key-0123456789abcdef"]).sign(request_id, Purpose.LINK)
    for bad in (tampered, unknown, amp, foreign, "short", "x" * 200):
        url = f"/r/{bad}?a=5"
        page = client.get(url) if method == "get" else client.post(url, data={"a": "5"})
        assert page.status_code in (403, 404), bad
        assert "Traceback" not in page.text
        if page.status_code == 404:
            assert "This link is not valid" in page.text
    assert responses(site) == []


def test_unsent_request_is_not_answerable(client, site):
    token = site.token(site.request("csat", state="suppressed"))
    assert client.get(f"/r/{token}?a=5").status_code == 404
    assert post_answer(client, site, token, a="5").status_code == 404


def test_expired_link_is_a_410_page_in_the_clients_language(client, site):
    token = site.token(site.request("csat", locale="ru", expires_in=timedelta(days=-1)))
    page = client.get(f"/r/{token}?a=5")
    assert page.status_code == 410
    assert "Опрос закрыт" in page.text
    assert post_answer(client, site, token, a="5").status_code == 410
    assert responses(site) == []


def test_forbid_change_first_answer_is_final(client, site):
    token = site.token(site.request("thumbs"))
    page = client.get(f"/r/{token}?a=good")
    assert "submit.call" not in page.text  # final answers are submitted by the person
    assert post_answer(client, site, token, a="good").status_code == 200
    second = post_answer(client, site, token, a="bad", comment="changed my mind")
    assert second.status_code == 409
    assert "Already answered" in second.text and "Good" in second.text
    again = client.get(f"/r/{token}?a=bad")
    assert again.status_code == 200 and "Already answered" in again.text
    assert 'id="rating-form"' not in again.text
    [response] = responses(site)
    assert response.answers == {"thumbs": "good"} and response.comment is None


def test_form_survey_preselects_and_records_question_answers(client, site):
    token = site.token(site.request("service_quality"))
    page = client.get(f"/r/{token}?speed=slow")
    assert re.search(r'name="speed" value="slow" required checked', page.text)
    assert "submit.call" not in page.text  # the other question still needs an answer
    assert "How do you rate the manager" in page.text
    result = post_answer(client, site, token, speed="slow", work="bad", comment="late")
    assert result.status_code == 200
    [response] = responses(site)
    assert response.answers == {"speed": "slow", "work": "bad"} and response.negative


def test_posts_are_rate_limited_per_address(tmp_path, monkeypatch):
    site = served_site(tmp_path, monkeypatch, WEB__RATE_LIMIT_PER_MINUTE="3")
    with serving(site) as url, httpx.Client(base_url=url) as c:
        token = site.token(site.request("csat"))
        codes = [post_answer(c, site, token, a="4").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = post_answer(c, site, token, a="4")
        assert "Too many attempts" in limited.text and int(limited.headers["retry-after"]) >= 1
        assert c.get(f"/r/{token}").status_code == 200  # reading is not limited
    site.engine.dispose()


def test_unknown_page_is_a_branded_404(client):
    page = client.get("/nothing/here", headers={"accept-language": "pl-PL,pl;q=0.9"})
    assert page.status_code == 404
    assert "Nie znaleziono strony" in page.text


def test_pages_send_no_referrer_and_a_strict_csp(client, site):
    page = client.get(f"/r/{site.token(site.request('csat'))}?a=4")
    assert page.headers["referrer-policy"] == "no-referrer"
    nonce = re.search(r"script-src 'nonce-([^']+)'", page.headers["content-security-policy"])
    assert nonce and f'nonce="{nonce.group(1)}"' in page.text
    assert "set-cookie" not in page.headers


@pytest.mark.pg
def test_answers_and_refusals_on_postgresql(tmp_path, monkeypatch, pg_schema_url):
    # Group commit runs in a worker thread on PostgreSQL; the same rules hold.
    site = served_site(tmp_path, monkeypatch, DATABASE_URL=pg_schema_url())
    with serving(site) as url, httpx.Client(base_url=url) as c:
        token = site.token(site.request("thumbs"))
        assert c.get(f"/r/{token}?a=bad").status_code == 200
        assert responses(site) == []
        assert post_answer(c, site, token, a="bad", comment="rude").status_code == 200
        assert post_answer(c, site, token, a="good").status_code == 409
        [response] = responses(site)
        assert response.answers == {"thumbs": "bad"} and response.negative
    site.engine.dispose()

"""Reasons after a bad rating on the rating page: the question appears under a bad score at
once when scripts run, comes as a second step when they don't, and lands in the database, on
the ticket's comment and in the staff's breakdown page."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from mailflow.web.csrf import form_field
from storage.engine import session_scope
from storage.models import AnswerReason, Comment, Response

browser = pytest.mark.browser


def reasons(site):
    with session_scope(site.engine) as session:
        return [(r.followup, r.option, r.text) for r in session.exec(select(AnswerReason))]


def post(client, site, token, **fields):
    data = {"csrf": form_field(site.settings, token, "link"), **fields}
    return client.post(f"/r/{token}", data=data)


def test_without_scripts_the_reason_is_a_second_step(client, site):
    token = site.token(site.request("csat"))
    page = client.get(f"/r/{token}?a=2")
    # The question is on the page, hidden until a script sees a bad score.
    assert re.search(
        r'<fieldset class="field reason" id="reason-what_went_wrong"[^>]* hidden', page.text
    )
    thanks = post(client, site, token, a="2")
    assert thanks.status_code == 200
    assert "What went wrong?" in thanks.text and 'value="rude"' in thanks.text
    assert reasons(site) == []
    done = post(client, site, token, a="2", **{"reason.what_went_wrong": "rude"})
    assert done.status_code == 200
    assert reasons(site) == [("what_went_wrong", "rude", None)]
    assert "Rude staff" in done.text  # shown back as answered
    with session_scope(site.engine) as session:
        [comment] = session.exec(select(Comment)).all()
        assert "What went wrong? Rude staff" in comment.body


def test_good_score_asks_nothing_and_a_stale_hidden_reason_is_dropped(client, site):
    token = site.token(site.request("csat"))
    thanks = post(client, site, token, a="5", **{"reason.what_went_wrong": "slow"})
    assert thanks.status_code == 200 and "What went wrong?" not in thanks.text
    assert reasons(site) == []


def test_other_with_text_and_unknown_option(client, site):
    token = site.token(site.request("csat", locale="ru"))
    bad = post(client, site, token, a="1", **{"reason.what_went_wrong": "weather"})
    assert bad.status_code == 400 and "Traceback" not in bad.text
    ok = post(
        client,
        site,
        token,
        a="1",
        **{"reason.what_went_wrong": "other", "reason_text.what_went_wrong": "Курьер <опоздал>"},
    )
    assert ok.status_code == 200
    assert reasons(site) == [("what_went_wrong", "other", "Курьер <опоздал>")]
    assert "Другое: Курьер &lt;опоздал&gt;" in ok.text


def test_forbid_change_still_takes_the_reason_once(tmp_path, monkeypatch):
    from .conftest import served_site, serving

    site = served_site(tmp_path, monkeypatch)
    object.__setattr__(site.settings.survey("csat"), "forbid_change", True)
    import httpx

    with serving(site), httpx.Client(base_url=site.settings.web.base_url) as client:
        token = site.token(site.request("csat"))
        thanks = post(client, site, token, a="1", comment="late")
        assert 'name="step" value="reasons"' in thanks.text
        step = {"step": "reasons", "reason.what_went_wrong": "slow"}
        assert post(client, site, token, **step).status_code == 200
        assert reasons(site) == [("what_went_wrong", "slow", None)]
        again = post(client, site, token, **{**step, "reason.what_went_wrong": "rude"})
        assert again.status_code == 409  # the answer is final: its reason too
        assert reasons(site) == [("what_went_wrong", "slow", None)]
        empty = post(client, site, token, step="reasons")
        assert empty.status_code in (400, 409) and "Traceback" not in empty.text
    site.engine.dispose()


@browser
def test_reason_appears_without_reload_and_is_sent_with_the_answer(page, site):
    token = site.token(site.request("csat"))
    page.goto(f"{site.settings.web.base_url}/r/{token}")
    assert not page.is_visible("#reason-what_went_wrong")
    page.click("label.choice:has(input[value='4'])")
    assert not page.is_visible("#reason-what_went_wrong")
    page.evaluate("window.__same_page = true")
    page.click("label.choice:has(input[value='2'])")
    page.wait_for_selector("#reason-what_went_wrong", state="visible")
    assert page.evaluate("window.__same_page") is True  # no reload
    page.click("#reason-what_went_wrong label.pick:has-text('Slow response')")
    page.fill("#comment", "two days")
    page.click("#send-answer")
    page.wait_for_selector("#thank-you")
    assert reasons(site) == [("what_went_wrong", "slow", None)]
    with session_scope(site.engine) as session:
        [response] = session.exec(select(Response)).all()
        assert (response.score, response.comment, response.negative) == (2, "two days", True)


@browser
def test_clicked_bad_score_is_recorded_at_once_and_the_reason_follows(page, site):
    token = site.token(site.request("csat", locale="pl"))
    page.goto(f"{site.settings.web.base_url}/r/{token}?a=1")
    page.wait_for_selector("#thank-you")  # the click counts at once
    with session_scope(site.engine) as session:
        [response] = session.exec(select(Response)).all()
        assert response.score == 1
    assert reasons(site) == []
    assert "Co poszło nie tak?" in page.text_content("#reason-what_went_wrong")
    page.click("#reason-what_went_wrong label.pick:has-text('Nieuprzejma obsługa')")
    page.click("#send-comment")
    page.wait_for_selector("#thank-you")
    assert reasons(site) == [("what_went_wrong", "rude", None)]
    assert "Nieuprzejma obsługa" in page.text_content(".given-reason")


def test_amp_form_sends_the_reason(client, site):
    from mailflow.tokens import Purpose

    request_id = site.request("csat")
    token = site.token(request_id, Purpose.AMP)
    reply = client.post(
        f"/amp/{token}",
        headers={"AMP-Email-Sender": "support@example.com"},
        data={"a": "1", "reason.what_went_wrong": "not_solved", "comment": ""},
    )
    assert reply.status_code == 200, reply.text
    assert reasons(site) == [("what_went_wrong", "not_solved", None)]
    bad = client.post(
        f"/amp/{site.token(site.request('csat'), Purpose.AMP)}",
        headers={"AMP-Email-Sender": "support@example.com"},
        data={"a": "1", "reason.what_went_wrong": "nonsense"},
    )
    assert bad.status_code == 400 and "error" in bad.json()


@pytest.mark.amp
@pytest.mark.parametrize("locale", ["en", "ru", "pl"])
def test_amp_form_with_reasons_is_valid_amp(tmp_path, monkeypatch, amp_validator, locale):
    from mailflow.render import Recipient, Renderer
    from mailflow.settings import load_settings

    from .conftest import write_config

    monkeypatch.setenv("MAILFLOW_WEB__BASE_URL", "https://surveys.example.com")
    settings = load_settings(write_config(tmp_path))
    for key in ("csat", "nps"):
        amp = Renderer(settings).parts(settings.survey(key), locale, Recipient(3, "a@x.org"))["amp"]
        assert "amp-selector" in amp and "[hidden]=" in amp and "AMP.setState" in amp
        ok, output = amp_validator(amp)
        assert ok, output


def test_breakdown_per_survey_and_employee(tmp_path, monkeypatch):
    from sqlmodel import Session

    from mailflow.answers import Answer, record_answer
    from storage.models import Employee, SurveyRequest
    from tests.escalation.webapp import signed_in

    from .conftest import served_site, serving

    site = served_site(tmp_path, monkeypatch)
    with session_scope(site.engine) as session:
        anna, piotr = Employee(name="Anna Agent"), Employee(name="Piotr Agent")
        session.add_all([anna, piotr])
        session.flush()
        ids = (anna.id, piotr.id)
    given = [(ids[0], "rude"), (ids[0], "rude"), (ids[0], "slow"), (ids[1], "slow")]
    for employee_id, option in given:
        request_id = site.request("csat")
        with Session(site.engine) as session:
            request = session.get(SurveyRequest, request_id)
            request.employee_id = employee_id
            session.add(request)
            session.flush()
            answer = Answer(score=1, reasons={"what_went_wrong": option})
            record_answer(session, site.settings, request, answer, "link")
            session.commit()
    with serving(site):
        client = signed_in(site.engine, site.settings.web.base_url, locale="ru")
        try:
            page = client.get("/admin/reasons")
        finally:
            client.close()
    site.engine.dispose()
    assert page.status_code == 200
    by_survey = page.text.split('id="by-survey"')[1].split("</table>")[0]
    assert re.search(r"Долгий ответ</strong></td><td>2</td>.*?50%", by_survey, re.S)
    assert re.search(r"Грубый персонал</strong></td><td>2</td>", by_survey)
    by_employee = page.text.split('id="by-employee"')[1]
    assert re.search(
        r"Anna Agent</td><td>.*?Грубый персонал</strong></td><td>2</td>.*?67%", by_employee, re.S
    )
    assert re.search(
        r"Piotr Agent</td><td>.*?Долгий ответ</strong></td><td>1</td>.*?100%", by_employee, re.S
    )


def test_breakdown_needs_sign_in(client):
    assert client.get("/admin/reasons").status_code in (302, 303, 401)

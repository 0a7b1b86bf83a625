"""Unsubscribe: a page with a button, RFC 8058 One-Click POST, idempotent."""

from __future__ import annotations

from datetime import timedelta

from mailflow.tokens import Purpose
from mailflow.web.csrf import form_field
from storage.engine import session_scope
from storage.models import Contact, SurveyRequest

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def unsubscribed_at(site, request_id):
    with session_scope(site.engine) as session:
        request = session.get(SurveyRequest, request_id)
        return session.get(Contact, request.contact_id).unsubscribed_at


def test_get_shows_a_button_and_changes_nothing(client, site):
    request_id = site.request("csat", locale="ru")
    token = site.token(request_id, Purpose.UNSUBSCRIBE)
    page = client.get(f"/u/{token}")
    assert page.status_code == 200
    assert 'id="unsubscribe-button"' in page.text and "Отписаться" in page.text
    assert unsubscribed_at(site, request_id) is None


def test_one_click_post_unsubscribes_without_a_page_and_is_idempotent(client, site):
    request_id = site.request("csat")
    token = site.token(request_id, Purpose.UNSUBSCRIBE)
    first = client.post(f"/u/{token}", data=ONE_CLICK)
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/plain")
    when = unsubscribed_at(site, request_id)
    assert when is not None
    again = client.post(f"/u/{token}", data=ONE_CLICK)
    assert again.status_code == 200
    assert unsubscribed_at(site, request_id) == when
    page = client.get(f"/u/{token}")
    assert "You are unsubscribed" in page.text


def test_button_post_unsubscribes_and_confirms(client, site):
    request_id = site.request("nps", locale="pl")
    token = site.token(request_id, Purpose.UNSUBSCRIBE)
    refused = client.post(f"/u/{token}", data={})
    assert refused.status_code == 403 and unsubscribed_at(site, request_id) is None
    done = client.post(
        f"/u/{token}", data={"csrf": form_field(site.settings, token, "unsubscribe")}
    )
    assert done.status_code == 200 and "Wypisano Cię" in done.text
    assert unsubscribed_at(site, request_id) is not None


def test_works_after_the_survey_expired(client, site):
    request_id = site.request("csat", expires_in=timedelta(days=-30))
    token = site.token(request_id, Purpose.UNSUBSCRIBE)
    assert client.post(f"/u/{token}", data=ONE_CLICK).status_code == 200
    assert unsubscribed_at(site, request_id) is not None


def test_other_tokens_cannot_unsubscribe(client, site):
    request_id = site.request("csat")
    link = site.token(request_id, Purpose.LINK)
    assert client.post(f"/u/{link}", data=ONE_CLICK).status_code == 404
    assert client.get(f"/u/{link}").status_code == 404
    assert client.post("/u/not-a-token", data=ONE_CLICK).status_code == 404
    assert unsubscribed_at(site, request_id) is None


def test_unsubscribing_suppresses_the_contacts_unsent_surveys(client, site):
    """A survey still waiting for its delay shows as suppressed at once, with its reason."""
    request_id = site.request("csat")
    with session_scope(site.engine) as session:
        sent = session.get(SurveyRequest, request_id)
        waiting = SurveyRequest(
            survey_key="nps",
            dedupe_key="nps:later",
            contact_id=sent.contact_id,
            state="scheduled",
            due_at=sent.sent_at + timedelta(days=2),
        )
        session.add(waiting)
        session.flush()
        waiting_id = waiting.id
    token = site.token(request_id, Purpose.UNSUBSCRIBE)
    assert client.post(f"/u/{token}", data=ONE_CLICK).status_code == 200
    with session_scope(site.engine) as session:
        waiting = session.get(SurveyRequest, waiting_id)
        assert (waiting.state, waiting.reason) == ("suppressed", "contact unsubscribed")
        assert session.get(SurveyRequest, request_id).state == "sent"  # history stays

"""POST /amp/{token}: AMP for Email's CORS rules (v1 and v2) and JSON answers for the form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from amp_forms.cors import (
    MissingAmpHeaders,
    OriginNotAllowed,
    UnknownSender,
    amp_cors_headers,
    preflight_headers,
)
from mailflow.tokens import Purpose
from storage.engine import session_scope
from storage.models import Response

SENDER = "support@example.com"  # brand.sender_email of the example configuration
V2 = {"AMP-Email-Sender": SENDER}


def amp_url(site, request_id, **query):
    token = site.token(request_id, Purpose.AMP)
    suffix = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/amp/{token}" + (f"?{suffix}" if suffix else "")


def stored(site):
    with session_scope(site.engine) as session:
        return list(session.exec(select(Response)))


# --- the pure rules ------------------------------------------------------------------------------
def test_v2_allows_only_the_configured_sender_never_star():
    assert amp_cors_headers({"amp-email-sender": "Support@Example.com"}, {}, SENDER) == {
        "AMP-Email-Allow-Sender": SENDER
    }
    with pytest.raises(UnknownSender):
        amp_cors_headers({"AMP-Email-Sender": "evil@example.net"}, {}, SENDER)


def test_v1_echoes_a_known_origin_and_the_source_origin():
    headers = amp_cors_headers(
        {"Origin": "https://mail.google.com"}, {"__amp_source_origin": SENDER}, SENDER
    )
    assert headers["Access-Control-Allow-Origin"] == "https://mail.google.com"
    assert headers["AMP-Access-Control-Allow-Source-Origin"] == SENDER
    assert headers["Access-Control-Expose-Headers"] == "AMP-Access-Control-Allow-Source-Origin"
    with pytest.raises(OriginNotAllowed):
        amp_cors_headers(
            {"Origin": "https://evil.example"}, {"__amp_source_origin": SENDER}, SENDER
        )
    with pytest.raises(UnknownSender):
        amp_cors_headers(
            {"Origin": "https://e.mail.ru"}, {"__amp_source_origin": "x@evil.example"}, SENDER
        )
    with pytest.raises(MissingAmpHeaders):
        amp_cors_headers({}, {}, SENDER)


def test_origins_are_configurable_and_preflight_follows_them():
    custom = ["https://webmail.example.org"]
    ok = amp_cors_headers(
        {"Origin": custom[0]}, {"__amp_source_origin": SENDER}, SENDER, allowed_origins=custom
    )
    assert ok["Access-Control-Allow-Origin"] == custom[0]
    with pytest.raises(OriginNotAllowed):
        amp_cors_headers(
            {"Origin": "https://mail.google.com"}, {"__amp_source_origin": SENDER}, SENDER, custom
        )
    assert preflight_headers({"Origin": "https://mail.yahoo.com"})["Access-Control-Allow-Origin"]
    assert preflight_headers({"Origin": "https://evil.example"}) == {}


# --- the endpoint --------------------------------------------------------------------------------
def test_v2_request_records_and_returns_a_message(client, site):
    request_id = site.request("csat")
    reply = client.post(amp_url(site, request_id), headers=V2, data={"a": "5", "comment": "ok"})
    assert reply.status_code == 200
    assert reply.json() == {"message": "Thank you for your feedback!"}
    assert reply.headers["amp-email-allow-sender"] == SENDER
    assert "access-control-allow-origin" not in reply.headers
    assert "set-cookie" not in reply.headers
    [response] = stored(site)
    assert (response.score, response.comment, response.source) == (5, "ok", "amp")


def test_multipart_form_as_amp_sends_it(client, site):
    request_id = site.request("service_quality", locale="ru")
    reply = client.post(
        amp_url(site, request_id),
        headers=V2,
        files={"speed": (None, "slow"), "work": (None, "good"), "comment": (None, "")},
    )
    assert reply.status_code == 200
    assert "Нам жаль" in reply.json()["message"]  # negative: the apology in the client's language
    assert stored(site)[0].answers == {"speed": "slow", "work": "good"}


def test_v1_request_gets_the_v1_headers(client, site):
    request_id = site.request("nps")
    url = amp_url(site, request_id, __amp_source_origin=SENDER)
    reply = client.post(url, headers={"Origin": "https://mail.mail.ru"}, data={"a": "10"})
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == "https://mail.mail.ru"
    assert reply.headers["amp-access-control-allow-source-origin"] == SENDER
    assert (
        "AMP-Access-Control-Allow-Source-Origin" in reply.headers["access-control-expose-headers"]
    )
    assert stored(site)[0].score == 10


@pytest.mark.parametrize(
    "headers, query",
    [
        ({"AMP-Email-Sender": "attacker@example.net"}, {}),
        ({"Origin": "https://evil.example"}, {"__amp_source_origin": SENDER}),
        ({"Origin": "https://mail.google.com"}, {"__amp_source_origin": "attacker@example.net"}),
        ({}, {}),
    ],
)
def test_other_senders_and_origins_are_refused_with_403_json(client, site, headers, query):
    reply = client.post(
        amp_url(site, site.request("csat"), **query), headers=headers, data={"a": "5"}
    )
    assert reply.status_code == 403
    assert "error" in reply.json()
    assert "amp-email-allow-sender" not in reply.headers
    assert "access-control-allow-origin" not in reply.headers
    assert stored(site) == []


def test_errors_are_json_for_submit_error_with_cors_headers(client, site):
    request_id = site.request("csat")
    invalid = client.post(amp_url(site, request_id), headers=V2, data={"a": "0"})
    assert invalid.status_code == 400 and invalid.json()["error"] == "Please choose an answer."
    assert invalid.headers["amp-email-allow-sender"] == SENDER
    link_token = site.token(request_id, Purpose.LINK)  # a link token is not an AMP token
    wrong = client.post(f"/amp/{link_token}", headers=V2, data={"a": "5"})
    assert wrong.status_code == 404 and "error" in wrong.json()
    assert wrong.headers["amp-email-allow-sender"] == SENDER
    expired = site.request("csat", locale="pl", expires_in=timedelta(days=-1))
    gone = client.post(amp_url(site, expired), headers=V2, data={"a": "5"})
    assert gone.status_code == 410 and "Czas na odpowiedź" in gone.json()["error"]
    assert stored(site) == []


def test_same_rules_as_the_page_forbid_change(client, site):
    request_id = site.request("thumbs")
    first = client.post(amp_url(site, request_id), headers=V2, data={"a": "good"})
    assert first.status_code == 200
    second = client.post(amp_url(site, request_id), headers=V2, data={"a": "bad"})
    assert second.status_code == 409 and "already been answered" in second.json()["error"]
    assert stored(site)[0].answers == {"thumbs": "good"}


def test_no_redirects_for_anything(client, site):
    for path in (amp_url(site, site.request("csat")), "/amp/garbage"):
        reply = client.post(path, headers=V2, data={"a": "4"})
        assert reply.status_code < 300 or reply.status_code >= 400
        assert "location" not in reply.headers


def test_preflight_answers_known_clients(client, site):
    url = amp_url(site, site.request("csat"))
    ok = client.options(url, headers={"Origin": "https://outlook.live.com"})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == "https://outlook.live.com"
    assert client.options(url, headers={"Origin": "https://evil.example"}).status_code == 403


def test_configured_origins_replace_the_built_in_list(tmp_path, monkeypatch):
    import httpx

    from .conftest import served_site, serving

    site = served_site(
        tmp_path, monkeypatch, WEB__AMP_ALLOWED_ORIGINS='["https://webmail.example.org"]'
    )
    with serving(site) as url, httpx.Client(base_url=url) as client:
        path = amp_url(site, site.request("csat"), __amp_source_origin=SENDER)
        gmail = client.post(path, headers={"Origin": "https://mail.google.com"}, data={"a": "5"})
        assert gmail.status_code == 403
        own = client.post(path, headers={"Origin": "https://webmail.example.org"}, data={"a": "5"})
        assert own.status_code == 200
    site.engine.dispose()


def test_rate_limit_counts_per_address_and_token(tmp_path, monkeypatch):
    import httpx

    from .conftest import served_site, serving

    site = served_site(tmp_path, monkeypatch, WEB__RATE_LIMIT_PER_MINUTE="2")
    with serving(site) as url, httpx.Client(base_url=url) as client:
        first = amp_url(site, site.request("csat"))
        codes = [client.post(first, headers=V2, data={"a": "4"}).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        limited = client.post(first, headers=V2, data={"a": "4"})
        assert "error" in limited.json() and limited.headers["amp-email-allow-sender"] == SENDER
        # Another client behind the same provider proxy is not throttled.
        other = amp_url(site, site.request("csat"))
        assert client.post(other, headers=V2, data={"a": "5"}).status_code == 200
    site.engine.dispose()

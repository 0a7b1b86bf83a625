"""/admin/inbound over HTTP on a real uvicorn, with mail processed by the real inbound worker:
the list with sender, subject and the reason in the reader's words; the message's headers,
text, sanitised HTML and raw bytes; dismiss, bulk retry, accept and attach (recorded through
record_answer); CSRF on every form."""

from __future__ import annotations

from contextlib import closing

from sqlmodel import Session, select

from mailflow.inbound.store import store_raw
from mailflow.inbound.worker import run_until_empty
from storage.models import InboundMessage, Response, SurveyRequest
from tests.escalation.conftest import make_request
from tests.escalation.webapp import csrf_of, signed_in


def _mail(sender: str, subject: str, body: str, *, html: str | None = None, tag: str) -> bytes:
    head = (
        f"From: {sender}\r\nTo: survey@example.com\r\nSubject: {subject}\r\n"
        f"Message-ID: <{tag}@client.example>\r\nMIME-Version: 1.0\r\n"
    )
    if html is None:
        return (head + f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()
    return (
        head + 'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        f"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        f"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--b--\r\n"
    ).encode()


def _stored(settings, engine, raw: bytes) -> int:
    stored = store_raw(engine, raw, via="smtp", envelope_to=["survey@example.com"])
    run_until_empty(settings, engine)
    return stored.id


def _row(engine, inbound_id: int) -> InboundMessage:
    with Session(engine) as session:
        return session.get(InboundMessage, inbound_id)


def test_list_detail_and_actions(site):
    settings, engine, url = site
    made = make_request(engine, "csat", tag="z")
    html = (
        '<p onclick="steal()">Rating <b>2</b></p><script>alert(1)</script>'
        '<img src="https://tracker.example/pixel.gif"><a href="javascript:alert(2)">x</a>'
    )
    # Unverified sender: only the From address names an open request.
    unverified = _stored(
        settings,
        engine,
        _mail("client-z@example.com", "Re: survey", "2\n\nIt was slow", html=html, tag="u"),
    )
    stranger = _stored(
        settings, engine, _mail("who@else.example", "Hello", "Is this thing on?", tag="s")
    )
    other = _stored(settings, engine, _mail("who@else.example", "Again", "Hello?", tag="t"))
    assert _row(engine, unverified).status == "quarantined"
    assert _row(engine, stranger).status == "unmatched"
    with closing(signed_in(engine, url, locale="ru")) as client:
        listing = client.get("/admin/inbound")
        assert listing.status_code == 200 and "3 из 3" in listing.text
        assert "client-z@example.com" in listing.text and "Re: survey" in listing.text
        assert "ничто не подтверждает, что он настоящий" in listing.text  # the reason in Russian
        only = client.get("/admin/inbound?view=unverified").text
        assert f'id="message-{unverified}"' in only and f'id="message-{stranger}"' not in only
        found = client.get("/admin/inbound?view=all&q=again").text
        assert f'id="message-{other}"' in found and f'id="message-{stranger}"' not in found

        page = client.get(f"/admin/inbound/{unverified}")
        assert page.status_code == 200
        assert "It was slow" in page.text and "Message-ID" in page.text
        frame = page.text.split('id="html"', 1)[1].split("></iframe>", 1)[0]
        assert 'sandbox=""' in frame and "Rating" in frame
        assert "script" not in frame and "tracker.example" not in frame
        assert "onclick" not in frame and "javascript:" not in frame
        raw = client.get(f"/admin/inbound/{unverified}/raw")
        assert raw.content == _row(engine, unverified).raw
        assert raw.headers["content-disposition"].startswith("attachment")

        # No CSRF: refused, nothing changes.
        assert client.post(f"/admin/inbound/{stranger}/dismiss").status_code == 403
        assert _row(engine, stranger).status == "unmatched"
        csrf = csrf_of(page.text)
        # Accepting a stranger is refused with the reason; dismissing works.
        refused = client.post(f"/admin/inbound/{stranger}/accept", data={"csrf": csrf})
        assert "refused=" in refused.headers["location"]
        assert _row(engine, stranger).status == "unmatched"
        client.post(f"/admin/inbound/{stranger}/dismiss", data={"csrf": csrf})
        assert _row(engine, stranger).status == "ignored"
        # Bulk: retry two at once; back to the same list with the count.
        bulk = client.post(
            "/admin/inbound/bulk",
            data={
                "csrf": csrf,
                "action": "retry",
                "ids": [str(other), str(stranger)],
                "back": "view=all",
            },
        )
        assert bulk.status_code == 303 and "view=all" in bulk.headers["location"]
        assert "done=2" in bulk.headers["location"]
        # Attach the unverified message to its request by hand: it is the request's answer.
        search = client.get(f"/admin/inbound/{unverified}?find=client-z").text
        assert f'id="request-{made.request_id}"' in search
        attach = client.post(
            f"/admin/inbound/{unverified}/attach",
            data={"csrf": csrf, "request_id": str(made.request_id)},
        )
        assert attach.status_code == 303 and "refused" not in attach.headers["location"]
        again = client.post(
            f"/admin/inbound/{unverified}/attach",
            data={"csrf": csrf, "request_id": str(made.request_id)},
        )
        assert "refused=" in again.headers["location"]  # it is an answer now
    with Session(engine) as session:
        response = session.exec(
            select(Response).where(Response.request_id == made.request_id)
        ).one()
        assert (response.score, response.inbound_message_id) == (2, unverified)
        assert session.get(SurveyRequest, made.request_id).state == "answered"
    row = _row(engine, unverified)
    assert (row.status, row.request_id) == ("parsed", made.request_id)

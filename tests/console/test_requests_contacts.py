"""/admin/requests and /admin/contacts over HTTP on a real uvicorn: filters in the URL, the
reason in plain words, cancel / reschedule / bulk retry of failed ones (the CLI's functions),
a contact's history, VIP and language, unsubscribe and bounce with undo, merge, CSV export."""

from __future__ import annotations

import csv
import io
from contextlib import closing

from sqlmodel import Session, select

from storage.clock import utcnow
from storage.models import Contact, SurveyRequest
from tests.escalation.conftest import make_request
from tests.escalation.webapp import csrf_of, signed_in


def _set(engine, request_id: int, **values) -> None:
    with Session(engine) as session:
        row = session.get(SurveyRequest, request_id)
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)
        session.commit()


def _request(engine, request_id: int) -> SurveyRequest:
    with Session(engine) as session:
        return session.get(SurveyRequest, request_id)


def test_requests_filters_reasons_and_actions(site):
    _settings, engine, url = site
    failed = make_request(engine, "csat", tag="f")
    failed2 = make_request(engine, "csat", tag="g")
    suppressed = make_request(engine, "csat", tag="s")
    scheduled = make_request(engine, "csat", tag="w")
    _set(engine, failed.request_id, state="failed", last_error="relay said 554 no such user")
    _set(engine, failed2.request_id, state="failed", last_error="timeout")
    _set(engine, suppressed.request_id, state="suppressed", reason="contact unsubscribed")
    _set(engine, scheduled.request_id, state="scheduled", sent_at=None)
    with closing(signed_in(engine, url, locale="ru")) as client:
        page = client.get("/admin/requests?state=suppressed")
        assert page.status_code == 200 and "1–1 из 1" in page.text
        assert "Клиент отписался от опросов." in page.text
        failed_page = client.get("/admin/requests?state=failed&sort=id").text
        assert "Отправка не удалась: relay said 554 no such user" in failed_page
        assert "2 из 2" in failed_page
        assert 'value="state=failed&amp;sort=id"' in failed_page  # the filters come back
        csrf = csrf_of(page.text)
        by_ticket = client.get("/admin/requests?ticket=T-w").text
        assert f'id="request-{scheduled.request_id}"' in by_ticket and "1–1 из 1" in by_ticket
        # Reschedule (bad time refused with the reason), then cancel the scheduled one.
        bad = client.post(
            f"/admin/requests/{scheduled.request_id}/reschedule",
            data={"csrf": csrf, "due": "tomorrow", "back": ""},
        )
        assert "refused=" in bad.headers["location"]
        later = utcnow().replace(year=utcnow().year + 1)
        moved = client.post(
            f"/admin/requests/{scheduled.request_id}/reschedule",
            data={"csrf": csrf, "due": later.strftime("%Y-%m-%d %H:%M"), "back": ""},
        )
        assert "done=ok" in moved.headers["location"]
        assert _request(engine, scheduled.request_id).due_at.year == later.year
        client.post(f"/admin/requests/{scheduled.request_id}/cancel", data={"csrf": csrf})
        row = _request(engine, scheduled.request_id)
        assert row.state == "suppressed" and row.reason == "cancelled by staff: maria"
        assert "Отменено: maria." in client.get("/admin/requests?state=suppressed").text
        # Bulk retry of every failed one the filters show.
        retried = client.post(
            "/admin/requests/retry", data={"csrf": csrf, "scope": "failed", "back": "state=failed"}
        )
        assert "done=2" in retried.headers["location"]
        assert _request(engine, failed.request_id).state == "scheduled"
        assert _request(engine, failed2.request_id).state == "scheduled"
        assert _request(engine, suppressed.request_id).state == "suppressed"
        assert client.post("/admin/requests/retry", data={"scope": "failed"}).status_code == 403


def test_contacts_history_status_undo_merge_and_export(site):
    _settings, engine, url = site
    a = make_request(engine, "csat", tag="a")
    b = make_request(engine, "csat", tag="b")
    with Session(engine) as session:
        contact = session.get(Contact, a.contact_id)
        contact.bounced_at, contact.bounce_reason = utcnow(), "550 mailbox unavailable"
        session.add(contact)
        contact.name = "=HYPERLINK(1)"
        session.commit()
    with closing(signed_in(engine, url, locale="pl")) as client:
        listing = client.get("/admin/contacts?status=bounced").text
        assert "client-a@example.com" in listing and "client-b@example.com" not in listing
        assert "550 mailbox unavailable" in listing
        page = client.get(f"/admin/contacts/{a.contact_id}").text
        assert f'id="request-{a.request_id}"' in page and 'id="bounced"' in page
        csrf = csrf_of(page)
        base = f"/admin/contacts/{a.contact_id}"
        client.post(base + "/unbounce", data={"csrf": csrf})
        client.post(base + "/unsubscribe", data={"csrf": csrf})
        client.post(base + "/save", data={"csrf": csrf, "vip": "on", "locale": "ru"})
        page = client.get(base).text
        assert 'id="bounced"' not in page and 'id="unsubscribed"' in page
        client.post(base + "/resubscribe", data={"csrf": csrf})
        bad = client.post(base + "/save", data={"csrf": csrf, "locale": "xx"})
        assert "refused=" in bad.headers["location"]
        merged = client.post(base + "/merge", data={"csrf": csrf, "other": "client-b@example.com"})
        assert "refused" not in merged.headers["location"]
        page = client.get(base).text
        assert f'id="request-{b.request_id}"' in page  # B's request moved here
        export = client.get("/admin/contacts/export.csv?q=client")
        assert export.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    with Session(engine) as session:
        kept = session.get(Contact, a.contact_id)
        assert kept.vip and kept.locale == "ru"
        assert kept.unsubscribed_at is None and kept.bounced_at is None
        assert session.get(Contact, b.contact_id) is None
        assert len(session.exec(select(SurveyRequest)).all()) == 2
    assert [r["email"] for r in rows] == ["client-a@example.com"]
    assert rows[0]["name"] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet

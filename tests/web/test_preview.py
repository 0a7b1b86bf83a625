"""`mailflow preview` emails answer for nobody: their links say "preview" and record nothing."""

from __future__ import annotations

import asyncio
import email
import re
from email.policy import default as default_policy

from sqlmodel import select
from typer.testing import CliRunner

from mailflow.cli.app import app
from mailflow.inbound.listener import InboundHandler
from mailflow.web.csrf import form_field
from storage.engine import session_scope
from storage.models import Contact, Escalation, Notification, Response, SurveyRequest

TOKEN = r"([a-z2-7]{32})"


def preview_email(tmp_path, survey="csat"):
    """What `mailflow preview SURVEY --eml p.eml` writes (config in the current directory)."""
    result = CliRunner().invoke(app, ["preview", survey, "--eml", "p.eml"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    raw = (tmp_path / "p.eml").read_bytes()
    return email.message_from_bytes(raw, policy=default_policy), result


def text_of(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def nothing_recorded(site, request_id):
    with session_scope(site.engine) as session:
        assert session.exec(select(Response)).all() == []
        assert session.exec(select(Escalation)).all() == []
        assert session.exec(select(Notification)).all() == []
        request = session.get(SurveyRequest, request_id)
        assert request.state == "sent"
        assert session.get(Contact, request.contact_id).unsubscribed_at is None


def test_clicking_a_preview_link_says_preview_and_records_nothing(site, client, tmp_path):
    first_real = site.request("csat")  # request 1: what the old preview's tokens named
    assert first_real == 1
    message, _ = preview_email(tmp_path)
    assert message["X-Mailflow-Preview"] == "yes"
    links = re.findall(rf"/r/{TOKEN}\?a=(\d)", text_of(message))
    assert links, text_of(message)
    token = links[0][0]
    page = client.get(f"/r/{token}?a=1")
    assert page.status_code == 200
    assert "This is a preview" in page.text and "nothing was recorded" in page.text
    assert 'name="csrf"' not in page.text  # no form to submit
    posted = client.post(
        f"/r/{token}", data={"a": "1", "csrf": form_field(site.settings, token, "link")}
    )
    assert posted.status_code == 200 and "This is a preview" in posted.text
    unsubscribe = re.search(rf"/u/{TOKEN}", message["List-Unsubscribe"]).group(1)
    assert "This is a preview" in client.get(f"/u/{unsubscribe}").text
    one_click = client.post(f"/u/{unsubscribe}", data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and "preview" in one_click.text
    amp = client.post(
        f"/amp/{token}", data={"a": "1"}, headers={"AMP-Email-Sender": "support@example.com"}
    )
    assert amp.status_code == 200 and "preview" in amp.json()["message"]
    nothing_recorded(site, first_real)


def test_a_reply_to_a_preview_is_refused(site, tmp_path):
    message, _ = preview_email(tmp_path)
    reply_to = message["Reply-To"].addresses[0].addr_spec
    assert reply_to.endswith("@preview.invalid")
    assert f"mailto:{reply_to}?" in message["List-Unsubscribe"]
    handler = InboundHandler(site.settings, site.engine)
    envelope = type("Envelope", (), {})()
    envelope.rcpt_tos = []
    try:
        answer = asyncio.run(handler.handle_RCPT(None, None, envelope, reply_to, []))
    finally:
        handler.close()
    assert answer.startswith("550")


def test_preview_says_why_the_amp_part_is_left_out(site, tmp_path):
    message, result = preview_email(tmp_path)
    assert "No AMP part" in result.stderr and "https" in result.stderr
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]

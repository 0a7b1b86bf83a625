"""The mission end to end, real parts only: a ticket closes → the survey email lands in the
Maildir → the client answers by a click in Chromium, through the AMP endpoint, by a reply to
the SMTP listener, or through a Google Form whose notification is fetched from Dovecot → each
answer is an analytics row on the "Survey" task and a comment on the ticket → each negative one
gives exactly one subtask, one manager email and one signed webhook; a positive one escalates
nothing; feeding everything a second time changes nothing."""

from __future__ import annotations

import email
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default
from email.utils import make_msgid

import httpx
import pytest

import parsers
from mailflow.inbound.imap import ImapPoller
from mailflow.inbound.listener import ThreadedListener
from mailflow.settings import ImapMailbox
from mailflow.tokens import Purpose, signer_for
from storage.clock import utcnow
from tests.e2e.mission import Mission

AMP_SENDER = {"AMP-Email-Sender": "support@example.com"}  # brand.sender_email of the example
MANAGER = "manager@example.com"  # default_manager; [[escalation.managers]] makes her Russian


def _escalated(mission: Mission, refs: list[str], positive: list[str]) -> None:
    """The effects every channel must have: filed, commented, escalated exactly once or not."""
    for ref in refs + positive:
        analytics, comments, subtask = mission.filed(ref)
        assert analytics["contact"] and analytics["ticket"] == ref
        assert len(comments) == 1, f"{ref}: one comment on the ticket"
        assert (subtask is not None) == (ref in refs), f"{ref}: subtask iff negative"
    response_ids = {mission.response_of(ref).id for ref in refs}
    escalation_mails = mission.mails("escalation")
    assert len(escalation_mails) == len(refs)
    assert {m.to for m in escalation_mails} == {MANAGER}
    assert {int(m.message["X-Mailflow-Escalation"]) for m in escalation_mails} == response_ids
    for mail in escalation_mails:
        assert mail.message["Content-Language"] == "ru"
        assert (
            "/admin/escalations/response/" in mail.html
            and "/admin/escalations/response/" in mail.text
        )
    events = mission.webhook_events()
    escalated = [
        data["response"]["response_id"] for event, data in events if event == "escalation.created"
    ]
    assert sorted(escalated) == sorted(response_ids)  # one signed escalation webhook each
    negative = [data["response_id"] for event, data in events if event == "response.negative"]
    assert sorted(negative) == sorted(response_ids)


def test_click_in_chromium_and_amp_answers_escalate_once_each(page, mission):
    m = mission
    occurred = utcnow() - timedelta(minutes=1)
    clients = {"T-1": "anna@example.com", "T-2": "boris@example.com", "T-3": "vera@example.com"}
    for ref, client in clients.items():
        m.close_ticket(ref, client, locale="ru" if ref == "T-1" else "en", occurred_at=occurred)
    m.work()
    assert sorted(mail.to for mail in m.mails("survey")) == sorted(clients.values())

    def answer_all() -> None:
        # (a) Anna opens the email in Chromium and clicks "1".
        page.set_content(m.survey_mail("anna@example.com").html)
        page.click("a.btn-num:text-is('1')")
        page.wait_for_selector("#thank-you")
        # (b) Boris answers 2 and Vera 5 in the AMP form inside their emails.
        signer = signer_for(m.settings)
        with httpx.Client(base_url=m.settings.web.base_url, timeout=10) as http:
            for ref, score in (("T-2", "2"), ("T-3", "5")):
                token = signer.sign(m.request_of(ref), Purpose.AMP)
                reply = http.post(
                    f"/amp/{token}", headers=AMP_SENDER, data={"a": score, "comment": "via AMP"}
                )
                assert reply.status_code == 200, reply.text

    answer_all()
    m.work()
    assert m.response_of("T-1").source == "link" and m.response_of("T-1").score == 1
    assert m.response_of("T-2").source == "amp" and m.response_of("T-3").score == 5
    _escalated(m, ["T-1", "T-2"], positive=["T-3"])
    followups = sorted(
        (mail.kind, mail.to) for mail in m.mails() if mail.kind.startswith("followup")
    )
    assert followups == [
        ("followup.apology", "anna@example.com"),
        ("followup.apology", "boris@example.com"),
        ("followup.thank_you", "vera@example.com"),
    ]
    before = m.counts()
    # 3 surveys + 2 manager emails + 3 follow-ups; 3 created + 2 negative + 2 escalated hooks.
    assert (before["escalations"], before["maildir"], before["received"]) == (2, 8, 7)
    # The same events and the same answers a second time change nothing.
    for ref, client in clients.items():
        m.close_ticket(ref, client, locale="ru" if ref == "T-1" else "en", occurred_at=occurred)
    answer_all()
    m.work()
    assert m.counts() == before


@pytest.mark.skipif(not hasattr(parsers, "read_message"), reason="parsers package not landed yet")
def test_reply_by_smtp_and_google_form_from_dovecot_escalate_once_each(dovecot_clean, mission):
    m = mission
    m.close_ticket("T-4", "gleb@example.com")
    m.close_ticket("T-5", "dina@example.com", status="Completed")  # service_quality
    m.close_ticket("T-6", "egor@example.com", status="Completed")
    m.work()
    host, port = m.settings.inbound.smtp_listen.rsplit(":", 1)
    listener = ThreadedListener(m.settings, m.engine, host, int(port))
    listener.start()
    box = ImapMailbox(
        name="forms",
        host=dovecot_clean.host,
        port=dovecot_clean.port,
        tls=False,
        user=dovecot_clean.user,
        password=dovecot_clean.password,
        idle=False,
    )
    survey = email.message_from_bytes(m.survey_mail("gleb@example.com").raw, policy=default)
    reply_to = survey["Reply-To"].addresses[0].addr_spec
    reply = EmailMessage()
    reply["From"] = "Gleb <gleb@example.com>"
    reply["To"] = reply_to
    reply["Subject"] = "Re: " + str(survey["Subject"])
    reply["Message-ID"] = make_msgid(domain="mail.example.com")
    reply["In-Reply-To"] = survey["Message-ID"]
    reply.set_content("1\n\nNobody called me back.\n\n> How did we do?\n")
    forms = [
        _google_form(m.form_token("dina@example.com"), "Slow", "Bad", "dina"),
        _google_form(m.form_token("egor@example.com"), "Fast", "Excellent", "egor"),
    ]

    def feed() -> None:
        with smtplib.SMTP(host, int(port), timeout=10) as smtp:
            refused = smtp.sendmail("gleb@example.com", [reply_to], reply.as_bytes())
            assert refused == {}
        for raw in forms:
            dovecot_clean.append(raw)
        ImapPoller(m.settings, m.engine, box).poll_once()

    try:
        feed()
        m.work()
        assert m.response_of("T-4").source == "reply" and m.response_of("T-4").score == 1
        assert m.response_of("T-5").answers == {"speed": "slow", "work": "bad"}
        assert m.response_of("T-5").source == "google_form"
        _escalated(m, ["T-4", "T-5"], positive=["T-6"])
        before = m.counts()
        assert (before["escalations"], before["received"]) == (2, 7)
        feed()
        m.work()
        assert m.counts() == before
    finally:
        listener.stop()


def _google_form(token: str, speed: str, work: str, who: str) -> bytes:
    """A Google Forms notification (Form Notifications add-on) as it reaches the mailbox."""
    return (
        "From: Google Forms <forms-receipts-noreply@google.com>\r\n"
        "To: forms@acme.example\r\n"
        "Subject: How was our service? - new response\r\n"
        "Date: Mon, 23 Nov 2026 10:15:00 +0000\r\n"
        f"Message-ID: <gform-{who}@docs.google.com>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        'New response to "How was our service?" (Form Notifications add-on)\r\n\r\n'
        f"How quickly was your request handled?: {speed}\r\n"
        f"How do you rate the manager's work?: {work}\r\n"
        f"Ref: {token}\r\n"
    ).encode()

"""In Chromium, real parts only: a client's negative reply reaches the SMTP listener → the
manager opens the escalation from the dashboard, assigns it, replies to the client from the
page → the reply leaves in the survey's thread → the client's answer to it arrives over SMTP
and shows on the same escalation's timeline (not as a new score) → the manager resolves it."""

from __future__ import annotations

import email
import smtplib
from email.message import EmailMessage
from email.policy import default
from email.utils import make_msgid

from sqlmodel import Session, select

from mailflow.auth import create_user
from mailflow.inbound.listener import ThreadedListener
from storage.engine import session_scope
from storage.models import Employee, Escalation, Response
from tests.e2e.mission import Mission
from tests.escalation.webapp import PASSWORD


def _send(mission: Mission, sender: str, to: str, message: EmailMessage) -> None:
    host, port = mission.settings.inbound.smtp_listen.rsplit(":", 1)
    with smtplib.SMTP(host, int(port), timeout=10) as smtp:
        assert smtp.sendmail(sender, [to], message.as_bytes()) == {}


def _users(mission: Mission) -> None:
    with session_scope(mission.engine) as session:
        create_user(session, "maria", PASSWORD, locale="en")
        agent = Employee(name="Ivan Agent", email="ivan@example.com")
        session.add(agent)
        session.flush()
        ivan = create_user(session, "ivan", PASSWORD, locale="en")
        ivan.employee_id = agent.id
        session.add(ivan)


def test_negative_reply_to_resolved_escalation_in_the_browser(page, mission):
    m = mission
    _users(m)
    m.close_ticket("T-7", "gleb@example.com")
    m.work()
    survey = email.message_from_bytes(m.survey_mail("gleb@example.com").raw, policy=default)
    host, port = m.settings.inbound.smtp_listen.rsplit(":", 1)
    listener = ThreadedListener(m.settings, m.engine, host, int(port))
    listener.start()
    try:
        reply = EmailMessage()
        reply["From"] = "Gleb <gleb@example.com>"
        reply["To"] = survey["Reply-To"].addresses[0].addr_spec
        reply["Subject"] = "Re: " + str(survey["Subject"])
        reply["Message-ID"] = make_msgid(domain="mail.example.com")
        reply["In-Reply-To"] = survey["Message-ID"]
        reply.set_content("1\n\nNobody called me back.\n\n> How did we do?\n")
        _send(m, "gleb@example.com", str(reply["To"]), reply)
        m.work()
        assert m.response_of("T-7").score == 1

        # The manager opens the escalation from the dashboard's list.
        page.goto(f"{m.settings.web.base_url}/admin/dashboard/escalations")
        page.fill("input[name=username]", "maria")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/admin/dashboard/escalations**")
        page.click("#escalations tbody tr a >> nth=0")
        page.wait_for_selector("#escalation")
        assert "Nobody called me back" in page.inner_text("#response"), page.inner_text("#response")
        assert "gleb@example.com" in page.inner_text("#actions")

        page.select_option("#assignee-select", label="Ivan Agent (ivan)")
        page.click("#assign button[type=submit]")
        page.wait_for_selector("#done")
        assert page.inner_text("#assignee") == "Ivan Agent"

        page.fill("#reply-text", "We are sorry, Gleb. A technician comes tomorrow at 10.")
        page.click("#reply button[type=submit]")
        page.wait_for_selector("#events li.reply_sent")
        m.work()  # the notifications queue sends the reply (and Ivan's assignment email)
        [ours] = [
            mail
            for mail in m.mails()
            if mail.to == "gleb@example.com" and mail.message["In-Reply-To"]
        ]
        assert ours.message["In-Reply-To"] == survey["Message-ID"]
        assert "A technician comes tomorrow at 10." in ours.text
        assert [x.to for x in m.mails() if x.to == "ivan@example.com"] == ["ivan@example.com"]

        # Gleb answers the manager's reply over SMTP; it joins this escalation's timeline.
        ours_parsed = email.message_from_bytes(ours.raw, policy=default)
        answer = EmailMessage()
        answer["From"] = "Gleb <gleb@example.com>"
        answer["To"] = ours_parsed["Reply-To"].addresses[0].addr_spec
        answer["Subject"] = "Re: " + str(ours_parsed["Subject"])
        answer["Message-ID"] = make_msgid(domain="mail.example.com")
        answer["In-Reply-To"] = ours_parsed["Message-ID"]
        answer["References"] = f"{survey['Message-ID']} {ours_parsed['Message-ID']}"
        answer.set_content("10 is fine, thank you.\n\n> We are sorry, Gleb.\n")
        _send(m, "gleb@example.com", str(answer["To"]), answer)
        m.work()
        page.reload()
        client_reply = page.locator("#events li.client_reply")
        assert "10 is fine, thank you." in client_reply.inner_text()
        assert m.response_of("T-7").score == 1  # "10" did not become a new score

        page.fill("#note", "Technician visit booked")
        page.click("#resolve button[type=submit]")
        page.wait_for_selector("#resolution")
        assert page.inner_text("#status") == "Resolved"
        assert "Technician visit booked" in page.inner_text("#events")
    finally:
        listener.stop()
    with Session(m.engine) as session:
        [escalation] = session.exec(select(Escalation)).all()
        assert escalation.status == "resolved"
        assert len(session.exec(select(Response)).all()) == 1

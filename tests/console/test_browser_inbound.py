"""In Chromium: a client writes from their address without our token or thread → the message
waits in quarantine (unverified sender) → staff open /admin/inbound, find the client's request
by email and attach the message to it → the answer shows in the rated-tickets report."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from mailflow.auth import create_user
from mailflow.inbound.listener import ThreadedListener
from storage.engine import session_scope
from tests.escalation.webapp import PASSWORD


def test_attach_a_quarantined_message_and_see_the_answer_in_the_report(page, mission):
    m = mission
    with session_scope(m.engine) as session:
        create_user(session, "maria", PASSWORD, locale="pl")
    m.close_ticket("T-9", "olga@example.com")
    m.work()
    host, port = m.settings.inbound.smtp_listen.rsplit(":", 1)
    listener = ThreadedListener(m.settings, m.engine, host, int(port))
    listener.start()
    try:
        letter = EmailMessage()
        letter["From"] = "Olga <olga@example.com>"
        letter["To"] = f"{m.settings.reply_local_part}@{m.settings.reply_domain}"
        letter["Subject"] = "About my printer"
        letter["Message-ID"] = make_msgid(domain="mail.example.com")
        letter.set_content("4\n\nFixed quickly, the paper tray still squeaks.\n")
        with smtplib.SMTP(host, int(port), timeout=10) as smtp:
            assert smtp.sendmail("olga@example.com", [str(letter["To"])], letter.as_bytes()) == {}
        m.work()
    finally:
        listener.stop()
    assert m.response_of("T-9") is None  # nothing proves the sender: kept for a person

    page.goto(f"{m.settings.web.base_url}/admin/inbound")
    page.fill("input[name=username]", "maria")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/inbound")
    row = page.locator("#messages tbody tr", has_text="About my printer")
    assert "olga@example.com" in row.inner_text()
    assert "nic nie potwierdza" in row.inner_text()  # the reason, in Polish
    row.locator("a").first.click()
    page.wait_for_selector("#message")
    assert "Fixed quickly" in page.inner_text("#text")
    page.fill("input[name=find]", "olga@example.com")
    page.click("#attach button[type=submit]")
    page.wait_for_selector("#found")
    page.click("#found li >> nth=0 >> button")
    page.wait_for_selector("#done")
    assert page.inner_text("#status") == "Zapisano"

    page.goto(f"{m.settings.web.base_url}/admin/dashboard/tickets")
    ticket = page.locator("tr", has_text="T-9")
    assert "the paper tray still squeaks" in ticket.first.inner_text()
    response = m.response_of("T-9")
    assert response is not None and response.score == 4 and response.source == "reply"

"""A client's real browser: open the survey email, click a rating, comment, see the thank-you
page; an expired link; a second answer where change is forbidden; unsubscribe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from storage.engine import session_scope
from storage.models import Contact, Response, SurveyRequest

pytestmark = pytest.mark.browser


def stored(site):
    with session_scope(site.engine) as session:
        return list(session.exec(select(Response)))


def open_email(page, site, request_id, survey="csat", locale="en"):
    page.set_content(site.email_html(request_id, survey, locale))


def test_click_rating_comment_and_thank_you(page, site):
    request_id = site.request("csat")
    open_email(page, site, request_id)
    page.click("a.btn-num:text-is('4')")
    # The page submits the clicked answer at once and offers the comment box.
    page.wait_for_selector("#thank-you")
    assert page.text_content("#thank-you") == "Thank you for your feedback!"
    [response] = stored(site)
    assert response.score == 4 and response.comment is None
    page.fill("#comment", "Fast & <friendly>")
    page.click("#send-comment")
    page.wait_for_selector("#saved-comment")
    assert page.text_content("#saved-comment") == "Fast & <friendly>"
    [response] = stored(site)
    assert (response.score, response.comment, response.source) == (4, "Fast & <friendly>", "link")


def test_change_the_preselected_answer_on_the_page(page, site):
    request_id = site.request("nps", locale="ru")
    page.goto(f"{site.settings.web.base_url}/r/{site.token(request_id)}")  # no answer clicked
    assert page.locator("input[name=a]:checked").count() == 0
    page.click("label.choice:has(input[value='3'])")
    page.fill("#comment", "Долго ждал")
    page.click("#send-answer")
    page.wait_for_selector("#apology")
    assert "Спасибо" in page.text_content("#thank-you")
    assert stored(site)[0].score == 3


def test_expired_link_shows_the_410_page(page, site):
    request_id = site.request("csat", locale="pl", expires_in=timedelta(days=-1))
    open_email(page, site, request_id, locale="pl")
    with page.expect_navigation() as navigation:
        page.click("a.btn-num:text-is('5')")
    assert navigation.value.status == 410
    assert page.text_content("h1") == "Ankieta jest zamknięta"
    assert stored(site) == []


def test_second_answer_where_change_is_forbidden(page, site):
    request_id = site.request("thumbs")
    open_email(page, site, request_id, survey="thumbs")
    page.click("a:has-text('Good')")
    page.wait_for_selector("#rating-form")
    assert page.locator("input[value=good]").is_checked()  # preselected, not yet recorded
    assert stored(site) == []
    page.click("#send-answer")
    page.wait_for_selector("#thank-you")
    open_email(page, site, request_id, survey="thumbs")
    page.click("a:has-text('Bad')")
    page.wait_for_selector("#already")
    assert "Good" in page.text_content("#answer")
    assert page.locator("#rating-form").count() == 0
    [response] = stored(site)
    assert response.answers == {"thumbs": "good"}


def test_unsubscribe_from_the_email_footer(page, site):
    request_id = site.request("csat")
    open_email(page, site, request_id)
    page.click("a:has-text('Unsubscribe')")
    page.wait_for_selector("#unsubscribe-button")
    page.click("#unsubscribe-button")
    page.wait_for_selector("#unsubscribed")
    with session_scope(site.engine) as session:
        request = session.get(SurveyRequest, request_id)
        assert session.get(Contact, request.contact_id).unsubscribed_at is not None


def test_a_browser_without_script_records_nothing(page, site):
    # Safe Links / antivirus prefetchers open the link without running the page's script.
    context = page.context.browser.new_context(java_script_enabled=False)
    try:
        scanner = context.new_page()
        scanner.goto(f"{site.settings.web.base_url}/r/{site.token(site.request('csat'))}?a=1")
        assert scanner.locator("input[value='1']").is_checked()
        assert scanner.locator("#rating-form").count() == 1
    finally:
        context.close()
    assert stored(site) == []


def test_clicking_1_in_a_preview_email_records_nothing(page, site):
    from mailflow.render import Recipient, Renderer

    request_id = site.request("csat")  # a real client's request exists
    renderer = Renderer(site.settings)
    preview = Recipient(request_id=request_id, email="anna@example.com", preview=True)
    page.set_content(renderer.parts(site.settings.survey("csat"), "en", preview)["html"])
    with page.expect_navigation() as navigation:
        page.click("a.btn-num:text-is('1')")
    assert navigation.value.status == 200
    assert page.text_content("#error h1") == "This is a preview"
    assert stored(site) == []
    with session_scope(site.engine) as session:
        assert session.get(SurveyRequest, request_id).state == "sent"

"""Chromium via Playwright: loads a page from a loopback HTTP server and clicks a button."""

import asyncio
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>Rate us</title></head>
<body>
<p id="status">waiting</p>
<button id="rate" onclick="document.getElementById('status').textContent = 'rated 9'">9</button>
</body></html>
"""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/survey":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format, *args):  # quiet
        pass


@pytest.fixture
def http_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_page_loads_and_button_click_changes_the_dom(page, http_url):
    response = page.goto(f"{http_url}/survey")
    assert response is not None and response.status == 200
    assert page.title() == "Rate us"
    assert page.text_content("#status") == "waiting"
    page.click("#rate")
    assert page.text_content("#status") == "rated 9"


def test_each_page_has_a_fresh_context(page, http_url):
    page.goto(f"{http_url}/survey")
    page.evaluate("document.cookie = 'seen=1; path=/'")
    assert page.context.cookies() != []


def test_no_cookie_leaks_from_the_previous_test(page, http_url):
    page.goto(f"{http_url}/survey")
    assert page.context.cookies() == []


def test_asyncio_run_works_after_browser_tests():
    # The shared browser is closed before a test that does not use it (see fixtures.py).
    async def answer():
        await asyncio.sleep(0)
        return 42

    assert asyncio.run(answer()) == 42

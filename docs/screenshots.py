"""Screenshots of the main pages for README: a demo database, `mailflow up`, Chromium.

Run from the repository with the virtualenv active: `python docs/screenshots.py`. It builds a
throwaway installation in a temporary directory (`mailflow init`, `mailflow demo`, a user),
serves it on free loopback ports, signs in with Playwright driving /usr/bin/chromium and writes
docs/screenshots/<page>-<width>.png. Nothing leaves 127.0.0.1.

`python docs/screenshots.py --all /tmp/shots` writes every dashboard page at 1366 and 390 px in
en, ru and pl to /tmp/shots instead (to look at, not to commit); `--console /tmp/shots` does the
same for the console pages (escalations, inbound mail, requests, contacts, reasons, surveys,
staff, integrations), switching language with the top bar's buttons as a user would.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
PASSWORD = "screenshots-only-Pa55"  # noqa: S105  (a throwaway demo login)
# (page name, path, width, language)
PAGES = [
    ("dashboard", "/admin/dashboard", 1366, "en"),
    ("dashboard", "/admin/dashboard", 390, "ru"),
    ("employees", "/admin/dashboard/employees", 1366, "pl"),
    ("comments", "/admin/dashboard/tickets", 390, "pl"),
    ("escalations", "/admin/escalations", 1366, "en"),
]
# Every dashboard page at both widths in every language (--all).
ALL_PAGES = [
    (name, path, width, lang)
    for name, path in (
        ("dashboard", "/admin/dashboard"),
        ("employees", "/admin/dashboard/employees"),
        ("comments", "/admin/dashboard/tickets"),
    )
    for width in (1366, 390)
    for lang in ("en", "ru", "pl")
]
# Every console page at both widths in every language (--console).
CONSOLE_PAGES = [
    (path.rsplit("/", 1)[-1], path, width, lang)
    for lang in ("en", "ru", "pl")
    for path in (
        "/admin/escalations",
        "/admin/inbound",
        "/admin/requests",
        "/admin/contacts",
        "/admin/reasons",
        "/admin/surveys",
        "/admin/users",
        "/admin/integrations",
    )
    for width in (1366, 390)
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mailflow(*args: str, cwd: Path, stdin: str | None = None) -> str:
    run = subprocess.run(  # noqa: S603  (our own CLI)
        [sys.executable, "-m", "mailflow", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return run.stdout


def rating_link(home: Path, base: str) -> str:
    """A real request's one-click link (the demo's first sent survey), signed as the email is."""
    code = (
        "from mailflow.settings import load_settings\n"
        "from mailflow.database import open_engine\n"
        "from mailflow.tokens import Purpose, signer_for\n"
        "from sqlmodel import Session, select\n"
        "from storage.models import SurveyRequest\n"
        "s = load_settings()\n"
        "with Session(open_engine(s)) as db:\n"
        "    r = db.exec(select(SurveyRequest).where(SurveyRequest.state == 'sent')).first()\n"
        "print(signer_for(s).sign(r.id, Purpose.LINK))\n"
    )
    token = subprocess.run(  # noqa: S603  (our own code)
        [sys.executable, "-c", code], cwd=home, capture_output=True, text=True, check=True
    ).stdout.strip()
    return f"{base}/r/{token}"


def main() -> None:
    console = "--console" in sys.argv
    every = "--all" in sys.argv or console
    out = Path(sys.argv[-1]) if every and len(sys.argv) > 2 else OUT
    pages = CONSOLE_PAGES if console else ALL_PAGES if every else PAGES
    out.mkdir(exist_ok=True, parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        mailflow("init", ".", cwd=home)
        mailflow("demo", cwd=home)
        mailflow("user", "create", "admin", "--password-stdin", cwd=home, stdin=PASSWORD + "\n")
        web, smtp = free_port(), free_port()
        base = f"http://127.0.0.1:{web}"
        env = {**os.environ, "MAILFLOW_WEB__BASE_URL": base}
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "mailflow", "up", "--web", f"127.0.0.1:{web}",
             "--smtp", f"127.0.0.1:{smtp}"],
            cwd=home,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=2)  # noqa: S310
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit("mailflow up did not answer") from None
                    time.sleep(0.3)
            link = rating_link(home, base)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                # In the contact's language: the scale, then the answer "2" as a click sends it.
                for name, url, width in () if every else (
                    ("rating", link, 390),
                    ("rating", link, 1366),
                    ("thanks", f"{link}?a=2", 390),
                ):
                    page = browser.new_page(viewport={"width": width, "height": 900})
                    page.goto(url)
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=str(out / f"{name}-{width}.png"), full_page=True)
                    page.close()
                context = browser.new_context()
                page = context.new_page()
                page.goto(f"{base}/admin/login")
                page.fill("#username", "admin")
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_load_state()
                for name, path, width, lang in pages:
                    page.set_viewport_size({"width": width, "height": 900})
                    page.goto(f"{base}{path}?lang={lang}")
                    switch = page.locator(f"form.langs button[value={lang}]")
                    if console and switch.count() and not switch.get_attribute("aria-pressed"):
                        switch.click()  # the user's language, kept across pages
                        page.wait_for_load_state()
                        page.goto(f"{base}{path}")
                    page.screenshot(path=str(out / f"{name}-{width}-{lang}.png"), full_page=True)
                browser.close()
        finally:
            server.terminate()
            server.wait(30)
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main()

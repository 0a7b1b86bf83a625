"""Debian's Chromium driven by Playwright's sync API, shared by consecutive browser tests.

Playwright's sync API keeps an asyncio event loop marked as *running* in the main thread for as
long as it is started, so `asyncio.run()` fails in any test that runs meanwhile. The shared
browser is therefore closed before a test that does not use it (see `fixtures.py`) and started
again, lazily, by the next browser test: consecutive browser tests share one Chromium.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

CHROMIUM = os.environ.get("MAILFLOW_CHROMIUM", "/usr/bin/chromium")

# Playwright refuses --user-data-dir with launch(); it passes a fresh temporary profile itself
# (playwright_chromiumdev_profile-*) and removes it on close, which is what we want.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # No DNS at all: Chromium still looks up update.googleapis.com and accounts.google.com
    # otherwise. Tests reach their servers as 127.0.0.1 or localhost.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-default-apps",
    "--no-pings",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
]


class SharedBrowser:
    """Starts Playwright and Chromium on first use; stop() ends both."""

    def __init__(self) -> None:
        self._playwright: Any = None
        self._browser: Any = None

    @property
    def running(self) -> bool:
        return self._browser is not None

    def missing(self) -> str | None:
        """None when the browser can be started, else what is missing."""
        if not (os.access(CHROMIUM, os.X_OK) or shutil.which(CHROMIUM)):
            return f"{CHROMIUM} not found (run .ci/install-services.sh)"
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            return "the playwright package is not installed"
        return None

    def get(self) -> Any:
        """The running playwright Browser, started if needed."""
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            playwright = sync_playwright().start()
            try:
                self._browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=30_000
                )
            except BaseException:
                playwright.stop()
                raise
            self._playwright = playwright
        return self._browser

    def stop(self) -> None:
        browser, self._browser = self._browser, None
        playwright, self._playwright = self._playwright, None
        try:
            if browser is not None:
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()

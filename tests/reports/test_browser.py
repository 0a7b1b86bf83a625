"""In Chromium: log in, open the employees report, filter by a period, read the coefficient,
download the CSV and check its rows."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from .conftest import PASSWORD


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """One browser run, on SQLite: the figures themselves are checked on both databases."""
    return sqlite_url


def test_employees_report_in_the_browser(served, page):
    page.goto(f"{served.url}/admin/dashboard/employees")
    page.fill("input[name=username]", "maria")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/dashboard/employees**")

    page.fill("input[name=period]", "2026-10")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**period=2026-10**")
    alice = page.locator("#report tbody tr", has_text="Alice")
    assert alice.locator("td.coefficient b").inner_text().strip() == "75%"
    assert "n = 4" in alice.locator("td.coefficient").inner_text()
    bob = page.locator("#report tbody tr", has_text="Bob")
    assert bob.locator("td.coefficient b").inner_text().strip() == "60%"

    with page.expect_download() as info:
        page.click("#download-csv")
    download = info.value
    raw = Path(download.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    # the table itself: one row per employee, each figure with its n
    by_name = {r["name"]: r for r in rows}
    assert sorted(by_name) == ["Alice", "Bob", "Carol"]
    assert (by_name["Alice"]["coefficient"], by_name["Alice"]["coefficient_n"]) == ("75.0", "4")

    page.set_viewport_size({"width": 375, "height": 740})  # a phone
    assert page.locator("#report td.coefficient").first.is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 380, f"the page scrolls sideways on a phone ({width}px)"

"""Dashboard pages and the JSON API over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re

import httpx

from .conftest import sign_in


def test_dashboard_needs_login_and_shows_every_page(served):
    with httpx.Client(base_url=served.url, timeout=20) as client:
        assert client.get("/admin/dashboard").status_code == 303
        sign_in(client)
        overview = client.get("/admin/dashboard?period=2026-10")
        assert overview.status_code == 200
        assert re.search(r'id="kpi-coefficient">70%<', overview.text)  # 7 of 10 positive
        assert overview.text.count("<svg") == 7  # 3 trends, NPS groups, 2 histograms, states
        employees = client.get("/admin/dashboard/employees?period=2026-10")
        row = re.search(
            r"<tr data-key=\"\d+\">\s*<td class=\"name\"><a [^>]*>Bob</a>.*?</tr>",
            employees.text,
            re.S,
        )
        assert row and "60%" in row.group(0)
        teams = client.get("/admin/dashboard/employees?period=2026-10&by=team")
        assert "66.7%" in teams.text
        tickets = client.get("/admin/dashboard/tickets?period=2026-10&negative=1")
        assert tickets.status_code == 200 and "(3)" in tickets.text
        ticket_id = re.search(r'href="/admin/dashboard/tickets/(\d+)"', tickets.text).group(1)
        assert client.get(f"/admin/dashboard/tickets/{ticket_id}").status_code == 200
        for path in ("escalations", "quarantine", "requests", "requests?state=sent"):
            assert client.get(f"/admin/dashboard/{path}").status_code == 200, path
        requests = client.get("/admin/dashboard/requests")
        assert re.search(r">answered</a>&nbsp;12\b", requests.text)
        bad = client.get("/admin/dashboard/employees?period=2026-13")
        assert bad.status_code == 400 and "period: &#39;2026-13&#39; has no month 13" in bad.text
        russian = client.get("/admin/dashboard/employees?period=2026-10&lang=ru")
        assert "Удовлетворённость" in russian.text and 'lang="ru"' in russian.text
        assert "15 мин" in russian.text and "15 min" not in russian.text  # Alice's median wait
        polish = client.get("/admin/dashboard?lang=pl")
        assert "Zadowolenie" in polish.text


def test_csv_download_is_the_filtered_answers(served):
    with httpx.Client(base_url=served.url, timeout=20) as client:
        sign_in(client)
        answer = client.get("/admin/dashboard/export.csv?period=2026-10&team=A")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert len(rows) == 9 and {r["employee"] for r in rows} == {"Alice", "Bob"}


def test_json_api_needs_a_key_and_returns_the_same_figures(served):
    with httpx.Client(base_url=served.url, timeout=20) as client:
        assert client.get("/api/reports/figures").status_code == 401
        auth = {"Authorization": f"Bearer {served.api_key}"}
        answer = client.get("/api/reports/figures?period=2026-10", headers=auth).json()
        alice = next(r for r in answer["rows"] if r["label"] == "Alice")
        assert (alice["positive"], alice["negative"], alice["coefficient"]) == (3, 1, 75.0)
        assert alice["median_seconds"] == 900.0 and answer["total"]["answers"] == 10
        trend = client.get("/api/reports/trends?bucket=month", headers=auth).json()
        assert [p["bucket"] for p in trend["points"]] == ["2026-09", "2026-10", "2026-11"]
        tickets = client.get("/api/reports/tickets?period=2026-10&limit=2", headers=auth).json()
        assert tickets["count"] == 10 and len(tickets["rows"]) == 2
        bad = client.get("/api/reports/figures?channel=fax", headers=auth)
        assert bad.status_code == 400 and bad.json()["field"] == "channel"

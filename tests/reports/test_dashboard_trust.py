"""Figures a manager can trust: n, too-few marks, period on every card, presets, deltas,
distributions, a removable employee filter; against seed.py on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import httpx
from sqlmodel import Session, select

from mailflow.reports import admin as lists
from mailflow.reports import build_filter, figures, rated_tickets, survey_types, trends
from mailflow.reports.filters import preset_days
from mailflow.reports.kpis import kpis
from mailflow.reports.trends import with_gaps
from storage.engine import session_scope
from storage.models import Contact, Response, SurveyRequest

from .conftest import sign_in


def test_presets_cover_whole_local_days_and_the_previous_period_has_the_same_length():
    today = date(2026, 11, 18)
    assert preset_days("7d", today) == (date(2026, 11, 12), date(2026, 11, 19))
    assert preset_days("this_month", today) == (date(2026, 11, 1), date(2026, 11, 19))
    assert preset_days("last_month", today) == (date(2026, 10, 1), date(2026, 11, 1))
    assert preset_days("last_month", date(2026, 1, 5)) == (date(2025, 12, 1), date(2026, 1, 1))
    assert preset_days("quarter", today) == (date(2026, 10, 1), date(2026, 11, 19))
    assert preset_days("year", today) == (date(2026, 1, 1), date(2026, 11, 19))


def test_kpis_carry_their_n_and_a_delta_against_the_previous_period(engine, seeded, settings):
    flt = build_filter(settings, period="2026-10")
    previous = flt.previous()
    # October has 31 days: the previous period is the 31 days before it
    assert (previous.start, previous.end) == (datetime(2026, 8, 31, tzinfo=UTC), flt.start)
    types = survey_types(settings)
    with Session(engine) as session:
        now = figures(session, types, flt, by=None)[0]
        before = figures(session, types, previous, by=None)[0]
    found = {k.key: k for k in kpis(now, before, min_n=5)}
    # October: csat 5, 4, 2, 3 -> 2 of 4 top; 31 Aug - 30 Sep: csat 1 -> 0 %
    assert (found["csat"].value, found["csat"].n, found["csat"].too_few) == (50.0, 4, True)
    assert found["csat"].delta == 50.0
    assert (found["coefficient"].n, found["coefficient"].too_few) == (10, False)
    assert found["nps"].n == 3 and found["ces"].n == 1 and found["thumbs"].n == 2
    assert (found["response_rate"].n, found["median"].n) == (13, 10)


def test_distributions_count_each_group_and_score(engine, seeded, settings):
    flt = build_filter(settings, period="2026-10")
    with Session(engine) as session:
        rows = {r.key: r for r in figures(session, survey_types(settings), flt, by="survey")}
    nps, csat, ces, thumbs = rows["nps"], rows["csat"], rows["ces"], rows["thumbs"]
    assert (nps.nps_promoters, nps.nps_passives, nps.nps_detractors) == (2, 0, 1)
    assert csat.csat_histogram == {1: 0, 2: 1, 3: 1, 4: 1, 5: 1}
    assert ces.ces_histogram[6] == 1 and sum(ces.ces_histogram.values()) == 1
    assert (thumbs.thumbs_up_count, thumbs.thumbs_down_count) == (1, 1)


def test_weeks_without_answers_are_gaps_not_zeros(engine, seeded, settings):
    flt = build_filter(settings, period="2026-10")
    with Session(engine) as session:
        points = with_gaps(trends(session, survey_types(settings), flt, "week"), flt, "week")
    assert [p.bucket for p in points][:2] == ["2026-09-28", "2026-10-05"]
    assert len(points) == 5 and points[-1].bucket == "2026-10-26"
    # the week of 26 October has only a sent request: no NPS there, and not 0
    assert points[-1].nps is None and points[-1].nps_answers == 0


def test_cards_respect_the_period(engine, seeded, settings):
    october, november = (build_filter(settings, period=p) for p in ("2026-10", "2026-11"))
    with Session(engine) as session:
        states = lists.request_states(session, october)
        later = lists.request_states(session, november)
        assert (states["answered"], states["sent"]) == (10, 3)
        assert (later["answered"], later["sent"]) == (1, 0)
        assert lists.quarantine_count(session, october) == 0
        assert lists.escalation_counts(session, october) == {}


def test_rated_tickets_counts_only_answers_that_rate_a_ticket(engine, seeded, settings):
    flt = build_filter(settings, period="2026-10")
    with session_scope(engine) as session:
        contact = session.exec(select(Contact)).first()
        request = SurveyRequest(
            survey_key="nps", dedupe_key="no-ticket", contact_id=contact.id, state="answered"
        )
        session.add(request)
        session.flush()
        session.add(
            Response(
                request_id=request.id,
                survey_key="nps",
                score=10,
                answers={"score": "10"},
                source="link",
                negative=False,
                created_at=datetime(2026, 10, 9, tzinfo=UTC),
                updated_at=datetime(2026, 10, 9, tzinfo=UTC),
            )
        )
    types = survey_types(settings)
    with Session(engine) as session:
        assert rated_tickets(session, types, flt)[1] == 11
        assert rated_tickets(session, types, flt, tickets_only=True)[1] == 10


def test_overview_shows_n_caption_too_few_marks_and_a_removable_employee_filter(served, seeded):
    with httpx.Client(base_url=served.url, timeout=20) as client:
        sign_in(client)
        page = client.get("/admin/dashboard?period=2026-10").text
        assert "2026-10-01 – 2026-10-31 · UTC" in page
        card = re.search(r'id="kpi-card-csat" data-n="4">(.*?)</div>', page, re.S).group(1)
        assert "n = 4" in card and "too few answers" in card and "+50 pp" in card
        coefficient = re.search(r'id="kpi-card-coefficient" data-n="10">(.*?)</div>', page, re.S)
        assert "too few" not in coefficient.group(1) and "(7 / 3)" in coefficient.group(1)
        assert "n = 3" in re.search(r'<circle[^>]*class="few".*?</circle>', page).group(0)
        alice = seeded["alice"]
        mine = client.get(f"/admin/dashboard/tickets?period=2026-10&employee={alice}").text
        chip = re.search(r'id="employee-filter">(.*?)</span>', mine, re.S).group(1)
        assert "Alice" in chip
        remove = re.search(r'href="([^"]+)"', chip).group(1)
        assert "employee" not in remove and "period=2026-10" in remove
        nav = re.search(r'<nav class="dash-nav".*?<span class="langs">', mine, re.S).group(0)
        assert "employee=" not in nav and "period=2026-10" in nav
        preset = client.get("/admin/dashboard?preset=7d")
        assert preset.status_code == 200 and 'value="7d" selected' in preset.text
        both = client.get("/admin/dashboard?preset=7d&period=2026-10")
        assert both.status_code == 400 and "preset:" in both.text


def test_employees_table_sorts_shows_n_per_cell_and_downloads_itself(served):
    with httpx.Client(base_url=served.url, timeout=20) as client:
        sign_in(client)
        page = client.get("/admin/dashboard/employees?period=2026-10&sort=coefficient&dir=desc")
        names = re.findall(r'<td class="name"><a [^>]*>(\w+)</a>', page.text)
        assert names == ["Carol", "Alice", "Bob"]  # 100 %, 75 %, 60 %
        bob = re.search(r"<a [^>]*>Bob</a>.*?</tr>", page.text, re.S).group(0)
        assert 'data-n="5"' in bob and "n = 5" in bob  # Bob's 3 positive + 2 negative
        assert "n = 2" in bob and "⚠" in bob  # NPS from 2 answers: too few
        assert ">1 / 0 / 1<" in bob and "↑1 ↓1" in bob  # NPS groups and thumbs, per employee
        table = client.get("/admin/dashboard/employees.csv?period=2026-10&by=team")
    assert table.status_code == 200 and table.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(table.content.decode("utf-8-sig"))))
    by_team = {row["name"]: row for row in rows}
    assert set(by_team) == {"A", "B"}
    assert (by_team["A"]["coefficient"], by_team["A"]["coefficient_n"]) == ("66.7", "9")
    assert (by_team["A"]["nps"], by_team["A"]["nps_n"]) == ("33.3", "3")
    a = by_team["A"]  # NPS 10, 9, 3; thumbs up, down; csat 5, 4, 2
    assert (a["nps_promoters"], a["nps_passives"], a["nps_detractors"]) == ("2", "0", "1")
    assert (a["thumbs_up_count"], a["thumbs_down_count"]) == ("1", "1")
    assert [a[f"csat_{v}"] for v in range(1, 6)] == ["0", "1", "0", "1", "1"]

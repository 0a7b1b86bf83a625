"""Segments: saved filters over contacts and responses, as audience and as report filter."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from mailflow.cli import app
from mailflow.segments import (
    PRESETS,
    InvalidSegment,
    SegmentExists,
    UnknownSegment,
    contact_ids,
    contacts_in_segment,
    create_segment,
)
from storage.clock import utcnow
from storage.engine import session_scope
from storage.models import Contact, Response, SurveyRequest

NOW = utcnow()


def _answer(session, contact: Contact, survey: str, score: int, days_ago: float, n: int) -> None:
    request = SurveyRequest(
        survey_key=survey,
        dedupe_key=f"{survey}:{contact.email}:{n}",
        contact_id=contact.id,
        state="answered",
    )
    session.add(request)
    session.flush()
    when = NOW - timedelta(days=days_ago)
    negative = score <= (2 if survey == "csat" else 6)
    session.add(
        Response(
            request_id=request.id,
            survey_key=survey,
            score=score,
            answers={"score": str(score)},
            source="link",
            negative=negative,
            created_at=when,
            updated_at=when,
        )
    )


@pytest.fixture
def people(engine) -> dict[str, int]:
    """anna: CSAT 5 then 2 (last below 3); boris: CSAT 1 then 5; vera: NPS 3 (detractor) long
    ago; gleb: NPS 9 recently; dina: never answered."""
    with session_scope(engine) as session:
        contacts = {
            name: Contact(email=f"{name}@example.com", vip=(name == "boris"), team="printers")
            for name in ("anna", "boris", "vera", "gleb", "dina")
        }
        session.add_all(contacts.values())
        session.flush()
        _answer(session, contacts["anna"], "csat", 5, 20, 1)
        _answer(session, contacts["anna"], "csat", 2, 10, 2)
        _answer(session, contacts["boris"], "csat", 1, 20, 1)
        _answer(session, contacts["boris"], "csat", 5, 5, 2)
        _answer(session, contacts["vera"], "nps", 3, 120, 1)
        _answer(session, contacts["gleb"], "nps", 9, 3, 1)
        return {name: c.id for name, c in contacts.items()}


def _names(people: dict[str, int], ids: list[int]) -> set[str]:
    by_id = {v: k for k, v in people.items()}
    return {by_id[i] for i in ids}


def _save(engine, name: str, definition: dict) -> None:
    with session_scope(engine) as session:
        create_segment(session, name, definition)


def test_presets_select_who_they_say(engine, people):
    for name, definition in PRESETS.items():
        _save(engine, name, definition)
    with Session(engine) as session:
        pick = lambda n: _names(people, contacts_in_segment(session, n, now=NOW))  # noqa: E731
        assert pick("csat_below_3") == {"anna"}  # boris's last CSAT is 5
        assert pick("nps_detractors") == {"vera"}
        assert pick("no_answer_90_days") == {"vera", "dina"}


def test_composed_segments(engine, people):
    _save(
        engine,
        "unhappy-or-vip",
        {"type": "any", "of": [PRESETS["csat_below_3"], {"type": "vip"}]},
    )
    _save(
        engine,
        "recent-negative-printers",
        {
            "type": "all",
            "of": [{"type": "negative_in_days", "days": 15}, {"type": "team", "team": "printers"}],
        },
    )
    _save(engine, "promoters", {"type": "nps_group", "group": "promoter"})
    with Session(engine) as session:
        assert _names(people, contacts_in_segment(session, "unhappy-or-vip")) == {"anna", "boris"}
        assert _names(people, contacts_in_segment(session, "recent-negative-printers")) == {"anna"}
        assert _names(people, contacts_in_segment(session, "promoters")) == {"gleb"}


def test_segment_as_a_report_filter_over_responses(engine, people):
    with Session(engine) as session:
        in_segment = SurveyRequest.contact_id.in_(contact_ids(PRESETS["csat_below_3"], now=NOW))
        count = session.exec(
            select(func.count(Response.id))
            .join(SurveyRequest, SurveyRequest.id == Response.request_id)
            .where(in_segment)
        ).one()
    assert count == 2  # anna's two answers


def test_refusals_name_the_field(engine):
    with pytest.raises(InvalidSegment, match=r"last_score.*below, at_most, at_least"):
        _save(engine, "x", {"type": "last_score", "survey": "csat"})
    with pytest.raises(InvalidSegment, match="days"):
        _save(engine, "x", {"type": "no_answer_in_days", "days": 0})
    with pytest.raises(InvalidSegment, match="unknown field"):
        _save(engine, "x", {"type": "vip", "colour": "red"})
    _save(engine, "x", PRESETS["nps_detractors"])
    with pytest.raises(SegmentExists):
        _save(engine, "x", PRESETS["nps_detractors"])
    with Session(engine) as session, pytest.raises(UnknownSegment):
        contacts_in_segment(session, "nope")


def test_cli_create_list_show(engine, people, tmp_path, monkeypatch):
    (tmp_path / "mailflow.toml").write_text(
        'secret_keys = ["k-0123456789abcdef0123456789abcdef"]\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAILFLOW_DATABASE_URL", engine.url.render_as_string(False))
    runner = CliRunner()
    created = runner.invoke(app, ["segments", "create", "unhappy", "--preset", "csat_below_3"])
    assert created.exit_code == 0, created.output
    bad = runner.invoke(app, ["segments", "create", "bad", "--json", '{"type": "team"}'])
    assert bad.exit_code == 2 and "team: Field required" in bad.output
    listed = runner.invoke(app, ["segments", "list", "--json"])
    assert json.loads(listed.output)["name"] == "unhappy"
    shown = runner.invoke(app, ["segments", "show", "unhappy", "--json"])
    assert json.loads(shown.output)["contacts"] == ["anna@example.com"]
    missing = runner.invoke(app, ["segments", "show", "nope"])
    assert missing.exit_code == 2 and "no segment named 'nope'" in missing.output

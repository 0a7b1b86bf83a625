"""`mailflow escalations`, `escalation resolve` and `escalation notify`, as a user runs them."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from mailflow.answers import Answer, record_answer
from mailflow.cli import app
from mailflow.escalation.filing import file_pending
from storage.models import Comment, Employee, Notification, SurveyRequest
from tests.escalation.conftest import make_request


@pytest.fixture
def cli(engine, settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the settings fixture wrote tmp_path/mailflow.toml
    monkeypatch.setenv("MAILFLOW_DATABASE_URL", engine.url.render_as_string(False))
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def _negative(engine, settings, tag: str) -> None:
    made = make_request(engine, "csat", tag=tag)
    with Session(engine) as session:
        request = session.get(SurveyRequest, made.request_id)
        record_answer(session, settings, request, Answer(score=1, comment=f"bad {tag}"), "link")
        session.commit()
    file_pending(settings, engine)


def _lines(result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_list_and_resolve(cli, engine, settings):
    _negative(engine, settings, "x")
    _negative(engine, settings, "y")
    open_ = _lines(cli("escalations", "--status", "open", "--json"))
    assert [e["comment"] for e in open_] == ["bad y", "bad x"]  # newest first
    assert (
        open_[0]["manager"] == "manager@example.com"
        and open_[0]["client"] == "client-y@example.com"
    )
    target = open_[1]["id"]
    done = cli(
        "escalation", "resolve", str(target), "--note", "Apologised by phone", "--by", "olga"
    )
    assert done.exit_code == 0, done.output
    again = cli("escalation", "resolve", str(target), "--note", "again")
    assert again.exit_code == 2 and "resolved already" in again.output
    empty = cli("escalation", "resolve", str(open_[0]["id"]), "--note", " ")
    assert empty.exit_code == 2 and "note: required" in empty.output
    missing = cli("escalation", "resolve", "999", "--note", "x")
    assert missing.exit_code == 2 and "no escalation 999" in missing.output
    [resolved] = _lines(cli("escalations", "--status", "resolved", "--json"))
    assert (resolved["id"], resolved["resolved_by"], resolved["note"]) == (
        target,
        "olga",
        "Apologised by phone",
    )
    with Session(engine) as session:
        [note] = session.exec(
            select(Comment).where(Comment.task_id == resolved["subtask_id"])
        ).all()
        assert note.body == "Apologised by phone"
    bad = cli("escalations", "--status", "closed")
    assert bad.exit_code == 2 and "status" in bad.output


def test_turning_a_managers_emails_off(cli, engine, settings):
    assert cli("escalation", "notify", "Manager@Example.com", "--off").exit_code == 0
    _negative(engine, settings, "z")
    with Session(engine) as session:
        manager = session.exec(
            select(Employee).where(Employee.email == "manager@example.com")
        ).one()
        assert not manager.notify_email
        assert (
            session.exec(select(Notification).where(Notification.kind == "escalation")).all() == []
        )
    assert cli("escalation", "notify", "not-an-address", "--on").exit_code == 2

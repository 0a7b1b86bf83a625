"""The inbound commands as a user runs them: `mailflow parse`, `ingest`, `inbound`, `retry`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, func, select

from storage.models import InboundMessage
from tests.inbound.conftest import FIXTURES, eml

FIELDS = {
    "file",
    "kind",
    "request_token",
    "in_reply_to",
    "language",
    "visible_text",
    "score",
    "comment",
    "answers",
    "error",
}
ROOT = Path(__file__).resolve().parents[2]


def mailflow(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILFLOW_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "mailflow", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        input=stdin,
    )


def test_parse_without_any_config_prints_one_json_object_per_file(tmp_path):
    reply = tmp_path / "reply.eml"
    reply.write_bytes(
        b"From: a@example.com\r\nTo: survey@reply.localhost\r\nSubject: Re: survey\r\n"
        b"In-Reply-To: <survey-1@reply.localhost>\r\n\r\n9\r\n\r\n> How likely are you?\r\n"
    )
    ooo = FIXTURES / "auto_reply_out_of_office.eml"

    done = mailflow("parse", str(reply), str(ooo), cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert set(first) == FIELDS and set(second) == FIELDS
    assert first["file"] == str(reply) and first["kind"] == "reply"
    assert first["score"] == 9 and first["in_reply_to"] == "<survey-1@reply.localhost>"
    assert first["visible_text"] == "9"
    assert second["kind"] == "auto_reply" and second["score"] is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reply.eml"]  # nothing written


def test_parse_reads_the_survey_named_by_the_token_without_writing(
    config_file, engine, inbound_settings, make_sent
):
    sent = make_sent("service_quality")
    form = config_file.parent / "form.eml"
    form.write_bytes(sent.fill(eml("google_form_service_quality.eml")))
    engine.dispose()
    database = Path(inbound_settings.sqlite_path())
    before = database.read_bytes()

    done = mailflow("parse", str(form), cwd=config_file.parent)

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["kind"] == "google_form"
    assert result["request_token"] == sent.link_token
    assert result["answers"] == {"speed": "slow", "work": "bad"}
    assert database.read_bytes() == before


def test_parse_with_survey_option_and_unknown_survey(config_file):
    reply = FIXTURES / "reply_plus_token_thumbs_up.eml"
    done = mailflow("parse", "--survey", "thumbs", str(reply), cwd=config_file.parent)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["answers"] in ({"thumbs": "good"}, {"score": "good"})

    wrong = mailflow("parse", "--survey", "nope", str(reply), cwd=config_file.parent)
    assert wrong.returncode == 2 and "unknown survey 'nope'" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_ingest_list_and_retry(config_file, engine, inbound_settings, make_sent):
    sent = make_sent("csat")
    good = config_file.parent / "good.eml"
    good.write_bytes(sent.fill(eml("reply_plus_token_csat_5.eml")))
    odd = config_file.parent / "odd.eml"
    odd.write_bytes(sent.fill(eml("reply_ambiguous_3_or_4.eml")))
    cwd = config_file.parent

    done = mailflow("ingest", str(good), str(odd), str(good), cwd=cwd)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "parsed" in lines[0] and f"request {sent.request_id}" in lines[0]
    assert "quarantined" in lines[1] and "ambiguous_score" in lines[1]
    assert "already stored" in lines[2]
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(InboundMessage)).one() == 2
        odd_id = session.exec(
            select(InboundMessage.id).where(InboundMessage.status == "quarantined")
        ).one()

    listed = mailflow("inbound", "--status", "quarantined", cwd=cwd)
    assert listed.returncode == 0, listed.stderr
    assert "ambiguous_score" in listed.stdout and "parsed" not in listed.stdout

    again = mailflow("inbound", "retry", str(odd_id), cwd=cwd)
    assert again.returncode == 0 and "quarantined" in again.stdout
    refused = mailflow("inbound", "retry", "1", cwd=cwd)
    assert refused.returncode == 2 and "already became an answer" in refused.stderr


def test_ingest_from_stdin_as_procmail_does(config_file, engine, make_sent):
    sent = make_sent("csat")
    raw = sent.fill(eml("reply_plus_token_csat_5.eml")).decode()
    done = mailflow("ingest", "-", cwd=config_file.parent, stdin=raw)
    assert done.returncode == 0, done.stderr
    assert "parsed" in done.stdout and f"request {sent.request_id}" in done.stdout

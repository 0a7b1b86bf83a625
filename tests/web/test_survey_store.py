"""Surveys are data: imported from mailflow.toml once, versioned, exported and imported as
TOML, and followed by every process when a new version is saved."""

from __future__ import annotations

import tomllib

from sqlmodel import select
from typer.testing import CliRunner

from mailflow.cli.app import app as cli
from mailflow.render import Recipient, Renderer
from mailflow.settings import load_settings
from mailflow.survey_store import LiveSurveys, history, live_for, save_survey, surveys_toml
from mailflow.surveys import SurveyConfig
from storage.engine import session_scope
from storage.models import Survey, SurveyVersion

from .conftest import make_site


def test_first_start_imports_the_toml_surveys_once(tmp_path, monkeypatch):
    site = make_site(tmp_path, monkeypatch)
    keys = [s.key for s in site.settings.surveys]
    live_for(site.settings, site.engine)
    with session_scope(site.engine) as session:
        stored = session.exec(select(Survey.key).order_by(Survey.key)).all()
        versions = session.exec(select(SurveyVersion)).all()
    assert sorted(keys) == list(stored) and len(versions) == len(keys)
    assert {v.author for v in versions} == {"mailflow.toml"} and {v.number for v in versions} == {1}
    # a second process on the same database imports nothing again
    again = LiveSurveys(load_settings(site.settings.config_file), site.engine)
    assert again.start() == 0


def test_export_edit_import_makes_a_new_version(tmp_path, monkeypatch):
    site = make_site(tmp_path, monkeypatch)
    run = CliRunner()
    exported = run.invoke(cli, ["surveys", "export"])
    assert exported.exit_code == 0, exported.output
    data = tomllib.loads(exported.stdout)
    assert [s["key"] for s in data["surveys"]] == sorted(s.key for s in site.settings.surveys)
    csat = next(s for s in data["surveys"] if s["key"] == "csat")
    # the exported TOML is the model, round-tripped exactly
    assert csat == site.settings.survey("csat").model_dump(mode="json", exclude_none=True)
    unchanged = tmp_path / "same.toml"
    unchanged.write_text(exported.stdout, encoding="utf-8")
    assert "Nothing changed" in run.invoke(cli, ["surveys", "import", str(unchanged)]).output
    csat["texts"]["pl"]["title"] = "Jak oceniasz naszą pomoc?"
    csat["trigger"] = {"on": "ticket.closed", "delay_hours": 2.0, "vip_only": True}
    edited = tmp_path / "surveys.toml"
    edited.write_text(surveys_toml_from(data), encoding="utf-8")
    imported = run.invoke(cli, ["surveys", "import", str(edited)])
    assert imported.exit_code == 0 and "csat" in imported.output, imported.output
    with session_scope(site.engine) as session:
        [v2, v1] = history(session, "csat")
    assert (v2.number, v1.number) == (2, 1) and v2.author.startswith("cli:")
    assert "texts.pl.title" in v2.summary and "trigger.vip_only" in v2.summary
    assert v2.config["texts"]["pl"]["title"] == "Jak oceniasz naszą pomoc?"
    listed = run.invoke(cli, ["surveys", "history", "csat"])
    assert listed.output.splitlines()[0].startswith("v2\t")
    # a wrong file is refused with the field named, and nothing is stored
    bad = tmp_path / "bad.toml"
    text = surveys_toml_from(data)
    bad.write_text(text.replace('type = "csat"', 'type = "stars"'), encoding="utf-8")
    refused = run.invoke(cli, ["surveys", "import", str(bad)])
    assert refused.exit_code == 2 and "survey csat: type" in refused.output
    with session_scope(site.engine) as session:
        assert len(history(session, "csat")) == 2


def surveys_toml_from(data):
    return surveys_toml([SurveyConfig.model_validate(s) for s in data["surveys"]])


def test_every_process_follows_a_saved_version(tmp_path, monkeypatch):
    site = make_site(tmp_path, monkeypatch)
    web_process = LiveSurveys(site.settings, site.engine, interval=0)
    web_process.start()
    other = load_settings(site.settings.config_file)
    worker = LiveSurveys(other, site.engine, interval=0)
    worker.start()
    renderer = Renderer(other)
    recipient = Recipient(request_id=1, email="anna@example.com", name="Anna")
    before = renderer.parts(other.survey("csat"), "en", recipient)["html"]
    assert "Brand-new title" not in before
    data = site.settings.survey("csat").model_dump(mode="json")
    data["texts"]["en"]["title"] = "Brand-new title"
    edited = SurveyConfig.model_validate(data)
    with session_scope(site.engine) as session:
        version = save_survey(session, edited, "maria")
        assert save_survey(session, edited, "maria") is None  # nothing changed: no version
    assert worker.refresh() is True and worker.version_id("csat") == version.id
    after = renderer.parts(other.survey("csat"), "en", recipient)["html"]
    assert "Brand-new title" in after
    assert worker.refresh() is False  # no new version: no reload

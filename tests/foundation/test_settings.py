"""Settings: the example loads, the environment wins, and bad config names file/survey/field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mailflow.settings import ConfigError, load_settings
from tests.foundation.conftest import example_config


def test_example_has_the_five_surveys_with_three_locales(example_settings):
    keys = [s.key for s in example_settings.surveys]
    assert keys == ["csat", "nps", "ces", "thumbs", "service_quality"]
    for survey in example_settings.surveys:
        assert set(survey.texts) == {"en", "ru", "pl"}
    form = example_settings.survey("service_quality")
    assert [q.key for q in form.questions] == ["speed", "work"]
    assert list(form.questions[0].options) == ["immediately", "fast", "normal", "slow"]
    assert list(form.questions[1].options) == ["excellent", "good", "bad", "very_bad"]


def test_type_fixes_scale_and_default_question(example_settings):
    nps = example_settings.survey("nps")
    assert nps.kind.scale == tuple(str(n) for n in range(11))
    assert "recommend" in nps.question_text("en")
    assert "порекомендуете" in nps.question_text("ru")
    assert example_settings.survey("ces").kind.scale[-1] == "7"
    assert example_settings.survey("thumbs").kind.scale == ("good", "bad")


def test_negative_rules(example_settings):
    form = example_settings.survey("service_quality")
    assert form.is_negative(None, {"speed": "slow", "work": "excellent"}, None)
    assert form.is_negative(None, {"speed": "fast", "work": "very_bad"}, None)
    assert not form.is_negative(None, {"speed": "fast", "work": "good"}, None)
    nps = example_settings.survey("nps")
    assert nps.is_negative(6, {}, None) and not nps.is_negative(7, {}, None)
    thumbs = example_settings.survey("thumbs")
    assert thumbs.is_negative(0, {"thumbs": "bad"}, None)


def test_environment_wins_over_file(config_file, monkeypatch):
    monkeypatch.setenv("MAILFLOW_DATABASE_URL", "sqlite:////tmp/elsewhere.db")
    monkeypatch.setenv("MAILFLOW_OUTBOUND__CAP_DAYS", "3")
    current = load_settings(config_file)
    assert current.database_url == "sqlite:////tmp/elsewhere.db"
    assert current.outbound.cap_days == 3


def test_secrets_never_print(example_settings):
    assert "test-secret-key" not in repr(example_settings)


BAD_CONFIGS = [
    ('type = "csat"', 'type = "stars"', "survey 'csat': type:"),
    (
        'key = "csat"\ntype = "csat"\nprivacy_url = "https://example.com/privacy"',
        'key = "csat"\ntype = "csat"',
        "survey 'csat': privacy_url: required",
    ),
    (
        'title = "Как мы справились?"\n',
        "",
        "survey 'csat': texts.ru.title: required",
    ),
    (
        'title = "Would you recommend us?"',
        'title = "Would you recommend us?"\nlabels = { "11" = "Wow" }',
        "survey 'nps': texts.en.labels: '11' is not on the nps scale",
    ),
    ('key = "ces"', 'key = "csat"', "survey 'csat': key: duplicate survey key"),
    (
        "expiration_days = 14",
        'expiration_days = 14\ncolour = "red"',
        "survey 'nps': colour: unknown field",
    ),
    (
        '[surveys.texts.pl]\ntitle = "Jak nam poszło?"',
        '[surveys.texts.de]\ntitle = "Jak nam poszło?"',
        "survey 'csat': texts.pl: missing",
    ),
    # addresses are checked like the events API's (email-validator), naming the key
    (
        'default_manager = "manager@example.com"',
        'default_manager = "manager@@example.com"',
        "default_manager: not a valid email address",
    ),
    (
        'sender_email = "support@example.com"',
        'sender_email = "support at example.com"',
        "brand.sender_email: not a valid email address",
    ),
    (
        'escalate_to = "manager@example.com"',
        'escalate_to = "the manager"',
        "survey 'service_quality': escalate_to: not a valid email address",
    ),
    (
        '# [escalation]\n# team_managers = { printers = "printers-lead@example.com" }',
        '[escalation]\nteam_managers = { printers = "printers-lead@" }',
        "escalation.team_managers.printers: not a valid email address",
    ),
    (
        '# [[escalation.managers]]\n# email = "manager@example.com"',
        '[[escalation.managers]]\nemail = "manager.example.com"',
        "escalation.managers.0.email: not a valid email address",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), BAD_CONFIGS)
def test_bad_config_names_file_survey_and_field(tmp_path: Path, old, new, expected):
    text = example_config()
    assert old in text
    path = tmp_path / "mailflow.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)


def test_bad_config_stops_cli_with_one_line_and_exit_2(tmp_path: Path):
    (tmp_path / "mailflow.toml").write_text(
        example_config().replace('type = "csat"', 'type = "stars"', 1), encoding="utf-8"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mailflow", "preview", "csat"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "mailflow.toml: survey 'csat': type:" in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_config_file_says_run_init(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "mailflow", "preview", "csat"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "mailflow init" in result.stderr


def test_a_short_secret_key_is_refused_naming_file_and_key(tmp_path: Path):
    path = tmp_path / "mailflow.toml"
    path.write_text(example_config(secret="too-short-0123456789"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}: secret_keys.0: shorter than 32 bytes")
    result = subprocess.run(
        [sys.executable, "-m", "mailflow", "preview", "csat"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "secret_keys.0: shorter than 32 bytes" in result.stderr
    assert "Traceback" not in result.stderr


def test_init_writes_a_strong_private_config_and_the_database_is_private(tmp_path: Path):
    run = [sys.executable, "-m", "mailflow"]
    subprocess.run([*run, "init", str(tmp_path)], check=True, capture_output=True, timeout=60)
    config = tmp_path / "mailflow.toml"
    assert config.stat().st_mode & 0o777 == 0o600
    settings = load_settings(config)  # its key passes the length check
    assert len(settings.secret_keys[0].get_secret_value()) >= 32
    listed = subprocess.run(
        [*run, "user", "list"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0, listed.stderr
    database = tmp_path / "mailflow.db"
    assert database.exists() and database.stat().st_mode & 0o777 == 0o600
    for extra in tmp_path.glob("mailflow.db-*"):  # WAL and shared memory, if left
        assert extra.stat().st_mode & 0o077 == 0, extra


def test_addresses_in_the_file_are_normalised_like_event_addresses(tmp_path: Path):
    """Upper case and IDN domains are written as the world writes them; they are stored the
    way the events API stores a contact's address (mailflow.contacts.checked_address)."""
    from mailflow.contacts import checked_address

    text = example_config().replace(
        'default_manager = "manager@example.com"', 'default_manager = "Manager@Example.COM"', 1
    )
    text = text.replace(
        '# [escalation]\n# team_managers = { printers = "printers-lead@example.com" }',
        '[escalation]\nteam_managers = { printers = "Руководитель@Почта.рф" }',
        1,
    )
    path = tmp_path / "mailflow.toml"
    path.write_text(text, encoding="utf-8")
    current = load_settings(path)
    assert current.default_manager == "manager@example.com"
    lead = current.escalation.team_managers["printers"]
    assert lead == "руководитель@почта.рф" == checked_address("Руководитель@Почта.рф")

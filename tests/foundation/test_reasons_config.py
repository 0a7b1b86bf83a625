"""Reason questions in mailflow.toml: the example asks them after a bad CSAT and NPS, and a
bad one stops start-up with one line naming the file, the survey and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailflow.settings import ConfigError, load_settings
from tests.foundation.conftest import example_config


def test_example_asks_what_went_wrong_after_csat_1_2_and_improve_after_nps_0_6(example_settings):
    csat = example_settings.survey("csat")
    assert [q.key for q in csat.reasons_for("1")] == ["what_went_wrong"]
    assert csat.reasons_for("3") == [] and csat.reasons_for(None) == []
    question = csat.reason_question("what_went_wrong")
    assert question.other and question.label("slow", "ru") == "Долгий ответ"
    nps = example_settings.survey("nps")
    assert [q.key for q in nps.reasons_for("6")] == ["improve"] and nps.reasons_for("7") == []
    # The configuration round-trips as the JSON document the database will keep.
    again = type(csat).model_validate_json(csat.model_dump_json())
    assert again.reasons == csat.reasons


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'when = ["1", "2"]',
            'when = ["1", "9"]',
            "survey 'csat': reasons.what_went_wrong.when: '9' is not on the csat scale",
        ),
        ('when = ["1", "2"]', "when = []", "survey 'csat': reasons.0.when"),
        (
            '# escalate_to = { rude = "team-lead@example.com" }',
            'escalate_to = { rudeness = "lead@example.com" }',
            "escalate_to.rudeness: no such option",
        ),
        (
            '# escalate_to = { rude = "team-lead@example.com" }',
            'escalate_to = { rude = "team-lead" }',
            "not an email address",
        ),
        (
            'slow = { en = "Slow response", ru = "Долгий ответ", pl = "Długi czas odpowiedzi" }',
            'slow = { en = "Slow response", ru = "Долгий ответ" }',
            "reasons.what_went_wrong.options.slow.pl: missing",
        ),
        (
            ', pl = "Co poszło nie tak?" }',
            " }",
            "reasons.what_went_wrong.text.pl: missing",
        ),
        ('key = "what_went_wrong"', 'key = "What Went Wrong"', "reasons.0.key"),
        ("other = true\n# escalate_to", "otherwise = true\n# escalate_to", "unknown field"),
    ],
)
def test_bad_reason_question_names_file_survey_and_key(tmp_path: Path, old, new, expected):
    text = example_config()
    assert old in text
    path = tmp_path / "mailflow.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and expected in message, message

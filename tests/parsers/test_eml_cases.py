"""Every parser case is a file: tests/fixtures/<group>/NAME.eml read by `parse`, and
NAME.expected.json beside it holding what `mailflow parse` must print for it.

The expected file names the survey the message is read with ("survey": a key of
tests/parsers/surveys.py, or null) and any of the contract fields (kind, language,
visible_text, score, comment, answers, error, request_token, in_reply_to); the fields it
names must match exactly, the ones it leaves out are not judged. "about" says in words what
the case is for.
"""

from __future__ import annotations

import json

import pytest

from parsers import parse
from parsers.contract import CONTRACT_KEYS
from tests.parsers.conftest import FIXTURES
from tests.parsers.surveys import SURVEYS

NOT_JUDGED = {"survey", "about"}
CASES = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.glob("*/*.eml"))


def expected_of(name: str) -> dict:
    """The expected reading of fixture `name` ("replies/x.eml")."""
    path = FIXTURES / name.replace(".eml", ".expected.json")
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_message_has_its_expected_reading() -> None:
    missing = [n for n in CASES if not (FIXTURES / n.replace(".eml", ".expected.json")).exists()]
    orphans = [
        str(p.relative_to(FIXTURES))
        for p in FIXTURES.glob("*/*.expected.json")
        if not p.with_name(p.name.replace(".expected.json", ".eml")).exists()
    ]
    assert not missing and not orphans, (missing, orphans)


def test_expected_files_name_only_contract_fields() -> None:
    for name in CASES:
        expected = expected_of(name)
        assert set(expected) <= set(CONTRACT_KEYS) | NOT_JUDGED, name
        assert expected.get("survey") is None or expected["survey"] in SURVEYS, name


@pytest.mark.parametrize("name", CASES)
def test_case(name: str) -> None:
    expected = expected_of(name)
    survey = SURVEYS[expected["survey"]] if expected.get("survey") else None
    result = parse((FIXTURES / name).read_bytes(), survey, file=name)
    judged = {key: value for key, value in expected.items() if key not in NOT_JUDGED}
    assert {key: result[key] for key in judged} == judged


def test_there_are_enough_cases() -> None:
    """Issue #17: at least 300 cases across the clients and languages."""
    assert len(CASES) >= 300

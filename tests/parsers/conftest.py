"""Parser test helpers: one fixture loader and the SurveySpecs answers are read with."""

from __future__ import annotations

from pathlib import Path

import pytest

from parsers.types import SurveySpec
from tests.parsers.surveys import SURVEYS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def load(name: str) -> bytes:
    """The raw bytes of tests/fixtures/<name> ("replies/gmail_ru_score_9_quoted.eml")."""
    return (FIXTURES / name).read_bytes()


def all_fixtures(group: str = "*") -> list[str]:
    """Every fixture name in a group (or all groups), sorted."""
    return sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.glob(f"{group}/*.eml"))


@pytest.fixture
def surveys() -> dict[str, SurveySpec]:
    return SURVEYS

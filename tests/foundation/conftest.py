"""Foundation fixtures: the example configuration written by `mailflow init`, as a user has it."""

from __future__ import annotations

import string
from importlib import resources
from pathlib import Path

import pytest

from mailflow.settings import Settings, load_settings

TEST_KEY = "test-secret-key-0123456789abcdef0123456789"


def example_config(secret: str = TEST_KEY) -> str:
    """The text `mailflow init` writes, with a known secret."""
    template = resources.files("mailflow").joinpath("example_config.toml").read_text("utf-8")
    return string.Template(template).substitute(secret=secret)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "mailflow.toml"
    path.write_text(example_config(), encoding="utf-8")
    return path


@pytest.fixture
def example_settings(config_file: Path) -> Settings:
    return load_settings(config_file)


@pytest.fixture
def https_settings(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The example with a public https base URL, as AMP for Email requires."""
    monkeypatch.setenv("MAILFLOW_WEB__BASE_URL", "https://surveys.example.com")
    return load_settings(config_file)

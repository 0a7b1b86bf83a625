"""`mailflow apikey create` prints the key once; `mailflow user create --password-stdin`."""

from __future__ import annotations

import re

from sqlmodel import select
from typer.testing import CliRunner

from mailflow.auth import API_KEY_RE, authenticate, verify_api_key
from mailflow.cli.app import app
from storage.engine import session_scope
from storage.models import ApiKey

from .conftest import make_site


def run(args, **kwargs):
    return CliRunner().invoke(app, args, catch_exceptions=False, **kwargs)


def test_apikey_create_prints_a_key_that_authenticates(tmp_path, monkeypatch):
    site = make_site(tmp_path, monkeypatch)
    result = run(["apikey", "create", "helpdesk"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[0]
    assert API_KEY_RE.match(key)
    with session_scope(site.engine) as session:
        assert verify_api_key(session, key) is not None
        [row] = session.exec(select(ApiKey)).all()
        assert row.name == "helpdesk" and key not in row.key_hash
    again = run(["apikey", "create", "helpdesk"])
    assert again.exit_code == 2 and "exists already" in again.output
    assert run(["apikey", "revoke", "helpdesk"]).exit_code == 0
    with session_scope(site.engine) as session:
        assert verify_api_key(session, key) is None


def test_user_create_from_stdin(tmp_path, monkeypatch):
    site = make_site(tmp_path, monkeypatch)
    result = run(
        ["user", "create", "maria", "--password-stdin", "--locale", "pl"], input="s3cret-pass\n"
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"Created user maria", result.output)
    with session_scope(site.engine) as session:
        user = authenticate(session, "maria", "s3cret-pass")
        assert user is not None and user.locale == "pl"
    short = run(["user", "create", "jan", "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "at least 8 characters" in short.output

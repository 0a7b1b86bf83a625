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
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    for common in ("password", "Password2024!", "1234567890", "qwertyuiop", "aaaaaaaaaaaa"):
        weak = run(["user", "create", "jan", "--password-stdin"], input=f"{common}\n")
        assert weak.exit_code == 2 and "password" in weak.output, common


def test_user_list_passwd_disable_delete(tmp_path, monkeypatch):
    site = make_site(tmp_path, monkeypatch)
    created = run(["user", "create", "ola", "--password-stdin"], input="first long pass\n")
    assert created.exit_code == 0
    listed = run(["user", "list"])
    assert listed.exit_code == 0 and "ola" in listed.stdout and "active" in listed.stdout
    changed = run(["user", "passwd", "ola", "--password-stdin"], input="second long pass\n")
    assert changed.exit_code == 0, changed.output
    with session_scope(site.engine) as session:
        assert authenticate(session, "ola", "first long pass") is None
        assert authenticate(session, "ola", "second long pass") is not None
    weak = run(["user", "passwd", "ola", "--password-stdin"], input="password1\n")
    assert weak.exit_code == 2
    assert run(["user", "disable", "ola"]).exit_code == 0
    assert "disabled" in run(["user", "list"]).stdout
    with session_scope(site.engine) as session:
        assert authenticate(session, "ola", "second long pass") is None
    assert run(["user", "disable", "ola", "--enable"]).exit_code == 0
    with session_scope(site.engine) as session:
        assert authenticate(session, "ola", "second long pass") is not None
    assert run(["user", "delete", "ola", "--yes"]).exit_code == 0
    assert "ola" not in run(["user", "list"]).stdout
    missing = run(["user", "delete", "ola", "--yes"])
    assert missing.exit_code == 2 and "no user named 'ola'" in missing.output


def test_apikey_scopes_are_chosen_at_creation(tmp_path, monkeypatch):
    site = make_site(tmp_path, monkeypatch)
    assert run(["apikey", "create", "helpdesk"]).exit_code == 0
    both = run(["apikey", "create", "bi", "--scope", "reports:read", "--scope", "events:write"])
    assert both.exit_code == 0
    bad = run(["apikey", "create", "x", "--scope", "admin"])
    assert bad.exit_code == 2 and "unknown admin" in bad.output
    with session_scope(site.engine) as session:
        scopes = {row.name: row.scopes for row in session.exec(select(ApiKey))}
    assert scopes == {"helpdesk": "events:write", "bi": "reports:read events:write"}

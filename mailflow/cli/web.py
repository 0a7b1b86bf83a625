"""`mailflow apikey create|revoke NAME` and `mailflow user create USERNAME`."""

from __future__ import annotations

import sys

import typer

from mailflow.auth import AuthError, create_api_key, create_user, revoke_api_key
from mailflow.cli.app import app, engine, fail, settings
from storage.engine import session_scope

apikey_app = typer.Typer(help="API keys for POST /api/events.", no_args_is_help=True)
user_app = typer.Typer(help="Staff logins for the admin pages.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")
app.add_typer(user_app, name="user")


@apikey_app.command("create")
def apikey_create(name: str = typer.Argument(..., help="What the key is for.")) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    current = settings()
    try:
        with session_scope(engine(current)) as session:
            key = create_api_key(session, name)
    except AuthError as exc:
        fail(str(exc))
    typer.echo(key)
    typer.echo("Store this key now: it cannot be shown again.", err=True)


@apikey_app.command("revoke")
def apikey_revoke(name: str = typer.Argument(..., help="The key's name.")) -> None:
    """Revoke an API key; requests with it get 401 from now on."""
    current = settings()
    with session_scope(engine(current)) as session:
        revoked = revoke_api_key(session, name)
    if not revoked:
        fail(f"no active API key named {name!r}")
    typer.echo(f"Revoked {name}.")


@user_app.command("create")
def user_create(
    username: str = typer.Argument(..., help="Login name."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input."
    ),
    locale: str = typer.Option("en", "--locale", "-l", help="Language of the admin pages."),
) -> None:
    """Create a staff user for the admin pages (password hashed with argon2)."""
    current = settings()
    if locale not in current.locales:
        fail(f"--locale: '{locale}' is not configured (configured: {', '.join(current.locales)})")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope(engine(current)) as session:
            create_user(session, username, password, locale)
    except AuthError as exc:
        fail(str(exc))
    typer.echo(f"Created user {username}.")

"""`mailflow apikey create|revoke NAME` and `mailflow user create|list|passwd|disable|delete`."""

from __future__ import annotations

import sys

import typer
from sqlmodel import Session, select

from mailflow.auth import (
    ROLES,
    SCOPES,
    AuthError,
    check_password,
    create_api_key,
    create_user,
    delete_user,
    disable_user,
    list_users,
    revoke_api_key,
    set_password,
)
from mailflow.cli.app import app, engine, fail, settings
from storage.engine import session_scope
from storage.models import Employee

apikey_app = typer.Typer(help="API keys for /api/events and /api/reports.", no_args_is_help=True)
user_app = typer.Typer(help="Staff logins for the admin pages.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")
app.add_typer(user_app, name="user")
PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="Read the password from standard input."
)


@apikey_app.command("create")
def apikey_create(
    name: str = typer.Argument(..., help="What the key is for."),
    scope: list[str] = typer.Option(
        [], "--scope", "-s", help=f"What it may do: {', '.join(SCOPES)} (default events:write)."
    ),
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    current = settings()
    try:
        with session_scope(engine(current)) as session:
            key = create_api_key(session, name, scope)
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


def _password(from_stdin: bool, username: str) -> str:
    """The new password from stdin or a hidden prompt, checked before any work."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        check_password(password, username)
    except AuthError as exc:
        fail(str(exc))
    return password


@user_app.command("create")
def user_create(
    username: str = typer.Argument(..., help="Login name."),
    password_stdin: bool = PASSWORD_STDIN,
    locale: str = typer.Option("en", "--locale", "-l", help="Language of the admin pages."),
    role: str = typer.Option(
        "admin", "--role", "-r", help="admin (everything), manager or agent (own results)."
    ),
    employee: str = typer.Option(
        "", "--employee", "-e", help="An agent's employee: id, e-mail or external id."
    ),
) -> None:
    """Create a staff user for the admin pages (password hashed with argon2)."""
    current = settings()
    if locale not in current.locales:
        fail(f"--locale: '{locale}' is not configured (configured: {', '.join(current.locales)})")
    if role not in ROLES:
        fail(f"--role: one of {', '.join(ROLES)}")
    if role == "agent" and not employee:
        fail("--employee: an agent is linked to the employee whose results they see")
    password = _password(password_stdin, username)
    try:
        with session_scope(engine(current)) as session:
            employee_id = _employee_id(session, employee) if employee else None
            create_user(
                session, username, password, locale, role=role, employee_id=employee_id
            )
    except AuthError as exc:
        fail(str(exc))
    typer.echo(f"Created user {username} ({role}).")


def _employee_id(session: Session, wanted: str) -> int:
    """The id of the employee named by id, e-mail or external id; AuthError when none is."""
    column = Employee.email if "@" in wanted else Employee.external_id
    found = session.exec(select(Employee.id).where(column == wanted)).first()
    if found is None and wanted.isdigit():
        found = session.exec(select(Employee.id).where(Employee.id == int(wanted))).first()
    if found is None:
        raise AuthError(f"--employee: no employee {wanted!r} (id, e-mail or external id)")
    return found


@user_app.command("list")
def user_list() -> None:
    """Every staff user: name, language, created, disabled."""
    with session_scope(engine(settings())) as session:
        users = list_users(session)
    for user in users:
        state = f"disabled {user.disabled_at:%Y-%m-%d %H:%M}" if user.disabled_at else "active"
        typer.echo(
            f"{user.username}\t{user.role}\t{user.locale}\t{user.created_at:%Y-%m-%d}\t{state}"
        )
    if not users:
        typer.echo("No users yet: `mailflow user create NAME`.", err=True)


@user_app.command("passwd")
def user_passwd(
    username: str = typer.Argument(..., help="Login name."), password_stdin: bool = PASSWORD_STDIN
) -> None:
    """Set a new password; every session of the user ends."""
    password = _password(password_stdin, username)
    try:
        with session_scope(engine(settings())) as session:
            set_password(session, username, password)
    except AuthError as exc:
        fail(str(exc))
    typer.echo(f"Password of {username} changed; their sessions have ended.")


@user_app.command("disable")
def user_disable(
    username: str = typer.Argument(..., help="Login name."),
    enable: bool = typer.Option(False, "--enable", help="Allow the user to sign in again."),
) -> None:
    """Stop a user signing in and end their sessions (--enable undoes it)."""
    try:
        with session_scope(engine(settings())) as session:
            disable_user(session, username, disabled=not enable)
    except AuthError as exc:
        fail(str(exc))
    typer.echo(f"Enabled {username}." if enable else f"Disabled {username}; sessions ended.")


@user_app.command("delete")
def user_delete(
    username: str = typer.Argument(..., help="Login name."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Delete a user and end their sessions."""
    if not yes:
        typer.confirm(f"Delete user {username}?", abort=True)
    try:
        with session_scope(engine(settings())) as session:
            delete_user(session, username)
    except AuthError as exc:
        fail(str(exc))
    typer.echo(f"Deleted {username}.")

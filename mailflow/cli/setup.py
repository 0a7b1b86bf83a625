"""Getting started: `init`, `preview`, `db upgrade` and `up`."""

from __future__ import annotations

import os
import secrets
import string
from importlib import resources
from pathlib import Path

import typer

from mailflow.cli.app import app, console, engine, fail, settings, state
from mailflow.render import Recipient, Renderer

SAMPLE_CONTACTS = {
    "en": ("Anna Smith", "anna.smith@example.com", "Printer in room 4 does not print"),
    "ru": ("Анна Иванова", "anna.ivanova@example.com", "Не печатает принтер в кабинете 4"),
    "pl": ("Anna Kowalska", "anna.kowalska@example.com", "Drukarka w pokoju 4 nie drukuje"),
}

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.command()
def init(directory: Path = typer.Argument(Path("."), help="Where to write mailflow.toml.")) -> None:
    """Write a commented mailflow.toml with a fresh secret key and five example surveys."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "mailflow.toml"
    if target.exists():
        console.print(f"{target} already exists; keeping it.")
        return
    template = resources.files("mailflow").joinpath("example_config.toml").read_text("utf-8")
    text = string.Template(template).substitute(secret=secrets.token_urlsafe(48))
    # Owner-only from the first byte (it holds the secret key): never briefly 0644.
    with os.fdopen(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600), "w") as out:
        out.write(text)
    console.print(f"Wrote {target}. Next: `mailflow up`.")


@app.command()
def preview(
    survey: str = typer.Argument(..., help="Survey key from mailflow.toml."),
    locale: str | None = typer.Option(None, "--locale", "-l", help="en, ru, pl …"),
    eml: Path | None = typer.Option(None, "--eml", help="Write the whole email here."),
    html: Path | None = typer.Option(None, "--html", help="Write the HTML part here."),
) -> None:
    """Render a sample survey email for a sample contact."""
    current = settings()
    try:
        config = current.survey(survey)
    except KeyError:
        known = ", ".join(s.key for s in current.surveys) or "none"
        fail(f"unknown survey '{survey}' (configured: {known})")
    if locale is not None and locale not in config.texts:
        fail(f"survey '{survey}' has no locale '{locale}' (has: {', '.join(config.texts)})")
    renderer = Renderer(current)
    chosen = renderer.resolve_locale(config, locale)
    name, address, title = SAMPLE_CONTACTS.get(chosen, SAMPLE_CONTACTS["en"])
    who = Recipient(
        request_id=1, email=address, name=name, ticket_ref="1042", ticket_title=title, preview=True
    )
    raw = renderer.render(config, who, locale=chosen)
    if not renderer.amp_enabled:
        typer.echo(
            f"No AMP part: web.base_url is {current.web.base_url}, and AMP for Email posts "
            "only to https. Set web.base_url to your public https address to include it.",
            err=True,
        )
    typer.echo(
        "Preview: its links open a page that says so and record nothing; replies are refused.",
        err=True,
    )
    if html is not None:
        html.write_text(renderer.parts(config, chosen, who)["html"], encoding="utf-8")
        console.print(f"HTML written to {html}")
    if eml is not None:
        eml.write_bytes(raw)
        console.print(f"Email written to {eml} ({len(raw)} bytes); open it in a mail client.")
    if eml is None and html is None:
        typer.echo(raw.decode("utf-8", "replace"))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the newest migration."""
    from mailflow.database import head_revision
    from storage.engine import make_engine
    from storage.migrate import current_revision, upgrade

    current = settings()
    db = make_engine(current.database_url)
    upgrade(db)
    console.print(f"Database at revision {current_revision(db)} (head {head_revision(db)}).")


@app.command()
def up(
    web: str | None = typer.Option(None, "--web", help="HOST:PORT for the web app."),
    smtp: str | None = typer.Option(None, "--smtp", help="HOST:PORT for the SMTP listener."),
    role: str | None = typer.Option(
        None,
        "--role",
        help="Comma-separated: web, listener, worker, scheduler (default all).",
    ),
) -> None:
    """Run everything (web, SMTP listener and IMAP pollers, outbox worker, scheduler), or
    only the roles named by --role."""
    from mailflow.service import ROLES, UnknownRole, parse_roles, run_service

    try:
        roles = parse_roles(role)
    except UnknownRole as exc:
        fail(f"--role: {exc}")
    current = settings()
    db = engine(current)
    running = ", ".join(r for r in ROLES if r in roles)
    console.print(f"Mailflow up ({running}) with {state.config}; press Ctrl+C to stop.")
    try:
        run_service(current, db, web=web or current.web.listen, smtp=smtp, roles=roles)
    except UnknownRole as exc:
        fail(f"--role: {exc}")


@app.command()
def backup(
    file: Path = typer.Argument(..., help="Where to write the copy."),
    force: bool = typer.Option(False, "--force", help="Overwrite FILE if it exists."),
) -> None:
    """Copy the SQLite database to FILE while Mailflow runs (SQLite's online backup API).
    On PostgreSQL, print the pg_dump command to use instead and exit 1."""
    from mailflow.database import BackupRefused, backup_sqlite, pg_dump_command

    current = settings()
    if current.database_url.startswith("postgresql"):
        typer.echo(pg_dump_command(current, file))
        fail(
            "the database is PostgreSQL: back it up with pg_dump (the command above; restore "
            "with pg_restore --no-owner -d URL FILE)",
            code=1,
        )
    try:
        size = backup_sqlite(current, file, force=force)
    except BackupRefused as exc:
        fail(str(exc))
    console.print(f"Backed up {current.sqlite_path()} to {file} ({size:,} bytes).")

"""`mailflow surveys list|export|import|history`: the surveys stored in the database (edited
at /admin/surveys), as TOML for people who keep them in git."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import typer

from mailflow.cli.app import app, engine, fail, settings
from mailflow.survey_store import (
    SurveyInputError,
    current_versions,
    history,
    import_surveys,
    surveys_toml,
)
from mailflow.surveys import SurveyConfig
from storage.engine import session_scope

surveys_app = typer.Typer(help="Surveys stored in the database (versioned).", no_args_is_help=True)
app.add_typer(surveys_app, name="surveys")


def _author() -> str:
    return f"cli:{os.environ.get('USER') or 'unknown'}"


@surveys_app.command("list")
def surveys_list() -> None:
    """Every survey: key, type, current version, who saved it and when."""
    with session_scope(engine(settings())) as session:
        for version in current_versions(session):
            config = version.config
            typer.echo(
                f"{config['key']}\t{config['type']}\tv{version.number}\t{version.author}\t"
                f"{version.created_at:%Y-%m-%d %H:%M}"
            )


@surveys_app.command("export")
def surveys_export() -> None:
    """Print the current surveys as TOML (`mailflow surveys export > surveys.toml`)."""
    with session_scope(engine(settings())) as session:
        configs = [SurveyConfig.model_validate(v.config) for v in current_versions(session)]
    typer.echo(surveys_toml(configs), nl=False)


@surveys_app.command("import")
def surveys_import(
    file: Path = typer.Argument(..., help="A surveys.toml (or mailflow.toml) with [[surveys]]."),
) -> None:
    """Store the file's surveys as new versions (unchanged ones are skipped); all or nothing."""
    current = settings()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{file}: {exc}")
    except tomllib.TOMLDecodeError as exc:
        fail(f"{file}: not TOML ({exc})")
    try:
        with session_scope(engine(current)) as session:
            changed = import_surveys(session, data, current.locales, _author())
    except SurveyInputError as exc:
        fail(f"{file}: {exc}")
    if changed:
        typer.echo(f"New versions of: {', '.join(changed)}.")
    else:
        typer.echo("Nothing changed.")


@surveys_app.command("history")
def surveys_history(key: str = typer.Argument(..., help="The survey's key.")) -> None:
    """Every version of one survey: number, when, who, what changed."""
    with session_scope(engine(settings())) as session:
        versions = history(session, key)
    if not versions:
        fail(f"no survey {key!r}")
    for v in versions:
        typer.echo(f"v{v.number}\t{v.created_at:%Y-%m-%d %H:%M}\t{v.author}\t{v.summary}")

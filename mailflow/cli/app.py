"""The Typer app and what every command shares: the config option, settings, the engine."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from sqlalchemy import Engine

from mailflow.database import DatabaseNotMigrated, open_engine
from mailflow.settings import ConfigError, Settings, load_settings
from mailflow.survey_store import live_for

app = typer.Typer(
    help="Mailflow: customer-satisfaction surveys by email.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()


class State:
    """Per-invocation options shared by all commands."""

    config: Path = Path("mailflow.toml")


state = State()


@app.callback()
def _root(
    config: Path = typer.Option(
        Path("mailflow.toml"),
        "--config",
        "-c",
        envvar="MAILFLOW_CONFIG",
        help="Configuration file.",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log more."),
) -> None:
    state.config = config
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.DEBUG if verbose else logging.WARNING)


def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr and an exit code; never a traceback."""
    print(f"mailflow: {message}", file=sys.stderr)
    raise typer.Exit(code)


def settings(require_file: bool = True) -> Settings:
    """The validated settings, or exit 2 with the one-line reason."""
    try:
        return load_settings(state.config, require_file=require_file)
    except ConfigError as exc:
        fail(str(exc))


def engine(current: Settings) -> Engine:
    """The migrated database engine, or exit 2 saying what to do; `current.surveys` then holds
    the surveys stored in the database (mailflow.toml's imported on the first start)."""
    try:
        opened = open_engine(current)
    except DatabaseNotMigrated as exc:
        fail(str(exc))
    live_for(current, opened)
    return opened

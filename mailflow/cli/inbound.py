"""Inbound commands: `listen`, `ingest`, `parse`, `inbound [--status S]`, `inbound retry ID`,
`inbound accept ID` (staff vouch for an unverified sender)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from mailflow.cli.app import app, console, engine, fail, settings, state
from mailflow.settings import Settings
from storage.states import InboundStatus

inbound_app = typer.Typer(help="Inbound mail: list what arrived, retry quarantined messages.")
app.add_typer(inbound_app, name="inbound")
STATUSES = tuple(InboundStatus)


@app.command()
def listen(
    smtp: str | None = typer.Option(
        None, "--smtp", help="HOST:PORT (default inbound.smtp_listen)."
    ),
) -> None:
    """Run only the SMTP listener for replies (and process what it stores) until Ctrl+C."""
    from mailflow.service import run_listener_only

    current = settings()
    console.print(f"Listening for replies to @{current.reply_domain}; press Ctrl+C to stop.")
    run_listener_only(current, engine(current), smtp=smtp)


EX_TEMPFAIL = 75  # sysexits.h: the MTA keeps the message and tries again later


def _read(path: Path) -> bytes:
    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"{path}: cannot read ({exc.strerror or exc})")


@app.command()
def ingest(
    files: list[Path] = typer.Argument(..., help="Raw .eml files; '-' reads one from stdin."),
) -> None:
    """Store mail files (imports, or `| mailflow ingest -` from procmail/.forward) and process
    them at once. Exits 75 (try again later) when the message could not be stored."""
    from sqlalchemy.exc import SQLAlchemyError

    from mailflow.inbound.store import store_raw
    from mailflow.inbound.worker import process

    current = settings()
    db = engine(current)
    for path in files:
        try:
            stored = store_raw(db, _read(path), via="file")
        except SQLAlchemyError as exc:
            fail(f"{path}: not stored, try again later ({exc.__class__.__name__})", EX_TEMPFAIL)
        if not stored.created:
            typer.echo(f"{path}: already stored as #{stored.id}")
            continue
        outcome = process(current, db, stored.id or 0)
        if outcome is None:
            typer.echo(f"{path}: stored as #{stored.id}")
            continue
        request = f" request {outcome.request_id}" if outcome.request_id else ""
        reason = f" ({outcome.reason})" if outcome.reason else ""
        typer.echo(f"{path}: #{stored.id} {outcome.status}{request}{reason}")


class SurveyByToken:
    """Find the survey a message's token names, reading the database without writing to it."""

    def __init__(self, current: Settings) -> None:
        self.current = current
        self._engine: Any = None

    def _db(self) -> Any:
        from sqlalchemy import create_engine

        if self._engine is None:
            path = self.current.sqlite_path()
            if path is not None:
                if not path.exists():
                    return None
                # mode=ro: parse must never create, migrate or write the database.
                url = f"sqlite:///file:{path.resolve()}?mode=ro&uri=true"
                self._engine = create_engine(url)
            else:
                from storage.engine import make_engine

                self._engine = make_engine(self.current.database_url)
        return self._engine

    def __call__(self, token: str) -> Any:
        """The SurveySpec of the request `token` names, or None (parse then uses no survey)."""
        from sqlalchemy import select
        from sqlalchemy.exc import SQLAlchemyError

        from mailflow.inbound.matching import verify_any
        from mailflow.tokens import Purpose, TokenError, signer_for
        from storage.models import SurveyRequest

        try:
            request_id = verify_any(
                signer_for(self.current), token.lower(), (Purpose.REPLY, Purpose.LINK, Purpose.AMP)
            )
        except TokenError:
            return None
        db = self._db()
        if db is None:
            return None
        query = select(SurveyRequest.survey_key).where(SurveyRequest.id == request_id)  # type: ignore[arg-type]
        try:
            with db.connect() as connection:
                key = connection.execute(query).scalar()
        except SQLAlchemyError:
            return None
        try:
            return self.current.survey(key).spec() if key else None
        except KeyError:
            return None


@app.command()
def parse(
    files: list[Path] = typer.Argument(..., help="Raw .eml files."),
    survey: str | None = typer.Option(
        None, "--survey", "-s", help="Read the answer on this survey's scale (mailflow.toml)."
    ),
) -> None:
    """Parse mail files and print one JSON object per file; writes nothing anywhere."""
    from parsers import parse as parse_message

    current = settings() if state.config.exists() else None
    spec = None
    if survey is not None:
        if current is None:
            fail(f"--survey {survey}: no {state.config} here to read the survey from")
        try:
            spec = current.survey(survey).spec()
        except KeyError:
            known = ", ".join(s.key for s in current.surveys) or "none"
            fail(f"--survey: unknown survey '{survey}' (configured: {known})")
    resolve = SurveyByToken(current) if current is not None and spec is None else None
    for path in files:
        result = parse_message(_read(path), spec, resolve_survey=resolve, file=str(path))
        typer.echo(json.dumps(result, ensure_ascii=False))


HEAD_BYTES = 16384  # the headers of a stored message, enough for From and Subject


def _from_and_subject(head: bytes | None) -> tuple[str, str]:
    """The From address and Subject of a stored message (shared with /admin/inbound)."""
    from mailflow.inbound.staff import sender_and_subject

    return sender_and_subject(head)


@inbound_app.callback(invoke_without_command=True)
def inbound_list(
    ctx: typer.Context,
    status: str | None = typer.Option(
        None, "--status", help=f"One of {', '.join(STATUSES)} (e.g. quarantined, unmatched)."
    ),
    limit: int = typer.Option(50, "--limit", min=1, help="How many, newest first."),
) -> None:
    """List inbound messages, newest first, with sender and subject (e.g. --status
    quarantined: unverified senders waiting for `mailflow inbound accept ID`)."""
    if ctx.invoked_subcommand is not None:
        return
    from sqlalchemy import func
    from sqlalchemy.orm import defer
    from sqlmodel import Session, col, select

    from storage.models import InboundMessage

    if status is not None and status not in STATUSES:
        fail(f"--status: '{status}' is not one of {', '.join(STATUSES)}")
    current = settings()
    head = func.substr(InboundMessage.raw, 1, HEAD_BYTES)
    query = select(InboundMessage, head).order_by(col(InboundMessage.id).desc()).limit(limit)
    if status is not None:
        query = query.where(InboundMessage.status == status)
    with Session(engine(current)) as session:
        rows = session.exec(query.options(defer(InboundMessage.raw))).all()  # type: ignore[arg-type]
    if not rows:
        typer.echo("No inbound messages.")
        return
    # Plain columns, one message per line: easy to read, grep and paste into a ticket.
    typer.echo(
        f"{'id':>6}  {'received':16}  {'via':5}  {'status':11}  {'kind':11}  {'request':>7}  "
        "from | subject | reason"
    )
    for row, first_bytes in rows:
        received = row.received_at.strftime("%Y-%m-%d %H:%M")
        sender, subject = _from_and_subject(bytes(first_bytes) if first_bytes else None)
        reason = row.reason or ""
        if row.raw_pruned_at is not None:  # the bytes are gone; the header fields were kept
            sender, subject = row.sender or "", row.subject or ""
            reason = f"{reason} [raw pruned]".strip()
        who = sender or row.envelope_from or row.mailbox or "-"
        typer.echo(
            f"{row.id:>6}  {received:16}  {row.via:5}  {row.status:11}  {row.kind or '-':11}  "
            f"{row.request_id or '-':>7}  {who} | {subject or '-'} | {reason}".rstrip()
        )


@inbound_app.command("prune")
def inbound_prune() -> None:
    """Drop the raw bytes of processed mail older than inbound.keep_raw_days now (the
    scheduler does it hourly); the parsed result, sender, subject and status are kept."""
    from mailflow.inbound.prune import prune_raw

    current = settings()
    pruned = prune_raw(current, engine(current))
    days = current.inbound.keep_raw_days
    kept = f"older than {days} days" if days else "none: inbound.keep_raw_days = 0"
    typer.echo(f"Pruned the raw mail of {pruned} message(s) ({kept}).")


@inbound_app.command("accept")
def inbound_accept(
    inbound_id: int = typer.Argument(..., help="A quarantined (unverified_sender) message id."),
) -> None:
    """Vouch for the sender of a quarantined or unmatched answer: it is recorded as the answer
    of that sender's newest open request."""
    from mailflow.inbound.worker import RetryRefused, accept

    current = settings()
    try:
        outcome = accept(current, engine(current), inbound_id)
    except RetryRefused as exc:
        fail(str(exc))
    _say(inbound_id, outcome)
    if outcome is not None and outcome.status != "parsed":
        raise typer.Exit(1)


@inbound_app.command("retry")
def inbound_retry(
    inbound_id: int = typer.Argument(..., help="The message id (see the list)."),
) -> None:
    """Process a stored message again, e.g. after fixing mailflow.toml."""
    from mailflow.inbound.worker import RetryRefused, retry

    current = settings()
    try:
        outcome = retry(current, engine(current), inbound_id)
    except RetryRefused as exc:
        fail(str(exc))
    _say(inbound_id, outcome)


def _say(inbound_id: int, outcome: Any) -> None:
    """One line: what became of the message (or that another worker has it)."""
    if outcome is None:
        fail(f"message {inbound_id} was taken by another worker")
    request = f" request {outcome.request_id}" if outcome.request_id else ""
    reason = f" ({outcome.reason})" if outcome.reason else ""
    typer.echo(f"#{inbound_id}: {outcome.status}{request}{reason}")

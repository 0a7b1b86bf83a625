"""`mailflow segments`, `escalations`, `escalation resolve` and `webhooks`: thin commands."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.table import Table
from sqlalchemy import Engine
from sqlmodel import Session

from mailflow import webhooks as webhook_outbox
from mailflow.cli.app import app, console, engine, fail, settings
from mailflow.escalation.resolve import EscalationRefused, list_escalations, resolve
from mailflow.segments import (
    PRESETS,
    SegmentError,
    contacts_in_segment,
    create_segment,
    get_segment,
    list_segments,
)
from storage.engine import session_scope
from storage.states import WebhookState

segments_app = typer.Typer(help="Saved filters over contacts and responses.", no_args_is_help=True)
escalation_app = typer.Typer(help="Act on one escalation.", no_args_is_help=True)
app.add_typer(segments_app, name="segments")
app.add_typer(escalation_app, name="escalation")


@contextmanager
def _database() -> Iterator[Engine]:
    """The configured, migrated engine, disposed when the command is done."""
    db = engine(settings())
    try:
        yield db
    finally:
        db.dispose()


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _lines(items: list[dict[str, Any]]) -> None:
    for item in items:
        typer.echo(json.dumps(item, ensure_ascii=False, default=str))


@segments_app.command("list")
def segments_list(as_json: bool = typer.Option(False, "--json", help="JSON lines.")) -> None:
    """Every saved segment and its definition."""
    with _database() as db, Session(db) as session:
        rows = [{"name": s.name, "definition": s.definition} for s in list_segments(session)]
    if as_json:
        _lines(rows)
        return
    table = Table("name", "definition")
    for row in rows:
        table.add_row(row["name"], json.dumps(row["definition"], ensure_ascii=False))
    console.print(table)


@segments_app.command("create")
def segments_create(
    name: str = typer.Argument(..., help="A unique name, e.g. unhappy-csat."),
    definition: str | None = typer.Option(
        None,
        "--json",
        help='Definition, e.g. \'{"type": "last_score", "survey": "csat", "below": 3}\'.',
    ),
    preset: str | None = typer.Option(None, "--preset", help=f"One of: {', '.join(PRESETS)}."),
) -> None:
    """Save a segment from a JSON definition or a preset."""
    if (definition is None) == (preset is None):
        fail("give exactly one of --json or --preset")
    if preset is not None:
        if preset not in PRESETS:
            fail(f"--preset: unknown '{preset}' (known: {', '.join(PRESETS)})")
        parsed: Any = PRESETS[preset]
    else:
        try:
            parsed = json.loads(definition or "")
        except json.JSONDecodeError as exc:
            fail(f"--json: not JSON: {exc}")
        if not isinstance(parsed, dict):
            fail("--json: must be a JSON object")
    try:
        with _database() as db, session_scope(db) as session:
            segment = create_segment(session, name, parsed)
            saved = segment.definition
    except SegmentError as exc:
        fail(str(exc))
    console.print(f"Saved segment '{name}': {json.dumps(saved, ensure_ascii=False)}")


@segments_app.command("show")
def segments_show(
    name: str = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json", help="One JSON object."),
) -> None:
    """A segment's definition and the contacts in it now."""
    from sqlmodel import select

    from storage.models import Contact

    try:
        with _database() as db, Session(db) as session:
            segment = get_segment(session, name)
            ids = contacts_in_segment(session, segment)
            emails = list(session.exec(select(Contact.email).where(Contact.id.in_(ids))))
    except SegmentError as exc:
        fail(str(exc))
    if as_json:
        _lines([{"name": name, "definition": segment.definition, "contacts": sorted(emails)}])
        return
    console.print(f"{name}: {json.dumps(segment.definition, ensure_ascii=False)}")
    console.print(f"{len(ids)} contact(s)")
    for email in sorted(emails):
        console.print(f"  {email}")


@app.command("escalations")
def escalations(
    status: str | None = typer.Option(None, "--status", help="open or resolved."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines."),
) -> None:
    """Escalated negative answers, newest first."""
    try:
        with _database() as db, Session(db) as session:
            views = list_escalations(session, status=status)
    except EscalationRefused as exc:
        fail(f"--{exc}")
    rows = [
        {
            "id": v.escalation.id,
            "status": v.escalation.status,
            "created_at": _when(v.escalation.created_at),
            "survey": v.response.survey_key,
            "score": v.response.score,
            "answers": v.response.answers,
            "comment": v.response.comment,
            "client": v.contact.email if v.contact else None,
            "employee": v.employee.name if v.employee else None,
            "manager": v.manager.email if v.manager else None,
            "subtask_id": v.escalation.subtask_id,
            "resolved_by": v.escalation.resolved_by,
            "note": v.escalation.resolution_note,
        }
        for v in views
    ]
    if as_json:
        _lines(rows)
        return
    table = Table("id", "status", "when", "survey", "answer", "client", "manager", "note")
    for row in rows:
        answer = row["score"] if row["score"] is not None else json.dumps(row["answers"])
        table.add_row(
            str(row["id"]),
            row["status"],
            row["created_at"],
            row["survey"],
            f"{answer} {row['comment'] or ''}".strip(),
            row["client"] or "",
            row["manager"] or "",
            row["note"] or "",
        )
    console.print(table)


@escalation_app.command("resolve")
def escalation_resolve(
    escalation_id: int = typer.Argument(..., metavar="ID"),
    note: str = typer.Option(
        ..., "--note", help="What was done; becomes a comment on the subtask."
    ),
    by: str | None = typer.Option(None, "--by", help="Who resolved it (default: your login)."),
) -> None:
    """Resolve an escalation with a note."""
    try:
        with _database() as db, session_scope(db) as session:
            resolve(session, escalation_id, note, by=by or getpass.getuser())
    except EscalationRefused as exc:
        fail(str(exc))
    console.print(f"Escalation {escalation_id} resolved.")


@escalation_app.command("notify")
def escalation_notify(
    address: str = typer.Argument(..., help="The manager's email address."),
    on: bool = typer.Option(..., "--on/--off", help="Send escalation emails to them or not."),
) -> None:
    """Turn a manager's escalation emails on or off (they get the subtasks either way)."""
    from mailflow.escalation.managers import employee_by_address

    current = settings()
    if "@" not in address:
        fail(f"address: '{address}' is not an email address")
    with _database() as db, session_scope(db) as session:
        manager = employee_by_address(session, current, address)
        manager.notify_email = on
        session.add(manager)
    console.print(f"Escalation emails to {address.lower()}: {'on' if on else 'off'}.")


@app.command("webhooks")
def webhooks(
    state: str | None = typer.Option(None, "--state", help="pending, delivered or failed."),
    limit: int = typer.Option(50, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json", help="JSON lines."),
) -> None:
    """Webhook deliveries, newest first, with attempts and the last error."""
    if state is not None and state not in tuple(WebhookState):
        fail("--state: must be pending, delivered or failed")
    with _database() as db, Session(db) as session:
        rows = [
            {
                "id": d.id,
                "event": d.event,
                "url": d.url,
                "state": d.state,
                "attempts": d.attempts,
                "last_status": d.last_status,
                "last_error": d.last_error,
                "next_attempt_at": _when(d.next_attempt_at)
                if d.state == WebhookState.PENDING
                else "",
                "delivered_at": _when(d.delivered_at),
            }
            for d in webhook_outbox.deliveries(session, state=state, limit=limit)
        ]
    if as_json:
        _lines(rows)
        return
    table = Table("id", "event", "url", "state", "attempts", "status", "next", "last error")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["event"],
            row["url"],
            row["state"],
            str(row["attempts"]),
            str(row["last_status"] or ""),
            row["next_attempt_at"],
            row["last_error"] or "",
        )
    console.print(table)

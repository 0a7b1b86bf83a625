"""Outbound commands: event, requests, resend, campaign, worker, contacts merge/show/unbounce."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlmodel import col, select

from mailflow.cli.app import app, console, engine, fail, settings
from storage.clock import as_utc, utcnow
from storage.engine import session_scope
from storage.models import REQUEST_STATES, Contact, SurveyRequest

contacts_app = typer.Typer(help="Contacts.", no_args_is_help=True)
app.add_typer(contacts_app, name="contacts")
requests_app = typer.Typer(help="Survey requests: list them, re-queue failed ones.")
app.add_typer(requests_app, name="requests")


def short_time(value: datetime | None) -> str:
    """A timestamp for a table cell, in UTC to the minute."""
    return as_utc(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _read_json(source: str) -> object:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"{source}: {exc.strerror or exc}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"(json): not valid JSON: {exc}")


@app.command()
def event(
    json_source: str = typer.Option(
        ...,
        "--json",
        help="The event as JSON: a file, or - for stdin. A JSON array imports several.",
    ),
) -> None:
    """Apply one helpdesk event (ticket closed, status changed, reopened), or import a list.

    In a list each event is applied on its own: a bad one is reported as "row N: field:
    reason" and the others still go in; the exit code is 1 when any row was refused."""
    from mailflow.events import EventError, handle_event

    payload = _read_json(json_source)
    current = settings()
    db = engine(current)
    if not isinstance(payload, list):
        try:
            with session_scope(db) as session:
                result = handle_event(session, current, payload)  # type: ignore[arg-type]
        except EventError as exc:
            fail(f"bad event: {exc}")
        typer.echo(json.dumps(result.as_dict()))
        return
    refused = 0
    for row, item in enumerate(payload, start=1):
        try:
            with session_scope(db) as session:
                result = handle_event(session, current, item)
        except EventError as exc:
            refused += 1
            print(f"mailflow: row {row}: bad event: {exc}", file=sys.stderr)
            continue
        typer.echo(json.dumps({"row": row, **result.as_dict()}))
    if refused:
        fail(f"{refused} of {len(payload)} events refused; the others were applied", code=1)


@requests_app.callback(invoke_without_command=True)
def requests(
    ctx: typer.Context,
    state: str | None = typer.Option(None, "--state", help=f"One of: {', '.join(REQUEST_STATES)}."),
    limit: int = typer.Option(100, "--limit", min=1, help="Show at most this many (newest first)."),
) -> None:
    """List survey requests, with the reason for suppressed ones and errors of failed ones."""
    if ctx.invoked_subcommand is not None:
        return
    if state is not None and state not in REQUEST_STATES:
        fail(f"--state: unknown state '{state}' (one of: {', '.join(REQUEST_STATES)})")
    current = settings()
    db = engine(current)
    with session_scope(db) as session:
        query = select(SurveyRequest, Contact.email).join(
            Contact, col(Contact.id) == SurveyRequest.contact_id
        )
        if state:
            query = query.where(SurveyRequest.state == state)
        rows = session.exec(query.order_by(col(SurveyRequest.id).desc()).limit(limit)).all()
    table = Table("id", "survey", "contact", "state", "due", "sent", "reason / error")
    for request, email in rows:
        table.add_row(
            str(request.id),
            request.survey_key,
            email,
            request.state,
            short_time(request.due_at),
            short_time(request.sent_at),
            request.reason or request.last_error or "",
        )
    console.print(table)


@requests_app.command("retry")
def requests_retry(
    state: str = typer.Option("failed", "--state", help="The state to re-queue (failed)."),
    since: datetime | None = typer.Option(
        None, "--since", help="Only rows last due at or after this date/time (UTC)."
    ),
    survey: str | None = typer.Option(None, "--survey", help="Only this survey's requests."),
) -> None:
    """Re-queue failed requests in bulk (after a relay outage): attempts reset, due now."""
    from mailflow.outbox.retry import RetryRefused, retry_requests

    current = settings()
    db = engine(current)
    try:
        count = retry_requests(db, state=state, since=since, survey=survey)
    except RetryRefused as exc:
        fail(f"--state: {exc}")
    console.print(
        f"{count} requests re-queued; the worker (or `mailflow worker --until-empty`) sends them."
    )


@app.command()
def resend(
    request_id: int = typer.Argument(..., help="The request to send again."),
    force: bool = typer.Option(False, "--force", help="Resend even if answered or bounced."),
) -> None:
    """Send a survey again: a new Message-ID, the same links and reply address."""
    from mailflow.outbox.resend import ResendRefused, resend_request
    from mailflow.outbox.transports import SendError

    current = settings()
    db = engine(current)
    try:
        message_id = resend_request(current, db, request_id, force=force)
    except ResendRefused as exc:
        fail(str(exc))
    except SendError as exc:
        fail(f"request {request_id}: not sent: {exc}", code=1)
    console.print(f"Request {request_id} sent again as {message_id}.")


@app.command()
def campaign(
    survey: str = typer.Argument(..., help="Survey key with (or without) a campaign schedule."),
    now: bool = typer.Option(False, "--now", help="Run it now, by hand."),
) -> None:
    """Run a campaign by hand: create a request for every contact in the audience."""
    from mailflow.outbox.campaigns import CampaignError, run_campaign

    if not now:
        fail("campaigns run on their schedule inside `mailflow up`; use --now to run one by hand")
    current = settings()
    db = engine(current)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(f"campaign {survey}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            result = run_campaign(current, db, survey, utcnow(), progress=advance)
        except CampaignError as exc:
            fail(str(exc))
        progress.update(task, completed=result.audience, total=result.audience or 1)
    if result.already_ran:
        console.print(f"Campaign run {result.run_key} already ran; nothing new.")
        return
    console.print(
        f"Campaign run {result.run_key}: {result.created} requests queued, "
        f"{len(result.suppressed)} suppressed, audience {result.audience}. "
        "`mailflow worker --until-empty` sends them now."
    )


@app.command()
def worker(
    until_empty: bool = typer.Option(False, "--until-empty", help="Exit once nothing is due."),
) -> None:
    """Process the outbox (and the other queues): survey requests, notifications, expiry."""
    from mailflow.service import run_until_empty, run_worker

    current = settings()
    db = engine(current)
    if until_empty:
        processed = run_until_empty(current, db)
        console.print(f"Processed {processed} outbox rows; nothing more is due.")
        return
    run_worker(current, db)


@contacts_app.command("merge")
def contacts_merge(
    keep: str = typer.Argument(..., help="The contact to keep (id or email)."),
    drop: str = typer.Argument(..., help="The contact to merge into it and delete (id or email)."),
) -> None:
    """Move B's requests and tickets to A, then delete B."""
    from mailflow.contacts import ContactNotFound, MergeRefused, merge_contacts

    current = settings()
    db = engine(current)
    try:
        with session_scope(db) as session:
            kept, requests_moved, tickets_moved = merge_contacts(session, keep, drop)
            email = kept.email
    except (ContactNotFound, MergeRefused) as exc:
        fail(str(exc))
    console.print(
        f"Merged into {email}: {requests_moved} requests and {tickets_moved} tickets moved."
    )


@contacts_app.command("show")
def contacts_show(
    ref: str = typer.Argument(..., help="The contact (email, id or external id)."),
) -> None:
    """One contact: address, locale, whether it bounced or unsubscribed, its requests."""
    from mailflow.contacts import ContactNotFound, contact_summary

    current = settings()
    db = engine(current)
    try:
        with session_scope(db) as session:
            found = contact_summary(session, ref)
    except ContactNotFound as exc:
        fail(str(exc))
    bounced = "no"
    if found.bounced_at is not None:
        bounced = f"yes, {short_time(found.bounced_at)} ({found.bounce_reason or 'no reason'})"
    unsubscribed = "no"
    if found.unsubscribed_at is not None:
        unsubscribed = f"yes, {short_time(found.unsubscribed_at)}"
    lines = [
        ("contact", f"{found.id} {found.email}"),
        ("name", found.name or ""),
        ("locale", found.locale or ""),
        ("vip", "yes" if found.vip else "no"),
        ("bounced", bounced),
        ("unsubscribed", unsubscribed),
        ("requests", str(found.requests)),
    ]
    for label, value in lines:
        typer.echo(f"{label + ':':<14}{value}")


@contacts_app.command("unbounce")
def contacts_unbounce(
    ref: str = typer.Argument(..., help="The contact (email, id or external id)."),
) -> None:
    """Clear a contact's bounce, so surveys are sent to the address again."""
    from mailflow.contacts import ContactNotFound, find_contact, unbounce

    current = settings()
    db = engine(current)
    try:
        with session_scope(db) as session:
            contact = find_contact(session, ref)
            cleared, email = unbounce(session, contact), contact.email
    except ContactNotFound as exc:
        fail(str(exc))
    if cleared:
        console.print(f"{email}: bounce cleared; surveys will be sent to it again.")
    else:
        console.print(f"{email}: had no bounce; nothing changed.")

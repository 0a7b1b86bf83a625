"""`report`, `export responses` and `demo`: thin wrappers over reports, export and demo."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from mailflow.cli.app import app, console, engine, fail, settings
from mailflow.reports import GROUPINGS, ReportError, build_filter, figures, survey_types
from mailflow.reports.format import duration

export_app = typer.Typer(help="Export data as CSV.", no_args_is_help=True)
app.add_typer(export_app, name="export")


def _num(value: float | None, suffix: str = "") -> str:
    return "—" if value is None else f"{value:g}{suffix}"


@app.command()
def report(
    period: str | None = typer.Option(None, "--period", help="2026, 2026-10 or 2026-10-05."),
    date_from: str | None = typer.Option(None, "--from", help="First day, YYYY-MM-DD."),
    date_to: str | None = typer.Option(None, "--to", help="Last day, YYYY-MM-DD."),
    by: str = typer.Option("employee", "--by", help="employee, survey or team."),
    survey: str | None = typer.Option(None, "--survey", help="Only this survey key."),
    channel: str | None = typer.Option(
        None, "--channel", help="link, amp, reply, google_form, web_form or form."
    ),
    team: str | None = typer.Option(None, "--team", help="Only this team."),
    employee: str | None = typer.Option(None, "--employee", help="Only this employee id."),
    segment: str | None = typer.Option(None, "--segment", help="Only contacts in this segment."),
) -> None:
    """Satisfaction per employee, survey or team: counts, coefficient, CSAT, NPS, CES, rates."""
    current = settings()
    if by not in GROUPINGS:
        fail(f"--by: '{by}' is not one of {', '.join(GROUPINGS)}")
    try:
        flt = build_filter(
            current,
            period=period,
            date_from=date_from,
            date_to=date_to,
            survey=survey,
            employee=employee,
            team=team,
            channel=channel,
            segment=segment,
        )
        with Session(engine(current)) as session:
            rows = figures(session, survey_types(current), flt, by=by)
    except ReportError as exc:
        fail(str(exc))
    shown = period or (f"{date_from or '…'} – {date_to or '…'}" if date_from or date_to else "all")
    table = Table(title=f"Satisfaction by {by} ({shown})")
    table.add_column(by, no_wrap=True)
    for name in ("pos", "neg", "coef", "CSAT", "NPS", "CES", "thumbs", "answered", "rate"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("median wait", justify="right", no_wrap=True)
    for row in rows:
        table.add_row(
            row.label,
            str(row.positive),
            str(row.negative),
            _num(row.coefficient, "%"),
            _num(row.csat, "%"),
            _num(row.nps),
            _num(row.ces),
            _num(row.thumbs_up, "%"),
            f"{row.answered}/{row.sent}",
            _num(row.response_rate, "%"),
            duration(row.median_seconds),
        )
    if not rows:
        console.print(f"No answers or sent surveys in {shown}.")
        return
    # Piped output (a file, a pager) gets the whole table instead of 80 squeezed columns.
    Console(width=None if sys.stdout.isatty() else 160).print(table)


@export_app.command("responses")
def export_responses_command(
    date_from: str | None = typer.Option(None, "--from", help="First day, YYYY-MM-DD."),
    date_to: str | None = typer.Option(None, "--to", help="Last day, YYYY-MM-DD."),
    survey: str | None = typer.Option(None, "--survey", help="Only this survey key."),
    channel: str | None = typer.Option(None, "--channel", help="Only this channel."),
    no_bom: bool = typer.Option(False, "--no-bom", help="Leave out the UTF-8 BOM."),
) -> None:
    """One CSV row per answer to stdout (UTF-8 with BOM; formulas neutralised)."""
    from mailflow.export import csv_chunks
    from mailflow.reports import iter_rated_tickets

    current = settings()
    try:
        flt = build_filter(
            current, date_from=date_from, date_to=date_to, survey=survey, channel=channel
        )
        with Session(engine(current)) as session:
            rows = iter_rated_tickets(session, survey_types(current), flt)
            out = sys.stdout.buffer
            for chunk in csv_chunks(rows, bom=not no_bom):
                out.write(chunk.encode("utf-8"))
            out.flush()
    except ReportError as exc:
        fail(str(exc))


@app.command()
def demo(
    force: bool = typer.Option(False, "--force", help="Add the demo data to a non-empty database."),
) -> None:
    """Fill an empty database with six months of demo data (contacts, tickets, answers)."""
    from mailflow.demo import DemoRefused, run_demo

    current = settings()
    try:
        summary = run_demo(engine(current), current, force=force)
    except DemoRefused as exc:
        fail(str(exc))
    made = ", ".join(f"{n} {name}" for name, n in summary.counts.items())
    console.print(f"Demo data created: {made}.")
    console.print(
        "Next: `mailflow user create admin` (a login), `mailflow up`, then open "
        f"{current.web.base_url}/admin/dashboard"
    )

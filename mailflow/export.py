"""CSV export of answers: UTF-8 with a BOM (spreadsheets detect the encoding) and cells that a
spreadsheet would run as a formula neutralised with a leading apostrophe (CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlmodel import Session

from mailflow.reports import ReportFilter, iter_rated_tickets
from mailflow.reports.tickets import RatedTicket

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = (
    "response_id",
    "answered_at",
    "survey",
    "survey_type",
    "score",
    "answer",
    "negative",
    "comment",
    "channel",
    "ticket",
    "ticket_title",
    "contact_email",
    "contact_name",
    "employee",
    "team",
    "sent_at",
    "escalation_status",
)


def safe_cell(value: Any) -> str:
    """The text of one cell; one starting like a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _cells(row: RatedTicket) -> list[str]:
    values = {
        "response_id": row.response_id,
        "answered_at": row.answered_at.isoformat(),
        "survey": row.survey,
        "survey_type": row.survey_type,
        "score": row.score,
        "answer": row.answer,
        "negative": row.negative,
        "comment": row.comment,
        "channel": row.channel,
        "ticket": row.ticket_ref or row.ticket_id,
        "ticket_title": row.ticket_title,
        "contact_email": row.contact_email,
        "contact_name": row.contact_name,
        "employee": row.employee,
        "team": row.team,
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        "escalation_status": row.escalation_status,
    }
    return [safe_cell(values[name]) for name in COLUMNS]


def csv_chunks(rows: Iterable[RatedTicket], *, bom: bool = True, batch: int = 500) -> Iterator[str]:
    """The CSV text in chunks of about `batch` rows: BOM and header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        buffer.write(BOM)
    writer.writerow(COLUMNS)
    pending = 0
    for row in rows:
        writer.writerow(_cells(row))
        pending += 1
        if pending >= batch:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


def export_responses(
    session: Session, types: Mapping[str, str], flt: ReportFilter
) -> Iterator[str]:
    """Every answer in the filter as CSV chunks, oldest first, streamed from the database."""
    return csv_chunks(iter_rated_tickets(session, types, flt))

"""The per-employee (team, survey) table as a table: its columns with their n, sorting, and
the same rows as CSV cells, so the download is the table the manager sees."""

from __future__ import annotations

from dataclasses import dataclass

from mailflow.reports.figures import Figures


@dataclass(frozen=True)
class Column:
    """A figure column: the Figures attribute of its value and of its n."""

    key: str
    value: str
    n: str | None
    unit: str = ""


COLUMNS: tuple[Column, ...] = (
    Column("answers", "answers", None),
    Column("coefficient", "coefficient", "coefficient_answers", "%"),
    Column("csat", "csat", "csat_answers", "%"),
    Column("nps", "nps", "nps_answers"),
    Column("ces", "ces", "ces_answers"),
    Column("thumbs", "thumbs_up", "thumbs_answers", "%"),
    Column("response_rate", "response_rate", "sent", "%"),
    Column("median", "median_seconds", "answered"),
)
SORTS = ("label", *(c.key for c in COLUMNS))
# Distribution counts appended to every CSV row (NPS groups, thumbs, score histograms).
COUNTS = (
    "nps_promoters",
    "nps_passives",
    "nps_detractors",
    "thumbs_up_count",
    "thumbs_down_count",
)


def sort_rows(rows: list[Figures], key: str, descending: bool) -> list[Figures]:
    """Rows by a column; rows without a value for it always last, then by name."""
    if key == "label" or key not in SORTS:
        return sorted(rows, key=lambda r: r.label.lower(), reverse=descending)
    column = next(c for c in COLUMNS if c.key == key)
    known = [r for r in rows if getattr(r, column.value) is not None]
    unknown = [r for r in rows if getattr(r, column.value) is None]
    known.sort(key=lambda r: (getattr(r, column.value), r.label.lower()), reverse=descending)
    return known + sorted(unknown, key=lambda r: r.label.lower())


def csv_header() -> list[str]:
    names = ["name", "team"]
    for column in COLUMNS:
        names.append(column.key)
        if column.n:
            names.append(f"{column.key}_n")
    names += [*COUNTS, *(f"csat_{v}" for v in range(1, 6)), *(f"ces_{v}" for v in range(1, 8))]
    return names


def csv_row(row: Figures) -> list[object]:
    """One table row: each figure followed by the number of answers (or requests) behind it."""
    cells: list[object] = [row.label, row.team or ""]
    for column in COLUMNS:
        value = getattr(row, column.value)
        cells.append("" if value is None else value)
        if column.n:
            cells.append(getattr(row, column.n))
    cells += [getattr(row, name) for name in COUNTS]
    cells += [row.csat_histogram.get(v, 0) for v in range(1, 6)]
    cells += [row.ces_histogram.get(v, 0) for v in range(1, 8)]
    return cells

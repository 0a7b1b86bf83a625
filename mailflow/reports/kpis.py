"""The overview's headline figures, each with the answers it rests on and its change.

One place decides which count stands behind which figure (the n a manager sees), whether it
is too small to trust, and the delta against the previous period of the same length.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailflow.reports.figures import Figures
from mailflow.reports.format import delta

# figure key -> (Figures attribute of the value, attribute of its n, unit)
KPI_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("coefficient", "coefficient", "coefficient_answers", "%"),
    ("csat", "csat", "csat_answers", "%"),
    ("nps", "nps", "nps_answers", ""),
    ("ces", "ces", "ces_answers", ""),
    ("thumbs", "thumbs_up", "thumbs_answers", "%"),
    ("response_rate", "response_rate", "sent", "%"),
    ("median", "median_seconds", "answered", ""),
)


@dataclass(frozen=True)
class Kpi:
    """One headline figure: value, unit, n, too few answers to trust, change vs before."""

    key: str
    value: float | None
    unit: str
    n: int
    too_few: bool
    delta: float | None
    previous: float | None


def kpis(total: Figures, before: Figures | None, min_n: int) -> list[Kpi]:
    """The headline figures of `total`, compared with `before` (the previous period)."""
    found = []
    for key, attribute, count, unit in KPI_FIELDS:
        value = getattr(total, attribute)
        n = int(getattr(total, count))
        previous = getattr(before, attribute) if before is not None else None
        found.append(
            Kpi(
                key=key,
                value=value,
                unit=unit,
                n=n,
                too_few=value is not None and n < min_n,
                delta=delta(value, previous),
                previous=previous,
            )
        )
    return found

"""How figures read on screen: one place for the CLI and the dashboard."""

from __future__ import annotations

from datetime import date, timedelta

from mailflow.reports.filters import ReportFilter

# Abbreviated units per locale: seconds, minutes, hours, days.
UNITS: dict[str, tuple[str, str, str, str]] = {
    "en": ("s", "min", "h", "d"),
    "ru": ("с", "мин", "ч", "дн"),
    "pl": ("s", "min", "godz.", "dni"),
}


def duration(seconds: float | None, locale: str = "en") -> str:
    """'45 s', '12 min', '1 h 30 min', '2 d 4 h' (ru '1 ч 30 мин', pl '2 dni 4 godz.');
    '—' for no value."""
    if seconds is None:
        return "—"
    sec, mins, hrs, days_unit = UNITS.get(locale, UNITS["en"])
    total = round(seconds)
    if total < 60:
        return f"{total} {sec}"
    minutes, hours = total // 60, total // 3600
    if hours == 0:
        return f"{minutes} {mins}"
    if hours < 48:
        rest = minutes - hours * 60
        return f"{hours} {hrs} {rest} {mins}" if rest else f"{hours} {hrs}"
    days = hours // 24
    rest = hours - days * 24
    return f"{days} {days_unit} {rest} {hrs}" if rest else f"{days} {days_unit}"


def number(value: float | None, suffix: str = "") -> str:
    """A figure with its unit, or '—' when there was nothing to count."""
    return "—" if value is None else f"{value:g}{suffix}"


def period_days(flt: ReportFilter) -> tuple[date | None, date | None]:
    """First and last local day of the filter's period (None for an open end)."""
    first = flt.start.astimezone(flt.zone).date() if flt.start else None
    last = (flt.end.astimezone(flt.zone) - timedelta(microseconds=1)).date() if flt.end else None
    return first, last


def period_caption(flt: ReportFilter, all_time: str) -> str:
    """'2026-10-01 – 2026-10-31 · Europe/Warsaw'; `all_time` (translated) with no bounds."""
    first, last = period_days(flt)
    if first is None and last is None:
        text = all_time
    else:
        text = f"{first.isoformat() if first else '…'} – {last.isoformat() if last else '…'}"
    return f"{text} · {flt.zone}"


def delta(value: float | None, before: float | None) -> float | None:
    """Change against the previous period, in the figure's own unit (points for %)."""
    if value is None or before is None:
        return None
    return round(value - before, 2)

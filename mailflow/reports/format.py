"""How figures read on screen: one place for the CLI and the dashboard."""

from __future__ import annotations

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

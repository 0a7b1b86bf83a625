"""How figures read on screen: one place for the CLI and the dashboard."""

from __future__ import annotations


def duration(seconds: float | None) -> str:
    """'45 s', '12 min', '1 h 30 min', '2 d 4 h'; '—' for no value."""
    if seconds is None:
        return "—"
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    minutes, hours = total // 60, total // 3600
    if hours == 0:
        return f"{minutes} min"
    if hours < 48:
        rest = minutes - hours * 60
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    days = hours // 24
    rest = hours - days * 24
    return f"{days} d {rest} h" if rest else f"{days} d"


def number(value: float | None, suffix: str = "") -> str:
    """A figure with its unit, or '—' when there was nothing to count."""
    return "—" if value is None else f"{value:g}{suffix}"

"""Server-side SVG charts for the dashboard: no JavaScript, no files from the internet.

`line_chart` draws one or more series over shared x labels (weeks, months); `bar_chart`
draws labelled counts. Both return markupsafe.Markup scaled by viewBox, so they shrink to a
phone screen. Every text is escaped; gaps (None) break a line instead of dropping to zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = ("#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c")
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 30, 28, 40


@dataclass(frozen=True)
class Series:
    """One line: its name (legend) and one value per x label (None = no data)."""

    name: str
    values: Sequence[float | None]


def _fmt(value: float) -> str:
    return f"{value:g}" if abs(value) < 1000 else f"{value:.0f}"


def _scale(values: list[float], low: float | None, high: float | None) -> tuple[float, float]:
    lo = min(values) if low is None else low
    hi = max(values) if high is None else high
    if hi <= lo:
        hi = lo + 1
    return lo, hi


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    low: float | None = None,
    high: float | None = None,
    unit: str = "",
) -> Markup:
    """An SVG line chart; `low`/`high` fix the y range (e.g. -100..100 for NPS)."""
    known = [v for s in series for v in s.values if v is not None]
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="16" class="chart-title">{escape(title)}</text>',
    ]
    if not known or not labels:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" '
            'class="chart-empty">—</text>'
        )
        return Markup("".join(parts) + "</svg>")  # noqa: S704  (every part escaped above)
    lo, hi = _scale(known, low, high)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return round(LEFT + (i * step if len(labels) > 1 else plot_w / 2), 1)

    def y(v: float) -> float:
        return round(TOP + plot_h - (v - lo) / (hi - lo) * plot_h, 1)

    for k in range(5):
        value = lo + (hi - lo) * k / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value)}" y2="{y(value)}" '
            f'class="chart-grid"/><text x="{LEFT - 6}" y="{y(value) + 4}" text-anchor="end" '
            f'class="chart-axis">{escape(_fmt(value))}{escape(unit)}</text>'
        )
    every = max(1, len(labels) // 8)
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            parts.append(
                f'<text x="{x(i)}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                f'class="chart-axis">{escape(label)}</text>'
            )
    for n, line in enumerate(series):
        color = PALETTE[n % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for i, value in enumerate(line.values):
            if value is None:
                runs.append([])
                continue
            runs[-1].append(f"{x(i)},{y(value)}")
            parts.append(
                f'<circle cx="{x(i)}" cy="{y(value)}" r="3" fill="{color}"><title>'
                f"{escape(line.name)} {escape(labels[i])}: {escape(_fmt(value))}{escape(unit)}"
                "</title></circle>"
            )
        for run in runs:
            if len(run) > 1:
                parts.append(
                    f'<polyline fill="none" stroke="{color}" stroke-width="2" '
                    f'points="{" ".join(run)}"/>'
                )
        legend_x = WIDTH - RIGHT - 110 * (len(series) - n)
        parts.append(
            f'<rect x="{legend_x}" y="6" width="10" height="10" fill="{color}"/>'
            f'<text x="{legend_x + 14}" y="15" class="chart-legend">{escape(line.name)}</text>'
        )
    return Markup("".join(parts) + "</svg>")  # noqa: S704  (every part escaped above)


def bar_chart(title: str, bars: Sequence[tuple[str, int]]) -> Markup:
    """Horizontal bars with their counts (request states, escalation statuses)."""
    rows = max(len(bars), 1)
    height = TOP + rows * 24 + 8
    label_w, plot_w = 120, WIDTH - 120 - RIGHT - 50
    top = max((n for _, n in bars), default=0) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="4" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for i, (label, count) in enumerate(bars):
        y = TOP + i * 24
        width = round(plot_w * count / top, 1)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" class="chart-axis">'
            f'{escape(label)}</text><rect x="{label_w}" y="{y + 2}" width="{width}" '
            f'height="16" fill="{PALETTE[0]}"/><text x="{label_w + width + 6}" y="{y + 14}" '
            f'class="chart-axis">{count}</text>'
        )
    return Markup("".join(parts) + "</svg>")  # noqa: S704  (every part escaped above)

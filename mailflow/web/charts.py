"""Server-side SVG charts for the dashboard: no JavaScript, no files from the internet.

`line_chart` draws one or more series over shared x labels (weeks, months); `bar_chart`
draws labelled counts. Both return markupsafe.Markup scaled by viewBox, so they shrink to a
phone screen; the drawing is narrow (480 units) so its text stays legible at 390 px. Every
text is escaped; gaps (None) break a line instead of dropping to zero; every point carries
its number of answers in its tooltip, and a point resting on fewer than `min_n` answers is
drawn hollow and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = ("#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c")
WIDTH, HEIGHT = 480, 250
LEFT, RIGHT, TOP, BOTTOM = 46, 16, 50, 34
MAX_X_LABELS = 5


@dataclass(frozen=True)
class Series:
    """One line: its name (legend), one value per x label (None = no data) and, per value,
    how many answers it rests on (None = not counted)."""

    name: str
    values: Sequence[float | None]
    counts: Sequence[int] | None = None


def _fmt(value: float) -> str:
    return f"{value:g}" if abs(value) < 1000 else f"{value:.0f}"


def _scale(values: list[float], low: float | None, high: float | None) -> tuple[float, float]:
    lo = min(values) if low is None else low
    hi = max(values) if high is None else high
    if hi <= lo:
        hi = lo + 1
    return lo, hi


def label_indices(count: int, most: int = MAX_X_LABELS) -> list[int]:
    """Evenly spread x labels, first and last included, never two on top of each other."""
    if count <= most:
        return list(range(count))
    return sorted({round(k * (count - 1) / (most - 1)) for k in range(most)})


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    low: float | None = None,
    high: float | None = None,
    unit: str = "",
    min_n: int = 1,
    n_word: str = "n",
    few_word: str = "too few answers",
) -> Markup:
    """An SVG line chart; `low`/`high` fix the y range (e.g. -100..100 for NPS)."""
    known = [v for s in series for v in s.values if v is not None]
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="4" y="16" class="chart-title">{escape(title)}</text>',
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
    shown = label_indices(len(labels))
    for i in shown:
        anchor = "start" if i == 0 and len(shown) > 1 else "middle"
        anchor = "end" if i == len(labels) - 1 and len(shown) > 1 else anchor
        parts.append(
            f'<text x="{x(i)}" y="{HEIGHT - BOTTOM + 18}" text-anchor="{anchor}" '
            f'class="chart-axis">{escape(labels[i])}</text>'
        )
    for n, line in enumerate(series):
        color = PALETTE[n % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for i, value in enumerate(line.values):
            if value is None:
                runs.append([])
                continue
            runs[-1].append(f"{x(i)},{y(value)}")
            count = line.counts[i] if line.counts is not None else None
            few = count is not None and count < min_n
            tip = f"{line.name} {labels[i]}: {_fmt(value)}{unit}"
            if count is not None:
                tip += f" ({n_word} = {count}{', ' + few_word if few else ''})"
            fill = "#fff" if few else color
            parts.append(
                f'<circle cx="{x(i)}" cy="{y(value)}" r="{5 if few else 4}" fill="{fill}" '
                f'stroke="{color}" stroke-width="2" class="{"few" if few else "pt"}">'
                f"<title>{escape(tip)}</title></circle>"
            )
        for run in runs:
            if len(run) > 1:
                parts.insert(
                    3,
                    f'<polyline fill="none" stroke="{color}" stroke-width="2.5" '
                    f'points="{" ".join(run)}"/>',
                )
        legend_x = 4 + 150 * n
        parts.append(
            f'<rect x="{legend_x}" y="24" width="10" height="10" fill="{color}"/>'
            f'<text x="{legend_x + 14}" y="33" class="chart-legend">{escape(line.name)}</text>'
        )
    return Markup("".join(parts) + "</svg>")  # noqa: S704  (every part escaped above)


def bar_chart(title: str, bars: Sequence[tuple[str, int]]) -> Markup:
    """Horizontal bars with their counts (request states, score histograms)."""
    rows = max(len(bars), 1)
    height = 34 + rows * 26
    label_w, plot_w = 175, WIDTH - 175 - RIGHT - 40
    top = max((n for _, n in bars), default=0) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="4" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for i, (label, count) in enumerate(bars):
        y = 26 + i * 26
        width = round(plot_w * count / top, 1)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" class="chart-axis">'
            f'{escape(label)}</text><rect x="{label_w}" y="{y + 2}" width="{width}" '
            f'height="18" fill="{PALETTE[0]}"><title>{escape(label)}: {count}</title></rect>'
            f'<text x="{label_w + width + 6}" y="{y + 15}" class="chart-axis">{count}</text>'
        )
    return Markup("".join(parts) + "</svg>")  # noqa: S704  (every part escaped above)

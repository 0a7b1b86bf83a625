"""Server-side SVG charts: valid XML, escaped text, gaps instead of invented zeros."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mailflow.web.charts import Series, bar_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_line_chart_is_svg_with_one_point_per_value_and_a_gap_for_none():
    svg = line_chart(
        "NPS <weekly>",
        ["2026-09", "2026-10", "2026-11"],
        [Series("NPS", [10.0, None, 30.0]), Series("CSAT", [50.0, 60.0, 70.0])],
        low=-100,
        high=100,
    )
    root = ET.fromstring(str(svg))
    assert root.tag == f"{SVG}svg" and "viewBox" in root.attrib
    assert len(root.findall(f"{SVG}circle")) == 5
    # NPS has a gap: no polyline for it (runs of one point), one for CSAT with 3 points
    lines = root.findall(f"{SVG}polyline")
    assert [len(line.attrib["points"].split()) for line in lines] == [3]
    assert "NPS <weekly>" in root.find(f"{SVG}title").text  # escaped in the markup, read back


def test_empty_chart_and_bar_chart():
    assert "—" in str(line_chart("Empty", [], []))
    bars = ET.fromstring(str(bar_chart("States", [("sent", 4), ("answered", 8), ("<x>", 0)])))
    widths = [float(r.attrib["width"]) for r in bars.findall(f"{SVG}rect")]
    assert widths[1] == 2 * widths[0] and widths[2] == 0

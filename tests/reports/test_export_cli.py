"""CSV export (BOM, formula neutralisation) and the `report` / `export` / `demo` commands."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session

from mailflow.export import BOM, csv_chunks, export_responses, safe_cell
from mailflow.reports import build_filter, survey_types


def _mailflow(config: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILFLOW_")}
    return subprocess.run(
        [sys.executable, "-m", "mailflow", "--config", str(config), *args],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_cells_that_look_like_formulas_get_an_apostrophe():
    for text in ("=1+1", "+7 999", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(text) == "'" + text
    assert safe_cell("Fine, thanks") == "Fine, thanks"
    assert safe_cell(None) == "" and safe_cell(True) == "yes" and safe_cell(7) == "7"


def test_export_starts_with_bom_and_neutralises_the_seeded_formula(engine, seeded, settings):
    flt = build_filter(settings, date_from="2026-10-01", date_to="2026-10-31")
    with Session(engine) as session:
        text = "".join(export_responses(session, survey_types(settings), flt))
    assert text.startswith(BOM)
    rows = list(csv.DictReader(io.StringIO(text.removeprefix(BOM))))
    assert len(rows) == 10  # October's answers only
    assert [r["answered_at"][:10] for r in rows] == sorted(r["answered_at"][:10] for r in rows)
    formula = next(r for r in rows if r["ticket"] == "T-3")
    assert formula["comment"] == '\'=HYPERLINK("http://evil")'
    assert formula["contact_name"] == "'=Client, Ltd"
    assert (formula["score"], formula["negative"], formula["channel"]) == ("2", "yes", "reply")


def test_csv_chunks_without_rows_is_just_the_header():
    assert "".join(csv_chunks([], bom=False)).startswith("response_id,answered_at,survey,")


def test_report_and_export_commands_on_a_temp_config(config_file, engine, seeded):
    result = _mailflow(config_file, "report", "--period", "2026-10")
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    alice = next(line for line in out.splitlines() if "Alice" in line)
    assert "75%" in alice and "80%" in alice and "15 min" in alice

    result = _mailflow(config_file, "report", "--by", "team", "--period", "2026-10")
    team_a = next(line for line in result.stdout.decode().splitlines() if "│ A " in line)
    assert "66.7%" in team_a

    result = _mailflow(
        config_file, "export", "responses", "--from", "2026-10-01", "--to", "2026-10-31"
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.startswith(BOM.encode("utf-8"))
    lines = result.stdout.decode("utf-8-sig").splitlines()
    assert len(lines) == 11

    result = _mailflow(config_file, "report", "--period", "2026-13")
    assert result.returncode == 2
    assert result.stderr.decode().strip() == "mailflow: period: '2026-13' has no month 13"
    result = _mailflow(config_file, "demo")
    assert result.returncode == 2 and "--force" in result.stderr.decode()

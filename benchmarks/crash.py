"""crash: kill -9 of the worker five times during 2,000 sends, SQLite and PostgreSQL.

Real `mailflow worker` processes send over SMTP to a local aiosmtpd sink; each is killed with
SIGKILL after another sixth of the run, the next one started at once, and a last
`mailflow worker --until-empty` finishes the queue. Deliveries are counted by Message-ID.
Lost = requests whose Message-ID never arrived (must be 0). The baseline, measured in the same
run, is what was in flight (claimed, `sending`) at each kill: a repeat is allowed only for
those. Ratio = (lost + repeated deliveries) / in flight at the kills; target <= 1.0 (every
repeat was in flight, nothing lost). PostgreSQL is skipped when the test server does not answer.
`--quick`: 400 sends.
"""

from __future__ import annotations

import argparse
import string
import sys
import tempfile
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.outbound.crash_run import crash_run
from tests.support.pg import PgSchemas, base_pg_url
from tests.support.smtp_sink import SmtpSink

KILLS = 5


def config(directory: Path) -> Path:
    template = resources.files("mailflow").joinpath("example_config.toml").read_text("utf-8")
    path = directory / "mailflow.toml"
    path.write_text(string.Template(template).substitute(secret="b" * 48), encoding="utf-8")
    return path


def one(name: str, url_for, rows: int) -> tuple[int, int, int] | None:
    """One run on a database; (lost, repeats, in flight at the kills)."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        url = url_for(directory)
        if url is None:
            print(f"{name}: skipped (no server)")
            return None
        sink = SmtpSink()
        sink.start()
        try:
            result = crash_run(directory, config(directory), url, sink, rows=rows, kills=KILLS)
        finally:
            sink.stop()
    in_flight = [len(found) for found in result.in_flight]
    print(
        f"{name}: {result.rows} requests, {result.deliveries} deliveries in {result.seconds:.1f}s; "
        f"states {result.states}; lost {result.lost}; repeated {result.extra} "
        f"({len(result.duplicated)} Message-IDs); in flight at the {KILLS} kills {in_flight}; "
        f"every repeat was in flight: {result.repeats_only_in_flight}"
    )
    if not result.repeats_only_in_flight or result.states != {"sent": result.rows}:
        return result.lost or 1, result.extra + result.in_flight_total + 1, result.in_flight_total
    return result.lost, result.extra, result.in_flight_total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="400 sends instead of 2,000")
    parser.add_argument("--rows", type=int, default=None)
    args = parser.parse_args()
    rows = args.rows or (400 if args.quick else 2000)
    schemas = PgSchemas(base_pg_url())
    try:
        runs = [
            one("sqlite", lambda d: f"sqlite:///{d / 'mailflow.db'}", rows),
            one("postgresql", lambda _d: None if schemas.check() else schemas.create(), rows),
        ]
    finally:
        schemas.cleanup()
    done = [run for run in runs if run is not None]
    lost = sum(run[0] for run in done)
    repeats = sum(run[1] for run in done)
    in_flight = sum(run[2] for run in done)
    ratio = (lost + repeats) / max(in_flight, 1)
    print(f"total: lost {lost}, repeated {repeats}, in flight at the kills {in_flight}")
    print(f"crash: ratio {ratio:.2f} (target <= 1.0)")


if __name__ == "__main__":
    main()

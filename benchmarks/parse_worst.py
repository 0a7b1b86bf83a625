"""Benchmark: the slowest crafted worst case, parsed and scored, in seconds per message.

Each case of tests/parsers/worst_cases.py (long single lines, many short repeated tokens,
space runs where quantifiers met, deep nesting, 1 MB and, without --quick, 20 MB bodies)
runs read_message + interpret (on the csat scale and on a two-question form survey) in a
child process, so one runaway pattern is stopped at --limit seconds instead of stalling the
run. The target is a fixed budget: 1.0 s for the worst message up to 1 MB, so the ratio is
worst seconds / 1.0 (<= 1.0 is good). The baseline printed first is one ordinary reply.
Usage: python benchmarks/parse_worst.py [--quick] [--limit SECONDS]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET = 1.0  # seconds for the worst message up to 1 MB


def run_case(name: str) -> float:
    """Parse and score one case in this process; the seconds it took (build excluded)."""
    from parsers import interpret, read_message
    from tests.parsers.surveys import SURVEYS
    from tests.parsers.worst_cases import cases

    raw = cases()[name]()
    started = time.perf_counter()
    msg = read_message(raw)
    for survey in ("csat", "service_quality"):
        interpret(msg, SURVEYS[survey])
    return time.perf_counter() - started


def timed(name: str, limit: float) -> float | None:
    """The child's seconds for `name`, or None when it ran past `limit`."""
    code = f"import benchmarks.parse_worst as b; print(b.run_case({name!r}))"
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
            timeout=limit, check=True,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return None
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--quick", action="store_true", help="no 20 MB bodies, a shorter limit")
    args.add_argument("--limit", type=float, help="stop one case after this many seconds")
    opts = args.parse_args()
    from tests.parsers.worst_cases import cases, size_of

    limit = opts.limit or (10.0 if opts.quick else 30.0)
    names = list(cases(huge=not opts.quick))
    baseline = timed("tokens_short_reply_2k5", limit)
    print(f"baseline (a 2.5 KB reply): {baseline if baseline is not None else '>limit'} s")
    worst_small, worst_any = (0.0, ""), (0.0, "")
    over = []
    for name in names:
        seconds = timed(name, limit)
        shown = f"{seconds:.3f} s" if seconds is not None else f"> {limit:.0f} s (stopped)"
        print(f"{name:28} {shown}", flush=True)
        value = limit if seconds is None else seconds
        worst_any = max(worst_any, (value, name))
        if size_of(name) <= 1024 * 1024:
            worst_small = max(worst_small, (value, name))
            if value >= BUDGET:
                over.append(name)
    named = f": {', '.join(over)}" if over else ""
    print(
        f"worst per message up to 1 MB: {worst_small[0]:.3f} s ({worst_small[1]}); "
        f"any size: {worst_any[0]:.3f} s ({worst_any[1]}); "
        f"{len(over)} of {len(names)} at or over {BUDGET:.0f} s{named}"
    )
    print(f"parse_worst: ratio {worst_small[0] / BUDGET:.2f} (target <= 1.0)")


if __name__ == "__main__":
    main()

"""Benchmark: replies parsed and scored per second by parsers.parse vs mail-parser alone.

Both run in this process on the same message mix (tests/fixtures/replies + forms),
interleaved in rounds so machine noise hits both alike. The ratio is ours / baseline;
parse() does strictly more work (quote stripping, scoring), so 0.5 is the target.
Usage: python benchmarks/parse.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mailparser  # noqa: E402

from parsers import parse  # noqa: E402
from tests.parsers.surveys import SURVEYS  # noqa: E402


def message_mix() -> list[bytes]:
    """Every reply and form fixture, replies weighted 3:1 as in a real inbox."""
    fixtures = ROOT / "tests" / "fixtures"
    replies = [p.read_bytes() for p in sorted((fixtures / "replies").glob("*.eml"))]
    forms = [p.read_bytes() for p in sorted((fixtures / "forms").glob("*.eml"))]
    return replies * 3 + forms


def throughput(work: Callable[[bytes], object], messages: list[bytes], seconds: float) -> float:
    """Messages per second over whole passes of the mix lasting at least `seconds`."""
    done = 0
    started = time.perf_counter()
    while True:
        for raw in messages:
            work(raw)
        done += len(messages)
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return done / elapsed


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--quick", action="store_true", help="finish in well under a minute")
    quick = args.parse_args().quick
    rounds, seconds = (3, 2.0) if quick else (5, 10.0)
    messages = message_mix()
    survey = SURVEYS["nps"]

    def ours(raw: bytes) -> object:
        return parse(raw, survey)

    def baseline(raw: bytes) -> object:
        return mailparser.parse_from_bytes(raw)

    ours(messages[0]), baseline(messages[0])  # warm caches and imports
    best_ours = best_base = 0.0
    for n in range(rounds):
        base = throughput(baseline, messages, seconds)
        mine = throughput(ours, messages, seconds)
        best_base, best_ours = max(best_base, base), max(best_ours, mine)
        print(f"round {n + 1}: parse {mine:.0f} msg/s, mailparser {base:.0f} msg/s")
    print(f"messages in mix: {len(messages)}")
    print(f"parse: ratio {best_ours / best_base:.2f} (target >= 0.5)")


if __name__ == "__main__":
    main()

"""Crafted worst cases finish: no pattern over message text may stall the worker.

Each case (tests/parsers/worst_cases.py: long single lines, many short repeated tokens,
deep nesting, 1 MB and 20 MB bodies) is parsed and scored under a generous stall guard; the
timing itself is benchmarks/parse_worst.py's job. Before the linear rewrite several of these
ran for minutes (a 64 KB line of "a:" over 30 s in parsers.language alone).
"""

from __future__ import annotations

import pytest

from parsers import interpret, read_message
from parsers.interpret import SCORE_PREFIX
from tests.parsers.surveys import SURVEYS
from tests.parsers.worst_cases import cases

CASES = cases(huge=True)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(CASES))
def test_worst_case_is_parsed_and_scored_without_stalling(name: str) -> None:
    msg = read_message(CASES[name]())
    reading = interpret(msg, SURVEYS["csat"])
    assert msg.kind in ("reply", "unknown", "web_form", "auto_reply")
    assert reading.score is not None or reading.error is not None


@pytest.mark.timeout(60)
def test_a_score_on_top_of_a_huge_body_is_still_read() -> None:
    msg = read_message(CASES["line_64k_letters"]())
    assert interpret(msg, SURVEYS["csat"]).score == 5
    html = read_message(CASES["deep_html_divs"]())
    assert html.visible_text.startswith("5")
    assert interpret(html, SURVEYS["csat"]).score == 5


def test_scoring_reads_a_bounded_prefix() -> None:
    """A number far below the top is not read: the answer is what the sender said first."""
    body = "5, thank you\r\n" + "ok\r\n" * (SCORE_PREFIX // 2) + "and 1 more thing\r\n"
    raw = (
        "From: a@example.com\r\nTo: survey@reply.localhost\r\nSubject: Re: survey\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body
    ).encode()
    assert interpret(read_message(raw), SURVEYS["csat"]).score == 5

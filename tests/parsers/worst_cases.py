"""Crafted worst cases for the parsers: messages built to make a careless pattern slow.

Shared by tests/parsers/test_worst_cases.py (each must finish) and benchmarks/parse_worst.py
(how long the slowest takes). Each case is a name and a function giving the raw bytes, so
the 20 MB one is built only when asked for.
"""

from __future__ import annotations

from collections.abc import Callable

KB = 1024
MB = 1024 * KB
_HEAD = (
    "From: Anna Kowalska <anna@example.com>\r\n"
    "To: survey+k5vdm3qxr7ag2nhbte4wyc6pfjzlu3os@reply.localhost\r\n"
    "Subject: Re: How did we do?\r\n"
    "Message-ID: <worst-{name}@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
)


def _plain(name: str, body: str) -> bytes:
    head = _HEAD.format(name=name)
    return (
        head + "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n" + body
    ).encode("utf-8")


def _html(name: str, body: str) -> bytes:
    head = _HEAD.format(name=name)
    return (
        head + "Content-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n" + body
    ).encode("utf-8")


def _nested_multipart(depth: int) -> bytes:
    head = _HEAD.format(name="nested")
    parts = [head]
    for level in range(depth):
        parts.append(f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n')
    parts.append("Content-Type: text/plain; charset=utf-8\r\n\r\n5, thanks\r\n")
    for level in reversed(range(depth)):
        parts.append(f"--b{level}--\r\n")
    return "".join(parts).encode("utf-8")


def _repeat(unit: str, size: int) -> str:
    return unit * (size // len(unit))


_REPLY = "4, the agent was quick but the fix took two days.\r\n"
_QUOTED = "On Mon, 16 Nov 2026 at 10:00, Support <help@example.com> wrote:\r\n"


def cases(*, huge: bool = True) -> dict[str, Callable[[], bytes]]:
    """Every worst case by name; `huge` adds the 20 MB bodies."""
    found: dict[str, Callable[[], bytes]] = {
        # long single lines: no spaces, label-ish, address-ish, spaces only
        "line_64k_letters": lambda: _plain("l1", "5 " + "x" * 64 * KB),
        "line_64k_colons": lambda: _plain("l2", _repeat("a:", 64 * KB)),
        "line_64k_at_dots": lambda: _plain("l3", _repeat("a.", 64 * KB) + "@"),
        "line_64k_spaces": lambda: _plain("l4", "5" + " " * 64 * KB + "x"),
        "line_64k_nbsp": lambda: _plain("l5", "5" + "\u00a0" * 32 * KB + "x"),
        "line_64k_digits": lambda: _plain("l6", "1" * 64 * KB),
        "line_64k_digit_space": lambda: _plain("l7", _repeat("1 ", 64 * KB)),
        "line_64k_plus_signs": lambda: _plain("l8", _repeat("+1", 64 * KB)),
        "line_64k_cyrillic": lambda: _plain("l9", _repeat("ё", 32 * KB)),
        # many short repeated tokens
        "tokens_newlines": lambda: _plain("t1", "\r\n" * 64 * KB),
        "tokens_number_words": lambda: _plain("t2", _repeat("one ", 64 * KB)),
        "tokens_ru_number_words": lambda: _plain("t3", _repeat("на пять ", 64 * KB)),
        "tokens_rating_words": lambda: _plain("t4", _repeat("na ocena score ", 64 * KB)),
        "tokens_scores_lines": lambda: _plain("t5", _repeat("9\r\n", 64 * KB)),
        "tokens_label_lines": lambda: _plain("t6", _repeat("Name: value\r\n", 64 * KB)),
        "tokens_sent_from": lambda: _plain("t7", "5\r\nsent from my phone" + " " * 8 * KB + "x"),
        "tokens_away": lambda: _plain("t8", _repeat("\r\n", 8 * KB) + "I am out of office x"),
        "tokens_short_reply_2k5": lambda: _plain("t9", _repeat("5 stars out of ", 2500)),
        # space runs where two quantifiers met (each was quadratic or worse before #14)
        "runs_score_words_2k5": lambda: _plain("r1", _repeat("na  " * 12 + "(5) ", 2500)),
        "runs_thanks_64k": lambda: _plain("r2", "5\r\nthanks" + " " * 64 * KB + "x\r\n"),
        "runs_regards_64k": lambda: _plain("r3", "5\r\nregards" + " " * 64 * KB + "x\r\n"),
        "runs_sent_from_64k": lambda: _plain(
            "r4", "5\r\nsent from my phone" + " " * 64 * KB + "<x\r\n"
        ),
        "runs_form_label_64k": lambda: _plain(
            "r5", "Speed: slow" + " " * 64 * KB + "x\r\nWork: a" + " " * 64 * KB + "b\r\n"
        ),
        "runs_label_no_colon_64k": lambda: _plain("r6", "Name" + " " * 64 * KB + "x*\r\n"),
        "runs_units_64k": lambda: _plain("r7", "5" + " " * 64 * KB + "stars x"),
        "runs_punct_64k": lambda: _plain("r8", "5 a" + "!" * 64 * KB + "b"),
        "runs_ticket_64k": lambda: _plain("r9", "ticket" + " " * 64 * KB + "x 5"),
        "runs_many_short_lines": lambda: _plain("r10", _repeat("thanks  x\r\n5  stars  ,\r\n", MB)),
        # deep nesting: quotes, html, MIME
        "deep_quote_levels": lambda: _plain("d1", "5\r\n" + ">" * 64 * KB + " deep"),
        "deep_quote_lines": lambda: _plain(
            "d2", "5\r\n" + _QUOTED + _repeat("> > > 5\r\n", 256 * KB)
        ),
        "deep_html_divs": lambda: _html("d3", "<div>" * 20000 + "5" + "</div>" * 20000),
        "deep_html_blockquotes": lambda: _html(
            "d4", "<p>5</p>" + "<blockquote>" * 5000 + "x" + "</blockquote>" * 5000
        ),
        "deep_multipart_60": lambda: _nested_multipart(60),
        # big bodies
        "body_1mb_reply": lambda: _plain("b1", _repeat(_REPLY, MB)),
        "body_1mb_quoted": lambda: _plain("b2", _REPLY + _QUOTED + _repeat("> " + _REPLY, MB)),
        "body_1mb_html": lambda: _html("b3", "<p>" + _repeat(_REPLY + "<br>", MB) + "</p>"),
        "body_1mb_one_line": lambda: _plain("b4", _repeat("5 stars, na ", MB)),
    }
    if huge:
        found["body_20mb_reply"] = lambda: _plain("h1", _repeat(_REPLY, 20 * MB))
        found["body_20mb_one_line"] = lambda: _plain("h2", _repeat("ok 5 ", 20 * MB))
    return found


def size_of(name: str) -> int:
    """How big a case's message is (the benchmark's ratio counts those up to 1 MB)."""
    return 20 * MB if name.startswith("body_20mb") else MB

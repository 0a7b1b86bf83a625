"""Linear time, bounded work: every pattern over message text, checked without a clock.

Two checks, both on every pattern that tests/parsers/patterns.py collects by introspection
(parsers/, mailflow/inbound/, mailflow/mime.py; a new pattern is covered without editing a
list):

- its shape: no nested, adjacent or leading unbounded repeats that a backtracking engine
  would retry super-linearly (the audit is itself tested on the shapes that stalled before);
- its work: each crafted worst case (tests/parsers/worst_cases.py, 20 MB bodies included) is
  read and scored with every pattern counting the characters it is given; the total stays
  within a fixed multiple of the message's size (a linear pattern called once per line over
  the whole text would break it), the scorer's patterns only ever see the bounded prefix,
  and the phrase/context patterns only their small windows.

Timing is benchmarks/parse_worst.py's job; nothing here reads a clock.
"""

from __future__ import annotations

import importlib
import re
import sys
import types
from collections import defaultdict
from dataclasses import dataclass, field

import pytest

from parsers import interpret, read_message
from parsers.interpret import SCORE_PREFIX
from tests.parsers import patterns
from tests.parsers.surveys import SURVEYS
from tests.parsers.worst_cases import cases

FOUND = patterns.collect()
CASES = cases(huge=True)
# Work per message: characters handed to searching patterns (and taken by anchored matches),
# per byte of the raw message: a pattern run once per line or once over the text costs 1, and
# the parsers read the text in a few passes (tokens, body, quotes, language, kinds) - 8 at
# most on the crafted set. Work on the scoring prefix (form answers tried per line and per
# option) is bounded by the prefix, not the message: 9 million at most on the crafted set.
WORK_PER_BYTE = 12
PREFIX_WORK = 4000 * SCORE_PREFIX
SMALL_WINDOWS = {  # pattern -> the most characters one call may look at
    "parsers.scores:_SCORE_WORDS": 48,  # the phrase before a number
    "parsers.number_words:_BEFORE_VERB": 80,  # a number word's context
    "parsers.number_words:_AFTER_SCALE": 80,
    "parsers.number_words:_AFTER_ALONE": 80,
    "parsers.number_words:_BEFORE_ALONE": 80,
    "parsers.interpret:_PART_SPLIT": 120,  # short answer lines only
}


def test_the_collection_finds_module_class_and_inline_patterns() -> None:
    where = {f.where for f in FOUND}
    for name in (
        "parsers.answers:_VALUE_SPLIT",
        "parsers.forms:_LABEL_LINE",
        "parsers.interpret:_PART_SPLIT",
        "parsers.number_words:_AFTER_SCALE",
        "parsers.scores:_SCORE_UNITS",
        "parsers.scores:_SCORE_WORDS",
        "mailflow.inbound.store:_MESSAGE_ID",
    ):
        assert name in where
    assert any(w.startswith("parsers.interpret:") and w.split(":")[1].isdigit() for w in where)
    assert len(FOUND) > 100


@pytest.mark.parametrize(
    "source",
    [
        r"(?:(?:na|score)\s*[:=-]?\s*)+$",  # _SCORE_WORDS before #14: "na  na  na (5" 2^n
        r"(a+)+$",
        r"^\s*\*?([^:\n]{1,160}?)\*?\s*[:：]\s*(.*?)\s*$",  # _LABEL_LINE before
        r"\s*(?:[,;]|\s[-–—]\s|[.!](?:\s|$))\s*",  # _VALUE_SPLIT before
        r"\s*(?:points?|stars?)(?!\w)",  # _SCORE_UNITS before, as a search
        r"^\s*(?:thanks|regards)\s*[,.!]?\s*$",  # quotes._THANKS before
        r"(?:\s+[\w.]+){1,6}\s*[.!]?\s*(?:<x>)?\s*$",  # quotes._SIGNATURE before
    ],
)
def test_the_audit_flags_the_shapes_that_stalled(source: str) -> None:
    assert patterns.hazards(re.compile(source, re.I))


@pytest.mark.parametrize(
    "source",
    [
        r"(?<!\s)\s*(?:[,;]|\s[-–—]\s|[.!](?:\s|$))\s*",
        r"(?<![\w\s:=-])(?:(?:na|score)\s*+(?:[:=-]\s*+)?)+$",
        r"(?:\w+\s+){0,3}?away",
        r"\s+",
        r"^[A-Za-z-]+\s*:\s*(.*(?:\n[ \t]+.*)*)",
    ],
)
def test_the_audit_passes_linear_shapes(source: str) -> None:
    assert patterns.hazards(re.compile(source)) == []


# A pattern whose search may restart inside a run it is looking at, allowed only because
# every call gives it a small window (checked below on every crafted case).
WINDOWED = {"parsers.scores:_SCORE_WORDS"}


@pytest.mark.parametrize("found", FOUND, ids=[f.where for f in FOUND])
def test_no_pattern_has_a_super_linear_shape(found: patterns.Found) -> None:
    expected = [patterns.LEADING] if found.where in WINDOWED else []
    assert patterns.hazards(found.pattern) == expected, found.pattern.pattern
    assert found.where not in WINDOWED or found.where in SMALL_WINDOWS


# -- the work each pattern is given ----------------------------------------------------------


@dataclass
class Tally:
    """Characters given to each pattern during one message."""

    total: int = 0
    largest: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    each: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def heaviest(self) -> list[tuple[str, int]]:
        return sorted(self.each.items(), key=lambda kv: -kv[1])[:5]

    def note(
        self, where: str, string: object, pos: int = 0, endpos: int | None = None, window: int = 0
    ) -> None:
        size = len(string) if isinstance(string, (str, bytes)) else 0  # type: ignore[arg-type]
        end = size if endpos is None else min(endpos, size)
        seen = max(0, end - pos)
        self.total += seen
        self.each[where] += seen
        self.largest[where] = max(self.largest[where], seen, window)


class Counting:
    """A compiled pattern that notes how much text each call gives it, then runs it."""

    def __init__(self, pattern: re.Pattern, where: str, tally: Tally) -> None:
        self._p, self._where, self._tally = pattern, where, tally

    def __getattr__(self, name: str) -> object:
        return getattr(self._p, name)

    def _scan(self, name: str, string: object, *args: object, **kw: object) -> object:
        pos = args[0] if args else kw.get("pos", 0)
        endpos = args[1] if len(args) > 1 else kw.get("endpos")
        self._tally.note(self._where, string, pos, endpos)  # type: ignore[arg-type]
        return getattr(self._p, name)(string, *args, **kw)

    def _anchored(self, name: str, string: object, *args: object, **kw: object) -> object:
        """A match at one position reads only as far as it gets: count what it took (one
        for a miss), and the window it was allowed for the window caps."""
        pos = args[0] if args else kw.get("pos", 0)
        endpos = args[1] if len(args) > 1 else kw.get("endpos")
        found = getattr(self._p, name)(string, *args, **kw)
        allowed = len(string) if endpos is None else min(endpos, len(string))  # type: ignore[arg-type]
        self._tally.note(self._where, "", 0, None, window=max(0, allowed - pos))  # type: ignore[operator]
        self._tally.total += 1 + (found.end() - pos if found else 0)  # type: ignore[union-attr]
        return found

    def match(self, string: object, *a: object, **k: object) -> object:
        return self._anchored("match", string, *a, **k)

    def search(self, string: object, *a: object, **k: object) -> object:
        return self._scan("search", string, *a, **k)

    def fullmatch(self, string: object, *a: object, **k: object) -> object:
        return self._anchored("fullmatch", string, *a, **k)

    def finditer(self, string: object, *a: object, **k: object) -> object:
        return self._scan("finditer", string, *a, **k)

    def findall(self, string: object, *a: object, **k: object) -> object:
        return self._scan("findall", string, *a, **k)

    def split(self, string: object, *a: object, **k: object) -> object:
        self._tally.note(self._where, string)
        return self._p.split(string, *a, **k)  # type: ignore[arg-type]

    def sub(self, repl: object, string: object, *a: object, **k: object) -> object:
        self._tally.note(self._where, string)
        return self._p.sub(repl, string, *a, **k)  # type: ignore[arg-type]

    def subn(self, repl: object, string: object, *a: object, **k: object) -> object:
        self._tally.note(self._where, string)
        return self._p.subn(repl, string, *a, **k)  # type: ignore[arg-type]


def _counting_re(module: str, tally: Tally) -> types.SimpleNamespace:
    """A stand-in for `re` inside one module: the same functions, each noting its text."""
    shim = types.SimpleNamespace(**{k: getattr(re, k) for k in dir(re) if not k.startswith("__")})

    def wrap(name: str, text_at: int) -> object:
        real = getattr(re, name)

        def counted(pattern: object, *args: object, **kw: object) -> object:
            source = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
            tally.note(f"{module}:re.{name}({str(source)[:30]!r})", args[text_at])
            return real(pattern, *args, **kw)

        return counted

    for name in ("match", "search", "fullmatch", "finditer", "findall", "split"):
        setattr(shim, name, wrap(name, 0))
    for name in ("sub", "subn"):
        setattr(shim, name, wrap(name, 1))
    return shim


def _instrument(monkeypatch: pytest.MonkeyPatch, tally: Tally) -> int:
    """Every pattern a module or class holds, and every module's `re`, counting. How many."""
    names = {(f.pattern.pattern, f.pattern.flags): f.where for f in FOUND}
    wrapped = 0
    for module_name in patterns.module_names():
        module = importlib.import_module(module_name)
        holders: list[object] = [module] + [
            v for v in vars(module).values() if isinstance(v, type) and v.__module__ == module_name
        ]
        for holder in holders:
            for attr, value in list(vars(holder).items()):
                if isinstance(value, re.Pattern):
                    where = names.get((value.pattern, value.flags), f"{module_name}:{attr}")
                    monkeypatch.setattr(holder, attr, Counting(value, where, tally))
                    wrapped += 1
        if getattr(module, "re", None) is re:
            monkeypatch.setattr(module, "re", _counting_re(module_name, tally))
    return wrapped


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", sorted(CASES))
def test_each_pattern_does_bounded_work_on_a_crafted_case(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = CASES[name]()
    tally = Tally()
    assert _instrument(monkeypatch, tally) > 80
    msg = read_message(raw)
    for survey in ("csat", "service_quality", "nps"):
        interpret(msg, SURVEYS[survey])
    assert tally.total > 0
    assert tally.total <= WORK_PER_BYTE * len(raw) + PREFIX_WORK, tally.heaviest()
    for where, seen in tally.largest.items():
        if where.startswith("parsers.scores:"):
            assert seen <= SCORE_PREFIX, (where, seen)  # the scorer reads a bounded prefix
        if where in SMALL_WINDOWS:
            assert seen <= SMALL_WINDOWS[where], (where, seen)


def test_instrumenting_counts_the_text_patterns_are_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tally is real: a longer reply gives the patterns more text, and the score is read
    the same with the counting stand-ins in place."""
    small, large = Tally(), Tally()
    base = CASES["tokens_short_reply_2k5"]()
    with monkeypatch.context() as patch:
        _instrument(patch, small)
        assert interpret(read_message(base), SURVEYS["csat"]).score is not None
    with monkeypatch.context() as patch:
        _instrument(patch, large)
        read_message(CASES["body_1mb_reply"]())
    assert small.total < large.total
    assert "parsers.scores:_BARE" in small.largest
    assert sys.modules["parsers.scores"]._BARE.__class__ is re.Pattern

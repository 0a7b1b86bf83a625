"""Every regular expression over message text, found by introspection, and a shape audit.

`collect()` walks parsers/, mailflow/inbound/ and mailflow/mime.py: compiled patterns held by a
module or a class (also inside tuples, lists and dicts), and literal patterns passed to re.*
calls in function bodies (found in the source's AST), so a pattern added later is covered
without editing a list. `hazards(pattern)` reads a pattern's parse tree (the stdlib's own
parser) for the three shapes that make a backtracking engine super-linear:

- nested: an unbounded repeat inside another repeat, `(?:\\s*x)+` ("na  na  na (5": 2^n);
- adjacent: two unbounded repeats that can take the same characters with only optional
  items between them, `\\s*[:=-]?\\s*` or `(.*?)\\s*$` (n^2 per start);
- leading: an unbounded repeat that opens the pattern and is followed by something that can
  fail, so a search rescans a run from each of its positions (n^2), unless a lookbehind or `^`
  stops matches from starting inside the run.

A possessive repeat or an atomic group never gives back, so it is no hazard.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import parsers

_parser = sys.modules["re._parser"]
_c = sys.modules["re._constants"]
MAXREPEAT = _c.MAXREPEAT
ROOT = Path(__file__).resolve().parents[2]
MODULES_OUTSIDE_PARSERS = ("mailflow.mime",)
PACKAGES = ("parsers", "mailflow.inbound")
# Characters that stand for every class the patterns use: spaces, digits, letters (Latin,
# Cyrillic, Polish), punctuation, line breaks, the no-break and full-width forms.
_SAMPLE = " \t\n\r\u00a0\u202fa5Zё żЖ.,;:!?-–—*/|()[]<>@#+=_'\"\\：★☆\ufe0f\x00\x7f"


@dataclass(frozen=True)
class Found:
    """One pattern: where it lives (module:name or module:line) and the compiled object."""

    where: str
    pattern: re.Pattern
    compiled: bool  # held as a compiled object (so a test can wrap it), not a literal in a call


def module_names() -> list[str]:
    names = list(MODULES_OUTSIDE_PARSERS)
    for package in PACKAGES:
        mod = importlib.import_module(package)
        names.append(package)
        names += [f"{package}.{info.name}" for info in pkgutil.iter_modules(mod.__path__)]
    return names


def _held(value: object, depth: int = 0) -> list[re.Pattern]:
    if isinstance(value, re.Pattern):
        return [value]
    if depth < 2 and isinstance(value, (tuple, list)):
        return [p for item in value for p in _held(item, depth + 1)]
    if depth < 2 and isinstance(value, dict):
        return [p for item in value.values() for p in _held(item, depth + 1)]
    return []


def _literal_calls(module: object) -> list[tuple[int, re.Pattern]]:
    """Literal patterns given to re.compile/search/sub/... inside the module's functions."""
    source = inspect.getsource(module)  # type: ignore[arg-type]
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "re"):
            continue
        if not node.args or not isinstance(node.args[0], ast.Constant):
            continue
        if not isinstance(node.args[0].value, (str, bytes)):
            continue
        flags = 0
        for extra in [*node.args[1:], *(k.value for k in node.keywords if k.arg == "flags")]:
            text = ast.unparse(extra)
            if re.fullmatch(r"re\.\w+(?:\s*\|\s*re\.\w+)*", text):
                for name in text.split("|"):
                    flags |= getattr(re, name.strip()[3:])
        found.append((node.lineno, re.compile(node.args[0].value, flags)))
    return found


def collect() -> list[Found]:
    """Every pattern of the audited modules, each once."""
    seen: set[tuple[object, int]] = set()
    found: list[Found] = []

    def add(where: str, pattern: re.Pattern, compiled: bool) -> None:
        key = (pattern.pattern, pattern.flags)
        if key not in seen:
            seen.add(key)
            found.append(Found(where, pattern, compiled))

    for name in module_names():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            for pattern in _held(value):
                add(f"{name}:{attr}", pattern, isinstance(value, re.Pattern))
            if isinstance(value, type) and value.__module__ == name:
                for cattr, cvalue in vars(value).items():
                    for pattern in _held(cvalue):
                        add(f"{name}:{attr}.{cattr}", pattern, False)
        for line, pattern in _literal_calls(module):
            add(f"{name}:{line}", pattern, False)
    return found


# -- the shape audit ---------------------------------------------------------------------

_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT}
LEADING = "leading: an unbounded repeat opens a pattern that can fail after it"


def _single_set(item: tuple, flags: int, source: str) -> set[str] | None:
    """Sample characters a one-character item (or a group of alternatives of such) takes."""
    op, av = item
    if op is _c.ANY:
        return {ch for ch in _SAMPLE if ch != "\n" or flags & re.S}
    if op is _c.LITERAL:
        ch = chr(av)
        return {ch, ch.lower(), ch.upper()} & set(_SAMPLE) | {ch} if flags & re.I else {ch}
    if op is _c.NOT_LITERAL:
        return {ch for ch in _SAMPLE if ch != chr(av)}
    if op in (_c.IN, _c.CATEGORY):
        return {ch for ch in _SAMPLE if _in_set(ch, [item] if op is _c.CATEGORY else av, flags)}
    if op is _c.SUBPATTERN:
        body = av[-1]
        if len(body) == 1:
            return _single_set(body[0], flags, source)
    if op is _c.BRANCH:
        sets = [_single_set(b[0], flags, source) if len(b) == 1 else None for b in av[1]]
        if all(s is not None for s in sets):
            return set().union(*sets)  # type: ignore[arg-type]
    return None


_CATEGORY = {
    _c.CATEGORY_SPACE: str.isspace,
    _c.CATEGORY_NOT_SPACE: lambda ch: not ch.isspace(),
    _c.CATEGORY_DIGIT: str.isdigit,
    _c.CATEGORY_NOT_DIGIT: lambda ch: not ch.isdigit(),
    _c.CATEGORY_WORD: lambda ch: ch.isalnum() or ch == "_",
    _c.CATEGORY_NOT_WORD: lambda ch: not (ch.isalnum() or ch == "_"),
}


def _in_set(ch: str, items: list, flags: int) -> bool:
    negate = False
    hit = False
    for op, av in items:
        if op is _c.NEGATE:
            negate = True
        elif op is _c.LITERAL:
            hit |= ch == chr(av) or bool(flags & re.I and ch.lower() == chr(av).lower())
        elif op is _c.RANGE:
            hit |= av[0] <= ord(ch) <= av[1] or bool(
                flags & re.I and av[0] <= ord(ch.lower()) <= av[1]
            )
        elif op is _c.CATEGORY:
            hit |= _CATEGORY.get(av, lambda _: True)(ch)
    return hit != negate


def _nullable(item: tuple) -> bool:
    op, av = item
    if op in _REPEATS or op is _c.POSSESSIVE_REPEAT:
        return av[0] == 0 or all(_nullable(i) for i in av[2])
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
        return True
    if op is _c.SUBPATTERN or op is _c.ATOMIC_GROUP:
        return all(_nullable(i) for i in (av[-1] if op is _c.SUBPATTERN else av))
    if op is _c.BRANCH:
        return any(all(_nullable(i) for i in b) for b in av[1])
    return False


def _unbounded(item: tuple) -> bool:
    return item[0] in _REPEATS and item[1][1] == MAXREPEAT


def _first(items: object, flags: int, source: str) -> set[str] | None:
    """Sample characters a sequence can start with (None when that cannot be told)."""
    out: set[str] = set()
    for item in items:  # type: ignore[attr-defined]
        op, av = item
        if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
            continue
        if op in _REPEATS or op is _c.POSSESSIVE_REPEAT:
            got = _first(av[2], flags, source)
        elif op is _c.SUBPATTERN:
            got = _first(av[-1], flags, source)
        elif op is _c.ATOMIC_GROUP:
            got = _first(av, flags, source)
        elif op is _c.BRANCH:
            sets = [_first(b, flags, source) for b in av[1]]
            got = None if any(x is None for x in sets) else set().union(*sets)  # type: ignore[arg-type]
        else:
            got = _single_set(item, flags, source)
        if got is None:
            return None
        out |= got
        if not _nullable(item):
            return out
    return out


def _always(item: tuple) -> bool:
    """Whether `item` matches at any position (so what comes before it never backtracks)."""
    op, av = item
    if op in _REPEATS or op is _c.POSSESSIVE_REPEAT:
        return av[0] == 0 or all(_always(i) for i in av[2])
    if op is _c.SUBPATTERN:
        return all(_always(i) for i in av[-1])
    if op is _c.BRANCH:
        return any(all(_always(i) for i in b) for b in av[1])
    return False


def _contains_unbounded(items: object) -> bool:
    for op, av in items:  # type: ignore[attr-defined]
        if op in (_c.ASSERT, _c.ASSERT_NOT, _c.ATOMIC_GROUP, _c.POSSESSIVE_REPEAT):
            continue
        if op in _REPEATS and (av[1] == MAXREPEAT or _contains_unbounded(av[2])):
            return True
        if op is _c.SUBPATTERN and _contains_unbounded(av[-1]):
            return True
        if op is _c.BRANCH and any(_contains_unbounded(b) for b in av[1]):
            return True
    return False


def _one_way_to_repeat(body: object, flags: int, source: str) -> bool:
    """Whether a repeated body splits into repetitions one way only: it opens with a required
    item, and the unbounded repeat that may end one repetition cannot take the character that
    opens the next ("(?:\\w+\\s+){0,3}", "(?:\\s+[\\w.]+){1,6}")."""
    seq = list(body)  # type: ignore[call-overload]
    if not seq or _nullable(seq[0]):
        return False
    opening = _first(seq[:1], flags, source)
    ending = next((x for x in reversed(seq) if _unbounded(x) or not _nullable(x)), None)
    if opening is None or ending is None or not _unbounded(ending):
        return False
    if any(_contains_unbounded(x[1][2]) for x in seq if x[0] in _REPEATS):
        return False  # a repeat nested deeper still: not judged here
    taken = _first(ending[1][2], flags, source)
    return taken is not None and not taken & opening


def _walk(items: object, flags: int, source: str, out: list[str], top: bool, tail: bool) -> None:
    """`tail`: whether what follows this sequence in the whole pattern can fail."""
    seq = list(items)  # type: ignore[call-overload]
    for i, (op, av) in enumerate(seq):
        rest_fails = tail or not all(_always(x) for x in seq[i + 1 :])
        if op in _REPEATS:
            nested = rest_fails and av[1] > 1 and _contains_unbounded(av[2])
            if nested and not _one_way_to_repeat(av[2], flags, source):
                out.append("nested: an unbounded repeat inside a repeat")
            _walk(av[2], flags, source, out, False, rest_fails or av[0] > 1)
            if _unbounded((op, av)):
                mine = _first(av[2], flags, source)
                for j, later in enumerate(seq[i + 1 :], i + 1):
                    if _unbounded(later):
                        theirs = _first(later[1][2], flags, source)
                        after_fails = tail or not all(_always(x) for x in seq[j + 1 :])
                        if after_fails and (mine is None or theirs is None or mine & theirs):
                            out.append("adjacent: two unbounded repeats share characters")
                        break
                    if not _nullable(later):
                        break
        elif op is _c.SUBPATTERN:
            _walk(av[-1], flags, source, out, top and i == 0, rest_fails)
        elif op is _c.BRANCH:
            for branch in av[1]:
                _walk(branch, flags, source, out, top and i == 0, rest_fails)
    if top and seq and _leading_rescan(seq, flags, source):
        out.append(LEADING)


def _takes(items: object, flags: int, source: str) -> set[str] | None:
    """Every sample character a sequence can consume (None when that cannot be told)."""
    out: set[str] = set()
    for item in items:  # type: ignore[attr-defined]
        op, av = item
        if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
            continue
        if op in _REPEATS or op is _c.POSSESSIVE_REPEAT:
            got = _takes(av[2], flags, source)
        elif op is _c.SUBPATTERN:
            got = _takes(av[-1], flags, source)
        elif op is _c.BRANCH:
            sets = [_takes(b, flags, source) for b in av[1]]
            got = None if any(x is None for x in sets) else set().union(*sets)  # type: ignore[arg-type]
        else:
            got = _single_set(item, flags, source)
        if got is None:
            return None
        out |= got
    return out


def _leading_rescan(seq: list, flags: int, source: str) -> bool:
    """Whether a search would rescan one run from each of its positions: the pattern opens
    with an unbounded repeat that can fail after it, and neither `^` nor a lookbehind that
    refuses every character of the repeat stops a match from starting inside the run."""
    op, av = seq[0]
    at_start = av is _c.AT_BEGINNING_STRING or (av is _c.AT_BEGINNING and not flags & re.M)
    if op is _c.AT and at_start:
        return False
    refused: list = []
    if op is _c.ASSERT_NOT and av[0] < 0:
        refused, seq = list(av[1]), seq[1:]
    if not seq or not _unbounded(seq[0]) or all(_always(x) for x in seq[1:]):
        return False
    takes = _takes(seq[0][1][2], flags, source)
    if takes is None or len(refused) != 1 or refused[0][0] not in (_c.IN, _c.LITERAL):
        return True
    kind, items = refused[0]
    inside = [(kind, items)] if kind is _c.LITERAL else items
    return not all(_in_set(ch, inside, flags) for ch in takes)


def hazards(pattern: re.Pattern) -> list[str]:
    """The super-linear shapes in `pattern` (empty when it runs in linear time)."""
    source = (
        pattern.pattern if isinstance(pattern.pattern, str) else pattern.pattern.decode("latin-1")
    )
    flags = pattern.flags
    tree = _parser.parse(source, flags & ~re.U if isinstance(pattern.pattern, bytes) else flags)
    out: list[str] = []
    _walk(tree, flags, source, out, True, False)
    return sorted(set(out))


def parsers_root() -> Path:
    return Path(parsers.__file__).parent

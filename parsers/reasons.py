"""Which follow-up option a reply names in words ("долго ждал ответа" → "Slow response").

Pure and linear: the text is cut to a bounded prefix, split into words once, and every word is
reduced to a short stem (its first four letters, ё read as е), so inflected forms meet
("долго"/"долгий", "ответа"/"ответ", "odpowiedzi"/"odpowiedź"). A phrase (an option's label in
any locale, or one of the survey's extra words for it) is found when every stem of its longer
words is in the text. The option whose best phrase has the most stems wins; a tie between two
options is no answer rather than a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

MAX_TEXT = 4000
STEM = 4
MIN_WORD = 3
_WORD = re.compile(r"\w+")


def stems(text: str) -> frozenset[str]:
    """The stems of the words of `text` (short words such as "a", "и", "z" left out)."""
    words = _WORD.findall(text[:MAX_TEXT].casefold().replace("ё", "е"))
    return frozenset(w[:STEM] for w in words if len(w) >= MIN_WORD and not w.isdigit())


def match_option(text: str, options: Mapping[str, Iterable[str]]) -> str | None:
    """The option key whose phrases `text` contains, or None (none, or two equally good)."""
    found = stems(text)
    if not found:
        return None
    best: dict[str, int] = {}
    for key, phrases in options.items():
        for phrase in phrases:
            wanted = stems(phrase)
            if wanted and wanted <= found:
                best[key] = max(best.get(key, 0), len(wanted))
    if not best:
        return None
    top = max(best.values())
    winners = [key for key, size in best.items() if size == top]
    return winners[0] if len(winners) == 1 else None

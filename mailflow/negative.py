"""Which answers are negative: small named rules over an answer, composed by a chain.

Each rule has the shape of parsers.rules.Rule: `name`, `description`, and `check(answer)`
returning the reason (its name) or None. A chain combines them with OR (`any`, the default:
"speed slow OR work bad") or AND (`all`). A survey with no `negative` block gets its type's
default (nps <= 6, csat <= 2, ces <= 3, thumbs bad); mailflow.surveys builds the chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from parsers.rules import Rule


@dataclass(frozen=True)
class Answer:
    """What the rules look at."""

    score: int | None
    answers: dict[str, str]
    comment: str | None
    reasons: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoreAtMost:
    """Negative when the score is at most `limit`."""

    limit: int

    @property
    def name(self) -> str:
        return f"score<={self.limit}"

    @property
    def description(self) -> str:
        return f"the score is {self.limit} or lower"

    def check(self, answer: Answer) -> str | None:
        hit = answer.score is not None and answer.score <= self.limit
        return self.name if hit else None


@dataclass(frozen=True)
class AnswerIn:
    """Negative when question `question` was answered with one of `options`."""

    question: str
    options: frozenset[str]

    @property
    def name(self) -> str:
        return f"{self.question} in {sorted(self.options)}"

    @property
    def description(self) -> str:
        return f"'{self.question}' is answered with one of {', '.join(sorted(self.options))}"

    def check(self, answer: Answer) -> str | None:
        return self.name if answer.answers.get(self.question) in self.options else None


@dataclass(frozen=True)
class CommentContains:
    """Negative when the comment contains any of `words` (case-insensitive)."""

    words: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"comment contains {list(self.words)}"

    @property
    def description(self) -> str:
        return f"the comment contains any of {', '.join(self.words)}"

    def check(self, answer: Answer) -> str | None:
        text = (answer.comment or "").casefold()
        return self.name if any(word.casefold() in text for word in self.words) else None


@dataclass(frozen=True)
class ReasonIs:
    """Negative when the follow-up `question` was answered with `option` ("rude staff")."""

    question: str
    option: str

    @property
    def name(self) -> str:
        return f"reason {self.question} is {self.option}"

    @property
    def description(self) -> str:
        return f"the reason given for '{self.question}' is '{self.option}'"

    def check(self, answer: Answer) -> str | None:
        return self.name if answer.reasons.get(self.question) == self.option else None


@dataclass(frozen=True)
class Chain:
    """Rules combined with OR (`any`) or AND (`all`); an empty chain matches nothing.

    `first` rules are tried before the others whatever the mode (reasons that escalate to a
    named person are their own way to be negative)."""

    rules: tuple[Rule[Answer], ...]
    mode: Literal["any", "all"] = "any"
    first: tuple[Rule[Answer], ...] = ()

    def first_match(self, answer: Answer) -> Rule[Answer] | None:
        """The rule that made the answer negative (for any), or the first rule (for all)."""
        early = next((r for r in self.first if r.check(answer)), None)
        if early is not None:
            return early
        if not self.rules:
            return None
        if self.mode == "all":
            return self.rules[0] if all(r.check(answer) for r in self.rules) else None
        return next((r for r in self.rules if r.check(answer)), None)

    def matches(
        self,
        score: int | None,
        answers: dict[str, str],
        comment: str | None,
        reasons: dict[str, str] | None = None,
    ) -> bool:
        """Whether the answer is negative."""
        return self.first_match(Answer(score, answers, comment, dict(reasons or {}))) is not None

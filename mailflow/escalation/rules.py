"""Small named rules that decide whether an answer is negative, composed by a chain.

Each rule is a value with a `name` and a `check(answer) -> bool`, testable alone; a chain
combines them with OR (any, the default: "speed slow OR work bad") or AND (all). A survey with
no `negative` block gets its type's default (nps <= 6, csat <= 2, ces <= 3, thumbs bad).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mailflow.surveys import SurveyConfig


@dataclass(frozen=True)
class Answer:
    """What the rules look at."""

    score: int | None
    answers: dict[str, str]
    comment: str | None


class Rule(Protocol):
    """A named condition over an answer."""

    name: str

    def check(self, answer: Answer) -> bool: ...


@dataclass(frozen=True)
class ScoreAtMost:
    """Negative when the score is at most `limit`."""

    limit: int

    @property
    def name(self) -> str:
        return f"score<={self.limit}"

    def check(self, answer: Answer) -> bool:
        return answer.score is not None and answer.score <= self.limit


@dataclass(frozen=True)
class AnswerIn:
    """Negative when question `question` was answered with one of `options`."""

    question: str
    options: frozenset[str]

    @property
    def name(self) -> str:
        return f"{self.question} in {sorted(self.options)}"

    def check(self, answer: Answer) -> bool:
        return answer.answers.get(self.question) in self.options


@dataclass(frozen=True)
class CommentContains:
    """Negative when the comment contains any of `words` (case-insensitive)."""

    words: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"comment contains {list(self.words)}"

    def check(self, answer: Answer) -> bool:
        text = (answer.comment or "").casefold()
        return any(word.casefold() in text for word in self.words)


@dataclass(frozen=True)
class Chain:
    """Rules combined with OR (`any`) or AND (`all`); an empty chain matches nothing."""

    rules: tuple[Rule, ...]
    mode: str = "any"

    def first_match(self, answer: Answer) -> Rule | None:
        """The rule that made the answer negative (for any), or the first rule (for all)."""
        if not self.rules:
            return None
        if self.mode == "all":
            return self.rules[0] if all(r.check(answer) for r in self.rules) else None
        return next((r for r in self.rules if r.check(answer)), None)

    def matches(self, score: int | None, answers: dict[str, str], comment: str | None) -> bool:
        """Whether the answer is negative."""
        return self.first_match(Answer(score, answers, comment)) is not None


def rule_chain_for(survey: SurveyConfig) -> Chain:
    """The negative-answer chain of a survey: its own rules, else its type's default."""
    kind = survey.kind
    config = survey.negative
    rules: list[Rule] = []
    if config is None:
        if kind.negative_at_most is not None:
            rules.append(ScoreAtMost(kind.negative_at_most))
        if kind.negative_answers:
            rules.append(AnswerIn(kind.name, frozenset(kind.negative_answers)))
        return Chain(tuple(rules))
    if config.score_at_most is not None:
        rules.append(ScoreAtMost(config.score_at_most))
    for question, options in config.answers.items():
        rules.append(AnswerIn(question, frozenset(options)))
    if config.comment_contains:
        rules.append(CommentContains(tuple(config.comment_contains)))
    return Chain(tuple(rules), config.mode)

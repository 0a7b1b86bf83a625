"""The one shape of a rule, for every chain in Mailflow (after GNU Mailman's `IRule`).

A rule has a `name` (stable, stored and shown), a `description` (one line for people) and
`check(subject) -> str | None`: the reason it applies, or None. A chain is an ordered tuple of
rules; the first reason wins. The message-kind rules (parsers.kinds), the suppression rules
(mailflow.triggers) and the negative-answer rules (mailflow.negative) all have this shape, each
over its own subject. It lives here, at the bottom, because the pure parsers use it too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

Subject = TypeVar("Subject", contravariant=True)
T = TypeVar("T")


class Rule(Protocol[Subject]):
    """A named condition over one subject."""

    name: str
    description: str

    def check(self, subject: Subject) -> str | None:
        """The reason this rule applies to `subject`, or None."""
        ...


def first_reason(rules: Iterable[Rule[T]], subject: T) -> tuple[Rule[T], str] | None:
    """The first rule that applies and its reason, in chain order; None when none does."""
    for rule in rules:
        reason = rule.check(subject)
        if reason:
            return rule, reason
    return None

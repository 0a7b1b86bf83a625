"""Each negative-answer rule alone, then chained with OR (default) and AND, then from config."""

from __future__ import annotations

from mailflow.negative import Answer, AnswerIn, Chain, CommentContains, ScoreAtMost
from mailflow.surveys import SurveyConfig


def test_score_at_most():
    rule = ScoreAtMost(2)
    assert rule.check(Answer(2, {}, None)) and rule.check(Answer(0, {}, None))
    assert not rule.check(Answer(3, {}, None))
    assert not rule.check(Answer(None, {"speed": "slow"}, None))  # a form has no score
    assert rule.name == "score<=2"


def test_answer_in():
    rule = AnswerIn("work", frozenset({"bad", "very_bad"}))
    assert rule.check(Answer(None, {"work": "very_bad"}, None))
    assert not rule.check(Answer(None, {"work": "good"}, None))
    assert not rule.check(Answer(None, {"speed": "bad"}, None))  # another question


def test_comment_contains_is_case_insensitive_and_tolerates_no_comment():
    rule = CommentContains(("грубо", "rude"))
    assert rule.check(Answer(5, {}, "The agent was RUDE to me"))
    assert rule.check(Answer(5, {}, "Очень Грубо ответили"))
    assert not rule.check(Answer(5, {}, "polite"))
    assert not rule.check(Answer(5, {}, None))


def test_chain_any_is_or_and_names_the_rule_that_matched():
    chain = Chain((AnswerIn("speed", frozenset({"slow"})), AnswerIn("work", frozenset({"bad"}))))
    hit = chain.first_match(Answer(None, {"speed": "fast", "work": "bad"}, None))
    assert hit is not None and hit.name.startswith("work")
    assert not chain.matches(None, {"speed": "fast", "work": "good"}, None)


def test_chain_all_is_and():
    chain = Chain((ScoreAtMost(3), CommentContains(("late",))), mode="all")
    assert chain.matches(2, {}, "came late")
    assert not chain.matches(2, {}, "fine")
    assert not chain.matches(5, {}, "late")


def test_empty_chain_matches_nothing():
    assert not Chain(()).matches(0, {"a": "b"}, "anything")


def _survey(**extra) -> SurveyConfig:
    base = {
        "key": "q",
        "privacy_url": "https://example.com/p",
        "texts": {"en": {"title": "t", "subtitle": "s", "button": "b", "comment_prompt": "c"}},
    }
    return SurveyConfig(**base, **extra)


def test_planfix_example_from_config_speed_slow_or_work_bad():
    survey = _survey(
        type="form",
        questions=[
            {"key": "speed", "text": {"en": "Speed?"}, "options": {"slow": {}, "fast": {}}},
            {"key": "work", "text": {"en": "Work?"}, "options": {"good": {}, "bad": {}}},
        ],
        negative={"answers": {"speed": ["slow"], "work": ["bad"]}},
    )
    chain = survey.negative_chain()
    assert chain.matches(None, {"speed": "slow", "work": "good"}, None)
    assert chain.matches(None, {"speed": "fast", "work": "bad"}, None)
    assert not chain.matches(None, {"speed": "fast", "work": "good"}, None)


def test_type_defaults_when_no_rule_is_configured():
    nps = _survey(type="nps").negative_chain()
    assert nps.matches(6, {}, None) and not nps.matches(7, {}, None)
    thumbs = _survey(type="thumbs").negative_chain()
    assert thumbs.matches(0, {"thumbs": "bad"}, None)
    assert not thumbs.matches(1, {"thumbs": "good"}, None)


def test_configured_and_mode_with_comment_words():
    survey = _survey(
        type="csat", negative={"mode": "all", "score_at_most": 3, "comment_contains": ["refund"]}
    )
    chain = survey.negative_chain()
    assert chain.matches(3, {}, "I want a REFUND")
    assert not chain.matches(3, {}, "ok")

"""Survey configuration: the typed shape of a `[[surveys]]` block and its validation.

Validation happens once at start-up; every error names the survey and the field so a user can
fix mailflow.toml from the one line they see.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from mailflow.contacts import EmailAddress
from mailflow.negative import Answer as NegativeAnswer
from mailflow.negative import AnswerIn, Chain, CommentContains, ReasonIs, ScoreAtMost
from mailflow.survey_types import SURVEY_TYPES, SurveyType
from parsers.rules import Rule
from parsers.types import OptionSpec, QuestionSpec, SurveySpec

Strict = ConfigDict(extra="forbid", frozen=True)


class SurveyTexts(BaseModel):
    """The words of one survey in one locale; question and labels default from the type."""

    model_config = Strict

    title: str = Field(min_length=1)
    subtitle: str = Field(min_length=1)
    button: str = Field(min_length=1)
    comment_prompt: str = Field(min_length=1)
    question: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    subject: str | None = None
    thank_you: str | None = None
    apology: str | None = None


class QuestionConfig(BaseModel):
    """One question of a `form` survey: key, text per locale, options key -> label per locale."""

    model_config = Strict

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    text: dict[str, str]
    options: dict[str, dict[str, str]]


class ReasonQuestion(BaseModel):
    """A reason question shown only after some answers (CSAT 1–2 → "What went wrong?").

    `when` lists answer keys on the survey's scale; `options` maps a locale-independent option
    key to its label per locale; `words` adds words per locale that also name an option in a
    reply ("ждал" → slow); `other` offers "Other" with a text box; `escalate_to` sends an
    answer with that reason to a named manager ("rude" → the team lead) and makes it negative.
    """

    model_config = Strict

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    when: list[str] = Field(min_length=1)
    text: dict[str, str]
    options: dict[str, dict[str, str]] = Field(min_length=1)
    other: bool = True
    words: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    escalate_to: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _options_known(self) -> ReasonQuestion:
        for option in self.options:
            if option == "other" or not re.fullmatch(r"[a-z][a-z0-9_]*", option):
                raise ValueError(
                    f"options.{option}: option keys are lower-case words (and not 'other')"
                )
        for field_name, named in (("words", self.words), ("escalate_to", self.escalate_to)):
            for option in named:
                if option not in self.options and not (option == "other" and self.other):
                    raise ValueError(f"{field_name}.{option}: no such option")
        for option, address in self.escalate_to.items():
            if "@" not in address:
                raise ValueError(f"escalate_to.{option}: not an email address")
        return self

    def applies(self, answer_key: str | None) -> bool:
        """Whether this follow-up is asked after the answer `answer_key`."""
        return answer_key is not None and answer_key in self.when

    def label(self, option: str, locale: str) -> str:
        """An option's label in a locale ("other" reads the web's word for it)."""
        labels = self.options.get(option, {})
        return labels.get(locale) or labels.get("en") or option


class TriggerConfig(BaseModel):
    """When a helpdesk event creates a request for this survey."""

    model_config = Strict

    on: Literal["ticket.closed", "status", "never"] = "ticket.closed"
    status: str | None = None
    delay_hours: float = Field(default=0, ge=0)
    vip_only: bool = False

    @model_validator(mode="after")
    def _status_named(self) -> TriggerConfig:
        if self.on == "status" and not self.status:
            raise ValueError('status: required when on = "status"')
        return self


class CampaignConfig(BaseModel):
    """A scheduled send: cron expression and audience."""

    model_config = Strict

    cron: str
    audience: Literal["active_contacts", "segment"] = "active_contacts"
    active_days: int = Field(default=30, gt=0)
    segment: str | None = None


class NegativeRule(BaseModel):
    """Which answers count as negative; conditions combine with OR (any) or AND (all)."""

    model_config = Strict

    mode: Literal["any", "all"] = "any"
    score_at_most: int | None = None
    answers: dict[str, list[str]] = Field(default_factory=dict)
    comment_contains: list[str] = Field(default_factory=list)


class FollowUpConfig(BaseModel):
    """Optional email to the client after an answer: an apology for a negative one, a
    thank-you for a positive one (texts: `apology` / `thank_you` in the survey's texts)."""

    model_config = Strict

    apology: bool = False
    thank_you: bool = False


class SurveyConfig(BaseModel):
    """One survey, as written in mailflow.toml."""

    model_config = Strict

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: Literal["nps", "csat", "ces", "thumbs", "form"]
    privacy_url: HttpUrl
    expiration_days: int = Field(default=7, gt=0, le=365)
    comment_author: str = "Survey"
    texts: dict[str, SurveyTexts]
    questions: list[QuestionConfig] = Field(default_factory=list)
    reasons: list[ReasonQuestion] = Field(default_factory=list)
    trigger: TriggerConfig | None = None
    campaign: CampaignConfig | None = None
    negative: NegativeRule | None = None
    escalate_to: EmailAddress | None = None
    # The console's target for handling an escalation; past it, it is overdue (reminded once).
    escalation_sla_hours: float = Field(default=24, gt=0, le=24 * 365)
    followup: FollowUpConfig | None = None
    forbid_change: bool = False
    edit_window_hours: float = Field(default=24, ge=0)
    google_form_url: HttpUrl | None = None
    google_form_token_entry: str | None = Field(default=None, pattern=r"^entry\.\d+$")

    @field_validator("privacy_url", mode="before")
    @classmethod
    def _privacy_required(cls, value: object) -> object:
        if value in (None, ""):
            raise ValueError("a privacy policy URL is required")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SurveyConfig:
        kind = self.kind
        for locale, texts in self.texts.items():
            for answer in texts.labels:
                if answer not in kind.scale:
                    scale = ", ".join(kind.scale) or "none (form surveys label their options)"
                    raise ValueError(
                        f"texts.{locale}.labels: '{answer}' is not on the {self.type} scale "
                        f"({scale})"
                    )
        if self.type == "form":
            if not self.questions:
                raise ValueError("questions: a form survey needs at least one question")
            seen: set[str] = set()
            for question in self.questions:
                if question.key in seen:
                    raise ValueError(f"questions.{question.key}: duplicate question key")
                seen.add(question.key)
                if not question.options:
                    raise ValueError(f"questions.{question.key}.options: no options")
        elif self.questions:
            raise ValueError(f"questions: only form surveys have questions, not {self.type}")
        self._check_reasons()
        if self.negative:
            keys = {q.key: q for q in self.questions}
            for qkey, options in self.negative.answers.items():
                valid = set(keys[qkey].options) if qkey in keys else set(kind.scale)
                if qkey not in keys and qkey not in ("score", self.type):
                    raise ValueError(f"negative.answers.{qkey}: no such question")
                for option in options:
                    if option not in valid:
                        raise ValueError(f"negative.answers.{qkey}: unknown option '{option}'")
        return self

    def _check_reasons(self) -> None:
        if self.reasons and self.type == "form":
            raise ValueError("reasons: only scale surveys (not form) have follow-up questions")
        seen: set[str] = set()
        for followup in self.reasons:
            if followup.key in seen:
                raise ValueError(f"reasons.{followup.key}: duplicate follow-up key")
            seen.add(followup.key)
            for answer in followup.when:
                if answer not in self.kind.scale:
                    raise ValueError(
                        f"reasons.{followup.key}.when: '{answer}' is not on the {self.type} "
                        f"scale ({', '.join(self.kind.scale)})"
                    )

    def reasons_for(self, answer_key: str | None) -> list[ReasonQuestion]:
        """The follow-up questions asked after this answer, in configured order."""
        return [f for f in self.reasons if f.applies(answer_key)]

    def reason_question(self, key: str) -> ReasonQuestion | None:
        """The follow-up question with this key."""
        return next((f for f in self.reasons if f.key == key), None)

    def reason_target(self, rule_name: str | None) -> str | None:
        """The address a reason rule escalates to ("reason what_went_wrong is rude")."""
        for followup in self.reasons:
            for option, address in followup.escalate_to.items():
                if ReasonIs(followup.key, option).name == rule_name:
                    return address
        return None

    @property
    def kind(self) -> SurveyType:
        """The type object fixing scale and defaults."""
        return SURVEY_TYPES[self.type]

    def check_locales(self, locales: list[str]) -> None:
        """Every configured locale needs every text, questions and options included."""
        for locale in locales:
            if locale not in self.texts:
                raise ValueError(f"texts.{locale}: missing (every survey needs every locale)")
            for question in self.questions:
                if not question.text.get(locale):
                    raise ValueError(f"questions.{question.key}.text.{locale}: missing")
                for option, labels in question.options.items():
                    if not labels.get(locale):
                        raise ValueError(
                            f"questions.{question.key}.options.{option}.{locale}: missing"
                        )
            for followup in self.reasons:
                if not followup.text.get(locale):
                    raise ValueError(f"reasons.{followup.key}.text.{locale}: missing")
                for option, labels in followup.options.items():
                    if not labels.get(locale):
                        raise ValueError(
                            f"reasons.{followup.key}.options.{option}.{locale}: missing"
                        )

    def question_text(self, locale: str) -> str:
        """The scale question in a locale: the survey's own, else the type's default."""
        own = self.texts[locale].question if locale in self.texts else None
        return own or self.kind.questions.get(locale) or self.kind.questions["en"]

    def labels(self, locale: str) -> dict[str, str]:
        """Answer key -> label in a locale: type defaults overridden by the survey's own."""
        merged = dict(self.kind.labels.get(locale, self.kind.labels.get("en", {})))
        if locale in self.texts:
            merged.update(self.texts[locale].labels)
        return merged

    def negative_chain(self) -> Chain:
        """The negative-answer chain: the survey's own rules, else its type's default."""
        kind, config = self.kind, self.negative
        # Reasons that escalate to someone come first: first_match names the rule the
        # escalation is filed under, and so whom it goes to.
        rules: list[Rule[NegativeAnswer]] = [
            ReasonIs(f.key, option) for f in self.reasons for option in f.escalate_to
        ]
        if config is None:
            if kind.negative_at_most is not None:
                rules.append(ScoreAtMost(kind.negative_at_most))
            if kind.negative_answers:
                rules.append(AnswerIn(kind.name, frozenset(kind.negative_answers)))
            return Chain(tuple(rules))
        if config.mode == "all" and rules:
            # An escalating reason is its own way to be negative, not one more AND condition.
            reasons, rules = tuple(rules), []
        else:
            reasons = ()
        if config.score_at_most is not None:
            rules.append(ScoreAtMost(config.score_at_most))
        for question, options in config.answers.items():
            rules.append(AnswerIn(question, frozenset(options)))
        if config.comment_contains:
            rules.append(CommentContains(tuple(config.comment_contains)))
        return Chain(tuple(rules), config.mode, reasons)

    def is_negative(
        self,
        score: int | None,
        answers: dict[str, str],
        comment: str | None,
        reasons: dict[str, str] | None = None,
    ) -> bool:
        """Whether an answer counts as negative: the survey's rule, else the type's default."""
        return self.negative_chain().matches(score, answers, comment, reasons)

    def spec(self) -> SurveySpec:
        """The survey as the pure parsers see it."""
        kind = self.kind
        scale_labels: dict[str, dict[str, str]] = {}
        for locale in self.texts:
            for answer, label in self.labels(locale).items():
                scale_labels.setdefault(answer, {})[locale] = label
        questions = tuple(
            QuestionSpec(
                key=q.key,
                texts=dict(q.text),
                options=tuple(OptionSpec(key=k, labels=dict(v)) for k, v in q.options.items()),
            )
            for q in self.questions
        )
        return SurveySpec(
            key=self.key,
            type=self.type,
            scale=kind.scale,
            scale_labels=scale_labels,
            questions=questions,
            google_form_token_entry=self.google_form_token_entry,
            question_texts={} if self.questions else {
                locale: self.question_text(locale) for locale in self.texts
            },
            comment_prompts={locale: t.comment_prompt for locale, t in self.texts.items()},
        )

"""Small shared types: what a survey looks like to a parser, and what a parser returns.

`parsers` must not import `mailflow`; `mailflow.settings` converts its survey configuration
into these frozen dataclasses so parsers can interpret answers on the survey's own scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["reply", "google_form", "web_form", "auto_reply", "bounce", "unknown"]
SurveyType = Literal["nps", "csat", "ces", "thumbs", "form"]


@dataclass(frozen=True)
class OptionSpec:
    """One answer option: a locale-independent key and its label per locale."""

    key: str
    labels: dict[str, str] = field(default_factory=dict)  # locale -> label


@dataclass(frozen=True)
class QuestionSpec:
    """One question of a `form` survey (or the single scale question of other types)."""

    key: str
    texts: dict[str, str] = field(default_factory=dict)  # locale -> question text
    options: tuple[OptionSpec, ...] = ()


@dataclass(frozen=True)
class SurveySpec:
    """The parts of a survey's configuration a parser needs to interpret an answer.

    `scale` holds the answer keys in order: "0".."10" for nps, "1".."5" csat, "1".."7" ces,
    ("good", "bad") for thumbs, () for form. `scale_labels` maps answer key -> locale -> label
    (endpoint labels only are fine). `questions` is non-empty only for `form` surveys.
    `google_form_token_entry` is the prefilled Google Form field ("entry.123456") carrying the
    request token, when the survey links to a Google Form.
    """

    key: str
    type: SurveyType
    scale: tuple[str, ...] = ()
    scale_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    questions: tuple[QuestionSpec, ...] = ()
    google_form_token_entry: str | None = None
    # locale -> the scale question / the comment prompt, as a form tool shows them as labels
    question_texts: dict[str, str] = field(default_factory=dict)
    comment_prompts: dict[str, str] = field(default_factory=dict)


@dataclass
class Bounce:
    """What a delivery status notification says about one failed recipient."""

    recipient: str | None
    status: str | None  # e.g. "5.1.1"
    permanent: bool
    diagnostic: str | None = None
    original_message_id: str | None = None


@dataclass
class ParsedMessage:
    """Everything read from the raw bytes, before a survey is known.

    Tokens are candidates only (shape-checked, not verified): `mailflow.tokens.verify`
    decides. `recipient_token` comes from a plus-address (survey+TOKEN@domain) in
    To/Cc/Delivered-To/X-Original-To or the envelope; `body_tokens` from our links
    (/r/TOKEN, /amp/TOKEN), a prefilled Google Form field (entry.N=TOKEN) or a "Ref: TOKEN"
    line, in order of appearance.
    """

    kind: Kind
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    from_address: str | None
    to_addresses: list[str]
    subject: str
    date: str | None
    language: str | None  # "en" | "ru" | "pl" | None
    visible_text: str
    recipient_token: str | None
    body_tokens: list[str]
    form_fields: list[tuple[str, str]]  # (label, value) pairs from Google Forms / web forms
    bounce: Bounce | None = None
    auto_reply_reason: str | None = None
    error: str | None = None  # set when the MIME could not be read at all
    # Authentication-Results header values, topmost first (trusted only by authserv-id)
    authentication_results: list[str] = field(default_factory=list)
    sender_refused: str | None = None  # why the From address alone never matches a request

    @property
    def request_token(self) -> str | None:
        """The strongest token candidate: the plus-address first, then the body."""
        return self.recipient_token or (self.body_tokens[0] if self.body_tokens else None)


@dataclass
class Interpretation:
    """A parsed message read on a survey's scale: the answer, or why there is none."""

    score: int | None
    comment: str | None
    answers: dict[str, str]  # question key -> option key (form), or {"score": "9"} etc.
    error: str | None  # a named reason such as "ambiguous_score: 3 or 4"; None when fine

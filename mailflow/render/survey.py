"""Survey emails from email_templates/ and amp_forms/ to MIME bytes, in the shared frame.

Work is done once: for each (survey, locale) every part (text, AMP, HTML) is rendered by
Jinja2 with everything that is the same for every recipient, the HTML is CSS-inlined by
premailer, and each part is split at its per-recipient placeholders and pre-encoded
(mailflow.mime). Per recipient only the tokens and the greeting are encoded and spliced in,
so a survey email costs a fraction of rendering its template.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from email.utils import formataddr, formatdate
from typing import Any

import premailer
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

import amp_forms
import email_templates
from mailflow.answer_reasons import reason_views
from mailflow.i18n import ui
from mailflow.mime import PartTemplate
from mailflow.reason_words import words as reason_words
from mailflow.render.envelope import (
    address_header,
    assemble,
    encode_header,
    header_safe,
    new_message_id,
    reply_address,
)
from mailflow.scale import form_questions, scale_options
from mailflow.settings import Settings
from mailflow.surveys import SurveyConfig
from mailflow.tokens import PREVIEW_ID, Purpose, Signer, signer_for

log = logging.getLogger(__name__)

# Configured braces travel through the first pass as private-use characters and come back as
# braces in the static text, so a configured "{{token}}" never becomes a placeholder.
_OPEN, _CLOSE = "\ue000", "\ue001"
# What differs per recipient; everything else is fixed per survey and locale.
PLACEHOLDERS = (
    "greeting",
    "ticket_line",
    "ticket_block",
    "token",
    "unsubscribe_token",
    "amp_token",
    "telegram_token",
)
# A preview's reply address: the .invalid top-level domain (RFC 6761) never resolves, and our
# listener refuses every domain but the reply domain, so a reply to a preview is refused.
PREVIEW_REPLY_DOMAIN = "preview.invalid"


def _restore_braces(text: str) -> str:
    return text.replace(_OPEN, "{").replace(_CLOSE, "}")


class _Placeholders:
    """In the first pass, {{ ph.x }} renders as {{x}} for the per-recipient pass."""

    def __getattr__(self, name: str) -> Markup:
        return Markup("{{" + name + "}}")  # noqa: S704  (a fixed placeholder)


def _no_braces(value: Any) -> Any:
    """First-pass finalize (HTML, AMP): configured texts can never become placeholders."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return Markup(str(escape(value)).replace("{", _OPEN).replace("}", _CLOSE))  # noqa: S704


def _no_braces_text(value: Any) -> Any:
    """First-pass finalize (text): the same, without HTML escaping."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return value.replace("{", _OPEN).replace("}", _CLOSE)


@dataclass(frozen=True)
class CompiledSurvey:
    """One survey in one locale, ready for recipients: parts and fixed headers."""

    parts: tuple[PartTemplate, ...]
    headers: tuple[tuple[str, str], ...]
    boundary: str

    @property
    def has_amp(self) -> bool:
        """Whether the email carries an AMP part (and so needs an AMP token)."""
        return any(part.content_type == "text/x-amp-html" for part in self.parts)


@dataclass(frozen=True)
class Recipient:
    """Who a survey email is for and what it is about."""

    request_id: int
    email: str
    name: str | None = None
    ticket_ref: str | None = None
    ticket_title: str | None = None
    # `mailflow preview`: every token is a PREVIEW token (request_id is ignored), so the
    # links open a page that says "preview" and a reply goes nowhere.
    preview: bool = False


class Renderer:
    """Renders survey emails for one Settings; compiles each survey+locale once."""

    def __init__(self, settings: Settings, signer: Signer | None = None):
        self.settings = settings
        self.signer = signer or signer_for(settings)
        loader = ChoiceLoader(
            [
                FileSystemLoader(str(email_templates.TEMPLATE_DIR)),
                FileSystemLoader(str(amp_forms.TEMPLATE_DIR)),
            ]
        )
        self._markup = Environment(
            loader=loader, autoescape=True, undefined=StrictUndefined, finalize=_no_braces
        )
        # Text parts are plain text: HTML escaping would corrupt them. They never reach a browser.
        self._text = Environment(
            loader=loader,
            autoescape=False,  # noqa: S701
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            finalize=_no_braces_text,
        )
        # (key, locale) -> (the SurveyConfig it was made from, the result): a new version of the
        # survey (a new object, mailflow.survey_store) is compiled afresh.
        self._compiled: dict[tuple[str, str], tuple[SurveyConfig, CompiledSurvey]] = {}
        self._css = (email_templates.TEMPLATE_DIR / "brand.css").read_text(encoding="utf-8")
        self._date: tuple[int, str] = (0, "")

    @property
    def _telegram(self) -> str | None:
        """The bot's username when the Telegram channel is on (for the t.me deep link)."""
        config = self.settings.telegram
        return config.bot_username if config.enabled and config.bot_username else None

    @property
    def amp_enabled(self) -> bool:
        """AMP for Email requires an https endpoint; without one the part is left out."""
        return self.settings.web.base_url.startswith("https://")

    def _static_context(self, survey: SurveyConfig, locale: str) -> dict[str, Any]:
        """Everything that is the same for every recipient of this survey in this locale."""
        kind, labels = survey.kind, survey.labels(locale)
        options = scale_options(survey, locale)
        questions = form_questions(survey, locale)
        base_url = self.settings.web.base_url.rstrip("/")
        return {
            "locale": locale,
            "texts": survey.texts[locale],
            "question": survey.question_text(locale),
            "options": options,
            "questions": questions,
            "show_each_label": kind.name in ("csat", "thumbs"),
            "first_label": labels.get(kind.scale[0], "") if kind.scale else "",
            "last_label": labels.get(kind.scale[-1], "") if kind.scale else "",
            "brand": self.settings.brand,
            "footer": self.settings.brand.footer_for(locale, ui(locale)["footer"]),
            "ui": ui(locale),
            "privacy_url": str(survey.privacy_url),
            "base_url": base_url,
            "comment_max_length": self.settings.web.comment_max_length,
            "reasons": reason_views(survey, locale),
            "telegram_bot": self._telegram,
            "reason_words": reason_words(locale),
        }

    def _form_url(self, survey: SurveyConfig, token: str) -> str:
        if survey.google_form_url and survey.google_form_token_entry:
            url = str(survey.google_form_url)
            sep = "&" if "?" in url else "?"
            return f"{url}{sep}usp=pp_url&{survey.google_form_token_entry}={token}"
        return f"{self.settings.web.base_url.rstrip('/')}/r/{token}"

    def compiled(self, survey: SurveyConfig, locale: str) -> CompiledSurvey:
        """The survey in a locale, rendered, CSS-inlined and pre-encoded (cached)."""
        key = (survey.key, locale)
        found = self._compiled.get(key)
        if found is None or found[0] is not survey:
            found = self._compiled[key] = (survey, self._compile(survey, locale))
        return found[1]

    def _compile(self, survey: SurveyConfig, locale: str) -> CompiledSurvey:
        context = self._static_context(survey, locale)
        context["ph"] = _Placeholders()
        context["form_url"] = Markup(self._form_url(survey, "{{token}}"))  # noqa: S704
        text = self._text.get_template(f"survey/{survey.type}.txt").render(context)
        parts = [
            PartTemplate.build(
                "text/plain", text, PLACEHOLDERS, escape_values=False, restore=_restore_braces
            )
        ]
        if self.amp_enabled:
            amp = self._markup.get_template(f"{survey.type}.amp.html").render(context)
            parts.append(
                PartTemplate.build(
                    "text/x-amp-html",
                    amp,
                    PLACEHOLDERS,
                    escape_values=True,
                    restore=_restore_braces,
                )
            )
        context["css"] = Markup(self._css)  # noqa: S704  (our own stylesheet)
        first = self._markup.get_template(f"survey/{survey.type}.html").render(context)
        inlined = premailer.transform(
            first,
            allow_network=False,
            remove_classes=False,
            disable_validation=True,
            cssutils_logging_level=logging.CRITICAL,
            keep_style_tags=True,
            strip_important=False,
        )
        parts.append(
            PartTemplate.build(
                "text/html", inlined, PLACEHOLDERS, escape_values=True, restore=_restore_braces
            )
        )
        brand = self.settings.brand
        headers = (
            ("From", formataddr((header_safe(brand.sender_name), brand.sender_email), "utf-8")),
            ("Subject", encode_header(self.subject(survey, locale))),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Auto-Submitted", "auto-generated"),
            ("X-Auto-Response-Suppress", "OOF, AutoReply"),
            ("Content-Language", locale),
            ("X-Mailflow-Survey", survey.key),
        )
        return CompiledSurvey(tuple(parts), headers, f"=_mailflow_{uuid.uuid4().hex}")

    def resolve_locale(self, survey: SurveyConfig, locale: str | None) -> str:
        """The locale to use: the asked one when the survey has it, else the default."""
        if locale and locale in survey.texts:
            return locale
        return self.settings.default_locale

    def values(self, survey: SurveyConfig, locale: str, who: Recipient) -> dict[str, str]:
        """What differs per recipient: greeting, ticket line and the signed tokens."""
        strings = ui(locale)
        greeting = (
            strings["greeting_named"].format(name=header_safe(who.name))
            if who.name
            else strings["greeting"]
        )
        ticket_line = (
            strings["ticket_line"].format(
                title=header_safe(who.ticket_title), ref=header_safe(who.ticket_ref or "")
            )
            if who.ticket_title
            else ""
        )
        sign = self.signer.sign
        amp = self.compiled(survey, locale).has_amp
        if who.preview:
            preview = sign(PREVIEW_ID, Purpose.PREVIEW)
            return {
                "greeting": greeting,
                "ticket_line": ticket_line,
                "ticket_block": f"{ticket_line}\n" if ticket_line else "",
                "token": preview,
                "unsubscribe_token": preview,
                "amp_token": preview if amp else "",
                "telegram_token": preview,
            }
        return {
            "greeting": greeting,
            "ticket_line": ticket_line,
            "ticket_block": f"{ticket_line}\n" if ticket_line else "",
            "token": sign(who.request_id, Purpose.LINK),
            "unsubscribe_token": sign(who.request_id, Purpose.UNSUBSCRIBE),
            "amp_token": sign(who.request_id, Purpose.AMP) if amp else "",
            "telegram_token": sign(who.request_id, Purpose.TELEGRAM) if self._telegram else "",
        }

    def parts(self, survey: SurveyConfig, locale: str, who: Recipient) -> dict[str, str]:
        """The decoded text, AMP (when enabled) and HTML bodies for one recipient."""
        values = self.values(survey, locale, who)
        names = {"text/plain": "text", "text/x-amp-html": "amp", "text/html": "html"}
        return {
            names[part.content_type]: part.fill(values)
            for part in self.compiled(survey, locale).parts
        }

    def subject(self, survey: SurveyConfig, locale: str) -> str:
        """The localised subject line, safe for a header."""
        texts = survey.texts[locale]
        company = self.settings.brand.company
        return header_safe(texts.subject or f"{company}: {texts.title}")

    def _now_header(self) -> str:
        """The Date header, formatted once per second."""
        second = int(time.time())
        if self._date[0] != second:
            self._date = (second, formatdate(second, usegmt=True))
        return self._date[1]

    def render(
        self,
        survey: SurveyConfig,
        who: Recipient,
        *,
        locale: str | None = None,
        message_id: str | None = None,
        reply_to: str | None = None,
    ) -> bytes:
        """The complete survey email for one recipient, as bytes ready for SMTP; `reply_to` is
        the request's reply address when the caller signed it already (it is the envelope
        sender too), so the reply token is signed once per email."""
        locale = self.resolve_locale(survey, locale)
        compiled = self.compiled(survey, locale)
        values = self.values(survey, locale, who)
        settings = self.settings
        if who.preview:
            reply_to = self.preview_reply_address()
        reply_to = reply_to or self.reply_address(who.request_id)
        unsubscribe = values["unsubscribe_token"]
        mailto = reply_to if who.preview else reply_address(settings, unsubscribe)
        base = settings.web.base_url.rstrip("/")
        headers = [
            ("Message-ID", message_id or new_message_id(settings.msgid_domain)),
            ("Date", self._now_header()),
            ("To", address_header(who.name, who.email)),
            (
                "Reply-To",
                formataddr((header_safe(settings.brand.company), reply_to), "utf-8"),
            ),
            (
                "List-Unsubscribe",
                f"<mailto:{mailto}?subject=unsubscribe>,\n"
                f" <{base}/u/{unsubscribe}>",
            ),
            *compiled.headers,
            *([("X-Mailflow-Preview", "yes")] if who.preview else []),
        ]
        bodies = [(part.content_type, part.encode(values)) for part in compiled.parts]
        return assemble(settings, headers, bodies, compiled.boundary)

    def preview_reply_address(self) -> str:
        """A preview's Reply-To: its PREVIEW token on a domain that refuses all mail."""
        token = self.signer.sign(PREVIEW_ID, Purpose.PREVIEW)
        return f"{self.settings.reply_local_part}+{token}@{PREVIEW_REPLY_DOMAIN}"

    def reply_address(self, request_id: int) -> str:
        """The request's reply address (Reply-To and envelope sender), with its signed token."""
        return reply_address(self.settings, self.signer.sign(request_id, Purpose.REPLY))

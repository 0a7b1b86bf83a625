"""read_message: raw bytes -> ParsedMessage, once per message, never raising.

The MIME tree is parsed once; BeautifulSoup runs only when there is no usable text/plain
part or when the message may be a form result, since it dominates the cost of a reply.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.message import Message

from parsers import bounces, forms, html, language, quotes, senders, tokens
from parsers.kinds import BOUNCE_RULES, CHAIN, REPLY_SUBJECT, Evidence, classify
from parsers.mime import (
    LENIENT_ERRORS,
    Bodies,
    addresses,
    collect_bodies,
    header,
    headers,
    parse_bytes,
)
from parsers.refusals import NoBody, UnreadableMime
from parsers.types import Bounce, ParsedMessage

_MSGID = re.compile(r"<[^<>\s]+>")
_FORM_HINT = re.compile(
    r"google|forms?\b|formularz|форм|заявк|submission|zgłoszeni|wpforms|tilda|webflow|"
    r"no-?reply|wordpress|website|new (?:response|entry|submission|lead)|jotform|typeform|"
    r"hubspot|formspree|netlify|elementor|wix|gravity|bitrix|web-?форм|nowa wiadomość",
    re.I,
)
_FORM_LINK = re.compile(r"docs\.google\.com/forms|forms\.gle/", re.I)
_LABEL_LINES = re.compile(r"(?m)^[ \t*]*[^\W\d_][^:\n]{0,80}:[ \t]*\S")
# The most of a text body the parsers read: the sender's answer is at the top, and every
# pass over the text is then bounded whatever the size of the mail.
TEXT_LIMIT = 256 * 1024
TOKEN_LIMIT = 4 * TEXT_LIMIT  # our links may sit low in a long quoted thread
_IDENTITY_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "Content-Type", "Received")


def _message_ids(value: str) -> list[str]:
    return _MSGID.findall(value or "")


def _unreadable(reason: str) -> ParsedMessage:
    return ParsedMessage(
        kind="unknown", message_id=None, in_reply_to=None, references=[], from_address=None,
        to_addresses=[], subject="", date=None, language=None, visible_text="",
        recipient_token=None, body_tokens=[], form_fields=[], error=reason,
    )  # fmt: skip


def _texts(bodies: Bodies) -> tuple[str, str]:
    """(whole readable body, the sender's own text) from text/plain, else from the html."""
    if bodies.text.strip():
        text = bodies.text[:TEXT_LIMIT]
        return text, quotes.visible_text(text)
    if bodies.html.strip() and html.too_big(bodies.html):
        whole = html.flat_text(bodies.html)[:TEXT_LIMIT]
        return whole, quotes.visible_text(whole)
    if bodies.html.strip():
        soup = html.flowing_soup_of(bodies.html)
        whole = html.text_of(soup)[:TEXT_LIMIT]
        html.remove_quotes(soup)
        return whole, quotes.visible_text(html.text_of(soup)[:TEXT_LIMIT])
    return "", ""


def _may_be_form(ev: Evidence) -> bool:
    """Cheap pre-check so replies skip form extraction (and its HTML parse): a form-ish
    sender or subject, a Google Forms link, or a few "Label: value" lines in the body."""
    if ev.in_reply_to:
        return bool(re.search(r"forms-(?:receipts-)?noreply@google", ev.from_header, re.I))
    if _FORM_HINT.search(ev.from_header) or _FORM_HINT.search(ev.subject):
        return True
    if REPLY_SUBJECT.match(ev.subject):
        return False
    head = ev.body_text[:20000]
    return bool(_FORM_LINK.search(head)) or len(_LABEL_LINES.findall(head)) >= 2


def _original_tokens(original: Message | None) -> tuple[list[str], list[str]]:
    """(plus-address tokens, link tokens) of the message a bounce returns."""
    if original is None:
        return [], []
    plus = tokens.plus_token(addresses(original, "Reply-To", "From", "Sender"))
    inner = collect_bodies(original)
    return ([plus] if plus else []), tokens.body_tokens([inner.text, inner.html])


def read_message(raw: bytes, *, envelope_to: Sequence[str] = ()) -> ParsedMessage:
    """Everything a parser can say about `raw` before a survey is known; never raises."""
    try:
        return _read(raw, envelope_to)
    except LENIENT_ERRORS as exc:
        return _unreadable(str(UnreadableMime(exc.__class__.__name__)))


def _read(raw: bytes, envelope_to: Sequence[str]) -> ParsedMessage:
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        return _unreadable(str(UnreadableMime("not bytes")))
    msg = parse_bytes(bytes(raw))
    if not any(headers(msg, name) for name in _IDENTITY_HEADERS):
        return _unreadable(str(UnreadableMime("no message headers")))
    bodies = collect_bodies(msg)
    body_text, visible = _texts(bodies)
    ev = Evidence(
        msg=msg,
        subject=header(msg, "Subject"),
        from_header=header(msg, "From"),
        in_reply_to=(_message_ids(header(msg, "In-Reply-To")) or [None])[0],
        bodies=bodies,
        body_text=body_text,
        visible_text=visible,
    )
    machine = classify(ev, BOUNCE_RULES)[0] == "bounce"
    if not machine and _may_be_form(ev):
        tree = "" if html.too_big(bodies.html) else bodies.html
        ev.form_fields = forms.form_fields(tree, bodies.text[:TEXT_LIMIT])
    kind, _rule, reason = classify(ev, CHAIN)

    bounce: Bounce | None = None
    first_tokens: list[str] = []
    link_tokens: list[str] = []
    if kind == "bounce":
        original = bounces.original_message(bodies)
        bounce = bounces.read_bounce(bodies, original, header(msg, "X-Failed-Recipients"))
        first_tokens, link_tokens = _original_tokens(original)
    if kind in ("google_form", "web_form"):
        visible = quotes.tidy(body_text)
    recipients = [
        *envelope_to,
        *addresses(msg, "Delivered-To", "X-Original-To", "To", "Cc"),
    ]
    found = tokens.body_tokens([bodies.text[:TOKEN_LIMIT], bodies.html[:TOKEN_LIMIT]])
    body = [*first_tokens, *tokens.field_tokens(ev.form_fields), *found, *link_tokens]
    body_tokens = list(dict.fromkeys(body))
    if kind in ("google_form", "web_form") and ev.form_fields:
        lang = language.detect(" ".join(f"{k} {v}" for k, v in ev.form_fields))
    else:
        lang = language.detect(visible) or language.detect(body_text)
    from_list = addresses(msg, "From")
    date = header(msg, "Date") or None
    return ParsedMessage(
        kind=kind,
        message_id=(_message_ids(header(msg, "Message-ID")) or [None])[0],
        in_reply_to=ev.in_reply_to,
        references=_message_ids(" ".join(headers(msg, "References"))),
        from_address=from_list[0] if from_list else None,
        to_addresses=addresses(msg, "To", "Cc"),
        subject=ev.subject,
        date=date,
        language=lang,
        visible_text=visible,
        recipient_token=tokens.plus_token(recipients),
        body_tokens=body_tokens,
        form_fields=ev.form_fields,
        bounce=bounce,
        auto_reply_reason=reason if kind == "auto_reply" else None,
        error=str(NoBody("nothing readable")) if kind == "unknown" else None,
        authentication_results=headers(msg, "Authentication-Results"),
        sender_refused=senders.sender_refused(msg),
    )

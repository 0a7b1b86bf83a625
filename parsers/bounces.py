"""Delivery status notifications -> who failed, with which status, for which message.

Standard DSNs (RFC 3464: Postfix, Exchange, Gmail) carry a message/delivery-status part;
the non-standard ones (old qmail/Exim "Mail delivery failed", MAILER-DAEMON with the original
attached) only say it in prose, so the status and recipient are also looked for in the text.
"""

from __future__ import annotations

import re
from email.message import Message

from parsers.mime import Bodies, header, parse_bytes
from parsers.types import Bounce

_FIELD = re.compile(r"(?im)^([A-Za-z-]+)\s*:\s*(.*(?:\n[ \t]+.*)*)")
_STATUS_IN_TEXT = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")  # not an IP
# Prose that says the failure is final, in bounces that give no status code.
_PERMANENT_PROSE = re.compile(
    r"permanent error|permanent failure|failed permanently|did not reach the following "
    r"recipient|unknown recipient|user unknown|no such user|does not exist|unrouteable address|"
    r"address rejected|mailbox unavailable|(?:do not|don't|not) have permission to post|"
    r"may not exist|"
    r"постоянная ошибка|не существует|нет такого|"
    r"nie istnieje|błąd stały",
    re.I,
)
_SMTP_CODE = re.compile(r"\b([45])\d\d[ -]")
_ADDRESS = re.compile(r"<?([A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})>?")
_MESSAGE_ID = re.compile(r"(?im)^message-id\s*:\s*(<[^>\s]+>)")
_DAEMON = re.compile(r"mailer-daemon|postmaster|mail delivery (?:subsystem|system)", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery status notification|delivery (?:has )?failed|"
    r"returned mail|mail delivery failed|failure notice|non[- ]?delivery|mail failure|"
    r"недоставлен|не доставлено|nie (?:można )?dostarcz|niedostarczon",
    re.I,
)


def _fields(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in _FIELD.findall(text):
        out.setdefault(name.lower(), " ".join(value.split()))
    return out


def _address_of(value: str | None) -> str | None:
    """The address of "rfc822; user@example.com"."""
    if not value:
        return None
    found = _ADDRESS.search(value.split(";", 1)[-1])
    return found.group(1).lower() if found else None


def is_nonstandard_bounce(from_header: str, subject: str) -> bool:
    """A bounce that is not multipart/report: sent by the mailer daemon about failure."""
    return bool(_DAEMON.search(from_header)) and bool(_BOUNCE_SUBJECT.search(subject))


def original_message(bodies: Bodies) -> Message | None:
    """The returned message (or just its headers) when the DSN carries it."""
    if bodies.attached:
        return bodies.attached[0]
    if bodies.rfc822_headers:
        return parse_bytes(bodies.rfc822_headers.encode("utf-8", "replace"))
    return None


def read_bounce(
    bodies: Bodies, original: Message | None, failed_recipients: str = ""
) -> Bounce:
    """Recipient, status, permanence and diagnostic from the status part or the prose."""
    status_fields = _fields(bodies.delivery_status) if bodies.delivery_status else {}
    prose = bodies.text or ""
    recipient = _address_of(status_fields.get("final-recipient")) or _address_of(
        status_fields.get("original-recipient")
    )
    status = status_fields.get("status", "").split(" ")[0] or None
    if status and not _STATUS_IN_TEXT.fullmatch(status):
        status = None
    action = status_fields.get("action", "").lower()
    diagnostic = status_fields.get("diagnostic-code") or None
    if diagnostic and ";" in diagnostic:
        diagnostic = diagnostic.split(";", 1)[1].strip()
    if status is None:
        found = _STATUS_IN_TEXT.search(diagnostic or prose)
        status = ".".join(found.groups()) if found else None
    if status is None and action == "delayed":
        status = "4.0.0"
    if status is None:
        code = _SMTP_CODE.search(prose)
        status = f"{code.group(1)}.0.0" if code else None
    if status is None and _PERMANENT_PROSE.search(prose):
        status = "5.0.0"
    if recipient is None and failed_recipients:
        recipient = _address_of(failed_recipients)
    if recipient is None:
        recipient = _recipient_in_prose(prose, original)
    if diagnostic is None:
        diagnostic = _diagnostic_in_prose(prose)
    message_id = header(original, "Message-ID").strip() or None if original is not None else None
    for copied in (bodies.rfc822_headers, prose):  # Exim and qmail copy the original inline
        if message_id is None and copied:
            found_id = _MESSAGE_ID.search(copied)
            message_id = found_id.group(1) if found_id else None
    permanent = bool(status and status.startswith("5")) and action != "delayed"
    return Bounce(
        recipient=recipient,
        status=status,
        permanent=permanent,
        diagnostic=diagnostic[:500] if diagnostic else None,
        original_message_id=message_id,
    )


def _recipient_in_prose(prose: str, original: Message | None) -> str | None:
    if original is not None:
        to = header(original, "To")
        found = _ADDRESS.search(to)
        if found:
            return found.group(1).lower()
    for line in prose.split("\n"):
        found = _ADDRESS.search(line)
        if found and not _DAEMON.search(line):
            return found.group(1).lower()
    return None


def _diagnostic_in_prose(prose: str) -> str | None:
    for line in prose.split("\n"):
        stripped = line.strip()
        if _STATUS_IN_TEXT.search(stripped) or _SMTP_CODE.match(stripped):
            return stripped
    return None

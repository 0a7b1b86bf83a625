"""The one way out: header values, Message-IDs, reply addresses, MIME assembly and DKIM for
every email Mailflow sends (surveys and notices alike)."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterable
from email.utils import formataddr
from functools import cache
from pathlib import Path

import dkim
from email_validator import EmailNotValidError, validate_email

from mailflow.mime import multipart_alternative
from mailflow.settings import Settings

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# What a DKIM signature covers: what a reader trusts (sender, subject, date, links) and the body.
DKIM_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
)


def header_safe(value: str) -> str:
    """A header value with every CR, LF and control character folded to one space."""
    return _CONTROL.sub(" ", value).strip()


def new_message_id(domain: str) -> str:
    """A fresh Message-ID on our domain; fixed in the outbox before sending."""
    return f"<{uuid.uuid4().hex}@{domain}>"


def encode_header(value: str) -> str:
    """An RFC 2047 header value: ASCII as is, else base64 encoded-words of <= 45 bytes each,
    folded (email.header.Header does the same, several times slower)."""
    value = header_safe(value)
    if value.isascii():
        return value
    words, chunk = [], b""
    for char in value:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > 45:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return "\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


class AddressError(ValueError):
    """A stored address that cannot be written on an email (str() says why)."""


@cache
def mailbox(address: str) -> str:
    """The address as it goes on the wire (header and RCPT): the domain IDNA-encoded, the
    local part as is; an ASCII local part gives a plain ASCII address, a Unicode one needs
    SMTPUTF8 (see `needs_smtputf8`)."""
    try:
        checked = validate_email(
            header_safe(address), check_deliverability=False, globally_deliverable=False
        )
    except EmailNotValidError as exc:
        raise AddressError(f"address {address!r} cannot be sent to: {exc}") from None
    return f"{checked.local_part}@{checked.ascii_domain}"


def needs_smtputf8(address: str) -> bool:
    """Whether the address (as `mailbox` writes it) can only travel with SMTPUTF8."""
    return not address.isascii()


def address_header(name: str | None, address: str) -> str:
    """A To/From/Reply-To value: the name RFC 2047 encoded, the address as `mailbox` writes
    it; a Unicode local part stays raw UTF-8 in the header (RFC 6532), as SMTPUTF8 wants."""
    name = header_safe(name or "")
    wire = mailbox(address)
    if wire.isascii():
        return formataddr((name, wire), "utf-8")
    if not name:
        return wire
    # formataddr refuses a non-ASCII address; let it quote and encode the name alone.
    placeholder = "x@x"
    return formataddr((name, placeholder), "utf-8")[: -len(placeholder) - 1] + wire + ">"


def reply_address(settings: Settings, token: str) -> str:
    """`survey+TOKEN@reply_domain`: where replies and mailto unsubscribes come back
    (parsers.tokens reads the token out of it again)."""
    return f"{settings.reply_local_part}+{token}@{settings.reply_domain}"


BOUNCE_LOCAL_PART = "bounce"  # parsers.tokens.BOUNCE_ADDRESS reads this local part


def bounce_address(settings: Settings, token: str) -> str:
    """`bounce+TOKEN@reply_domain` (TOKEN of Purpose.BOUNCE): the SMTP envelope sender (VERP),
    so a bounce names the request it reports on by where it arrives, not by what it claims."""
    return f"{BOUNCE_LOCAL_PART}+{token}@{settings.reply_domain}"


@cache
def _key(path: str) -> bytes:
    """The DKIM private key, read once per process."""
    return Path(path).read_bytes()


def dkim_sign(settings: Settings, raw: bytes) -> bytes:
    """`raw` with a DKIM-Signature prepended when outbound DKIM is configured, else as is."""
    outbound = settings.outbound
    if not outbound.dkim_key_file or not outbound.dkim_domain or not outbound.dkim_selector:
        return raw
    signature = dkim.sign(
        raw,
        outbound.dkim_selector.encode(),
        outbound.dkim_domain.encode(),
        _key(outbound.dkim_key_file),
        include_headers=list(DKIM_HEADERS),
    )
    return signature + raw


def assemble(
    settings: Settings,
    headers: Iterable[tuple[str, str]],
    parts: Iterable[tuple[str, bytes]],
    boundary: str | None = None,
) -> bytes:
    """The finished message: multipart/alternative of the encoded parts, DKIM-signed."""
    boundary = boundary or f"=_mailflow_{uuid.uuid4().hex}"
    return dkim_sign(settings, multipart_alternative(headers, parts, boundary))

"""The one way out: header values, Message-IDs, reply addresses, MIME assembly and DKIM for
every email Mailflow sends (surveys and notices alike)."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import dkim

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


def reply_address(settings: Settings, token: str) -> str:
    """`survey+TOKEN@reply_domain`: where replies, bounces and mailto unsubscribes come back
    (parsers.tokens reads the token out of it again)."""
    return f"{settings.reply_local_part}+{token}@{settings.reply_domain}"


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

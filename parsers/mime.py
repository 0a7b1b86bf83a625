"""Raw bytes -> a MIME tree, decoded headers and body text, surviving broken mail.

The stdlib parser is lenient about structure. It runs with policy=compat32: policy=default's
header registry re-parses every structured header on each access, which was half the cost of
reading a reply, and some hostile values make it raise; headers are decoded here by hand
(RFC 2047 with charset fallbacks) so nothing is lost.
Body charsets lie often enough (cp1251 labelled koi8-r, utf-8 labelled latin-1, unknown names)
that the declared charset is a hint, checked against what the bytes look like.
"""

from __future__ import annotations

import email.header
import email.policy
import email.utils
import re
from dataclasses import dataclass, field
from email.errors import HeaderParseError, MessageError
from email.message import Message
from email.parser import BytesParser

# Errors the stdlib's header/payload machinery is known to raise on hostile input.
LENIENT_ERRORS = (
    MessageError,
    HeaderParseError,
    ValueError,
    LookupError,
    TypeError,
    AttributeError,
    IndexError,
    AssertionError,
    RecursionError,
    UnicodeError,
)

_PARSER = BytesParser(policy=email.policy.compat32)
_CYRILLIC_8BIT = {"koi8-r", "koi8-u", "windows-1251", "cp1251", "x-cp1251", "iso-8859-5"}
_LATIN_LABELS = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252"}
_CHARSET_ALIASES = {"x-cp1251": "cp1251", "win-1251": "cp1251", "cp-1251": "cp1251"}
_CYR_UPPER = re.compile("[А-ЯЁ]")
_CYR_LOWER = re.compile("[а-яё]")


@dataclass
class Bodies:
    """The readable parts of one message: its own text and html, and attached messages."""

    text: str = ""
    html: str = ""
    attached: list[Message] = field(default_factory=list)  # message/rfc822 parts
    rfc822_headers: str = ""  # a text/rfc822-headers part (DSNs)
    delivery_status: str = ""  # a message/delivery-status part (DSNs)


def parse_bytes(raw: bytes) -> Message:
    """The MIME tree of `raw`; the stdlib parser records defects instead of raising."""
    return _PARSER.parsebytes(raw)


def decode_header_value(value: str) -> str:
    """An RFC 2047 header value as text, tolerating unknown charsets and broken words."""
    if "=?" not in value:
        return " ".join(value.split())
    try:
        chunks = email.header.decode_header(value)
    except LENIENT_ERRORS:
        return " ".join(value.split())
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset))
        else:
            out.append(chunk)
    return " ".join("".join(out).split())


def header(msg: Message, name: str) -> str:
    """One header as decoded text ("" when absent); never raises on malformed values."""
    values = headers(msg, name)
    return values[0] if values else ""


def headers(msg: Message, name: str) -> list[str]:
    """Every value of a header, decoded; raw values are used when the parser chokes."""
    wanted = name.lower()
    out: list[str] = []
    try:
        items = list(msg.raw_items()) if hasattr(msg, "raw_items") else list(msg.items())
    except LENIENT_ERRORS:
        return out
    for key, value in items:
        if key.lower() != wanted:
            continue
        if not isinstance(value, str):
            try:
                value = str(value)
            except LENIENT_ERRORS:
                continue
        out.append(decode_header_value(value.replace("\x00", "")))
    return out


def addresses(msg: Message, *names: str) -> list[str]:
    """Bare lower-cased addresses from address headers, in header order."""
    out: list[str] = []
    for name in names:
        values = headers(msg, name)
        if not values:
            continue
        try:
            pairs = email.utils.getaddresses(values)
        except LENIENT_ERRORS:
            pairs = [("", v) for v in values]
        for _, addr in pairs:
            addr = addr.strip().strip("<>").lower()
            if "@" in addr and addr not in out:
                out.append(addr)
    return out


def normalise_charset(charset: str | None) -> str | None:
    """A codec name Python knows for a (possibly odd) declared charset, or None."""
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    return _CHARSET_ALIASES.get(name, name)


def _cyrillic_case_ratio(text: str) -> float:
    """Share of upper-case Cyrillic letters: high means cp1251 bytes read as koi8-r or back."""
    upper = len(_CYR_UPPER.findall(text))
    lower = len(_CYR_LOWER.findall(text))
    return upper / (upper + lower) if upper + lower else 0.0


def _best_cyrillic(data: bytes, declared: str = "cp1251") -> str:
    """The declared Cyrillic codec unless the other one reads as normal (mostly lower-case)
    prose while the declared one reads as SHOUTING, the signature of a mislabelled body."""
    declared = "koi8-r" if declared.startswith("koi8") else "cp1251"
    other = "cp1251" if declared == "koi8-r" else "koi8-r"
    first = data.decode(declared, errors="replace")
    if _cyrillic_case_ratio(first) > 0.7:
        second = data.decode(other, errors="replace")
        if _cyrillic_case_ratio(second) < 0.3:
            return second
    return first


def _looks_cyrillic_8bit(data: bytes) -> bool:
    """Cyrillic text is runs of high bytes; Central European text is ASCII words with a
    high byte here and there (Dzi\xeakuj\xea), so look at the neighbours of high bytes."""
    high = [i for i, b in enumerate(data) if b >= 0x80]
    if not high:
        return False
    inside_latin = 0
    for i in high:
        before = data[i - 1 : i]
        after = data[i + 1 : i + 2]
        if before.isalpha() or after.isalpha():
            inside_latin += 1
    return inside_latin < len(high) / 2


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes as text: the declared charset when it fits, else a careful guess."""
    name = normalise_charset(charset)
    if data.isascii():
        # 7-bit charsets that shift with escapes (ISO-2022-JP of Japanese mail, UTF-7) are
        # ASCII bytes but not ASCII text.
        if name and (name.startswith("iso2022") or name.startswith("iso-2022") or name == "utf-7"):
            try:
                return data.decode(name)
            except (LookupError, UnicodeDecodeError):
                pass
        return data.decode("ascii")
    if name in _CYRILLIC_8BIT:
        if name in {"koi8-r", "koi8-u", "windows-1251", "cp1251"}:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                return _best_cyrillic(data, name)
            return data.decode("utf-8")  # labelled 8-bit, but really utf-8
        return data.decode(name, errors="replace")
    if name and name not in _LATIN_LABELS:
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if name in _LATIN_LABELS:
        return data.decode("cp1252" if name == "windows-1252" else "latin-1", errors="replace")
    if _looks_cyrillic_8bit(data):
        return _best_cyrillic(data)
    return data.decode("iso-8859-2", errors="replace")


def part_text(part: Message) -> str:
    """The decoded text of one leaf part (transfer encoding and charset undone)."""
    try:
        payload = part.get_payload(decode=True)
    except LENIENT_ERRORS:
        payload = None
    if payload is None:
        try:
            raw = part.get_payload()
        except LENIENT_ERRORS:
            return ""
        return raw if isinstance(raw, str) else ""
    if not isinstance(payload, bytes):
        return ""
    try:
        charset = part.get_content_charset()
    except LENIENT_ERRORS:
        charset = None
    return decode_bytes(payload, charset).replace("\x00", "").replace("\r\n", "\n")


def _is_attachment(part: Message) -> bool:
    try:
        disposition = part.get_content_disposition()
    except LENIENT_ERRORS:
        return False
    return disposition == "attachment"


def content_type(part: Message) -> str:
    """The part's content type, "text/plain" when unreadable (as RFC 2045 says)."""
    try:
        return part.get_content_type()
    except LENIENT_ERRORS:
        return "text/plain"


def collect_bodies(msg: Message, max_parts: int = 500) -> Bodies:
    """The first inline text/plain and text/html of the message itself, plus attachments
    that DSNs and forwarders use; attached messages are not descended into."""
    bodies = Bodies()
    stack: list[Message] = [msg]
    seen = 0
    while stack and seen < max_parts:
        part = stack.pop()
        seen += 1
        ctype = content_type(part)
        if ctype == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                bodies.attached.append(inner[0])
            continue
        if ctype == "message/delivery-status":
            bodies.delivery_status = bodies.delivery_status or _status_text(part)
            continue
        if part.is_multipart():
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend(reversed([c for c in children if isinstance(c, Message)]))
            continue
        if ctype == "text/rfc822-headers":
            bodies.rfc822_headers = bodies.rfc822_headers or part_text(part)
        elif ctype == "text/plain" and not bodies.text and not _is_attachment(part):
            bodies.text = part_text(part)
        elif ctype == "text/html" and not bodies.html and not _is_attachment(part):
            bodies.html = part_text(part)
    return bodies


def _status_text(part: Message) -> str:
    """message/delivery-status is parsed by the stdlib into header blocks; join them back."""
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks = []
        for block in payload:
            if isinstance(block, Message):
                blocks.append("\n".join(f"{k}: {v}" for k, v in block.raw_items()))
        return "\n\n".join(blocks)
    return part_text(part)

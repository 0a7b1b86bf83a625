"""Request-token candidates: where our 32-char base32 tokens show up in a message.

Only the shape is checked here; `mailflow.tokens.verify` decides whether one is ours.
Quoted text is a legitimate source (a reply quotes our links), so bodies are searched whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_T = r"([A-Za-z2-7]{32})(?![A-Za-z0-9])"
# The local part before "+" is at most 64 characters (RFC 5321): bounded, so a long header
# is read in linear time (an unbounded run was tried again from every start).
PLUS_ADDRESS = re.compile(rf"[^\s@<>\"'+,;:]{{0,64}}\+{_T}@[A-Za-z0-9.-]+", re.I)
# Our VERP envelope sender (mailflow.render.envelope.bounce_address): local part exactly
# "bounce", not preceded by more local-part characters.
BOUNCE_ADDRESS = re.compile(rf"(?<![^\s<>\"',;:])bounce\+{_T}@[A-Za-z0-9.-]+", re.I)
LINK = re.compile(rf"/(r|amp|u)/{_T}")
FORM_ENTRY = re.compile(rf"entry\.\d+={_T}")
REF_LINE = re.compile(rf"(?im)^[ \t>*]*(?:ref|token|reference|реф|номер запроса)\s*[:#]\s*{_T}")
TOKEN_LINE = re.compile(rf"(?m)^[ \t>*]*{_T}[ \t]*$")  # a form tool's value line
TOKEN = re.compile(rf"^\s*{_T}\s*$")
_TOKEN_LABELS = re.compile(r"^\s*(?:ref|token|reference|реф|токен|kod|identyfikator)\b", re.I)


def plus_token(addresses: Iterable[str]) -> str | None:
    """The token of the first survey+TOKEN@domain style address."""
    for address in addresses:
        found = PLUS_ADDRESS.search(address or "")
        if found:
            return found.group(1).lower()
    return None


def bounce_token(addresses: Iterable[str]) -> str | None:
    """The token of the first bounce+TOKEN@domain address (where a bounce of ours arrives)."""
    for address in addresses:
        found = BOUNCE_ADDRESS.search(address or "")
        if found:
            return found.group(1).lower()
    return None


def body_tokens(texts: Iterable[str]) -> list[str]:
    """Tokens from links, Google Form prefills and Ref lines, in order of appearance;
    unsubscribe (/u/) links last since they name the request only indirectly."""
    hits: list[tuple[int, int, int, str]] = []  # (priority, text index, offset, token)
    for n, text in enumerate(texts):
        if not text:
            continue
        for m in LINK.finditer(text):
            hits.append((1 if m.group(1) == "u" else 0, n, m.start(), m.group(2).lower()))
        for pattern in (FORM_ENTRY, REF_LINE):
            for m in pattern.finditer(text):
                hits.append((0, n, m.start(), m.group(1).lower()))
        for m in TOKEN_LINE.finditer(text):
            hits.append((1, n, m.start(), m.group(1).lower()))
    out: list[str] = []
    for *_, token in sorted(hits):
        if token not in out:
            out.append(token)
    return out


def field_tokens(fields: Iterable[tuple[str, str]]) -> list[str]:
    """Tokens given as a form answer: under a label such as "Ref" or "Token" first, then any
    field that holds nothing but a token ("Survey token", "request_token", "Номер запроса");
    the signature check tells ours from look-alikes."""
    labelled: list[str] = []
    other: list[str] = []
    for label, value in fields:
        found = TOKEN.match(value or "")
        if found:
            (labelled if _TOKEN_LABELS.match(label or "") else other).append(found.group(1).lower())
    return list(dict.fromkeys([*labelled, *other]))

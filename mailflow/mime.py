"""Fast MIME for survey emails: bodies encoded once per survey and locale, recipients spliced in.

A part template is text with named placeholders. Its static pieces are quoted-printable
encoded once; per recipient only the short values (greeting, tokens) are encoded, and the
pieces are joined with soft line breaks ("=" at the end of a line, RFC 2045 6.7), which a
decoder removes. The multipart boundary starts with "=_", which quoted-printable output can
never contain, so one boundary per template is safe.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from markupsafe import escape

SOFT_BREAK = b"=\n"


def qp(text: str) -> bytes:
    """Quoted-printable bytes of UTF-8 text (binascii: C speed, 76-character lines)."""
    return binascii.b2a_qp(text.encode("utf-8"), istext=True)


def _html_escape(value: str) -> str:
    return str(escape(value))


def _plain(value: str) -> str:
    return value


@dataclass(frozen=True)
class PartTemplate:
    """One body part with placeholders, split and pre-encoded.

    `statics` are the text between placeholders (one more than `names`); `encoded` holds
    their quoted-printable form. `escape_values` is True for HTML parts.
    """

    content_type: str
    statics: tuple[str, ...]
    names: tuple[str, ...]
    encoded: tuple[bytes, ...]
    escape_values: bool

    @classmethod
    def build(
        cls,
        content_type: str,
        text: str,
        names: Iterable[str],
        *,
        escape_values: bool,
        restore: Callable[[str], str] = _plain,
    ) -> PartTemplate:
        """Split `text` at {{name}} for the given names; other braces stay text."""
        wanted = sorted(set(names))
        if wanted:
            pattern = re.compile(r"\{\{(" + "|".join(map(re.escape, wanted)) + r")\}\}")
            pieces = pattern.split(text)
        else:
            pieces = [text]
        statics = tuple(restore(piece) for piece in pieces[0::2])
        return cls(
            content_type=content_type,
            statics=statics,
            names=tuple(pieces[1::2]),
            encoded=tuple(qp(piece) for piece in statics),
            escape_values=escape_values,
        )

    def _values(self, values: Mapping[str, str]) -> list[str]:
        convert = _html_escape if self.escape_values else _plain
        return [convert(values[name]) for name in self.names]

    def fill(self, values: Mapping[str, str]) -> str:
        """The decoded body for one recipient (previews and tests)."""
        out = [self.statics[0]]
        for value, static in zip(self._values(values), self.statics[1:], strict=True):
            out += (value, static)
        return "".join(out)

    def encode(self, values: Mapping[str, str]) -> bytes:
        """The quoted-printable body for one recipient (each value encoded once, however often
        it appears: a token is in every button)."""
        convert = _html_escape if self.escape_values else _plain
        ready = {name: qp(convert(values[name])) for name in set(self.names)}
        out = [self.encoded[0]]
        for name, static in zip(self.names, self.encoded[1:], strict=True):
            out += (SOFT_BREAK, ready[name], SOFT_BREAK, static)
        return b"".join(out)


def multipart_alternative(
    headers: Iterable[tuple[str, str]], parts: Iterable[tuple[str, bytes]], boundary: str
) -> bytes:
    """A multipart/alternative message from header pairs and encoded (type, body) parts.

    Header values must already be folded and RFC 2047 encoded where needed.
    """
    lines = [f"{name}: {value}" for name, value in headers]
    lines.append("MIME-Version: 1.0")
    lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
    # UTF-8: only a Unicode address (RFC 6532, sent with SMTPUTF8) is not ASCII here.
    head = ("\n".join(lines) + "\n\n").encode("utf-8")
    chunks = [head]
    for content_type, body in parts:
        chunks.append(
            (
                f'--{boundary}\nContent-Type: {content_type}; charset="utf-8"\n'
                "Content-Transfer-Encoding: quoted-printable\n\n"
            ).encode("ascii")
        )
        chunks.append(body)
        chunks.append(b"\n")
    chunks.append(f"--{boundary}--\n".encode("ascii"))
    return b"".join(chunks)

"""Plain text -> what the sender wrote: no quoted original, no signature, no device footer.

Conservative by design: cut at the first quote header any common client writes (en/ru/pl),
keep the text above it; when nothing is above it the reply is bottom-posted, so keep the
unquoted lines below the quote instead. Signatures are cut at "-- ", device footers and
sign-off lines ("Best regards", "С уважением", "Pozdrawiam").
"""

from __future__ import annotations

import re

_VERBS = (
    r"wrote|writes|pisze|napisał\(a\)|napisała|napisał|napisal|написал\(а\)|написала|"
    r"написал|пишет|писал\(а\)|написав|"
    # the other languages the big clients write their quote headers in
    r"schrieb|a écrit|escribió|ha scritto|schreef|skrev|kirjoitti|napsal|napísal|escreveu"
)
# A quote header on one line (or two joined lines): "On … wrote:", "W dniu … pisze:", …
_HEADER_PATTERNS = (
    re.compile(rf"^.{{0,200}}\b(?:{_VERBS})\s*:\s*$", re.I),
    # Gmail ru without a verb, Yandex, Mail.ru: a date and an address, ending with a colon.
    re.compile(r"^.{0,200}\d.{0,200}<[^<>@\s]+@[^<>\s]+>\s*\)?:\s*$"),
    re.compile(r"^.{0,120}\d{1,2}:\d{2}.{0,120}\bот\b.{1,120}:\s*$", re.I),
    # Apple Mail pl: "Wiadomość napisana przez X <a@b> w dniu 16.11.2026, o godz. 12:01:"
    re.compile(r"^wiadomość napisana przez .{1,200}\d.{0,60}:\s*$", re.I),
)
_SEPARATORS = re.compile(
    r"^\s*(?:-{2,}\s*(?:original message|исходное сообщение|wiadomość oryginalna|"
    r"oryginalna wiadomość|forwarded message|пересылаемое сообщение|"
    r"переадресованное сообщение|wiadomość przekazana|przekazana wiadomość)\s*-{2,}"
    r"|_{20,}"
    r"|(?:begin forwarded message|начало переадресованного (?:письма|сообщения)|"
    r"początek przekazywanej wiadomości)\s*:?)\s*$",
    re.I,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:from|от|od|von|de|da|van)\s*:\*?\s*\S", re.I)
_OUTLOOK_NEXT = re.compile(
    r"^\s*\*?(?:sent|date|to|subject|cc|отправлено|дата|кому|тема|wysłano|data|do|temat|"
    r"wysłane|gesendet|an|betreff|envoyé|à|objet|enviado|para|asunto|inviato|oggetto|"
    r"verzonden|aan|onderwerp)\s*:", re.I
)
# A device footer is a short line of its own ("Sent from my Verizon Wireless BlackBerry");
# "Sent from my desk, which is easier than my phone." is the sender's sentence.
_SIGNATURE = re.compile(
    r"^\s*(?:--|-- |—|__)\s*$"
    r"|^\s*(?:sent from my|sent from|sent with|sent via|get outlook for|отправлено с|"
    r"отправлено из|отправлено через|wysłane z|wysłano z|wysłane przy użyciu|envoyé de mon|"
    r"gesendet von meinem|enviado desde mi)(?:\s++[\w.'’&()-]+){1,6}\s*+[.!]?\s*+"
    r"(?:<https?://[^>\s]+>|\[https?://[^\]\s]+\])?\s*$",  # Outlook's "for iOS<https://…>"
    re.I,
)
_SIGNOFF = re.compile(
    r"^\s*(?:best regards|kind regards|warm regards|regards|best wishes|cheers|"
    r"с уважением|с наилучшими пожеланиями|всего доброго|всего хорошего|"
    r"pozdrawiam(?: serdecznie)?|z poważaniem|z wyrazami szacunku|serdecznie pozdrawiam|"
    r"pozdrowienia)\s*+[,.!]?\s*$",
    re.I,
)
# "Thanks," / "Спасибо," / "Dzięki," closing the message: a sign-off only when a short name
# (or nothing) follows it to the end; "Thanks, great job!" stays the client's words.
_THANKS = re.compile(
    r"^\s*(?:thanks|thank you|many thanks|thanks again|thx|best|all the best|"
    r"спасибо|благодарю|заранее спасибо|dziękuję|dzięki|pozdr\.?)\s*+[,.!]?\s*$",
    re.I,
)
_NAME_LINE = re.compile(r"^\s*[^\W\d_][\w.'’ -]{0,60}$")
_OPENER = re.compile(
    r"^(?:on|w dniu|dnia|в|am|le|\d|[a-zа-яё]{2,4}\.?,)", re.I
)
_QUOTED = re.compile(r"^\s*(?:>|\|)")
_INLINE_NOTE = re.compile(
    r"\b(?:inline|below|beneath|in (?:the )?(?:text|body)|ниже|внизу|в тексте|poniżej|niżej|"
    r"w treści)\b",
    re.I,
)
_OUTLOOK_WINDOW = 6


def is_quoted(line: str) -> bool:
    """A ">"-prefixed line of the quoted original."""
    return bool(_QUOTED.match(line))


def _is_header(line: str) -> bool:
    # Every header pattern ends with a colon: a cheap test spares the patterns most lines.
    return line.rstrip().endswith(":") and any(p.match(line) for p in _HEADER_PATTERNS)


def _outlook_block_at(lines: list[str], i: int) -> bool:
    """'From: …' followed closely by 'Sent:'/'To:'/'Subject:' (any language Outlook speaks)."""
    if not _OUTLOOK_FROM.match(lines[i]):
        return False
    window = lines[i + 1 : i + 1 + _OUTLOOK_WINDOW]
    return sum(1 for line in window if _OUTLOOK_NEXT.match(line)) >= 1


def quote_start(lines: list[str]) -> tuple[int, int] | None:
    """(index, length) of the first quote header or separator, or None when there is none."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or is_quoted(line):
            continue
        if _SEPARATORS.match(stripped) or _outlook_block_at(lines, i):
            return i, 1
        if len(stripped) > 400:
            continue
        if _is_header(stripped):
            return i, 1
        if i + 1 < len(lines) and len(stripped) < 200 and _OPENER.match(stripped):
            following = lines[i + 1].strip()
            if (
                following
                and not is_quoted(lines[i + 1])
                and (len(following) < 40 or not _is_header(following))
                and _is_header(f"{stripped} {following}")
            ):
                return i, 2  # Gmail wraps long headers: "On Mon, … PM Name <a@b>\nwrote:"
    return None


def _has_text(lines: list[str]) -> bool:
    return any(line.strip() for line in lines)


def strip_quotes(text: str) -> str:
    """The sender's own lines: above the first quote header, or below the quote when
    the reply is bottom-posted; ">" lines never count."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    found = quote_start(lines)
    if found is None:
        return "\n".join(line for line in lines if not is_quoted(line))
    index, length = found
    above = [line for line in lines[:index] if not is_quoted(line)]
    below = lines[index + length :]
    if not any(is_quoted(line) for line in below):
        # an Outlook-style quote: everything under the header is the original
        return "\n".join(above) if _has_text(above) else ""
    own = _own_lines_among_quotes(below)
    if _has_text(above):
        # "my answers are inline below": the lines between the quoted ones are answers too.
        # Only when the sender says so: a client that wraps long quoted lines leaves pieces
        # of our own survey (its "0 to 10") unquoted between them.
        said = _INLINE_NOTE.search("\n".join(above))
        inline = own if said and _answers_between_quotes(below) else []
        return "\n".join([*above, *(["", *inline] if _has_text(inline) else [])])
    return "\n".join(own)


def _own_lines_among_quotes(below: list[str]) -> list[str]:
    """The sender's lines under a quote header: between and after the ">" lines, up to the
    next quote header (an older message in the thread)."""
    own: list[str] = []
    seen_quote = False
    for i, line in enumerate(below):
        if is_quoted(line):
            seen_quote = True
            continue
        if seen_quote and line.strip() and quote_start(below[i : i + 3]) == (0, 1):
            break
        own.append(line)
    return own


def _answers_between_quotes(below: list[str]) -> bool:
    """Whether the sender wrote between quoted lines (not only after the whole quote, where
    a top-poster's client may leave a stray footer)."""
    quoted = [i for i, line in enumerate(below) if is_quoted(line)]
    return bool(quoted) and any(
        line.strip() and not is_quoted(line) for line in below[quoted[0] : quoted[-1]]
    )


def _closing_thanks(lines: list[str], i: int) -> bool:
    """Line i thanks and only a name of at most four words (or nothing) follows it."""
    if not _THANKS.match(lines[i]):
        return False
    rest = [line for line in lines[i + 1 :] if line.strip()]
    return len(rest) <= 2 and all(
        _NAME_LINE.match(line) and len(line.split()) <= 4 for line in rest
    )


def strip_signature(text: str) -> str:
    """Cut at the signature delimiter, a device footer or a sign-off line."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _SIGNATURE.match(line) or _SIGNOFF.match(line) or (i and _closing_thanks(lines, i)):
            return "\n".join(lines[:i])
    return text


def tidy(text: str) -> str:
    """Trim trailing spaces, collapse runs of blank lines, strip the ends."""
    out: list[str] = []
    for line in text.split("\n"):
        line = line.rstrip()
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def visible_text(text: str) -> str:
    """What the sender wrote in a plain-text body."""
    return tidy(strip_signature(strip_quotes(text)))

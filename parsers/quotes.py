"""Plain text -> what the sender wrote: no quoted original, no signature, no device footer.

The quote starts at the first quote header (in any language the common clients write it,
wrapped over up to three lines), separator or Outlook header block; the line rules are in
`quote_rules`. Text above it is the reply; when nothing but a greeting or "answers below" is
above it, the sender answered under or between the quoted lines, and those lines are the
reply. The signature is cut at "-- ", a device footer, or after the sign-off and the name
under it: "Thanks, Alex" is the sender's own words, their title and phone number are not.
"""

from __future__ import annotations

import re

from parsers.quote_rules import (
    DASH_NAME,
    DASHED_HEADER,
    FOOTER,
    NAME_LINE,
    OUTLOOK_FROM,
    OUTLOOK_NEXT,
    SEPARATOR,
    SIGNOFF,
    THANKS,
    header_rule,
)

# A line that can begin a wrapped header: "On …", "Am …", "Le …", a date, "pon., …", or
# anything holding an address or a time (tr/zh put the author first).
_OPENER = re.compile(
    r"^(?:on|w dniu|dnia|dne|в|am|le|el|il|em|op|den|på|\d|[^\W\d_]{2,4}(?:\.,?|,)\s)", re.I
)
_OPENER_MARK = re.compile(r"<[^<>\s]{0,200}@|\d:\d\d")
_QUOTED = re.compile(r"^\s*+(?:>|\|)")
_INLINE_NOTE = re.compile(
    r"(?<!\w)(?:inline|below|beneath|in (?:the )?(?:text|body)|ниже|внизу|в тексте|poniżej|"
    r"niżej|w treści|unten|im text|ci-dessous|dessous|dans le texte|abajo|debajo|en el texto|"
    r"sotto|nel testo|abaixo|no texto|hieronder|in de tekst|nedan|i texten|nedenfor|"
    r"i teksten|níže|v textu|нижче|у тексті|в тексті|aşağıda|metin içinde|以下|下記|下面)"
    r"(?!\w)",
    re.I,
)
_GREETING = re.compile(
    r"^\s*+(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|здравствуйте|привет|"
    r"добрый день|доброе утро|добрый вечер|dzień dobry|witam|cześć|hallo|hi|guten tag|"
    r"guten morgen|liebe[rs]?|sehr geehrte[rs]?|bonjour|bonsoir|salut|hola|buenos días|"
    r"buenas tardes|ciao|buongiorno|salve|olá|ola|bom dia|boa tarde|hallo|goedemiddag|"
    r"goedemorgen|beste|hej|hei|god dag|dobrý den|ahoj|добрий день|вітаю|привіт|"
    r"merhaba|iyi günler|こんにちは|お世話になっております|您好|你好)"
    r"(?:\s++[^\W\d_][\w.'’-]{0,30}){0,3}\s*+[,.!:;。，]?\s*+$",
    re.I,
)
_VERB_RULES = ("author_wrote", "verb_before_author")
_OUTLOOK_WINDOW = 6
_WRAP_LINES = 3  # a header wrapped onto up to three lines
_WRAPPED_QUOTE = 70  # a quoted line this long may have been wrapped by the client
_SIGNATURE_LINES = 5  # a name, a title, a company, a phone and a web site under "Thanks,"


def is_quoted(line: str) -> bool:
    """A ">"-prefixed line of the quoted original."""
    return bool(_QUOTED.match(line))


def _is_header(line: str) -> bool:
    return header_rule(line) is not None


def _outlook_block_at(lines: list[str], i: int) -> bool:
    """'From: …' followed closely by 'Sent:'/'To:'/'Subject:' (any language Outlook speaks)."""
    if not OUTLOOK_FROM.match(lines[i]):
        return False
    window = lines[i + 1 : i + 1 + _OUTLOOK_WINDOW]
    return sum(1 for line in window if OUTLOOK_NEXT.match(line)) >= 1


def _wrapped_header_at(lines: list[str], i: int, first: str) -> int:
    """How many lines (2 or 3) a wrapped header starting at line i spans, or 0."""
    if len(first) >= 200 or first.endswith((".", "!", "?", "…")):
        return 0
    opener = bool(_OPENER.match(first) or _OPENER_MARK.search(first))
    joined = first
    for k in range(1, _WRAP_LINES):
        if i + k >= len(lines):
            return 0
        following = lines[i + k].strip()
        if not following or is_quoted(lines[i + k]):
            return 0
        if (
            len(following) >= 40
            and "@" not in joined  # an address above belongs to this header
            and _OPENER.match(following)
            and _is_header(following)
        ):
            return 0  # the header is that line alone; line i is the sender's
        if not opener and not _OPENER_MARK.search(following):
            return 0  # "Acme Support\n<a@b>, 16 Kas …": an author wrapped before its address
        # "… Name <" + "address> wrote:": Gmail breaks inside the angle brackets too
        joined = f"{joined}{'' if joined.endswith('<') else ' '}{following}"
        rule = header_rule(joined)
        # without an opener only a verb says it is a header ("… şunu yazdı:"), not a
        # bounce's "host … [203.0.113.5] … TO:<a@b>:"
        if rule and (opener or rule in _VERB_RULES):
            return k + 1
    return 0


def quote_start(lines: list[str]) -> tuple[int, int] | None:
    """(index, length) of the first quote header or separator, or None when there is none."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or is_quoted(line):
            continue
        if SEPARATOR.check(stripped) or _outlook_block_at(lines, i):
            return i, 1
        if len(stripped) > 400:
            continue
        if _is_header(stripped) or DASHED_HEADER.check(stripped):
            return i, 1
        wrapped = _wrapped_header_at(lines, i, stripped)
        if wrapped:
            return i, wrapped  # Gmail wraps long headers: "On Mon, … Name <a@b>\nwrote:"
    return None


def _has_text(lines: list[str]) -> bool:
    return any(line.strip() for line in lines)


def _only_greeting(above: list[str]) -> bool:
    """Whether the text above the quote is only a greeting ("Hi,", "Dzień dobry,")."""
    said = [line for line in above if line.strip()]
    return 0 < len(said) <= 2 and all(_GREETING.match(line) for line in said)


def strip_quotes(text: str) -> str:
    """The sender's own lines: above the first quote header, or below and between the
    quoted lines when only a greeting or "answers below" is above; ">" lines never count."""
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
    if not _has_text(above):
        return "\n".join(own)
    greeting = _only_greeting(above)
    # "my answers are inline below", or a bare greeting: the lines between and under the
    # quoted ones are the answers. A client that wraps long quoted lines leaves pieces of
    # our own survey (its "0 to 10") unquoted between them: those are not answers.
    said = greeting or bool(_INLINE_NOTE.search("\n".join(above)))
    if said and (greeting or _answers_between_quotes(below)):
        inline = _without_wrapped_pieces(below, own)
        if _has_text(inline):
            return "\n".join([*above, "", *inline])
    return "\n".join(above)


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


def _without_wrapped_pieces(below: list[str], own: list[str]) -> list[str]:
    """`own` without the lines that continue a long quoted line with no break between
    (the tail of a quoted line the client wrapped, not the sender's answer)."""
    pieces: set[int] = set()
    for i in range(1, len(below)):
        previous = below[i - 1]
        if (
            is_quoted(previous)
            and len(previous.strip()) >= _WRAPPED_QUOTE
            and below[i].strip()
            and not is_quoted(below[i])
        ):
            pieces.add(i)
    if not pieces:
        return own
    kept: list[str] = []
    position = 0
    for i, line in enumerate(below):
        if position < len(own) and not is_quoted(line):
            if i not in pieces:
                kept.append(own[position])
            position += 1
    return kept


def _answers_between_quotes(below: list[str]) -> bool:
    """Whether the sender wrote between quoted lines (not only after the whole quote, where
    a top-poster's client may leave a stray footer)."""
    quoted = [i for i, line in enumerate(below) if is_quoted(line)]
    return bool(quoted) and any(
        line.strip() and not is_quoted(line) for line in below[quoted[0] : quoted[-1]]
    )


def _closing_thanks(line: str) -> str | None:
    """ "bare" for "Thanks," alone, "named" for "Thanks, Alex"; None when the line says more
    ("Thanks, great job!" is the client's words)."""
    found = THANKS.match(line)
    if found is None:
        return None
    rest = found.group("name") or ""
    if not rest.strip():
        return "bare"
    return "named" if all(word[:1].isupper() for word in rest.split()) else None


def _name_lines(lines: list[str], limit: int) -> bool:
    rest = [line for line in lines if line.strip()]
    return len(rest) <= limit and all(
        NAME_LINE.match(line) and len(line.split()) <= 4 for line in rest
    )


def _signature_start(lines: list[str]) -> tuple[int, int] | None:
    """(index of the sign-off, index where the signature proper starts), or None."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if FOOTER.check(stripped) or (
            i
            and not lines[i - 1].strip()
            and DASH_NAME.match(stripped)
            and stripped.lstrip("-–— ")[:1].isupper()
            and _name_lines(lines[i + 1 :], 0)
        ):
            return i, i
        thanks = _closing_thanks(stripped)
        if SIGNOFF.check(stripped) or (i and thanks):
            after = lines[i + 1 :]
            names = [j for j, x in enumerate(after, i + 1) if x.strip()]
            named = bool(names) and _name_lines([lines[names[0]]], 1)
            if thanks == "named" or (thanks and not names):
                return i, i + 1  # "Thanks, Alex" / "Thanks!" closing the message
            if SIGNOFF.check(stripped) or (named and len(names) <= _SIGNATURE_LINES):
                # the sign-off and the name under it stay; the title, company and phone go
                return i, names[0] + 1 if named else i + 1
    return None


def strip_signature(text: str) -> str:
    """Cut at the signature delimiter or a device footer, or after the sign-off and the
    sender's name under it."""
    lines = text.split("\n")
    found = _signature_start(lines)
    return text if found is None else "\n".join(lines[: found[1]])


def without_signoff(text: str) -> str:
    """`text` without its closing sign-off ("Thanks, Alex", "Pozdrawiam\\nJan"): the
    sender's words, but neither a score nor part of the comment."""
    lines = text.split("\n")
    found = _signature_start(lines)
    return text if found is None else tidy("\n".join(lines[: found[0]]))


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

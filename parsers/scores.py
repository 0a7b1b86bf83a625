"""Score extraction from a reply's visible text: a chain of small named rules.

Noise that looks numeric (dates, times, ticket and phone numbers, "2 days", "scale of 1 to
10") is masked first; each rule then finds candidates and masks what it consumed, so "9/10"
yields 9 and never 10. Deciding between candidates is not a rule's job: `read_score`
refuses to guess when two different scores remain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsers import noise, number_words, words
from parsers.number_words import PLUS_WORDS, UNIT_WORDS
from parsers.refusals import AmbiguousScore, NoScore, OutOfScale
from parsers.types import SurveySpec


@dataclass(frozen=True)
class Candidate:
    """A possible score found by a rule, with the text span it came from."""

    value: int
    start: int
    end: int
    rule: str


@dataclass(frozen=True)
class ScoreResult:
    """One score, or none with a named reason; `spans` are what the comment should drop."""

    score: int | None
    error: str | None
    spans: tuple[tuple[int, int], ...] = ()
    in_words: bool = False  # said in words ("excellent service"), not written as a number


_MONTHS = (
    r"(?:jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?(?!\w)|january|february|march|"
    r"april|may(?!\s+(?:be|have|not|i|we|you)\b)|june|july|august|september|october|"
    r"november|december|январ[яь]|феврал[яь]|марта?|апрел[яь]|ма[яй]|июн[яь]|июл[яь]|"
    r"августа?|сентябр[яь]|октябр[яь]|ноябр[яь]|декабр[яь]|stycznia|lutego|marca|kwietnia|"
    r"maja|czerwca|lipca|sierpnia|września|wrzesnia|października|pazdziernika|listopada|"
    r"grudnia|styczeń|luty|marzec|kwiecień|maj|czerwiec|lipiec|sierpień|wrzesień|"
    r"październik|listopad|grudzień"
)
_NOISE = re.compile(
    r"\b\d{1,4}[./-]\d{1,2}[./-]\d{2,4}\b"  # dates 12.11.2026, 2026-11-12, 11/12/26
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\s*(?:am|pm)?"  # times
    r"|\b\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.)(?!\w)"  # "at 8 am"
    # extensions, rooms, floors, pages, steps: "extension 7", "кабинет 5", "pokój 4"
    r"|\b(?:ext(?:ension)?|room|floor|office|apt|suite|building|page|step|item|line|version|"
    r"option|кабинет\w*|комнат\w*|этаж\w*|офис\w*|квартир\w*|пункт\w*|шаг\w*|"
    r"pok[oó]j\w*|piętr\w*|pietr\w*|biur\w*|wewn|punkt|krok\w*|strona|stronie)\.?\s*\d+"
    r"|[#№]\s*\d+|\b(?:ticket|tiket|заявк[аиеу]|тикет|zgłoszeni[ea]|nr|no\.)\s*+[#№:]?\s*+\d+"
    r"|\+?\d[\d ()-]{7,}\d"  # phone numbers
    r"|(?:scale|шкал\w*|skali)\s++(?:of|from|от|od)?\s*+\d+\s*+(?:to|-|–|до|do)\s*+\d+"
    r"|\b\d++[.,]?\d*+\s*+(?:%|\$|€|zł|pln|руб\w*|₽|usd|eur)"
    r"|[$€£]\s*\d+"
    r"|\b\d+(?:[.,]\d+)?\s*(?:days?|hours?|hrs?|minutes?|mins?|weeks?|months?|years?|times?|"
    r"дн\w*|день|час\w*|минут\w*|мин\b|недел\w*|месяц\w*|лет|год\w*|раз\w*|"
    r"dni|dzień|godzin\w*|minut\w*|tygodni\w*|miesi\w*|lat\b|razy)"
    r"|\b\d{3,}\b"  # long numbers are ids, years, amounts
    r"|(?:^|(?<=\s))[-−–]\d{1,2}\b"  # "-5": below any scale, never a score
    # thousands written in groups: "1 500 руб.", "2 500 zł"
    r"|\b\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?=\s*(?:руб|р\.|₽|тыс|zł|zl|pln|\$|€|usd|eur|"
    r"dollars?|euros?|złotych|rubles?))"
    # products and versions: "Windows 10", "iPhone 15", "версия 2"
    r"|\b(?:windows|win|iphone|ipad|ios|android|office|macos|ubuntu|galaxy|pixel|version|"
    r"ver|v\.|версия|версии|wersja|wersji)\s*\d{1,2}\b"
    # dates in words: "1 December", "до 1 декабря", "2 grudnia", "December 1st", and ranges:
    # "9-13 March", "с 10 по 20 марта", "od 3 do 7 stycznia"; "10-14.03", "до 20.01"
    rf"|\b\d{{1,2}}(?:\s*(?:[-–]|по|to|until|till|do)\s*\d{{1,2}})?"
    rf"(?:st|nd|rd|th|-?(?:го|е|ого))?\s+(?:of\s+)?(?:{_MONTHS})(?!\w)"
    r"|\b(?:\d{1,2}\s*[-–]\s*)?\d{1,2}\.(?:0[1-9]|1[0-2])\b(?![.,]\d)"
    rf"|(?<!\w)(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?\b",
    re.I,
)
# "not 5", "nie 5", "не 5", "not a 10", "не на 5", "nie na 10/10": a number taken back.
_NEGATED = re.compile(
    r"(?<![\w])(?:not|never|nie|не|ни)\s+(?:a\s+|an\s+|на\s+|na\s+)?"
    r"(\d{1,2})(?:\s*(?:/|из|out of|na|z)\s*\d{1,2})?(?![\w/]|[.,]\d)",
    re.I,
)
_KEYCAP = re.compile("([0-9])\ufe0f?\u20e3|\U0001f51f")
_STARS = re.compile("(?:[★⭐]\ufe0f?)+(?:☆\ufe0f?)*")  # iPhones add VS16 after each star
# "9/10", "9 из 10", "5 баллов из 10", "8 pkt na 10", "11 out of 10" (group 3: said in words)
_OUT_OF = re.compile(
    rf"(?<![\d.,/])(\d{{1,2}})\s*(?:(?:{UNIT_WORDS})\s*)?(?:(/)|из|out of|z|na|of)\s*"
    r"(\d{1,2})(?![\d/])",
    re.I,
)
_DECIMAL = re.compile(r"(?<![\d.,])(\d{1,2})[.,](\d)(?![\d.,])")
_BARE = re.compile(r"(?<![\w.,/#№+])(\d{1,2})(?![\w/]|[.,]\d)")
# One way to split the spaces around a separator (possessive): "na  na  na  (5" once ran 2^n.
_SCORE_WORDS = re.compile(
    r"(?<!\w)(?:(?:i(?:'?d| would) give(?: (?:it|you|them|us))?(?: a)?|"
    r"i give(?: (?:it|you|them))?(?: a)?|"
    r"i(?:'?d| would) (?:say|rate (?:it|you|this))|i rate (?:it|you|this)|"
    r"my (?:score|rating) is|(?:a )?solid|score|rating|моя оценка|оценка|(?:я )?ставлю(?: вам)?|"
    r"поставлю(?: вам)?|оцениваю(?: на)?|на|na|moja ocena|ocena|oceniam(?: was)?(?: na)?|"
    r"daję(?: wam)?|daje|dam|"
    # the adverbs and adjectives people put before a score: "definitely a 10", "mocne 8"
    r"definitely(?: a)?|absolutely(?: a)?|easily(?: a)?|(?:a )?strong|i'?d rate (?:you|us)(?: a)?|"
    r"тв[её]рд(?:ая|ую|ые)|уверенн(?:ая|ую|ые)|крепк(?:ая|ую)|однозначно|"
    r"mocn[aąe]|solidn[aąe]|pewn[aą]|zdecydowanie|spokojnie)\s*+(?:[:=-]\s*+)?)+$",
    re.I,
)
# What may follow a score and belongs to it, not to the comment: "7 баллов", "4 stars".
_SCORE_UNITS = re.compile(
    rf"(?<!\s)\s*+(?:(?:{UNIT_WORDS}|{PLUS_WORDS})(?!\w)|\+{{1,2}})", re.I
)


def _keyword_start(text: str, start: int) -> int:
    """Where the rating phrase before a number begins ("Ocena: 4/5", "I'd give it 9")."""
    window = max(0, start - 48)  # the longest phrase chain; keeps the search O(1) per number
    keyword = _SCORE_WORDS.search(text, window, start)
    return keyword.start() if keyword else start


def _mask(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


class ScoreRule:
    """One way a score is written; `find` returns candidates and the text with them masked."""

    name = ""

    def find(self, text: str, survey: SurveySpec | None) -> tuple[list[Candidate], str]:
        raise NotImplementedError  # pragma: no cover - interface


class Keycaps(ScoreRule):
    """Emoji keycaps 1️⃣ … 🔟."""

    name = "keycap"

    def find(self, text: str, survey: SurveySpec | None) -> tuple[list[Candidate], str]:
        found: list[Candidate] = []
        for m in _KEYCAP.finditer(text):
            value = 10 if m.group(0) == "\U0001f51f" else int(m.group(1))
            found.append(Candidate(value, m.start(), m.end(), self.name))
            text = _mask(text, m.start(), m.end())
        return found, text


class Stars(ScoreRule):
    """★★★★☆ counts the filled stars (csat and friends)."""

    name = "stars"

    def find(self, text: str, survey: SurveySpec | None) -> tuple[list[Candidate], str]:
        found: list[Candidate] = []
        for m in _STARS.finditer(text):
            filled = sum(1 for ch in m.group(0) if ch in "★⭐")
            found.append(Candidate(filled, m.start(), m.end(), self.name))
            text = _mask(text, m.start(), m.end())
        return found, text


class OutOf(ScoreRule):
    """"9/10", "9 из 10", "9 na 10", "9 out of 10": the numerator, denominator consumed."""

    name = "out_of"

    def find(self, text: str, survey: SurveySpec | None) -> tuple[list[Candidate], str]:
        found: list[Candidate] = []
        for m in _OUT_OF.finditer(text):
            top, bottom = int(m.group(1)), int(m.group(3))
            if bottom in (5, 7, 10) and bottom < top <= 2 * bottom and not m.group(2):
                top = bottom  # "11 out of 10!": the top of the scale, said with feeling
            if bottom in (5, 7, 10) and top <= bottom:
                start = _keyword_start(text, m.start())
                found.append(Candidate(top, start, m.end(), self.name))
                text = _mask(text, m.start(), m.end())
        return found, text


class DecimalScore(ScoreRule):
    """"8.5" is between two scores: both are candidates, so the result is ambiguous."""

    name = "decimal"

    def find(self, text: str, survey: SurveySpec | None) -> tuple[list[Candidate], str]:
        found: list[Candidate] = []
        for m in _DECIMAL.finditer(text):
            whole = int(m.group(1))
            found.append(Candidate(whole, m.start(), m.end(), self.name))
            if m.group(2) != "0":
                found.append(Candidate(whole + 1, m.start(), m.end(), self.name))
            text = _mask(text, m.start(), m.end())
        return found, text


def has_correction(text: str) -> bool:
    """Whether the text takes a number back ("not 5, more like 3"): its words then only make
    sense whole, so the comment keeps them all."""
    return bool(_NEGATED.search(text))


class Negated(ScoreRule):
    """"not 5, more like 3", "8, not 10", "nie 5 tylko 3", "не 5, а 3": the number after a
    negation is taken back, so it is masked and never a candidate."""

    name = "negated"

    def find(self, text: str, survey: SurveySpec | None) -> tuple[list[Candidate], str]:
        return [], _NEGATED.sub(lambda m: " " * len(m.group(0)), text)


def without_noise(text: str) -> str:
    """`text` with dates, times, ticket/phone numbers, amounts and durations blanked out,
    and the counts, durations, dates, prices and addresses of `parsers.noise`."""
    return noise.mask(_NOISE.sub(lambda m: " " * len(m.group(0)), text))


class Noise(ScoreRule):
    """Dates, times, ticket and phone numbers, amounts and durations: never scores."""

    name = "noise"

    def find(self, text: str, survey: SurveySpec | None) -> tuple[list[Candidate], str]:
        return [], without_noise(text)


class BareNumber(ScoreRule):
    """Any remaining standalone number: "9", "оценка 4", "ocena: 5", "10!", "8-9"."""

    name = "bare_number"

    def find(self, text: str, survey: SurveySpec | None) -> tuple[list[Candidate], str]:
        found: list[Candidate] = []
        for m in _BARE.finditer(text):
            start = _keyword_start(text, m.start())
            unit = _SCORE_UNITS.match(text, m.end())
            end = unit.end() if unit else m.end()
            found.append(Candidate(int(m.group(1)), start, end, self.name))
        return found, text


class WordScore(ScoreRule):
    """Words on the survey's scale: csat/thumbs vocabularies and the survey's own labels."""

    name = "words"

    def find(self, text: str, survey: SurveySpec | None) -> tuple[list[Candidate], str]:
        found: list[Candidate] = []
        for value, start, end in words.find_words(text, survey):
            found.append(Candidate(value, start, end, self.name))
            text = _mask(text, start, end)
        return found, text


NUMERIC_RULES: tuple[ScoreRule, ...] = (
    Negated(),
    Keycaps(),
    Stars(),
    OutOf(),
    Noise(),
    DecimalScore(),
)
NUMBER_RULE = BareNumber()
WORD_RULE = WordScore()


def scale_range(survey: SurveySpec | None) -> tuple[int, int]:
    """The survey's numeric scale; 0..10 (the widest) when no survey is known."""
    if survey is None or survey.type == "thumbs":
        return (0, 10) if survey is None else (0, 1)
    numbers = [int(k) for k in survey.scale if k.lstrip("-").isdigit()]
    if numbers:
        return min(numbers), max(numbers)
    return {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}.get(survey.type, (0, 10))


def _numeric(text: str, survey: SurveySpec | None) -> list[Candidate]:
    found: list[Candidate] = []
    for rule in NUMERIC_RULES:
        hits, text = rule.find(text, survey)
        found.extend(hits)
    return found + NUMBER_RULE.find(text, survey)[0]


def _cover(candidate: Candidate, spans: list[tuple[int, int]]) -> Candidate:
    """The candidate's span widened to the whole number words it was read from."""
    start, end = candidate.start, candidate.end
    for word_start, word_end in spans:
        if word_start < end and start < word_end:
            start, end = min(start, word_start), max(end, word_end)
    return Candidate(candidate.value, start, end, candidate.rule)


def candidates(text: str, survey: SurveySpec | None) -> list[Candidate]:
    """Written numbers first, then numbers spelled out, then score words."""
    found: list[Candidate] = []
    if survey is None or survey.type != "thumbs":
        found = _numeric(text, survey)
        if not found and number_words.has_number_word(text):
            digits, words_spelled = number_words.spell_as_digits(text)
            found = [_cover(c, words_spelled) for c in _numeric(digits, survey)]
    if not found:
        found.extend(WORD_RULE.find(text, survey)[0])
    return found


# Words of doubt between two numbers keep them both in play: "9, maybe 10", "8 или 9".
_HESITATION = re.compile(
    r"(?<!\w)(?:or|maybe|perhaps|actually|rather|even|more like|between|и|или|может|скорее|"
    r"точнее|даже|а то и|lub|albo|czy|może|raczej|właściwie|nawet|a nawet)(?!\w)",
    re.I,
)
_CLAUSE_BREAK = re.compile(r"[.!?;:,\u2013\u2014-]|\n")


def _leading(text: str, found: list[Candidate]) -> list[Candidate]:
    """A score that opens a line and is followed by a sentence of its own wins over numbers
    mentioned later in that sentence ("6 - I would give Anna 5 stars, but…"): the client
    answered first and explained after. Doubt ("9, maybe 10") or a bare range ("8-9")
    leaves all of them in play."""
    first = min(found, key=lambda c: c.start)
    line_start = text.rfind("\n", 0, first.start) + 1
    if text[line_start : first.start].strip():
        return found
    for other in found:
        if other.value == first.value:
            continue
        if other.start < first.end:  # one span read two ways ("7.5"): truly in between
            return found
        between = text[first.end : other.start]
        words = re.findall(r"[^\W\d_]+", between)
        if not _CLAUSE_BREAK.match(between.lstrip(" ")) or len(words) < 2 or _HESITATION.search(
            between
        ):
            return found
    return [c for c in found if c.value == first.value]


def read_score(text: str, survey: SurveySpec | None) -> ScoreResult:
    """The one score in `text`, or a named reason: no_score, ambiguous_score, out_of_scale."""
    found = candidates(text, survey)
    if len({c.value for c in found}) > 1:
        found = _leading(text, found)
    values = list(dict.fromkeys(c.value for c in found))
    spans = tuple((c.start, c.end) for c in found)
    if not values:
        return ScoreResult(None, str(NoScore()))
    if len(values) > 1:
        return ScoreResult(None, str(AmbiguousScore(" or ".join(map(str, values)))), spans)
    low, high = scale_range(survey)
    if not low <= values[0] <= high:
        return ScoreResult(None, str(OutOfScale(str(values[0]))), spans)
    return ScoreResult(values[0], None, spans, all(c.rule == "words" for c in found))

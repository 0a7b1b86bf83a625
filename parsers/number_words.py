"""Scores written as words: "ten", "восемь", "на пятёрку", "dziesięć", "daję czwórkę".

A spelled-out number is rewritten in place as its digits, padded with spaces to the word's
length, so every numeric rule (out-of, negation, durations as noise, keyword spans) applies to
"ten out of ten", "not five", "two days" exactly as it does to digits, and spans stay valid.
The score reader uses this only when the reply has no digits that read as a score, so a
number word never contradicts a written number ("9, two agents helped" stays 9).

A number word counts only where a rating stands: alone between punctuation ("Ten!",
"Zero. Terrible.", "osiem"), after a rating verb or preposition ("I'd give you a ten",
"ставлю восемь", "на пятёрку", "daję dziewięć"), or before a scale ("five stars", "ten out of
ten", "семь баллов"). "Zero problems", "two agents helped", "the only one" stay words.
"""

from __future__ import annotations

import re

# Each value's forms: English, Russian (with the school-grade nouns "пятёрка" and their
# accusative), Polish (with the grade nouns "piątka", "czwórka" and their accusative).
_FORMS: dict[int, tuple[str, ...]] = {
    0: ("zero", "nil", "ноль", "нуль"),
    1: ("one", "один", "одна", "единица", "единицу", "jeden", "jedna", "jedynka", "jedynkę"),
    2: ("two", "два", "две", "двойка", "двойку", "dwa", "dwie", "dwójka", "dwójkę", "dwojka"),
    3: ("three", "три", "тройка", "тройку", "trzy", "trójka", "trójkę", "trojka", "trojke"),
    4: ("four", "четыре", "четверка", "четвёрка", "четверку", "четвёрку", "cztery", "czwórka",
        "czwórkę", "czworka", "czworke"),
    5: ("five", "пять", "пятерка", "пятёрка", "пятерку", "пятёрку", "пятерочку", "пятёрочку",
        "pięć", "piec", "пяти", "pięciu", "piątka", "piątkę", "piatka", "piatke"),
    6: ("six", "шесть", "шестерка", "шестёрка", "шестерку", "шестёрку", "sześć", "szesc",
        "szóstka", "szóstkę", "szostka", "szostke"),
    7: ("seven", "семь", "семерка", "семёрка", "семерку", "семёрку", "siedem", "siódemka",
        "siódemkę"),
    8: ("eight", "восемь", "восьмерка", "восьмёрка", "восьмерку", "восьмёрку", "osiem",
        "ósemka", "ósemkę", "osemka"),
    9: ("nine", "девять", "девятка", "девятку", "dziewięć", "dziewiec", "dziewiątka",
        "dziewiątkę"),
    10: ("ten", "десять", "десятка", "десятку", "десяточку", "десяти", "dziesięć", "dziesiec",
         "dziesięciu", "dziesiątka", "dziesiątkę", "dziesiatka"),
}  # fmt: skip
# German, French, Spanish and Ukrainian (with the Ukrainian school-grade nouns).
_MORE_FORMS: dict[int, tuple[str, ...]] = {
    0: ("null", "zéro", "cero", "нуль"),
    1: ("eins", "une", "uno", "одна", "один"),
    2: ("zwei", "deux", "dos", "дві"),
    3: ("drei", "trois", "tres", "трійка", "трійку"),
    4: ("vier", "quatre", "cuatro", "чотири", "четвірка", "четвірку"),
    5: ("fünf", "cinq", "cinco", "п'ять", "п’ять", "пʼять", "п'ятірка", "п'ятірку", "п’ятірку"),
    6: ("sechs", "seis", "шість"),
    7: ("sieben", "siete", "сім"),
    8: ("acht", "huit", "ocho", "вісім"),
    9: ("neun", "neuf", "nueve", "дев'ять", "дев’ять", "девʼять"),
    10: ("zehn", "dix", "diez"),
}  # fmt: skip
for _value, _forms in _MORE_FORMS.items():
    _FORMS[_value] = (*_FORMS[_value], *_forms)
_LOOKUP = {form: value for value, forms in _FORMS.items() for form in forms}
_ALTERNATIVES = "|".join(sorted(map(re.escape, _LOOKUP), key=len, reverse=True))
_WORD = re.compile(rf"(?<!\w)(?:{_ALTERNATIVES})(?![\w-])", re.I)
_BEFORE_ALONE = re.compile(r"(?:^|[.,;:!?()\u2013\u2014-])\s*$")
_BEFORE_VERB = re.compile(
    r"(?<!\w)(?:a|an|out of|из|a solid|a perfect|give(?: you| it| them)?|rate(?: you| it)?|"
    r"say|score|rating|на|ставлю|поставлю|оценка|оцениваю|оценил[аи]?|daję|daje|dam|na|ocena|"
    r"oceniam(?: na)?|oceniam was na|not|never|не|nie|(?:more )?like|rather|а|скорее|tylko|"
    r"raczej|definitely(?: a)?|absolutely(?: a)?|easily(?: a)?|strong|"
    # de, fr, es, uk: "ich gebe (Ihnen) eine Zehn", "je donne neuf", "le doy un ocho"
    r"(?:ich )?gebe(?: ihnen| euch| dir)?(?: eine?)?|eine|(?:je )?(?:vous )?donne|"
    r"(?:je )?mets|(?:le |les |te )?doy(?: un)?|un|una|nota|ставлю|поставлю|оцінка|оцінюю|"
    r"тв[её]рд(?:ая|ую|ые)|уверенн(?:ая|ую)|крепк(?:ая|ую)|mocn[aąe]|solidn[aąe]|pewn[aą])"
    r"\s*+[:=-]?\s*$",
    re.I,
)
_AFTER_ALONE = re.compile(r"(?<!\s)\s*+(?:$|[.,;:!?)\u2013\u2014-])")
_DENOMINATORS = "|".join(map(re.escape, _FORMS[5] + _FORMS[7] + _FORMS[10]))
# What may follow a score and belongs to it: "7 баллов", "4 stars", "пять с плюсом".
UNIT_WORDS = r"points?|pts|stars?|балл\w*|звезд\w*|punkt\w*|pkt|gwiazd\w*"
PLUS_WORDS = r"с плюсом|z plusem|with a plus"
_AFTER_SCALE = re.compile(
    rf"(?<!\s)\s*+(?:/|out of|of|из|z|na)\s*+(?:\d{{1,2}}|{_DENOMINATORS})(?!\w)"
    rf"|(?<!\s)\s*+(?:{UNIT_WORDS}|{PLUS_WORDS})(?!\w)",
    re.I,
)


_CONTEXT = 80  # characters either side of a number word that decide its role (bounded work)


def _rating_position(text: str, start: int, end: int) -> bool:
    line_start = max(text.rfind("\n", max(0, start - _CONTEXT), start) + 1, start - _CONTEXT)
    line_end = text.find("\n", end, end + _CONTEXT)
    before = text[line_start:start]
    after = text[end : end + _CONTEXT if line_end < 0 else line_end]
    if _AFTER_SCALE.match(after) or _BEFORE_VERB.search(before):
        return True
    return bool(_BEFORE_ALONE.search(before) and _AFTER_ALONE.match(after))


def _digits(value: int, length: int) -> str:
    return str(value).ljust(length)


def spell_as_digits(text: str) -> tuple[str, list[tuple[int, int]]]:
    """`text` with every number word in a rating position replaced by its digits, padded to
    the same length so offsets are unchanged, and the spans of the words replaced."""
    spans: list[tuple[int, int]] = []

    def word(m: re.Match[str]) -> str:
        if not _rating_position(text, m.start(), m.end()):
            return m.group(0)
        spans.append((m.start(), m.end()))
        return _digits(_LOOKUP[m.group(0).lower()], len(m.group(0)))

    return _WORD.sub(word, text), spans


def has_number_word(text: str) -> bool:
    """Whether `text` spells any number out (a cheap check before the second pass)."""
    return bool(_WORD.search(text))

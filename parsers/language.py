"""Which language the sender wrote in: ru, pl, en or None, from the letters used."""

from __future__ import annotations

import re

_CYRILLIC = re.compile("[а-яёА-ЯЁ]")
_LATIN = re.compile("[a-zA-Z]")
_POLISH_LETTERS = re.compile("[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]")
_POLISH_WORDS = re.compile(
    r"\b(?:jest|nie|tak|dziękuję|dziekuje|dobrze|bardzo|ocena|się|sie|czy|oraz|był|było|"
    r"pozdrawiam|proszę|prosze|szybko|wolno|źle|zle|średnio|świetnie|natychmiast|w|z|"
    r"że|jak|ale|fatalnie|doskonale|kiepsko|słabo|dzięki|dzieki|wszystko|na|jeden|dwa|trzy|cztery|"
    r"siedem|osiem|mocne|pani)\b",
    re.I,
)
_ENGLISH_WORDS = re.compile(r"\b(?:the|and|is|was|you|thanks|thank|good|great|it|very)\b", re.I)


# Linear: each whitespace-free run is read once (a pattern "\S*(?:@|://)\S*" would try every
# start of a 64 KB line again: quadratic).
_RUN = re.compile(r"\S+")
_TOKEN_LIKE = re.compile(r"[A-Za-z2-7]{32}")
PREFIX = 20000  # characters: enough to tell a language, a bound on the work


def _prose(run: re.Match[str]) -> str:
    word = run.group(0)
    if "://" in word or "@" in word or "www." in word.lower():
        return " "
    return _TOKEN_LIKE.sub(" ", word) if len(word) >= 32 else word


def detect(text: str) -> str | None:
    """"ru" if Cyrillic dominates, "pl" on Polish letters or words, "en" for other Latin.
    Links, addresses and tokens are not prose and would tip short texts to "en"."""
    text = _RUN.sub(_prose, text[:PREFIX])
    cyr = len(_CYRILLIC.findall(text))
    lat = len(_LATIN.findall(text))
    if cyr == 0 and lat == 0:
        return None
    if cyr > lat or (cyr >= 4 and 2 * cyr >= lat):  # "Всё ок, thanks!": Russian with Latin
        return "ru"
    if _POLISH_LETTERS.search(text):
        return "pl"
    polish = len(_POLISH_WORDS.findall(text))
    english = len(_ENGLISH_WORDS.findall(text))
    if polish > english and polish >= 1:
        return "pl"
    if english == 0 and lat < 24:
        return None  # "Osiem", "zero", "mocne 8": too little to tell; the quote will say
    return "en"

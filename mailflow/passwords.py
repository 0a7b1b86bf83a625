"""The passwords everyone tries first: a small built-in list, so no download is needed.

`is_common` also sees through the usual decorations: case, a year or digits and symbols at
the end ("Password2024!"), a repeated character, or a keyboard or number run.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that, with digits or symbols added, top every leaked-password list.
COMMON_WORDS = _words(
    """
    password passw0rd p@ssword p@ssw0rd qwerty qwertyuiop qwertz azerty asdfgh asdfghjkl
    zxcvbn zxcvbnm letmein welcome admin administrator root changeme default secret
    iloveyou monkey dragon football baseball master shadow sunshine princess superman
    batman trustno1 whatever freedom starwars pokemon computer internet mailflow support
    helpdesk manager login access guest test testing hello abc abcdef abcdefg abcdefgh
    qazwsx 1qaz2wsx 1q2w3e4r 1q2w3e4r5t zaq12wsx q1w2e3r4 haslo hasło parol пароль
    """
)
COMMON_PASSWORDS = _words(
    """
    1234567890 0987654321 1122334455 1234512345 123123123123 1231231231 0123456789
    9876543210 1111111111 12345678910 123456789a a123456789 1234567890a qwerty123456
    password123 password1234 iloveyou123 qwertyuiop1 1q2w3e4r5t6y 1qaz2wsx3edc
    zaq1zaq1zaq1 qwe123qwe123 asdasdasdasd 147258369147 abc123abc123 changeme123
    """
)
_RUNS = ("0123456789", "9876543210", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl")
_DECORATION = re.compile(r"[\d\W_]+$")


def is_common(password: str) -> bool:
    """Whether `password` is a well-known password or a decorated one."""
    lowered = password.strip().lower()
    if lowered in COMMON_PASSWORDS or lowered in COMMON_WORDS:
        return True
    if len(set(lowered)) <= 2:  # "aaaaaaaaaa", "abababababab"
        return True
    if any(lowered in run for run in _RUNS):
        return True
    base = _DECORATION.sub("", lowered)
    return base in COMMON_WORDS or (base == "" and lowered.isdigit() and len(set(lowered)) < 5)

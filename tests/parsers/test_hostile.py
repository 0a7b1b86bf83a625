"""Hostile input: read_message/interpret/parse never raise and say something is wrong."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers import interpret, parse, read_message
from parsers.contract import CONTRACT_KEYS
from tests.parsers.conftest import all_fixtures, load
from tests.parsers.surveys import SURVEYS

HOSTILE = all_fixtures("hostile")
SLOW = [HealthCheck.too_slow]


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("survey", [None, "nps", "thumbs", "service_quality"])
def test_hostile_fixture_never_raises_and_reports(name: str, survey: str | None) -> None:
    result = parse(load(name), SURVEYS.get(survey or ""), file=name)
    assert tuple(result) == CONTRACT_KEYS
    assert result["kind"] == "unknown" or result["error"] is not None
    assert result["score"] is None


def test_unreadable_messages_are_unknown_with_a_reason() -> None:
    for name in ("hostile/empty.eml", "hostile/garbage_binary.eml", "hostile/header_only.eml"):
        msg = read_message(load(name))
        assert msg.kind == "unknown" and msg.error, name


def test_lying_charsets_are_read_anyway() -> None:
    assert read_message(load("hostile/lying_charset_latin1_is_utf8.eml")).visible_text == (
        "Спасибо, всё понравилось")
    assert read_message(load("hostile/lying_charset_utf8_is_cp1251.eml")).visible_text == (
        "Спасибо, понравилось")
    assert read_message(load("hostile/unknown_charset.eml")).visible_text == "Dziękuję bardzo"


def test_fifty_deep_nesting_is_read() -> None:
    msg = read_message(load("hostile/nested_50.eml"))
    assert msg.visible_text == "deep inside"


def test_ten_megabyte_attachment(tmp_path) -> None:
    """Generated at run time (too big to commit): the text part is still found quickly."""
    blob = random.Random(7).randbytes(7_500_000)
    import base64

    encoded = base64.encodebytes(blob).decode()
    raw = (
        "From: a@example.com\r\nTo: survey+k5vdm3qxr7ag2nhbte4wyc6pfjzlu3os@reply.localhost\r\n"
        "Subject: Re: survey\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n--XX\r\n'
        "Content-Type: text/plain; charset=utf-8\r\n\r\n8, see the log attached\r\n--XX\r\n"
        'Content-Type: application/octet-stream; name="log.bin"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        'Content-Disposition: attachment; filename="log.bin"\r\n\r\n'
        f"{encoded}\r\n--XX--\r\n"
    ).encode()
    assert len(raw) > 10_000_000
    started = time.perf_counter()
    result = parse(raw, SURVEYS["nps"])
    assert time.perf_counter() - started < 10
    assert (result["score"], result["request_token"]) == (8, "k5vdm3qxr7ag2nhbte4wyc6pfjzlu3os")


def _check(raw: bytes) -> None:
    msg = read_message(raw)
    assert msg.kind in ("reply", "google_form", "web_form", "auto_reply", "bounce", "unknown")
    for survey in (None, *SURVEYS.values()):
        reading = interpret(msg, survey)
        assert reading.score is None or isinstance(reading.score, int)


@settings(max_examples=150, database=None, deadline=None, suppress_health_check=SLOW)
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    _check(raw)


SEEDS = [load(n) for n in all_fixtures("replies")[:12] + all_fixtures("forms")[:4]
         + all_fixtures("bounces")[:2]]  # fmt: skip


@settings(max_examples=150, database=None, deadline=None, suppress_health_check=SLOW)
@given(
    st.sampled_from(SEEDS),
    st.lists(st.tuples(st.integers(0, 10**6), st.binary(min_size=0, max_size=8)), max_size=6),
    st.integers(0, 10**6),
)
def test_mutated_fixtures_never_raise(seed: bytes, edits: list, cut: int) -> None:
    data = bytearray(seed)
    for position, replacement in edits:
        at = position % (len(data) + 1)
        data[at : at + len(replacement)] = replacement
    _check(bytes(data[: max(1, cut % (len(data) + 1))]) if cut % 3 == 0 else bytes(data))


@settings(max_examples=100, database=None, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_bodies_never_raise(text: str) -> None:
    raw = ("From: a@b.c\nSubject: Re: x\nContent-Type: text/plain; charset=utf-8\n\n" + text)
    _check(raw.encode("utf-8", "surrogatepass"))

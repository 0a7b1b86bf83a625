"""Tokens: one sign/verify pair; each way a token can be wrong has its own error."""

from __future__ import annotations

import re

import pytest

from mailflow.tokens import (
    MalformedToken,
    Purpose,
    RetiredKey,
    Signer,
    TamperedToken,
    WrongPurpose,
)


@pytest.fixture
def signer() -> Signer:
    return Signer(["new-key-" + "a" * 32, "old-key-" + "b" * 32])


def test_round_trip_is_short_and_url_safe(signer):
    for request_id in (1, 42, 2**40):
        token = signer.sign(request_id, Purpose.LINK)
        assert len(token) <= 40
        assert re.fullmatch(r"[a-z2-7]+", token)
        assert signer.verify(token, Purpose.LINK) == request_id


def test_upper_case_token_still_verifies(signer):
    token = signer.sign(7, Purpose.REPLY)
    assert signer.verify(token.upper(), Purpose.REPLY) == 7


def test_tampered(signer):
    token = signer.sign(42, Purpose.LINK)
    flipped = token[:-1] + ("a" if token[-1] != "a" else "b")
    with pytest.raises(TamperedToken):
        signer.verify(flipped, Purpose.LINK)
    other_id = signer.sign(43, Purpose.LINK)
    with pytest.raises(TamperedToken):
        signer.verify(token[:16] + other_id[16:], Purpose.LINK)


def test_truncated_and_garbage(signer):
    token = signer.sign(42, Purpose.LINK)
    with pytest.raises(MalformedToken):
        signer.verify(token[:-3], Purpose.LINK)
    with pytest.raises(MalformedToken):
        signer.verify("1" * 32, Purpose.LINK)


def test_wrong_purpose(signer):
    token = signer.sign(42, Purpose.LINK)
    with pytest.raises(WrongPurpose):
        signer.verify(token, Purpose.UNSUBSCRIBE)


def test_rotation_signs_with_newest_verifies_with_any():
    old = Signer(["old-key-" + "b" * 32])
    rotated = Signer(["new-key-" + "a" * 32, "old-key-" + "b" * 32])
    old_token = old.sign(9, Purpose.LINK)
    assert rotated.verify(old_token, Purpose.LINK) == 9
    assert rotated.sign(9, Purpose.LINK) != old_token


def test_retired_key():
    old_token = Signer(["old-key-" + "b" * 32]).sign(9, Purpose.LINK)
    with pytest.raises(RetiredKey):
        Signer(["new-key-" + "a" * 32]).verify(old_token, Purpose.LINK)


def test_preview_tokens_name_no_request_and_open_nothing_else(signer):
    token = signer.sign(0, Purpose.PREVIEW)
    assert signer.verify(token, Purpose.PREVIEW) == 0 and signer.is_preview(token)
    for purpose in (Purpose.LINK, Purpose.AMP, Purpose.REPLY, Purpose.UNSUBSCRIBE):
        with pytest.raises(WrongPurpose):
            signer.verify(token, purpose)
    with pytest.raises(ValueError):
        signer.sign(1, Purpose.PREVIEW)  # a preview can never name a real request
    with pytest.raises(ValueError):
        signer.sign(0, Purpose.LINK)
    assert not signer.is_preview(signer.sign(1, Purpose.LINK))

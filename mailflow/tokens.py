"""The one pair for signed things: `sign(request_id, purpose)` and `verify(token, purpose)`.

A token is 20 bytes in lowercase base32 (32 characters: URL-safe, and safe in the local part
of an email address, which some mail systems lowercase):

    key id (1) | purpose (1) | request id (6, big-endian) | HMAC-SHA256 truncated (12)

Sign with the newest key, verify with any configured one (rotation). The MAC covers the key
id, the purpose and the request id. Comparison is constant-time. Expiry is not in the token:
it is checked against the request's stored expires_at, so a resend keeps the same token.

Preview emails (`mailflow preview`) carry PREVIEW tokens for request id 0 in every place a
real email has LINK, AMP, UNSUBSCRIBE and REPLY tokens: they can never name a real request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from enum import IntEnum

TOKEN_LENGTH = 32
_MAC_BYTES = 12
_MAX_ID = 2**48 - 1


class Purpose(IntEnum):
    """What a token may be used for; a link token cannot unsubscribe."""

    LINK = 1
    AMP = 2
    REPLY = 3
    UNSUBSCRIBE = 4
    # `mailflow preview`: names no request (id 0); pages say "preview" and record nothing.
    PREVIEW = 5
    # The VERP envelope sender bounce+TOKEN@reply_domain: only a bounce arriving there (or one
    # quoting our Message-ID) may mark a request and its contact bounced.
    BOUNCE = 6
    # The reply address of a manager's email to a client about an escalation
    # (survey+TOKEN@reply_domain): signs the *escalation* id, not a request id, so the client's
    # answer joins that escalation's timeline and is never read as a new score.
    ESCALATION = 7
    # The Telegram deep link t.me/<bot>?start=TOKEN: pressing Start links the chat to the
    # request's contact and sends the survey there.
    TELEGRAM = 8


PREVIEW_ID = 0  # the request id inside every preview token: no row ever has it


class TokenError(Exception):
    """A token that must not be honoured."""


class MalformedToken(TokenError):
    """Wrong length or alphabet: truncated, or not ours at all."""


class TamperedToken(TokenError):
    """The MAC does not match under the key it names."""


class WrongPurpose(TokenError):
    """A valid token used for something it was not issued for."""


class RetiredKey(TokenError):
    """Signed with a key that is no longer configured."""


def _key_id(key: bytes) -> int:
    return hashlib.sha256(b"mailflow-key-id" + key).digest()[0]


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.digest(key, body, "sha256")[:_MAC_BYTES]  # one C call, no HMAC object


# Every 10-bit value as its two lower-case base32 letters: a 20-byte token is 16 lookups.
_PAIRS = [
    a + b for a in "abcdefghijklmnopqrstuvwxyz234567" for b in "abcdefghijklmnopqrstuvwxyz234567"
]


_SHIFTS = {20: tuple(range(150, -1, -10))}


def _b32_lower(raw: bytes) -> str:
    """base64.b32encode(raw).lower() for lengths that are a multiple of 5 (no padding), a few
    times faster: every survey email signs four tokens."""
    value = int.from_bytes(raw, "big")
    shifts = _SHIFTS.get(len(raw)) or range(len(raw) * 8 - 10, -1, -10)
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in shifts])


class Signer:
    """Signs with the first (newest) key and verifies with any of `keys`."""

    def __init__(self, keys: Sequence[str | bytes]):
        if not keys:
            raise ValueError("at least one secret key is required")
        self._keys = [k.encode() if isinstance(k, str) else k for k in keys]
        self._by_id: dict[int, list[bytes]] = {}
        for key in self._keys:
            self._by_id.setdefault(_key_id(key), []).append(key)
        self._signing_id = _key_id(self._keys[0])

    def sign(self, request_id: int, purpose: Purpose) -> str:
        """A token for `request_id` usable only for `purpose`."""
        lowest = PREVIEW_ID if purpose is Purpose.PREVIEW else 1
        if not lowest <= request_id <= _MAX_ID or (
            purpose is Purpose.PREVIEW and request_id != PREVIEW_ID
        ):
            raise ValueError("request id out of range")
        key = self._keys[0]
        body = bytes([self._signing_id, int(purpose)]) + request_id.to_bytes(6, "big")
        return _b32_lower(body + _mac(key, body))

    def verify(self, token: str, purpose: Purpose) -> int:
        """The request id inside `token`, or a TokenError subclass saying why not."""
        if not isinstance(token, str) or len(token) != TOKEN_LENGTH:
            raise MalformedToken("token has the wrong length")
        try:
            raw = base64.b32decode(token.upper())
        except (binascii.Error, ValueError):
            raise MalformedToken("token is not base32") from None
        body, mac = raw[:8], raw[8:]
        candidates = self._by_id.get(body[0])
        if not candidates:
            raise RetiredKey("token was signed with a key that is no longer configured")
        if not any(hmac.compare_digest(_mac(key, body), mac) for key in candidates):
            raise TamperedToken("token signature does not match")
        if body[1] != int(purpose):
            raise WrongPurpose(f"token is not for {purpose.name.lower()}")
        return int.from_bytes(body[2:8], "big")

    def is_preview(self, token: str) -> bool:
        """Whether `token` is a genuine preview token (signed by us, purpose PREVIEW)."""
        try:
            self.verify(token, Purpose.PREVIEW)
        except TokenError:
            return False
        return True


def signer_for(settings: object) -> Signer:
    """The Signer for a Settings object's configured secret keys (newest first)."""
    keys = [k.get_secret_value() for k in settings.secret_keys]  # type: ignore[attr-defined]
    return Signer(keys)

"""Anti-forgery fields: per-token for the public forms, per-session for the admin forms.

Public rating/unsubscribe forms carry HMAC(secret, purpose|token) in a hidden field: no cookie
is needed, and only a page we rendered for that token can post a form for it. Admin forms carry
HMAC(secret, "csrf"|session nonce), bound to the signed-in session (see mailflow.web.auth).
All are checked against every configured secret key, so key rotation keeps open pages working.
"""

from __future__ import annotations

import hashlib
import hmac

from mailflow.settings import Settings


def _keys(settings: Settings) -> list[bytes]:
    return [k.get_secret_value().encode("utf-8") for k in settings.secret_keys]


def _mac(key: bytes, *parts: str) -> str:
    message = "|".join(("mailflow-web", *parts)).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def sign_value(settings: Settings, *parts: str) -> str:
    """A MAC of `parts` under the newest key."""
    return _mac(_keys(settings)[0], *parts)


def check_value(settings: Settings, value: str | None, *parts: str) -> bool:
    """Whether `value` is the MAC of `parts` under any configured key (constant-time)."""
    if not value:
        return False
    return any(hmac.compare_digest(_mac(key, *parts), value) for key in _keys(settings))


def form_field(settings: Settings, token: str, purpose: str) -> str:
    """The hidden `csrf` value of a public form for `token`."""
    return sign_value(settings, "form", purpose, token)


def check_form_field(settings: Settings, token: str, purpose: str, value: str | None) -> bool:
    """Whether a public form's `csrf` value was issued by us for this token."""
    return check_value(settings, value, "form", purpose, token)

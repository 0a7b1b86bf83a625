"""Staff passwords (argon2) and API keys (`mf_<prefix>_<secret>`, only a hash stored).

Passwords are slow-hashed with argon2 because people choose them. API keys are 190 random bits,
so a single SHA-256 is enough and keeps every API call fast; the prefix finds the row, the
hash comparison is constant-time, and the key itself is shown once and never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.clock import utcnow
from storage.models import ApiKey, User

API_KEY_RE = re.compile(r"^mf_([a-z0-9]{8})_([A-Za-z0-9_-]{32,64})$")
MIN_PASSWORD_LENGTH = 8
# A fixed argon2 hash to verify against when the user is unknown, so timing does not tell.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$PH0pZSkJUH0UguGzkVhRUw$"
    "Voxw7bOVFcHNN7LcwbWbgXfnOotT5Qec41dQNCuNAUw"
)


class AuthError(Exception):
    """A refusal to create or accept a credential; str() is safe to show."""


class WeakPassword(AuthError):
    """The password is too short."""


class DuplicateName(AuthError):
    """A user or API key with this name exists already."""


def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (refuses short ones)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches `password_hash`."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(session: Session, username: str, password: str, locale: str = "en") -> User:
    """A new staff user; DuplicateName if the username is taken."""
    username = username.strip()
    if not username:
        raise AuthError("username: required")
    user = User(username=username, password_hash=hash_password(password), locale=locale)
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise DuplicateName(f"user {username!r} exists already") from None
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user when username and password match, else None (same work either way)."""
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None
    return user if verify_password(user.password_hash, password) else None


def api_key_hash(key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_api_key() -> tuple[str, str]:
    """A fresh (prefix, key) pair; the key is `mf_<prefix>_<secret>`."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    prefix = "".join(secrets.choice(alphabet) for _ in range(8))
    return prefix, f"mf_{prefix}_{secrets.token_urlsafe(24)}"


def create_api_key(session: Session, name: str) -> str:
    """Store a new API key called `name` and return the key (the only time it is visible)."""
    name = name.strip()
    if not name:
        raise AuthError("name: required")
    prefix, key = generate_api_key()
    try:
        with session.begin_nested():
            session.add(ApiKey(name=name, prefix=prefix, key_hash=api_key_hash(key)))
    except IntegrityError:
        raise DuplicateName(f"API key {name!r} exists already") from None
    return key


def verify_api_key(session: Session, key: str) -> ApiKey | None:
    """The active ApiKey row for `key`, or None for a malformed, unknown or revoked key."""
    match = API_KEY_RE.match(key or "")
    if match is None:
        return None
    wanted = api_key_hash(key)
    query = select(ApiKey).where(ApiKey.prefix == match.group(1), ApiKey.revoked_at.is_(None))  # type: ignore[union-attr]
    for row in session.exec(query):
        if hmac.compare_digest(row.key_hash, wanted):
            return row
    return None


def revoke_api_key(session: Session, name: str) -> bool:
    """Revoke the key called `name`; False when there is no active key of that name."""
    row = session.exec(
        select(ApiKey).where(ApiKey.name == name, ApiKey.revoked_at.is_(None))  # type: ignore[union-attr]
    ).first()
    if row is None:
        return False
    row.revoked_at = utcnow()
    session.add(row)
    return True

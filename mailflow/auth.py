"""Staff passwords (argon2), their server-side sessions, and API keys (`mf_<prefix>_<secret>`,
only a hash stored, with scopes).

Passwords are slow-hashed with argon2 because people choose them; they need
MIN_PASSWORD_LENGTH characters and must not be a well-known password (mailflow.passwords).
A session is a random cookie whose SHA-256 is a WebSession row: signing out, a password
change, disabling or deleting the user deletes the rows, and the cookie opens nothing.
API keys are 190 random bits, so a single SHA-256 is enough and keeps every API call fast;
the prefix finds the row, the hash comparison is constant-time, and the key itself is shown
once and never stored. A key may do only what its scopes (SCOPES) name.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from mailflow.passwords import is_common
from storage.clock import as_utc, utcnow
from storage.models import ApiKey, User, WebSession

API_KEY_RE = re.compile(r"^mf_([a-z0-9]{8})_([A-Za-z0-9_-]{32,64})$")
MIN_PASSWORD_LENGTH = 10
SCOPES = ("events:write", "reports:read")
ROLES = ("admin", "manager", "agent")
DEFAULT_SCOPES = ("events:write",)
# A fixed argon2 hash to verify against when the user is unknown, so timing does not tell.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$PH0pZSkJUH0UguGzkVhRUw$"
    "Voxw7bOVFcHNN7LcwbWbgXfnOotT5Qec41dQNCuNAUw"
)


class AuthError(Exception):
    """A refusal to create or accept a credential; str() is safe to show."""


class WeakPassword(AuthError):
    """The password is too short, or one of the passwords everyone tries first."""


class UnknownUser(AuthError):
    """No user has this username."""


class DuplicateName(AuthError):
    """A user or API key with this name exists already."""


def _hasher() -> PasswordHasher:
    return PasswordHasher()


def check_password(password: str, username: str = "") -> None:
    """WeakPassword unless `password` is long enough and not a well-known one."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if is_common(password) or (username and username.strip().lower() == password.lower()):
        raise WeakPassword("password: too easy to guess (a common password or the username)")


def hash_password(password: str, username: str = "") -> str:
    """An argon2id hash of `password` (refuses short and common ones)."""
    check_password(password, username)
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches `password_hash`."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_role(role: str, employee_id: int | None) -> str:
    """`role` when it is one of ROLES (an agent needs the employee whose results they see)."""
    if role not in ROLES:
        raise AuthError(f"role: one of {', '.join(ROLES)}")
    if role == "agent" and employee_id is None:
        raise AuthError("employee: an agent is linked to the employee whose results they see")
    return role


def create_user(
    session: Session,
    username: str,
    password: str | None,
    locale: str = "en",
    *,
    role: str = "admin",
    employee_id: int | None = None,
    email: str | None = None,
) -> User:
    """A new staff user; DuplicateName if the username is taken. Without a password (an
    invite) nobody can sign in as them until they set one through their invite link."""
    username = username.strip()
    if not username:
        raise AuthError("username: required")
    check_role(role, employee_id)
    password_hash = hash_password(password, username) if password is not None else unusable()
    user = User(
        username=username,
        password_hash=password_hash,
        locale=locale,
        role=role,
        employee_id=employee_id if role == "agent" else None,
        email=(email or "").strip() or None,
    )
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise DuplicateName(f"user {username!r} exists already") from None
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user when username and password match, else None (same work either way)."""
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None or user.disabled_at is not None:
        verify_password(_DUMMY_HASH, password)
        return None
    return user if verify_password(user.password_hash, password) else None


def unusable() -> str:
    """A password hash no password matches (argon2 refuses it): an invited user's."""
    return "!invited-" + secrets.token_hex(16)


def set_role(session: Session, username: str, role: str, employee_id: int | None) -> User:
    """Change a user's role (and the employee an agent is linked to)."""
    user = _user(session, username)
    user.role = check_role(role, employee_id)
    user.employee_id = employee_id if role == "agent" else None
    session.add(user)
    return user


def _user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None:
        raise UnknownUser(f"no user named {username!r}")
    return user


def list_users(session: Session) -> list[User]:
    """Every staff user, by username."""
    return list(session.exec(select(User).order_by(col(User.username))))


def set_password(session: Session, username: str, password: str) -> User:
    """A new password for `username`; every session of that user ends."""
    user = _user(session, username)
    user.password_hash = hash_password(password, user.username)
    session.add(user)
    end_sessions(session, user)
    return user


def disable_user(session: Session, username: str, disabled: bool = True) -> User:
    """Disable (or enable again) a user; disabling ends every session of that user."""
    user = _user(session, username)
    user.disabled_at = utcnow() if disabled else None
    session.add(user)
    if disabled:
        end_sessions(session, user)
    return user


def delete_user(session: Session, username: str) -> None:
    """Delete a user and every session of theirs."""
    user = _user(session, username)
    end_sessions(session, user)
    session.delete(user)


# --- sessions ------------------------------------------------------------------------------------
def _session_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(session: Session, user: User, hours: float) -> str:
    """A new session for `user`; returns the cookie value (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    assert user.id is not None
    session.add(
        WebSession(
            user_id=user.id,
            token_hash=_session_hash(token),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    # Expired rows of this user go when they sign in again: the table stays small.
    session.exec(
        delete(WebSession).where(
            col(WebSession.user_id) == user.id, col(WebSession.expires_at) < now
        )
    )
    return token


def session_user(session: Session, token: str) -> User | None:
    """The enabled user a live session cookie belongs to, else None."""
    if not token or len(token) > 100:
        return None
    row = session.exec(
        select(WebSession).where(WebSession.token_hash == _session_hash(token))
    ).first()
    if row is None or as_utc(row.expires_at) < utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled_at is not None:
        return None
    return user


def session_key(token: str) -> str:
    """What a session's CSRF field is bound to (the stored hash, never the cookie itself)."""
    return _session_hash(token)


def close_session(session: Session, token: str) -> None:
    """Sign out: the session's row goes, so the cookie opens nothing any more."""
    session.exec(delete(WebSession).where(col(WebSession.token_hash) == _session_hash(token)))


def end_sessions(session: Session, user: User) -> int:
    """End every session of `user`; how many there were."""
    result = session.exec(delete(WebSession).where(col(WebSession.user_id) == user.id))
    return int(result.rowcount or 0)


def api_key_hash(key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_api_key() -> tuple[str, str]:
    """A fresh (prefix, key) pair; the key is `mf_<prefix>_<secret>`."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    prefix = "".join(secrets.choice(alphabet) for _ in range(8))
    return prefix, f"mf_{prefix}_{secrets.token_urlsafe(24)}"


def parse_scopes(scopes: tuple[str, ...] | list[str] | None) -> str:
    """The stored form of chosen scopes (default events:write); AuthError for unknown ones."""
    chosen = [s.strip() for s in (scopes or DEFAULT_SCOPES) if s.strip()] or list(DEFAULT_SCOPES)
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown:
        raise AuthError(f"scope: unknown {', '.join(unknown)} (known: {', '.join(SCOPES)})")
    return " ".join(dict.fromkeys(chosen))


def has_scope(key: ApiKey, scope: str) -> bool:
    """Whether an API key was created with `scope`."""
    return scope in (key.scopes or "").split()


def create_api_key(
    session: Session, name: str, scopes: tuple[str, ...] | list[str] | None = None
) -> str:
    """Store a new API key called `name` with `scopes` (default events:write) and return the
    key (the only time it is visible)."""
    name = name.strip()
    if not name:
        raise AuthError("name: required")
    stored_scopes = parse_scopes(scopes)
    prefix, key = generate_api_key()
    try:
        with session.begin_nested():
            session.add(
                ApiKey(name=name, prefix=prefix, key_hash=api_key_hash(key), scopes=stored_scopes)
            )
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

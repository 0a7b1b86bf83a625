"""One-time set-password links for invited staff and password resets, sent by e-mail.

A link is /admin/password/<user id>.<expiry>.<mac>, the MAC over the id, the expiry and the
user's current password hash. Choosing a password changes the hash, so the link works once;
a reset (a new unusable hash) kills every earlier link. No table is needed.
"""

from __future__ import annotations

import time

from sqlmodel import Session

from mailflow.i18n import ui
from mailflow.notifications import enqueue_notification
from mailflow.render import render_notice
from mailflow.settings import Settings
from mailflow.web.csrf import check_value, sign_value
from storage.models import User

LINK_HOURS = 72


def invite_token(settings: Settings, user: User, *, now: float | None = None) -> str:
    """The token of a set-password link for `user` as they are now."""
    expiry = int((now if now is not None else time.time()) + LINK_HOURS * 3600)
    mac = sign_value(settings, "invite", str(user.id), str(expiry), user.password_hash)
    return f"{user.id}.{expiry}.{mac}"


def invite_link(settings: Settings, user: User) -> str:
    """The full set-password URL for `user`."""
    return f"{settings.web.base_url.rstrip('/')}/admin/password/{invite_token(settings, user)}"


def user_of_token(session: Session, settings: Settings, token: str) -> User | None:
    """The enabled user a live, unused link belongs to; None for anything else."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(token) > 200:
        return None
    user_id, expiry, mac = int(parts[0]), int(parts[1]), parts[2]
    if expiry < time.time() or user_id > 2**62:
        return None
    user = session.get(User, user_id)
    if user is None or user.disabled_at is not None:
        return None
    if not check_value(settings, mac, "invite", str(user_id), str(expiry), user.password_hash):
        return None
    return user


def queue_invite(session: Session, settings: Settings, user: User) -> str:
    """Queue the set-password e-mail to `user.email` in their language; returns the link."""
    assert user.email
    link = invite_link(settings, user)
    strings = ui(user.locale)
    role = strings[f"role_{user.role}"]
    subject = strings["invite_subject"].format(company=settings.brand.company)
    email = render_notice(
        settings,
        "staff/invite",
        {
            "greeting": strings["invite_greeting"].format(name=user.username),
            "message": strings["invite_text"].format(role=role, hours=LINK_HOURS),
            "link": link,
            "button": strings["invite_button"],
        },
        to=user.email,
        to_name=user.username,
        subject=subject,
        locale=user.locale,
    )
    enqueue_notification(
        session,
        kind="staff.invite",
        dedupe_key=f"invite:{link.rsplit('/', 1)[1]}",
        recipient=user.email,
        message_id=email.message_id,
        eml=email.eml,
    )
    return link

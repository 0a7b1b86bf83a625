"""Which Telegram chat belongs to which contact: one chat per contact and one contact per
chat (a later link moves it). Set by an event's `contact.telegram_chat_id` or by pressing
Start on the survey's deep link (mailflow.telegram.updates)."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.clock import utcnow
from storage.models import TelegramChat


def link_chat(session: Session, contact_id: int, chat_id: int) -> TelegramChat:
    """Link `chat_id` to a contact, replacing an older link of either."""
    found = session.exec(
        select(TelegramChat).where(
            (TelegramChat.chat_id == chat_id) | (TelegramChat.contact_id == contact_id)
        )
    ).all()
    for old in found:
        if old.chat_id == chat_id and old.contact_id == contact_id:
            return old
        session.delete(old)
    session.flush()
    chat = TelegramChat(chat_id=chat_id, contact_id=contact_id, updated_at=utcnow())
    session.add(chat)
    session.flush()
    return chat

"""Inbound fixtures: the example configuration on a real database, requests with real tokens,
and .eml templates whose placeholders become those tokens and Message-IDs."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailflow.database import open_engine
from mailflow.settings import Settings, load_settings
from mailflow.tokens import Purpose, signer_for
from storage.clock import utcnow
from storage.models import Contact, Employee, SurveyRequest, Task
from tests.foundation.conftest import example_config

FIXTURES = Path(__file__).parent / "fixtures"
_serial = itertools.count(1)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "mailflow.toml"
    path.write_text(example_config(), encoding="utf-8")
    return path


@pytest.fixture
def inbound_settings(config_file: Path, sqlite_url: str) -> Settings:
    """The example configuration on a SQLite file."""
    return load_settings(config_file).model_copy(update={"database_url": sqlite_url})


@pytest.fixture
def engine(inbound_settings: Settings):
    engine = open_engine(inbound_settings, auto_upgrade=True)
    yield engine
    engine.dispose()


@pytest.fixture
def any_db_settings(config_file: Path, db_url: str) -> Settings:
    """The example configuration on SQLite and on PostgreSQL."""
    return load_settings(config_file).model_copy(update={"database_url": db_url})


@pytest.fixture
def any_engine(any_db_settings: Settings):
    engine = open_engine(any_db_settings, auto_upgrade=True)
    yield engine
    engine.dispose()


@dataclass
class Sent:
    """A survey request in state `sent`, with the tokens and Message-ID its email carried."""

    request_id: int
    contact_id: int
    ticket_id: int
    email: str
    message_id: str
    reply_token: str
    link_token: str
    unsubscribe_token: str

    def fill(self, template: str, **extra: str) -> bytes:
        """An .eml template with {REPLY_TOKEN}, {LINK_TOKEN}, {MESSAGE_ID}… filled in."""
        values = {
            "REPLY_TOKEN": self.reply_token,
            "LINK_TOKEN": self.link_token,
            "UNSUBSCRIBE_TOKEN": self.unsubscribe_token,
            "MESSAGE_ID": self.message_id,
            "CLIENT": self.email,
            "UNIQUE": f"{self.request_id}.{next(_serial)}",
            **extra,
        }
        text = template
        for key, value in values.items():
            text = text.replace("{" + key + "}", value)
        return text.replace("\n", "\r\n").encode("utf-8")


def eml(name: str) -> str:
    """One of tests/inbound/fixtures/*.eml, as a template."""
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture
def make_sent(engine, inbound_settings: Settings):
    """Factory: a contact, a ticket and a sent request for a survey key."""
    return sent_factory(engine, inbound_settings)


def sent_factory(engine, settings: Settings):
    signer = signer_for(settings)

    def make(
        survey_key: str = "csat",
        *,
        email: str | None = None,
        state: str = "sent",
        expires_in_days: float = 7,
        sent_minutes_ago: float = 5,
    ) -> Sent:
        serial = next(_serial)
        address = email or f"client{serial}@example.com"
        with Session(engine, expire_on_commit=False) as session:
            contact = session.exec(select(Contact).where(Contact.email == address)).first()
            if contact is None:
                contact = Contact(email=address, name="Anna Kowalska", locale="en")
                session.add(contact)
            employee = Employee(name="Piotr Nowak", email=f"agent{serial}@example.com")
            session.add(employee)
            session.flush()
            ticket = Task(
                kind="ticket",
                title="Printer in room 4",
                external_ref=f"T-{serial}",
                contact_id=contact.id,
                employee_id=employee.id,
            )
            session.add(ticket)
            session.flush()
            sent_at = utcnow() - timedelta(minutes=sent_minutes_ago)
            message_id = f"<survey-{serial}@{settings.msgid_domain}>"
            request = SurveyRequest(
                survey_key=survey_key,
                dedupe_key=f"{survey_key}:{ticket.id}:{serial}",
                contact_id=contact.id,
                ticket_id=ticket.id,
                employee_id=employee.id,
                state=state,
                sent_at=sent_at,
                expires_at=sent_at + timedelta(days=expires_in_days),
                message_id=message_id,
            )
            session.add(request)
            session.commit()
            assert request.id and contact.id and ticket.id
            return Sent(
                request_id=request.id,
                contact_id=contact.id,
                ticket_id=ticket.id,
                email=address,
                message_id=message_id,
                reply_token=signer.sign(request.id, Purpose.REPLY),
                link_token=signer.sign(request.id, Purpose.LINK),
                unsubscribe_token=signer.sign(request.id, Purpose.UNSUBSCRIBE),
            )

    return make


@pytest.fixture
def make_sent_any(any_engine, any_db_settings: Settings):
    """Like make_sent, on SQLite and on PostgreSQL."""
    return sent_factory(any_engine, any_db_settings)

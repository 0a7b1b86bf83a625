"""Storage on SQLite and PostgreSQL: migrations match models; repeats fail by constraint."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from storage.engine import make_engine, session_scope
from storage.migrate import current_revision, head_revision
from storage.models import Contact, InboundMessage, SurveyRequest


@pytest.fixture
def engine(migrated_engine):
    return migrated_engine


def test_migrations_match_the_models(engine):
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def test_report_indexes_exist(engine):
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("surveyrequest")}
    assert {"ix_request_due", "ix_request_contact_sent"} <= indexes


def test_duplicate_inbound_bytes_are_refused_by_constraint(engine):
    with session_scope(engine) as session:
        session.add(InboundMessage(message_id="<a@x>", sha256="1" * 64, raw=b"x", via="smtp"))
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(InboundMessage(message_id="<b@x>", sha256="1" * 64, raw=b"x", via="imap"))
    # another message with a known Message-ID is its own message (identity is the content)
    with session_scope(engine) as session:
        session.add(InboundMessage(message_id="<a@x>", sha256="2" * 64, raw=b"y", via="smtp"))
    with Session(engine) as session:
        assert len(session.exec(select(InboundMessage)).all()) == 2


def test_one_request_per_resolution_and_foreign_keys(engine):
    with session_scope(engine) as session:
        contact = Contact(email="anna@example.com")
        session.add(contact)
        session.flush()
        session.add(SurveyRequest(survey_key="csat", dedupe_key="csat:t1:1", contact_id=contact.id))
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(SurveyRequest(survey_key="csat", dedupe_key="csat:t1:1", contact_id=1))
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(SurveyRequest(survey_key="csat", dedupe_key="csat:t2:1", contact_id=999))


def test_sqlite_runs_in_wal(sqlite_url):
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()

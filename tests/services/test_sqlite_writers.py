"""SQLite, the embedded default, under concurrent writers: 16 rating POSTs at once against the
real app while the worker files the escalations they open. Every transaction begins as a
writer (storage.engine), so nothing fails with "database is locked" and every negative answer
is filed within a second of the last click."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, select

from mailflow.escalation import filing
from mailflow.settings import load_settings
from mailflow.tokens import Purpose, signer_for
from mailflow.web.app import create_app
from mailflow.web.csrf import form_field
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import Escalation
from tests.escalation.conftest import escalation_config, make_request
from tests.outbound.served import served

CLIENTS = 16
PER_CLIENT = 8  # each client answers this many surveys, one after the other


def text_of(record: logging.LogRecord) -> str:
    """A log record's message with its traceback, if any."""
    trace = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
    return record.getMessage() + trace


@pytest.fixture
def site(tmp_path: Path):
    path = tmp_path / "mailflow.toml"
    path.write_text(escalation_config(), encoding="utf-8")
    settings = load_settings(path)
    settings = settings.model_copy(
        update={
            "database_url": f"sqlite:///{tmp_path / 'mailflow.db'}",
            # all clients post from 127.0.0.1; the per-address limit is not what is tested
            "web": settings.web.model_copy(update={"rate_limit_per_minute": 100_000}),
        }
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    yield settings, engine
    engine.dispose()


def test_sixteen_concurrent_rating_posts_file_every_escalation_without_lock_errors(site, caplog):
    settings, engine = site
    caplog.set_level(logging.WARNING)
    signer = signer_for(settings)
    tokens = [
        signer.sign(make_request(engine, "csat", tag=str(n)).request_id, Purpose.LINK)
        for n in range(CLIENTS * PER_CLIENT)
    ]
    replies: list[int] = []
    errors: list[BaseException] = []
    posting = threading.Barrier(CLIENTS + 1)
    done = threading.Event()

    def file_escalations() -> None:  # the worker's filing drainer, pass after pass
        while not done.is_set():
            try:
                filing.drain(settings, engine, limit=50)
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)
            done.wait(0.005)

    with served(create_app(settings, engine)) as base:

        def click(mine: list[str]) -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                posting.wait()
                for token in mine:
                    data = {"csrf": form_field(settings, token, "link"), "a": "1"}
                    replies.append(client.post(f"/r/{token}", data=data).status_code)

        clients = [
            threading.Thread(target=click, args=(tokens[n::CLIENTS],)) for n in range(CLIENTS)
        ]
        worker = threading.Thread(target=file_escalations)
        worker.start()
        for thread in clients:
            thread.start()
        posting.wait()  # all 16 clients post at once
        for thread in clients:
            thread.join(60)
        last_click = time.monotonic()
        filed_after = None
        while time.monotonic() - last_click < 10:
            with session_scope(engine) as session:
                filed = session.exec(
                    select(Escalation).where(col(Escalation.subtask_id).is_not(None))
                ).all()
            if len(filed) == len(tokens):
                filed_after = time.monotonic() - last_click
                break
            done.wait(0.01)
        done.set()
        worker.join(30)

    locked = [r for r in caplog.records if "database is locked" in text_of(r)]
    print(f"{len(tokens)} answers, {len(locked)} lock errors, all filed after {filed_after} s")
    assert errors == [] and locked == [], f"{len(locked)} lock errors, {errors[:1]}"
    assert sorted(replies) == [200] * len(tokens)
    assert filed_after is not None and filed_after < 1.0, filed_after

"""The console's lists on PostgreSQL: the SQL of the views (overdue per survey), searches
(inside raw inbound bytes too), sorting and counting run there as on SQLite."""

from __future__ import annotations

from contextlib import closing
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session

from mailflow.database import open_engine
from mailflow.inbound.store import store_raw
from mailflow.inbound.worker import run_until_empty
from mailflow.settings import load_settings
from storage.clock import utcnow
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Escalation
from tests.console.test_escalations import _negative
from tests.console.test_inbound_pages import _mail
from tests.escalation.conftest import escalation_config
from tests.escalation.webapp import serving, signed_in
from tests.support.policy import free_port


def test_every_list_filters_sorts_and_counts_on_postgresql(
    tmp_path: Path, monkeypatch, pg_schema_url
):
    url_of_schema = pg_schema_url()
    migrated = make_engine(url_of_schema)
    upgrade(migrated)
    migrated.dispose()
    monkeypatch.setenv("MAILFLOW_DATABASE_URL", url_of_schema)
    monkeypatch.setenv("MAILFLOW_WEB__BASE_URL", f"http://127.0.0.1:{free_port()}")
    path = tmp_path / "mailflow.toml"
    path.write_text(escalation_config(), encoding="utf-8")
    settings = load_settings(path)
    engine = open_engine(settings)
    try:
        late = _negative(settings, engine, "late", "Still waiting")
        _negative(settings, engine, "fresh", "Meh")
        with Session(engine) as session:
            session.execute(
                update(Escalation)
                .where(Escalation.id == late)
                .values(created_at=utcnow() - timedelta(hours=30))
            )
            session.commit()
        store_raw(engine, _mail("who@else.example", "Printer again", "hi", tag="p"), via="smtp")
        run_until_empty(settings, engine)
        with serving(settings, engine) as url, closing(signed_in(engine, url)) as client:
            overdue = client.get("/admin/escalations?view=overdue&sort=client").text
            assert f'id="escalation-{late}" class="overdue"' in overdue and "1–1 of 1" in overdue
            mine = client.get("/admin/escalations?view=mine").text
            assert "No escalations here." in mine
            found = client.get("/admin/inbound?view=all&q=printer+again").text
            assert "1–1 of 1" in found and "who@else.example" in found
            requests = client.get("/admin/requests?state=answered&sort=-contact&q=client").text
            assert "1–2 of 2" in requests
            contacts = client.get("/admin/contacts?q=client-late&sort=-created").text
            assert "1–1 of 1" in contacts and "client-late@example.com" in contacts
            export = client.get("/admin/contacts/export.csv?q=client")
            assert export.text.count("@example.com") == 2
    finally:
        engine.dispose()

"""A survey goes out with a VERP envelope sender, its bounce comes back there and stops further
surveys, and `mailflow contacts show` / `unbounce` let staff see and undo it."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select
from typer.testing import CliRunner

from mailflow.cli.app import app
from mailflow.inbound.store import store_raw
from mailflow.inbound.worker import run_until_empty as process_inbound
from mailflow.service import run_until_empty
from storage.engine import session_scope
from storage.models import Contact, InboundMessage, SurveyRequest

from .conftest import ticket_event, with_outbound

BOUNCES = Path(__file__).resolve().parents[1] / "fixtures" / "bounces"


def cli(config_file: Path, *args: str):
    return CliRunner().invoke(app, ["--config", str(config_file), "contacts", *args])


def test_bounce_to_the_envelope_sender_then_show_and_unbounce(
    post, engine, config_file, settings, memory, monkeypatch
):
    monkeypatch.setenv("MAILFLOW_DATABASE_URL", settings.database_url)
    uncapped = with_outbound(settings, cap_days=0)
    post(ticket_event(ticket="1", email="nobody@client.example"), config=uncapped)
    run_until_empty(uncapped, engine, transport=memory)
    [(envelope_sender, recipients, _raw)] = memory.sent
    assert envelope_sender.startswith("bounce+") and recipients == ["nobody@client.example"]

    # The receiving server refuses it later and reports to the envelope sender (Return-Path);
    # the report quotes a Message-ID that is not ours, so only the address binds it.
    report = (BOUNCES / "postfix_5_1_1.eml").read_bytes()
    stored = store_raw(engine, report, via="smtp", envelope_to=[envelope_sender])
    process_inbound(settings, engine)
    with session_scope(engine) as session:
        row = session.get(InboundMessage, stored.id)
        request = session.exec(select(SurveyRequest)).one()
        assert (row.status, row.request_id) == ("parsed", request.id)
        assert request.state == "bounced"

    shown = cli(config_file, "show", "nobody@client.example")
    assert shown.exit_code == 0, shown.output
    assert "bounced:" in shown.output and "yes" in shown.output and "5.1.1" in shown.output
    assert "unsubscribed: no" in shown.output and "requests:     1" in shown.output
    assert "locale:       en" in shown.output
    refused = post(ticket_event(ticket="2", email="nobody@client.example"), config=uncapped)
    assert refused.created == [] and refused.suppressed[0][1].startswith("address bounced")

    cleared = cli(config_file, "unbounce", "NOBODY@client.example")
    assert cleared.exit_code == 0, cleared.output
    assert "bounce cleared" in cleared.output
    with session_scope(engine) as session:
        contact = session.exec(select(Contact)).one()
        assert (contact.bounced_at, contact.bounce_reason) == (None, None)
    assert "bounced:      no" in cli(config_file, "show", "nobody@client.example").output
    again = cli(config_file, "unbounce", "nobody@client.example")
    assert again.exit_code == 0 and "had no bounce" in again.output

    accepted = post(ticket_event(ticket="3", email="nobody@client.example"), config=uncapped)
    assert len(accepted.created) == 1
    run_until_empty(uncapped, engine, transport=memory)
    assert [r for _, r, _ in memory.sent] == [["nobody@client.example"]] * 2


def test_show_and_unbounce_an_unknown_contact_say_so(engine, config_file, settings, monkeypatch):
    monkeypatch.setenv("MAILFLOW_DATABASE_URL", settings.database_url)
    for command in ("show", "unbounce"):
        result = cli(config_file, command, "nobody@nowhere.example")
        assert result.exit_code != 0
        assert "no contact 'nobody@nowhere.example'" in result.output

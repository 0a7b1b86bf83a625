"""What staff see and do: unverified senders and unmatched mail listed with sender and
subject, and one command that accepts a quarantined answer."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import InboundMessage, Response
from tests.inbound.conftest import eml
from tests.inbound.test_cli import mailflow


def test_quarantined_and_unmatched_are_listed_and_staff_accept_one(config_file, engine, make_sent):
    sent = make_sent("csat", email="anna@example.com")
    cwd = config_file.parent
    unverified = cwd / "unverified.eml"
    unverified.write_bytes(sent.fill(eml("reply_sender_only_gmail_csat_2.eml")))
    stranger = cwd / "stranger.eml"
    stranger.write_bytes(sent.fill(eml("reply_no_token_unknown_sender.eml")))

    done = mailflow("ingest", str(unverified), str(stranger), cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert "quarantined" in done.stdout and "unverified_sender" in done.stdout
    with Session(engine) as session:
        rows = {r.status: r for r in session.exec(select(InboundMessage)).all()}
    quarantined_id = rows["quarantined"].id

    quarantined = mailflow("inbound", "--status", "quarantined", cwd=cwd)
    assert quarantined.returncode == 0, quarantined.stderr
    [line] = [
        x for x in quarantined.stdout.splitlines() if x.strip().startswith(str(quarantined_id))
    ]
    assert "anna@example.com | rating | unverified_sender" in line
    unmatched = mailflow("inbound", "--status", "unmatched", cwd=cwd)
    assert unmatched.returncode == 0, unmatched.stderr
    assert "stranger@example.org | hello | no_request_token" in unmatched.stdout
    assert "unverified_sender" not in unmatched.stdout

    accepted = mailflow("inbound", "accept", str(quarantined_id), cwd=cwd)
    assert accepted.returncode == 0, accepted.stderr
    assert f"parsed request {sent.request_id}" in accepted.stdout
    with Session(engine) as session:
        [response] = session.exec(select(Response)).all()
    assert response.score == 2 and response.weak_match

    again = mailflow("inbound", "accept", str(quarantined_id), cwd=cwd)
    assert again.returncode == 2 and "only unverified_sender or unmatched" in again.stderr

"""The README tour, as a new user runs it: init, one event, the worker, a mail in ./outbox/new."""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EVENT = {
    "type": "ticket.closed",
    "ticket": {"id": "1042", "title": "Printer in room 4 does not print", "status": "Closed"},
    "contact": {"email": "anna.smith@example.com", "name": "Anna Smith", "locale": "en"},
    "employee": {"name": "Bob Agent", "email": "bob@example.com"},
}


def mailflow(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILFLOW_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "mailflow", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_init_event_worker_leaves_a_survey_in_the_maildir(tmp_path):
    assert mailflow(tmp_path, "init").returncode == 0
    (tmp_path / "ticket.json").write_text(json.dumps(EVENT), encoding="utf-8")
    posted = mailflow(tmp_path, "event", "--json", "ticket.json")
    assert posted.returncode == 0, posted.stderr
    assert len(json.loads(posted.stdout)["created"]) == 1
    worked = mailflow(tmp_path, "worker", "--until-empty")
    assert worked.returncode == 0, worked.stderr
    (path,) = (tmp_path / "outbox" / "new").iterdir()
    message = email.message_from_bytes(path.read_bytes())
    assert message["To"] == "Anna Smith <anna.smith@example.com>"
    assert message["X-Mailflow-Survey"] == "csat"


def test_a_bad_event_on_stdin_exits_2_naming_the_field(tmp_path):
    assert mailflow(tmp_path, "init").returncode == 0
    bad = dict(EVENT, contact={"name": "No Address"})
    done = mailflow(tmp_path, "event", "--json", "-", stdin=json.dumps(bad))
    assert done.returncode == 2
    assert "contact.email" in done.stderr and "Traceback" not in done.stderr
    broken = mailflow(tmp_path, "event", "--json", "-", stdin="{not json")
    assert broken.returncode == 2 and "JSON" in broken.stderr


def test_an_event_import_with_a_bad_address_names_the_row_and_the_others_go_in(tmp_path):
    """`mailflow event --json FILE` with a list imports each event on its own: a malformed
    address is refused naming its row and field, and every other row is applied."""
    assert mailflow(tmp_path, "init").returncode == 0
    rows = [
        dict(EVENT, ticket={"id": "1", "title": "One", "status": "Closed"}),
        dict(
            EVENT,
            ticket={"id": "2", "title": "Two", "status": "Closed"},
            contact={"email": "anna@@example.com"},
        ),
        dict(
            EVENT,
            ticket={"id": "3", "title": "Three", "status": "Closed"},
            contact={"email": "Иван@Почта.рф", "name": "Иван"},
            employee={"name": "Bob Agent", "email": "bob at example.com"},
        ),
        dict(
            EVENT,
            ticket={"id": "4", "title": "Four", "status": "Closed"},
            contact={"email": "Ivan@Example.org", "name": "Ivan"},
        ),
    ]
    (tmp_path / "tickets.json").write_text(json.dumps(rows), encoding="utf-8")
    done = mailflow(tmp_path, "event", "--json", "tickets.json")
    assert done.returncode == 1
    applied = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a["row"] for a in applied] == [1, 4]
    assert all(len(a["created"]) == 1 for a in applied)
    errors = done.stderr.strip().splitlines()
    assert errors[0].startswith("mailflow: row 2: bad event: contact.email: not a valid email")
    assert errors[1].startswith("mailflow: row 3: bad event: employee.email: not a valid email")
    assert "2 of 4 events refused" in errors[2] and "Traceback" not in done.stderr
    worked = mailflow(tmp_path, "worker", "--until-empty")
    assert worked.returncode == 0, worked.stderr
    sent = sorted(
        email.message_from_bytes(p.read_bytes())["To"]
        for p in (tmp_path / "outbox" / "new").iterdir()
    )
    assert sent == ["Anna Smith <anna.smith@example.com>", "Ivan <ivan@example.org>"]

"""Staff and roles: one top bar on every admin page, the language kept, invites by e-mail,
and an agent who sees only their own results (pages and API)."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlmodel import select
from typer.testing import CliRunner

from mailflow.auth import authenticate, create_user
from mailflow.cli.app import app as cli
from mailflow.web.navigation import NAVIGATION, allowed, roles_for
from storage.clock import utcnow
from storage.engine import session_scope
from storage.models import Employee, Notification, Response, SurveyRequest, Task, User

from .conftest import make_site

PASSWORD = "correct horse battery"


def sign_in(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    page = client.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/admin/login", data={"csrf": csrf, "username": username, "password": password}
    )


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


@pytest.fixture
def team(site):
    """Two agents' employees with one rated ticket each, and an admin, manager, two agents."""
    ids = {}
    made = {
        name: site.request("csat", email=f"client-of-{name.lower()}@example.com")
        for name in ("Olga", "Piotr")
    }
    with session_scope(site.engine) as session:
        for name, comment in (("Olga", "Olga was quick"), ("Piotr", "Piotr forgot me")):
            employee = Employee(name=name, email=f"{name.lower()}@example.com")
            session.add(employee)
            session.flush()
            ids[name] = employee.id
            request = session.get(SurveyRequest, made[name])
            request.employee_id = employee.id
            ticket = session.get(Task, request.ticket_id)
            ticket.employee_id = employee.id
            ticket.title = f"Ticket of {name}"
            ids[f"ticket-{name}"] = ticket.id
            session.add(
                Response(
                    request_id=request.id,
                    survey_key="csat",
                    score=1 if name == "Piotr" else 5,
                    answers={"score": 1 if name == "Piotr" else 5},
                    comment=comment,
                    source="link",
                    negative=name == "Piotr",
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
            )
        create_user(session, "root", PASSWORD)
        create_user(session, "mona", PASSWORD, "pl", role="manager")
        create_user(session, "olga", PASSWORD, "ru", role="agent", employee_id=ids["Olga"])
        create_user(session, "piotr", PASSWORD, role="agent", employee_id=ids["Piotr"])
    return ids


def test_the_navigation_table_guards_paths_below_its_entries():
    assert roles_for("/admin/users/7/delete") == ("admin",)
    assert allowed("agent", "/admin") and allowed("agent", "/admin/dashboard/tickets")
    assert not allowed("agent", "/admin/dashboard/quarantine")
    assert not allowed("agent", "/admin/usersx") and not allowed("manager", "/admin/users")
    assert allowed("manager", "/admin/surveys/csat") and not allowed("agent", "/admin/surveys")
    assert allowed("agent", "/admin/account") and roles_for("/admin/unknown") == (
        "admin",
        "manager",
    )


def test_sign_in_lands_on_admin_and_every_page_has_the_same_bar(client, team):
    reply = sign_in(client, "root")
    assert reply.status_code == 303 and reply.headers["location"] == "/admin"
    bars = set()
    for path in (
        "/admin",
        "/admin/dashboard",
        "/admin/escalations",
        "/admin/users",
        "/admin/account",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        bar = re.search(r'<nav class="main-nav".*?</nav>', page.text, re.S).group(0)
        bars.add(re.sub(r' class="on" aria-current="page"', "", bar))
        assert page.text.count('<nav class="main-nav"') == 1
        assert re.search(rf'<a href="{re.escape(path)}" class="on"', page.text) or path in (
            "/admin/account",
        ), path
    assert len(bars) == 1  # one navigation, the same on every page
    assert all(f'href="{entry.path}"' in bars.pop() for entry in NAVIGATION[:1])


def test_the_chosen_language_is_kept_across_pages_and_sessions(client, site, team):
    sign_in(client, "root")
    page = client.get("/admin/dashboard")
    reply = client.post(
        "/admin/locale", data={"csrf": csrf_of(page), "locale": "pl", "next": "/admin/dashboard"}
    )
    assert reply.status_code == 303 and reply.headers["location"] == "/admin/dashboard"
    for path in ("/admin", "/admin/users", "/admin/escalations", "/admin/account"):
        page = client.get(path)
        assert '<html lang="pl">' in page.text and "Zespół" in page.text, path
        assert "Wyloguj się" in page.text
    with session_scope(site.engine) as session:
        assert session.exec(select(User).where(User.username == "root")).one().locale == "pl"
    forged = client.post("/admin/locale", data={"locale": "ru", "next": "/admin"})
    assert forged.status_code == 403


def test_an_agent_sees_only_their_own_results(client, site, team):
    sign_in(client, "olga")
    home = client.get("/admin")
    assert "Olga was quick" in home.text and "Piotr forgot me" not in home.text
    assert '<html lang="ru">' in home.text
    # the bar shows what the role opens, nothing more
    assert 'href="/admin/users"' not in home.text and 'href="/admin/dashboard"' in home.text
    tickets = client.get("/admin/dashboard/tickets")
    assert tickets.status_code == 200
    assert "Ticket of Olga" in tickets.text or "Olga was quick" in tickets.text
    assert "Piotr forgot me" not in tickets.text and "Ticket of Piotr" not in tickets.text
    # asking for the other agent in the query does not widen the view
    other = client.get(f"/admin/dashboard/tickets?employee={team['Piotr']}")
    assert "Piotr forgot me" not in other.text
    csv = client.get(f"/admin/dashboard/export.csv?employee={team['Piotr']}")
    assert csv.status_code == 200 and "Piotr forgot me" not in csv.text
    assert "Olga was quick" in csv.text
    own = client.get(f"/admin/dashboard/tickets/{team['ticket-Olga']}")
    assert own.status_code == 200
    assert client.get(f"/admin/dashboard/tickets/{team['ticket-Piotr']}").status_code == 404
    for path in (
        "/admin/users",
        "/admin/escalations",
        "/admin/dashboard/quarantine",
        "/admin/dashboard/requests",
    ):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert "Недоступно для вашей роли" in refused.text
    # the API takes scoped keys only: a staff cookie opens nothing there
    assert client.get("/api/reports/tickets").status_code == 401


def test_a_manager_sees_every_result_but_not_staff(client, team):
    sign_in(client, "mona")
    home = client.get("/admin")
    assert "Olga was quick" in home.text and "Piotr forgot me" in home.text
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/escalations").status_code == 200
    page = client.get("/admin")
    reply = client.post("/admin/users/invite", data={"csrf": csrf_of(page), "username": "x"})
    assert reply.status_code == 403


def test_invite_by_mail_sets_a_password_once(client, site, team):
    sign_in(client, "root")
    page = client.get("/admin/users")
    bad = client.post(
        "/admin/users/invite",
        data={
            "csrf": csrf_of(page),
            "username": "new agent!",
            "email": "nope",
            "role": "agent",
            "employee": "",
            "locale": "pl",
        },
    )
    assert bad.status_code == 400
    assert 'id="err-username"' in bad.text and 'id="err-email"' in bad.text
    assert 'id="err-employee"' in bad.text and 'value="nope"' in bad.text  # nothing lost
    reply = client.post(
        "/admin/users/invite",
        data={
            "csrf": csrf_of(page),
            "username": "anna",
            "email": "anna@example.com",
            "role": "agent",
            "employee": str(team["Olga"]),
            "locale": "pl",
        },
    )
    assert reply.status_code == 200 and "anna@example.com" in reply.text
    with session_scope(site.engine) as session:
        [mail] = session.exec(select(Notification).where(Notification.kind == "staff.invite"))
        eml = mail.payload["eml"]
        assert mail.recipient == "anna@example.com"
        assert authenticate(session, "anna", "") is None
    link = re.search(r"(http://127\.0\.0\.1:\d+/admin/password/[0-9a-f.]+)", eml.replace("=\n", ""))
    assert link, eml[:2000]
    path = link.group(1).split(":", 2)[2].split("/", 1)[1]
    fresh = httpx.Client(base_url=str(client.base_url), timeout=10)
    form = fresh.get("/" + path)
    assert form.status_code == 200 and '<html lang="pl">' in form.text
    mismatch = fresh.post(
        "/" + path,
        data={"csrf": csrf_of(form), "password": "anna long pass 1", "again": "anna long pass 2"},
    )
    assert mismatch.status_code == 400 and "Hasła się różnią" in mismatch.text
    done = fresh.post(
        "/" + path,
        data={"csrf": csrf_of(form), "password": "anna long pass 1", "again": "anna long pass 1"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/admin"
    home = fresh.get("/admin")
    assert home.status_code == 200 and "Olga was quick" in home.text
    assert "Piotr forgot me" not in home.text  # an agent linked to Olga
    assert fresh.get("/" + path).status_code == 404  # the link works once
    fresh.close()


def test_disable_reset_and_delete_end_the_users_sessions(client, site, team):
    other = httpx.Client(base_url=str(client.base_url), timeout=10)
    sign_in(other, "piotr")
    assert other.get("/admin").status_code == 200
    sign_in(client, "root")
    with session_scope(site.engine) as session:
        piotr = session.exec(select(User).where(User.username == "piotr")).one().id
        root = session.exec(select(User).where(User.username == "root")).one().id
    page = client.get("/admin/users")
    assert (
        client.post(f"/admin/users/{piotr}/disable", data={"csrf": csrf_of(page)}).status_code
        == 200
    )
    assert other.get("/admin").status_code == 303  # signed out
    with session_scope(site.engine) as session:
        assert authenticate(session, "piotr", PASSWORD) is None  # disabled: no sign-in
    client.post(f"/admin/users/{piotr}/enable", data={"csrf": csrf_of(page)})
    assert sign_in(other, "piotr").status_code == 303
    reset = client.post(f"/admin/users/{piotr}/reset", data={"csrf": csrf_of(page)})
    assert reset.status_code == 200 and "/admin/password/" in reset.text
    assert other.get("/admin").status_code == 303
    with session_scope(site.engine) as session:
        assert authenticate(session, "piotr", PASSWORD) is None  # the old password is gone
    self_delete = client.post(f"/admin/users/{root}/delete", data={"csrf": csrf_of(page)})
    assert self_delete.status_code == 400
    client.post(f"/admin/users/{piotr}/delete", data={"csrf": csrf_of(page)})
    with session_scope(site.engine) as session:
        assert session.exec(select(User).where(User.username == "piotr")).first() is None
    assert (
        client.post(f"/admin/users/{piotr}/delete", data={"csrf": csrf_of(page)}).status_code == 404
    )
    other.close()


def test_cli_user_create_takes_a_role(tmp_path, monkeypatch):
    site = make_site(tmp_path, monkeypatch)
    with session_scope(site.engine) as session:
        session.add(Employee(name="Olga", email="olga@example.com"))
    run = CliRunner()
    plain = run.invoke(
        cli, ["user", "create", "boss", "--password-stdin"], input="boss long pass\n"
    )
    assert plain.exit_code == 0, plain.output
    agent = run.invoke(
        cli,
        [
            "user",
            "create",
            "olga",
            "--role",
            "agent",
            "--employee",
            "olga@example.com",
            "--password-stdin",
        ],
        input="olga long pass\n",
    )
    assert agent.exit_code == 0, agent.output
    no_employee = run.invoke(
        cli,
        ["user", "create", "x", "--role", "agent", "--password-stdin"],
        input="xxxx long pass\n",
    )
    assert no_employee.exit_code == 2 and "--employee" in no_employee.output
    wrong = run.invoke(
        cli, ["user", "create", "y", "--role", "boss", "--password-stdin"], input="yyyy long pass\n"
    )
    assert wrong.exit_code == 2 and "--role" in wrong.output
    with session_scope(site.engine) as session:
        roles = {u.username: (u.role, u.employee_id) for u in session.exec(select(User))}
    assert roles["boss"] == ("admin", None) and roles["olga"][0] == "agent"
    assert roles["olga"][1] is not None
    listed = run.invoke(cli, ["user", "list"])
    assert "olga\tagent" in listed.output

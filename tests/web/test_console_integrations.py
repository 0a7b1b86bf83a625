"""/admin/integrations: API keys with scopes shown once and revoked; the webhook delivery log
with redeliver; admins only."""

from __future__ import annotations

import re

from sqlmodel import select

from mailflow.auth import create_user
from storage.engine import session_scope
from storage.models import ApiKey, WebhookDelivery

from .test_console_roles import PASSWORD, csrf_of, sign_in


def test_keys_are_shown_once_scoped_and_revocable(client, site):
    with session_scope(site.engine) as session:
        create_user(session, "root", PASSWORD)
        create_user(session, "mona", PASSWORD, role="manager")
        session.add(
            WebhookDelivery(
                dedupe_key="d1",
                url="http://127.0.0.1:9/hook",
                event="response.created",
                payload={},
                state="failed",
                attempts=8,
                last_error="connection refused",
            )
        )
    sign_in(client, "mona")
    assert client.get("/admin/integrations").status_code == 403
    client.cookies.clear()
    sign_in(client, "root")
    page = client.get("/admin/integrations")
    assert page.status_code == 200 and "connection refused" in page.text
    bad = client.post("/admin/integrations/keys", data={"csrf": csrf_of(page), "name": ""})
    assert bad.status_code == 400 and 'id="err-name"' in bad.text and 'id="err-scopes"' in bad.text
    made = client.post(
        "/admin/integrations/keys",
        data={"csrf": csrf_of(page), "name": "bi-tool", "scopes": ["reports:read"]},
    )
    key = re.search(r'id="new-key">(mf_[a-z0-9]{8}_[A-Za-z0-9_-]+)<', made.text).group(1)
    again = client.get("/admin/integrations")
    assert key not in again.text  # shown once
    api = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/reports/figures", headers=api).status_code == 200
    assert client.post("/api/events", headers=api, json={}).status_code == 403  # not its scope
    with session_scope(site.engine) as session:
        row = session.exec(select(ApiKey).where(ApiKey.name == "bi-tool")).one()
        delivery = session.exec(select(WebhookDelivery)).one()
    client.post(f"/admin/integrations/keys/{row.id}/revoke", data={"csrf": csrf_of(page)})
    assert client.get("/api/reports/figures", headers=api).status_code == 401
    client.post(
        f"/admin/integrations/deliveries/{delivery.id}/redeliver", data={"csrf": csrf_of(page)}
    )
    with session_scope(site.engine) as session:
        assert session.get(WebhookDelivery, delivery.id).state == "pending"

"""/admin/integrations (admins only): API keys (create with scopes, shown once, revoke), the
webhook delivery log (attempts, last status and error; redeliver), and the IMAP mailboxes
with their last poll. Webhook subscriptions and mailboxes are infrastructure and stay in
mailflow.toml; the page shows them (secrets and passwords never)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from mailflow.auth import SCOPES, AuthError, DuplicateName, create_api_key
from mailflow.i18n import t
from mailflow.web.auth import admin_page
from mailflow.web.context import web
from mailflow.web.errors import NotFound
from mailflow.web.guards import require_role, require_role_csrf
from mailflow.web.limits import DbId
from mailflow.webhooks import deliveries
from storage.clock import utcnow
from storage.models import ApiKey, ImapState, User, WebhookDelivery
from storage.states import WebhookState

router = APIRouter(include_in_schema=False)
admin_only = require_role("admin")
admin_post = require_role_csrf("admin")


async def _page(
    request: Request,
    user: User,
    *,
    new_key: str | None = None,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    ctx = web(request)

    def load(session: Session) -> dict[str, Any]:
        keys = list(session.exec(select(ApiKey).order_by(col(ApiKey.created_at).desc())))
        polls = {s.mailbox: s for s in session.exec(select(ImapState))}
        return {"keys": keys, "deliveries": deliveries(session, limit=50), "polls": polls}

    data = await ctx.run_db(load)
    return admin_page(
        request,
        user,
        "integrations.html",
        scopes=SCOPES,
        hooks=ctx.settings.webhooks,
        mailboxes=ctx.settings.inbound.imap,
        new_key=new_key,
        notice=notice,
        errors=errors or {},
        values=values or {"scopes": ["events:write"]},
        status_code=status,
        **data,
    )


@router.get("/admin/integrations", response_class=HTMLResponse)
async def integrations(request: Request, user: User = Depends(admin_only)) -> HTMLResponse:
    return await _page(request, user)


@router.post("/admin/integrations/keys", response_class=HTMLResponse)
async def create_key(request: Request, user: User = Depends(admin_post)) -> HTMLResponse:
    """A new key with the chosen scopes; the key is on this page once and never again."""
    form = await request.form()
    name = str(form.get("name") or "").strip()
    scopes = [s for s in form.getlist("scopes") if isinstance(s, str)]
    values = {"name": name, "scopes": scopes}
    errors: dict[str, str] = {}
    if not name or len(name) > 100:
        errors["name"] = t(user.locale, "integr_err_name")
    if not scopes or any(s not in SCOPES for s in scopes):
        errors["scopes"] = t(user.locale, "integr_err_scopes")
    if errors:
        return await _page(request, user, errors=errors, values=values, status=400)
    try:
        key = await web(request).run_db(lambda s: create_api_key(s, name, scopes))
    except DuplicateName:
        errors["name"] = t(user.locale, "integr_err_taken")
        return await _page(request, user, errors=errors, values=values, status=400)
    except AuthError as exc:
        errors["scopes"] = str(exc)
        return await _page(request, user, errors=errors, values=values, status=400)
    return await _page(request, user, new_key=key, notice=t(user.locale, "integr_key_created"))


@router.post("/admin/integrations/keys/{key_id}/revoke", response_class=HTMLResponse)
async def revoke_key(key_id: DbId, request: Request, user: User = Depends(admin_post)):
    def work(session: Session) -> str:
        row = session.get(ApiKey, key_id)
        if row is None:
            raise NotFound(user.locale)
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            session.add(row)
        return row.name

    name = await web(request).run_db(work)
    return await _page(request, user, notice=t(user.locale, "integr_key_revoked", name=name))


@router.post("/admin/integrations/deliveries/{delivery_id}/redeliver", response_class=HTMLResponse)
async def redeliver(delivery_id: DbId, request: Request, user: User = Depends(admin_post)):
    """Queue a delivery again (the worker sends it on its next pass, signed afresh)."""

    def work(session: Session) -> None:
        row = session.get(WebhookDelivery, delivery_id)
        if row is None:
            raise NotFound(user.locale)
        row.state = WebhookState.PENDING
        row.next_attempt_at = utcnow()
        row.lease_until = None
        row.attempts = 0
        session.add(row)

    await web(request).run_db(work)
    return await _page(request, user, notice=t(user.locale, "integr_redelivered", id=delivery_id))

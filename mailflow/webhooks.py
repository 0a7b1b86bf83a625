"""Webhooks out: an outbox of WebhookDelivery rows, sent by the worker with retries.

`emit()` writes one row per subscription that wants the event, inside the caller's
transaction, keyed so a repeat is a no-op (unique dedupe_key, INSERT … ON CONFLICT DO
NOTHING). `drain()` claims due rows with a lease, POSTs them with httpx and records the
outcome: 2xx delivered; 5xx, 408, 429, timeouts and connection errors retried with exponential
backoff; other 4xx, or `max_attempts` reached, failed with `last_error` kept for `mailflow
webhooks`.

Signature (documented in README): header `Mailflow-Signature: t=<unix seconds>,v1=<hex>`
where hex = HMAC-SHA256(secret, f"{t}.{body}") over the exact request body bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, or_, update
from sqlmodel import Session, select

from mailflow import answer_sql
from mailflow.settings import Settings, WebhookSettings
from storage.clock import utcnow
from storage.engine import session_scope
from storage.models import SurveyRequest, WebhookDelivery
from storage.states import WebhookState

log = logging.getLogger(__name__)

EVENTS = (
    "response.created",
    "response.negative",
    "escalation.created",
    "request.bounced",
    "escalation.updated",  # a console action: data.action names it (mailflow.escalation.workspace)
    "response.reasons",
)
SIGNATURE_HEADER = "Mailflow-Signature"
MAX_BACKOFF_SECONDS = 6 * 3600
LEASE_SECONDS = 120


class UnknownEvent(ValueError):
    """An event name that is not one of EVENTS."""


# --- signing -------------------------------------------------------------------------------------
def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The Mailflow-Signature header value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """Whether `header` signs `body` with `secret` within `tolerance` seconds (for receivers)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def body_of(delivery: WebhookDelivery) -> bytes:
    """The exact bytes POSTed for a delivery: its stored envelope as compact JSON."""
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


# --- emitting ------------------------------------------------------------------------------------
def emit_many(
    session: Session,
    settings: Settings,
    events: list[tuple[str, str, dict[str, Any]]],
    *,
    now: datetime | None = None,
) -> int:
    """Queue several (event, object key, data) at once: one INSERT … ON CONFLICT DO NOTHING
    for all subscriptions, so a repeat is a no-op without a savepoint. Rows planned."""
    now = now or utcnow()
    rows: list[dict[str, Any]] = []
    for event, key, data in events:
        if event not in EVENTS:
            raise UnknownEvent(f"unknown webhook event {event!r} (known: {', '.join(EVENTS)})")
        envelope = {
            "id": f"{event}:{key}",
            "event": event,
            "created_at": now.isoformat(),
            "data": data,
        }
        for hook in settings.webhooks:
            if event in hook.events:
                url_key = hashlib.sha256(hook.url.encode()).hexdigest()[:16]
                rows.append(
                    {
                        "dedupe_key": f"{event}:{key}:{url_key}",
                        "url": hook.url,
                        "event": event,
                        "payload": envelope,
                        "state": WebhookState.PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
    if rows:  # one prebuilt Core statement for all rows: no ORM bookkeeping per row
        session.connection().execute(answer_sql.for_session(session).insert_webhook, rows)
    return len(rows)


def emit(
    session: Session,
    settings: Settings,
    event: str,
    key: str,
    data: dict[str, Any],
    *,
    now: datetime | None = None,
) -> int:
    """Queue `event` about object `key` for every subscription that wants it; rows planned."""
    return emit_many(session, settings, [(event, key, data)], now=now)


def request_bounced(
    session: Session, settings: Settings, request: SurveyRequest, reason: str | None
) -> int:
    """Queue request.bounced for a survey request whose email bounced (called by inbound)."""
    data = {
        "request_id": request.id,
        "survey": request.survey_key,
        "contact_id": request.contact_id,
        "reason": reason,
    }
    return emit(session, settings, "request.bounced", str(request.id), data)


# --- sending -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """What one POST did: delivered, retry later, or give up."""

    status: int | None
    error: str | None
    retry: bool

    @property
    def delivered(self) -> bool:
        return self.error is None


def _post(client: httpx.Client, hook: WebhookSettings, delivery: WebhookDelivery) -> Outcome:
    body = body_of(delivery)
    timestamp = int(utcnow().timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Mailflow-Webhooks/1",
        "Mailflow-Event": delivery.event,
        "Mailflow-Delivery": str(delivery.id),
        SIGNATURE_HEADER: sign(hook.secret.get_secret_value(), body, timestamp),
    }
    try:
        reply = client.post(
            delivery.url, content=body, headers=headers, timeout=hook.timeout_seconds
        )
    except httpx.TimeoutException as exc:
        return Outcome(None, f"timeout: {exc.__class__.__name__}", True)
    except httpx.HTTPError as exc:
        return Outcome(None, f"{exc.__class__.__name__}: {exc}", True)
    if 200 <= reply.status_code < 300:
        return Outcome(reply.status_code, None, False)
    retry = reply.status_code >= 500 or reply.status_code in (408, 429)
    return Outcome(reply.status_code, f"HTTP {reply.status_code}: {reply.text[:200]}", retry)


def _attempt(client: httpx.Client, hook: WebhookSettings, delivery: WebhookDelivery) -> Outcome:
    """One POST; whatever goes wrong with this delivery alone (a URL httpx cannot use, a
    payload that is not JSON) fails it with the reason, and the drain goes on."""
    try:
        return _post(client, hook, delivery)
    except Exception as exc:  # poison: this row fails, not the worker
        log.exception("webhook %s: cannot be sent", delivery.id)
        return Outcome(None, f"cannot be sent: {exc.__class__.__name__}: {exc}"[:500], False)


def _claim(engine: Engine, now: datetime, limit: int) -> list[WebhookDelivery]:
    """Lease up to `limit` due rows in one statement, so two workers never send the same row."""
    due = (
        (WebhookDelivery.state == WebhookState.PENDING)
        & (WebhookDelivery.next_attempt_at <= now)
        & or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now)
    )
    ids = (
        select(WebhookDelivery.id)
        .where(due)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    lease = now + timedelta(seconds=LEASE_SECONDS)
    with session_scope(engine) as session:
        claimed = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids.scalar_subquery()), due)
            .values(lease_until=lease)
            .returning(WebhookDelivery.id)
        )
        claimed_ids = [row[0] for row in claimed]
        if not claimed_ids:
            return []
        return list(
            session.exec(select(WebhookDelivery).where(WebhookDelivery.id.in_(claimed_ids)))
        )


def _backoff(hook: WebhookSettings, attempts: int) -> timedelta:
    return timedelta(
        seconds=min(hook.retry_base_seconds * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS)
    )


def drain(
    settings: Settings,
    engine: Engine,
    *,
    limit: int = 100,
    now: datetime | None = None,
    client: httpx.Client | None = None,
) -> int:
    """Send the deliveries due at `now` (at most `limit`); returns how many were attempted."""
    now = now or utcnow()
    rows = _claim(engine, now, limit)
    if not rows:
        return 0
    hooks = {hook.url: hook for hook in settings.webhooks}
    own_client = client is None
    client = client or httpx.Client(follow_redirects=False)
    try:
        results = []
        for delivery in rows:
            hook = hooks.get(delivery.url)
            if hook is None:
                results.append((delivery, None, Outcome(None, "subscription removed", False)))
                continue
            results.append((delivery, hook, _attempt(client, hook, delivery)))
    finally:
        if own_client:
            client.close()
    with session_scope(engine) as session:
        for delivery, hook, outcome in results:
            _record(session, delivery, hook, outcome, now)
    return len(rows)


def _record(
    session: Session,
    delivery: WebhookDelivery,
    hook: WebhookSettings | None,
    outcome: Outcome,
    now: datetime,
) -> None:
    delivery.attempts += 1
    delivery.last_status = outcome.status
    delivery.lease_until = None
    if outcome.delivered:
        delivery.state, delivery.delivered_at, delivery.last_error = (
            WebhookState.DELIVERED,
            utcnow(),
            None,
        )
    elif outcome.retry and hook is not None and delivery.attempts < hook.max_attempts:
        delivery.last_error = outcome.error
        delivery.next_attempt_at = now + _backoff(hook, delivery.attempts)
    else:
        delivery.state, delivery.last_error = WebhookState.FAILED, outcome.error
        log.warning("webhook %s to %s failed: %s", delivery.event, delivery.url, outcome.error)
    session.add(delivery)


def deliveries(
    session: Session, *, state: str | None = None, limit: int = 50
) -> list[WebhookDelivery]:
    """The newest deliveries, optionally of one state (for `mailflow webhooks`)."""
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if state:
        query = query.where(WebhookDelivery.state == state)
    return list(session.exec(query))

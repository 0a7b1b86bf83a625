"""What one process knows about its own health: its components, the relay, and its counters.

The service (mailflow.service) records each component's state as it starts, crashes and is
restarted; the outbox records the relay's state and counts what it sent, failed and retried.
/healthz reads it as JSON and /metrics as Prometheus text (prometheus-client, one registry per
Health, so tests and several apps in one process never share counters). Queue depths are read
from the database at scrape time, so they are right whichever process did the work.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from storage.clock import utcnow
from storage.models import InboundMessage, Notification, SurveyRequest, WebhookDelivery

# Each queue's name in metrics and what its rows are counted by, for the queue-depth gauge.
QUEUES: tuple[tuple[str, Any], ...] = (
    ("survey_requests", SurveyRequest.__table__.c.state),
    ("notifications", Notification.__table__.c.state),
    ("webhooks", WebhookDelivery.__table__.c.state),
    ("inbound", InboundMessage.__table__.c.status),
)
QUEUE_OF_TABLE = {column.table.name: name for name, column in QUEUES}
# Seconds from an answer's arrival (the POST, or the mail stored) to its being recorded.
ANSWER_KINDS = ("reply", "google_form", "web_form")  # inbound kinds that record an answer
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)


def reason_code(reason: str | None) -> str:
    """The stable code a stored reason starts with ("unverified_sender: …" → unverified_sender),
    so metric labels stay few."""
    head = (reason or "").split(":", 1)[0].strip().lower()
    code = "".join(c for c in head if c.isalnum() or c == "_")[:40]
    return code or "other"


def queue_name(model: Any) -> str:
    """The metrics name of an outbox table's queue (survey_requests, notifications)."""
    return QUEUE_OF_TABLE.get(model.__tablename__, model.__tablename__)


@dataclass
class ComponentStatus:
    """One component of the service: running, restarting after a crash, or stopped."""

    name: str
    state: str = "starting"
    since: datetime = field(default_factory=utcnow)
    restarts: int = 0
    last_error: str | None = None


@dataclass
class RelayStatus:
    """The outbound relay as the last send attempts saw it."""

    state: str = "unknown"  # unknown | up | down
    since: datetime = field(default_factory=utcnow)
    error: str | None = None
    paused_until: datetime | None = None
    failures: int = 0


class QueueDepths(Collector):
    """mailflow_queue_rows{queue, state}: rows per queue and state, counted at scrape time."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "mailflow_queue_rows", "Rows per queue and state", labels=["queue", "state"]
        )
        with self.engine.connect() as conn:
            for queue, column in QUEUES:
                rows = conn.execute(select(column, func.count()).group_by(column)).all()
                for state, count in rows:
                    family.add_metric([queue, str(state)], int(count))
        yield family


class Health:
    """The health of one process; created by the service and shared by its components."""

    def __init__(self) -> None:
        self.components: dict[str, ComponentStatus] = {}
        # The roles this process runs (set by the service); the relay is reported only by a
        # process that sends.
        self.roles: frozenset[str] = frozenset({"web", "listener", "worker", "scheduler"})
        self.relay = RelayStatus()
        self.registry = CollectorRegistry()
        self._database: Engine | None = None
        self.sent = Counter(
            "mailflow_outbox_sent", "Emails the relay accepted", ["queue"], registry=self.registry
        )
        self.failed = Counter(
            "mailflow_outbox_failed", "Rows marked failed", ["queue"], registry=self.registry
        )
        self.retried = Counter(
            "mailflow_outbox_retried",
            "Rows scheduled again after a transient failure",
            ["queue"],
            registry=self.registry,
        )
        self.relay_up = Gauge(
            "mailflow_relay_up",
            "1 when the relay takes mail, 0 while sending is paused",
            registry=self.registry,
        )
        self.relay_pauses = Counter(
            "mailflow_relay_pauses", "Times sending paused for the relay", registry=self.registry
        )
        self.restarts = Counter(
            "mailflow_component_restarts",
            "Components restarted after a crash",
            ["component"],
            registry=self.registry,
        )
        self.inbound_filed = Counter(
            "mailflow_inbound_filed",
            "Inbound messages the worker filed, by the status they got",
            ["status"],
            registry=self.registry,
        )
        self.inbound_accepted = Counter(
            "mailflow_inbound_accepted",
            "Inbound messages that did their job (answers, bounces), by kind",
            ["kind"],
            registry=self.registry,
        )
        self.inbound_quarantined = Counter(
            "mailflow_inbound_quarantined",
            "Inbound messages kept for a human, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.answer_latency = Histogram(
            "mailflow_answer_latency_seconds",
            "From an answer's arrival to its being recorded, by channel (link, amp, email)",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.relay_up.set(1)

    def inbound_outcome(
        self, status: str, reason: str | None, kind: str | None, waited: float | None = None
    ) -> None:
        """Count one filed inbound message; `waited` (seconds since it was stored) is an
        email answer's latency."""
        self.inbound_filed.labels(status=status).inc()
        if status == "parsed":
            self.inbound_accepted.labels(kind=kind or "other").inc()
            if kind in ANSWER_KINDS and waited is not None:
                self.answer_latency.labels(channel="email").observe(max(waited, 0.0))
        elif status == "quarantined":
            self.inbound_quarantined.labels(reason=reason_code(reason)).inc()

    def watch_database(self, engine: Engine) -> None:
        """Count queue depths in this database at every scrape (once per Health)."""
        if self._database is None:
            self._database = engine
            self.registry.register(QueueDepths(engine))

    def component(self, name: str) -> ComponentStatus:
        """The status of component `name` (created on first use)."""
        found = self.components.get(name)
        if found is None:
            found = self.components[name] = ComponentStatus(name)
        return found

    def set_component(self, name: str, state: str, error: str | None = None) -> None:
        status = self.component(name)
        if state == "restarting":
            status.restarts += 1
            status.last_error = error
            self.restarts.labels(component=name).inc()
        status.state, status.since = state, utcnow()

    def relay_changed(self, status: RelayStatus) -> None:
        self.relay = status
        self.relay_up.set(0 if status.state == "down" else 1)

    def snapshot(self) -> dict[str, Any]:
        """Components and relay, JSON-ready (for /healthz)."""

        def plain(value: Any) -> dict[str, Any]:
            return {
                k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(value).items()
            }

        found: dict[str, Any] = {
            "roles": sorted(self.roles),
            "components": {name: plain(status) for name, status in self.components.items()},
        }
        if "worker" in self.roles:
            found["relay"] = plain(self.relay)
        return found

"""The relay's state: when it cannot be reached, sending pauses instead of failing rows.

A connection-level failure (refused or timed-out connection, 421, TLS failure) says nothing
about the message, so it must not spend the row's attempts: the row goes back to the queue as
it was, and the worker stops claiming for a while (relay_pause_base_seconds, doubling up to
relay_pause_max_seconds). The first send that the relay takes ends the outage. Logged once
per change and published to the process's Health (/healthz, /metrics).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from mailflow.health import Health, RelayStatus
from mailflow.settings import OutboundSettings
from storage.clock import utcnow

log = logging.getLogger(__name__)


class Relay:
    """Whether sending may go on now, and for how long it is paused."""

    def __init__(self, outbound: OutboundSettings, health: Health):
        self.outbound, self.health = outbound, health
        self.status = RelayStatus()

    def paused(self) -> bool:
        """True while an outage pause runs: claim nothing, send nothing."""
        until = self.status.paused_until
        return until is not None and utcnow() < until

    def down(self, error: str) -> None:
        """A connection-level failure: pause (again, longer)."""
        failures = self.status.failures + 1
        seconds = min(
            self.outbound.relay_pause_base_seconds * 2 ** min(failures - 1, 30),
            self.outbound.relay_pause_max_seconds,
        )
        now = utcnow()
        was_down = self.status.state == "down"
        self.status = RelayStatus(
            state="down",
            since=self.status.since if was_down else now,
            error=error,
            paused_until=now + timedelta(seconds=seconds),
            failures=failures,
        )
        if not was_down:
            log.warning("relay unavailable, pausing sending (rows keep their attempts): %s", error)
            self.health.relay_pauses.inc()
        else:
            log.info("relay still unavailable, next try in %.0f s: %s", seconds, error)
        self.health.relay_changed(self.status)

    def up(self) -> None:
        """The relay took a message: the outage, if any, is over."""
        if self.status.state == "up":
            return
        if self.status.state == "down":
            log.warning("relay is back after %s failed connections", self.status.failures)
        self.status = replace(RelayStatus(state="up"))
        self.health.relay_changed(self.status)

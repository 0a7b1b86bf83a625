"""Per-client limits of the SMTP listener: open connections and messages a minute, per IP.

One object per listener, shared by its sessions. Every call comes from the listener's event
loop thread, so it needs no lock. Addresses in `exempt` (the MTA in front of us: by default the
listener binds loopback and a local Postfix relays every reply from 127.0.0.1) are not counted.
Counters are dropped once a client has nothing left in them, so the memory held stays near
that of the clients seen in the last minute.
"""

from __future__ import annotations

import ipaddress
import time
from collections import deque
from collections.abc import Callable, Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

WINDOW_SECONDS = 60.0
SWEEP_AT = 1024


class PeerLimits:
    """Counts open connections and recent messages for each client IP."""

    def __init__(
        self,
        *,
        max_connections: int,
        messages_per_minute: int,
        exempt: Iterable[object] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.exempt: list[Network] = [ipaddress.ip_network(str(n), strict=False) for n in exempt]
        self.max_connections = max_connections
        self.messages_per_minute = messages_per_minute
        self.clock = clock
        self._open: dict[str, int] = {}
        self._recent: dict[str, deque[float]] = {}

    def exempted(self, ip: str) -> bool:
        """True for a trusted relay, which no per-IP limit applies to."""
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:  # not an IP (a UNIX socket, a test transport): limits apply
            return False
        mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is 127.0.0.1
        return any((mapped or address) in net for net in self.exempt)

    def open(self, ip: str) -> bool:
        """Count a new connection from `ip`; False (not counted) when it is one too many."""
        if self.exempted(ip):
            return True
        current = self._open.get(ip, 0)
        if current >= self.max_connections:
            return False
        self._open[ip] = current + 1
        return True

    def close(self, ip: str) -> None:
        """A connection let in by `open` has ended."""
        if self.exempted(ip):
            return
        left = self._open.get(ip, 0) - 1
        if left > 0:
            self._open[ip] = left
        else:
            self._open.pop(ip, None)

    def connections(self, ip: str) -> int:
        """Connections from `ip` open now."""
        return self._open.get(ip, 0)

    def take_message(self, ip: str) -> bool:
        """Count one message (a MAIL FROM) from `ip`; False when the minute's budget is spent."""
        if self.exempted(ip):
            return True
        now = self.clock()
        recent = self._recent.setdefault(ip, deque())
        while recent and recent[0] <= now - WINDOW_SECONDS:
            recent.popleft()
        if len(recent) >= self.messages_per_minute:
            return False
        recent.append(now)
        self._forget_idle(now)
        return True

    def _forget_idle(self, now: float) -> None:
        # Upkeep once the table has grown: drop clients with nothing in the last minute.
        if len(self._recent) <= SWEEP_AT:
            return
        since = now - WINDOW_SECONDS
        for ip in [ip for ip, seen in self._recent.items() if not seen or seen[-1] <= since]:
            del self._recent[ip]

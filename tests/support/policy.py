"""What a test does when a service it needs is missing, and small network helpers."""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest

REQUIRE_ENV = "MAILFLOW_REQUIRE_SERVICES"


def services_required() -> bool:
    """True when MAILFLOW_REQUIRE_SERVICES=1: a missing service is then a failure, not a skip."""
    return os.environ.get(REQUIRE_ENV, "").strip() == "1"


def require_service(name: str, why: str) -> NoReturn:
    """Skip the current test because service `name` is unavailable, or fail it in CI.

    Call it where the service turned out to be missing; `why` says what was tried.
    """
    message = f"service {name!r} unavailable: {why}"
    if services_required():
        pytest.fail(f"{message} ({REQUIRE_ENV}=1, so this is a failure)", pytrace=False)
    pytest.skip(message)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_accepts(host: str, port: int, timeout: float = 0.2) -> bool:
    """True when a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False

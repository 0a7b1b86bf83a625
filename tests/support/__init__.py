"""Test support: real services (PostgreSQL, Dovecot, Chromium, AMP validator, SMTP sink).

The fixtures live in ``tests.support.fixtures``, loaded as a pytest plugin by tests/conftest.py.
Helpers for tests: ``from tests.support import free_port, require_service``.
"""

from .policy import free_port, require_service, services_required

__all__ = ["free_port", "require_service", "services_required"]

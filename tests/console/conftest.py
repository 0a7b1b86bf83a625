"""Console fixtures: the whole mission on loopback (tests/e2e) for the browser scenarios."""

from tests.e2e.conftest import mission  # noqa: F401  (the fixture, shared)

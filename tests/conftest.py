"""Root conftest: the shared fixtures live in the tests.support.fixtures plugin."""

pytest_plugins = ["tests.support.fixtures", "pytester"]

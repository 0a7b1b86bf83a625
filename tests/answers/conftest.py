"""The example configuration, as `mailflow init` writes it."""

from tests.foundation.conftest import config_file, example_settings  # noqa: F401

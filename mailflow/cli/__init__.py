"""The `mailflow` command: thin Typer commands that parse arguments, call modules, print.

Each area registers its commands in its own module; this file only assembles them and makes
sure no traceback reaches a user.
"""

from __future__ import annotations

import os
import sys

from mailflow.cli import escalation as _escalation  # noqa: F401  (segments, escalations, webhooks)
from mailflow.cli import inbound as _inbound  # noqa: F401  (listen, ingest, parse, inbound)
from mailflow.cli import outbound as _outbound  # noqa: F401  (event, worker, campaign …)
from mailflow.cli import reports as _reports  # noqa: F401  (report, export, demo)
from mailflow.cli import setup as _setup  # noqa: F401  (registers init, preview, db, up)
from mailflow.cli import surveys as _surveys  # noqa: F401  (surveys list|export|import|history)
from mailflow.cli import web as _web  # noqa: F401  (apikey, user)
from mailflow.cli.app import app


def main() -> None:
    """Entry point: run the app; unexpected errors become one line, exit 1."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # the last line of defence: never show a traceback
        if os.environ.get("MAILFLOW_DEBUG"):
            raise
        print(f"mailflow: error: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        sys.exit(1)

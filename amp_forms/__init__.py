"""AMP for Email markup for the interactive survey, and the rules of its XHR endpoint."""

from pathlib import Path

TEMPLATE_DIR = Path(__file__).parent / "templates"

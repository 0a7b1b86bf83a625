"""The offline AMP validator that .ci/install-services.sh puts into .cache/amp/."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

BIN_ENV = "MAILFLOW_AMP_VALIDATOR"
JS_ENV = "MAILFLOW_AMP_VALIDATOR_JS"


class AmpValidator:
    """validate(html) -> (ok, output) for the AMP4EMAIL format, without any network access."""

    def __init__(self, repo_root: Path) -> None:
        cache = repo_root / ".cache" / "amp"
        self.binary = Path(
            os.environ.get(BIN_ENV) or cache / "node_modules" / ".bin" / "amphtml-validator"
        )
        self.validator_js = Path(os.environ.get(JS_ENV) or cache / "validator_wasm.js")

    def missing(self) -> str | None:
        """None when the validator can run, else what is missing."""
        if shutil.which("node") is None:
            return "node is not installed"
        if not os.access(self.binary, os.X_OK):
            return f"{self.binary} not found (run .ci/install-services.sh or set {BIN_ENV})"
        if not self.validator_js.is_file():
            return f"{self.validator_js} not found (run .ci/install-services.sh or set {JS_ENV})"
        return None

    def validate(self, html: str) -> tuple[bool, str]:
        """Validate one AMP4EMAIL document; the output names each error with line:column."""
        with tempfile.TemporaryDirectory(prefix="mailflow-amp-") as tmp:
            path = Path(tmp) / "email.html"
            path.write_text(html, encoding="utf-8")
            result = subprocess.run(
                [
                    str(self.binary),
                    "--html_format",
                    "AMP4EMAIL",
                    "--validator_js",
                    str(self.validator_js),
                    "--format",
                    "text",
                    str(path),
                ],
                capture_output=True,
                text=True,
                timeout=60,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"},
            )
        output = (result.stdout + result.stderr).replace(str(path), "email.html").strip()
        ok = result.returncode == 0 and "PASS" in result.stdout
        return ok, output

    __call__ = validate

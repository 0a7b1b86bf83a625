"""AMP validator: a minimal AMP email passes, custom JavaScript fails."""

VALID = """<!doctype html>
<html ⚡4email data-css-strict>
<head>
<meta charset="utf-8">
<script async src="https://cdn.ampproject.org/v0.js"></script>
<style amp4email-boilerplate>body{visibility:hidden}</style>
</head>
<body><p>How did we do?</p></body>
</html>
"""


def test_minimal_amp_email_passes(amp_validator):
    ok, output = amp_validator(VALID)
    assert ok, output
    assert "PASS" in output


def test_custom_script_fails(amp_validator):
    invalid = VALID.replace("<p>How", "<script>alert(1)</script><p>How")
    ok, output = amp_validator(invalid)
    assert not ok
    assert "Custom JavaScript is not allowed" in output


def test_plain_html_is_not_amp(amp_validator):
    ok, output = amp_validator("<!doctype html><html><head></head><body>x</body></html>")
    assert not ok
    assert "FAIL" in output or "⚡4email" in output or "amp4email" in output

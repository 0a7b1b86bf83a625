"""The service policy: skip locally, fail in CI; failed browser tests leave a screenshot."""

import pytest

CONFTEST = 'pytest_plugins = ["tests.support.fixtures"]\n'


@pytest.fixture
def inner(pytester, monkeypatch):
    monkeypatch.delenv("MAILFLOW_REQUIRE_SERVICES", raising=False)
    pytester.makeconftest(CONFTEST)
    return pytester


def test_missing_service_is_skipped_locally(inner):
    inner.makepyfile(
        """
        from tests.support import require_service

        def test_needs_it():
            require_service("imaginary", "not installed here")
        """
    )
    result = inner.runpytest("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*service 'imaginary' unavailable: not installed here*"])


def test_missing_service_fails_when_required(inner, monkeypatch):
    monkeypatch.setenv("MAILFLOW_REQUIRE_SERVICES", "1")
    monkeypatch.setenv("MAILFLOW_AMP_VALIDATOR", "/nonexistent/amphtml-validator")
    inner.makepyfile(
        """
        def test_needs_amp(amp_validator):
            pass
        """
    )
    result = inner.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*service 'amp-validator' unavailable*MAILFLOW_REQUIRE_SERVICES=1*"]
    )


def test_service_fixtures_add_their_markers(inner):
    inner.makepyfile(
        """
        def test_amp(amp_validator):
            pass

        def test_plain():
            pass
        """
    )
    result = inner.runpytest("-m", "amp", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["*test_amp*", "*1/2 tests collected (1 deselected)*"])


def test_failed_browser_test_leaves_a_screenshot(inner):
    inner.makepyfile(
        """
        def test_fails(page):
            page.set_content("<h1>broken survey</h1>")
            assert page.text_content("h1") == "fixed survey"
        """
    )
    result = inner.runpytest()
    result.assert_outcomes(failed=1)
    [shot] = (inner.path / "test-artifacts").iterdir()
    assert shot.name == "test_failed_browser_test_leaves_a_screenshot.py_test_fails.png"
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

"""The brand's logo on the web pages comes from Mailflow itself: opening a rating link tells no
other host about it."""

from __future__ import annotations

import base64

import httpx
import pytest

from mailflow.settings import ConfigError, load_settings
from tests.web.conftest import served_site, serving, write_config

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwADAQH/6z+FNQAAAABJRU5ErkJggg=="
)


def _rating_page(site) -> str:
    request_id = site.request()
    with serving(site), httpx.Client(base_url=site.settings.web.base_url, timeout=10) as http:
        return http.get(f"/r/{site.token(request_id)}").text


def test_a_remote_logo_url_is_never_loaded_by_the_rating_page(tmp_path, monkeypatch):
    site = served_site(tmp_path, monkeypatch, BRAND__LOGO_URL="https://cdn.example.net/logo.png")
    page = _rating_page(site)
    assert "cdn.example.net" not in page
    assert site.settings.brand.company in page


def test_a_logo_file_is_served_by_mailflow(tmp_path, monkeypatch):
    (tmp_path / "logo.png").write_bytes(PNG)
    site = served_site(tmp_path, monkeypatch, BRAND__LOGO_FILE=str(tmp_path / "logo.png"))
    page = _rating_page(site)
    assert '<img src="/brand/logo"' in page
    with serving(site), httpx.Client(base_url=site.settings.web.base_url, timeout=10) as http:
        logo = http.get("/brand/logo")
    assert logo.status_code == 200
    assert logo.headers["content-type"] == "image/png"
    assert logo.content == PNG


def test_no_logo_file_means_no_logo_route(client):
    assert client.get("/brand/logo").status_code == 404


@pytest.mark.parametrize(("name", "why"), [("logo.png", "no such file"), ("logo.exe", ".png")])
def test_a_bad_logo_file_stops_start_up_naming_the_key(tmp_path, monkeypatch, name, why):
    (tmp_path / "logo.exe").write_bytes(b"MZ")
    monkeypatch.setenv("MAILFLOW_BRAND__LOGO_FILE", str(tmp_path / "missing" / name))
    if name == "logo.exe":
        monkeypatch.setenv("MAILFLOW_BRAND__LOGO_FILE", str(tmp_path / name))
    with pytest.raises(ConfigError) as refused:
        load_settings(write_config(tmp_path))
    assert "brand.logo_file" in str(refused.value) and why in str(refused.value)

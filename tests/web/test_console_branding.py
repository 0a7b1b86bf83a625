"""/admin/branding: name, colour and logo in the database, served at /brand/logo, picked up by
every page; anything but PNG/JPEG/GIF refused next to the field."""

from __future__ import annotations

import struct
import zlib

from mailflow.auth import create_user
from storage.engine import session_scope

from .test_console_roles import PASSWORD, csrf_of, sign_in


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_brand_saved_in_the_browser_shows_everywhere(client, site):
    with session_scope(site.engine) as session:
        create_user(session, "root", PASSWORD)
    sign_in(client, "root")
    page = client.get("/admin/branding")
    fields = {
        "csrf": csrf_of(page),
        "company": "Kwiaciarnia Róża",
        "sender_name": "Obsługa",
        "color": "#aa3366",
        "address": "",
    }
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    refused = client.post(
        "/admin/branding", data=fields, files={"logo": ("logo.png", svg, "image/png")}
    )
    assert refused.status_code == 400 and 'id="err-logo"' in refused.text
    assert 'value="Kwiaciarnia Róża"' in refused.text  # nothing typed is lost
    bad_colour = client.post("/admin/branding", data={**fields, "color": "red"})
    assert bad_colour.status_code == 400 and 'id="err-color"' in bad_colour.text
    png = tiny_png()
    saved = client.post(
        "/admin/branding", data=fields, files={"logo": ("logo.png", png, "image/png")}
    )
    assert saved.status_code == 303
    logo = client.get("/brand/logo")
    assert logo.status_code == 200 and logo.content == png
    assert logo.headers["content-type"] == "image/png"
    home = client.get("/admin")
    assert 'src="/brand/logo"' in home.text and "--brand: #aa3366" in home.text
    assert "Kwiaciarnia Róża" in home.text

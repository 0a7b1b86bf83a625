"""Rendering the web pages from email_templates/web/ with the brand, the locale and its strings.

Every page extends `base.html` (see its header for the blocks). A route renders a page with

    return web(request).pages.render("thanks.html", locale=locale, message=...)

which gives the template `brand`, `locale`, `ui` (this locale's interface strings),
`t(key, **values)`, `csp_nonce` (for an inline <script nonce="{{ csp_nonce }}">), and
`user`/`csrf` (None unless the route passes them; with a user, `nav`, `nav_current` and
`nav_locales` for the admin top bar, from mailflow.web.navigation), and sends security
headers: a strict
Content-Security-Policy, no Referer (links carry tokens), no framing, no caching.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

import email_templates
from mailflow.i18n import ui
from mailflow.settings import Settings
from mailflow.web.navigation import current_entry, entries_for
from storage.clock import as_utc

WEB_TEMPLATE_DIR = email_templates.TEMPLATE_DIR / "web"


def security_headers(nonce: str) -> dict[str, str]:
    """Headers every page carries; scripts run only with this response's nonce."""
    return {
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'unsafe-inline'; img-src * data:; "
            f"script-src 'nonce-{nonce}'; form-action 'self'; base-uri 'none'; "
            "frame-ancestors 'none'"
        ),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
    }


def pick_locale(settings: Settings, wanted: str | None, accept_language: str | None = None) -> str:
    """`wanted` when configured, else the best of Accept-Language, else the default locale."""
    if wanted and wanted in settings.locales:
        return wanted
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        for candidate in (tag, tag.split("-")[0]):
            if candidate in settings.locales:
                return candidate
    return settings.default_locale


class Pages:
    """The page templates of one app (compiled once, cached by Jinja)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.env = Environment(
            loader=FileSystemLoader(str(WEB_TEMPLATE_DIR)),
            autoescape=select_autoescape(["html"], default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # package data: no stat() of the file on every page
        )
        self.env.filters["localtime"] = self.localtime

    def localtime(self, value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """A stored (UTC) time as the configured time zone's wall clock; "" for none."""
        if value is None:
            return ""
        return as_utc(value).astimezone(self.settings.zone).strftime(fmt)

    def compile_all(self) -> int:
        """Compile every page template now (at start-up), not inside the first requests."""
        names = [n for n in self.env.list_templates() if n.endswith(".html")]
        for name in names:
            self.env.get_template(name)
        return len(names)

    def html(self, name: str, *, locale: str, **context: Any) -> tuple[str, str]:
        """(html, csp nonce) of a page; for routes that build their own response."""
        strings = ui(locale)
        nonce = secrets.token_urlsafe(12)
        values: dict[str, Any] = {
            "brand": self.settings.brand,
            "locale": locale,
            "ui": strings,
            "t": lambda key, **kw: strings[key].format(**kw),
            "csp_nonce": nonce,
            "user": None,
            "csrf": None,
        }
        values.update(context)
        user = values["user"]
        if user is not None:  # the admin area's one top bar (mailflow.web.navigation)
            values["nav"] = entries_for(user.role)
            values["nav_current"] = current_entry(str(values.get("current") or ""))
            values["nav_locales"] = self.settings.locales
        return self.env.get_template(name).render(values), nonce

    def render(
        self,
        name: str,
        *,
        locale: str,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """The page as an HTMLResponse with the security headers."""
        body, nonce = self.html(name, locale=locale, **context)
        all_headers = security_headers(nonce)
        all_headers.update(headers or {})
        return HTMLResponse(body, status_code=status_code, headers=all_headers)

"""AMP for Email's CORS rules for the form endpoint, as pure functions (no web framework).

Two versions are live in mail clients:

* v2 — the client sends `AMP-Email-Sender: <sender address>`; the endpoint answers
  `AMP-Email-Allow-Sender: <that address>` when it accepts mail from that sender. We answer
  only our configured sender, never `*`.
* v1 — the client sends `Origin: https://mail.google.com` (or another mail client's origin) and
  the query parameter `__amp_source_origin=<sender address>`; the endpoint answers
  `Access-Control-Allow-Origin: <origin>`, `AMP-Access-Control-Allow-Source-Origin: <sender>`
  and `Access-Control-Expose-Headers: AMP-Access-Control-Allow-Source-Origin`.

`amp_cors_headers()` decides which applies and returns the response headers, or raises a named
`CorsRefused` whose message is safe to show in the form's submit-error template.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Origins of the mail clients that render AMP for Email (and Google's playground).
DEFAULT_ALLOWED_ORIGINS: tuple[str, ...] = (
    "https://mail.google.com",
    "https://amp.gmail.dev",
    "https://playground.amp.dev",
    "https://outlook.live.com",
    "https://outlook.office.com",
    "https://outlook.office365.com",
    "https://mail.yahoo.com",
    "https://mail.mail.ru",
    "https://e.mail.ru",
    "https://touch.mail.ru",
    "https://octavius.mail.ru",
    "https://light.mail.ru",
)

SENDER_HEADER = "amp-email-sender"
SOURCE_ORIGIN_PARAM = "__amp_source_origin"


class CorsRefused(Exception):
    """The request does not come from our email in an AMP-capable mail client."""


class UnknownSender(CorsRefused):
    """The email declaring itself the sender is not ours."""


class OriginNotAllowed(CorsRefused):
    """The page posting the form is not a known mail client."""


class MissingAmpHeaders(CorsRefused):
    """Neither AMP-Email-Sender (v2) nor Origin/__amp_source_origin (v1) was sent."""


def _lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def _same_address(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def amp_cors_headers(
    headers: Mapping[str, str],
    query: Mapping[str, str],
    sender: str,
    allowed_origins: Iterable[str] = DEFAULT_ALLOWED_ORIGINS,
) -> dict[str, str]:
    """The CORS response headers for an AMP form request, or a CorsRefused subclass.

    `headers` are the request headers (any case), `query` the URL query parameters, `sender`
    the configured From address of our survey emails.
    """
    lowered = _lower_keys(headers)
    declared = lowered.get(SENDER_HEADER)
    if declared is not None:
        if not _same_address(declared, sender):
            raise UnknownSender(f"sender {declared!r} is not allowed")
        return {"AMP-Email-Allow-Sender": sender}
    origin = lowered.get("origin")
    source = query.get(SOURCE_ORIGIN_PARAM)
    if origin is None and source is None:
        raise MissingAmpHeaders("not an AMP for Email request")
    if origin is None or origin.rstrip("/") not in {o.rstrip("/") for o in allowed_origins}:
        raise OriginNotAllowed(f"origin {origin!r} is not allowed")
    if source is None or not _same_address(source, sender):
        raise UnknownSender(f"source origin {source!r} is not allowed")
    return {
        "Access-Control-Allow-Origin": origin,
        "AMP-Access-Control-Allow-Source-Origin": source,
        "Access-Control-Expose-Headers": "AMP-Access-Control-Allow-Source-Origin",
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


def preflight_headers(
    headers: Mapping[str, str], allowed_origins: Iterable[str] = DEFAULT_ALLOWED_ORIGINS
) -> dict[str, str]:
    """Headers for an OPTIONS preflight from a known mail client's origin (empty otherwise)."""
    origin = _lower_keys(headers).get("origin")
    if origin is None or origin.rstrip("/") not in {o.rstrip("/") for o in allowed_origins}:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Content-Type, AMP-Email-Sender",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }

"""What a trusted Authentication-Results header (RFC 8601) says about the From domain.

Anyone can write an Authentication-Results header, so only the topmost one whose authserv-id
the operator trusts counts (the receiving MTA adds its own on top and should strip forged
copies of it). It authenticates the From domain when it says dmarc=pass (for that header.from,
when named) or dkim=pass with a header.d/header.i aligned with the From domain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# One "method=result" and its properties up to the next ";" (bounded: no nested repeats).
_COMMENT = re.compile(r"\([^()]{0,500}\)")
_METHOD = re.compile(r"^\s*([a-z0-9-]{1,40})\s*=\s*([a-z]{1,20})\b(.*)$", re.I | re.S)
_PROPERTY = re.compile(r"\b(header\.(?:from|d|i))\s*=\s*\"?([^\s;\"]{1,255})", re.I)


def aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment: the same domain, or one is a subdomain of the other."""
    domain, from_domain = domain.strip(".").lower(), from_domain.strip(".").lower()
    if not domain or not from_domain:
        return False
    return (
        domain == from_domain
        or from_domain.endswith("." + domain)
        or domain.endswith("." + from_domain)
    )


def _authserv_id(value: str) -> str:
    words = _COMMENT.sub(" ", value.split(";", 1)[0]).split()
    return words[0].lower() if words else ""


def _methods(value: str) -> Iterable[tuple[str, str, dict[str, str]]]:
    for clause in _COMMENT.sub(" ", value[:8192]).split(";")[1:]:
        found = _METHOD.match(clause)
        if not found:
            continue
        props = {k.lower(): v.lower() for k, v in _PROPERTY.findall(found.group(3))}
        yield found.group(1).lower(), found.group(2).lower(), props


def verdict(values: Sequence[str], trusted_ids: Sequence[str], from_domain: str) -> str | None:
    """Why the message is authenticated for `from_domain`, or None (values: topmost first)."""
    trusted = {t.strip().lower() for t in trusted_ids if t.strip()}
    if not trusted or not from_domain:
        return None
    for value in values:
        server = _authserv_id(value)
        if server not in trusted:
            continue
        for method, result, props in _methods(value):
            if result != "pass":
                continue
            if method == "dmarc" and aligned(props.get("header.from", from_domain), from_domain):
                return f"{server}: dmarc=pass"
            signer = props.get("header.d") or props.get("header.i", "").rpartition("@")[2]
            if method == "dkim" and signer and aligned(signer, from_domain):
                return f"{server}: dkim=pass header.d={signer}"
        return None  # only the topmost header of a trusted server counts
    return None

"""Is a message really from its From domain? Only then may its sender alone match a request.

Two kinds of proof, either enough: a DKIM signature that verifies (dkimpy) with a signing
domain aligned with the From domain, or the topmost Authentication-Results header of an
`authserv-id` the operator trusts (settings.inbound.trusted_authserv_ids) saying dkim=pass
(aligned) or dmarc=pass. The DNS lookup is a parameter, so tests sign with their own keys and
nothing here needs the network; the real one is dkimpy's, with a short timeout.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import dkim

from parsers.authresults import aligned, verdict
from parsers.types import ParsedMessage

log = logging.getLogger(__name__)
DnsFunc = Callable[..., bytes | None]
MAX_SIGNATURES = 5  # a message with more is not worth more DNS lookups
DNS_TIMEOUT = 5.0


def _default_dns(name: bytes, timeout: float = DNS_TIMEOUT) -> bytes | None:
    from dkim.dnsplug import get_txt

    return get_txt(name, timeout=min(timeout, DNS_TIMEOUT))


def from_domain(msg: ParsedMessage) -> str:
    """The domain of the From address, lower-case ("" without one)."""
    return (msg.from_address or "").rpartition("@")[2].strip().lower()


def dkim_verdict(raw: bytes, domain: str, dns: DnsFunc | None = None) -> str | None:
    """ "dkim: d=DOMAIN" for the first signature that verifies and aligns with `domain`."""
    if not domain or b"dkim-signature" not in raw[:262144].lower():
        return None
    lookup = dns or _default_dns
    try:
        checker = dkim.DKIM(raw)
        count = sum(1 for name, _ in checker.headers if name.lower() == b"dkim-signature")
    except (dkim.DKIMException, ValueError, IndexError) as exc:
        log.info("dkim: unreadable message: %s", exc)
        return None
    for index in range(min(count, MAX_SIGNATURES)):
        try:
            if not checker.verify(idx=index, dnsfunc=lookup):
                continue
        except (dkim.DKIMException, ValueError, IndexError, OSError) as exc:
            log.info("dkim: signature %s not verified: %s", index, exc)
            continue
        if b"l" in (getattr(checker, "signature_fields", None) or {}):
            continue  # l= signs only a prefix: anything could be appended below it
        signer = (checker.domain or b"").decode("ascii", "replace")
        if aligned(signer, domain):
            return f"dkim: d={signer.lower()}"
    return None


def authenticated(
    raw: bytes,
    msg: ParsedMessage,
    trusted_authserv_ids: Sequence[str] = (),
    *,
    dns: DnsFunc | None = None,
) -> str | None:
    """Why `msg` is authenticated for its From domain, or None when nothing proves it."""
    domain = from_domain(msg)
    if not domain:
        return None
    said = verdict(msg.authentication_results, trusted_authserv_ids, domain)
    if said:
        return f"authentication-results {said}"
    return dkim_verdict(raw, domain, dns)

"""A DKIM key of the test's own: sign a message as a domain, and the DNS answers for it.

dkimpy verifies against whatever `dnsfunc` returns, so the worker's DNS look-up is replaced by
`KeyServer`, which knows only the keys published here. No network is involved.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from functools import lru_cache

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"mime-version"]


@lru_cache(maxsize=4)
def _key(seed: str) -> tuple[bytes, bytes]:
    """(private PEM, public DER) — one RSA key per name, made once per test run."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


@dataclass
class KeyServer:
    """The TXT records of the test's own DKIM selectors."""

    records: dict[bytes, bytes] = field(default_factory=dict)
    asked: list[bytes] = field(default_factory=list)

    def publish(self, domain: str, selector: str = "test", seed: str = "") -> None:
        public = _key(seed or domain)[1]
        name = f"{selector}._domainkey.{domain}.".encode()
        self.records[name] = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def __call__(self, name: bytes, timeout: float = 5) -> bytes | None:
        self.asked.append(name)
        return self.records.get(name)


def sign(
    raw: bytes, domain: str, selector: str = "test", seed: str = "", *, length: bool = False
) -> bytes:
    """`raw` with a DKIM-Signature of `domain` (relaxed/relaxed) on top."""
    private = _key(seed or domain)[0]
    signature = dkim.sign(
        raw,
        selector.encode(),
        domain.encode(),
        private,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=SIGNED_HEADERS,
        length=length,
    )
    return signature + raw

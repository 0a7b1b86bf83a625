"""A raw SMTP client for what smtplib will not send: bytes that are not UTF-8 in commands,
idle sessions, connections held open. Speaks to a real listener on loopback."""

from __future__ import annotations

import select
import socket


class RawSmtp:
    """One SMTP connection, commands as bytes, replies as (code, text)."""

    def __init__(
        self, host: str, port: int, *, timeout: float = 10, source: str | None = None
    ) -> None:
        self.sock = socket.create_connection(
            (host, port), timeout=timeout, source_address=(source, 0) if source else None
        )
        self.file = self.sock.makefile("rb")

    def reply(self) -> tuple[int, bytes]:
        """Read one (possibly multi-line) reply; (0, b'') when the server closed."""
        lines = []
        while True:
            line = self.file.readline()
            if not line:
                return 0, b""
            lines.append(line[4:].rstrip(b"\r\n"))
            if line[3:4] != b"-":
                return int(line[:3]), b"\n".join(lines)

    def command(self, line: bytes) -> tuple[int, bytes]:
        self.sock.sendall(line + b"\r\n")
        return self.reply()

    def closed_within(self, seconds: float) -> bool:
        """True when the server closes the connection (EOF) within `seconds`."""
        readable, _, _ = select.select([self.sock], [], [], seconds)
        if not readable:
            return False
        try:
            return self.sock.recv(1, socket.MSG_PEEK) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def __enter__(self) -> RawSmtp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

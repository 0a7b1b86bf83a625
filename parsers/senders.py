"""Mail whose sender address proves nothing: never matched to a request by sender alone.

A survey answer may still come through list software or get a spam flag, so such mail keeps
its strong matches (our plus-token, In-Reply-To to our Message-ID); only the weakest evidence,
"the From address has an open request", is refused. Each check is a small named rule of the
shared shape (parsers.rules), over the parsed MIME headers.
"""

from __future__ import annotations

import re
from email.message import Message

from parsers.mime import header
from parsers.rules import first_reason

_SPAM_STATUS = re.compile(r"^\s*yes\b", re.I)
_NO_REPLY = re.compile(
    r"(?:^|[<\s\"])(?:mailer-daemon|postmaster|no-?reply|do-?not-?reply|noreply-dmarc-support|"
    r"dmarc(?:-?reports?)?|abuse|bounces?|notifications?)[@+]",
    re.I,
)


class _HeaderRule:
    name = ""
    description = ""

    def check(self, msg: Message) -> str | None:  # pragma: no cover - interface
        raise NotImplementedError


class ListMail(_HeaderRule):
    name = "list_mail"
    description = "mailing-list mail: List-Id, List-Unsubscribe, Precedence: list"

    def check(self, msg: Message) -> str | None:
        for name in ("List-Id", "List-Unsubscribe", "List-Post"):
            if header(msg, name).strip():
                return f"mailing list ({name.lower()})"
        if header(msg, "Precedence").strip().lower() == "list":
            return "mailing list (precedence: list)"
        return None


class SpamFlag(_HeaderRule):
    name, description = "spam_flag", "a spam filter's verdict: X-Spam-Flag/X-Spam-Status: Yes"

    def check(self, msg: Message) -> str | None:
        for name in ("X-Spam-Flag", "X-Spam-Status", "X-Spam"):
            if _SPAM_STATUS.match(header(msg, name)):
                return f"spam flag ({name.lower()})"
        if header(msg, "X-Yandex-Spam").strip() == "4":
            return "spam flag (x-yandex-spam: 4)"
        return None


class MachineSender(_HeaderRule):
    name, description = "machine_sender", "a null Return-Path or a no-reply/daemon From address"

    def check(self, msg: Message) -> str | None:
        if header(msg, "Return-Path").strip() == "<>":
            return "null return-path"
        sender = header(msg, "From")
        if _NO_REPLY.search(sender[:500]):
            return "machine sender address"
        return None


SENDER_RULES: tuple[_HeaderRule, ...] = (ListMail(), SpamFlag(), MachineSender())


def sender_refused(msg: Message) -> str | None:
    """Why `msg` must never be matched by its sender alone, or None."""
    hit = first_reason(SENDER_RULES, msg)
    return f"{hit[0].name}: {hit[1]}" if hit else None

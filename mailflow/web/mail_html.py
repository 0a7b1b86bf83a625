"""A received message's HTML made safe to look at: shown in an iframe with sandbox="" (no
scripts, no forms, no top navigation) through srcdoc, after BeautifulSoup drops what could run,
load or phone home (scripts, frames, forms, event handlers, javascript: links, remote images
and stylesheets: a tracking pixel must not learn that staff opened the message)."""

from __future__ import annotations

from email import message_from_bytes
from email.message import Message
from email.policy import default

from bs4 import BeautifulSoup

DROP = (
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input",
    "button", "textarea", "select", "link", "meta", "base", "svg", "math", "audio", "video",
    "source", "track", "noscript", "template",
)  # fmt: skip
URL_ATTRS = ("href", "src", "action", "formaction", "background", "poster", "srcset", "xlink:href")
MAX_HTML = 512 * 1024


def html_part(raw: bytes) -> str | None:
    """The first text/html part of a message, decoded (None when it has none)."""
    try:
        message: Message = message_from_bytes(raw, policy=default)
        for part in message.walk():
            if part.get_content_type() == "text/html" and not part.is_attachment():
                return str(part.get_content())[:MAX_HTML]  # type: ignore[attr-defined]
    except (LookupError, ValueError, TypeError, AttributeError):
        return None
    return None


def sanitise(html: str) -> str:
    """`html` without anything active or remote; text and layout stay."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(DROP):
        tag.decompose()
    for tag in soup.find_all(True):
        for name in list(tag.attrs):
            low = name.lower()
            value = str(tag.attrs.get(name, ""))
            if low.startswith("on") or (low == "style" and "url(" in value.lower()):
                del tag.attrs[name]
            elif low in URL_ATTRS:
                target = value.strip().lower()
                if low == "href" and (target.startswith(("http:", "https:", "mailto:", "#"))):
                    tag.attrs["rel"] = "noopener noreferrer"
                    tag.attrs["target"] = "_blank"
                    continue
                del tag.attrs[name]
        if tag.name == "style":
            tag.string = "" if "url(" in (tag.string or "").lower() else (tag.string or "")
    return str(soup)

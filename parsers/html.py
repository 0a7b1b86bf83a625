"""HTML bodies -> the sender's own text, with the quoted original removed by its markup.

Clients mark the quote structurally (Gmail's gmail_quote div, Outlook's divRplyFwdMsg or a
border-top block, blockquotes in Apple Mail, Thunderbird, Yandex and Mail.ru), which is more
reliable than guessing from the flattened text; the text rules in `quotes` run afterwards
for anything the markup did not say.
"""

from __future__ import annotations

import html as entities
import re

from bs4 import BeautifulSoup, Tag

try:  # lxml is faster; html.parser is always there
    import lxml  # noqa: F401

    HTML_PARSER = "lxml"
except ImportError:  # pragma: no cover - depends on the environment
    HTML_PARSER = "html.parser"

_BLOCKS = {
    "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
    "blockquote", "pre", "hr", "section", "article", "header", "footer", "dd", "dt",
}  # fmt: skip
_BLOCK_NAMES = sorted(_BLOCKS)
_DROP = ("script", "style", "head", "title", "meta", "template")
_GMAIL_QUOTES = "div.gmail_quote_container, div.gmail_quote"
_QUOTE_SELECTORS = (
    "blockquote",
    "div.yahoo_quoted",
    "div.moz-cite-prefix",
    "div.gmail_signature",
    "div.moz-signature",
    "pre.moz-signature",
    "div#Signature",
    "div.js-signature",
    "div.protonmail_quote",
    "div.protonmail_signature_block",
    "div.zmail_extra",
    "div#ms-outlook-mobile-signature",
)
# After these everything else in the document is the quoted original (Outlook desktop/web).
_CUT_SELECTORS = (
    "div#divRplyFwdMsg",
    "div#appendonsend",
    "div.OutlookMessageHeader",
    "div#mail-editor-reference-message-container",  # new Outlook for Mac
    "hr#stopSpelling",  # Hotmail and the old Outlook.com
)
_BORDER_TOP = re.compile(r"border-top\s*:[^;\"']*solid", re.I)
_FROM_LABEL = re.compile(
    r"^\s*(?:from|от|od|von|de|da|van|fra|från|від|kimden|差出人|发件人|寄件者)\s*[:：]", re.I
)
_SOURCE_BREAKS = re.compile(r"[\r\n]+")
_SPACES = re.compile(r"[ \t\u00a0\u200b\u200c\ufeff]+")


# Past these the tree walks of BeautifulSoup grow faster than the input (a 1 MB body of
# <br> lines took over 30 s, 20,000 nested divs as long); such bodies are flattened by one
# linear pass instead, and the text rules in `quotes` still find the quote.
TAG_LIMIT = 5000
HTML_LIMIT = 1_000_000
_FLAT_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]{0,15})?[^<>]{0,4000}>")
_SKIP_OPEN = re.compile(r"<(script|style|head|title|template)\b", re.I)


def too_big(html: str) -> bool:
    """Whether `html` is read by the linear flattener rather than parsed as a tree."""
    return len(html) > HTML_LIMIT or html.count("<", 0, HTML_LIMIT) > TAG_LIMIT


def _without_hidden(html: str) -> str:
    """`html` without comments and script/style/head blocks, in one pass over it."""
    lower = html.lower()  # once: every search below moves forward only
    out: list[str] = []
    pos = 0
    while True:
        comment = lower.find("<!--", pos)
        hidden = _SKIP_OPEN.search(lower, pos)
        starts = [i for i in (comment, hidden.start() if hidden else -1) if i >= 0]
        if not starts:
            out.append(html[pos:])
            return "".join(out)
        start = min(starts)
        out.append(html[pos:start])
        if start == comment:
            end = lower.find("-->", start + 4)
            pos = len(html) if end < 0 else end + 3
        else:
            assert hidden is not None
            close = lower.find(f"</{hidden.group(1)}", start)
            end = lower.find(">", close) if close >= 0 else -1
            pos = len(html) if end < 0 else end + 1


def _flat_tag(tag: re.Match[str]) -> str:
    name = (tag.group(2) or "").lower()
    if name in _BLOCKS or name == "br":
        return "\n"
    return "\t" if name in ("td", "th") and tag.group(1) else ""


def flat_text(html: str) -> str:
    """The text of an HTML body in linear time: tags become line breaks or nothing."""
    text = entities.unescape(_FLAT_TAG.sub(_flat_tag, _without_hidden(html[:HTML_LIMIT])))
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r", "").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def soup_of(html: str) -> BeautifulSoup:
    """A parsed document, with the configured parser."""
    return BeautifulSoup(html, HTML_PARSER)


def flowing_soup_of(html: str) -> BeautifulSoup:
    """A parsed document whose source line breaks are spaces, as a browser shows them: only
    blocks and <br> break lines (an Outlook header split over three source lines is one
    line). Documents with <pre> or <textarea>, where breaks are text, keep them."""
    lower = html.lower()
    if "<pre" not in lower and "<textarea" not in lower:
        html = _SOURCE_BREAKS.sub(" ", html)
    return BeautifulSoup(html, HTML_PARSER)


def _cut_from(node: Tag) -> None:
    """Remove `node` and everything after it in document order."""
    current: Tag | None = node
    while current is not None and current.name not in ("body", "html", "[document]"):
        for sibling in list(current.next_siblings):
            sibling.extract()
        current = current.parent if isinstance(current.parent, Tag) else None
    node.decompose()


def _outlook_header_block(soup: BeautifulSoup) -> Tag | None:
    """Outlook desktop's "From:/Sent:" block: a border-top div whose text starts with From."""
    for div in soup.find_all("div", style=_BORDER_TOP):
        if _FROM_LABEL.match(div.get_text(" ", strip=True) or ""):
            return div
    return None


def _wrapper_of(block: Tag) -> Tag:
    """The div that holds nothing but the separator block (Outlook wraps it; the original
    follows the wrapper), or the block itself. A parent with text of its own (Word's
    WordSection1 holding the reply too) is no wrapper: cutting it would cut the reply."""
    parent = block.parent
    if isinstance(parent, Tag) and parent.name == "div":
        own = parent.get_text(" ", strip=True)
        if own == block.get_text(" ", strip=True):
            return parent
    return block


def _remove_gmail_quote(quote: Tag) -> None:
    """Gmail's quote div, keeping what the sender typed inside it between the quoted parts
    (Gmail's inline answers): only its attribution line and blockquotes are the original."""
    blockquotes = quote.find_all("blockquote", recursive=False)
    if len(blockquotes) < 2:  # one quote (or a forward): the whole div is the original
        quote.decompose()
        return
    for tag in [*quote.select("div.gmail_attr"), *blockquotes]:
        if tag.parent is not None:
            tag.extract()
    if not quote.get_text(strip=True):
        quote.decompose()
    else:
        quote.unwrap()


def remove_quotes(soup: BeautifulSoup) -> None:
    """Drop quoted originals and signatures marked up by the common clients."""
    for name in _DROP:
        for tag in soup.find_all(name):
            tag.decompose()
    for selector in _CUT_SELECTORS:
        found = soup.select_one(selector)
        if found is not None:
            _cut_from(found)
    block = _outlook_header_block(soup)
    if block is not None:
        _cut_from(_wrapper_of(block))
    for quote in soup.select(_GMAIL_QUOTES):
        if quote.parent is not None:  # not inside one removed already
            _remove_gmail_quote(quote)
    for selector in _QUOTE_SELECTORS:
        for tag in soup.select(selector):
            tag.decompose()


def text_of(root: Tag) -> str:
    """Visible text with line breaks where blocks and <br> are, spaces collapsed; an emoji
    drawn as an image (Gmail's <img data-emoji="👍" alt="👍">) reads as that emoji."""
    for img in root.find_all("img"):
        emoji = str(img.get("data-emoji") or "")
        if emoji and len(emoji) <= 8:
            img.replace_with(emoji)
    for tag in root.find_all(_BLOCK_NAMES):
        tag.insert_before("\n")
        tag.insert_after("\n")
    for tag in root.find_all("br"):
        tag.replace_with("\n")
    for tag in root.find_all(("td", "th")):
        tag.insert_after("\t")
    text = root.get_text().replace("\r", "")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def visible_html_text(html: str) -> str:
    """The sender's own text from an HTML body (quotes and marked signatures removed)."""
    soup = flowing_soup_of(html)
    remove_quotes(soup)
    return text_of(soup)

"""Google Forms and website-form result mail -> ordered (question label, answer) pairs.

Form mail comes in a few shapes: two-cell table rows (Contact Form 7, WPForms, Tilda,
Webflow, notification add-ons), a bold/heading label followed by its value, Google's own
receipt that renders every option with the chosen one marked checked, and plain
"Label: value" lines. The HTML is linearised into labels, options and text, then paired.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag

from parsers.html import soup_of

_LABEL_LINE = re.compile(r"^\s*\*?([^:\n]{1,80}?)\*?\s*[:：]\s*(.*?)\s*$")
_LETTER = re.compile(r"[^\W\d_]")
_REQUIRED = re.compile(r"\s*\*\s*$")
_SPACES = re.compile(r"\s+")
_CHECKED_IMG = re.compile(r"(?<!un)checked|selected|radio_on|check_box(?!_outline)", re.I)
_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(?:bold|[6-9]00)", re.I)
_LABEL_CLASS = re.compile(r"question|title|label|field-name|heading", re.I)
_NOISE_LABELS = re.compile(
    r"^(?:https?|mailto|tel|from|to|subject|date|sent|от|кому|тема|od|do|temat|re|fwd?)$",
    re.I,
)
_MAX_FIELDS = 60


def _clean(text: str) -> str:
    return _REQUIRED.sub("", _SPACES.sub(" ", text).strip())


def label_value(line: str) -> tuple[str, str] | None:
    """("Label", "value") for a "Label: value" line whose label reads like a label."""
    found = _LABEL_LINE.match(line)
    if not found:
        return None
    label, value = _clean(found.group(1)), found.group(2).strip()
    if not _LETTER.search(label) or _NOISE_LABELS.match(label) or value.startswith("//"):
        return None
    if len(label.split()) > 12 or (label[-1:].isdigit() and value[:1].isdigit()):
        return None  # a long sentence, or a time such as "10:15"
    return label, value


def text_fields(text: str) -> list[tuple[str, str]]:
    """Pairs from "Label: value" lines, and "Label:" with the value on the next line."""
    fields: list[tuple[str, str]] = []
    lines = [line.strip() for line in text.split("\n")]
    i = 0
    while i < len(lines) and len(fields) < _MAX_FIELDS:
        pair = label_value(lines[i])
        if pair and not pair[1]:
            following = lines[i + 1] if i + 1 < len(lines) else ""
            if following and label_value(following) is None:
                fields.append((pair[0], following))
                i += 2
                continue
        elif pair:
            fields.append(pair)
        i += 1
    return fields


def _row_pairs(soup: BeautifulSoup) -> list[tuple[str, str]]:
    """Two-cell table rows: label cell, value cell (innermost tables only)."""
    fields: list[tuple[str, str]] = []
    for row in soup.find_all("tr"):
        if row.find("tr") is not None:
            continue
        cells = row.find_all(("td", "th"), recursive=False)
        if len(cells) != 2:
            continue
        label = _clean(cells[0].get_text(" ")).rstrip(":：").strip()
        value = _clean(cells[1].get_text(" "))
        if label and value and _LETTER.search(label) and len(label) <= 200:
            fields.append((label, value))
    return fields


def _is_label(tag: Tag) -> bool:
    if tag.name in ("th", "dt", "b", "strong", "h1", "h2", "h3", "h4", "h5", "h6", "label"):
        return True
    if tag.get("role") == "heading":
        return True
    if _BOLD_STYLE.search(str(tag.get("style") or "")):
        return True
    classes = " ".join(tag.get("class") or [])
    return bool(classes and _LABEL_CLASS.search(classes))


def _option_state(tag: Tag) -> bool | None:
    """True/False for a rendered choice option (checked or not), None if not an option."""
    role = tag.get("role")
    if role in ("radio", "checkbox", "option"):
        return str(tag.get("aria-checked") or tag.get("aria-selected") or "").lower() == "true"
    img = tag.find("img", recursive=False) if tag.name != "img" else None
    if img is not None:
        marker = f"{img.get('src') or ''} {img.get('alt') or ''}"
        if "radio" in marker or "check" in marker:
            return bool(_CHECKED_IMG.search(marker))
    return None


def _linear(soup: BeautifulSoup) -> list[tuple[str, str]]:
    """The document as ("label"|"option"|"text", text) items, unchecked options dropped."""
    items: list[tuple[str, str]] = []
    for tag in soup.find_all(True):
        if tag.name in ("script", "style", "head"):
            tag.decompose()
    consumed: set[int] = set()
    for tag in soup.find_all(True):
        if id(tag) in consumed:
            continue
        state = _option_state(tag)
        if state is not None or _is_label(tag):
            text = _clean(tag.get_text(" "))
            for inner in tag.find_all(True):
                consumed.add(id(inner))
            if state is True:
                items.append(("option", text))
            elif state is None and text:
                items.append(("label", text.rstrip(":：").strip()))
            continue
        own = _clean(" ".join(s for s in tag.find_all(string=True, recursive=False)))
        if own:
            items.append(("text", own))
    return items


def _pair_items(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    label: str | None = None
    for kind, text in items:
        if kind == "label":
            label = text
        elif kind == "option" and label:
            fields.append((label, text))
        elif kind == "text":
            pair = label_value(text)
            if pair and pair[1]:
                fields.append(pair)
                label = None
            elif label and not (fields and fields[-1][0] == label):
                fields.append((label, text))
                label = None
    return fields


def html_fields(html: str) -> list[tuple[str, str]]:
    """Pairs from an HTML form mail: table rows first, else labels/options/values."""
    soup = soup_of(html)
    rows = _row_pairs(soup)
    if len(rows) >= 2:
        return rows[:_MAX_FIELDS]
    return _pair_items(_linear(soup))[:_MAX_FIELDS]


def form_fields(html: str, text: str) -> list[tuple[str, str]]:
    """Ordered (label, value) pairs from whichever body says more."""
    from_html = html_fields(html) if html else []
    from_text = text_fields(text) if text else []
    return from_html if len(from_html) >= len(from_text) else from_text

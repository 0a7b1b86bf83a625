"""Google Forms and website-form result mail -> ordered (question label, answer) pairs.

Form mail comes in a few shapes: two-cell table rows (Contact Form 7, WPForms, Tilda,
Webflow, notification add-ons), a bold/heading label followed by its value, Google's own
receipt that renders every option with the chosen one marked checked, and plain
"Label: value" lines. The HTML is linearised into labels, options and text, then paired.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from parsers.answers import is_comment_label
from parsers.html import soup_of

# Possessive spaces and a value that ends on a non-space: no two quantifiers share a space run.
_LABEL_LINE = re.compile(r"^\s*+\*?([^:\n]{1,160}?)\*?\s*+[:：]\s*+((?:.*\S)?)\s*$")
_LETTER = re.compile(r"[^\W\d_]")
_REQUIRED = re.compile(r"(?<!\s)\s*\*\s*$")
_SPACES = re.compile(r"\s+")
_CHECKED_IMG = re.compile(r"(?<!un)checked|selected|radio_on|check_box(?!_outline)", re.I)
_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(?:bold|[6-9]00)", re.I)
_LABEL_CLASS = re.compile(r"question|title|label|field-name|heading", re.I)
_NOISE_LABELS = re.compile(
    r"^(?:https?|mailto|tel|from|to|subject|date|sent|от|кому|тема|od|do|temat|re|fwd?)$",
    re.I,
)
_MAX_FIELDS = 60
_MAX_ITEMS = 2000  # a form mail is short; a huge document is not read whole


def _clean(text: str) -> str:
    return _REQUIRED.sub("", _SPACES.sub(" ", text).strip())


def label_value(line: str) -> tuple[str, str] | None:
    """("Label", "value") for a "Label: value" line whose label reads like a label."""
    found = (":" in line or "：" in line) and _LABEL_LINE.match(line)
    if not found:
        return None
    label, value = _clean(found.group(1)), found.group(2).strip()
    if not _LETTER.search(label) or _NOISE_LABELS.match(label) or value.startswith("//"):
        return None
    longest = 24 if label.endswith("?") else 12  # a form's question may be long
    if len(label.split()) > longest or (label[-1:].isdigit() and value[:1].isdigit()):
        return None  # a long sentence, or a time such as "10:15"
    return label, value


_RULER = re.compile(r"^[*=_~-]{3,}$")  # 1C-Bitrix prints "Question\n*****\nAnswer"
_QUESTION_LINE = re.compile(r"^.{3,200}\?\s*\*?$")


def _next_value(lines: list[str], i: int) -> tuple[str, int] | None:
    """The line after line i (past a ruler) when it reads as a value, and where it ends."""
    j = i + 1
    if j < len(lines) and _RULER.match(lines[j]):
        j += 1
    if j < len(lines) and lines[j] and label_value(lines[j]) is None and len(lines[j]) <= 500:
        return lines[j], j + 1
    return None


def _comment_rest(lines: list[str], j: int) -> tuple[list[str], int]:
    """A comment's further lines: up to a blank line or the next "Label:" line."""
    rest: list[str] = []
    while j < len(lines) and lines[j] and label_value(lines[j]) is None:
        rest.append(lines[j])
        j += 1
    return rest, j


def _opens_a_field(lines: list[str], i: int) -> bool:
    """A line whose value stands on the next one: a question, a label over a ruler, or a
    comment label alone ("Komentarz")."""
    line = lines[i]
    ruled = i + 1 < len(lines) and bool(_RULER.match(lines[i + 1]))
    return bool(line) and bool(
        ruled or _QUESTION_LINE.match(line) or (len(line) <= 60 and is_comment_label(line))
    )


def text_fields(text: str) -> list[tuple[str, str]]:
    """Pairs from "Label: value" lines; "Label:", "A question?" or a label over a ruler with
    the value on the next line; a comment keeps its following lines."""
    fields: list[tuple[str, str]] = []
    lines = [line.strip() for line in text.split("\n")]
    i = 0
    while i < len(lines) and len(fields) < _MAX_FIELDS:
        pair = label_value(lines[i])
        found: tuple[str, str, int] | None = None
        if pair and pair[1]:
            found = (pair[0], pair[1], i + 1)
        elif pair or _opens_a_field(lines, i):
            below = _next_value(lines, i)
            if below is not None:
                found = (pair[0] if pair else _clean(lines[i]), *below)
        if found is None:
            i += 1
            continue
        label, value, i = found
        if is_comment_label(label):
            rest, i = _comment_rest(lines, i)
            value = "\n".join([value, *rest])
        fields.append((label, value))
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


def _linear(soup: BeautifulSoup) -> list[tuple[str, str, int]]:
    """The document as ("label"|"option"|"text", text, parent) items in reading order,
    unchecked options dropped; `parent` tells which text runs share an element. Each run of
    text is its own item, so "<p><b>Speed:</b> Fast</p>" reads label then value, and
    "Name: Ann<br>Speed: fast" reads as two lines."""
    for tag in soup.find_all(("script", "style", "head")):
        tag.decompose()
    items: list[tuple[str, str, int]] = []

    def walk(node: Tag) -> None:
        for child in node.children:
            if len(items) > _MAX_ITEMS:
                return
            if isinstance(child, Tag):
                state = _option_state(child)
                if state is None and not _is_label(child):
                    walk(child)
                    continue
                text = _clean(child.get_text(" "))
                if state is True:
                    items.append(("option", text, id(child)))
                elif state is None and text:
                    items.append(("label", text.rstrip(":：").strip(), id(child)))
            elif isinstance(child, NavigableString) and not isinstance(child, Comment):
                text = _clean(str(child))
                if text:
                    items.append(("text", text, id(node)))

    walk(soup)
    return items


def _pair_items(items: list[tuple[str, str, int]]) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    label: str | None = None  # waiting for its value
    question: str | None = None  # the last label: checked options belong to it
    comment_in: int | None = None  # the element whose further lines extend the comment
    for kind, text, parent in items:
        if kind == "label":
            label = question = text
            comment_in = None
        elif kind == "option" and question:
            fields.append((question, text))
            label, comment_in = None, None
        elif kind == "text":
            pair = label_value(text)
            if pair and pair[1]:
                fields.append(pair)
                label, comment_in = None, parent if is_comment_label(pair[0]) else None
            elif pair:  # "Speed:" with the value in the next element
                label, comment_in = pair[0], None
            elif label and not (fields and fields[-1][0] == label):
                fields.append((label, text))
                label, comment_in = None, parent if is_comment_label(label) else None
            elif comment_in == parent and fields:  # "line one<br>line two"
                fields[-1] = (fields[-1][0], f"{fields[-1][1]}\n{text}")
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

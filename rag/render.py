"""Turning untrusted text (documents, model output) into safe display strings.

`highlight_html` shows a cited span inside its surrounding text, HTML-escaped except
for our own <mark>; `safe_markdown` keeps a model's Markdown formatting but drops raw
HTML, images and link targets (a document could otherwise make the page fetch a URL);
`with_badges` makes `[n]` markers stand out. Pure functions, no Streamlit.
"""

from __future__ import annotations

import html
import re

CONTEXT_CHARS = 300
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^)]*)\)")
_TAG = re.compile(r"<[^>]*>")
_MARKER = re.compile(r"\[(\d+)\]")


def highlight_html(text: str, start: int, end: int, context: int = CONTEXT_CHARS) -> str:
    """`text[start:end]` in a <mark>, with up to `context` characters either side; all of
    the document's own characters are escaped, so only our markup is markup."""
    before = text[max(0, start - context) : start]
    after = text[end : end + context]
    lead = "…" if start > context else ""
    tail = "…" if end + context < len(text) else ""
    return ('<div class="citechat-source" style="white-space: pre-wrap; line-height: 1.5">'
            f"{lead}{html.escape(before)}<mark>{html.escape(text[start:end])}</mark>"
            f"{html.escape(after)}{tail}</div>")


def safe_markdown(text: str) -> str:
    """Markdown without raw HTML, images or links (their text stays)."""
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    return _TAG.sub(lambda m: html.escape(m.group(0)), text)


def with_badges(text: str) -> str:
    """`[n]` markers as Streamlit badges, so each citation is visibly one."""
    return _MARKER.sub(lambda m: f":blue-badge[{m.group(1)}]", text)

"""Turning untrusted text (documents, model output) into safe display strings.

Two kinds of output, chosen by what the text must look like:
- `highlight_html`: a cited span inside its surrounding text, as HTML in which every
  character of the document is escaped and only our own <div> and <mark> are markup.
- Markdown for Streamlit (rendered with HTML disabled): `safe_markdown` keeps a model's
  formatting but drops raw HTML, images and link targets (a document or a prompt
  injection could otherwise make the page fetch a URL); `stream_safe` does the same per
  streamed token; `escape_markdown` makes document text literal; `with_badges` makes
  `[n]` markers visibly citations.

Why the highlight is HTML and not Markdown: Streamlit's Markdown has many syntaxes
beyond CommonMark (`:color[...]` directives, `:material/...:` icons, `$` for LaTeX), so a
Markdown escape is easy to get subtly wrong; `html.escape` is complete for text, because
once `&`, `<` and `>` are escaped a document cannot open a tag, and st.html sanitizes the
result once more. Pure functions, no Streamlit.
"""

from __future__ import annotations

import html
import re

CONTEXT_CHARS = 300
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^)]*)\)")
_LINK_DEFINITION = re.compile(r"^( {0,3})\[([^\]]+)\]:", re.MULTILINE)
_TAG = re.compile(r"<[^>]*>")
_MARKER = re.compile(r"\[(\d+)\]")
# CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones that can
# start or end a construct in Streamlit's Markdown (including `:` for its directives).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:=\"'&])")


def highlight_html(text: str, start: int, end: int, context: int = CONTEXT_CHARS) -> str:
    """`text[start:end]` in a <mark>, with up to `context` characters either side; all of
    the document's own characters are escaped, so only our markup is markup."""
    lo, hi = max(0, start - context), min(len(text), end + context)
    if lo > 0:  # begin and end the context on whole words
        lo = next((i + 1 for i in range(lo, start) if text[i].isspace()), lo)
    if hi < len(text):
        hi = next((i for i in range(hi, end, -1) if text[i].isspace()), hi)
    before, after = text[lo:start], text[end:hi]
    lead = "…" if lo > 0 else ""
    tail = "…" if hi < len(text) else ""
    return ('<div class="citechat-source" style="white-space: pre-wrap; line-height: 1.6">'
            f"{lead}{html.escape(before)}<mark>{html.escape(text[start:end])}</mark>"
            f"{html.escape(after)}{tail}</div>")


def escape_markdown(text: str) -> str:
    """Document text shown literally by Markdown: every special character escaped and
    line breaks folded, so nothing in it can format, link, embed or break a label."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def safe_markdown(text: str) -> str:
    """Markdown without raw HTML, images or links (their text stays); `$` is literal, so
    prices are not read as LaTeX."""
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _LINK_DEFINITION.sub(r"\1\\[\2]:", text)  # [id]: url would serve ![x][id]
    text = text.replace("![", "!\\[").replace("$", "\\$")
    return _TAG.sub(lambda m: html.escape(m.group(0)), text)


def stream_safe(token: str) -> str:
    """One streamed token made safe on its own (an image's `![` may span two tokens):
    as character references, which Markdown never reads as syntax, no `!` can start an
    image, `<` HTML or an autolink, `$` LaTeX. The finished reply goes through
    `safe_markdown` instead."""
    return token.replace("!", "&#33;").replace("<", "&lt;").replace("$", "&#36;")


def with_badges(text: str) -> str:
    """`[n]` markers as Streamlit badges, so each citation is visibly one."""
    return _MARKER.sub(lambda m: f":blue-badge[{m.group(1)}]", text)


def page_label(pages: tuple[int, int] | list[int] | None) -> str:
    """"p. 12", "pp. 12–13", or "" for a document without pages."""
    if not pages:
        return ""
    first, last = pages
    return f"p. {first}" if first == last else f"pp. {first}–{last}"


def short(text: str, max_chars: int = 160) -> str:
    """`text` on one line, cut at a word boundary with "…" when it is longer than
    `max_chars` (a title, a label or a quote shown in a list; a span is never cut)."""
    flat = " ".join(text.split())
    if len(flat) <= max_chars:
        return flat
    cut = flat[: max_chars - 1]
    space = len(cut) if flat[len(cut)] == " " else cut.rfind(" ")
    return (cut[:space] if space > max_chars // 2 else cut).rstrip(" ,;:–—-") + "…"

"""HTML: the visible text, one line per block of text, scripts and styles left out.

The extracted text is what offsets point into (the markup is not kept). The title is
the page's <title>, else its first <h1>, else its first line of text. It does not
render CSS, run scripts or follow links.
"""

from __future__ import annotations

from rag.chunking import first_line_title
from rag.readers.text import TITLE_CHARS, decode
from rag.render import short
from rag.types import Extracted


def _title(soup) -> str:
    for tag in (soup.title, soup.find("h1")):
        if tag is not None and (words := " ".join(tag.get_text(" ").split())):
            return short(words, TITLE_CHARS)
    return ""


def read_html(data: bytes) -> Extracted:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode(data), "html.parser")
    title = _title(soup)
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    text = "\n".join(line for line in lines if line)
    return Extracted(text, title or first_line_title(text, TITLE_CHARS))

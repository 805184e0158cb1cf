"""Telling page furniture from prose: navigation and appeal phrases of web pages, the end
of an article's body, headlines, photo credits, and the running headers and page numbers
a PDF reader marks (`Extracted.furniture`).

Chunks are weighted by it (1.0 for prose, less for furniture) so that retrieval ranks
furniture below the text it surrounds; nothing is removed, so offsets stay exact. It
does not read documents or decide titles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.types import Chunk, Document

FURNITURE_WEIGHT = 0.5

BOILERPLATE = re.compile(
    r"share this article|original article link|channel website|printable version|"
    r"latest news from|support (?:us|the [\w ]+)!?|small favou?r to ask|read more|"
    r"subscribe|donat(?:e|ion)|cookie|all rights reserved|\bcontinue\b",
    re.IGNORECASE,
)
# A line like these ends an article's body on most news sites; what follows it is page
# furniture (appeals, share links, related stories).
_END_OF_BODY = re.compile(
    r"^(?:the views expressed|share this article|related (?:articles|stories)|"
    r"all rights reserved|©|copyright\b|read more\b|support (?:us|the )|"
    r"… we have a small favou?r)",
    re.IGNORECASE | re.MULTILINE,
)
_PHOTO_CREDIT = re.compile(
    r"\b(?:photo|image|picture|illustration)\b.{0,40}(?:\(cc[ -]|©|getty|reuters|\bap\b|afp|"
    r"shutterstock|wikimedia)|\(cc by[\w -]*\d|©", re.IGNORECASE)


def _is_headline(line: str) -> bool:
    """Title Case without a full stop ("Russia and West Continue to Talk")."""
    words = [w for w in line.split() if len(w) >= 4 and w[0].isalpha()]
    capitalised = sum(w[0].isupper() for w in words)
    return len(words) >= 3 and capitalised >= 0.8 * len(words) and not line.rstrip().endswith(".")


def is_furniture(line: str) -> bool:
    """Whether a line is page furniture rather than prose: a headline, a photo caption
    with its credit, an end-of-body disclaimer, or mostly navigation and appeal phrases."""
    return bool(_is_headline(line) or _PHOTO_CREDIT.search(line)
                or _END_OF_BODY.match(line.strip()) or boilerplate_weight(line) < 1.0)


def end_of_body(text: str) -> int:
    """Where a web article's body ends: the first end-of-body line in its last third
    (len(text) when there is none)."""
    tail_from = len(text) * 2 // 3
    match = _END_OF_BODY.search(text, tail_from)
    return match.start() if match else len(text)


def boilerplate_weight(text: str, after_body: bool = False) -> float:
    """1.0 for ordinary prose, less for page furniture: chunks past the end of an
    article's body, or where navigation/appeal phrases cover a large share of the words."""
    words = len(text.split())
    hits = sum(len(m.group(0).split()) for m in BOILERPLATE.finditer(text))
    if after_body or (words and hits / words >= 0.15):
        return FURNITURE_WEIGHT
    return 1.0


def _furniture_share(chunk: Chunk, furniture: Sequence[tuple[int, int]]) -> float:
    covered = sum(max(0, min(end, chunk.end) - max(start, chunk.start))
                  for start, end in furniture)
    return covered / max(1, chunk.end - chunk.start)


def boilerplate_weights(doc: Document, chunks: Sequence[Chunk],
                        furniture: Sequence[tuple[int, int]] = ()) -> list[float]:
    """Each chunk's weight: web boilerplate as `boilerplate_weight` says, and a chunk
    mostly made of marked page furniture (running headers, page numbers) down-weighted
    like it. A paged document has no web "end of body"."""
    body_end = len(doc.text) if furniture else end_of_body(doc.text)
    return [FURNITURE_WEIGHT if _furniture_share(c, furniture) >= 0.5
            else boilerplate_weight(c.text, c.start >= body_end) for c in chunks]

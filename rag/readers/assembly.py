"""A PDF's pages of lines into one text, with each page's range and the page furniture.

Running headers, footers and page numbers are found across pages (a line at the top or
bottom of a page whose text, digits aside, recurs at the top or bottom of other pages,
or a bare page number there); they stay in the text, each as its own paragraph at the
start of its page, and their ranges are returned so that chunks holding them can be
down-weighted. A paragraph interrupted by a caption, a footnote or the page break
carries on where it left off: what interrupts it is moved after it (on its own page), and
the two parts are joined by a space, as are printed lines inside a paragraph.
Paragraphs are separated by a blank line. Pure: no PDF is read here.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from rag.readers.hyphens import Vocabulary, glue
from rag.readers.layout import HYPHEN_MARK, Block, Line, blocks_of, same_size
from rag.render import short
from rag.types import Extracted

EDGE_LINES = 2  # lines at the top and at the bottom of a page that may be furniture
EDGE_ZONE = 0.1  # ...if they lie within this share of the page's height from its edge
_PAGE_NUMBER = re.compile(r"^[-–—(\[]?\s*(?:page\s+)?(?:\d{1,4}|[ivxlc]{1,7})"
                          r"(?:\s*(?:of|/)\s*\d{1,4})?\s*[-–—)\]]?$", re.IGNORECASE)
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
                            "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"})
# TeX fonts without a Unicode map print the ff ligature as U+21B5 (↵) inside words
_BROKEN_FF = re.compile(r"(?<=[^\W\d_])\u21b5(?=[^\W\d_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\uffff]")
_SPACES = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]")  # printed as a space
PARAGRAPH = "\n\n"


def clean(text: str) -> str:
    """A printed line's text with ligatures spelt out and no control characters (glyphs
    without a Unicode map are left to the vocabulary: Vocabulary.spell)."""
    text = _BROKEN_FF.sub("ff", text.translate(_LIGATURES))
    if text.endswith(HYPHEN_MARK):
        text = text[:-1] + "-"
    return _SPACES.sub(" ", _CONTROL.sub(" ", text))


def _key(line: Line) -> str:
    return re.sub(r"\d+", "#", " ".join(line.text.lower().split()))


def _edges(lines: list[Line], height: float | None) -> list[int]:
    """Indices of the lines at the top and at the bottom of the page (within EDGE_ZONE
    of its edges, when the page's height is known)."""
    by_height = sorted(range(len(lines)), key=lambda i: -lines[i].top)
    edges = set(by_height[:EDGE_LINES] + by_height[-EDGE_LINES:])
    if height:
        edges = {i for i in edges if lines[i].bottom > (1 - EDGE_ZONE) * height
                 or lines[i].top < EDGE_ZONE * height}
    return sorted(edges)


def furniture_lines(pages: list[list[Line]],
                    heights: list[float] | None = None) -> set[tuple[int, int]]:
    """(page, line index) of the running headers, footers and page numbers."""
    edges = [_edges(page, heights[n] if heights else None) for n, page in enumerate(pages)]
    keys = Counter(_key(page[i]) for page, near in zip(pages, edges, strict=True) for i in near)
    repeats = max(2 if len(pages) <= 4 else 3, math.ceil(0.05 * len(pages)))
    return {(n, i) for n, page in enumerate(pages) for i in edges[n]
            if (keys[_key(page[i])] >= repeats and len(page) > EDGE_LINES)
            or _PAGE_NUMBER.match(page[i].text.strip())}


def _body_size(pages: list[list[Line]]) -> float:
    sizes: Counter[float] = Counter()
    for page in pages:
        for line in page:
            sizes[round(line.size, 1)] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _continues(before: Block, after: Block) -> bool:
    """Whether `after` carries on the sentence `before` leaves unfinished."""
    if before.kind != "body" or after.kind != "body" or before.ends_sentence:
        return False
    if not same_size(before.size, after.size):
        return False
    return before.lines[-1].hyphen or before.cut_off or after.first[:1].islower()


def mend(blocks: list[Block]) -> list[list[Block]]:
    """The page's blocks as paragraphs (lists of blocks read as one): a body block that
    carries on an unfinished one joins it, and what stood between them (captions, notes,
    furniture) follows the paragraph instead."""
    paragraphs: list[list[Block]] = []
    waiting: list[Block] = []  # interruptions of the open paragraph
    for block in blocks:
        open_one = paragraphs[-1] if paragraphs else None
        if open_one is not None and _continues(open_one[-1], block):
            open_one.append(block)
            continue
        if block.kind != "body" and open_one is not None and not open_one[-1].ends_sentence \
                and open_one[-1].kind == "body":
            waiting.append(block)
            continue
        paragraphs += [[b] for b in waiting]
        waiting = []
        paragraphs.append([block])
    paragraphs += [[b] for b in waiting]
    return paragraphs


def _across_pages(pages: list[list[list[Block]]]) -> list[bool]:
    """Whether each page's first paragraph carries on the previous page's last one;
    reorders both pages so that only the page break lies between them."""
    joined = [False] * len(pages)
    for n in range(1, len(pages)):
        before, after = pages[n - 1], pages[n]
        tail = next((i for i in range(len(before) - 1, -1, -1) if before[i][0].kind == "body"),
                    None)
        head = next((i for i, p in enumerate(after) if p[0].kind == "body"), None)
        if tail is None or head is None or (tail == 0 and joined[n - 1]):
            continue
        if not _continues(before[tail][-1], after[head][0]):
            continue
        before.append(before.pop(tail))
        after.insert(0, after.pop(head))
        joined[n] = True
    return joined


class _Text:
    """The document's text as it is built, with the ranges recorded on the way."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.vocabulary = vocabulary
        self.furniture: list[tuple[int, int]] = []
        self.last: Line | None = None  # the line a continuation is glued to

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def line(self, line: Line, first_of_paragraph: bool) -> tuple[int, int]:
        """Adds a printed line; returns (characters dropped before it, characters put
        between)."""
        text = self.vocabulary.spell(clean(line.text)).strip()
        drop, between = 0, ""
        if self.last is not None and not first_of_paragraph:
            drop, between = glue(self.parts[-1], text, self.last.hyphen, self.vocabulary)
            if drop:
                self.parts[-1] = self.parts[-1][:-drop]
                self.length -= drop
            self.add(between)
        self.add(text)
        self.last = line
        return drop, len(between)

    def paragraph(self, paragraph: list[Block], carried_on: bool = False) -> tuple[int, int]:
        """Adds a paragraph; `carried_on`: it continues the text before it (across a
        page break), so it is glued to it like a printed line. Returns the glue's
        (characters dropped, characters put between)."""
        start, seam = self.length, (0, 0)
        for i, block in enumerate(paragraph):
            for j, line in enumerate(block.lines):
                glued = self.line(line, first_of_paragraph=i == j == 0 and not carried_on)
                seam = glued if i == j == 0 else seam
        if paragraph[0].kind == "furniture":
            self.furniture.append((start, self.length))
        return seam


def title_from(pages: list[list[Block]], body_size: float) -> str:
    """The first page's largest print above body size (its heading), else its first line."""
    for blocks in pages:
        named = [b for b in blocks[:12] if b.kind != "furniture" and re.search(r"\w\w", b.first)]
        if not named:
            continue
        heading = max(named, key=lambda b: b.size)
        larger = heading.size > body_size and not same_size(heading.size, body_size)
        chosen = heading.lines if larger else named[0].lines[:1]
        return short(" ".join(clean(ln.text) for ln in chosen), 200)
    return ""


def assemble(pages: list[list[Line]], metadata_title: str = "",
             heights: list[float] | None = None) -> Extracted:
    """The document's Extracted from its pages' lines (each page in reading order) and,
    when known, the pages' heights."""
    furniture = furniture_lines(pages, heights)
    body_size = _body_size(pages)
    blocked: list[list[Block]] = []
    for n, lines in enumerate(pages):
        edge = [Block([ln], "furniture", n) for i, ln in enumerate(lines) if (n, i) in furniture]
        blocks = blocks_of([ln for i, ln in enumerate(lines) if (n, i) not in furniture], n)
        for block in blocks:
            if block.kind == "body" and block.size < body_size and not same_size(
                    block.size, body_size):
                block.kind = "note"
        blocked.append(edge + blocks)
    vocabulary = Vocabulary(
        (clean(ln.text), ln.hyphen, i > 0 and page[i - 1].hyphen)
        for page in pages for i, ln in enumerate(page))
    paragraphs = [mend(blocks) for blocks in blocked]
    joined = _across_pages(paragraphs)
    text = _Text(vocabulary)
    ranges: list[tuple[int, int]] = []
    for n, page in enumerate(paragraphs):
        if page and text.length and not joined[n]:
            text.add(PARAGRAPH)
        start = text.length
        for i, paragraph in enumerate(page):
            if i:
                text.add(PARAGRAPH)
            drop, between = text.paragraph(paragraph, carried_on=i == 0 and joined[n])
            if i == 0 and joined[n]:  # the previous page ends where the glue begins
                ranges[-1] = (ranges[-1][0], ranges[-1][1] - drop)
                start += between - drop
        ranges.append((start, text.length))
    title = metadata_title if _usable_title(metadata_title) else title_from(blocked, body_size)
    return Extracted("".join(text.parts), title, tuple(ranges), tuple(text.furniture))


def _usable_title(title: str) -> bool:
    """Metadata titles are often a file name or a word processor's placeholder."""
    lowered = title.strip().lower()
    return (len(lowered) > 3 and lowered not in ("untitled", "title", "document")
            and not re.search(r"\.(?:docx?|tex|dvi|pdf|indd|pptx?|rtf)$|^microsoft word",
                              lowered))

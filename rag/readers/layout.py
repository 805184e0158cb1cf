"""One PDF page's printed lines into blocks (paragraphs, captions, headings) in reading order.

Pure geometry on `Line`s (PDF units, y upwards): pieces of text PDFium reports on one
baseline become one line (a raised footnote mark is not a line of its own); a page with
two columns is read column by column between the lines that span both; consecutive lines
form a block until a vertical gap, a change of font size, a first-line indent, a short
line that ends a sentence, a jump to another column or a caption ("Figure 3:") starts
another. It does not join blocks across pages or decide what is page furniture
(rag/readers/assembly.py does) and reads no PDF (rag/readers/pdf.py does).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from statistics import median

CAPTION = re.compile(r"^(?:Figure|Fig\.|Table|Tab\.|Listing|Algorithm|Exhibit|Chart)\s*"
                     r"[A-Z]?\d+(?:\.\d+)*\s*[.:|—–-]")
# PDFium's mark for a hyphen it found at a line's end; also what some fonts without a
# Unicode map print for a ligature inside a word
HYPHEN_MARK = "\ufffe"
_SENTENCE_END = re.compile(r"[.!?:…][\"'”’)\]]*$")


@dataclass(frozen=True)
class Line:
    """Text printed on one baseline, with its box (loose font boxes) and print size (the
    height of its font's box, about 1.2 times the font size)."""

    text: str
    x0: float
    x1: float
    bottom: float
    top: float
    size: float
    hyphen: bool = False  # the line ends in a hyphen printed at the line's end
    rotated: bool = False  # printed at an angle (a margin stamp, a rotated table)
    bold: bool = False  # its first character is bold

    @property
    def height(self) -> float:
        return max(self.top - self.bottom, 0.1)


@dataclass
class Block:
    """Consecutive lines read as one unit: a paragraph, a heading, a caption."""

    lines: list[Line]
    kind: str = "body"  # "body", "caption", "note" (smaller print) or "furniture"
    page: int = 0  # 0-based
    size: float = field(init=False)

    def __post_init__(self) -> None:
        self.size = median(line.size for line in self.lines)

    @property
    def first(self) -> str:
        return self.lines[0].text

    @property
    def last(self) -> str:
        return self.lines[-1].text

    @property
    def ends_sentence(self) -> bool:
        return bool(_SENTENCE_END.search(self.last)) and not self.lines[-1].hyphen

    @property
    def cut_off(self) -> bool:
        """Whether its last line is a full one: the column or page ended, not the text."""
        right = max(line.x1 for line in self.lines)
        return len(self.lines) >= 2 and self.lines[-1].x1 >= right - 2 * self.size


def same_size(a: float, b: float) -> bool:
    """Whether two print sizes are the same font size, give or take rounding."""
    return abs(a - b) <= 0.08 * max(a, b)


def _overlap(a: Line, b: Line) -> float:
    return min(a.top, b.top) - max(a.bottom, b.bottom)


def merge_segments(segments: list[Line]) -> list[Line]:
    """Pieces PDFium split at a change of baseline (a superscript, a footnote mark) back
    into the line they are printed on."""
    lines: list[Line] = []
    for piece in segments:
        line = lines[-1] if lines else None
        if (line is not None and line.hyphen and line.text.endswith(HYPHEN_MARK)
                and _overlap(line, piece) >= 0.5 * min(line.height, piece.height)
                and abs(piece.x0 - line.x1) < 0.3 * line.size):
            # the "hyphen" is mid-line: a ligature the font does not map
            lines[-1] = replace(line, text=line.text + piece.text, x1=piece.x1,
                                hyphen=piece.hyphen)
        elif (line is not None and not line.hyphen
                and _overlap(line, piece) >= 0.5 * min(line.height, piece.height)
                and line.rotated == piece.rotated
                and line.x1 - 0.5 * line.size <= piece.x0 <= line.x1 + 1.5 * max(line.size,
                                                                                   piece.size)):
            glue = "" if piece.x0 - line.x1 < 0.15 * min(line.size, piece.size) else " "
            main = line if line.size >= piece.size else piece  # keeps the body text's box
            lines[-1] = replace(main, text=line.text + glue + piece.text, x0=line.x0,
                                x1=piece.x1, hyphen=piece.hyphen)
        else:
            lines.append(piece)
    return lines


def reading_order(lines: list[Line], width: float) -> list[Line]:
    """Two-column pages column by column, each band between full-width lines on its own;
    other pages as PDFium reports them; text printed at an angle last."""
    upright = [line for line in lines if not line.rotated]
    return _columns(upright, width) + [line for line in lines if line.rotated]


def _columns(lines: list[Line], width: float) -> list[Line]:
    middle = width / 2
    side = ["left" if ln.x1 <= middle + 2 else "right" if ln.x0 >= middle - 2 else "span"
            for ln in lines]
    counts = Counter(side)
    if min(counts["left"], counts["right"]) < 5 or counts["span"] > counts["left"]:
        return lines
    spans = sorted((ln.top for ln, s in zip(lines, side, strict=True) if s == "span"),
                   reverse=True)

    def band(line: Line) -> int:  # how many full-width lines lie above it
        return sum(top > line.top + 0.5 * line.height for top in spans)

    order = {"span": 0, "left": 1, "right": 2}
    keyed = [(band(ln), order[s], i) for i, (ln, s) in enumerate(zip(lines, side, strict=True))]
    return [lines[i] for *_, i in sorted(keyed)]


def _starts_block(prev: Line, line: Line, left: float, right: float) -> bool:
    size = max(prev.size, line.size)
    gap = prev.bottom - line.top
    if prev.rotated != line.rotated or (prev.bold and not line.bold):
        return True
    if gap > 0.6 * size or line.top > prev.top + 0.5 * size:  # a gap, or up a column
        return True
    if not same_size(prev.size, line.size) or CAPTION.match(line.text):
        return True
    if abs(line.x0 - prev.x0) > 6 * size and line.x0 < prev.x0:  # back to another column
        return True
    short = prev.x1 < right - 3 * size
    if short and _SENTENCE_END.search(prev.text) and not prev.hyphen:
        return True
    indented = line.x0 > prev.x0 + 0.7 * size and line.x0 < left + 4 * size
    return indented and abs(prev.x0 - left) < 0.5 * size and not short


def blocks_of(lines: list[Line], page: int = 0) -> list[Block]:
    """The page's lines (in reading order) grouped into blocks."""
    blocks: list[Block] = []
    current: list[Line] = []
    for line in lines:
        if current:
            left = min(ln.x0 for ln in current)
            right = max(ln.x1 for ln in current)
            if _starts_block(current[-1], line, left, right):
                blocks.append(_block(current, page))
                current = []
        current.append(line)
    if current:
        blocks.append(_block(current, page))
    return blocks


def _block(lines: list[Line], page: int) -> Block:
    kind = "note" if lines[0].rotated else "caption" if CAPTION.match(lines[0].text) else "body"
    return Block(list(lines), kind, page)

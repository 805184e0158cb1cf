"""Reading a PDF with PDFium (pypdfium2): the printed lines of every page, then the text.

PDFium gives each page's characters in content order with the spaces and line breaks it
infers; this module cuts them into pieces at PDFium's line breaks (and after a hyphen it
flags as ending a line), measures each piece's box and font size, and hands the lines to
rag/readers/layout.py (lines into blocks) and rag/readers/assembly.py (blocks into the
document's text, pages and furniture). Encrypted files that need a password and files
PDFium cannot open get one-line reasons. It does no OCR: a scanned page without a text
layer contributes an empty page. Text a page's content holds outside its visible area
(media box and crop box) is not read: a spread cut into two pages prints half of it.
"""

from __future__ import annotations

import ctypes
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rag.errors import UnreadableDocument
from rag.readers.assembly import assemble
from rag.readers.layout import HYPHEN_MARK, Line, merge_segments, reading_order
from rag.types import Extracted

# PDFium is not thread-safe, and the app serves every session from one process.
PDFIUM_LOCK = threading.RLock()
_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD


@contextmanager
def opened(data: bytes) -> Iterator:
    """The PDFium document for `data`, under the lock; UnreadableDocument when it
    cannot be opened."""
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if getattr(exc, "err_code", None) == _PASSWORD_ERROR:
                raise UnreadableDocument("encrypted PDF (it needs a password)") from None
            raise UnreadableDocument("corrupt PDF (PDFium cannot open it)") from None
        try:
            yield pdf
        finally:
            pdf.close()


def page_chars(textpage) -> str:
    """The page's characters as PDFium numbers them (generated spaces and line breaks
    included), so that character i of the string is PDFium's character i."""
    import pypdfium2.raw as pdfium_c

    count = pdfium_c.FPDFText_CountChars(textpage)
    if count <= 0:
        return ""
    buffer = ctypes.create_string_buffer((count + 1) * 2)
    got = pdfium_c.FPDFText_GetText(textpage, 0, count,
                                    ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)))
    text = buffer.raw[: max(0, got - 1) * 2].decode("utf-16-le", errors="replace")
    if len(text) != count:  # characters outside the BMP take two units: one at a time
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage, i) or 0xFFFD)
                       for i in range(count))
    return text


def off_page(box: tuple[float, float, float, float],
             visible: tuple[float, float, float, float]) -> bool:
    """Whether a box (left, bottom, right, top) has its centre outside the page's
    visible area (`page.get_bbox()`): a spread cut into two pages keeps the whole
    spread's text on each, shifted so that half of it falls off the page."""
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return not (visible[0] <= x <= visible[2] and visible[1] <= y <= visible[3])


def _pieces(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of the runs between PDFium's line breaks, a run also ending after a
    hyphen PDFium marked as ending a line."""
    start = 0
    for i, ch in enumerate(text):
        if ch in "\r\n":
            if start < i:
                yield start, i
            start = i + 1
        elif ch == HYPHEN_MARK:
            yield start, i + 1
            start = i + 1
    if start < len(text):
        yield start, len(text)


def _trimmed(text: str, pieces: Iterator[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    for start, end in pieces:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            yield start, end


def _gutter_split(textpage, text: str, pieces: Iterator[tuple[int, int]], width: float,
                  box) -> Iterator[tuple[int, int]]:
    """Pieces cut where they cross an empty middle of the page: PDFium reads a line of
    each column as one line when the page prints them row by row."""
    import pypdfium2.raw as pdfium_c

    middle = width / 2
    for start, end in pieces:
        (x0, bottom, _, top), (_, _, x1, _) = box(start), box(end - 1)
        height = max(top - bottom, 1.0)
        at = pdfium_c.FPDFText_GetCharIndexAtPos(textpage, middle, (top + bottom) / 2,
                                                 height, height / 4) if x0 < middle < x1 else 0
        # the middle holds a character, or no more than a word space: not a gutter
        if at >= 0 and (text[at:at + 1] != " " or box(at)[2] - box(at)[0] < 1.5 * height):
            yield start, end
            continue
        spaces = [i for i in range(start, end) if text[i] == " "]
        # the last space before the gutter: boxes grow left to right along a line
        lo, hi = 0, len(spaces)
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (mid + 1, hi) if box(spaces[mid] - 1)[2] < middle else (lo, mid)
        cut = spaces[lo - 1] if lo else None
        # two columns of text fill both halves; a table row with an empty middle does not
        if cut is None or min(box(cut - 1)[2] - x0, x1 - box(cut + 1)[0]) < 0.25 * width:
            yield start, end
            continue
        yield from _trimmed(text, iter([(start, cut), (cut + 1, end)]))


def _print_size(box, text: str, start: int, end: int, samples: int = 5) -> float:
    """The median height of the font boxes of a few of the run's characters: PDFium's
    font size is the nominal one (often 1 under a scaling matrix), and one character's
    box can be taller than its neighbours' (a brace, a superscript)."""
    step = max(1, (end - start) // samples)
    heights = sorted(top - bottom for _, bottom, _, top in
                     (box(i) for i in range(start, end, step) if not text[i].isspace()))
    return max(heights[len(heights) // 2], 0.1) if heights else 1.0


def page_lines(textpage, width: float,
               visible: tuple[float, float, float, float] | None = None) -> list[Line]:
    """The page's printed lines in reading order; those off the `visible` area left out."""
    import pypdfium2.raw as pdfium_c

    # PDFium marks a hyphen it takes to end a line as U+FFFE or, in some fonts, U+0002
    text = page_chars(textpage).replace("\x02", HYPHEN_MARK)
    rect = pdfium_c.FS_RECTF()

    def box(i: int) -> tuple[float, float, float, float]:
        pdfium_c.FPDFText_GetLooseCharBox(textpage, i, rect)
        return rect.left, rect.bottom, rect.right, rect.top

    segments = []
    for start, end in _gutter_split(textpage, text, _trimmed(text, _pieces(text)), width, box):
        (x0, b0, _, t0), (_, b1, x1, t1) = box(start), box(end - 1)
        if visible and off_page((x0, min(b0, b1), x1, max(t0, t1)), visible):
            continue
        piece = text[start:end]
        angle = pdfium_c.FPDFText_GetCharAngle(textpage, start)
        segments.append(Line(piece, x0, max(x1, x0), min(b0, b1), max(t0, t1),
                             _print_size(box, text, start, end),
                             piece.endswith((HYPHEN_MARK, "-", "\u00ad")),
                             rotated=abs(math.sin(angle)) > 0.1,
                             bold=pdfium_c.FPDFText_GetFontWeight(textpage, start) >= 600))
    return reading_order(merge_segments(segments), width)


def metadata_title(pdf) -> str:
    try:
        return str(pdf.get_metadata_value("Title") or "").strip()
    except Exception:  # a broken Info dictionary: the title comes from the text instead
        return ""


def read_pdf(data: bytes, on_page: Callable[[int, int], None] | None = None) -> Extracted:
    """The PDF's text as a reader sees it, with its pages and furniture; `on_page(done,
    total)` after each page is read."""
    with opened(data) as pdf:
        total = len(pdf)
        if total == 0:
            raise UnreadableDocument("corrupt PDF (no pages)")
        pages: list[list[Line]] = []
        heights: list[float] = []
        for number in range(total):
            page = pdf[number]
            heights.append(page.get_height())
            try:
                textpage = page.get_textpage()
                try:
                    pages.append(page_lines(textpage, page.get_width(), page.get_bbox()))
                finally:
                    textpage.close()
            finally:
                page.close()
            if on_page:
                on_page(number + 1, total)
        title = metadata_title(pdf)
    return assemble(pages, title, heights)

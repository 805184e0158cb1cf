"""A PDF citation shown on its page: the page rendered (PDFium) with the cited characters
highlighted where the PDF prints them.

The cited span of the extracted text is mapped back to the page's own characters by
matching letters and digits only (the extracted text joined lines, undid hyphens and
spelt out ligatures, so spaces and hyphens differ; the letters do not): an exact match
nearest the span's place on the page, else the longest common runs (difflib). The
matched characters' boxes, merged line by line, are the highlight. Pure bytes in,
PNG out; no Streamlit, no store.
"""

from __future__ import annotations

import ctypes
import difflib
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rag.readers.pdf import off_page, opened, page_chars
from rag.types import pages_of

__all__ = ["PageView", "cited_pages", "pages_of"]


SCALE = 1.5  # pixels per PDF unit (108 dpi): readable beside the text view
HIGHLIGHT = (255, 214, 0, 110)  # RGBA: a translucent marker yellow
MIN_MATCHED = 0.8  # share of the cited letters the page must hold for a highlight

Box = tuple[float, float, float, float]  # left, top, right, bottom in pixels


@dataclass(frozen=True)
class PageView:
    """One rendered page (1-based `page`) and the highlighted boxes on it."""

    page: int
    png: bytes
    width: int
    height: int
    boxes: tuple[Box, ...]


def _letters(text: str) -> tuple[str, list[int]]:
    """`text`'s letters and digits, case-folded and ligatures spelt out, with the index in
    `text` each came from."""
    out, where = [], []
    for i, ch in enumerate(text):
        for piece in unicodedata.normalize("NFKC", ch).casefold():
            if piece.isalnum():
                out.append(piece)
                where.append(i)
    return "".join(out), where


def match(page_text: str, cited: str, near: float = 0.0) -> list[int]:
    """Indices of `page_text`'s characters that print `cited` (empty when the page does
    not hold it); of several exact matches, the one nearest `near` (0..1 of the page)."""
    page, where = _letters(page_text)
    wanted, _ = _letters(cited)
    if not wanted or not page:
        return []
    found, at = [], page.find(wanted)
    while at >= 0:
        found.append(at)
        at = page.find(wanted, at + 1)
    if found:
        best = min(found, key=lambda a: abs(a / len(page) - near))
        return sorted({where[k] for k in range(best, best + len(wanted))})
    matcher = difflib.SequenceMatcher(None, page, wanted, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size >= 4]
    if sum(b.size for b in blocks) < MIN_MATCHED * len(wanted):
        return []
    return sorted({where[k] for b in blocks for k in range(b.a, b.a + b.size)})


def _device_boxes(page, textpage, indices: Sequence[int], width: int, height: int) -> list[Box]:
    """Pixel boxes of the characters, one per run of characters on one line."""
    import pypdfium2.raw as pdfium_c

    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    x, y = ctypes.c_int(), ctypes.c_int()

    def device(px: float, py: float) -> tuple[int, int]:
        pdfium_c.FPDF_PageToDevice(page, 0, 0, width, height, 0, px, py, x, y)
        return x.value, y.value

    boxes: list[list[float]] = []
    for i in indices:
        if not pdfium_c.FPDFText_GetCharBox(textpage, i, left, right, bottom, top):
            continue
        (x0, y0), (x1, y1) = device(left.value, top.value), device(right.value, bottom.value)
        x0, x1, y0, y1 = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
        if x1 <= x0 or y1 <= y0:
            continue  # a space or an invisible character
        last = boxes[-1] if boxes else None
        if last and min(last[3], y1) - max(last[1], y0) > 0.5 * (y1 - y0) and x0 >= last[0]:
            last[1], last[2], last[3] = min(last[1], y0), max(last[2], x1), max(last[3], y1)
        else:
            boxes.append([x0, y0, x1, y1])
    return [(b[0] - 1, b[1] - 1, b[2] + 1, b[3] + 1) for b in boxes]


def _png(bitmap_image, boxes: Sequence[Box]) -> bytes:
    from PIL import Image, ImageDraw

    base = bitmap_image.convert("RGBA")
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for box in boxes:
        draw.rectangle(box, fill=HIGHLIGHT)
    out = io.BytesIO()
    Image.alpha_composite(base, overlay).convert("RGB").save(out, format="PNG")
    return out.getvalue()


def _view(pdf, number: int, indices: Sequence[int], scale: float) -> PageView:
    handle = pdf[number - 1]
    textpage = handle.get_textpage()
    try:
        image = handle.render(scale=scale).to_pil()
        boxes = _device_boxes(handle, textpage, indices, image.width, image.height)
    finally:
        textpage.close()
        handle.close()
    return PageView(number, _png(image, boxes), image.width, image.height, tuple(boxes))


def printed_chars(handle, textpage) -> str:
    """PDFium's characters of the page, those off its visible area as line breaks (the
    other half of a spread is not printed on it), so character i is still PDFium's i."""
    import pypdfium2.raw as pdfium_c

    text, visible = page_chars(textpage), handle.get_bbox()
    box = [ctypes.c_double() for _ in range(4)]  # left, right, bottom, top

    def off(i: int) -> bool:
        if text[i].isspace() or not pdfium_c.FPDFText_GetCharBox(textpage, i, *box):
            return False
        left, right, bottom, top = (b.value for b in box)
        return off_page((left, bottom, right, top), visible)
    return "".join("\n" if off(i) else ch for i, ch in enumerate(text))


def page_texts(pdf, first: int, last: int) -> list[str]:
    """The printed characters of pages `first`..`last` (1-based)."""
    texts = []
    for number in range(first, last + 1):
        handle = pdf[number - 1]
        textpage = handle.get_textpage()
        try:
            texts.append(printed_chars(handle, textpage))
        finally:
            textpage.close()
            handle.close()
    return texts


def cited_pages(data: bytes, cited: str, pages: tuple[int, int], near: float = 0.0,
                limit: int = 2, scale: float = SCALE) -> list[PageView]:
    """Pages `pages` (first, last; 1-based) of the PDF `data`, at most `limit` of them,
    rendered with `cited` highlighted where they print it (`near`: where on the first
    page the citation starts, 0..1, to choose among repeats). A page the text cannot be
    found on is shown without a highlight."""
    first, last = pages
    with opened(data) as pdf:
        if not 1 <= first <= last <= len(pdf):
            raise ValueError(f"pages {first}-{last} are not in a PDF of {len(pdf)} pages")
        texts = page_texts(pdf, first, last)
        # one match over the pages' characters end to end: a sentence may cross a page
        offsets = [sum(len(t) for t in texts[:i]) for i in range(len(texts))]
        near_all = (offsets[0] + near * len(texts[0])) / max(1, sum(map(len, texts)))
        indices = match("".join(texts), cited, near_all)
        views = []
        for k, number in enumerate(range(first, min(last, first + limit - 1) + 1)):
            own = [i - offsets[k] for i in indices if 0 <= i - offsets[k] < len(texts[k])]
            views.append(_view(pdf, number, own, scale))
    return views

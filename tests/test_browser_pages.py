"""In Chromium: upload a two-page PDF to the real app, ask about its second page, open the
citation, and check that the page image is shown with the highlight where the PDF
prints the cited text (the text's place computed here with PDFium's own search, not
with citechat's code). With SAVE_SCREENSHOTS=1 it also saves docs/documents-page.png
(the screenshot in docs/documents.md); otherwise the screenshot goes to the test's own
folder, so that a test run leaves the checkout as it was."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from test_browser import WAIT_MS, ask
from test_readers_pdf import column, pdf_with_lines

from app_server import app_page
from conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOT = ROOT / "docs" / "documents-page.png"
FACT = "The harbour master retired in 1987 after forty years at the eastern quay."
SCALE = 1.5  # rag/pages.py renders at 1.5 pixels per PDF unit


def two_page_report() -> bytes:
    first = column(72, 700, ["Annual report of the Harbour Board",
                             "The board met twelve times this year and approved the budget."])
    second = column(72, 700, ["Staff", "Ships arrived on schedule all through the summer.",
                              FACT, "A new pilot boat was ordered in the autumn."])
    return pdf_with_lines([first, second])


def expected_box(pdf: bytes, page: int, text: str) -> tuple[float, float, float, float]:
    """Where `text` is printed on the page, in the rendered image's pixels."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    handle = document[page - 1]
    textpage = handle.get_textpage()
    found = textpage.search(text).get_next()
    assert found, "the test PDF does not print the cited text"
    first, count = found
    boxes = [textpage.get_charbox(i) for i in range(first, first + count)]
    height = handle.get_height()
    left, right = min(b[0] for b in boxes), max(b[2] for b in boxes)
    bottom, top = min(b[1] for b in boxes), max(b[3] for b in boxes)
    return left * SCALE, (height - top) * SCALE, right * SCALE, (height - bottom) * SCALE


def highlighted_area(png: bytes) -> tuple[int, int, int, int] | None:
    """Bounding box (left, top, right, bottom) of the marker-yellow pixels: the
    translucent highlight over white paper."""
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    ys, xs = np.nonzero((r > 240) & (g > 215) & (g < 250) & (b > 110) & (b < 180))
    return (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())) if len(xs) else None


def test_a_pdf_citation_shows_its_page_with_the_cited_text_highlighted(
        app_url: str, tmp_path: Path) -> None:
    pdf = two_page_report()
    upload = tmp_path / "harbour-report.pdf"
    upload.write_bytes(pdf)
    with app_page(app_url, WAIT_MS, height=1100) as page:
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(upload)
        # the file's chip shows once the upload reached the server; a click before it
        # submits an empty uploader (seen with the machine busy)
        expect(page.get_by_test_id("stFileChip")).to_have_count(1, timeout=WAIT_MS)
        page.get_by_role("button", name="Add to collection").click()
        page.get_by_text("harbour-report.pdf: added").wait_for(timeout=WAIT_MS)

        ask(page, "When did the harbour master retire?")
        reply = page.get_by_test_id("stChatMessage").filter(has=page.locator("details"))
        reply.wait_for(timeout=WAIT_MS)
        source = reply.get_by_test_id("stExpander").first
        source.locator("summary").click()
        image = source.locator("img").first
        image.wait_for(timeout=WAIT_MS)
        cited = source.locator(".citechat-source mark").text_content()
        assert "retired in 1987" in cited
        assert "p. 2" in source.get_by_test_id("stCaptionContainer").first.inner_text()

        png = page.request.get(image.get_attribute("src")).body()
        area = highlighted_area(png)
        assert area is not None, "the page image shows no highlight"
        left, top, right, bottom = expected_box(pdf, 2, cited.strip())
        # the highlight covers the printed text (its letters: a closing full stop may
        # stay outside), and little beyond it
        assert area[0] <= left + 2 and area[2] >= right - 5
        assert area[1] <= top + 2 and area[3] >= bottom - 2
        assert area[0] >= left - 6 and area[2] <= right + 6
        assert area[1] >= top - 8 and area[3] <= bottom + 8
        image.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        keep = os.environ.get("SAVE_SCREENSHOTS") == "1"
        page.screenshot(path=SCREENSHOT if keep else tmp_path / SCREENSHOT.name,
                        animations="disabled")

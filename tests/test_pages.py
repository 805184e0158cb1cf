"""Rendering a cited PDF page: the highlight lies on the cited characters (checked with
PDFium's own search), across a page break too; page labels."""

from __future__ import annotations

import io

import pytest
from test_readers_pdf import column, pdf_with_lines, spread

from rag.pages import SCALE, cited_pages, match, pages_of
from rag.render import page_label

FACT = "The harbour master retired in 1987 after forty years at the eastern quay."


def printed_box(pdf: bytes, page: int, text: str) -> tuple[float, float, float, float]:
    import pypdfium2 as pdfium

    handle = pdfium.PdfDocument(pdf)[page - 1]
    textpage = handle.get_textpage()
    first, count = textpage.search(text).get_next()
    boxes = [textpage.get_charbox(i) for i in range(first, first + count)]
    height = handle.get_height()
    return (min(b[0] for b in boxes) * SCALE, (height - max(b[3] for b in boxes)) * SCALE,
            max(b[2] for b in boxes) * SCALE, (height - min(b[1] for b in boxes)) * SCALE)


def test_the_highlight_covers_the_cited_line_and_nothing_else() -> None:
    pdf = pdf_with_lines([column(72, 700, ["Ships arrived on schedule.", FACT, "A new boat."])])
    (view,) = cited_pages(pdf, FACT, (1, 1))
    from PIL import Image

    assert Image.open(io.BytesIO(view.png)).size == (view.width, view.height)
    (box,) = view.boxes
    left, top, right, bottom = printed_box(pdf, 1, FACT)
    assert box[0] == pytest.approx(left, abs=3) and box[2] == pytest.approx(right, abs=6)
    assert box[1] == pytest.approx(top, abs=4) and box[3] == pytest.approx(bottom, abs=4)


def test_a_citation_across_a_page_break_is_highlighted_on_both_pages() -> None:
    pdf = pdf_with_lines([column(72, 700, ["Intro line.", "The dredging of the quay will"]),
                          column(72, 700, ["take three months in all.", "Other news."])])
    views = cited_pages(pdf, "The dredging of the quay will take three months in all.", (1, 2))
    assert [v.page for v in views] == [1, 2]
    assert all(len(v.boxes) == 1 for v in views)


def test_text_the_page_does_not_print_gets_no_highlight() -> None:
    pdf = pdf_with_lines([column(72, 700, ["Ships arrived on schedule."])])
    assert cited_pages(pdf, "Nothing of the sort is printed here at all.", (1, 1))[0].boxes == ()


def test_the_half_of_a_spread_a_page_does_not_print_gets_no_highlight() -> None:
    pdf = pdf_with_lines([spread(0), spread(-612)])
    assert cited_pages(pdf, "The ferry timetable changes in May.", (1, 1))[0].boxes == ()
    (box,) = cited_pages(pdf, "The ferry timetable changes in May.", (2, 2))[0].boxes
    assert 0 < box[0] < box[2] < 612 * SCALE


@pytest.mark.parametrize(("page_text", "cited", "found"), [
    ("signifi-\r\ncantly more", "significantly more", 17),  # letters only: hyphen ignored
    ("e\ufb03cient", "efficient", 7),  # the ligature is one character of the page
    ("abc abc", "abc", 3),
])
def test_match_by_letters(page_text: str, cited: str, found: int) -> None:
    assert len(match(page_text, cited)) == found


def test_repeats_are_told_apart_by_place() -> None:
    page = "tide high. " * 10
    assert match(page, "tide high", near=0.95)[0] > match(page, "tide high", near=0.0)[0]


def test_page_labels_and_ranges() -> None:
    assert page_label((12, 12)) == "p. 12" and page_label([12, 13]) == "pp. 12–13"
    assert page_label(None) == ""
    assert pages_of([(0, 10), (12, 20), (22, 30)], 5, 15) == (1, 2)
    assert pages_of([(0, 10)], 10, 12) is None

"""The PDF reader on PDFs made here, line by line at known places: paragraphs joined,
hyphens undone, two columns in order, running headers and page numbers marked, a
sentence carried across a page break and past a caption; and the pure layout steps."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.readers.assembly import assemble, clean
from rag.readers.hyphens import Vocabulary, glue
from rag.readers.layout import Line, blocks_of, merge_segments, reading_order
from rag.readers.pdf import read_pdf

PrintedLine = tuple[float, float, str]  # x, y (PDF units, from the bottom), text


def pdf_with_lines(pages: list[list[PrintedLine]], size: float = 11,
                   title: str = "") -> bytes:
    """A PDF whose pages print these lines in Helvetica at `size` points."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica")}))
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
        escaped = [(x, y, t.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)"))
                   for x, y, t in lines]
        stream = DecodedStreamObject()
        stream.set_data("\n".join(f"BT /F1 {size} Tf {x} {y} Td ({t}) Tj ET"
                                  for x, y, t in escaped).encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
    if title:
        writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def column(x: float, top: float, texts: list[str], leading: float = 13.5) -> list[PrintedLine]:
    return [(x, top - i * leading, text) for i, text in enumerate(texts)]


def with_furniture(number: int, body: list[PrintedLine]) -> list[PrintedLine]:
    return [(72, 750, "Harbour Review - Spring Issue"), *body, (300, 40, str(number))]


def test_lines_become_paragraphs_and_hyphens_are_undone() -> None:
    body = column(72, 700, ["The harbour board met on Tuesday to discuss the signifi-",
                            "cantly larger ships that now reach the eastern quay,",
                            "and agreed to dredge it."])
    body += column(72, 640, ["A second paragraph follows a gap. The boards",
                             "self-funded plan is significantly cheaper."])
    text = read_pdf(pdf_with_lines([body])).text
    assert ("The harbour board met on Tuesday to discuss the significantly larger ships that "
            "now reach the eastern quay, and agreed to dredge it.") in text
    assert "quay, and agreed to dredge it.\n\nA second paragraph" in text
    assert "The boards self-funded plan" in text


def test_a_compound_printed_whole_elsewhere_keeps_its_hyphen() -> None:
    body = column(72, 700, ["The self-funded plan was approved by the board. Its self-",
                            "funded budget covers dredging."])
    assert "Its self-funded budget covers dredging." in read_pdf(pdf_with_lines([body])).text


def test_two_columns_are_read_column_by_column() -> None:
    left = column(72, 700, [f"Left column line {i} about the eastern quay" for i in range(8)])
    right = column(320, 700, [f"right column line {i} about the ferry ships" for i in range(8)])
    interleaved = [line for pair in zip(left, right, strict=True) for line in pair]
    text = read_pdf(pdf_with_lines([interleaved], size=10)).text
    assert text.index("Left column line 7") < text.index("right column line 0")
    assert "eastern quay right column line 0" in text  # one unfinished paragraph


def test_running_headers_and_page_numbers_are_furniture_at_the_start_of_their_page() -> None:
    pages = [with_furniture(n, column(72, 680, [f"Page {n} says the tide was high at {n} am.",
                                                "The pilots agreed."]))
             for n in range(1, 5)]
    extracted = read_pdf(pdf_with_lines(pages))
    marked = [extracted.text[a:b] for a, b in extracted.furniture]
    assert marked.count("Harbour Review - Spring Issue") == 4
    assert {"1", "2", "3", "4"} <= set(marked)
    for n, (start, end) in enumerate(extracted.pages, start=1):
        page = extracted.text[start:end]
        assert page.startswith("Harbour Review - Spring Issue\n\n")
        assert f"Page {n} says the tide was high at {n} am. The pilots agreed." in page


def test_a_sentence_crossing_a_page_break_is_one_sentence_on_both_pages() -> None:
    first = with_furniture(1, column(72, 700, [
        "The dredging contract was signed in March. The work on the eastern quay",
        "will take three months and is paid for by the port authority and the",
    ]))
    second = with_furniture(2, column(72, 700, [
        "city council together. It starts in April.",
    ]))
    extracted = read_pdf(pdf_with_lines([first, second]))
    sentence = ("The work on the eastern quay will take three months and is paid for by the "
                "port authority and the city council together.")
    start = extracted.text.index(sentence)
    (_, end1), (start2, _) = extracted.pages
    assert start < end1 < start2 < start + len(sentence)  # the break lies inside it
    assert extracted.text[end1:start2] == " "


def test_a_caption_does_not_interrupt_the_paragraph_around_it() -> None:
    body = column(72, 700, ["The quay was extended twice in the last century, once for",
                            "the ferries and once for the container ships that"])
    body += column(72, 640, ["Figure 2: The eastern quay in 1950."])
    body += column(72, 600, ["now call every week."])
    text = read_pdf(pdf_with_lines([body])).text
    assert "for the ferries and once for the container ships that now call every week." in text
    assert "\n\nFigure 2: The eastern quay in 1950." in text


def test_title_from_metadata_else_the_largest_print() -> None:
    body = column(72, 700, ["An ordinary line of text about ships."])
    assert read_pdf(pdf_with_lines([body], title="Harbour Annual Report")).title \
        == "Harbour Annual Report"
    assert read_pdf(pdf_with_lines([body], title="report.docx")).title \
        == "An ordinary line of text about ships."


def test_empty_pages_have_empty_ranges() -> None:
    extracted = read_pdf(pdf_with_lines([column(72, 700, ["Only the first page."]), []]))
    assert len(extracted.pages) == 2
    start, end = extracted.pages[1]
    assert start == end == len(extracted.text)


# -- the pure steps ---------------------------------------------------------------------


def line(text: str, x0: float = 72, top: float = 700, size: float = 12, **kw) -> Line:
    width = kw.pop("width", 6 * len(text))
    return Line(text, x0, x0 + width, top - size, top, size, **kw)


def test_a_footnote_mark_stays_on_its_line() -> None:
    pieces = [line("in practice", width=60), line("2", x0=132, top=703, size=8, width=4),
              line(", indicating the needs", x0=136, width=110)]
    merged = merge_segments(pieces)
    assert [m.text for m in merged] == ["in practice2, indicating the needs"]


@pytest.mark.parametrize(("before", "after", "hyphenated", "joined"), [
    ("the signifi-", "cantly", True, "the significantly"),
    ("a dual-", "encoder", True, "a dual-encoder"),
    ("the Lucene-", "BM25 system", True, "the Lucene-BM25 system"),
    ("ends here", "and goes on", False, "ends here and goes on"),
])
def test_glue(before: str, after: str, hyphenated: bool, joined: str) -> None:
    vocabulary = Vocabulary([("significantly more, a dual encoder", False, False)])
    drop, between = glue(before, after, hyphenated, vocabulary)
    assert before[: len(before) - drop] + between + after == joined


def test_ligatures_are_spelt_out() -> None:
    assert clean("e\ufb03cient ﬁne e\u21b5ort") == "efficient fine effort"
    assert Vocabulary([("difficult times", False, False)]).spell("di\ufffeculties") \
        == "difficulties"


def test_reading_order_keeps_a_single_column_as_printed() -> None:
    lines = [line(f"line {i}", top=700 - 14 * i, width=400) for i in range(6)]
    assert reading_order(lines, 612) == lines
    assert len(blocks_of(lines)) == 1


printed = st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                           min_size=1, max_size=30).filter(str.strip), min_size=0, max_size=6)


@settings(max_examples=60, deadline=None)
@given(st.lists(printed, min_size=1, max_size=5))
def test_page_ranges_and_furniture_lie_in_order_inside_the_text(pages: list[list[str]]) -> None:
    laid = [[line(t, top=700 - 14 * i) for i, t in enumerate(texts)] for texts in pages]
    extracted = assemble(laid)
    ends = [0]
    for start, end in extracted.pages:
        assert ends[-1] <= start <= end <= len(extracted.text)
        ends.append(end)
    for start, end in extracted.furniture:
        assert 0 <= start < end <= len(extracted.text)


def spread(shift: float) -> list[PrintedLine]:
    """A two-page spread's content, shifted so that one half lies on the page."""
    left = column(72, 700, ["The harbour board met on Tuesday.", "It agreed to dredge the quay."])
    right = column(684, 700, ["The ferry timetable changes in May.", "Night crossings end."])
    return [(x + shift, y, text) for x, y, text in left + right]


def test_a_spread_cut_into_two_pages_reads_on_each_page_only_what_it_prints() -> None:
    read = read_pdf(pdf_with_lines([spread(0), spread(-612)]))
    first, second = (read.text[start:end] for start, end in read.pages)
    assert "harbour board" in first and "ferry" not in first
    assert "ferry timetable" in second and "harbour" not in second

"""Word files: paragraphs, headings and tables in order, the title, exact offsets (the
text is the reader's own); and the shared Word files of ../shared/bench/docx/."""

from __future__ import annotations

import pytest
from test_hostile import docx_bytes

from benchmarks.corpora import SHARED
from rag.documents import parse
from rag.readers.docx import read_docx

SHARED_DOCX = SHARED / "bench" / "docx"


def test_headings_paragraphs_and_table_rows_in_order() -> None:
    data = docx_bytes("Harbour minutes", "The board met on Tuesday.", "It approved the budget.",
                      table=[["Ship", "Berth"], ["Comet", "4"]])
    extracted = read_docx(data)
    assert extracted.text == ("Harbour minutes\n\nThe board met on Tuesday.\n"
                              "It approved the budget.\nShip | Berth\nComet | 4")
    assert extracted.title == "Harbour minutes"
    doc = parse("minutes.docx", data)
    start = doc.text.index("Comet | 4")
    assert doc.text[start : start + 9] == "Comet | 4" and doc.title == "Harbour minutes"


@pytest.mark.skipif(not SHARED_DOCX.is_dir(), reason="../shared/bench/docx is absent")
@pytest.mark.parametrize("name", ["docx-tables.docx", "simple.docx", "page-breaks.docx",
                                  "contains-pictures.docx", "example-list-items-multiple.docx"])
def test_real_word_files(name: str) -> None:
    extracted = read_docx((SHARED_DOCX / name).read_bytes())
    assert extracted.text.strip() and extracted.title
    if name == "docx-tables.docx":
        assert "Header Col 1 | Header Col 2" in extracted.text
    if name == "simple.docx":
        assert extracted.title == "These are a few of my favorite things:"

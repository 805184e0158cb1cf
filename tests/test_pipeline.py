"""The pipeline's own promises: every passage and citation knows its document's title
and, for a paged document, the pages its characters are printed on."""

from __future__ import annotations

from conftest import GENEVA, GENEVA_TITLE, RUSI, RUSI_TITLE, pdf_with_pages


def test_the_seeds_are_listed_by_their_headlines(seeded) -> None:
    titles = {info.name: info.title for info in seeded.documents()}
    assert titles == {RUSI: RUSI_TITLE, GENEVA: GENEVA_TITLE}


def test_passages_and_citations_carry_title_and_no_pages_for_text(seeded) -> None:
    response = seeded.ask("Who represented the United States at the Geneva talks?")
    titles = {info.name: info.title for info in seeded.documents()}
    for span in (*response.passages, *response.citations):
        assert span.title == titles[span.doc]
        assert span.pages is None


def test_a_pdf_citation_names_the_page_its_characters_are_on(make_pipeline) -> None:
    pipeline = make_pipeline()
    pages = ["Alpha Bravo Charlie is the first page and it talks about apples only.",
             "The second page says that Wendy Sherman led the delegation in Geneva.",
             "A third page is about the weather in Oslo during the winter months."]
    assert pipeline.ingest_bytes("talks.pdf", pdf_with_pages(*pages)).status == "added"
    [info] = pipeline.documents()
    assert info.pages == 3
    text = pipeline.source_text("talks.pdf")
    response = pipeline.ask("Who led the delegation in Geneva?")
    assert response.citations
    for span in (*response.passages, *response.citations):
        assert text[span.start:span.end] == span.text
        printed = [n for n, page in enumerate(pages, start=1)
                   if any(piece.strip() in page for piece in span.text.split("\n\n"))]
        assert span.pages == (printed[0], printed[-1])
    assert response.citations[0].pages == (2, 2)

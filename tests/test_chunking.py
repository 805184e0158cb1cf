from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.chunking import (
    boilerplate_weight,
    boilerplate_weights,
    chunk_document,
    context_for,
    sentences_of,
    title_of,
)
from rag.documents import content_hash
from rag.sentences import sentence_spans
from rag.types import Document

from conftest import SEEDS


def doc(text: str, name: str = "d.txt") -> Document:
    return Document(name, text, content_hash(text))


WORDS = st.sampled_from(["alpha", "beta", "Gamma.", "delta,", "U.S.", "x", "—", "\u00a0",
                         "end!", "why?", "\n", "\n\n", "  ", "ünïcode", "a" * 90])
TEXTS = st.lists(WORDS, min_size=1, max_size=300).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(text=TEXTS, size=st.integers(50, 800), overlap_share=st.floats(0, 0.5))
def test_offsets_slice_the_source_exactly(text: str, size: int, overlap_share: float) -> None:
    document = doc(text)
    chunks = chunk_document(document, size, int(size * overlap_share))
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip() and chunk.text
        for sentence in sentences_of(document, chunk):
            assert text[sentence.start : sentence.end] == sentence.text
            assert chunk.start <= sentence.start < sentence.end <= chunk.end
    starts = [c.start for c in chunks]
    assert starts == sorted(starts)
    # every non-space character of the text is in some chunk
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


@pytest.mark.parametrize("name", ["000_941f52de0b6a0cef.txt", "003_fa0218dd8f3787b3.txt"])
def test_seed_chunks_stay_under_size_and_keep_sentences_whole(name: str) -> None:
    text = (SEEDS / name).read_text(encoding="utf-8")
    chunks = chunk_document(doc(text, name), 400)
    assert all(len(c.text) <= 400 for c in chunks)
    # a chunk ends mid-sentence only where that sentence alone is longer than a chunk
    for chunk in chunks:
        for start, end in sentence_spans(text):
            if start < chunk.end < end:
                assert end - start > 400, text[start:end]


def test_ids_are_stable_and_depend_on_content_and_name() -> None:
    text = "One sentence here. Another one there.\n\nA new paragraph."
    first = chunk_document(doc(text), 30)
    assert [c.id for c in first] == [c.id for c in chunk_document(doc(text), 30)]
    assert first[0].id != chunk_document(doc(text + " More."), 30)[0].id
    assert first[0].id != chunk_document(doc(text, "other.txt"), 30)[0].id
    assert len({c.id for c in first}) == len(first)


def test_boilerplate_is_down_weighted_but_prose_is_not() -> None:
    furniture = "Channel website:\n\nOriginal article link:\n\nShare this article"
    assert boilerplate_weight(furniture) < 1
    assert boilerplate_weight("Antonov suggested regular contacts between the ministers.") == 1


def test_text_after_the_end_of_an_article_body_is_down_weighted() -> None:
    body = "Antonov proposed talks. " * 30
    text = body + "\n\nThe views expressed are the author's.\n\nWe need your help to continue."
    document = doc(text)
    weights = boilerplate_weights(document, chunk_document(document, 200))
    assert weights[0] == 1.0 and weights[-1] < 1.0


def test_context_names_the_previous_sentence_and_title() -> None:
    text = "Printable version\n\nA Title Of Note\n\nAntonov spoke. He suggested contacts."
    document = doc(text)
    assert title_of(document) == "A Title Of Note"
    start = text.index("He suggested")
    chunk = chunk_document(document, 400)[0].__class__("i", "d.txt", start, len(text),
                                                        text[start:])
    assert context_for(document, chunk, title_of(document)) == "A Title Of Note Antonov spoke."


@pytest.mark.parametrize(("text", "size", "overlap"), [
    ("                                    000000000000 0 ", 50, 2),  # tail repeated as overlap
    ("alpha alpha alpha alpha alpha alpha alpha Gamma. alpha", 50, 25),
    ("alpha alpha alpha alpha alpha alpha alpha alpha alpha alpha", 50, 0),
])
def test_repeated_text_keeps_true_offsets(text: str, size: int, overlap: int) -> None:
    chunks = chunk_document(doc(text), size, overlap)
    assert all(text[c.start : c.end] == c.text for c in chunks)
    covered = {i for c in chunks for i in range(c.start, c.end)}
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


LONG = "It not only outperforms BM25 by a wide margin (65.2% vs. 42.9% in Top-5 accuracy). "


@pytest.mark.parametrize(("text", "size", "chunks"), [
    # Punkt's sentences: "vs." and "e.g." inside a sentence are no boundary
    (LONG * 3, 140, [LONG.strip()] * 3),
    ("Tools, e.g. BM25, help here. " * 6, 70, ["Tools, e.g. BM25, help here. Tools, e.g. BM25, "
                                              "help here."] * 3),
    # a heading left at the end of a chunk moves to the chunk it names
    ("First part ends here.\n\n8 Conclusion\n\n" + "We showed that it works. " * 3, 90,
     ["First part ends here.", "8 Conclusion\n\nWe showed that it works. We showed that it "
                               "works. We showed that it works."]),
    # ...not when the two would not fit, nor a paragraph ending like a sentence
    ("First part ends here.\n\n8 Conclusion\n\nWe showed that it works on every dataset.", 50,
     ["First part ends here.\n\n8 Conclusion", "We showed that it works on every dataset."]),
    ("One paragraph here.\n\nA short one.\n\n" + "A long paragraph follows it. " * 3, 60,
     ["One paragraph here.\n\nA short one.", "A long paragraph follows it. A long paragraph "
                                             "follows it.", "A long paragraph follows it."]),
])
def test_chunk_boundaries(text: str, size: int, chunks: list[str]) -> None:
    assert [c.text for c in chunk_document(doc(text), size)] == chunks

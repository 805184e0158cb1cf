"""Hypothesis fuzzing of the text-handling stages with arbitrary, hostile Unicode: the
chunker, the sentence splitter, the span mapper of the eval (`locate`) and the citation
resolver. Each must never raise and must keep its offsets exact.

tests/test_chunking.py and tests/test_citations.py check the same invariants over
well-formed text; here the text is anything Unicode allows (controls, combining marks,
right-to-left, zero-width, unpaired brackets, huge numbers), as a hostile document or a
misbehaving model would write it.
"""

from __future__ import annotations

import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.chunking import chunk_document, sentences_of
from rag.citations import MARKER, parse_markers, resolve
from rag.documents import content_hash
from rag.evaluation import locate, normalised_with_offsets
from rag.sentences import sentence_spans
from rag.types import Document, Passage

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ANY_CHAR = st.characters(codec="utf-8", exclude_categories=("Cs",))  # all but lone surrogates
AWKWARD = st.sampled_from([
    " ", "\n", "\r\n", "\t", "\u00a0", "\u2028", "\u200b", "\u200f", "\u202e", "\ufeff",
    "\x00", "\x1b[31m", ". ", "? ", "!\" ", "…", "Mr. ", "U.S. ", "e.g. ", "\u0301", "ﬁ",
    "[", "]", "[1]", "[2, 3]", "[1-2]", "[0]", "[99]", "[[1]]", "[1[2]]", "(", "“", "”",
    "Ω", "東京", "\U0001f600", "١٢", "A", "Zeta.", "word",
])
PIECE = st.one_of(AWKWARD, st.text(ANY_CHAR, max_size=20))
# short texts, and long ones that make several chunks
TEXT = st.one_of(st.lists(PIECE, max_size=20), st.lists(PIECE, min_size=30, max_size=150)).map(
    "".join)


def non_space(text: str, start: int = 0, end: int | None = None) -> set[int]:
    end = len(text) if end is None else end
    return {i for i in range(start, end) if not text[i].isspace()}


@FUZZ
@given(text=TEXT, size=st.integers(50, 300), overlap=st.integers(0, 49))
def test_chunker_keeps_every_character_at_its_offset(text: str, size: int, overlap: int) -> None:
    doc = Document("fuzz.txt", text, content_hash(text))
    chunks = chunk_document(doc, size, overlap)
    covered: set[int] = set()
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text and chunk.text.strip()
        assert len(chunk.text) <= size
        covered.update(range(chunk.start, chunk.end))
        for sentence in sentences_of(doc, chunk):
            assert text[sentence.start : sentence.end] == sentence.text
            assert chunk.start <= sentence.start < sentence.end <= chunk.end
    assert non_space(text) <= covered  # nothing of the document is lost
    assert [c.start for c in chunks] == sorted({c.start for c in chunks})
    assert len({c.id for c in chunks}) == len(chunks)
    assert chunk_document(doc, size, overlap) == chunks  # ids and spans are reproducible


@FUZZ
@given(text=TEXT, data=st.data())
def test_sentence_spans_are_ordered_trimmed_and_cover_the_text(text: str, data) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    spans = sentence_spans(text, start, end)
    covered: set[int] = set()
    previous_end = start
    for s, e in spans:
        assert previous_end <= s < e <= end
        assert not text[s].isspace() and not text[e - 1].isspace()
        covered.update(range(s, e))
        previous_end = e
    assert non_space(text, start, end) <= covered


@FUZZ
@given(text=TEXT)
def test_normalised_offsets_point_back_into_the_text(text: str) -> None:
    folded, starts, ends = normalised_with_offsets(text)
    assert len(folded) == len(starts) == len(ends)
    assert starts == sorted(starts) and ends == sorted(ends)
    assert all(0 <= s < e <= len(text) for s, e in zip(starts, ends, strict=True))
    assert "  " not in folded


# Combining marks are left out: see test_a_quote_with_a_combining_accent_is_located.
NO_COMBINING = st.characters(codec="utf-8", exclude_categories=("Cs", "Mn", "Mc", "Me"))
PLAIN_PIECE = st.one_of(AWKWARD.filter(lambda p: p != "\u0301"), st.text(NO_COMBINING, max_size=20))
PLAIN_TEXT = st.one_of(st.lists(PLAIN_PIECE, max_size=20),
                       st.lists(PLAIN_PIECE, min_size=30, max_size=150)).map("".join)


@FUZZ
@given(text=PLAIN_TEXT, data=st.data())
def test_a_quote_taken_from_the_text_is_located(text: str, data) -> None:
    start = data.draw(st.integers(0, len(text)))
    quote = text[start : data.draw(st.integers(start, len(text)))]
    span = locate(quote, text)
    wanted = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", quote)).strip()
    if not wanted:
        assert span is None
        return
    assert span is not None
    s, e = span
    assert 0 <= s < e <= len(text)
    found = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text[s:e])).strip()
    assert wanted in found


def test_a_quote_with_a_combining_accent_is_located() -> None:
    assert locate("Cafe\u0301", "The Cafe\u0301 opened.") == (4, 9)


@st.composite
def answers(draw: st.DrawFn) -> tuple[dict[str, str], list[Passage], str]:
    """Documents, passages of them, and an answer of hostile text and markers."""
    docs = {f"d{i}": draw(TEXT.filter(str.strip)) for i in range(draw(st.integers(1, 2)))}
    passages = []
    for _ in range(draw(st.integers(0, 5))):
        name = draw(st.sampled_from(sorted(docs)))
        start = draw(st.integers(0, len(docs[name]) - 1))
        end = draw(st.integers(start + 1, len(docs[name])))
        passages.append(Passage(name, start, end, 1.0, docs[name][start:end]))
    number = st.one_of(st.integers(0, len(passages) + 2).map(str),
                       st.integers(0, 10**30).map(str), st.text("0123456789١٢", min_size=1,
                                                                max_size=40))
    marker = st.builds(lambda a, sep, b: f"[{a}{sep}{b}]" if sep else f"[{a}]", number,
                       st.sampled_from(["", ",", ", ", "-", " – ", "—"]), number)
    quotes = [p.text[:30] for p in passages] or ["x"]
    parts = st.one_of(TEXT, marker, st.sampled_from(quotes), st.sampled_from(["[", "]", " "]))
    return docs, passages, "".join(draw(st.lists(parts, max_size=25)))


@FUZZ
@given(answers())
def test_resolve_survives_hostile_answers_and_keeps_spans_exact(case) -> None:
    docs, passages, text = case
    resolved = resolve(text, passages)
    numbers = list(range(1, len(resolved.citations) + 1))
    assert [c.n for c in resolved.citations] == numbers
    assert set(parse_markers(resolved.answer)) <= set(numbers)
    for citation in resolved.citations:
        assert docs[citation.doc][citation.start : citation.end] == citation.text
        assert any(p.doc == citation.doc and p.start <= citation.start < citation.end <= p.end
                   for p in passages)
    # every marker number that names no passage is counted, and no other
    assert resolved.dropped == sum(not 1 <= n <= len(passages) for n in parse_markers(text))
    assert all(m.group(1).isdigit() for m in MARKER.finditer(resolved.answer))


def test_a_marker_of_thousands_of_digits_is_dropped() -> None:
    passages = [Passage("d", 0, 5, 1.0, "Hello")]
    resolved = resolve("Hello [" + "9" * 5000 + "].", passages)
    assert resolved.citations == [] and resolved.dropped == 1

"""Building the context from a ranking: budget, cap, runs of neighbours, connecting
sentences — and every passage slicing its document exactly, whatever the ranking."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rag.chunking import chunk_document
from rag.context import Budget, assemble, with_neighbours
from rag.documents import content_hash
from rag.lexical import LexicalIndex
from rag.store import ChunkTable
from rag.types import Document


def table_of(*texts: str, size: int = 60) -> tuple[ChunkTable, dict[str, str]]:
    """The chunk table of documents d0, d1, ... (rows in document order, as the store's)."""
    sources = {f"d{i}": text for i, text in enumerate(texts)}
    chunks = [c for name, text in sources.items()
              for c in chunk_document(Document(name, text, content_hash(text)), size)]
    table = ChunkTable("test", [c.id for c in chunks],
                       np.array([c.doc for c in chunks], dtype=object),
                       np.array([c.start for c in chunks]), np.array([c.end for c in chunks]),
                       np.ones(len(chunks), dtype=np.float32), [c.text for c in chunks],
                       LexicalIndex.build([c.text for c in chunks]))
    return table, sources


STORY = ("Ada Lovelace wrote the first program. She published it in 1843. "
         "The notes listed three steps: first, load the numbers. Then multiply them. "
         "Finally, print the table. Babbage built the engine. It was never finished.")


def test_budget_is_filled_in_rank_order_skipping_what_overflows() -> None:
    table, _ = table_of(STORY, size=40)
    ranked = [(row, 1.0 / (row + 1)) for row in range(len(table.ids))]
    passages = assemble(table, ranked, Budget(chars=120))
    assert sum(len(p.text) for p in passages) <= 120
    # nothing left out would still have fit
    left = [len(t) for t, r in zip(table.texts, range(len(table.ids)), strict=True)
            if table.starts[r] not in {p.start for p in passages}]
    assert all(sum(len(p.text) for p in passages) + size > 120 for size in left)


def test_k_caps_the_passages_connecting_sentences_included() -> None:
    table, _ = table_of(STORY, size=40)
    ranked = [(row, 1.0) for row in range(len(table.ids))]
    assert len(assemble(table, ranked, Budget(chars=None, passages=2))) == 2
    pronoun = next(r for r, text in enumerate(table.texts) if text.startswith("She"))
    alone = assemble(table, [(pronoun, 1.0)], Budget(chars=None, passages=2))
    assert [p.text for p in alone] == [table.texts[pronoun],
                                       "Ada Lovelace wrote the first program."]
    assert len(assemble(table, [(pronoun, 1.0)], Budget(chars=None, passages=1))) == 1


def test_neighbours_join_at_a_share_of_their_chunks_score() -> None:
    table, _ = table_of(STORY, "Rivers and hills.", size=40)
    last = len(table.ids) - 1  # the other document's only chunk
    ranked = [(2, 1.0), (last, 0.5)]
    assert dict(with_neighbours(table, ranked, 0.6)) == {1: 0.6, 2: 1.0, 3: 0.6, last: 0.5}
    assert dict(with_neighbours(table, ranked, 0.0)) == dict(ranked)


@pytest.mark.parametrize(("chosen", "joined"), [
    ("She published it in 1843.", "Ada Lovelace wrote the first program."),  # a pronoun
    ("The notes listed three steps:", "first, load the numbers."),  # a list after a colon
])
def test_connecting_sentences_are_added_around_a_lone_chunk(chosen: str, joined: str) -> None:
    table, _ = table_of(STORY, size=40)
    row = next(r for r, text in enumerate(table.texts) if text.startswith(chosen))
    texts = [p.text for p in assemble(table, [(row, 1.0)], Budget(chars=400))]
    assert texts == [table.texts[row], joined]  # the chunk first, as ranked
    assert assemble(table, [(row, 1.0)], Budget(chars=len(table.texts[row]))) == [
        p for p in assemble(table, [(row, 1.0)], Budget(chars=400)) if p.text != joined]


@settings(max_examples=60, deadline=None)
@given(words=st.lists(st.sampled_from(
           ["He", "she", "It", "Ötzi", "list:", "a;", "end.", "Why?", "\n\n", "x" * 30,
            "This", "and", "the", "Then"]), min_size=1, max_size=120),
       size=st.integers(50, 200), budget=st.integers(0, 600), share=st.floats(0, 1),
       picks=st.lists(st.integers(0, 400), max_size=12))
def test_every_passage_slices_its_document_exactly(words, size, budget, share, picks) -> None:
    text = " ".join(words)
    table, sources = table_of(text, text[::-1], size=size)
    assume(table.ids)
    rows = list(dict.fromkeys(p % len(table.ids) for p in picks))
    ranked = [(row, 1.0 / (rank + 1)) for rank, row in enumerate(rows)]
    passages = assemble(table, ranked, Budget(chars=budget), share)
    assert sum(len(p.text) for p in passages) <= budget
    spans = [(p.doc, p.start, p.end) for p in passages]
    assert len(set(spans)) == len(spans)  # no passage twice
    for p in passages:
        assert sources[p.doc][p.start : p.end] == p.text and p.text


def test_a_sentence_wanted_on_both_sides_is_added_once() -> None:
    table, _ = table_of("The plan had two parts: Ships were sent. They sailed in May.", size=25)
    assert table.texts == ["The plan had two parts:", "Ships were sent.", "They sailed in May."]
    passages = assemble(table, [(0, 1.0), (2, 0.9)], Budget(chars=400))
    assert [p.text for p in passages] == [table.texts[0], table.texts[1], table.texts[2]]


def test_neighbours_keep_an_unsorted_ranking_in_its_order() -> None:
    """A round-robin over documents is not sorted by score; its order must survive."""
    table, _ = table_of(STORY, "Rivers and hills.", size=40)
    last = len(table.ids) - 1
    joined = list(with_neighbours(table, [(last, 0.2), (6, 0.9)], 0.5))
    assert [row for row, _ in joined] == [last, 6, 5, 7]

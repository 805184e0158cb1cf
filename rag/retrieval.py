"""Query -> ranked Passages: BM25 and dense search fused by reciprocal rank fusion.

Three rankings of chunks: BM25, the chunk's own vector, and the chunk's best-matching
sentence vector. Each ranks its `candidates` best chunks; a chunk's fused score is
`sum(weight / (RRF_K + rank))` over the rankings that found it, times its boilerplate
weight, times a small boost when the chunk holds the kind of answer the question asks for
(a name for "who", a date for "when", a number for "how many"). Passages are then taken
best-first, up to `k` of them or up to a character budget; a question about several
documents ("in each of the articles") takes each document's best in turn.
Retrieval never rewrites text: a passage is a stored chunk, offsets and all.
It does not condense follow-ups (the engines do) and does not call a chat model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import zip_longest

import numpy as np

from rag.embedding import Embedder
from rag.questions import answer_type, holds_answer_type, is_cross_document, without_scope
from rag.store import ChunkTable, Store
from rag.types import Passage

RRF_K = 60


@dataclass(frozen=True)
class Fusion:
    """Weights of the three rankings; tuned on SQuAD 2.0 (benchmarks/quality.py)."""

    sentence: float = 1.0  # chunks ranked by their best-matching sentence
    chunk: float = 0.5  # chunks ranked by their own vector
    lexical: float = 1.0  # BM25
    candidates: int = 50
    # a chunk holding the kind of answer asked for (a name for "who", a date for "when")
    answer_type_boost: float = 0.1


def _lexical_ranking(table: ChunkTable, scores: np.ndarray, n: int,
                     docs: Sequence[str] | None) -> list[int]:
    """The rows of the `n` best BM25 `scores` (one per row of `table`) within `docs`."""
    if docs:
        scores = np.where(np.isin(table.docs, list(docs)), scores, 0.0)
    n = min(n, int((scores > 0).sum()))
    if n == 0:
        return []
    top = np.argpartition(-scores, n - 1)[:n]
    return top[np.argsort(-scores[top], kind="stable")].tolist()


def fused_rows(store: Store, embedder: Embedder, query: str, docs: Sequence[str] | None = None,
               fusion: Fusion = Fusion(), table: ChunkTable | None = None,
               lexical_scores: np.ndarray | None = None) -> list[tuple[int, float]]:
    """(row in `table`, fused score) for the candidate chunks, best first. Pass the table
    you will read the rows from: another writer may replace the store's in between; and
    the query's BM25 scores over it, if already known."""
    table = table or store.table()
    if not table.ids:
        return []
    vector = embedder.embed_query(query)
    if lexical_scores is None:
        lexical_scores = table.lexical.scores(query)
    rankings = [(fusion.lexical,
                 _lexical_ranking(table, lexical_scores, fusion.candidates, docs))]
    if fusion.chunk:
        found = store.dense_search(vector, fusion.candidates, docs)
        rankings.append((fusion.chunk, [table.row_of[i] for i, _ in found if i in table.row_of]))
    if fusion.sentence:
        found = store.sentence_search(vector, 3 * fusion.candidates, docs)
        rankings.append((fusion.sentence, [table.row_of[i] for i, _ in found if i in table.row_of]))
    scores: dict[int, float] = {}
    for weight, rows in rankings:
        if not weight:
            continue
        for rank, row in enumerate(rows, start=1):
            scores[row] = scores.get(row, 0.0) + weight / (RRF_K + rank)
    kind = answer_type(query) if fusion.answer_type_boost else None
    fused = [(row, score * float(table.weights[row])
              * (1 + fusion.answer_type_boost
                 * bool(kind and holds_answer_type(query, table.texts[row], kind))))
             for row, score in scores.items()]
    return sorted(fused, key=lambda item: -item[1])


def retrieve_each(store: Store, embedder: Embedder, query: str, k: int = 5,
                  docs: Sequence[str] | None = None, budget_chars: int | None = None,
                  fusion: Fusion = Fusion()) -> list[Passage]:
    """For a question that compares or lists across documents: the best passage of each
    document, then each one's second best, and so on, up to `k` passages and the budget.
    Each document is ranked on its own (a document outshone in the joint ranking still
    gets its best); the `k` documents taken are those the joint ranking finds first."""
    query = without_scope(query) or query
    table = store.table()
    scores = table.lexical.scores(query)  # the same for every ranking below
    joint = fused_rows(store, embedder, query, docs, fusion, table, scores)
    scope = list(dict.fromkeys(str(table.docs[row]) for row, _ in joint))[:k]
    each = [fused_rows(store, embedder, query, [doc], fusion, table, scores) for doc in scope]
    rounds = zip_longest(*each)
    return _take(table, [hit for hits in rounds for hit in hits if hit], k, budget_chars)


def retrieve(store: Store, embedder: Embedder, query: str, k: int = 5,
             docs: Sequence[str] | None = None, budget_chars: int | None = None,
             fusion: Fusion = Fusion()) -> list[Passage]:
    """The best passages for `query`: at most `k`, and at most `budget_chars` in all. A
    question about several documents ("in each of the articles") draws on each of them."""
    if is_cross_document(query):
        return retrieve_each(store, embedder, query, k, docs, budget_chars, fusion)
    table = store.table()
    return _take(table, fused_rows(store, embedder, query, docs, fusion, table), k, budget_chars)


def _take(table: ChunkTable, ranked: Sequence[tuple[int, float]], k: int,
          budget_chars: int | None) -> list[Passage]:
    """Passages in the given order, skipping any that would overflow the budget."""
    passages: list[Passage] = []
    used = 0
    for row, score in ranked:
        chunk = table.chunk(row)
        if budget_chars is not None and used + len(chunk.text) > budget_chars:
            continue
        passages.append(Passage(chunk.doc, chunk.start, chunk.end, round(score, 6), chunk.text))
        used += len(chunk.text)
        if len(passages) >= k:
            break
    return passages

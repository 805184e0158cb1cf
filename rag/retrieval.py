"""Query -> ranked Passages: BM25 and dense search fused by reciprocal rank fusion.

Three rankings of chunks: BM25, the chunk's own vector, and the chunk's best-matching
sentence vector. Each ranks its `candidates` best chunks; a chunk's fused score is
`sum(weight / (RRF_K + rank))` over the rankings that found it, times its boilerplate
weight. Passages are then taken best-first, up to `k` of them or up to a character
budget. Retrieval never rewrites text: a passage is a stored chunk, offsets and all.
It does not condense follow-ups (the engines do) and does not call a chat model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.embedding import Embedder
from rag.store import ChunkTable, Store
from rag.types import Passage

RRF_K = 60
# "in each of the two articles", "across all documents": which documents, not what
SCOPE = re.compile(
    r"\b(?:in|across|from|of)\s+(?:each|both|all|every)\s+(?:of\s+)?(?:the\s+)?(?:\w+\s+)?"
    r"(?:articles?|documents?|docs|texts|sources|pieces|reports|files|papers)\b",
    re.IGNORECASE)
CROSS_DOCUMENT = re.compile(
    r"\b(?:each|both|all|every|across|compare|two|three)\b[^?]*\b(?:articles?|documents?|docs|"
    r"texts|sources|pieces|reports|files|papers)\b", re.IGNORECASE)


def is_cross_document(question: str) -> bool:
    """Whether the question asks about several documents ("in each of the articles")."""
    return bool(CROSS_DOCUMENT.search(question))


def without_scope(question: str) -> str:
    return SCOPE.sub("", question)


@dataclass(frozen=True)
class Fusion:
    """Weights of the three rankings; tuned on SQuAD 2.0 (benchmarks/retrieval.py)."""

    sentence: float = 1.0  # chunks ranked by their best-matching sentence
    chunk: float = 0.5  # chunks ranked by their own vector
    lexical: float = 1.0  # BM25
    candidates: int = 50


def _lexical_ranking(table: ChunkTable, query: str, n: int,
                     docs: Sequence[str] | None) -> list[int]:
    scores = table.lexical.scores(query)
    if docs:
        scores = np.where(np.isin(table.docs, list(docs)), scores, 0.0)
    n = min(n, int((scores > 0).sum()))
    if n == 0:
        return []
    top = np.argpartition(-scores, n - 1)[:n]
    return top[np.argsort(-scores[top], kind="stable")].tolist()


def fused_rows(store: Store, embedder: Embedder, query: str, docs: Sequence[str] | None = None,
               fusion: Fusion = Fusion(), table: ChunkTable | None = None,
               ) -> list[tuple[int, float]]:
    """(row in `table`, fused score) for the candidate chunks, best first. Pass the table
    you will read the rows from: another writer may replace the store's in between."""
    table = table or store.table()
    if not table.ids:
        return []
    vector = embedder.embed_query(query)
    rankings = [(fusion.lexical, _lexical_ranking(table, query, fusion.candidates, docs))]
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
    fused = [(row, score * float(table.weights[row])) for row, score in scores.items()]
    return sorted(fused, key=lambda item: -item[1])


def retrieve_each(store: Store, embedder: Embedder, query: str, docs: Sequence[str], k: int,
                  budget_chars: int | None = None) -> list[Passage]:
    """The best passages of every document in `docs`, interleaved by rank, sharing `k`
    and the budget evenly: for questions that compare or list across documents."""
    share = max(1, -(-k // max(len(docs), 1)))
    budget = None if budget_chars is None else budget_chars // max(len(docs), 1)
    query = without_scope(query) or query
    per_doc = [retrieve(store, embedder, query, share, [doc], budget) for doc in docs]
    ranked = [p for rank in range(share) for found in per_doc if rank < len(found)
              for p in [found[rank]]]
    return ranked[: max(k, len(docs))]


def retrieve(store: Store, embedder: Embedder, query: str, k: int = 5,
             docs: Sequence[str] | None = None, budget_chars: int | None = None,
             fusion: Fusion = Fusion()) -> list[Passage]:
    """The best passages for `query`: at most `k`, and at most `budget_chars` in all."""
    table = store.table()
    passages: list[Passage] = []
    used = 0
    for row, score in fused_rows(store, embedder, query, docs, fusion, table):
        chunk = table.chunk(row)
        if budget_chars is not None and used + len(chunk.text) > budget_chars:
            continue
        passages.append(Passage(chunk.doc, chunk.start, chunk.end, round(score, 6), chunk.text))
        used += len(chunk.text)
        if len(passages) >= k:
            break
    return passages

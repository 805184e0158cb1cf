"""Query -> ranked Passages: BM25 and dense search fused by reciprocal rank fusion.

Three rankings of chunks: BM25, the chunk's own vector, and the chunk's best-matching
sentence vector. The first two rank their `candidates` best chunks; the third ranks the
chunks they found by their best sentence (scored exactly, in process: rag/store.py). A
chunk's fused score is `sum(weight / (rrf_k + rank))` over the rankings that found it,
times its boilerplate weight, times a small boost when the chunk holds the kind of answer
the question asks for (a name for "who", a date for "when", a number for "how many").
When BM25's best chunk names things the question does not and they are found in other
documents, the question is asked again with them (rag/multihop.py: a second hop, which
runs beside the first retrieval: it needs only BM25's scores), and a comparison gets a
passage on each thing compared. The ranking then fills the character budget
(rag/context.py), `k` chunks at most when a cap is set; a question about several
documents ("in each of the articles") takes each document's best in turn.
Retrieval never rewrites text: a passage is a stored chunk or a sentence of one, offsets
and all. It does not condense follow-ups (the engines do) and does not call a chat model.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import zip_longest

import numpy as np

from rag import multihop
from rag.context import Budget, assemble
from rag.embedding import Embedder
from rag.lexical import fold, mentions
from rag.questions import answer_type, holds_answer_type, is_cross_document, without_scope
from rag.store import ChunkTable, Store
from rag.types import Passage

MAX_DOCUMENTS = 10  # documents a question about several of them draws on, unless k is less
# BM25 scoring is numpy and Python, the query's embedding onnxruntime, which lets go of
# the interpreter while it runs: side by side they share the two cores
_BM25 = ThreadPoolExecutor(max_workers=2, thread_name_prefix="citechat-bm25")
# a second hop's retrieval needs only the question's BM25 scores, so it runs beside the
# first one: a hop question takes little longer than one without
_HOPS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="citechat-hop")


@dataclass(frozen=True)
class Fusion:
    """How rankings are fused and the context is built; weights cross-validated on SQuAD
    2.0 and HotpotQA (benchmarks/retrieval_context.py, docs/retrieval.md)."""

    sentence: float = 1.0  # chunks ranked by their best-matching sentence
    chunk: float = 0.5  # chunks ranked by their own vector
    lexical: float = 1.0  # BM25
    candidates: int = 50
    # chunks nearest the question whose sentences are ranked (with BM25's candidates)
    sentence_pool: int = 150
    # the same for the second hop, which adds only chunks of other documents: as many
    # as the other rankings take (SQuAD 1,918 and HotpotQA 100 found the same as at 150)
    hop_pool: int = 50
    rrf_k: int = 10  # reciprocal rank fusion's constant: smaller trusts top ranks more
    # a chunk holding the kind of answer asked for (a name for "who", a date for "when")
    answer_type_boost: float = 0.1
    second_hop: bool = True  # retrieve again with the names BM25's best chunk turns up
    neighbour_share: float = 0.5  # a chunk's neighbours join the ranking at this share


def _within(table: ChunkTable, scores: np.ndarray, docs: Sequence[str] | None) -> np.ndarray:
    """`scores` (one per row of `table`) with the rows outside `docs` zeroed, if given."""
    return np.where(np.isin(table.docs, list(docs)), scores, 0.0) if docs else scores


def _lexical_ranking(table: ChunkTable, scores: np.ndarray, n: int,
                     docs: Sequence[str] | None) -> list[int]:
    """The rows of the `n` best BM25 `scores` (one per row of `table`) within `docs`."""
    scores = _within(table, scores, docs)
    scored = np.flatnonzero(scores > 0)  # a question's terms are in few chunks of many
    n = min(n, len(scored))
    if n == 0:
        return []
    top = scored[np.argpartition(-scores[scored], n - 1)[:n]]
    return top[np.argsort(-scores[top], kind="stable")].tolist()


def fused_rows(store: Store, embedder: Embedder, query: str, docs: Sequence[str] | None = None,
               fusion: Fusion = Fusion(), table: ChunkTable | None = None,
               lexical_scores: np.ndarray | Future[np.ndarray] | None = None
               ) -> list[tuple[int, float]]:
    """(row in `table`, fused score) for the candidate chunks, best first. Pass the table
    you will read the rows from: another writer may replace the store's in between; and
    the query's BM25 scores over it, if already known or being scored."""
    table = table or store.table()
    if not table.ids:
        return []
    if lexical_scores is None:  # BM25 scores on the other core while the query is embedded
        lexical_scores = _BM25.submit(table.lexical.scores, query)
    vector = embedder.embed_query(query)
    if isinstance(lexical_scores, Future):
        lexical_scores = lexical_scores.result()
    lexical = _lexical_ranking(table, lexical_scores, fusion.candidates, docs)
    wanted = fusion.sentence_pool if fusion.sentence else fusion.candidates
    dense = store.dense_search(vector, wanted, docs) if fusion.chunk or fusion.sentence else []
    rankings = [(fusion.lexical, lexical), (fusion.chunk, [
        table.row_of[i] for i, _ in dense[:fusion.candidates] if i in table.row_of])]
    if fusion.sentence:  # the chunks the rankings in use found, ranked by their best sentence
        pool = [i for i, _ in dense] + [table.ids[row] for row in lexical if fusion.lexical]
        found = store.sentence_search(vector, 3 * fusion.candidates, docs, pool, table)
        rankings.append((fusion.sentence, [table.row_of[i] for i, _ in found if i in table.row_of]))
    scores: dict[int, float] = {}
    for weight, rows in rankings:
        if not weight:
            continue
        for rank, row in enumerate(rows, start=1):
            scores[row] = scores.get(row, 0.0) + weight / (fusion.rrf_k + rank)
    rows = list(scores)
    fused = np.fromiter(scores.values(), np.float64, len(rows)) * table.weights[rows]
    if kind := answer_type(query) if fusion.answer_type_boost else None:
        fused *= 1 + fusion.answer_type_boost * np.fromiter(
            (holds_answer_type(query, table.texts[row], kind) for row in rows), bool, len(rows))
    return [(rows[i], float(fused[i])) for i in np.argsort(-fused, kind="stable")]


def retrieve_each(store: Store, embedder: Embedder, query: str, k: int | None = None,
                  docs: Sequence[str] | None = None, budget_chars: int | None = None,
                  fusion: Fusion = Fusion()) -> list[Passage]:
    """For a question that compares or lists across documents: the best passage of each
    document, then each one's second best, and so on, within the budget (and at most `k`
    chunks). Each document is ranked on its own (a document outshone in the joint ranking
    still gets its best); the documents taken, at most 10, are those the joint ranking
    finds first."""
    query = without_scope(query) or query
    table = store.table()
    scores = table.lexical.scores(query)  # the same for every ranking below
    joint = fused_rows(store, embedder, query, docs, fusion, table, scores)
    scope = list(dict.fromkeys(str(table.docs[row]) for row, _ in joint))[:k or MAX_DOCUMENTS]
    each = [fused_rows(store, embedder, query, [doc], fusion, table, scores) for doc in scope]
    rounds = [hit for hits in zip_longest(*each) for hit in hits if hit]
    return assemble(table, rounds, Budget(budget_chars, k), fusion.neighbour_share)


def retrieve(store: Store, embedder: Embedder, query: str, k: int | None = None,
             docs: Sequence[str] | None = None, budget_chars: int | None = None,
             fusion: Fusion = Fusion()) -> list[Passage]:
    """The best passages for `query`, filling `budget_chars` (at most `k` chunks when
    given). A question about several documents ("in each of the articles") draws on each
    of them; one whose BM25 best chunk names what it hinges on gets a second hop."""
    if is_cross_document(query):
        return retrieve_each(store, embedder, query, k, docs, budget_chars, fusion)
    table = store.table()
    scores = _BM25.submit(table.lexical.scores, query)
    hop = (_HOPS.submit(hop_ranking, store, embedder, query, docs, fusion, table, scores)
           if fusion.second_hop and multihop.may_bridge(query) else None)
    ranked = fused_rows(store, embedder, query, docs, fusion, table, scores)
    second = hop.result() if hop else []
    if ranked and second:
        ranked = multihop.merged(ranked, second, str(table.docs[ranked[0][0]]),
                                 lambda row: str(table.docs[row]))
    if fusion.second_hop and ranked:
        ranked = multihop.with_leads(ranked, _compared_leads(store, embedder, query, docs,
                                                             fusion, table, ranked))
    return assemble(table, ranked, Budget(budget_chars, k), fusion.neighbour_share)


def hop_ranking(store: Store, embedder: Embedder, query: str, docs: Sequence[str] | None,
                fusion: Fusion, table: ChunkTable, lexical_scores: Future[np.ndarray]
                ) -> list[tuple[int, float]]:
    """The second hop's ranking: the question asked again with the names its BM25 best
    chunk turns up (`hop_bridges`), or [] when the hop is not asked."""
    scores = lexical_scores.result()
    bridges = _bridge_scores(table, query, scores, docs)
    if not bridges:
        return []
    # BM25 sums over query terms, so the follow-up's scores are the question's plus
    # those of the names, already scored to find them elsewhere
    follow_up_scores = scores + sum(bridges.values())
    return fused_rows(store, embedder, multihop.follow_up(query, list(bridges)), docs,
                      replace(fusion, sentence_pool=fusion.hop_pool), table, follow_up_scores)


def hop_bridges(table: ChunkTable, query: str, lexical_scores: np.ndarray,
                docs: Sequence[str] | None = None) -> list[str]:
    """The names the second hop adds to the question, or none when it is not asked: it
    is asked when the question is long enough to describe what it hinges on, and the
    chunk BM25 ranks first (by `lexical_scores`) names something BM25 finds first in
    another document. BM25's best rather than the fused ranking's, so that the hop can
    start before the question is embedded: on HotpotQA's 100 questions it finds every
    supporting sentence for 91 against 89 (docs/retrieval.md)."""
    return list(_bridge_scores(table, query, lexical_scores, docs))


def _bridge_scores(table: ChunkTable, query: str, lexical_scores: np.ndarray,
                   docs: Sequence[str] | None) -> dict[str, np.ndarray]:
    """`hop_bridges`' names, each with its BM25 scores over `table`."""
    if not multihop.may_bridge(query):
        return {}
    best = _lexical_ranking(table, lexical_scores, 1, docs)
    if not best:
        return {}
    doc = str(table.docs[best[0]])
    bridges = {name: table.lexical.scores(name)
               for name in multihop.bridge_names(query, table.texts[best[0]])}
    found = any(_found_elsewhere(table, scores, doc, docs) for scores in bridges.values())
    return bridges if found else {}


def _found_elsewhere(table: ChunkTable, scores: np.ndarray, doc: str,
                     docs: Sequence[str] | None) -> bool:
    """Whether the chunk ranked first by a name's BM25 `scores` lies outside `doc`
    (within `docs`)."""
    scores = _within(table, scores, docs)
    best = int(np.argmax(scores)) if len(scores) else -1
    return best >= 0 and scores[best] > 0 and table.docs[best] != doc


def _compared_leads(store: Store, embedder: Embedder, query: str, docs: Sequence[str] | None,
                    fusion: Fusion, table: ChunkTable, ranked: list[tuple[int, float]]
                    ) -> list[int]:
    """For a comparison, the best chunk on each thing compared: from the ranking when a
    chunk there mentions it, else from a retrieval of its own."""
    things = multihop.compared(query)
    leads = []
    for thing in things:
        found = next((row for row, _ in ranked[:fusion.candidates]
                      if mentions(fold(table.texts[row]), thing)), None)
        if found is None:
            others = [t for t in things if t != thing]
            own = fused_rows(store, embedder, multihop.without(query, others) + " " + thing,
                             docs, fusion, table)
            found = own[0][0] if own else None
        if found is not None:
            leads.append(found)
    return leads

"""Which sentences of a document to quote: centrality over a sentence graph, position,
focus and redundancy.

Centrality is PageRank over a graph whose edges are the content terms two sentences share
(rag.lexical's stemmed, stop-worded tokens), divided by (terms_i + terms_j) ** exponent
so that long sentences do not win by length alone; the random surfer jumps back to a
sentence in proportion to its vector's similarity to the document's centroid (citechat's
own sentence vectors), or to the focus when there is one. PageRank is solved as a linear
system (numpy.linalg.solve), not iterated by hand. Centrality is standardized, then
salience adds how common the sentence's terms are in the document (SumBasic's signal),
and position a bonus for the document's lead and for sentences opening a paragraph.
Picks are greedy: a sentence nearly the same as one already picked (a pull quote) is
skipped, and a redundancy penalty can discourage merely similar ones. The weights are
the grid point best on all of bbc-dev, their held-out figure cross-validated by article
and by category (benchmarks/summaries.py, docs/summaries.md).

Long documents are ranked in windows of WINDOW sentences (a graph is dense: its size
grows with the square of the sentences), each window standardized on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rag.lexical import tokenize
from rag.summaries.candidates import Sentence

WINDOW = 1000
DUPLICATE = 0.9  # cosine above which two sentences say the same thing
FLOOR = 1e-3  # least teleport weight: every sentence stays reachable


@dataclass(frozen=True)
class Weights:
    exponent: float = 0.8  # length normalisation of an edge (0: raw shared-term counts)
    damping: float = 0.85  # PageRank's probability of following an edge
    lead: float = 0.5  # bonus for the document's first sentence, in standard deviations
    opening: float = 0.0  # bonus for a sentence that opens a paragraph or section
    redundancy: float = 0.0  # penalty per unit of cosine to the most similar pick
    frequency: float = 0.5  # weight of (standardized) salience: how common its terms are
    focus: float = 1.0  # weight of (standardized) relevance to the focus
    focus_keep: float = 0.5  # share of the best relevance a sentence needs to be on focus


DEFAULT = Weights()


def standardized(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 1e-12 else np.zeros_like(values)


@lru_cache(maxsize=64)
def term_matrix(texts: tuple[str, ...]) -> tuple[np.ndarray, dict[str, int]]:
    """Binary sentence × term matrix of the texts' content terms, and term -> column (the
    last few documents' kept: one is often summarized again at another length or focus)."""
    tokens = [set(t) for t in tokenize(list(texts))]
    vocabulary = {term: i for i, term in enumerate(sorted(set().union(*tokens)))}
    matrix = np.zeros((len(tokens), len(vocabulary)))
    for row, terms in enumerate(tokens):
        matrix[row, [vocabulary[t] for t in terms]] = 1.0
    return matrix, vocabulary


def lexical_graph(terms: np.ndarray, exponent: float) -> np.ndarray:
    shared = terms @ terms.T
    np.fill_diagonal(shared, 0.0)
    sizes = np.maximum(terms.sum(axis=1), 1.0)
    return shared / (sizes[:, None] + sizes[None, :]) ** exponent


def pagerank(graph: np.ndarray, teleport: np.ndarray, damping: float) -> np.ndarray:
    """The stationary distribution of a walk over `graph` that jumps by `teleport`."""
    n = len(graph)
    out = graph.sum(axis=1, keepdims=True)
    walk = np.divide(graph, out, out=np.full_like(graph, 1.0 / n), where=out > 0)
    jump = teleport / teleport.sum()
    return np.linalg.solve(np.eye(n) - damping * walk.T, (1 - damping) * jump)


def salience(terms: np.ndarray) -> np.ndarray:
    """How common a sentence's content terms are in its document: the mean share of the
    document's sentences that hold each of its terms (SumBasic's signal; news
    summaries repeat the document's most frequent words)."""
    share = terms.mean(axis=0)
    sizes = np.maximum(terms.sum(axis=1), 1.0)
    return terms @ share / sizes


def centrality(texts: Sequence[str], teleport: np.ndarray, weights: Weights) -> np.ndarray:
    """Standardized PageRank of each sentence (plus its salience), window by window."""
    found = np.zeros(len(texts))
    for first in range(0, len(texts), WINDOW):
        part = slice(first, first + WINDOW)
        terms = term_matrix(tuple(texts[part]))[0]
        graph = lexical_graph(terms, weights.exponent)
        found[part] = standardized(pagerank(graph, teleport[part], weights.damping))
        if weights.frequency:
            found[part] += weights.frequency * standardized(salience(terms))
    return found


def relevance(texts: Sequence[str], vectors: np.ndarray, focus: str,
              focus_vector: np.ndarray) -> np.ndarray:
    """How much each sentence is about the focus, 0..1: half the cosine of their vectors,
    half the share of the focus's terms the sentence holds, each weighted by its rarity
    among the sentences (a term the document never uses counts as the rarest)."""
    matrix, vocabulary = term_matrix(tuple(texts))
    terms = set(tokenize([focus])[0])
    rarest = np.log1p(len(texts))
    weights = {t: np.log1p(len(texts) / (1 + matrix[:, vocabulary[t]].sum()))
               if t in vocabulary else rarest for t in terms}
    total = sum(weights.values())
    held = [(vocabulary[t], w) for t, w in weights.items() if t in vocabulary]
    lexical = (matrix[:, [c for c, _ in held]] @ np.array([w for _, w in held]) / total
               if held else np.zeros(len(texts)))
    return 0.5 * np.clip(vectors @ focus_vector, 0.0, None) + 0.5 * lexical


def scores(sentences: Sequence[Sentence], vectors: np.ndarray, weights: Weights = DEFAULT,
           focus: np.ndarray | None = None) -> np.ndarray:
    """One document's sentences scored for a summary (`focus`: their relevance to it)."""
    if focus is None:
        centroid = vectors.mean(axis=0)
        teleport = np.clip(vectors @ centroid, FLOOR, None)
    else:
        teleport = np.clip(focus, FLOOR, None)
    found = centrality([s.text for s in sentences], teleport, weights)
    found += weights.lead * np.array([s.lead for s in sentences], dtype=float)
    found += weights.opening * np.array([s.opens for s in sentences], dtype=float)
    if focus is not None:
        found += weights.focus * standardized(focus)
    return found


def select(ranked: np.ndarray, vectors: np.ndarray, count: int,
           weights: Weights = DEFAULT) -> list[int]:
    """Up to `count` indexes, best first by score less redundancy, never two near-same
    sentences; returned in document order."""
    picked: list[int] = []
    open_ = np.ones(len(ranked), dtype=bool)
    while len(picked) < count and open_.any():
        similarity = (vectors @ vectors[picked].T).max(axis=1) if picked else 0.0
        gain = np.where(open_, ranked - weights.redundancy * similarity, -np.inf)
        best = int(np.argmax(gain))
        picked.append(best)
        open_ &= ~(vectors @ vectors[best] > DUPLICATE)
        open_[best] = False
    return sorted(picked)

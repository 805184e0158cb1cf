"""Extractive summaries of whole documents: the picked sentences, in document order,
each followed by its citation marker.

One document: one paragraph (or one bullet per sentence). Several: a section per
document headed `### Title` on its own line, then, when two documents share a point, a
section with one cited sentence from each side (the most similar pair of sentences across
two documents, among each one's most central, not both already quoted). With a focus,
only the part of each document about it is summarized: the sentences whose relevance is
within `Weights.focus_keep` of the document's best, from documents about it at all.
Every sentence of a summary is one candidate sentence, cited with exactly its span.
It does not call a chat model: the generative engine's summaries live in engines/llm.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby

import numpy as np

from rag.summaries.candidates import Sentence, candidates
from rag.summaries.length import Length, shares
from rag.summaries.ranking import DEFAULT, Weights, relevance, scores, select
from rag.types import Passage

FOCUS_FLOOR = 0.2  # best relevance below this: the document is not about the focus
OVERLAP_MIN = 0.6  # cosine of two documents' sentences that say the same thing
OVERLAP_POOL = 20  # most central sentences of each document searched for an overlap
OVERLAP_DOCS = 12  # above this many documents, no overlap section
OVERLAP_HEADING = "### Common ground"

Embed = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class DocPicks:
    """One document's candidates (indexes into the summary's), scores and picks."""

    title: str
    rows: np.ndarray
    scores: np.ndarray
    picked: list[int]  # indexes into `rows`, in document order


def _about(rows: np.ndarray, fit: np.ndarray | None, keep: float) -> np.ndarray:
    """The rows about the focus (all of them without one)."""
    if fit is None:
        return rows
    if fit.max() < FOCUS_FLOOR:
        return rows[:0]
    return rows[fit >= keep * fit.max()]


def _rank(sentences: list[Sentence], vectors: np.ndarray, focus: str,
          focus_vector: np.ndarray | None, weights: Weights) -> list[tuple[str, np.ndarray,
                                                                      np.ndarray]]:
    """(title, rows about the focus, their scores) for each document."""
    ranked = []
    for _, group in groupby(range(len(sentences)), key=lambda i: sentences[i].doc):
        rows = np.array(list(group))
        fit = (relevance([sentences[i].text for i in rows], vectors[rows], focus, focus_vector)
               if focus_vector is not None else None)
        kept = _about(rows, fit, weights.focus_keep)
        if not len(kept):
            continue
        part = fit[np.isin(rows, kept)] if fit is not None else None
        ranked.append((sentences[rows[0]].title, kept,
                       scores([sentences[i] for i in kept], vectors[kept], weights, part)))
    return ranked


def pick(sentences: list[Sentence], vectors: np.ndarray, length: Length = "auto",
         focus: str = "", focus_vector: np.ndarray | None = None,
         weights: Weights = DEFAULT) -> list[DocPicks]:
    """Each document's picks for a summary of `length`."""
    ranked = _rank(sentences, vectors, focus, focus_vector, weights)
    counts = shares(length, [len(rows) for _, rows, _ in ranked])
    return [DocPicks(title, rows, found, select(found, vectors[rows], count, weights))
            for (title, rows, found), count in zip(ranked, counts, strict=True)]


def overlaps(docs: list[DocPicks], vectors: np.ndarray, pairs: int) -> list[tuple[int, int]]:
    """Up to `pairs` (row, row) of the most similar sentences of two different documents,
    each pair above OVERLAP_MIN, no sentence twice."""
    if not 2 <= len(docs) <= OVERLAP_DOCS or pairs <= 0:
        return []
    pools = [d.rows[np.argsort(-d.scores)[:OVERLAP_POOL]] for d in docs]
    rows = np.concatenate(pools)
    owner = np.concatenate([np.full(len(p), i) for i, p in enumerate(pools)])
    quoted = np.isin(rows, np.concatenate([d.rows[d.picked] for d in docs]))
    similarity = vectors[rows] @ vectors[rows].T
    # a pair from two documents, at least one of them not already in its section
    similarity[(owner[:, None] == owner[None, :]) | (quoted[:, None] & quoted[None, :])] = -1.0
    found: list[tuple[int, int]] = []
    while len(found) < pairs:
        a, b = np.unravel_index(int(np.argmax(similarity)), similarity.shape)
        if similarity[a, b] < OVERLAP_MIN:
            break
        found.append((int(rows[a]), int(rows[b])) if a < b else (int(rows[b]), int(rows[a])))
        similarity[[a, b], :] = similarity[:, [a, b]] = -1.0
    return found


class _Markers:
    """Numbers sentences as sources, once each: the text of `[n]` for a row."""

    def __init__(self, sentences: list[Sentence]) -> None:
        self.sentences = sentences
        self.sources: list[Passage] = []
        self._number: dict[int, int] = {}  # row -> marker number

    def quote(self, row: int) -> str:
        if row not in self._number:
            s = self.sentences[row]
            self.sources.append(Passage(s.doc, s.start, s.end, 1.0, s.text))
            self._number[row] = len(self.sources)
        return f"{self.sentences[row].text} [{self._number[row]}]"


def _body(rows: Sequence[int], markers: _Markers, bullets: bool) -> str:
    quoted = [markers.quote(row) for row in rows]
    return "\n".join(f"- {q}" for q in quoted) if bullets else " ".join(quoted)


def extractive_summary(units: Sequence[Passage], embed: Embed,
                       embed_query: Callable[[str], np.ndarray] | None = None,
                       length: Length = "auto", focus: str = "", bullets: bool = False,
                       weights: Weights = DEFAULT) -> tuple[list[Passage], str]:
    """(cited sentences, summary text with [n] markers) for the documents in `units`."""
    sentences = candidates(units)
    if not sentences:
        return [], ""
    vectors = embed([s.text for s in sentences])
    focus_vector = embed_query(focus) if focus and embed_query else None
    docs = [d for d in pick(sentences, vectors, length, focus, focus_vector, weights)
            if d.picked]
    markers = _Markers(sentences)
    if len(docs) <= 1:
        text = _body(docs[0].rows[docs[0].picked], markers, bullets) if docs else ""
        return markers.sources, text
    sections = [f"### {' '.join(d.title.split())}\n\n{_body(d.rows[d.picked], markers, bullets)}"
                for d in docs]
    shared = overlaps(docs, vectors, 1 if length == "short" or isinstance(length, int) else 2)
    if shared:
        sections.append(OVERLAP_HEADING + "\n\n" + "\n\n".join(
            " ".join(markers.quote(row) for row in pair) for pair in shared))
    return markers.sources, "\n\n".join(sections)

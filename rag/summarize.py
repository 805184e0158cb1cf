"""Extractive summaries of whole documents: central sentences, in document order, cited.

Every sentence of every document asked for is a candidate (not only retrieved passages).
A sentence's relevance is its similarity to its document's centroid (and to the user's
instruction, when there is one), with small bonuses for coming early and for naming
specific people, places and numbers, and a malus for opening with a pronoun; maximal marginal
relevance then keeps the picks from repeating each other (pull quotes, restatements).
Boilerplate chunks and fragments too short to be a claim are skipped. This module does
not call a chat model: the LLM engine's map-reduce summaries live in engines/llm.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from itertools import groupby

import numpy as np

from rag.sentences import sentence_spans
from rag.types import Passage

MIN_CHARS, MIN_WORDS = 40, 6
MMR_LAMBDA = 0.6
# Specific sentences (naming people, places, numbers) make better summaries than vague
# ones; sentences opening with a pronoun read badly out of context.
_SPECIFIC = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*|\d+")
_ANAPHORIC = re.compile(r"(?:He|She|They|It|This|These|Those|His|Her|Their|Such)\b")


def _prior(sentence: str, position: float) -> float:
    names = len(set(_SPECIFIC.findall(sentence)))
    return 0.05 * (1 - position) + 0.03 * min(names, 5) - 0.05 * bool(_ANAPHORIC.match(sentence))


def _candidates(units: Sequence[Passage]) -> list[Passage]:
    found = []
    for unit in units:
        if unit.weight < 1.0:  # page furniture, not content
            continue
        for s, e in sentence_spans(unit.text):
            text = unit.text[s:e]
            if len(text) >= MIN_CHARS and len(text.split()) >= MIN_WORDS:
                found.append(Passage(unit.doc, unit.start + s, unit.start + e, 1.0, text))
    return found


def _mmr(relevance: np.ndarray, vectors: np.ndarray, count: int) -> list[int]:
    picked: list[int] = []
    while len(picked) < min(count, len(relevance)):
        redundancy = (vectors @ vectors[picked].T).max(axis=1) if picked else 0.0
        gain = MMR_LAMBDA * relevance - (1 - MMR_LAMBDA) * redundancy
        gain[picked] = -np.inf
        picked.append(int(np.argmax(gain)))
    return picked


def pick_sentences(sentences: list[Passage], vectors: np.ndarray, count: int,
                   focus: np.ndarray | None = None) -> list[Passage]:
    """`count` central, mutually different sentences, returned in document order."""
    centroid = vectors.mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
    relevance = vectors @ centroid
    if focus is not None:
        relevance = 0.4 * relevance + 0.6 * (vectors @ focus)
    positions = np.arange(len(sentences)) / max(len(sentences), 1)
    relevance = relevance + np.array([_prior(s.text, p) for s, p in
                                      zip(sentences, positions, strict=True)])
    return [sentences[i] for i in sorted(_mmr(relevance, vectors, count))]


def extractive_summary(
    units: Sequence[Passage],
    embed: Callable[[list[str]], np.ndarray],
    instruction: str = "",
    embed_query: Callable[[str], np.ndarray] | None = None,
) -> tuple[list[Passage], str]:
    """(cited sentences, summary text with [n] markers) for the documents in `units`."""
    by_doc = [(doc, list(group)) for doc, group in groupby(units, key=lambda u: u.doc)]
    focus = embed_query(instruction) if instruction and embed_query else None
    per_doc = max(2, min(8, 16 // max(len(by_doc), 1)))
    sources: list[Passage] = []
    sections: list[str] = []
    for doc, doc_units in by_doc:
        sentences = _candidates(doc_units)
        if not sentences:
            continue
        count = min(per_doc, max(3, round(len(sentences) / 5)))
        picked = pick_sentences(sentences, embed([s.text for s in sentences]), count, focus)
        first = len(sources) + 1
        sources += picked
        body = " ".join(f"{s.text} [{first + i}]" for i, s in enumerate(picked))
        sections.append(body if len(by_doc) == 1 else f"**{doc}**: {body}")
    return sources, "\n\n".join(sections)

"""The offline answer engine: answers with the source's own sentences, each cited.

No language model. For a question it splits the retrieved passages into sentences,
scores each against the question (embedding similarity plus stemmed term overlap),
and answers with the best sentence and up to two more that score nearly as well and
say something new. It refuses when the best score is below a calibrated threshold, or
when a name or number in the question appears in none of the passages (the usual sign
that the documents are about something else). Summaries pick central sentences of
each whole document (maximal marginal relevance), in document order.

It cannot paraphrase, combine facts into a new sentence, or resolve pronouns beyond
carrying the previous question into retrieval.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.embedding import Embedder
from rag.engines.base import REFUSAL, Draft, TokenSink
from rag.lexical import tokenize
from rag.sentences import sentence_spans
from rag.types import Passage, Turn

FOLLOW_UP_JOIN = " — following up on: "
DEFAULT_THRESHOLD = 0.40  # calibrated by benchmarks/calibrate.py; see docs/answers.md

_PRONOUNS = re.compile(
    r"\b(he|she|it|they|them|him|his|her|hers|its|their|theirs|this|that|these|those|"
    r"there|the same|such)\b", re.IGNORECASE)
_QUESTION_WORDS = frozenset(
    "who whom whose what which when where why how is are was were do does did can could "
    "should would will in on at of for according besides between the a an and or but to "
    "from by with summarize summarise describe explain list name give tell i".split()
)
_ENTITY = re.compile(r"(?:[A-Z][\w’'.-]*|\d[\d,.]*)(?:\s+(?:[A-Z][\w’'.-]*|\d[\d,.]*))*")


@dataclass(frozen=True)
class Scored:
    passage_rank: int
    start: int
    end: int
    text: str
    doc: str
    score: float


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _entities(question: str) -> list[str]:
    """Capitalised word runs and numbers in the question, minus question words."""
    found = []
    for match in _ENTITY.finditer(question):
        words = [w.strip(".,’'") for w in match.group(0).split()]
        words = [w for w in words if w.lower() not in _QUESTION_WORDS and w]
        if words:
            found.append(" ".join(re.sub(r"[’']s$", "", w) for w in words))
    return found


def _present(entity: str, haystack: str) -> bool:
    """An entity counts as present in full, word by word, or as its acronym (U.S.)."""
    words = _fold(entity).split()
    if _fold(entity) in haystack or all(re.search(rf"\b{re.escape(w)}", haystack) for w in words):
        return True
    initials = "".join(w[0] for w in words)
    return len(words) > 1 and bool(
        re.search(rf"\b{re.escape('.'.join(initials))}\.?(?!\w)|\b{initials}\b", haystack))


def missing_entities(question: str, passages: Sequence[Passage]) -> list[str]:
    haystack = _fold(" ".join(p.text for p in passages))
    return [e for e in _entities(question) if not _present(e, haystack)]


def _term_overlap(question_terms: set[str], sentence: str) -> float:
    if not question_terms:
        return 0.0
    return len(question_terms & set(tokenize([sentence])[0])) / len(question_terms)


class ExtractiveEngine:
    name = "extractive"

    def __init__(self, embedder: Embedder, threshold: float = DEFAULT_THRESHOLD,
                 max_sentences: int = 3, dense_weight: float = 0.6) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.max_sentences = max_sentences
        self.dense_weight = dense_weight
        self._vectors: dict[str, np.ndarray] = {}  # sentence text -> vector (bounded below)

    # -- follow-ups ------------------------------------------------------------------

    def condense(self, history: Sequence[Turn], question: str) -> str:
        """The question, with the previous one attached when this one leans on it."""
        if not history:
            return question
        content = [t for t in tokenize([question])[0] if t]
        if not _PRONOUNS.search(question) and len(content) >= 4:
            return question
        previous = history[-1].question.split(FOLLOW_UP_JOIN)[0]
        return f"{question}{FOLLOW_UP_JOIN}{previous}"

    # -- answers ---------------------------------------------------------------------

    def _embed(self, texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if new:
            if len(self._vectors) > 50_000:
                self._vectors.clear()
            self._vectors.update(zip(new, self.embedder.embed(new), strict=True))
        return np.stack([self._vectors[t] for t in texts]) if texts else np.zeros((0, 1))

    def score_sentences(self, question: str, passages: Sequence[Passage]) -> list[Scored]:
        main, _, context = question.partition(FOLLOW_UP_JOIN)
        spans = [(rank, p, s, e) for rank, p in enumerate(passages)
                 for s, e in sentence_spans(p.text)]
        if not spans:
            return []
        texts = [p.text[s:e] for _, p, s, e in spans]
        vectors = self._embed(texts)
        dense = vectors @ self.embedder.embed_query(main)
        if context:
            dense = 0.75 * dense + 0.25 * (vectors @ self.embedder.embed_query(context))
        terms = set(tokenize([main])[0])
        scored = []
        for (rank, p, s, e), text, similarity in zip(spans, texts, dense, strict=True):
            lexical = _term_overlap(terms, text)
            score = self.dense_weight * float(similarity) + (1 - self.dense_weight) * lexical
            scored.append(Scored(rank, p.start + s, p.start + e, text, p.doc,
                                 score - 0.01 * rank))
        return sorted(scored, key=lambda item: -item.score)

    def confidence(self, question: str, passages: Sequence[Passage]) -> float:
        """The best sentence's score, or 0 when the question names what the passages lack."""
        main = question.partition(FOLLOW_UP_JOIN)[0]
        if not passages or missing_entities(main, passages):
            return 0.0
        scored = self.score_sentences(question, passages)
        return scored[0].score if scored else 0.0

    def _pick(self, scored: list[Scored]) -> list[Scored]:
        picked = [scored[0]]
        for candidate in scored[1:]:
            if len(picked) == self.max_sentences or candidate.score < 0.85 * scored[0].score:
                break
            vectors = self._embed([candidate.text] + [p.text for p in picked])
            if float((vectors[1:] @ vectors[0]).max()) < 0.85:
                picked.append(candidate)
        return picked

    def answer(self, question: str, passages: Sequence[Passage],
               on_token: TokenSink | None = None) -> Draft:
        main = question.partition(FOLLOW_UP_JOIN)[0]
        if not passages or missing_entities(main, passages):
            return Draft(REFUSAL, [], refused=True)
        scored = self.score_sentences(question, passages)
        if not scored or scored[0].score < self.threshold:
            return Draft(REFUSAL, [], refused=True)
        picked = self._pick(scored)
        sources = [Passage(s.doc, s.start, s.end, round(s.score, 4), s.text) for s in picked]
        text = " ".join(f"{s.text} [{n}]" for n, s in enumerate(picked, start=1))
        if on_token:
            on_token(text)
        return Draft(text, sources)

    # -- summaries -------------------------------------------------------------------

    def summarize(self, units: Sequence[Passage], instruction: str = "",
                  on_token: TokenSink | None = None) -> Draft:
        from rag.summarize import extractive_summary

        sources, text = extractive_summary(units, self._embed, instruction,
                                           self.embedder.embed_query if instruction else None)
        if not sources:
            return Draft(REFUSAL, [], refused=True)
        if on_token:
            on_token(text)
        return Draft(text, sources)

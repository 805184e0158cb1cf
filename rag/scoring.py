"""How well each candidate sentence answers a question: the fixed blend.

A sentence's score is 0.6 × its embedding similarity to the question + 0.4 × the share
of the question's terms it contains (each term weighted by its rarity among the
candidates), plus a small bonus when it holds the kind of answer asked for (a name for
"who", a date for "when", a number for "how many"), halved for page furniture
(headlines, captions), and lowered a little with the rank of its passage. A sentence
opening with a pronoun is also scored together with the sentence before it, at a
discount. A follow-up's earlier question weighs a quarter of the dense part.

Learned rankers over ~20 such features did not beat this blend under article-level
cross-validation on SQuAD (docs/answers.md), so there is none. It does not choose the
answer (rag/selection.py) nor decide refusals (rag/refusal.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.embedding import Embedder
from rag.extracts import Sentence, neighbours, refers_back
from rag.lexical import tokenize
from rag.questions import answer_type, holds_answer_type

DENSE_WEIGHT = 0.6
ANSWER_TYPE_BONUS = 0.1
FURNITURE_FACTOR = 0.5
ANTECEDENT_DISCOUNT = 0.85
RANK_PENALTY = 0.01
CACHED = 50_000  # sentence texts whose vectors and tokens are kept


@dataclass(frozen=True)
class Scores:
    """Per candidate sentence: its blended score, and the stemmed terms it holds."""

    score: np.ndarray
    terms: tuple[frozenset[str], ...]
    question_terms: frozenset[str]


def term_overlaps(question_terms: set[str], bags: Sequence[set[str]]) -> np.ndarray:
    """Share of the question's terms each bag holds, each term weighted by its rarity
    among the bags (a term every candidate shares tells them apart less)."""
    if not question_terms or not bags:
        return np.zeros(len(bags))
    idf = {t: np.log(1 + len(bags) / (1 + sum(t in bag for bag in bags)))
           for t in question_terms}
    total = sum(idf.values())
    return np.array([sum(idf[t] for t in question_terms & bag) / total for bag in bags])


class SentenceScorer:
    """Scores candidate sentences; keeps their vectors and terms between questions."""

    def __init__(self, embedder: Embedder, dense_weight: float = DENSE_WEIGHT) -> None:
        self.embedder = embedder
        self.dense_weight = dense_weight
        self._vectors: dict[str, np.ndarray] = {}
        self._terms: dict[str, frozenset[str]] = {}

    def vectors(self, texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if new:
            if len(self._vectors) > CACHED:
                self._vectors.clear()
            self._vectors.update(zip(new, self.embedder.embed(new), strict=True))
        return np.stack([self._vectors[t] for t in texts]) if texts else np.zeros((0, 1))

    def terms(self, texts: list[str]) -> list[frozenset[str]]:
        new = [t for t in dict.fromkeys(texts) if t not in self._terms]
        if new:
            if len(self._terms) > CACHED:
                self._terms.clear()
            self._terms.update((t, frozenset(b)) for t, b in
                               zip(new, tokenize(new), strict=True))
        return [self._terms[t] for t in texts]

    def _relevance(self, question: str, context: str, texts: list[str]) -> np.ndarray:
        vectors = self.vectors(texts)
        dense = vectors @ self.embedder.embed_query(question)
        if context:
            dense = 0.75 * dense + 0.25 * (vectors @ self.embedder.embed_query(context))
        bags = [set(b) for b in self.terms(texts)]
        lexical = term_overlaps(set(self.terms([question])[0]), bags)
        if context:  # a follow-up's earlier question holds what "they" and "it" stand for
            lexical = 0.75 * lexical + 0.25 * term_overlaps(set(self.terms([context])[0]), bags)
        return self.dense_weight * dense + (1 - self.dense_weight) * lexical

    def score(self, question: str, sentences: Sequence[Sentence], context: str = "") -> Scores:
        """Scores of `sentences` for `question` (`context`: an earlier question)."""
        texts = [s.text for s in sentences]
        if not texts:
            return Scores(np.zeros(0), (), frozenset(self.terms([question])[0]))
        paired = [_with_antecedent(sentences, i) for i in range(len(sentences))]
        alone = self._relevance(question, context, texts)
        together = self._relevance(question, context, paired)
        score = np.maximum(alone, ANTECEDENT_DISCOUNT * together)
        kind = answer_type(question)
        for i, sentence in enumerate(sentences):
            if kind and holds_answer_type(question, sentence.text, kind):
                score[i] += ANSWER_TYPE_BONUS
            if sentence.furniture:
                score[i] *= FURNITURE_FACTOR
            score[i] -= RANK_PENALTY * sentence.rank
        return Scores(score, tuple(self.terms(texts)), frozenset(self.terms([question])[0]))


def _with_antecedent(sentences: Sequence[Sentence], i: int) -> str:
    """The sentence, after the one before it when it opens by referring back to it."""
    before = neighbours(sentences, i, -1)
    if before is None or not refers_back(sentences[i].text):
        return sentences[i].text
    return f"{sentences[before].text} {sentences[i].text}"

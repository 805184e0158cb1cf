"""Candidate sentences with their scores, best first, and the extract grown around any of
them: the answering sentence with the sentence naming its subject, a list's
continuation and neighbours in its paragraph scoring nearly as well (`Growth`, chosen by
article-level cross-validation on SQuAD, benchmarks/answers_study.py).

Pure: no scoring (rag/scoring.py) and no choice of what answers (rag/selection.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.extracts import Sentence, extract_span, neighbours
from rag.scoring import Scores

MAX_EXTRACT_CHARS = 500


@dataclass(frozen=True)
class Growth:
    """How an answering sentence grows into what the reply quotes (chosen by article-level
    cross-validation on SQuAD, benchmarks/answers_study.py)."""

    neighbour: float = 0.7  # a neighbour in its paragraph scoring this × as well joins
    # the best sentences elsewhere join as extracts of their own when they score this ×
    # as well as the best: the blend puts the answer second or third often (SQuAD:
    # first 0.76, in the best three 0.89)
    runner_up: float | None = 0.8
    runner_ups: int = 2  # at most this many such extracts
    max_chars: int = MAX_EXTRACT_CHARS  # of one extract


@dataclass(frozen=True)
class Extract:
    """Contiguous sentences of one document, quoted together."""

    sentences: tuple[Sentence, ...]
    bridged: bool = False  # reached over a second hop: a document the answer's names

    @property
    def doc(self) -> str:
        return self.sentences[0].doc

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


class Ranked:
    """Candidates with their scores, best first, and the extract around each."""

    def __init__(self, sentences: Sequence[Sentence], scores: Scores,
                 growth: Growth = Growth()) -> None:
        self.sentences = sentences
        self.score = scores.score
        self.terms = scores.terms
        self.question_terms = scores.question_terms
        self.growth = growth
        self.order = [int(i) for i in np.argsort(-scores.score, kind="stable")]

    def extract(self, i: int, grow: bool = True, ratio: float | None = None,
                onward: bool = False) -> Extract:
        """The extract around sentence `i`; with `grow`, neighbours in its paragraph
        scoring at least `ratio` × as well join it; with `onward`, the sentences after it
        in its paragraph join however they score (the reason or manner a "why" or "how"
        question asks for follows the sentence that names it)."""
        floor = (self.growth.neighbour if ratio is None else ratio) * self.score[i]

        def wanted(j: int) -> bool:
            if self._chars(i, j) > self.growth.max_chars:
                return False
            return (onward and j > i) or (grow and self.score[j] >= floor)

        first, last = extract_span(self.sentences, i, wanted)
        return Extract(tuple(self.sentences[first:last + 1]))

    def terms_of(self, extract: Extract) -> frozenset[str]:
        """The stemmed terms an extract's sentences hold (its sentences are a run of the
        candidates, as `extract` makes them)."""
        first = self.sentences.index(extract.sentences[0])
        return frozenset().union(*self.terms[first:first + len(extract.sentences)])

    def _chars(self, i: int, j: int) -> int:
        a, b = sorted((i, j))
        return self.sentences[b].end - self.sentences[a].start

    def window_text(self, i: int) -> str:
        """The sentence with its neighbours: what the refusal signals check."""
        around = [j for j in (neighbours(self.sentences, i, -1), i,
                              neighbours(self.sentences, i, 1)) if j is not None]
        return " ".join(self.sentences[j].text for j in around)

    def best_where(self, keep: Callable[[Sentence], bool], floor: float) -> int | None:
        for i in self.order:
            if self.score[i] < floor:
                return None
            if keep(self.sentences[i]):
                return i
        return None

"""The offline answer engine: answers with the source's own sentences, each cited.

No language model. For a question it splits the retrieved passages into sentences,
scores each against the question (embedding similarity plus term overlap weighted by
rarity), and answers with the best sentence (for a question about several documents,
the best of each). A sentence holding the kind of answer the question asks for (a name
for "who", a date for "when", a number for "how many") gets a small bonus; captions and
disclaimers a penalty; a sentence opening with a pronoun is scored together with the
sentence before it. It refuses when the best score is below a calibrated threshold, or
when a name or number in the question appears nowhere in the collection (the usual sign
that the documents are about something else). Summaries pick central sentences of each
whole document (rag/summaries/).

It cannot paraphrase, combine facts into a new sentence, or resolve pronouns beyond
carrying the previous question into retrieval.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rag.chunking import is_furniture
from rag.embedding import Embedder
from rag.engines.base import REFUSAL, Draft, TokenSink
from rag.lexical import fold, mentions, tokenize
from rag.questions import (
    answer_type,
    holds_answer_type,
    is_cross_document,
    without_source_descriptor,
)
from rag.sentences import sentence_spans
from rag.types import Passage, Turn

if TYPE_CHECKING:
    from rag.summaries import SummaryRequest

FOLLOW_UP_JOIN = " — following up on: "
DEFAULT_THRESHOLD = 0.25  # calibrated on dev.jsonl and SQuAD 2.0; see docs/answers.md

# Words that point back to an earlier turn. "its" is left out: it usually refers within
# its own question ("NATO ... at its next summit").
_PRONOUNS = re.compile(
    r"\b(he|she|it|they|them|him|his|her|hers|their|theirs|this|that|these|those)\b",
    re.IGNORECASE)
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


def _entities(question: str) -> list[str]:
    """Capitalised word runs and numbers in the question, minus question words."""
    found = []
    for match in _ENTITY.finditer(question):
        words = [w.strip(".,’'") for w in match.group(0).split()]
        words = [w for w in words if w.lower() not in _QUESTION_WORDS and w]
        if words:
            found.append(" ".join(re.sub(r"[’']s$", "", w) for w in words))
    return found


def missing_entities(question: str, passages: Sequence[Passage]) -> list[str]:
    """Names and numbers of the question that none of the passages mention."""
    haystack = fold(" ".join(p.text for p in passages))
    return [e for e in _entities(question) if not mentions(haystack, e)]


# Whether a phrase's terms occur anywhere in the collection (the BM25 vocabulary).
KnownTerms = Callable[[str], bool]


ANSWER_TYPE_BONUS = 0.1
TYPED_RATIO = 0.7  # a typed sentence this close to the best one is preferred to it


def _term_overlaps(question: str, sentences: list[str]) -> np.ndarray:
    """Share of the question's terms each sentence contains, each term weighted by its
    rarity among these sentences (a term every sentence shares tells them apart less)."""
    terms = set(tokenize([question])[0])
    if not terms or not sentences:
        return np.zeros(len(sentences))
    bags = [set(tokens) for tokens in tokenize(sentences)]
    idf = {t: np.log(1 + len(bags) / (1 + sum(t in bag for bag in bags))) for t in terms}
    total = sum(idf.values())
    return np.array([sum(idf[t] for t in terms & bag) / total for bag in bags])


FURNITURE_FACTOR = 0.5
ANTECEDENT_DISCOUNT = 0.85
_ANAPHORIC_START = re.compile(r"(?:He|She|They|It|This|These|Those|His|Her|Their|Such)\b")

def _with_antecedent(sentence: str, doc: str, start: int,
                     ending_at: dict[tuple[str, int], str]) -> str:
    """The sentence, preceded by the sentence just before it when it opens with a
    pronoun and that sentence is among the passages."""
    if not _ANAPHORIC_START.match(sentence):
        return sentence
    for gap in range(1, 4):  # the whitespace between two sentences
        if (doc, start - gap) in ending_at:
            return f"{ending_at[(doc, start - gap)]} {sentence}"
    return sentence


def _line_of(text: str, start: int, end: int) -> str:
    return text[text.rfind("\n", 0, start) + 1 : (text.find("\n", end) + 1 or len(text) + 1) - 1]


class ExtractiveEngine:
    name = "extractive"

    def __init__(self, embedder: Embedder, threshold: float = DEFAULT_THRESHOLD,
                 max_sentences: int = 3, dense_weight: float = 0.6,
                 known: KnownTerms | None = None) -> None:
        self.embedder = embedder
        self.known = known
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

    def _relevance(self, question: str, context: str, texts: list[str]) -> np.ndarray:
        vectors = self._embed(texts)
        dense = vectors @ self.embedder.embed_query(question)
        if context:
            dense = 0.75 * dense + 0.25 * (vectors @ self.embedder.embed_query(context))
        lexical = _term_overlaps(question, texts)
        return self.dense_weight * dense + (1 - self.dense_weight) * lexical

    def score_sentences(self, question: str, passages: Sequence[Passage]) -> list[Scored]:
        main, _, context = question.partition(FOLLOW_UP_JOIN)
        main = without_source_descriptor(main) or main
        spans = [(rank, p, s, e) for rank, p in enumerate(passages)
                 for s, e in sentence_spans(p.text)]
        if not spans:
            return []
        texts = [p.text[s:e] for _, p, s, e in spans]
        # "He suggested…" is also scored together with the sentence saying who "he" is,
        # at a discount, so that the pair cannot outrank the antecedent on its own merits
        ending_at = {(p.doc, p.start + e): t for (_, p, _, e), t in zip(spans, texts, strict=True)}
        paired = [_with_antecedent(t, p.doc, p.start + s, ending_at)
                  for (_, p, s, _), t in zip(spans, texts, strict=True)]
        alone = self._relevance(main, context, texts)
        together = self._relevance(main, context, paired)
        relevance = np.maximum(alone, ANTECEDENT_DISCOUNT * together)
        kind = answer_type(main)
        scored = []
        for (rank, p, s, e), text, score in zip(spans, texts, relevance.tolist(), strict=True):
            score += ANSWER_TYPE_BONUS * bool(kind and holds_answer_type(main, text, kind))
            if is_furniture(_line_of(p.text, s, e)):
                score *= FURNITURE_FACTOR
            scored.append(Scored(rank, p.start + s, p.start + e, text, p.doc,
                                 score - 0.01 * rank))
        return sorted(scored, key=lambda item: -item.score)

    def unknown_entities(self, question: str, passages: Sequence[Passage]) -> list[str]:
        """Names and numbers of the question the collection never mentions (or, without
        a vocabulary, that the passages don't)."""
        main = question.partition(FOLLOW_UP_JOIN)[0]
        missing = missing_entities(main, passages)
        if self.known is None:
            return missing
        return [entity for entity in missing if not self.known(entity)]

    def confidence(self, question: str, passages: Sequence[Passage]) -> float:
        """The best sentence's score; 0 when the question names what the documents lack."""
        if not passages or self.unknown_entities(question, passages):
            return 0.0
        scored = self.score_sentences(question, passages)
        return scored[0].score if scored else 0.0

    def _best(self, question: str, scored: list[Scored], floor: float) -> Scored | None:
        """The best sentence scoring at least `floor`; for a "who/when/how many" question
        the best one holding a name/date/number, if one scores near the top."""
        if not scored or scored[0].score < floor:
            return None
        kind = answer_type(question)
        if kind and not holds_answer_type(question, scored[0].text, kind):
            for candidate in scored:
                if candidate.score < max(floor, TYPED_RATIO * scored[0].score):
                    break
                if holds_answer_type(question, candidate.text, kind):
                    return candidate
        return scored[0]

    def _pick(self, question: str, scored: list[Scored]) -> list[Scored]:
        """The best sentence; for a question about several documents, also the best of
        each other document that scores near it. One precise citation beats three loose
        ones."""
        best = self._best(question, scored, floor=0.0)
        picked = [best]
        if is_cross_document(question):
            for doc in dict.fromkeys(s.doc for s in scored if s.doc != best.doc):
                found = self._best(question, [s for s in scored if s.doc == doc],
                                   floor=0.6 * best.score)
                if found and len(picked) < self.max_sentences:
                    picked.append(found)
        return picked

    def answer(self, question: str, passages: Sequence[Passage],
               on_token: TokenSink | None = None) -> Draft:
        if not passages or self.unknown_entities(question, passages):
            return Draft(REFUSAL, [], refused=True)
        scored = self.score_sentences(question, passages)
        if not scored or scored[0].score < self.threshold:
            return Draft(REFUSAL, [], refused=True)
        picked = self._pick(question.partition(FOLLOW_UP_JOIN)[0], scored)
        sources = [Passage(s.doc, s.start, s.end, round(s.score, 4), s.text) for s in picked]
        text = " ".join(f"{s.text} [{n}]" for n, s in enumerate(picked, start=1))
        if on_token:
            on_token(text)
        return Draft(text, sources)

    # -- summaries -------------------------------------------------------------------

    def summarize(self, units: Sequence[Passage], instruction: str = "",
                  on_token: TokenSink | None = None,
                  request: SummaryRequest | None = None) -> Draft:
        from rag.summaries import SummaryRequest, extractive_summary

        request = request or SummaryRequest(focus=instruction)
        sources, text = extractive_summary(
            units, self._embed, self.embedder.embed_query, request.length,
            request.focus, request.bullets)
        if not sources:
            return Draft(REFUSAL, [], refused=True)
        if on_token:
            on_token(text)
        return Draft(text, sources)

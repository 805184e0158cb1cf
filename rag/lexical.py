"""The BM25 side of hybrid retrieval, over the same chunks as the vector side.

A thin layer on `bm25s`: text is NFKC-folded (so U+00A0 and friends match plain spaces),
stripped of accents ("Ötzi" and "Otzi", "Łódź" and "Lodz" are one term), lower-cased,
stop-worded and Snowball-stemmed, for chunks and queries alike. The index knows rows, not
chunks: the store keeps which row is which chunk. bm25s indexes are immutable, so a
collection's index is a list of them (`SegmentedIndex`, one per batch of documents, see
rag/segments.py) scored as one: each term's per-segment scores are rescaled from the
segment's IDF to the collection's, so a term rare in a small segment but common overall
scores as it does overall (segment-local averages of chunk length remain, as chunks are
cut to one size). A saved index made by another version of this folding is not loaded,
so the store rebuilds it. Accent folding is by Unicode
decomposition plus a few letters that do not decompose (ø, ł, đ, æ, œ, þ); it does not
transliterate other scripts.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np

# bm25s sets its own logger to DEBUG when imported, so once any handler is configured (the
# MCP SDK configures one) every index build prints a debug line; its warnings still show.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# Bumped whenever the terms change, so that an index saved with other terms is rebuilt.
TERMS_VERSION = "accent-folded-1"
_VERSION_FILE = "citechat-terms"
# letters with no Unicode decomposition into a base letter and a mark
_UNDECOMPOSED = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D",
                               "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th",
                               "Þ": "Th", "ı": "i"})


@lru_cache(maxsize=1)
def _stemmer():  # building the Snowball stemmer once; it is thread-safe for reads
    import Stemmer

    return Stemmer.Stemmer("english")


def without_accents(text: str) -> str:
    """NFKC text with accents and other combining marks removed ("Ötzi" -> "Otzi")."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    marks_dropped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", marks_dropped)


def fold(text: str) -> str:
    """NFKC, accent- and case-folded: how texts are compared for mentions."""
    return without_accents(text).casefold()


def mentions(folded_text: str, entity: str) -> bool:
    """Whether a (folded) text mentions an entity: in full, word by word, or as its
    acronym ("United States" as "U.S." or "US")."""
    words = fold(entity).split()
    if fold(entity) in folded_text or all(
            re.search(rf"\b{re.escape(w)}", folded_text) for w in words):
        return True
    initials = "".join(w[0] for w in words)
    return len(words) > 1 and bool(re.search(
        rf"\b{re.escape('.'.join(initials))}\.?(?!\w)|\b{re.escape(initials)}\b", folded_text))


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """The BM25 terms of each text."""
    return bm25s.tokenize([without_accents(text) for text in texts], stopwords="en",
                          stemmer=_stemmer(), return_ids=False, show_progress=False)


def _idf(docs: int, df: int) -> float:
    """bm25s's default ("lucene") IDF, for combining segments' scores."""
    return math.log1p((docs - df + 0.5) / (df + 0.5))


class LexicalIndex:
    """BM25 scores for a fixed list of texts (row i is text i)."""

    def __init__(self, model: bm25s.BM25 | None, size: int) -> None:
        self._model = model
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        """The index of `texts`; one that holds no term at all (only stop words and
        punctuation) scores every row 0."""
        tokens = tokenize(texts)
        if not any(tokens):
            return cls(None, len(texts))
        model = bm25s.BM25()
        model.index(tokens, show_progress=False)
        return cls(model, len(texts))

    def scores(self, query: str) -> np.ndarray:
        """A BM25 score for every row (zeros when no query term is indexed)."""
        return self.term_scores(tokenize([query])[0])

    def term_scores(self, terms: Sequence[str]) -> np.ndarray:
        """The BM25 score of every row for these (already tokenized) query terms."""
        known = [t for t in terms if self.has(t)]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return self._model.get_scores(known)  # type: ignore[union-attr]

    def knows(self, text: str) -> bool:
        """Whether every indexed term of `text` occurs somewhere in the collection."""
        if self._model is None:
            return False
        return all(term in self._model.vocab_dict for term in tokenize([text])[0])

    @property
    def empty(self) -> bool:
        """Whether it holds no term at all."""
        return self._model is None

    def has(self, term: str) -> bool:
        return self._model is not None and term in self._model.vocab_dict

    def document_frequency(self, term: str) -> int:
        """How many rows hold `term`."""
        if not self.has(term):
            return 0
        indptr = self._model.scores["indptr"]  # type: ignore[union-attr]
        column = self._model.vocab_dict[term]  # type: ignore[union-attr]
        return int(indptr[column + 1] - indptr[column])

    def column(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of the rows holding `term`: its column of bm25s's score matrix
        (each score is this index's IDF times the term-frequency part)."""
        if not self.has(term):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self._model.scores  # type: ignore[union-attr]
        column = self._model.vocab_dict[term]  # type: ignore[union-attr]
        first, last = scores["indptr"][column], scores["indptr"][column + 1]
        return scores["indices"][first:last], scores["data"][first:last]

    def save(self, folder: Path) -> None:
        if self._model is not None:
            self._model.save(str(folder), show_progress=False)
            (folder / _VERSION_FILE).write_text(TERMS_VERSION, encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        """The index saved in `folder`; ValueError when it was made with other terms."""
        if size == 0:
            return cls(None, 0)
        version = folder / _VERSION_FILE
        if not version.exists() or version.read_text(encoding="utf-8") != TERMS_VERSION:
            raise ValueError(f"the index in {folder} was built with other terms")
        model = bm25s.BM25.load(str(folder))
        if model.scores["num_docs"] != size:
            raise ValueError(f"the index in {folder} has other rows than its segment")
        return cls(model, size)


class SegmentedIndex:
    """BM25 over several segment indexes as if they were one, with the collection's IDF.

    `parts` pairs each segment's index with its rows' places in the collection (-1 for
    a row whose document has since gone: it is skipped, and like Lucene's deleted
    documents still counts in the IDF until its segment is merged away)."""

    def __init__(self, parts: Sequence[tuple[LexicalIndex, np.ndarray]], size: int) -> None:
        self.parts = list(parts)
        self.size = size
        self.indexed = sum(index.size for index, _ in self.parts)

    def scores(self, query: str) -> np.ndarray:
        """A BM25 score for every row of the collection."""
        scores = np.zeros(self.size, dtype=np.float32)
        terms = [t for t in tokenize([query])[0] if any(i.has(t) for i, _ in self.parts)]
        if not terms:
            return scores
        frequencies = {t: [i.document_frequency(t) for i, _ in self.parts] for t in set(terms)}
        overall = {t: _idf(self.indexed, sum(df)) for t, df in frequencies.items()}
        for n, (index, places) in enumerate(self.parts):
            if len(self.parts) == 1:  # its own IDF is the collection's
                local = index.term_scores(terms)
            else:
                local = np.zeros(index.size, dtype=np.float32)
                for term in terms:  # repeated terms count again, as in bm25s
                    if df := frequencies[term][n]:
                        rows, values = index.column(term)
                        local[rows] += values * (overall[term] / _idf(index.size, df))
            live = places >= 0
            scores[places[live]] += local[live]
        return scores

    def knows(self, text: str) -> bool:
        """Whether every indexed term of `text` occurs somewhere in the collection."""
        if all(index.empty for index, _ in self.parts):
            return False  # no segment holds any term
        return all(any(i.has(t) for i, _ in self.parts) for t in tokenize([text])[0])

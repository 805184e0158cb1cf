"""The BM25 side of hybrid retrieval, over the same chunks as the vector side.

A thin layer on `bm25s`: text is NFKC-folded (so U+00A0 and friends match plain spaces),
lower-cased, stop-worded and Snowball-stemmed, for chunks and queries alike. The index
knows rows, not chunks: the store keeps which row is which chunk. It is rebuilt, not
updated, when the collection changes (bm25s indexes are immutable).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np


@lru_cache(maxsize=1)
def _stemmer():  # building the Snowball stemmer once; it is thread-safe for reads
    import Stemmer

    return Stemmer.Stemmer("english")


def fold(text: str) -> str:
    """NFKC and case-folded: how texts are compared for mentions."""
    return unicodedata.normalize("NFKC", text).casefold()


def mentions(folded_text: str, entity: str) -> bool:
    """Whether a (folded) text mentions an entity: in full, word by word, or as its
    acronym ("United States" as "U.S." or "US")."""
    words = fold(entity).split()
    if fold(entity) in folded_text or all(
            re.search(rf"\b{re.escape(w)}", folded_text) for w in words):
        return True
    initials = "".join(w[0] for w in words)
    return len(words) > 1 and bool(re.search(
        rf"\b{re.escape('.'.join(initials))}\.?(?!\w)|\b{initials}\b", folded_text))


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    folded = [unicodedata.normalize("NFKC", text) for text in texts]
    return bm25s.tokenize(
        folded, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )


class LexicalIndex:
    """BM25 scores for a fixed list of texts (row i is text i)."""

    def __init__(self, model: bm25s.BM25 | None, size: int) -> None:
        self._model = model
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        if not texts:
            return cls(None, 0)
        model = bm25s.BM25()
        tokens = bm25s.tokenize(
            [unicodedata.normalize("NFKC", t) for t in texts],
            stopwords="en",
            stemmer=_stemmer(),
            show_progress=False,
            allow_empty=True,
        )
        model.index(tokens, show_progress=False)
        return cls(model, len(texts))

    def scores(self, query: str) -> np.ndarray:
        """A BM25 score for every row (zeros when no query term is indexed)."""
        if self._model is None:
            return np.zeros(0, dtype=np.float32)
        terms = [t for t in tokenize([query])[0] if t in self._model.vocab_dict]
        if not terms:
            return np.zeros(self.size, dtype=np.float32)
        return self._model.get_scores(terms)

    def knows(self, text: str) -> bool:
        """Whether every indexed term of `text` occurs somewhere in the collection."""
        if self._model is None:
            return False
        return all(term in self._model.vocab_dict for term in tokenize([text])[0])

    def save(self, folder: Path) -> None:
        if self._model is not None:
            self._model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        if size == 0:
            return cls(None, 0)
        return cls(bm25s.BM25.load(str(folder)), size)

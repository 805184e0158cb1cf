"""The BM25 side of hybrid retrieval, over the same chunks as the vector side.

A thin layer on `bm25s`: text is NFKC-folded (so U+00A0 and friends match plain spaces),
stripped of accents ("Ötzi" and "Otzi", "Łódź" and "Lodz" are one term), lower-cased,
stop-worded and Snowball-stemmed, for chunks and queries alike. The index knows rows, not
chunks: the store keeps which row is which chunk. It is rebuilt, not updated, when the
collection changes (bm25s indexes are immutable); a saved index made by another version of
this folding is not loaded, so the store rebuilds it. Accent folding is by Unicode
decomposition plus a few letters that do not decompose (ø, ł, đ, æ, œ, þ); it does not
transliterate other scripts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np

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
        if self._model is None:
            return np.zeros(self.size, dtype=np.float32)
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
            (folder / _VERSION_FILE).write_text(TERMS_VERSION, encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        """The index saved in `folder`; ValueError when it was made with other terms."""
        if size == 0:
            return cls(None, 0)
        version = folder / _VERSION_FILE
        if not version.exists() or version.read_text(encoding="utf-8") != TERMS_VERSION:
            raise ValueError(f"the index in {folder} was built with other terms")
        return cls(bm25s.BM25.load(str(folder)), size)

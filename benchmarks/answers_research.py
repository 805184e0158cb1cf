"""A cached research set for answer selection and refusal: each SQuAD question's retrieved
passages and every vector the engine asks for, computed once with the shipped embedder.

Building it runs the real retrieval (default settings, 4,000-character context) for every
question of the 12 SQuAD 2.0 articles, and embeds every candidate sentence, every
sentence joined to its antecedent, and every question. After that, `Selector` runs over
the cache with `CachedEmbedder` (a dictionary lookup instead of the model), so an
experiment over 4,031 questions takes seconds. The cache is keyed by the retrieval and
sentence code, so it is rebuilt when they change.

    python -m benchmarks.answers_research   # builds .bench-cache/research-*.pkl

    python -m benchmarks.answers_research hotpot   # HotpotQA's 100 questions too

It scores nothing by itself; benchmarks/answers_study.py reads it.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.common import ROOT
from benchmarks.corpora import (
    CACHE,
    HotpotQuestion,
    SquadQuestion,
    ingested,
    write_hotpot,
    write_squad,
)
from rag.types import Passage

CODE = ("rag/retrieval.py", "rag/lexical.py", "rag/sentences.py", "rag/extracts.py",
        "rag/chunking.py", "rag/questions.py", "rag/config.py", "rag/context.py",
        "rag/multihop.py")


@dataclass(frozen=True)
class Case:
    """One question: what retrieval found for it, and its gold."""

    question: SquadQuestion
    passages: tuple[Passage, ...]
    plausible: tuple[tuple[int, int], ...] = ()  # an unanswerable's plausible answers


class CachedEmbedder:
    """The embedder's vectors, looked up; a text never seen is embedded by `fallback`."""

    def __init__(self, vectors: dict[str, np.ndarray], fallback=None) -> None:
        self.vectors = vectors
        self.fallback = fallback
        self.dim = len(next(iter(vectors.values())))

    def _one(self, text: str) -> np.ndarray:
        if text not in self.vectors:
            if self.fallback is None:
                raise KeyError(text[:80])
            self.vectors[text] = self.fallback.embed([text])[0]
        return self.vectors[text]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, self.dim))

    def embed_query(self, text: str) -> np.ndarray:
        return self._one(text)


class _Recording:
    """Wraps an embedder and keeps every vector it returns."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.vectors: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if new:
            self.vectors.update(zip(new, self.inner.embed(new), strict=True))
        return np.stack([self.vectors[t] for t in texts]) if texts else self.inner.embed([])

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self.vectors:
            self.vectors[text] = self.inner.embed_query(text)
        return self.vectors[text]


def _digest() -> str:
    digest = hashlib.sha256()
    for code in CODE:
        path = ROOT / code
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _plausible() -> dict[str, tuple[tuple[int, int], ...]]:
    """Each unanswerable question's plausible answers, as offsets in its article's file."""
    import json

    from benchmarks.corpora import SQUAD_FILES

    found = {}
    for path in SQUAD_FILES:
        for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
            offset = 0
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    found[qa["id"]] = tuple(sorted(
                        {(offset + a["answer_start"], offset + a["answer_start"] + len(a["text"]))
                         for a in qa.get("plausible_answers", [])}))
                offset += len(paragraph["context"]) + 2
    return found


def _retrieved(name: str, folder: Path, questions: list) -> tuple[list, dict[str, np.ndarray]]:
    """Each question's retrieved passages over the ingested `folder`, and every vector the
    engine's selection asks for on them (recorded, so later runs embed nothing)."""
    from rag.engines.extractive import ExtractiveEngine

    pipeline = ingested(name, folder)
    recording = _Recording(pipeline.embedder)
    pipeline.embedder = recording
    table = pipeline.store.table()
    engine = ExtractiveEngine(recording, known=lambda text: table.lexical.knows(text))
    retrieved = []
    for n, q in enumerate(questions):
        passages = tuple(pipeline.retrieve(q.text, budget_chars=pipeline.settings.context_chars))
        engine.select(q.text, passages)  # records every vector selection asks for
        retrieved.append(passages)
        if n % 500 == 0:
            print(f"{n}/{len(questions)}", file=sys.stderr)
    return retrieved, recording.vectors


def _cached(path: Path, make):
    if path.exists():
        return load(path)
    found = make()
    path.write_bytes(pickle.dumps(found))
    return found


def build() -> tuple[list[Case], dict[str, np.ndarray]]:
    def make():
        questions = write_squad(CACHE / "squad-files")
        retrieved, vectors = _retrieved("squad", CACHE / "squad-files", questions)
        plausible = _plausible()
        return ([Case(q, passages, plausible.get(q.id, ()))
                 for q, passages in zip(questions, retrieved, strict=True)], vectors)
    return _cached(CACHE / f"research-squad-{_digest()}.pkl", make)


@dataclass(frozen=True)
class HotpotCase:
    question: HotpotQuestion
    passages: tuple[Passage, ...]


def build_hotpot() -> tuple[list[HotpotCase], dict[str, np.ndarray]]:
    """The same for HotpotQA's 100 questions over their ~1,000 paragraph files."""
    def make():
        questions = write_hotpot(CACHE / "hotpot-files")
        retrieved, vectors = _retrieved("hotpot", CACHE / "hotpot-files", questions)
        return ([HotpotCase(q, passages) for q, passages in zip(questions, retrieved,
                                                               strict=True)], vectors)
    return _cached(CACHE / f"research-hotpot-{_digest()}.pkl", make)


class _Unpickler(pickle.Unpickler):
    """Reads a cache written by `python -m benchmarks.answers_research` (its classes
    pickled as `__main__`'s)."""

    def find_class(self, module: str, name: str):
        return super().find_class(__name__ if module == "__main__" else module, name)


def load(path: Path):
    """A cache file, whichever way it was written."""
    with path.open("rb") as f:
        return _Unpickler(f).load()


def selector_over(vectors: dict[str, np.ndarray], name: str = "squad", **options):
    """A `Selector` reading the cached vectors, knowing the collection's terms."""
    from rag.selection import Selector

    pipeline = ingested(name, CACHE / f"{name}-files")
    table = pipeline.store.table()
    return Selector(CachedEmbedder(vectors, pipeline.embedder),
                    known=lambda text: table.lexical.knows(text), **options)


if __name__ == "__main__":
    from benchmarks import answers_research  # pickle the classes under their module's name

    cases, vectors = (answers_research.build_hotpot() if "hotpot" in sys.argv
                      else answers_research.build())
    print(f"{len(cases)} questions, {len(vectors)} vectors")

"""Ingest in batches: documents chunked one by one (`Prepared`), then embedded and written
many at a time — every distinct text of a batch (a chunk with its context, a sentence)
embedded once, in one call, so the embedder's token-budget batches fill up across small
files and a sentence repeated across chunks or files costs nothing more — and the
progress bar (files, and chunks per second). The first batch is one file and each next
one twice the size, up to `ingest_batch_chunks` (512) chunks: a file's outcome is known
(and the app's progress moves) at once, and a long ingest writes few large batches. It does not read
files or lock: rag/ingest.py does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rag import chunking
from rag.chunk_table import DocInfo
from rag.config import Settings
from rag.errors import ModelUnavailable
from rag.progress import SILENT, Silent
from rag.segments import VECTORS_KEY, encode_vectors
from rag.types import Chunk, Document

BATCH_CHUNKS = 512


@dataclass(frozen=True)
class Version:
    """A document version ready to store: its chunks with their vectors, boilerplate
    weights and contexts (text that helps find each chunk: indexed by BM25, not shown),
    and the vectors of each chunk's sentences, one (sentences, dims) array per chunk."""

    doc: Document
    chunks: Sequence[Chunk]
    vectors: np.ndarray
    weights: Sequence[float]
    contexts: Sequence[str]
    sentence_vectors: Sequence[np.ndarray]

    @classmethod
    def of(cls, doc: Document, chunks: Sequence[Chunk], vectors: np.ndarray,
           weights: Sequence[float], contexts: Sequence[str],
           sentences: Sequence[tuple[str, Chunk]], sentence_vectors: np.ndarray) -> Version:
        """The version from flat lists: `sentences` are (chunk id, sentence as a Chunk),
        their vectors the rows of `sentence_vectors`."""
        dims = vectors.shape[1] if vectors.ndim == 2 else 1
        per_chunk: dict[str, list[np.ndarray]] = {c.id: [] for c in chunks}
        for (chunk_id, _), vector in zip(sentences, sentence_vectors, strict=True):
            per_chunk[chunk_id].append(vector)
        return cls(doc, chunks, vectors, weights, contexts,
                   [np.array(per_chunk[c.id]).reshape(-1, dims) for c in chunks])

    def metadatas(self) -> list[dict]:
        """Each chunk's Chroma metadata, its sentence vectors encoded."""
        return [_place(self, c, w, context) | encode_vectors(sentences)
                for c, w, context, sentences in self._columns()]

    def rows(self) -> list[tuple[str, dict, str]]:
        """(chunk id, metadata, text) of each chunk as a table read gives them back from
        Chroma, the sentence vectors decoded (rag/segments.py's `Rows.of` takes them)."""
        return [(c.id, _place(self, c, w, context) | {VECTORS_KEY: sentences},
                 self.doc.text[c.start:c.end]) for c, w, context, sentences in self._columns()]

    def _columns(self):
        return zip(self.chunks, self.weights, self.contexts, self.sentence_vectors, strict=True)

    def entry(self) -> dict:
        return DocInfo(self.doc.name, self.doc.content_hash, len(self.chunks), len(self.doc.text),
                       self.doc.title, self.doc.pages).metadata()


def _place(version: Version, chunk: Chunk, weight: float, context: str) -> dict:
    return {"doc": chunk.doc, "start": chunk.start, "end": chunk.end,
            "hash": version.doc.content_hash, "weight": weight, "context": context}


@dataclass(frozen=True)
class Prepared:
    """A document chunked, with what its chunks and sentences will be embedded as."""

    doc: Document
    chunks: list[Chunk]
    contexts: list[str]
    weights: list[float]
    sentences: list[list[str]]  # per chunk, its sentences' texts
    status: str  # "added" or "updated"

    @classmethod
    def of(cls, doc: Document, settings: Settings, furniture: Sequence[tuple[int, int]],
           status: str) -> Prepared:
        chunks = chunking.chunk_document(doc, settings.chunk_size, settings.chunk_overlap)
        return cls(doc, chunks, [chunking.context_for(doc, c, doc.title) for c in chunks],
                   chunking.boilerplate_weights(doc, chunks, furniture),
                   [[s.text for s in chunking.sentences_of(doc, c)] for c in chunks], status)

    @property
    def result(self):
        from rag.ingest import FileResult

        return FileResult(self.doc.name, self.status, len(self.chunks))  # type: ignore[arg-type]

    def texts(self) -> list[str]:
        """What is embedded: the chunk texts (context first) and then the sentences."""
        sentences = [s for group in self.sentences for s in group]
        return [f"{x} {c.text}".strip() for x, c in zip(self.contexts, self.chunks, strict=True)
                ] + sentences


def embed_batch(batch: Sequence[Prepared], embed: Callable[[list[str]], np.ndarray]
                ) -> list[Version]:
    """The batch's versions with their vectors, each distinct text embedded once."""
    distinct = list(dict.fromkeys(t for p in batch for t in p.texts()))
    vectors = embed(distinct) if distinct else np.zeros((0, 1), dtype=np.float32)
    row = {text: i for i, text in enumerate(distinct)}
    dims = vectors.shape[1]
    versions = []
    for p in batch:
        chunk_vectors = vectors[[row[t] for t in p.texts()[: len(p.chunks)]]].reshape(-1, dims)
        per_chunk = [vectors[[row[s] for s in sentences]].reshape(-1, dims)
                     for sentences in p.sentences]
        versions.append(Version(p.doc, p.chunks, chunk_vectors, p.weights, p.contexts,
                                per_chunk))
    return versions


class Batches:
    """Prepared documents gathered and flushed (embedded, then written) in batches;
    `on_done` hears each file's outcome in the order files were added."""

    def __init__(self, embed: Callable[[Sequence[Prepared], Silent], list[Version]],
                 write: Callable[[Sequence[Version]], None],
                 most: int = BATCH_CHUNKS) -> None:
        self.embed, self.write, self.most = embed, write, most
        self.on_done: Callable = lambda result: None
        self.pending: list = []  # Prepared, or a FileResult waiting for those before it
        self.limit = 1  # chunks that make a batch; doubles after each one
        self.shown: Silent = SILENT
        self.failed_at: str | None = None  # the first file of a batch the embedder failed

    def __enter__(self) -> Batches:
        return self

    def __exit__(self, *exc) -> None:
        self.pending = []

    def add(self, item, shown: Silent = SILENT) -> None:
        if not isinstance(item, Prepared) and not self.pending:
            self.on_done(item)  # nothing to wait for
            return
        self.pending.append(item)
        if isinstance(item, Prepared):
            self.shown = shown
        if sum(len(p.chunks) for p in self._prepared()) >= self.limit:
            self.flush()

    def _prepared(self) -> list[Prepared]:
        return [p for p in self.pending if isinstance(p, Prepared)]

    def flush(self) -> None:
        batch = self._prepared()
        if batch:
            try:
                versions = self.embed(batch, self.shown)
            except ModelUnavailable:
                self.failed_at = batch[0].doc.name
                raise
            self.write(versions)
            self.limit = min(2 * self.limit, self.most)
        for item in self.pending:
            self.on_done(item.result if isinstance(item, Prepared) else item)
        self.pending = []

    def finish(self) -> None:
        self.flush()


class Progress:
    """The terminal's bar: files done, and chunks written per second."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = None
        self.chunks, self.started = 0, time.perf_counter()
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="Ingesting", unit="file")

    def add(self, result) -> None:
        if self.bar is None:
            return
        if result.status in ("added", "updated"):
            self.chunks += result.chunks
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        self.bar.set_postfix_str(f"{self.chunks / elapsed:.1f} chunks/s", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

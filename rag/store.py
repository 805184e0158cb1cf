"""Chroma (embedded or server) holding chunks, vectors and source texts, with the BM25
index kept in step.

Two Chroma collections per citechat collection: `<name>` holds chunks (vector,
metadata doc/start/end/hash/weight, and the float16 vectors of the chunk's sentences —
short factoid questions match a sentence better than a whole chunk — kept in the
record's metadata, not in a vector index: rag/segments.py), and `<name>-docs` one entry
per document with its exact source text. A document's entry is
written *after* its chunks and its old chunks are deleted after that, so the entry is the
commit point: chunks whose (doc, hash) no entry vouches for are leftovers of an
interrupted write, invisible to reads and removed by `repair()` (which looks for them
only when the last write was cut short: rag/generations.py marks each write). The chunk
table, its BM25 index and sentence vectors (rag/chunk_table.py) are derived from the
vouched-for chunks and updated whenever the set of documents changes (rag/table_reader.py),
so they follow writes made by other processes on the same server. Sentence search ranks
given chunks by their best sentence (one matrix product in process); chunk vectors are
searched by Chroma. It does not open clients (rag/chroma_client.py), embed (callers pass
vectors) or lock (see pipeline.py).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from rag import table_reader
from rag.batches import Version
from rag.chroma_client import connect
from rag.chunk_table import ChunkTable, DocInfo
from rag.errors import DocumentNotFound, EmbeddingMismatch, StoreUnavailable
from rag.generations import Generations
from rag.migration import migrate_sentences
from rag.segments import Key, Rows

HELD_CHUNKS = 250_000  # written rows held for the next table read, at most (~0.7 GB)

__all__ = ["ChunkTable", "DocInfo", "Store", "Version", "connect", "open_store"]


def open_store(chroma_url: str | None, data_dir: Path, collection: str,
               embedder_id: str) -> Store:
    """The store for these settings, able to follow writes by other processes."""
    return Store(connect(chroma_url, data_dir), collection, embedder_id, data_dir,
                 reopen=lambda: connect(chroma_url, data_dir, fresh=True),
                 generation_file=None if chroma_url else data_dir / f"{collection}.generation")


def _doc_id(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:32]


class Store:
    def __init__(self, client, collection: str, embedder_id: str, cache_dir: Path,
                 reopen: Callable[[], object] | None = None,
                 generation_file: Path | None = None) -> None:
        """`reopen` gives a fresh client; `generation_file` (embedded stores) is where
        writers of every process leave their generation token, since an embedded client
        cannot see other processes' writes until it is reopened."""
        self.name = collection
        self.embedder_id = embedder_id
        self.cache_dir = cache_dir / "bm25" / collection
        self.reopen = reopen
        self._open(client)
        self.generations = Generations(lambda: (self.client, self.documents), generation_file)
        self._current: tuple[str | None, ChunkTable | None] = (None, None)  # generation, table
        self._texts: dict[tuple[str, str], str] = {}
        # the rows of versions this process wrote since its last table read, so that read
        # need not fetch them back from Chroma (at 100k chunks, the read-back's transient
        # objects held about 1 GB); kept only by a process that reads its table
        self._written: dict[Key, Rows] = {}
        self._written_chunks = 0

    def _open(self, client) -> None:
        self.client = client
        self.batch = max(1, client.get_max_batch_size())
        try:
            self.chunks = client.get_or_create_collection(
                self.name, embedding_function=None,
                metadata={"hnsw:space": "cosine", "embedder": self.embedder_id},
            )
            self.documents = client.get_or_create_collection(
                f"{self.name}-docs", embedding_function=None
            )
        except Exception as exc:
            raise StoreUnavailable(f"Cannot open collection {self.name!r}: {exc}") from None
        built_with = (self.chunks.metadata or {}).get("embedder")
        if built_with != self.embedder_id:
            raise EmbeddingMismatch(
                f"Collection {self.name!r} was built with the embedding model {built_with!r}, "
                f"not {self.embedder_id!r}; use another collection (CITECHAT_COLLECTION) or "
                "the model it was built with."
            )


    # -- documents -------------------------------------------------------------------

    def list_documents(self) -> list[DocInfo]:
        got = self.documents.get(include=["metadatas"])
        infos = [DocInfo.from_metadata(m) for m in got["metadatas"] or []]
        return sorted(infos, key=lambda info: info.name)

    def document(self, name: str) -> DocInfo | None:
        got = self.documents.get(ids=[_doc_id(name)], include=["metadatas"])
        if not got["ids"]:
            return None
        return DocInfo.from_metadata(got["metadatas"][0])

    def source_text(self, name: str) -> str:
        info = self.document(name)
        if info is None:
            raise DocumentNotFound(f"No document named {name!r} in the collection.")
        key = (name, info.content_hash)
        if key not in self._texts:
            got = self.documents.get(ids=[_doc_id(name)], include=["documents"])
            self._texts[key] = got["documents"][0]
        return self._texts[key]

    # -- writes ----------------------------------------------------------------------

    def _batches(self, count: int) -> Iterator[slice]:
        for first in range(0, count, self.batch):
            yield slice(first, first + self.batch)

    def records(self, collection, include: list[str], limit: int | None = None,
                where: dict | None = None) -> Iterator[tuple[str, dict, str | None]]:
        """(id, metadata, document) of every record (matching `where`), a page at a time."""
        offset = 0
        while True:
            got = collection.get(include=include, limit=limit or self.batch, offset=offset,
                                 where=where)
            if not got["ids"]:
                return
            yield from zip(got["ids"], got["metadatas"],
                           got.get("documents") or [None] * len(got["ids"]), strict=True)
            offset += len(got["ids"])

    def put(self, versions: Sequence[Version]) -> None:
        """Store document versions: all their chunks first, then their entries, then
        drop their old chunks — one write of many documents, each committed by its entry."""
        if not versions:
            return
        self.generations.mark_writing()
        # no chunk text: it is the document's text at the chunk's offsets (stored once, in
        # the document's entry), and Chroma writes a record with text ~1.5x slower
        ids = [c.id for v in versions for c in v.chunks]
        vectors = np.concatenate([v.vectors for v in versions])
        metadatas = [m for v in versions for m in v.metadatas()]
        for part in self._batches(len(ids)):
            self.chunks.upsert(ids=ids[part], embeddings=vectors[part], metadatas=metadatas[part])
        for part in self._batches(len(versions)):
            batch = versions[part]
            self.documents.upsert(
                ids=[_doc_id(v.doc.name) for v in batch], embeddings=[[1.0]] * len(batch),
                documents=[v.doc.text for v in batch], metadatas=[v.entry() for v in batch])
        for v in versions:
            self.chunks.delete(where={"$and": [{"doc": v.doc.name},
                                               {"hash": {"$ne": v.doc.content_hash}}]})
        self.generations.bump()
        if self._current[1] is not None:
            self._hold(versions)

    def _hold(self, versions: Sequence[Version]) -> None:
        for v in versions:
            self._written[(v.doc.name, v.doc.content_hash)] = Rows.of(v.rows())
            self._written_chunks += len(v.chunks)
        if self._written_chunks > HELD_CHUNKS:  # a bulk load: read back at the next read
            self._written, self._written_chunks = {}, 0

    def written(self, versions: set[Key]) -> dict[Key, Rows]:
        """The rows this process wrote of these versions since its last table read (the
        rest it held are forgotten: the table holds them already, or they are gone)."""
        held, self._written, self._written_chunks = self._written, {}, 0
        return {key: held[key] for key in versions if key in held}

    def delete(self, name: str) -> None:
        if self.document(name) is None:
            raise DocumentNotFound(f"No document named {name!r} in the collection.")
        self.generations.mark_writing()
        self.documents.delete(ids=[_doc_id(name)])
        self.chunks.delete(where={"doc": name})
        self.generations.bump()

    def _orphans(self, live: set[tuple[str, str]]) -> list[str]:
        return [i for i, m, _ in self.records(self.chunks, ["metadatas"])
                if (m["doc"], m["hash"]) not in live]

    def repair(self, full: bool = False) -> int:
        """Delete chunks no document entry vouches for; returns how many. Skipped (0)
        when the last write to the store finished, unless `full`: only a write cut short
        leaves such leftovers, and looking for them reads every record. A store written
        before sentence vectors moved into chunk records is migrated first."""
        if migrate_sentences(self):
            shutil.rmtree(self.cache_dir, ignore_errors=True)  # its tables lack the vectors
            self._current = (None, None)
        if not full and self.generations.last_write_finished():
            return 0
        orphans = self._orphans({(d.name, d.content_hash) for d in self.list_documents()})
        table_reader.return_freed_memory()  # the scan's records
        for part in self._batches(len(orphans)):
            self.chunks.delete(ids=orphans[part])
        self.generations.bump()  # and marks the store clean
        return len(orphans)

    def refresh(self) -> str:
        """Reopen the client if another process wrote since this store last looked (an
        embedded client would otherwise read stale vectors, and corrupt the store if it
        then wrote); returns the current generation. Writers call it under their lock."""
        with self.generations.lock:
            generation = self.generations.current()
            if self.generations.others_wrote(generation) and self.reopen is not None:
                self._open(self.reopen())
            self.generations.seen = generation
            return generation

    # -- reads -----------------------------------------------------------------------

    def fingerprint(self) -> str:
        return self.fingerprint_of(self.list_documents())

    def fingerprint_of(self, infos: Sequence[DocInfo]) -> str:
        pairs = sorted((d.name, d.content_hash) for d in infos)
        return hashlib.sha256(json.dumps([self.embedder_id, pairs]).encode()).hexdigest()[:24]

    def table(self) -> ChunkTable:
        """The live chunks, their BM25 index and sentence vectors, updated only if
        documents changed (rag/table_reader.py). While the store's generation (bumped by
        every write, from any process) is unchanged, the table is used as is: a query
        should not pay for listing every document."""
        generation = self.refresh()
        # (generation, table) as one value: a thread reading it while another replaces it
        # gets a matching pair, never the new generation with the old table
        read_at, table = self._current
        if table is not None and generation == read_at:
            return table
        table = table_reader.read_table(self, table)
        self._current = (generation, table)
        return table

    def dense_search(self, vector: np.ndarray, n: int,
                     docs: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the `n` nearest chunks, best first."""
        # n larger than the collection is fine: Chroma returns what there is
        where = {"doc": {"$in": list(docs)}} if docs else None
        got = self.chunks.query(query_embeddings=[vector], n_results=n, where=where,
                                include=["distances"])
        return [(i, 1.0 - d) for i, d in zip(got["ids"][0], got["distances"][0], strict=True)]

    def sentence_search(self, vector: np.ndarray, n: int, docs: Sequence[str] | None = None,
                        among: Sequence[str] | None = None,
                        table: ChunkTable | None = None) -> list[tuple[str, float]]:
        """(chunk id, similarity of its best sentence) for the `n` chunks whose best
        sentence is nearest, best first: among the chunks `among` names (those other
        rankings found: a few hundred sentences scored exactly), else every chunk (exact,
        and linear in the collection). `table`: the one the caller reads, if it has one."""
        table = table or self.table()
        if among is None:
            rows = np.arange(len(table.ids))
        else:
            rows = np.array([table.row_of[i] for i in among if i in table.row_of], dtype=np.int64)
        if docs:
            rows = rows[np.isin(table.docs[rows], list(docs))]
        return [(table.ids[row], score) for row, score in table.best_sentences(vector, rows)[:n]]

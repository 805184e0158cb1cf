"""Chroma (embedded or server) holding chunks, vectors and source texts, with the BM25
index kept in step.

Three Chroma collections per citechat collection: `<name>` holds chunks (vector,
metadata doc/start/end/hash/weight; the text is the document's at those offsets),
`<name>-sentences` one vector per sentence of each chunk, its id the chunk's plus a
suffix (short factoid questions match a sentence better than a whole chunk), and
`<name>-docs` one entry per document with its exact source text. A document's entry is
written *after* its chunks and its old chunks are deleted after that, so the entry is the
commit point: chunks whose (doc, hash) no entry vouches for are leftovers of an
interrupted write, invisible to reads and removed by `repair()` (which looks for them
only when the last write was cut short: rag/generations.py marks each write). The chunk
table and its BM25 index (rag/chunk_table.py) are derived from the vouched-for chunks and
rebuilt whenever the set of documents changes (fingerprint) or its rows disagree with the
chunk counts the entries record, so they follow writes made by other processes on the
same server. It does not open clients (rag/chroma_client.py), embed (callers pass
vectors) or lock (see pipeline.py).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from rag.chroma_client import connect
from rag.chunk_table import ChunkTable, DocInfo, load_table, save_table
from rag.errors import DocumentNotFound, EmbeddingMismatch, StoreUnavailable
from rag.generations import Generations
from rag.types import Chunk, Document

__all__ = ["ChunkTable", "DocInfo", "Store", "connect", "open_store"]


def open_store(chroma_url: str | None, data_dir: Path, collection: str,
               embedder_id: str) -> Store:
    """The store for these settings, able to follow writes by other processes."""
    return Store(connect(chroma_url, data_dir), collection, embedder_id, data_dir,
                 reopen=lambda: connect(chroma_url, data_dir, fresh=True),
                 generation_file=None if chroma_url else data_dir / f"{collection}.generation")


DOCS_PER_READ = 50


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

    def _open(self, client) -> None:
        self.client = client
        self.batch = max(1, client.get_max_batch_size())
        try:
            self.chunks = client.get_or_create_collection(
                self.name, embedding_function=None,
                metadata={"hnsw:space": "cosine", "embedder": self.embedder_id},
            )
            self.sentences = client.get_or_create_collection(
                f"{self.name}-sentences", embedding_function=None,
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

    def _upsert(self, collection, ids: list[str], vectors: np.ndarray,
                metadatas: list[dict]) -> None:
        """Vectors and metadata only: text lives once, in the document's entry."""
        for part in self._batches(len(ids)):
            collection.upsert(ids=ids[part], embeddings=vectors[part], metadatas=metadatas[part])

    def _records(self, collection, include: list[str],
                 limit: int | None = None) -> Iterator[tuple[str, dict, str | None]]:
        """(id, metadata, document) of every record, read a page at a time."""
        offset = 0
        while True:
            got = collection.get(include=include, limit=limit or self.batch, offset=offset)
            if not got["ids"]:
                return
            yield from zip(got["ids"], got["metadatas"],
                           got.get("documents") or [None] * len(got["ids"]), strict=True)
            offset += len(got["ids"])

    def put(self, doc: Document, chunks: Sequence[Chunk], vectors: np.ndarray,
            weights: Sequence[float], contexts: Sequence[str],
            sentences: Sequence[tuple[str, Chunk]] = (),
            sentence_vectors: np.ndarray | None = None) -> None:
        """Store a document version: chunks first, then its entry, then drop old chunks.

        `contexts` is text that helps find each chunk (indexed by BM25, not shown);
        `sentences` are (chunk id, sentence as a Chunk) with their vectors."""
        self.generations.mark_writing()
        # no chunk text: it is the document's text at the chunk's offsets (stored once, in
        # the document's entry), and Chroma writes a record with text ~1.5x slower
        self._upsert(self.chunks, [c.id for c in chunks], vectors, [
            {"doc": c.doc, "start": c.start, "end": c.end, "hash": doc.content_hash, "weight": w,
             "context": context}
            for c, w, context in zip(chunks, weights, contexts, strict=True)
        ])
        if sentences and sentence_vectors is not None:
            # no text and no offsets: a sentence hit is only ever read back as its chunk's
            # id (part of its own), and Chroma writes them ~1.7x faster without
            self._upsert(self.sentences, [s.id for _, s in sentences], sentence_vectors,
                         [{"doc": s.doc, "hash": doc.content_hash} for _, s in sentences])
        self.documents.upsert(
            ids=[_doc_id(doc.name)], embeddings=[[1.0]], documents=[doc.text],
            metadatas=[DocInfo(doc.name, doc.content_hash, len(chunks), len(doc.text),
                               doc.title, doc.pages).metadata()],
        )
        stale = {"$and": [{"doc": doc.name}, {"hash": {"$ne": doc.content_hash}}]}
        self.chunks.delete(where=stale)
        self.sentences.delete(where=stale)
        self.generations.bump()

    def delete(self, name: str) -> None:
        if self.document(name) is None:
            raise DocumentNotFound(f"No document named {name!r} in the collection.")
        self.generations.mark_writing()
        self.documents.delete(ids=[_doc_id(name)])
        self.chunks.delete(where={"doc": name})
        self.sentences.delete(where={"doc": name})
        self.generations.bump()

    def _orphans(self, collection, live: set[tuple[str, str]]) -> list[str]:
        return [i for i, m, _ in self._records(collection, ["metadatas"])
                if (m["doc"], m["hash"]) not in live]

    def repair(self, full: bool = False) -> int:
        """Delete chunks and sentences no document entry vouches for; returns how many.
        Skipped (0) when the last write to the store finished, unless `full`: only a
        write cut short leaves such leftovers, and looking for them reads every record."""
        if not full and self.generations.last_write_finished():
            return 0
        live = {(d.name, d.content_hash) for d in self.list_documents()}
        removed = 0
        for collection in (self.chunks, self.sentences):
            orphans = self._orphans(collection, live)
            for part in self._batches(len(orphans)):
                collection.delete(ids=orphans[part])
            removed += len(orphans)
        self.generations.bump()  # and marks the store clean
        return removed

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
        return self._fingerprint(self.list_documents())

    def _fingerprint(self, infos: Sequence[DocInfo]) -> str:
        pairs = sorted((d.name, d.content_hash) for d in infos)
        return hashlib.sha256(json.dumps([self.embedder_id, pairs]).encode()).hexdigest()[:24]

    def table(self) -> ChunkTable:
        """The live chunks and their BM25 index, rebuilt only if documents changed.

        A table (cached on disk, or just read) whose rows disagree with the documents'
        chunk counts is read again: another process committed in between. If they still
        disagree after a few tries it is used but not cached on disk. While the store's
        generation (bumped by every write, from any process) is unchanged, the table is
        used as is: a query should not pay for listing every document."""
        generation = self.refresh()
        # (generation, table) as one value: a thread reading it while another replaces it
        # gets a matching pair, never the new generation with the old table
        read_at, table = self._current
        if table is not None and generation == read_at:
            return table
        table = self._read_table(table)
        self._current = (generation, table)
        return table

    def _read_table(self, known: ChunkTable | None) -> ChunkTable:
        for _ in range(3):
            infos = self.list_documents()
            table = self._table_for(known, infos)
            # the entries it was read against ride along (titles, page ranges)
            table.infos = {d.name: d for d in infos}
            if Counter(table.docs.tolist()) == Counter({d.name: d.chunks for d in infos}):
                return table
        return table

    def _table_for(self, known: ChunkTable | None, infos: list[DocInfo]) -> ChunkTable:
        """The table for these entries: `known` if it is theirs, else the cached one if
        it matches their chunk counts, else one built (and cached when it matches)."""
        fingerprint = self._fingerprint(infos)
        if known is not None and known.fingerprint == fingerprint:
            return known
        expected = Counter({d.name: d.chunks for d in infos})
        table = load_table(self.cache_dir, fingerprint)
        if table is None or Counter(table.docs.tolist()) != expected:
            table = ChunkTable.from_rows(fingerprint, self._fetch_live_chunks(infos))
            if Counter(table.docs.tolist()) == expected:
                save_table(self.cache_dir, table)
        return table

    def _fetch_live_chunks(self, infos: Sequence[DocInfo]) -> list[tuple[str, dict, str]]:
        """(id, metadata, text) of every chunk a document entry vouches for, in document
        order; a chunk whose document changed in between is left out."""
        texts = self._live_texts({(d.name, d.content_hash) for d in infos})
        rows = [(i, m, texts[key][m["start"] : m["end"]])
                for i, m, _ in self._records(self.chunks, ["metadatas"])
                if (key := (m["doc"], m["hash"])) in texts]
        rows.sort(key=lambda row: (row[1]["doc"], row[1]["start"]))
        return rows

    def _live_texts(self, live: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """(name, hash) -> source text of the `live` document versions still stored."""
        # a few documents per request: a source text can be megabytes
        records = self._records(self.documents, ["metadatas", "documents"], DOCS_PER_READ)
        return {key: text for _, meta, text in records
                if (key := (meta["name"], meta["hash"])) in live}

    def dense_search(self, vector: np.ndarray, n: int,
                     docs: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the `n` nearest chunks, best first."""
        got = self._query(self.chunks, vector, n, docs, [])
        return [(i, 1.0 - d) for i, d in zip(got["ids"][0], got["distances"][0], strict=True)]

    def sentence_search(self, vector: np.ndarray, n: int,
                        docs: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, similarity of its best sentence) for the chunks holding the `n`
        nearest sentences, best first. A sentence's id is its chunk's id plus a suffix
        (chunking.sentences_of), so no metadata has to be fetched."""
        got = self._query(self.sentences, vector, n, docs, [])
        best: dict[str, float] = {}
        for sentence_id, distance in zip(got["ids"][0], got["distances"][0], strict=True):
            best.setdefault(sentence_id.rpartition("-")[0], 1.0 - distance)  # nearest first
        return list(best.items())

    def _query(self, collection, vector: np.ndarray, n: int, docs: Sequence[str] | None,
               include: list[str]) -> dict:
        # n larger than the collection is fine: Chroma returns what there is
        where = {"doc": {"$in": list(docs)}} if docs else None
        return collection.query(query_embeddings=[vector], n_results=n, where=where,
                                include=["distances", *include])

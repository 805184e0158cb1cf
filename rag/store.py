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
only when the last write was cut short: each write is marked in progress while it runs).
The BM25 index is derived from the vouched-for chunks and rebuilt whenever the set of
documents changes (fingerprint) or its rows disagree with the chunk counts the entries
record, so it follows writes made by other processes on the same server. It does not
embed (callers pass vectors) and does not lock (see pipeline.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from rag.errors import DocumentNotFound, EmbeddingMismatch, StoreUnavailable
from rag.lexical import LexicalIndex
from rag.types import Chunk, Document, Span


@dataclass(frozen=True)
class DocInfo:
    name: str
    content_hash: str
    chunks: int
    chars: int
    title: str = ""
    page_ranges: tuple[Span, ...] = ()  # one (start, end) per page; empty without pages

    @property
    def pages(self) -> int:
        return len(self.page_ranges)

    @classmethod
    def from_metadata(cls, m: dict) -> DocInfo:
        ranges = tuple((int(s), int(e)) for s, e in json.loads(m.get("page_ranges") or "[]"))
        return cls(m["name"], m["hash"], int(m["chunks"]), int(m["chars"]),
                   str(m.get("title") or ""), ranges)


@dataclass
class ChunkTable:
    """All live chunks in one fixed order, with the BM25 index over the same rows."""

    fingerprint: str
    ids: list[str]
    docs: np.ndarray  # row -> document name
    starts: np.ndarray
    ends: np.ndarray
    weights: np.ndarray
    texts: list[str]
    lexical: LexicalIndex
    row_of: dict[str, int] = field(init=False)  # chunk id -> row
    infos: dict[str, DocInfo] = field(default_factory=dict)  # document name -> its entry

    def __post_init__(self) -> None:
        self.row_of = {chunk_id: row for row, chunk_id in enumerate(self.ids)}

    def chunk(self, row: int) -> Chunk:
        return Chunk(self.ids[row], str(self.docs[row]), int(self.starts[row]),
                     int(self.ends[row]), self.texts[row])


_CONNECTING = threading.Lock()


def connect(chroma_url: str | None, data_dir: Path, fresh: bool = False):
    """A Chroma client: HttpClient for a server URL, PersistentClient otherwise.

    `fresh` drops this process's cached embedded system first: an embedded client does
    not see what other processes wrote to the same folder after it opened it."""
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient
    from chromadb.config import Settings as ChromaSettings

    options = ChromaSettings(anonymized_telemetry=False)
    try:
        if chroma_url:
            url = urlparse(chroma_url)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise StoreUnavailable(f"Invalid Chroma URL {chroma_url!r}: use http://host:port")
            return chromadb.HttpClient(
                host=url.hostname, port=url.port or (443 if url.scheme == "https" else 80),
                ssl=url.scheme == "https", settings=options,
            )
        data_dir.mkdir(parents=True, exist_ok=True)
        with _CONNECTING:  # two threads clearing the cache at once break each other
            if fresh:
                SharedSystemClient.clear_system_cache()
            return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=options)
    except StoreUnavailable:
        raise
    except Exception as exc:  # chromadb raises bare Exceptions and ValueErrors here
        where = chroma_url or str(data_dir / "chroma")
        raise StoreUnavailable(f"Cannot open the Chroma store at {where}: {exc}") from None


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
        self.generation_file = generation_file
        # One store serves every session of the app: a write's generation token and the
        # check of it by readers in other threads must not interleave.
        self._generation_lock = threading.Lock()
        self._open(client)
        self._current: tuple[str | None, ChunkTable | None] = (None, None)  # generation, table
        self._own_generation: str | None = None  # the last generation this store wrote
        self._seen_generation = self._generation()  # what the open client reflects
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
        self._mark_writing()
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
            metadatas=[{"name": doc.name, "hash": doc.content_hash, "chunks": len(chunks),
                        "chars": len(doc.text), "title": doc.title,
                        "page_ranges": json.dumps([list(p) for p in doc.pages])}],
        )
        stale = {"$and": [{"doc": doc.name}, {"hash": {"$ne": doc.content_hash}}]}
        self.chunks.delete(where=stale)
        self.sentences.delete(where=stale)
        self._bump_generation()

    def delete(self, name: str) -> None:
        if self.document(name) is None:
            raise DocumentNotFound(f"No document named {name!r} in the collection.")
        self._mark_writing()
        self.documents.delete(ids=[_doc_id(name)])
        self.chunks.delete(where={"doc": name})
        self.sentences.delete(where={"doc": name})
        self._bump_generation()

    def _orphans(self, collection, live: set[tuple[str, str]]) -> list[str]:
        return [i for i, m, _ in self._records(collection, ["metadatas"])
                if (m["doc"], m["hash"]) not in live]

    def repair(self, full: bool = False) -> int:
        """Delete chunks and sentences no document entry vouches for; returns how many.
        Skipped (0) when the last write to the store finished, unless `full`: only a
        write cut short leaves such leftovers, and looking for them reads every record."""
        if not full and self._collection_metadata().get("writing") is False:
            return 0
        live = {(d.name, d.content_hash) for d in self.list_documents()}
        removed = 0
        for collection in (self.chunks, self.sentences):
            orphans = self._orphans(collection, live)
            for part in self._batches(len(orphans)):
                collection.delete(ids=orphans[part])
            removed += len(orphans)
        self._bump_generation()  # and marks the store clean
        return removed

    # A write in progress is marked in the docs collection's metadata (as is the server's
    # generation token), so that the mark outlives a crash of this process in both modes.

    def _collection_metadata(self) -> dict:
        return dict(self.client.get_collection(self.documents.name).metadata or {})

    def _set_metadata(self, **values: str | bool) -> None:
        self.documents.modify(metadata=self._collection_metadata() | values)

    def _mark_writing(self) -> None:
        self._set_metadata(writing=True)

    def _generation(self) -> str:
        """A token every write changes: one small file (embedded) or one cheap read of
        the docs collection's metadata (server)."""
        if self.generation_file is not None:
            try:
                return self.generation_file.read_text(encoding="utf-8")
            except OSError:
                return ""
        return str(self._collection_metadata().get("generation", ""))

    def _bump_generation(self) -> None:
        """A new generation token, at the end of a write: the write is over, the mark goes."""
        token = uuid.uuid4().hex
        with self._generation_lock:  # readers in other threads must not see it half-done
            if self.generation_file is None:
                self._set_metadata(generation=token, writing=False)
            else:
                self._set_metadata(writing=False)
                partial = self.generation_file.with_suffix(".tmp")
                partial.write_text(token, encoding="utf-8")
                partial.replace(self.generation_file)
            self._own_generation = self._seen_generation = token

    def refresh(self) -> str:
        """Reopen the client if another process wrote since this store last looked (an
        embedded client would otherwise read stale vectors, and corrupt the store if it
        then wrote); returns the current generation. Writers call it under their lock."""
        with self._generation_lock:
            generation = self._generation()
            others_wrote = generation not in (self._seen_generation, self._own_generation)
            if others_wrote and self.reopen is not None:
                self._open(self.reopen())
            self._seen_generation = generation
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
        table = self._load_table(fingerprint)
        if table is None or Counter(table.docs.tolist()) != expected:
            table = self._build_table(fingerprint, infos)
            if Counter(table.docs.tolist()) == expected:
                self._save_table(table)
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

    def _build_table(self, fingerprint: str, infos: Sequence[DocInfo]) -> ChunkTable:
        rows = self._fetch_live_chunks(infos)
        texts = [text for _, _, text in rows]
        indexed = [f"{m.get('context', '')} {text}" for _, m, text in rows]
        table = ChunkTable(
            fingerprint, [i for i, _, _ in rows],
            np.array([m["doc"] for _, m, _ in rows], dtype=object),
            np.array([m["start"] for _, m, _ in rows], dtype=np.int64),
            np.array([m["end"] for _, m, _ in rows], dtype=np.int64),
            np.array([m.get("weight", 1.0) for _, m, _ in rows], dtype=np.float32),
            texts, LexicalIndex.build(indexed),
        )
        return table

    def _save_table(self, table: ChunkTable) -> None:
        # written aside, then renamed: a process killed mid-write leaves no half cache
        folder = self.cache_dir / table.fingerprint
        staging = self.cache_dir / f".{table.fingerprint}.{os.getpid()}.{threading.get_ident()}"
        try:
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            table.lexical.save(staging / "bm25")
            rows = {"ids": table.ids, "docs": table.docs.tolist(), "starts": table.starts.tolist(),
                    "ends": table.ends.tolist(), "weights": table.weights.tolist(),
                    "texts": table.texts}
            (staging / "rows.json").write_text(json.dumps(rows), encoding="utf-8")
            shutil.rmtree(folder, ignore_errors=True)
            staging.rename(folder)
            for stale in self.cache_dir.iterdir():
                if stale.name != table.fingerprint:
                    shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # the cache only saves start-up time

    def _load_table(self, fingerprint: str) -> ChunkTable | None:
        folder = self.cache_dir / fingerprint
        try:
            rows = json.loads((folder / "rows.json").read_text(encoding="utf-8"))
            lexical = LexicalIndex.load(folder / "bm25", len(rows["ids"]))
        except Exception:  # missing, unreadable or foreign: rebuilt from the store
            return None
        return ChunkTable(
            fingerprint, rows["ids"], np.array(rows["docs"], dtype=object),
            np.array(rows["starts"], dtype=np.int64), np.array(rows["ends"], dtype=np.int64),
            np.array(rows["weights"], dtype=np.float32), rows["texts"], lexical,
        )

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

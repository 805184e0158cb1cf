"""Segments: the unit in which a collection's chunks are held in process, indexed and
cached. A segment is an immutable batch of document versions — each chunk's id, place and
text, its sentences' vectors (float16, read from the chunk's record in Chroma) and one
bm25s index over its rows — saved once in its own folder. A change to the collection adds
a segment for the documents it wrote and marks the rows of the versions it replaced or
removed as gone, so an added document costs the indexing of that document only; small
segments are merged when there are too many, and a segment mostly gone is rebuilt from
its live rows. Which versions are live is not the segment's business: rag/chunk_table.py
assembles the live rows of a list of segments, and rag/table_reader.py decides when.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from rag.lexical import LexicalIndex

DIMENSIONS_KEY = "sentence_dims"
VECTORS_KEY = "sentence_vectors"
MAX_SEGMENTS = 8  # more than this and the smallest are merged
MERGED_AT_ONCE = 4
GONE_SHARE = 0.5  # a segment with more of its rows gone than this is rebuilt
Key = tuple[str, str]  # (document name, content hash): one version of a document


def encode_vectors(vectors: np.ndarray) -> dict[str, str | int]:
    """A chunk's sentence vectors as Chroma metadata: float16 bytes in base64, which
    Chroma keeps in its SQLite tables rather than in a vector index held in memory."""
    as_half = np.ascontiguousarray(vectors, dtype=np.float16)
    return {VECTORS_KEY: base64.b64encode(as_half.tobytes()).decode("ascii"),
            DIMENSIONS_KEY: int(as_half.shape[1]) if as_half.ndim == 2 else 0}


def decode_vectors(metadata: dict) -> np.ndarray:
    """The (sentences, dims) float16 vectors `encode_vectors` stored (or already
    decoded: `decoded`); none when absent."""
    if isinstance(metadata.get(VECTORS_KEY), np.ndarray):
        return metadata[VECTORS_KEY]
    dims = int(metadata.get(DIMENSIONS_KEY) or 0)
    if not dims or not metadata.get(VECTORS_KEY):
        return np.zeros((0, max(dims, 1)), dtype=np.float16)
    raw = np.frombuffer(base64.b64decode(metadata[VECTORS_KEY]), dtype=np.float16)
    return raw.reshape(-1, dims)


@dataclass(frozen=True)
class Rows:
    """Chunk rows in columns, without an index: what a segment is built from, and what a
    store holds of the versions it wrote until its next table read (rag/store.py)."""

    ids: list[str]
    docs: np.ndarray
    hashes: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    weights: np.ndarray
    texts: list[str]
    contexts: list[str]
    first_sentence: np.ndarray
    vectors: np.ndarray  # (sentences, dims) float16

    @classmethod
    def of(cls, rows: Sequence[tuple[str, dict, str]]) -> Rows:
        """The (chunk id, chunk metadata, chunk text) rows, each version's in start order."""
        rows = sorted(rows, key=lambda row: (row[1]["doc"], row[1]["start"]))
        vectors = [decode_vectors(m) for _, m, _ in rows]
        dims = next((v.shape[1] for v in vectors if len(v)), 1)
        return cls(
            [i for i, _, _ in rows],
            np.array([m["doc"] for _, m, _ in rows], dtype=object),
            np.array([m["hash"] for _, m, _ in rows], dtype=object),
            np.array([m["start"] for _, m, _ in rows], dtype=np.int64),
            np.array([m["end"] for _, m, _ in rows], dtype=np.int64),
            np.array([m.get("weight", 1.0) for _, m, _ in rows], dtype=np.float32),
            [text for _, _, text in rows], [str(m.get("context", "")) for _, m, _ in rows],
            np.concatenate([[0], np.cumsum([len(v) for v in vectors])]).astype(np.int64),
            np.concatenate([v for v in vectors if len(v)] or [np.zeros((0, dims))]
                           ).astype(np.float16, copy=False),
        )

    @classmethod
    def joined(cls, parts: Sequence[Rows]) -> Rows:
        """The parts' rows one after the other (each keeps its versions' rows together)."""
        if not parts:
            return cls.of([])
        if len(parts) == 1:
            return parts[0]  # rows are immutable: nothing to copy
        counts = [np.diff(p.first_sentence) for p in parts]
        vectors = [p.vectors for p in parts if len(p.vectors)]
        return cls(
            [i for p in parts for i in p.ids],
            *(np.concatenate([getattr(p, name) for p in parts])
              for name in ("docs", "hashes", "starts", "ends", "weights")),
            [t for p in parts for t in p.texts], [c for p in parts for c in p.contexts],
            np.concatenate([[0], np.cumsum(np.concatenate(counts))]).astype(np.int64),
            np.concatenate(vectors).astype(np.float16, copy=False) if vectors
            else parts[0].vectors,
        )


@dataclass(eq=False)
class Segment:
    """Rows of whole document versions, each version's rows together in start order."""

    name: str  # its folder in the cache
    ids: list[str]
    docs: np.ndarray  # row -> document name
    hashes: np.ndarray  # row -> content hash of its document version
    starts: np.ndarray
    ends: np.ndarray
    weights: np.ndarray
    texts: list[str]
    contexts: list[str]  # what BM25 indexes beside the text (titles, headings)
    first_sentence: np.ndarray  # row -> its first row in `vectors`; one more at the end
    vectors: np.ndarray  # (sentences, dims) float16
    lexical: LexicalIndex

    @property
    def size(self) -> int:
        return len(self.ids)

    @cached_property
    def keys(self) -> np.ndarray:
        """Row -> its document version as one string (for vectorised membership tests)."""
        return np.char.add(np.char.add(self.docs.astype(str), "\x1f"), self.hashes.astype(str))

    def sentences(self, row: int) -> np.ndarray:
        return self.vectors[self.first_sentence[row]: self.first_sentence[row + 1]]

    @classmethod
    def build(cls, rows: Sequence[tuple[str, dict, str]]) -> Segment:
        """The segment of (chunk id, chunk metadata, chunk text) rows."""
        return cls.of_parts([Rows.of(rows)])

    @classmethod
    def of_parts(cls, parts: Sequence[Rows]) -> Segment:
        """The segment of the parts' rows, one part after another. The BM25 index is built
        before the sentence vectors are joined: at 100k chunks each takes a few hundred MB
        while it is made, and never both at once."""
        lexical = LexicalIndex.build(_indexed(parts))
        rows = Rows.joined(parts)
        return cls(
            uuid.uuid4().hex, rows.ids, rows.docs, rows.hashes, rows.starts, rows.ends,
            rows.weights, rows.texts, rows.contexts, rows.first_sentence, rows.vectors, lexical,
        )

    def rows_of(self, keep: np.ndarray) -> list[tuple[str, dict, str]]:
        """The kept rows as `build` takes them (to merge or rebuild segments)."""
        return [(self.ids[r], {"doc": self.docs[r], "hash": self.hashes[r],
                               "start": int(self.starts[r]), "end": int(self.ends[r]),
                               "weight": float(self.weights[r]), "context": self.contexts[r],
                               VECTORS_KEY: self.sentences(r)}, self.texts[r])
                for r in np.flatnonzero(keep)]

    # -- on disk -------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """The segment in `folder/<name>`, written aside and renamed (a process killed
        mid-write leaves no half segment); a failure to write is ignored."""
        staging = folder / f".{self.name}.{os.getpid()}"
        try:
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            self.lexical.save(staging / "bm25")
            np.save(staging / "vectors.npy", self.vectors)
            np.save(staging / "first_sentence.npy", self.first_sentence)
            rows = {"ids": self.ids, "docs": self.docs.tolist(), "hashes": self.hashes.tolist(),
                    "starts": self.starts.tolist(), "ends": self.ends.tolist(),
                    "weights": self.weights.tolist(), "texts": self.texts,
                    "contexts": self.contexts}
            (staging / "rows.json").write_text(json.dumps(rows), encoding="utf-8")
            if not (folder / self.name).exists():
                staging.rename(folder / self.name)
        except OSError:
            pass
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> Segment:
        """The segment saved in `folder`; raises when it is missing or unreadable."""
        rows = json.loads((folder / "rows.json").read_text(encoding="utf-8"))
        first_sentence, vectors = np.load(folder / "first_sentence.npy"), vectors_in(folder)
        size = len(rows["ids"])
        if {len(v) for v in rows.values()} != {size} or len(first_sentence) != size + 1 \
                or first_sentence[-1] != len(vectors):
            raise ValueError(f"the segment in {folder} does not hold {size} whole rows")
        return cls(
            folder.name, rows["ids"], np.array(rows["docs"], dtype=object),
            np.array(rows["hashes"], dtype=object), np.array(rows["starts"], dtype=np.int64),
            np.array(rows["ends"], dtype=np.int64), np.array(rows["weights"], dtype=np.float32),
            rows["texts"], rows["contexts"], first_sentence, vectors,
            LexicalIndex.load(folder / "bm25", len(rows["ids"])),
        )


def _indexed(parts: Sequence[Rows]) -> list[str]:
    """What BM25 indexes of each row: its context (titles, headings) and its text."""
    return [f"{c} {t}" for p in parts for c, t in zip(p.contexts, p.texts, strict=True)]


def vectors_in(folder: Path) -> np.ndarray:
    """A saved segment's sentence vectors, memory-mapped: a query reads the rows of a few
    hundred chunks, so only those pages need be in memory."""
    return np.load(folder / "vectors.npy", mmap_mode="r")


def decoded(metadata: dict) -> dict:
    """The chunk's metadata with its sentence vectors decoded: a table read holds each
    chunk's vectors once, not also as base64 text."""
    return metadata | {VECTORS_KEY: decode_vectors(metadata)}


def live_masks(segments: Sequence[Segment], live: set[Key]) -> list[np.ndarray]:
    """Which rows of each segment belong to a live document version. A version held by
    several segments (fetched again after a partial read) is live in the newest only."""
    unclaimed = {f"{name}\x1f{version}" for name, version in live}
    masks = []
    for segment in reversed(segments):
        keys = segment.keys
        mask = np.isin(keys, np.array(sorted(unclaimed) or [""]))
        unclaimed -= set(keys[mask].tolist())
        masks.append(mask)
    return masks[::-1]


def compacted(segments: Sequence[Segment], live: set[Key]) -> list[Segment]:
    """The segments with those holding no live row dropped, any mostly gone rebuilt from
    their live rows, and the smallest merged while there are more than MAX_SEGMENTS (a
    merge re-indexes only the rows merged, so an added document is never the occasion to
    re-index the whole collection)."""
    kept = []
    for segment, mask in zip(segments, live_masks(segments, live), strict=True):
        if not mask.any():
            continue
        gone = 1 - mask.mean()
        kept.append(Segment.build(segment.rows_of(mask)) if gone > GONE_SHARE else segment)
    while len(kept) > MAX_SEGMENTS:
        masks = dict(zip(map(id, kept), live_masks(kept, live), strict=True))
        smallest = sorted(kept, key=lambda s: s.size)[:MERGED_AT_ONCE]
        merged = Segment.build([row for s in smallest for row in s.rows_of(masks[id(s)])])
        kept = [s for s in kept if all(s is not m for m in smallest)] + [merged]
    return kept

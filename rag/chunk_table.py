"""The in-process view of a collection's live chunks: each document's entry (`DocInfo`),
every chunk in one fixed row order with the BM25 index and the sentence vectors over the
same rows (`ChunkTable`, assembled from segments: rag/segments.py), and the segments'
on-disk cache. Each document's rows are together, in start order. It reads and writes no
Chroma records: rag/table_reader.py decides which chunks are live and when the table is
stale.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from rag.lexical import LexicalIndex, SegmentedIndex
from rag.segments import Key, Segment, live_masks, vectors_in
from rag.sentences import sentence_spans
from rag.types import Chunk, Span


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

    def metadata(self) -> dict:
        """The entry as Chroma metadata (`from_metadata` reads it back)."""
        return {"name": self.name, "hash": self.content_hash, "chunks": self.chunks,
                "chars": self.chars, "title": self.title,
                "page_ranges": json.dumps([list(p) for p in self.page_ranges])}


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
    lexical: LexicalIndex | SegmentedIndex
    row_of: dict[str, int] = field(init=False)  # chunk id -> row
    infos: dict[str, DocInfo] = field(default_factory=dict)  # document name -> its entry
    segments: list[Segment] = field(default_factory=list)
    # row -> (segment, row in it): where its sentence vectors are
    places: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64), np.zeros(0, np.int64))

    def __post_init__(self) -> None:
        self.row_of = {chunk_id: row for row, chunk_id in enumerate(self.ids)}

    def chunk(self, row: int) -> Chunk:
        return Chunk(self.ids[row], str(self.docs[row]), int(self.starts[row]),
                     int(self.ends[row]), self.texts[row])

    @cached_property
    def rows_of_doc(self) -> dict[str, range]:
        """Document name -> its rows (together, in start order)."""
        bounds: dict[str, list[int]] = {}
        for row, doc in enumerate(self.docs.tolist()):
            bounds.setdefault(doc, [row, row])[1] = row + 1
        return {doc: range(first, end) for doc, (first, end) in bounds.items()}

    def sentence_vectors(self, doc: str, start: int, end: int) -> dict[str, np.ndarray]:
        """Sentence text -> its stored vector (float32 from float16), for the sentences
        of the document's chunks lying wholly inside `start:end`: what embedding them
        again would give. The i-th vector is the chunk's i-th sentence, as for
        `best_sentences`; a chunk split into another number of sentences than it has
        vectors (split by other rules since) gives none."""
        found: dict[str, np.ndarray] = {}
        for row in self.rows_of_doc.get(doc, ()):
            chunk_start, text = int(self.starts[row]), self.texts[row]
            if chunk_start >= end or int(self.ends[row]) <= start or row >= len(self.places[0]):
                continue
            spans = sentence_spans(text)
            vectors = self.segments[int(self.places[0][row])].sentences(int(self.places[1][row]))
            if len(vectors) != len(spans):
                continue
            for (s, e), vector in zip(spans, vectors, strict=True):
                if start <= chunk_start + s and chunk_start + e <= end:
                    found[text[s:e]] = np.asarray(vector, dtype=np.float32)
        return found

    def versions(self) -> set[Key]:
        """Every (document, content hash) a segment holds, live or not."""
        return {(str(d), str(h)) for s in self.segments
                for d, h in set(zip(s.docs.tolist(), s.hashes.tolist(), strict=True))}

    @classmethod
    def of_segments(cls, fingerprint: str, segments: Sequence[Segment],
                    live: set[Key]) -> ChunkTable:
        """The table of the rows of `segments` whose document version is `live`."""
        chosen = [np.flatnonzero(mask) for mask in live_masks(segments, live)]
        offsets = np.cumsum([0] + [len(rows) for rows in chosen])
        parts = []
        for segment, rows, first in zip(segments, chosen, offsets, strict=False):
            places = np.full(segment.size, -1, dtype=np.int64)
            places[rows] = first + np.arange(len(rows))
            parts.append((segment.lexical, places))

        def joined(column: str, dtype) -> np.ndarray:
            arrays = [getattr(s, column)[rows] for s, rows in zip(segments, chosen, strict=True)]
            return np.concatenate(arrays).astype(dtype) if arrays else np.zeros(0, dtype)

        table = cls(
            fingerprint, [s.ids[r] for s, rows in zip(segments, chosen, strict=True) for r in rows],
            joined("docs", object), joined("starts", np.int64), joined("ends", np.int64),
            joined("weights", np.float32),
            [s.texts[r] for s, rows in zip(segments, chosen, strict=True) for r in rows],
            SegmentedIndex(parts, int(offsets[-1])), segments=list(segments),
        )
        table.places = (np.repeat(np.arange(len(chosen)), [len(r) for r in chosen]),
                        np.concatenate(chosen) if chosen else np.zeros(0, np.int64))
        return table

    def best_sentences(self, vector: np.ndarray, rows: Sequence[int]) -> list[tuple[int, float]]:
        """(row, cosine similarity of its best sentence) for `rows` with sentence
        vectors, best first: one matrix product per segment over just their sentences."""
        rows = np.asarray(rows, dtype=np.int64)
        if not self.segments or not len(rows):
            return []
        owner, local = self.places[0][rows], self.places[1][rows]
        similarities, of_row = [], []
        for s in np.unique(owner):
            mine = owner == s
            segment = self.segments[int(s)]
            first = segment.first_sentence[local[mine]]
            counts = segment.first_sentence[local[mine] + 1] - first
            if not counts.sum():
                continue
            # every sentence row of those chunks: each first row, then the ones after it
            lead = np.repeat(first - (np.cumsum(counts) - counts), counts)
            index = lead + np.arange(int(counts.sum()))
            similarities.append(np.asarray(segment.vectors[index], dtype=np.float32)
                                @ vector.astype(np.float32))
            of_row.append(np.repeat(rows[mine], counts))
        if not similarities:
            return []
        similarity, owners = np.concatenate(similarities), np.concatenate(of_row)
        order = np.argsort(-similarity, kind="stable")
        _, first_seen = np.unique(owners[order], return_index=True)  # each row's best
        best = order[np.sort(first_seen)]
        return [(int(owners[i]), float(similarity[i])) for i in best]


MANIFEST = "segments.json"


def save_table(cache_dir: Path, table: ChunkTable) -> None:
    """The table's segments under `cache_dir/segments/` (each written once), the list of
    them in `cache_dir/segments.json`, anything else removed; a failure to write is
    ignored (the cache only saves start-up time)."""
    folder = cache_dir / "segments"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for segment in table.segments:
            if not (folder / segment.name).exists():
                segment.save(folder)
            if not isinstance(segment.vectors, np.memmap) and (folder / segment.name).exists():
                segment.vectors = vectors_in(folder / segment.name)  # the copy in memory goes
        names = [s.name for s in table.segments]
        partial = cache_dir / f".{MANIFEST}.{os.getpid()}"
        partial.write_text(json.dumps({"segments": names}), encoding="utf-8")
        partial.replace(cache_dir / MANIFEST)
        for stale in [*cache_dir.iterdir(), *folder.iterdir()]:
            if stale.name not in (*names, "segments", MANIFEST) and not stale.name.startswith("."):
                shutil.rmtree(stale, ignore_errors=True)
    except OSError:
        pass


def load_segments(cache_dir: Path) -> list[Segment]:
    """The segments the cache lists, or none if any of them is unreadable."""
    try:
        names = json.loads((cache_dir / MANIFEST).read_text(encoding="utf-8"))["segments"]
        return [Segment.load(cache_dir / "segments" / name) for name in names]
    except Exception:  # missing, unreadable or foreign: rebuilt from the store
        return []

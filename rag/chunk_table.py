"""The in-process view of a collection's live chunks: each document's entry (`DocInfo`),
every chunk in one fixed row order with the BM25 index over the same rows
(`ChunkTable`), and that table's on-disk cache keyed by the set of documents. It reads
and writes no Chroma records: rag/store.py decides which chunks are live and when the
table is stale."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.lexical import LexicalIndex
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
    lexical: LexicalIndex
    row_of: dict[str, int] = field(init=False)  # chunk id -> row
    infos: dict[str, DocInfo] = field(default_factory=dict)  # document name -> its entry

    def __post_init__(self) -> None:
        self.row_of = {chunk_id: row for row, chunk_id in enumerate(self.ids)}

    def chunk(self, row: int) -> Chunk:
        return Chunk(self.ids[row], str(self.docs[row]), int(self.starts[row]),
                     int(self.ends[row]), self.texts[row])

    @classmethod
    def from_rows(cls, fingerprint: str, rows: Sequence[tuple[str, dict, str]]) -> ChunkTable:
        """The table of (chunk id, chunk metadata, chunk text) rows, BM25 built over each
        chunk's context and text."""
        texts = [text for _, _, text in rows]
        indexed = [f"{m.get('context', '')} {text}" for _, m, text in rows]
        return cls(
            fingerprint, [i for i, _, _ in rows],
            np.array([m["doc"] for _, m, _ in rows], dtype=object),
            np.array([m["start"] for _, m, _ in rows], dtype=np.int64),
            np.array([m["end"] for _, m, _ in rows], dtype=np.int64),
            np.array([m.get("weight", 1.0) for _, m, _ in rows], dtype=np.float32),
            texts, LexicalIndex.build(indexed),
        )


def save_table(cache_dir: Path, table: ChunkTable) -> None:
    """The table under `cache_dir/<fingerprint>`, older tables removed; a failure to
    write is ignored (the cache only saves start-up time)."""
    # written aside, then renamed: a process killed mid-write leaves no half cache
    folder = cache_dir / table.fingerprint
    staging = cache_dir / f".{table.fingerprint}.{os.getpid()}.{threading.get_ident()}"
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
        for stale in cache_dir.iterdir():
            if stale.name != table.fingerprint:
                shutil.rmtree(stale, ignore_errors=True)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)


def load_table(cache_dir: Path, fingerprint: str) -> ChunkTable | None:
    """The cached table for `fingerprint`, or None if there is none readable."""
    folder = cache_dir / fingerprint
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

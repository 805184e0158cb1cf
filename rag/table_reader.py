"""Keeping a store's chunk table in step with its document entries, reading only what
changed: the segments it already holds (or the cache's, on start-up) are kept, the rows
of versions no entry vouches for any more are left out, and the document versions not yet
held are read from Chroma into one new segment (rag/segments.py) — except those this
process wrote itself, whose rows the store kept (`Store.written`). A table whose rows
disagree with the chunk counts the entries record is read again (another process
committed in between); a version held with the wrong number of rows is fetched anew. It
writes no Chroma records: rag/store.py writes, and calls `read_table` when its
generation moved.
"""

from __future__ import annotations

import ctypes
from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from typing import TYPE_CHECKING

from rag.chunk_table import ChunkTable, DocInfo, load_segments, save_table
from rag.segments import Key, Rows, Segment, compacted, decoded, live_masks

if TYPE_CHECKING:
    from rag.store import Store

DOCS_PER_READ = 50  # source texts per request: a source text can be megabytes
NAMES_PER_READ = 200  # documents named in one `$in` filter
WHOLE_READ_SHARE = 0.5  # reading more of the collection than this, read it all at once


def read_table(store: Store, known: ChunkTable | None) -> ChunkTable:
    """The table for the store's entries now, built from `known`'s segments."""
    table = known
    for _ in range(3):
        infos = store.list_documents()
        table = _table_for(store, table, infos)
        # the entries it was read against ride along (titles, page ranges)
        table.infos = {d.name: d for d in infos}
        if _counts(table) == Counter({d.name: d.chunks for d in infos}):
            if table is not known:
                save_table(store.cache_dir, table)
                return_freed_memory()
            return table
    return table  # used, but not cached: another process keeps writing


def _counts(table: ChunkTable) -> Counter:
    return Counter(table.docs.tolist())


def _table_for(store: Store, known: ChunkTable | None, infos: list[DocInfo]) -> ChunkTable:
    fingerprint = store.fingerprint_of(infos)
    if known is not None and known.fingerprint == fingerprint and _counts(known) == Counter(
            {d.name: d.chunks for d in infos}):
        return known
    segments = known.segments if known is not None else load_segments(store.cache_dir)
    live = {(d.name, d.content_hash) for d in infos}
    missing = _missing(segments, infos)
    if missing:
        written = store.written(missing)  # this process's own writes: not read back
        unread = missing - written.keys()
        fetched = _fetch(store, unread, whole=len(unread) > WHOLE_READ_SHARE * len(infos)
                         ) if unread else []
        segments = [*segments, Segment.of_parts([*written.values(), Rows.of(fetched)])]
    return ChunkTable.of_segments(fingerprint, compacted(segments, live), live)


def _missing(segments: Sequence[Segment], infos: list[DocInfo]) -> set[Key]:
    """The live versions the segments do not hold with the entry's number of chunks."""
    live = {(d.name, d.content_hash) for d in infos}
    held: Counter = Counter()
    for segment, mask in zip(segments, live_masks(segments, live), strict=True):
        held.update(zip(segment.docs[mask].tolist(), segment.hashes[mask].tolist(),
                        strict=True))
    return {(d.name, d.content_hash) for d in infos
            if held[(d.name, d.content_hash)] != d.chunks}


def _fetch(store: Store, versions: set[Key], whole: bool) -> list[tuple[str, dict, str]]:
    """(id, metadata, text) of the chunks of these document versions: every chunk read
    and filtered when they are much of the collection, else theirs only."""
    texts = _texts(store, versions, whole)
    if whole:
        records = store.records(store.chunks, ["metadatas"])
    else:
        names = sorted({name for name, _ in versions})
        records = (record for first in range(0, len(names), NAMES_PER_READ)
                   for record in store.records(store.chunks, ["metadatas"], where={
                       "doc": {"$in": names[first:first + NAMES_PER_READ]}}))
    return [(i, decoded(m), texts[key][m["start"]: m["end"]]) for i, m, _ in records
            if (key := (m["doc"], m["hash"])) in texts]


def _texts(store: Store, versions: set[Key], whole: bool) -> dict[Key, str]:
    """(name, hash) -> source text of those versions still stored."""
    from rag.store import _doc_id

    if whole:
        records = store.records(store.documents, ["metadatas", "documents"], DOCS_PER_READ)
    else:
        ids = sorted({_doc_id(name) for name, _ in versions})
        records = (r for first in range(0, len(ids), DOCS_PER_READ) for r in zip(
            *_got(store.documents.get(ids=ids[first:first + DOCS_PER_READ],
                                      include=["metadatas", "documents"])), strict=True))
    return {key: text for _, meta, text in records
            if (key := (meta["name"], meta["hash"])) in versions}


def _got(got: dict) -> tuple[list, list, list]:
    return got["ids"], got["metadatas"], got["documents"]


def return_freed_memory() -> None:
    """Hand the heap pages a bulk read freed back to the system. Building a segment, or
    scanning every record for leftovers, makes and drops many small objects (rows, base64
    vectors, BM25 tokens); glibc keeps their pages, so without this a process that has
    read a 100k-chunk table holds ~350 MB it no longer uses. Elsewhere than glibc it does
    nothing."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)

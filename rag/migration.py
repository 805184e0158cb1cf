"""Moving a store of the older layout forward: there, each sentence vector was a record
of its own in a `<name>-sentences` Chroma collection (ids: the chunk's id, a dash, the
sentence's position); now a chunk's sentence vectors are part of its record
(rag/segments.py). They are copied into their chunks' records and the old collection is
dropped, under the writer's lock. Sentences of chunks no longer stored are left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rag.segments import encode_vectors

if TYPE_CHECKING:
    from rag.store import Store


def migrate_sentences(store: Store) -> int:
    """Chunks given their sentence vectors from the old collection; 0 when there is none."""
    old_name = f"{store.name}-sentences"
    if old_name not in {getattr(c, "name", c) for c in store.client.list_collections()}:
        return 0
    old = store.client.get_collection(old_name, embedding_function=None)
    grouped: dict[str, list[tuple[int, np.ndarray]]] = {}  # chunk id -> (position, vector)
    offset = 0
    while (got := old.get(include=["embeddings"], limit=store.batch, offset=offset))["ids"]:
        for sentence_id, vector in zip(got["ids"], got["embeddings"], strict=True):
            chunk_id, _, position = sentence_id.rpartition("-")
            grouped.setdefault(chunk_id, []).append((int(position), np.asarray(vector)))
        offset += len(got["ids"])
    wanted = sorted(grouped)
    ids = [i for first in range(0, len(wanted), store.batch)
           for i in store.chunks.get(ids=wanted[first:first + store.batch], include=[])["ids"]]
    store.generations.mark_writing()
    for first in range(0, len(ids), store.batch):
        part = ids[first:first + store.batch]
        store.chunks.update(ids=part, metadatas=[
            encode_vectors(np.array([v for _, v in sorted(grouped[i], key=lambda p: p[0])]))
            for i in part])
    store.client.delete_collection(old_name)
    store.generations.bump()
    return len(ids)

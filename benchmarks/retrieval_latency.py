"""Retrieval latency and memory at 1k, 10k and 100k chunks: citechat's hybrid retrieval
(BM25 + chunk vectors + sentence vectors, fused) against a plain Chroma dense query on the
same collection, both timed including the query embedding (uncached, real model); and
hybrid retrieval without its second hop, which embeds and searches a second question
when the best chunk names things found in other documents, and how many of the questions
it is asked for.

The corpus is synthetic: chunks of ~400 characters (citechat's default chunk size) made
of three SQuAD 2.0 sentences drawn at random, 100 chunks (~40,000 characters) to a
document, one sentence vector per sentence as ingest makes them. The vectors are random
unit vectors, written through `rag.store.Store.put` into the store `Pipeline.build`
opens: embedding 100k chunks and 300k sentences would take hours on two cores, and
latency does not depend on what the vectors mean (random vectors are, if anything,
harder for HNSW than real ones). Then ADDED more documents are added one at a time, each
followed by the table update a query would wait for. Each size runs in its own process
(`python -m benchmarks.retrieval_latency SIZE QUERIES`) so its peak memory is its own;
and a fresh process opens the written store, as the app would, to measure what serving it
holds (`--open FOLDER`).
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import (
    interleaved,
    median,
    p50_p95_ms,
    peak_rss_mb,
    rss_mb,
    run_child,
    squad_data,
)
from rag.chunking import chunk_id
from rag.config import load_settings
from rag.documents import content_hash
from rag.embedding import OnnxEmbedder
from rag.pipeline import Pipeline
from rag.retrieval import Fusion, _lexical_ranking, hop_bridges, retrieve
from rag.sentences import sentence_spans
from rag.store import Store, Version
from rag.types import Chunk, Document

CHUNKS_PER_DOC = 100
SENTENCES_PER_CHUNK = 3
K, BUDGET = 5, 4000  # what Pipeline.ask asks for by default
ADDED = 10  # documents added one at a time once the store is filled
ONE_HOP = Fusion(second_hop=False)


class Uncached:
    """The real embedder with its query cache bypassed, so every query is embedded."""

    def __init__(self, inner: OnnxEmbedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id

    def embed(self, texts):
        return self.inner.embed(texts)

    def embed_query(self, text):
        return self.inner._embed_batch([text])[0]


def squad_text() -> tuple[list[str], list[str]]:
    """SQuAD's sentences (40-250 characters) and its questions."""
    contexts = [p["context"] for a in squad_data() for p in a["paragraphs"]]
    sentences = [c[s:e] for c in contexts for s, e in sentence_spans(c) if 40 <= e - s <= 250]
    questions = [q["question"] for a in squad_data() for p in a["paragraphs"] for q in p["qas"]]
    return sentences, questions


def unit_vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    vectors = rng.standard_normal((count, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def synthetic_document(name: str, chunks: int, sentences: list[str], pick: random.Random
                       ) -> tuple[Document, list[Chunk], list[tuple[str, Chunk]]]:
    """A document of `chunks` paragraphs, one chunk each, and each chunk's sentences;
    offsets exact, as chunking would produce them."""
    paragraphs = [[pick.choice(sentences) for _ in range(SENTENCES_PER_CHUNK)]
                  for _ in range(chunks)]
    text = "\n\n".join(" ".join(p) for p in paragraphs)
    doc = Document(name, text, content_hash(text))
    found, parts, offset = [], [], 0
    for paragraph in paragraphs:
        end = offset + len(" ".join(paragraph))
        chunk = Chunk(chunk_id(doc, offset, end), name, offset, end, text[offset:end])
        found.append(chunk)
        for i, sentence in enumerate(paragraph):  # ids as chunking.sentences_of makes them
            parts.append((chunk.id, Chunk(f"{chunk.id}-{i}", name,
                                          offset, offset + len(sentence), sentence)))
            offset += len(sentence) + 1
        offset = end + 2
    return doc, found, parts


def build(store: Store, size: int, sentences: list[str], seed: int = 1) -> float:
    """Fill the store with `size` synthetic chunks; returns seconds spent."""
    rng, pick = np.random.default_rng(seed), random.Random(seed)
    started = time.perf_counter()
    for first in range(0, size, CHUNKS_PER_DOC):
        doc, chunks, parts = synthetic_document(f"synthetic-{first // CHUNKS_PER_DOC:05d}.txt",
                                                min(CHUNKS_PER_DOC, size - first), sentences,
                                                pick)
        store.put([Version.of(doc, chunks, unit_vectors(rng, len(chunks)), [1.0] * len(chunks),
                              [""] * len(chunks), parts, unit_vectors(rng, len(parts)))])
    return time.perf_counter() - started


def stages(store: Store, embedder: Uncached, query: str) -> dict[str, float]:
    """Seconds spent in each step of a hybrid retrieval, timed one by one."""
    fusion, spent = Fusion(), {}

    def step(name, fn):
        started = time.perf_counter()
        value = fn()
        spent[name] = time.perf_counter() - started
        return value

    vector = step("embed query", lambda: embedder.embed_query(query))
    table = step("freshness check (table)", store.table)
    lexical = step("BM25", lambda: _lexical_ranking(table, table.lexical.scores(query),
                                                   fusion.candidates, None))
    dense = step("chunk vectors", lambda: store.dense_search(vector, fusion.sentence_pool))
    pool = [i for i, _ in dense] + [table.ids[row] for row in lexical]
    step("sentence vectors", lambda: store.sentence_search(vector, 3 * fusion.candidates,
                                                           among=pool))
    return spent


def added_documents(store: Store, sentences: list[str], count: int, first: int
                    ) -> dict[str, float]:
    """Seconds the table takes to take in one more document of CHUNKS_PER_DOC chunks
    (written by `Store.put` first, not timed), `count` times: in all, and in BM25
    indexing (the new segment's index and any merge of segments)."""
    import rag.segments

    indexing = []
    build = rag.segments.LexicalIndex.build

    def timed_build(texts):
        started = time.perf_counter()
        index = build(texts)
        indexing[-1] += time.perf_counter() - started
        return index

    rag.segments.LexicalIndex.build = timed_build  # type: ignore[method-assign]
    rng, pick, updates = np.random.default_rng(first), random.Random(first), []
    try:
        for n in range(count):
            doc, chunks, parts = synthetic_document(f"added-{first + n:05d}.txt",
                                                    CHUNKS_PER_DOC, sentences, pick)
            store.put([Version.of(doc, chunks, unit_vectors(rng, len(chunks)),
                                  [1.0] * len(chunks), [""] * len(chunks), parts,
                                  unit_vectors(rng, len(parts)))])
            indexing.append(0.0)
            started = time.perf_counter()
            store.table()
            updates.append(time.perf_counter() - started)
    finally:
        rag.segments.LexicalIndex.build = build  # type: ignore[method-assign]
    return {"n": count, "table_update_p50_s": round(median(updates), 3),
            "table_update_max_s": round(max(updates), 3),
            "lexical_p50_s": round(median(indexing), 3), "lexical_max_s": round(max(indexing), 3),
            "segments": len(store.table().segments)}


def folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def measure(size: int, queries: int) -> dict:
    sentences, questions = squad_text()
    asked = random.Random(2).sample(questions, queries)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pipeline = Pipeline.build(load_settings(data_dir=folder))  # the store as citechat opens it
        store, embedder = pipeline.store, Uncached(pipeline.embedder)
        store.table()  # as the app and `citechat serve` do on start, before any write
        insert_s = build(store, size, sentences)
        started = time.perf_counter()
        store.repair()  # what every ingest does first: a check, as the last write finished
        repair_check_s = time.perf_counter() - started
        started = time.perf_counter()
        store.repair(full=True)  # what the first ingest after an interrupted write does
        repair_s = time.perf_counter() - started
        for query in asked[:3]:  # Chroma alone, loaded and queried
            store.chunks.query(query_embeddings=[embedder.embed_query(query)], n_results=K)
        chroma_rss = rss_mb()
        started = time.perf_counter()
        store.table()
        bm25_s = time.perf_counter() - started
        for query in asked[:3]:  # warm: model, HNSW indexes and BM25 loaded
            retrieve(store, embedder, query, K, budget_chars=BUDGET)
        hybrid, one_hop, plain, steps = [], [], [], []
        asked_again = 0  # questions the second hop is asked for
        for n, query in enumerate(asked):
            calls = {
                "hybrid": lambda q=query: retrieve(store, embedder, q, K, budget_chars=BUDGET),
                "one_hop": lambda q=query: retrieve(store, embedder, q, K, budget_chars=BUDGET,
                                                    fusion=ONE_HOP),
                "plain": lambda q=query: store.chunks.query(
                    query_embeddings=[embedder.embed_query(q)], n_results=K),
            }
            if n % 2:  # alternate which goes first
                calls = dict(reversed(calls.items()))
            times = interleaved(calls, 1)
            hybrid += times["hybrid"]
            one_hop += times["one_hop"]
            plain += times["plain"]
            steps.append(stages(store, embedder, query))
            table = store.table()
            asked_again += bool(hop_bridges(table, query, table.lexical.scores(query)))
        counts = {"chunks": store.chunks.count(),
                  "sentences": sum(len(s.vectors) for s in store.table().segments),
                  "documents": len(store.list_documents())}
        added = added_documents(store, sentences, ADDED, size)
        result = {
            **counts, "insert_s": round(insert_s, 1),
            "bm25_build_s": round(bm25_s, 2), "repair_scan_s": round(repair_s, 2),
            "repair_check_s": round(repair_check_s, 3),
            "disk_mb": round(folder_mb(folder)),
            "hybrid": p50_p95_ms(hybrid), "plain_chroma": p50_p95_ms(plain),
            "ratio_p50": round(median(hybrid) / median(plain), 2),
            # the second hop (rag/multihop.py) embeds and searches a second question
            "one_hop": p50_p95_ms(one_hop),
            "one_hop_ratio_p50": round(median(one_hop) / median(plain), 2),
            "second_hop_asked": asked_again,
            "stages_p50_ms": {name: round(median([s[name] for s in steps]) * 1000, 2)
                              for name in steps[0]},
            "add_document": added,
        }
        result["rss_mb"] = {"chroma_loaded": round(chroma_rss), "after_queries": round(rss_mb()),
                            "peak": round(peak_rss_mb()),
                            # what an app opening this store holds, in a process of its own
                            "opened": run_child("benchmarks.retrieval_latency", "--open",
                                                str(folder))}
    return result


def opened(folder: Path) -> dict:
    """RSS of a process that opens the store, queries Chroma and reads its table (from
    the segment cache the writer left), as the app does on start."""
    pipeline = Pipeline.build(load_settings(data_dir=folder))
    pipeline.store.chunks.query(query_embeddings=[[0.0] * 383 + [1.0]], n_results=K)
    chroma = rss_mb()
    pipeline.store.table()
    return {"chroma_queried": round(chroma), "table_read": round(rss_mb()),
            "peak": round(peak_rss_mb())}


if __name__ == "__main__":
    if sys.argv[1] == "--open":
        print(json.dumps(opened(Path(sys.argv[2]))))
    else:
        print(json.dumps(measure(int(sys.argv[1]), int(sys.argv[2]))))

"""Ingest cost: a full ingest of a folder of files into an empty store, a re-ingest of the
unchanged folder, and a re-ingest after 1% of the files changed (rounded up to whole
files). Real text and real embeddings: one file per SQuAD 2.0 paragraph (173 of them,
~700 characters each; copies with a line appended when more files are asked for).

Beside the full ingest, taking turns with it: the ingest a LangChain user would write
(the RAG tutorial's: every file read, RecursiveCharacterTextSplitter(1000, 200), the same
embedder, one batched write into a persistent Chroma collection), and citechat's own full
ingest at BEFORE, the code whose 8.1 files/s the scaling goal doubles (a temporary
checkout, in a child process: benchmarks/ingest_once.py), each as a ratio of files per
second measured in the same turns.

Each figure is the median of several runs: full ingests into fresh stores, re-ingests
of the same store, each "changed" run editing different files. Times cover
`Pipeline.ingest` (reading, hashing, chunking, embedding, writing), not loading the model.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, checkout_at, median, run_json, squad_paragraphs
from rag.config import load_settings
from rag.embedding import Embedder, build_embedder
from rag.pipeline import Pipeline

REPEATS = 5
BEFORE = "a807b69"  # 2026-11-23: 8.1 files/s, the figure the scaling goal doubles


def write_corpus(folder: Path, files: int) -> list[Path]:
    paragraphs = squad_paragraphs()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(files):
        copy = i // len(paragraphs)
        path = folder / f"p{i:05d}.txt"
        path.write_text(paragraphs[i % len(paragraphs)] + (f"\n\n(copy {copy})" if copy else ""),
                        encoding="utf-8")
        paths.append(path)
    return paths


def timed_ingest(pipeline: Pipeline, folder: Path) -> tuple[float, dict[str, int]]:
    started = time.perf_counter()
    report = pipeline.ingest([folder])
    elapsed = time.perf_counter() - started
    return elapsed, {s: report.count(s) for s in ("added", "updated", "unchanged", "failed")
                     if report.count(s)}


def full_ingest(corpus: Path, data: Path, embedder: Embedder | None = None
                ) -> tuple[float, Pipeline, dict[str, int]]:
    pipeline = Pipeline.build(load_settings(data_dir=data), embedder=embedder)
    seconds, counts = timed_ingest(pipeline, corpus)
    return seconds, pipeline, counts


def tutorial_ingest(corpus: Path, data: Path, embedder: Embedder) -> tuple[float, int]:
    """The LangChain RAG tutorial's indexing into a persistent Chroma collection:
    (seconds, chunks written)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    started = time.perf_counter()
    client = chromadb.PersistentClient(path=str(data),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_or_create_collection("tutorial", embedding_function=None,
                                                 metadata={"hnsw:space": "cosine"})
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200,
                                              add_start_index=True)
    pieces = [(path.name, piece) for path in sorted(corpus.iterdir())
              for piece in splitter.create_documents([path.read_text(encoding="utf-8")])]
    vectors = embedder.embed([piece.page_content for _, piece in pieces])
    batch = client.get_max_batch_size()
    for first in range(0, len(pieces), batch):
        part = pieces[first:first + batch]
        collection.add(ids=[f"{name}-{piece.metadata['start_index']}" for name, piece in part],
                       embeddings=vectors[first:first + batch],
                       documents=[piece.page_content for _, piece in part],
                       metadatas=[{"source": name, "start_index": piece.metadata["start_index"]}
                                  for name, piece in part])
    return time.perf_counter() - started, len(pieces)


def ingest_at(tree: Path, env: dict[str, str], corpus: Path, data: Path) -> float:
    """Seconds of a full ingest by the citechat checked out in `tree`."""
    return run_json([sys.executable, str(ROOT / "benchmarks/ingest_once.py"), str(corpus),
                     str(data)], cwd=tree, env=env)["seconds"]


def run(quick: bool) -> dict:
    files = 40 if quick else 173
    changed = math.ceil(files / 100)
    with tempfile.TemporaryDirectory() as tmp, checkout_at(BEFORE) as (tree, env):
        folder = Path(tmp)
        paths = write_corpus(folder / "corpus", files)
        fulls, tutorials, befores = [], [], []
        embedder = build_embedder(load_settings(data_dir=folder))
        for n in range(REPEATS):  # taking turns, so that load on the machine hits all three
            seconds, pipeline, full = full_ingest(folder / "corpus", folder / f"data{n}",
                                                  embedder)
            fulls.append(seconds)
            tutorials.append(tutorial_ingest(folder / "corpus", folder / f"tutorial{n}",
                                             embedder))
            befores.append(ingest_at(tree, env, folder / "corpus", folder / f"before{n}"))
        again = [timed_ingest(pipeline, folder / "corpus") for _ in range(REPEATS)]
        partial = []
        for n in range(REPEATS):
            for path in paths[n * changed : (n + 1) * changed]:
                path.write_text(path.read_text(encoding="utf-8") + "\n\nAn added sentence.",
                                encoding="utf-8")
            partial.append(timed_ingest(pipeline, folder / "corpus"))
        chunks = sum(d.chunks for d in pipeline.documents())
    full_s, unchanged_s = median(fulls), median([s for s, _ in again])
    changed_s = median([s for s, _ in partial])
    tutorial_s = median([s for s, _ in tutorials])
    turns = [before / now for before, now in zip(befores, fulls, strict=True)]
    return {"files": files, "chunks": chunks, "repeats": REPEATS,
            "full_s": round(full_s, 2), "full": full,
            "files_per_s": round(files / full_s, 1),
            "tutorial": {"full_s": round(tutorial_s, 2), "chunks": tutorials[0][1],
                         "files_per_s": round(files / tutorial_s, 1),
                         "citechat_over_tutorial": round(full_s / tutorial_s, 2)},
            "before": {"commit": BEFORE, "full_s": round(median(befores), 2),
                       "files_per_s": round(files / median(befores), 1),
                       # each turn's ratio of times; the median of them
                       "speedup_per_turn": [round(r, 2) for r in turns],
                       "speedup": round(median(turns), 2)},
            "reingest_unchanged_s": round(unchanged_s, 3), "unchanged": again[0][1],
            "speedup_unchanged": round(full_s / unchanged_s, 1),
            "changed_files": changed, "reingest_changed_s": round(changed_s, 3),
            "changed": partial[0][1], "speedup_changed": round(full_s / changed_s, 1)}

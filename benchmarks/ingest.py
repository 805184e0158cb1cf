"""Ingest cost: a full ingest of a folder of files into an empty store, a re-ingest of the
unchanged folder, and a re-ingest after 1% of the files changed (rounded up to whole
files). Real text and real embeddings: one file per SQuAD 2.0 paragraph (173 of them,
~700 characters each; copies with a line appended when more files are asked for).

Each figure is the median of several runs: full ingests into fresh stores, re-ingests
of the same store, each "changed" run editing different files. Times cover
`Pipeline.ingest` (reading, hashing, chunking, embedding, writing), not loading the model.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

from benchmarks.common import median, squad_paragraphs
from rag.config import load_settings
from rag.pipeline import Pipeline

REPEATS = 5


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


def full_ingest(corpus: Path, data: Path) -> tuple[float, Pipeline, dict[str, int]]:
    pipeline = Pipeline.build(load_settings(data_dir=data))
    seconds, counts = timed_ingest(pipeline, corpus)
    return seconds, pipeline, counts


def run(quick: bool) -> dict:
    files = 40 if quick else 173
    changed = math.ceil(files / 100)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = write_corpus(folder / "corpus", files)
        fulls = []
        for n in range(REPEATS):
            seconds, pipeline, full = full_ingest(folder / "corpus", folder / f"data{n}")
            fulls.append(seconds)
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
    return {"files": files, "chunks": chunks, "repeats": REPEATS,
            "full_s": round(full_s, 2), "full": full,
            "reingest_unchanged_s": round(unchanged_s, 3), "unchanged": again[0][1],
            "speedup_unchanged": round(full_s / unchanged_s, 1),
            "changed_files": changed, "reingest_changed_s": round(changed_s, 3),
            "changed": partial[0][1], "speedup_changed": round(full_s / changed_s, 1)}

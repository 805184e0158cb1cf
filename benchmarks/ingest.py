"""Ingest cost: a full ingest of a corpus of files, a re-ingest of the unchanged corpus,
and a re-ingest after 1% of the files changed; and ingest time against corpus size.

The corpus is SQuAD 2.0's paragraphs, one file each (real text, real embeddings)."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import SHARED
from rag.config import load_settings
from rag.pipeline import Pipeline


def write_corpus(folder: Path, files: int) -> list[Path]:
    data = json.loads((SHARED / "bench/squad2-dev-5articles.json").read_text(encoding="utf-8"))
    paragraphs = [p["context"] for a in data["data"] for p in a["paragraphs"]]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(files):
        path = folder / f"p{i:04d}.txt"
        path.write_text(paragraphs[i % len(paragraphs)] + ("" if i < len(paragraphs)
                        else f"\n\n(copy {i // len(paragraphs)})"), encoding="utf-8")
        paths.append(path)
    return paths


def timed_ingest(pipeline: Pipeline, folder: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    report = pipeline.ingest([folder])
    elapsed = time.perf_counter() - started
    return elapsed, {s: report.count(s) for s in ("added", "updated", "unchanged", "failed")}


def run(quick: bool) -> dict:
    files = 40 if quick else 173
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = write_corpus(folder / "corpus", files)
        pipeline = Pipeline.build(load_settings(data_dir=folder / "data"))
        full_s, full = timed_ingest(pipeline, folder / "corpus")
        again = [timed_ingest(pipeline, folder / "corpus")[0] for _ in range(5)]
        changed = max(1, files // 100)
        for path in paths[:changed]:
            path.write_text(path.read_text(encoding="utf-8") + "\n\nAn added sentence.",
                            encoding="utf-8")
        partial_s, partial = timed_ingest(pipeline, folder / "corpus")
        chunks = sum(d.chunks for d in pipeline.documents())
    return {"files": files, "chunks": chunks, "full_s": round(full_s, 2), "full": full,
            "reingest_unchanged_s": round(float(np.median(again)), 3),
            "speedup_unchanged": round(full_s / float(np.median(again)), 1),
            "changed_files": changed, "reingest_changed_s": round(partial_s, 2),
            "changed": partial}


def scaling(quick: bool) -> list[dict]:
    """Full-ingest time at growing corpus sizes (files of one SQuAD paragraph each)."""
    sizes = (10, 20, 40) if quick else (20, 40, 80, 160, 320)
    points = []
    for files in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_corpus(folder / "corpus", files)
            pipeline = Pipeline.build(load_settings(data_dir=folder / "data"))
            seconds, _ = timed_ingest(pipeline, folder / "corpus")
            chunks = sum(d.chunks for d in pipeline.documents())
            shutil.rmtree(folder / "data", ignore_errors=True)
        points.append({"files": files, "chunks": chunks, "seconds": round(seconds, 2)})
    return points

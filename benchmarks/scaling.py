"""How cost grows with the corpus: full-ingest time at growing numbers of files (real text,
real embeddings, each size in its own process so its peak memory is its own) and the
time to re-ingest them unchanged (median of 3); and the slopes, fitted on log-log axes
(1 is linear, 0 flat), of those and of the retrieval latencies that
benchmarks/retrieval_latency.py measures.

`python -m benchmarks.scaling FILES` measures one ingest size and prints JSON.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import median, peak_rss_mb, run_child
from benchmarks.ingest import full_ingest, timed_ingest, write_corpus


def slope(xs: list[float], ys: list[float]) -> float | None:
    """The exponent b of y ∝ x^b, fitted by least squares on log-log axes."""
    if len(xs) < 2:
        return None
    fitted = np.polyfit([math.log(x) for x in xs], [math.log(y) for y in ys], 1)[0]
    return round(float(fitted), 2)


def measure(files: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_corpus(folder / "corpus", files)
        seconds, pipeline, _ = full_ingest(folder / "corpus", folder / "data")
        again = median([timed_ingest(pipeline, folder / "corpus")[0] for _ in range(3)])
        chunks = sum(d.chunks for d in pipeline.documents())
    return {"files": files, "chunks": chunks, "seconds": round(seconds, 2),
            "reingest_s": round(again, 3), "chunks_per_s": round(chunks / seconds, 1),
            "peak_rss_mb": round(peak_rss_mb())}


def run(quick: bool) -> dict:
    sizes = (10, 20, 40, 80) if quick else (25, 50, 100, 200, 400)
    ingest = [run_child("benchmarks.scaling", str(files)) for files in sizes]
    chunks = [p["chunks"] for p in ingest]
    return {"ingest": ingest, "ingest_slope": slope(chunks, [p["seconds"] for p in ingest]),
            "reingest_slope": slope(chunks, [p["reingest_s"] for p in ingest])}


def retrieval_slopes(sizes: list[dict]) -> dict:
    """Slopes of section 2's figures against the number of chunks."""
    chunks = [r["chunks"] for r in sizes]
    return {"hybrid": slope(chunks, [r["hybrid"]["p50_ms"] for r in sizes]),
            "plain_chroma": slope(chunks, [r["plain_chroma"]["p50_ms"] for r in sizes]),
            "insert": slope(chunks, [r["insert_s"] for r in sizes])}


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]))))

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


def extrapolated(xs: list[float], ys: list[float], at: float) -> float | None:
    """y at `at` on the line fitted on log-log axes (the scale plan's figures)."""
    if len(xs) < 2:
        return None
    b, a = np.polyfit([math.log(x) for x in xs], [math.log(y) for y in ys], 1)
    return float(math.exp(a + b * math.log(at)))


PLANNED = (1_000_000, 10_000_000)  # the sizes docs/scaling.md plans for


def _figures(sizes: list[dict]) -> dict[str, list[float]]:
    """Section 2's figures that the scale plan extrapolates, per size."""
    figures = {"hybrid_p50_ms": [r["hybrid"]["p50_ms"] for r in sizes],
               "plain_chroma_p50_ms": [r["plain_chroma"]["p50_ms"] for r in sizes],
               "insert_s": [r["insert_s"] for r in sizes],
               "peak_rss_mb": [r["rss_mb"]["peak"] for r in sizes],
               "disk_mb": [r["disk_mb"] for r in sizes]}
    if all("add_document" in r for r in sizes):
        figures["add_document_s"] = [r["add_document"]["table_update_p50_s"] for r in sizes]
        figures["add_document_bm25_s"] = [max(r["add_document"]["lexical_p50_s"], 1e-3)
                                          for r in sizes]
    return figures


def retrieval_slopes(sizes: list[dict]) -> dict:
    """Slopes of section 2's figures against the number of chunks, and those figures
    extrapolated to 1M and 10M chunks along the slope between the two largest sizes
    (at the smallest, fixed costs — the model, the libraries — hide the growth)."""
    chunks = [r["chunks"] for r in sizes]
    figures = _figures(sizes)
    last = slice(-2, None)
    return {"hybrid": slope(chunks, figures["hybrid_p50_ms"]),
            "plain_chroma": slope(chunks, figures["plain_chroma_p50_ms"]),
            "insert": slope(chunks, figures["insert_s"]),
            "slopes": {name: slope(chunks, ys) for name, ys in figures.items()},
            "slopes_largest": {name: slope(chunks[last], ys[last])
                               for name, ys in figures.items()},
            "extrapolated": {f"{at:,}": {name: _rounded(extrapolated(chunks[last], ys[last], at))
                                         for name, ys in figures.items()} for at in PLANNED}}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]))))

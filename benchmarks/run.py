"""`make bench`: run every benchmark and write docs/benchmarks.md, docs/benchmarks.json and
the plots beside them. `--quick` measures smaller sizes in a few minutes; `--only NAME`
runs one part and keeps the others' figures from the last run."""

from __future__ import annotations

import argparse
import json
import math
import platform
import time

import numpy as np

from benchmarks import answers, embedding, ingest, quality, report
from benchmarks.common import DOCS, run_child

PARTS = ("embedding", "retrieval", "ingest", "answers", "quality", "scaling", "claims")


def retrieval(quick: bool) -> list[dict]:
    sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
    return [run_child("benchmarks.retrieval_latency", str(size)) for size in sizes]


def scaling(quick: bool, latency: list[dict]) -> dict:
    points = ingest.scaling(quick)
    return {"ingest": points, "ingest_slope": slope([p["chunks"] for p in points],
                                                    [p["seconds"] for p in points]),
            "retrieval_slope": slope([r["chunks"] for r in latency],
                                     [r["hybrid"]["p50_ms"] for r in latency])}


def slope(xs: list[float], ys: list[float]) -> float:
    """The exponent b of y ∝ x^b, fitted on log-log axes."""
    return round(float(np.polyfit([math.log(x) for x in xs], [math.log(y) for y in ys], 1)[0]),
                 2)


def claims() -> dict:
    from benchmarks.claims import build, evaluate
    from rag.embedding import OnnxEmbedder

    return evaluate(build(), OnnxEmbedder())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, a few minutes")
    parser.add_argument("--only", choices=PARTS, action="append", help="run only these parts")
    args = parser.parse_args()
    stored = DOCS / "benchmarks.json"
    results = json.loads(stored.read_text()) if args.only and stored.exists() else {}
    wanted = args.only or PARTS
    started = time.perf_counter()
    steps = {"embedding": lambda: embedding.run(args.quick),
             "retrieval": lambda: retrieval(args.quick),
             "ingest": lambda: ingest.run(args.quick),
             "answers": lambda: answers.run(args.quick),
             "quality": lambda: quality.run(args.quick),
             "scaling": lambda: scaling(args.quick, results["retrieval"]),
             "claims": claims}
    for part in PARTS:
        if part in wanted:
            print(f"… {part}", flush=True)
            results[part] = steps[part]()
    results["meta"] = {"quick": args.quick, "seconds": round(time.perf_counter() - started),
                       "machine": f"{platform.machine()}, {platform.python_version()}, "
                                  f"{__import__('os').cpu_count()} cores",
                       "date": time.strftime("%Y-%m-%d")}
    stored.write_text(json.dumps(results, indent=1))
    report.write(results)
    print(f"wrote {DOCS / 'benchmarks.md'} in {results['meta']['seconds']} s")


if __name__ == "__main__":
    main()

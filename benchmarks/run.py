"""`make bench`: run every benchmark, then write docs/benchmarks.json (the figures) and
docs/benchmarks.md with its plots (benchmarks/report.py, from benchmarks/template.md).

    python -m benchmarks.run              # everything, full sizes (< 30 min on 2 cores)
    python -m benchmarks.run --quick      # smaller sizes and samples, a few minutes
    python -m benchmarks.run --only quality --only answers
                                          # these parts; the others' figures are kept
    python -m benchmarks.run --report     # rewrite the report from docs/benchmarks.json

A part that crashes is recorded as not measured and the others still run; the command
then exits with 1. Slow figures never fail it: benchmarks record, they don't assert.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback

from benchmarks import (
    answers,
    answers_quality,
    api,
    app_load,
    claims_eval,
    claims_guard,
    documents,
    embedding,
    ingest,
    quality,
    report,
    retrieval_context,
    scaling,
    summaries,
)
from benchmarks.common import DOCS, run_child

RESULTS = DOCS / "benchmarks.json"


def retrieval(quick: bool) -> list[dict]:
    """Each size in its own process, so each peak RSS is that size's own. A size that
    fails is left out (and said so); the smaller ones are kept."""
    sizes, queries = ((1_000, 10_000), 30) if quick else ((1_000, 10_000, 100_000), 100)
    found = []
    for size in sizes:
        try:
            found.append(run_child("benchmarks.retrieval_latency", str(size), str(queries),
                                   timeout=3600))
        except Exception as exc:  # a crash or a timeout: record it, keep what was measured
            print(f"    {size:,} chunks failed: {exc}", file=sys.stderr, flush=True)
            found.append({"chunks": size, "error": str(exc).strip().splitlines()[-1]})
            continue
        print(f"    {size:,} chunks: {json.dumps(found[-1])}", flush=True)
    return found


def _list(value) -> list | None:
    """The retrieval sizes measured, unless that part failed (a dict with its error)."""
    return [x for x in value if "error" not in x] if isinstance(value, list) else None


STEPS = {"embedding": embedding.run, "retrieval": retrieval, "ingest": ingest.run,
         "answers": answers.run, "quality": quality.run, "scaling": scaling.run,
         "claims": claims_eval.run, "claims_guard": claims_guard.run,
         "summaries": summaries.run, "api": api.run,
         "documents": documents.run,
         "retrieval_context": retrieval_context.run,
         "answers_quality": answers_quality.run,
         "app_load": app_load.run}  # part -> run(quick)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, a few minutes")
    parser.add_argument("--only", choices=list(STEPS), action="append", help="run only this part "
                        "(repeatable); the other parts' figures are kept from the last run")
    parser.add_argument("--report", action="store_true",
                        help="only rewrite docs/benchmarks.md from docs/benchmarks.json")
    args = parser.parse_args()
    keep = (args.only or args.report) and RESULTS.exists()
    results = json.loads(RESULTS.read_text()) if keep else {}
    runs = results.setdefault("runs", {})  # part -> how and when it was measured
    failed = []
    for part in [] if args.report else STEPS:
        if args.only and part not in args.only:
            continue
        print(f"… {part}", flush=True)
        started = time.perf_counter()
        try:
            results[part] = STEPS[part](args.quick)
        except Exception:  # one broken part must not lose the others' figures
            traceback.print_exc()
            failed.append(part)
            results[part] = {"error": traceback.format_exc(limit=1).strip().splitlines()[-1]}
        seconds = round(time.perf_counter() - started)
        runs[part] = {"quick": args.quick, "seconds": seconds, "date": time.strftime("%Y-%m-%d")}
        print(f"  {part}: {seconds} s", flush=True)
    sizes = _list(results.get("retrieval"))
    if sizes and isinstance(results.get("scaling"), dict) and "error" not in results["scaling"]:
        results["scaling"]["retrieval_slope"] = scaling.retrieval_slopes(sizes)
    results["machine"] = (f"{platform.machine()}, Python {platform.python_version()}, "
                          f"{os.cpu_count()} cores")
    RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n",
                       encoding="utf-8")
    report.write(results)
    total = sum(r["seconds"] for r in runs.values())
    print(f"wrote {RESULTS.relative_to(DOCS.parent)} and docs/benchmarks.md "
          f"(the figures on it took {total} s to measure)")
    if failed:
        print(f"not measured: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

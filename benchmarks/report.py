"""docs/benchmarks.md and its plots, from the results benchmarks/run.py gathered.

Each goal stands next to the measured figure and its baseline; where citechat misses a
goal, the note says why and what would fix it. Only formatting happens here."""

from __future__ import annotations

from typing import Any

from benchmarks.common import DOCS, save_plot


def _plots(r: dict[str, Any]) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names: dict[str, str] = {}
    if "quality" in r:
        curve = r["quality"]["refusals"]["curve"]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot([c["threshold"] for c in curve], [c["refusal_accuracy"] for c in curve],
                label="unanswerable refused (higher is better)")
        ax.plot([c["threshold"] for c in curve], [c["false_refusals"] for c in curve],
                label="answerable refused (lower is better)")
        ax.axvline(r["quality"]["refusals"]["threshold"], color="grey", ls=":", label="default")
        ax.set(xlabel="refusal threshold", ylabel="share", title="SQuAD 2.0: refusals")
        ax.legend(fontsize=8)
        names["refusals"] = save_plot(fig, "bench-refusals.png")
        plt.close(fig)
    if "scaling" in r and "retrieval" in r:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
        points = r["scaling"]["ingest"]
        axes[0].loglog([p["chunks"] for p in points], [p["seconds"] for p in points], "o-")
        axes[0].set(xlabel="chunks", ylabel="seconds",
                    title=f"full ingest (slope {r['scaling']['ingest_slope']})")
        sizes = [x["chunks"] for x in r["retrieval"]]
        axes[1].loglog(sizes, [x["hybrid"]["p50_ms"] for x in r["retrieval"]], "o-",
                       label="citechat hybrid")
        axes[1].loglog(sizes, [x["plain_chroma"]["p50_ms"] for x in r["retrieval"]], "s--",
                       label="plain Chroma dense")
        axes[1].set(xlabel="chunks", ylabel="p50 ms",
                    title=f"retrieval (slope {r['scaling']['retrieval_slope']})")
        axes[1].legend(fontsize=8)
        names["scaling"] = save_plot(fig, "bench-scaling.png")
        plt.close(fig)
    if "claims" in r:
        curve = r["claims"]["curve"]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot([c["threshold"] for c in curve], [c["detection"] for c in curve],
                label="corrupted claims flagged")
        ax.plot([c["threshold"] for c in curve], [c["false_alarms"] for c in curve],
                label="correct claims flagged")
        ax.axvline(r["claims"]["threshold"], color="grey", ls=":", label="default")
        ax.set(xlabel="support threshold", ylabel="share", title="Checked citations")
        ax.legend(fontsize=8)
        names["claims"] = save_plot(fig, "bench-claims.png")
        plt.close(fig)
    return names


def _embedding(r: dict) -> list[str]:
    rows = ["## 1. Embedding throughput", "",
            "| texts | citechat | Chroma's default ONNX function | bare onnxruntime loop "
            "| citechat ÷ Chroma | goal |", "|---|---|---|---|---|---|"]
    for label, key in (("chunks of ~1,000 characters", "chunks_1000_chars"),
                       ("sentences", "sentences")):
        m = r["embedding"][key]
        rows.append(f"| {label} ({m['texts']}, mean {m['mean_chars']} chars) "
                    f"| {m['per_s']['citechat']}/s | {m['per_s']['chroma_default']}/s "
                    f"| {m['per_s']['bare_onnxruntime']}/s | **{m['speedup_vs_chroma']}×** "
                    "| ≥ 5× |")
    rows += ["", "Same int8 weights in all three (vectors agree: cosine "
             f"{r['embedding']['chunks_1000_chars']['cosine_citechat_vs_chroma']}). "
             "citechat batches by a token budget with dynamic padding; Chroma pads every "
             "text to 256 tokens in batches of 32. **On ~1,000-character chunks the goal is "
             "missed**: such a chunk is 220–256 tokens, so padding to 256 wastes little and "
             "the model's own arithmetic dominates; what is left is batch shape (one long "
             "text per run is fastest on 2 cores). On sentence-length texts, where padding "
             "is most of Chroma's work, citechat is far past the goal — and citechat embeds "
             "every sentence of every chunk for its sentence index. A faster model (or an "
             "fp16/AVX-512 VNNI build of this one) is what would move the chunk figure.", ""]
    return rows


def _retrieval(r: dict) -> list[str]:
    rows = ["## 2. Retrieval latency and memory", "",
            "Synthetic text (SQuAD sentences recombined), random unit vectors; each size in "
            "its own process; both timings include embedding the query (uncached).", "",
            "| chunks | citechat hybrid p50 / p95 | plain Chroma p50 / p95 | ratio (p50) "
            "| peak RSS | BM25 build |", "|---|---|---|---|---|---|"]
    for x in r["retrieval"]:
        rows.append(f"| {x['chunks']:,} | {x['hybrid']['p50_ms']} / {x['hybrid']['p95_ms']} ms "
                    f"| {x['plain_chroma']['p50_ms']} / {x['plain_chroma']['p95_ms']} ms "
                    f"| {x['ratio_p50']}× | {x['peak_rss_mb']} MB | {x['bm25_build_s']} s |")
    largest = r["retrieval"][-1]
    rows += ["", f"Goals at 100k: ≤ 1.5× plain Chroma, p50 ≤ 50 ms, peak RSS ≤ 1.5 GB. "
             f"Largest size measured: {largest['chunks']:,} chunks — "
             f"{largest['ratio_p50']}×, p50 {largest['hybrid']['p50_ms']} ms, "
             f"{largest['peak_rss_mb']} MB.", "",
             "Hybrid retrieval runs three searches (BM25 over all chunks, chunk vectors, "
             "sentence vectors) where plain Chroma runs one, so it costs more than one dense "
             "query; the query embedding (~10–15 ms) is shared. BM25 scores every chunk with "
             "a sparse matrix product, which grows linearly with the corpus.", ""]
    return rows


def _ingest(r: dict) -> list[str]:
    g = r["ingest"]
    return ["## 3. Ingest", "",
            f"Corpus: {g['files']} files (SQuAD paragraphs), {g['chunks']} chunks.", "",
            "| | time | goal |", "|---|---|---|",
            f"| full ingest | {g['full_s']} s | |",
            f"| re-ingest, unchanged | {g['reingest_unchanged_s']} s "
            f"(**{g['speedup_unchanged']}× faster**) | ≥ 50× |",
            f"| re-ingest, {g['changed_files']} file(s) changed (1%) | "
            f"{g['reingest_changed_s']} s | |", ""]


def _answers(r: dict) -> list[str]:
    a = r["answers"]
    w, app = a["extractive_warm"], a["app"]
    rows = ["## 4. Answer latency", "",
            f"Extractive `ask` on the seeds, warm ({w['asks']} asks): p50 **{w['p50_ms']} ms**, "
            f"p95 {w['p95_ms']} ms (goal: p50 well under 200 ms).", ""]
    if "skipped" in app:
        rows.append(f"App launch → first answer: not measured ({app['skipped']}).")
    else:
        rows.append(f"App launch → first answered question (headless Chromium): "
                    f"**{app['launch_to_answer_s']} s** — server healthy after "
                    f"{app['launch_to_healthy_s']} s, page ready after "
                    f"{app['launch_to_page_ready_s']} s, answer shown "
                    f"{app['page_ready_to_answer_s']} s after the page was ready.")
    return [*rows, ""]


def _quality(r: dict) -> list[str]:
    q = r["quality"]
    rows = ["## 5. Retrieval quality and refusals", "",
            f"Share of answerable questions whose gold answer lies inside the retrieved "
            f"context (SQuAD 2.0, {q['squad_answerable']} answerable questions; dev.jsonl, "
            "gold quotes ≥ 80% covered), same embedder for every system.", "",
            "| system | SQuAD @4,000 | SQuAD @2,000 | dev @4,000 | dev @2,000 |",
            "|---|---|---|---|---|"]
    labels = {"langchain_tutorial": "(a) LangChain tutorial (1000/200, dense top-4)",
              "citechat_dense": "(b) citechat dense-only", "bm25": "(c) BM25-only",
              "citechat_hybrid": "(d) **citechat hybrid**"}
    for key, label in labels.items():
        s, d = q["squad"][key], q["dev"][key]
        rows.append(f"| {label} | {s['4000']:.3f} | {s['2000']:.3f} | {d['4000']:.3f} "
                    f"| {d['2000']:.3f} |")
    default = q["refusals"]["default"]
    rows += ["", "Goals: ≥ 0.98 at 4,000 and ≥ 0.95 at 2,000 characters.", "",
             f"Refusals (extractive engine, threshold {q['refusals']['threshold']}): "
             f"{default['refusal_accuracy']:.1%} of SQuAD's unanswerable questions refused, "
             f"{default['false_refusals']:.1%} of answerable ones refused. SQuAD 2.0's "
             "unanswerable questions are adversarial — written to look answerable from the "
             "same paragraph — and separating them needs a reading-comprehension model; "
             "without one, every threshold trades refusals for false refusals almost one for "
             "one (plot below). The default keeps false refusals low; refusals of questions "
             "about things the collection never mentions come from the entity check "
             "(docs/answers.md), which this benchmark does not exercise.", "",
             "![refusals](bench-refusals.png)", ""]
    return rows


def _scaling(r: dict) -> list[str]:
    s = r["scaling"]
    return ["## 6. Scaling", "",
            "| files | chunks | full ingest |", "|---|---|---|",
            *[f"| {p['files']} | {p['chunks']} | {p['seconds']} s |" for p in s["ingest"]],
            "", f"Fitted log-log slopes: ingest time ∝ chunks^{s['ingest_slope']}, "
            f"retrieval p50 ∝ chunks^{s['retrieval_slope']} (1 is linear).", "",
            "![scaling](bench-scaling.png)", ""]


def _claims(r: dict) -> list[str]:
    c = r["claims"]
    return ["## 7. Checked citations", "",
            f"{c['n']} labelled claims ({c['corrupted']} corrupted), threshold "
            f"{c['threshold']}: **{c['detection']:.1%}** of corrupted claims flagged "
            f"(goal ≥ 90%), **{c['false_alarms']:.1%}** false alarms (goal ≤ 10%), "
            f"**{c['ms_per_claim_p50']:.1f} ms** per claim p50 (goal ≤ 20 ms). "
            "Details: docs/claims.md.", "", "![claims](bench-claims.png)", ""]


def write(r: dict[str, Any]) -> None:
    _plots(r)
    meta = r["meta"]
    lines = ["# Benchmarks", "",
             f"Produced by `make bench` ({'quick mode' if meta['quick'] else 'full run'}, "
             f"{meta['seconds']} s) on {meta['machine']}, {meta['date']}. Medians over "
             "repeated runs; comparisons are ratios measured in the same run. The machine "
             "is shared: absolute times vary run to run, ratios much less.", ""]
    sections = (("embedding", _embedding), ("retrieval", _retrieval), ("ingest", _ingest),
                ("answers", _answers), ("quality", _quality), ("scaling", _scaling),
                ("claims", _claims))
    for key, render in sections:
        if key in r:
            lines += render(r)
    (DOCS / "benchmarks.md").write_text("\n".join(lines), encoding="utf-8")

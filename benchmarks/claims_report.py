"""Section 7 of docs/benchmarks.md (checked citations) and its plot, from the figures of
benchmarks/claims_eval.py. Formatting only: nothing is measured here."""

from __future__ import annotations

import os

DETECTION_GOAL, FALSE_ALARM_GOAL, MS_GOAL = 0.90, 0.05, 20.0
SOURCES = {"squad": "SQuAD 2.0 articles", "hotpotqa": "HotpotQA paragraphs",
           "bbc": "BBC articles"}


def _share(value: float, n: int) -> str:
    return f"{value:.1%} (of {n:,})"


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _sources_table(c: dict) -> list[str]:
    cv, shipped = c["cross_validated"], c["shipped"]
    rows = ["| source | documents | corrupted flagged, held out | false alarms, held out "
            "| shipped weights: flagged / false alarms | goal ≥ 90% at ≤ 5% |",
            "|---|---|---|---|---|---|"]
    for name, s in cv["sources"].items():
        ship = shipped["sources"][name]
        ok = s["detection"] >= DETECTION_GOAL and s["false_alarms"] <= FALSE_ALARM_GOAL
        rows.append(f"| {SOURCES.get(name, name)} | {s['documents']:,} "
                    f"| **{_share(s['detection'], s['corrupted'])}** "
                    f"| **{_share(s['false_alarms'], s['correct'])}** "
                    f"| {ship['detection']:.1%} / {ship['false_alarms']:.1%} | {_met(ok)} |")
    return rows


def _kinds_table(c: dict) -> list[str]:
    sources = c["cross_validated"]["sources"]
    kinds = sorted({k for s in sources.values() for k in s["by_kind"]},
                   key=lambda k: (k in _CORRECT_KINDS, k))
    rows = ["| kind | label | " + " | ".join(SOURCES.get(n, n) for n in sources) + " |",
            "|---|---|" + "---|" * len(sources)]
    for kind in kinds:
        cells = [f"{s['by_kind'][kind]['flagged']:.1%} (of {s['by_kind'][kind]['n']:,})"
                 if kind in s["by_kind"] else "—" for s in sources.values()]
        label = "correct" if kind in _CORRECT_KINDS else "corrupted"
        rows.append(f"| {kind} | {label} | " + " | ".join(cells) + " |")
    return rows


_CORRECT_KINDS = {"verbatim", "wider span", "clause", "reworded", "reworded, wider span"}


def _guard_table(guard: dict) -> list[str]:
    rows = ["| corpus | replies | their claims | weak or unsupported | summaries "
            "| their claims | weak or unsupported |", "|---|---|---|---|---|---|---|"]
    for name, parts in guard.items():
        reply, summary = parts.get("reply", {}), parts.get("summary", {})
        rows.append(f"| {name} | {reply.get('responses', 0):,} ({reply.get('refused', 0):,} "
                    f"refused) | {reply.get('claims', 0):,} "
                    f"| **{reply.get('weak_or_unsupported', 0)}** "
                    f"| {summary.get('responses', 0):,} | {summary.get('claims', 0):,} "
                    f"| **{summary.get('weak_or_unsupported', 0)}** |")
    flagged = [f for parts in guard.values() for p in parts.values() for f in p["flagged"]]
    rows += [""] + [f"- flagged: {f['verdict']} ({f['support']:.2f}) “{f['sentence']}”"
                    for f in flagged[:5]]
    return rows


def render(r: dict) -> str:
    c = r.get("claims")
    if not isinstance(c, dict) or "error" in c or "cross_validated" not in c:
        why = c["error"] if isinstance(c, dict) and "error" in c else "not run yet"
        return f"Not measured ({why})."
    cv, ship, timing = c["cross_validated"], c["shipped"], c["ms_per_claim"]
    chosen = ", ".join(f"{p['lexical_weight']}/{p['penalty']}/{p['threshold']}"
                       for p in cv["chosen"])
    ms = timing["all"]["p50_ms"]
    rows = [
        f"{cv['n']:,} labelled claims ({cv['corrupted']:,} corrupted) over "
        f"{sum(s['documents'] for s in cv['sources'].values()):,} public documents "
        "(benchmarks/claims.py builds them, benchmarks/claims_eval.py scores them; method "
        "in [claims.md](claims.md)). Held out: each document's claims are flagged with "
        f"weights and threshold tuned on the other {cv['folds'] - 1} folds of documents "
        f"(chosen per fold, lexical weight/penalty/threshold: {chosen}); shipped: "
        f"{ship['lexical_weight']}/{ship['penalty']}/{ship['threshold']}.", "",
        *_sources_table(c), "",
        f"All sources, held out: **{cv['detection']:.1%}** of {cv['corrupted']:,} corrupted "
        f"claims flagged, **{cv['false_alarms']:.1%}** of {cv['n'] - cv['corrupted']:,} "
        "correct ones.", "", "Flagged, by kind (held out):", "", *_kinds_table(c), "",
        f"Time per claim (`check` on one one-citation answer at a time), p50: "
        f"**{ms:.1f} ms** over {timing['all']['n']} claims"
        + (f", {timing['not verbatim']['p50_ms']:.1f} ms over the "
           f"{timing['not verbatim']['n']} not verbatim (embedded)"
           if "not verbatim" in timing else "")
        + (f"; CPU time p50 {timing['all']['cpu_p50_ms']:.1f} ms, load average "
           f"{timing['all']['load_average']} on {os.cpu_count()} cores"
           if "cpu_p50_ms" in timing["all"] else "")
        + f"; goal ≤ {MS_GOAL:.0f} ms: {_met(ms <= MS_GOAL)}."
        + (f" The cited sentences' vectors come from the store (embedded at ingest); "
           "embedding them again instead takes "
           f"{timing['all, embedding everything']['p50_ms']:.1f} ms p50 (CPU "
           f"{timing['all, embedding everything']['cpu_p50_ms']:.1f} ms) and changes "
           f"{timing['reuse']['verdicts_changed']} of "
           f"{timing['reuse']['n']} verdicts (support at most "
           f"{timing['reuse']['largest_support_change']:.3f} apart)."
           if "reuse" in timing else ""), "",
        "![claims](bench-claims.png)", ""]
    guard = r.get("claims_guard")
    if isinstance(guard, dict) and "error" not in guard:
        quick = r.get("runs", {}).get("claims_guard", {}).get("quick")
        rows += ["Regression guard (benchmarks/claims_guard.py"
                 + (", quick run: an even sample" if quick else ", every question and document")
                 + "): the extractive engine's replies and summaries quote their citations, "
                 "so none of their claims may be flagged.", "", *_guard_table(guard), ""]
    return "\n".join(rows)


def plot(fig, r: dict) -> None:
    curves = r["claims"].get("curve")
    if not isinstance(curves, dict):  # figures from before the per-source curves
        return
    axes = fig.subplots(1, len(curves), sharey=True, squeeze=False)[0]
    for ax, (name, points) in zip(axes, curves.items(), strict=True):
        ts = [p["threshold"] for p in points]
        ax.plot(ts, [p["detection"] for p in points], label="corrupted claims flagged")
        ax.plot(ts, [p["false_alarms"] for p in points], "--", label="correct claims flagged")
        ax.axvline(r["claims"]["shipped"]["threshold"], color="grey", ls=":", label="shipped")
        ax.set(xlabel="support threshold", title=SOURCES.get(name, name))
    axes[0].set_ylabel("share (shipped weights)")
    axes[0].legend(fontsize=7)

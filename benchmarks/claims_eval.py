"""How well the claim checker separates the labelled set's correct claims from corrupted ones.

Every item is read the way `rag.claims.check` reads a one-citation answer (`claim [1]`,
through `claim_sentences`), measured in one embedding batch, and flagged when any of its
claims scores below the support threshold. Reported per source and per kind:

- with the shipped weights and threshold (rag/claims.py), and the threshold curve;
- by document-level cross-validation: documents are split into five folds per source; for
  each fold the weights and threshold are tuned on the other four folds of every source
  (the most corrupted claims flagged, at most 3% false alarms on the worst source) and
  the flags counted on the held-out fold's documents only;
- the time `check` takes per claim, p50, on a sample of items, one call each.
Records figures; asserts nothing.
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from itertools import product
from pathlib import Path

import numpy as np

from benchmarks.claims import Item, Source
from rag import claims
from rag.types import Citation

FOLDS = 5
TUNING_FALSE_ALARMS = 0.03  # the budget while tuning, under the 5% goal
LEXICAL_WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)
PENALTIES = (0.25, 0.5, 0.75, 1.0)
THRESHOLDS = np.round(np.arange(0.40, 0.851, 0.01), 2)
CURVE = np.round(np.arange(0.30, 0.901, 0.025), 3)


@dataclass(frozen=True)
class Found:
    """The measures of every claim of every item, as arrays; `owner[j]` is claim j's item."""

    measured: claims.Measured
    owner: np.ndarray
    items: int


def measured(items: Sequence[Item], sources: dict[str, Source], embedder) -> Found:
    """The `Measured` of each claim `check` would see in each item's `claim [1]`."""
    pairs, owner = [], []
    for i, item in enumerate(items):
        span = sources[item.source].texts[item.doc][item.start:item.end]
        for line in claims.claim_sentences(f"{item.claim} [1]"):
            for sentence, _ in line:
                pairs.append((sentence, span))
                owner.append(i)
    found = claims.measure(pairs, embedder)
    arrays = claims.Measured(*(np.array([getattr(m, f.name) for m in found])
                               for f in fields(claims.Measured)))
    return Found(arrays, np.array(owner, dtype=int), len(items))


def scores(found: Found, lexical_weight: float, penalty: float) -> np.ndarray:
    """Per item, the lowest support among its claims (0 for an item with none)."""
    lowest = np.full(found.items, np.inf)
    np.minimum.at(lowest, found.owner, claims.support(found.measured, lexical_weight, penalty))
    return np.where(np.isinf(lowest), 0.0, lowest)


def _rates(score: np.ndarray, corrupted: np.ndarray, threshold: float) -> tuple[float, float]:
    flagged = score < threshold
    detection = float(flagged[corrupted].mean()) if corrupted.any() else 0.0
    false_alarms = float(flagged[~corrupted].mean()) if (~corrupted).any() else 0.0
    return detection, false_alarms


def tune(found: Found, items: Sequence[Item], mask: np.ndarray) -> dict:
    """The weights and threshold that flag the most corrupted claims among `mask`'s items
    (mean over sources) with at most TUNING_FALSE_ALARMS false alarms on every source."""
    corrupted = np.array([i.label == "corrupted" for i in items])
    source = np.array([i.source for i in items])
    names = sorted(set(source[mask]))
    best, best_key = None, None
    for weight, penalty in product(LEXICAL_WEIGHTS, PENALTIES):
        score = scores(found, weight, penalty)
        for threshold in THRESHOLDS:
            rates = [_rates(score[mask & (source == s)], corrupted[mask & (source == s)],
                            threshold) for s in names]
            worst_alarm = max(fa for _, fa in rates)
            key = (worst_alarm <= TUNING_FALSE_ALARMS, float(np.mean([d for d, _ in rates])),
                   -worst_alarm)
            if best_key is None or key > best_key:
                best_key = key
                best = {"lexical_weight": weight, "penalty": penalty,
                        "threshold": float(threshold)}
    return best


def fold_of(doc: str) -> int:
    return int(hashlib.sha256(doc.encode()).hexdigest(), 16) % FOLDS


def cross_validated(found: Found, items: Sequence[Item]) -> dict:
    """Held-out flags with weights tuned on the other folds; per source and kind."""
    folds = np.array([fold_of(f"{i.source}/{i.doc}") for i in items])
    flagged = np.zeros(len(items), dtype=bool)
    chosen = []
    for fold in range(FOLDS):
        params = tune(found, items, folds != fold)
        chosen.append(params)
        score = scores(found, params["lexical_weight"], params["penalty"])
        held = folds == fold
        flagged[held] = score[held] < params["threshold"]
    return {"folds": FOLDS, "chosen": chosen, **_breakdown(items, flagged)}


def _breakdown(items: Sequence[Item], flagged: np.ndarray) -> dict:
    corrupted = np.array([i.label == "corrupted" for i in items])
    source = np.array([i.source for i in items])
    kind = np.array([i.kind for i in items])
    per_source = {}
    for name in sorted(set(source)):
        here = source == name
        per_source[name] = {
            "documents": len({i.doc for i in items if i.source == name}),
            "corrupted": int((here & corrupted).sum()), "correct": int((here & ~corrupted).sum()),
            "detection": float(flagged[here & corrupted].mean()),
            "false_alarms": float(flagged[here & ~corrupted].mean()),
            "by_kind": {k: {"n": int((here & (kind == k)).sum()),
                            "flagged": float(flagged[here & (kind == k)].mean())}
                        for k in sorted(set(kind[here]))}}
    return {"n": len(items), "corrupted": int(corrupted.sum()),
            "detection": float(flagged[corrupted].mean()),
            "false_alarms": float(flagged[~corrupted].mean()), "sources": per_source}


def curve(found: Found, items: Sequence[Item]) -> dict[str, list[dict]]:
    """Per source, detection and false alarms at each threshold, shipped weights."""
    score = scores(found, claims.LEXICAL_WEIGHT, claims.MISSING_PENALTY)
    corrupted = np.array([i.label == "corrupted" for i in items])
    source = np.array([i.source for i in items])
    out = {}
    for name in sorted(set(source)):
        here = source == name
        out[name] = [dict(zip(("threshold", "detection", "false_alarms"),
                              (float(t), *_rates(score[here], corrupted[here], t)),
                              strict=True)) for t in CURVE]
    return out


def _ingested(items: Sequence[Item], sources: dict[str, Source]) -> dict:
    """Per source, a pipeline holding the documents of `items` as citechat ingests them
    (from .bench-cache when unchanged), so `check` finds the sentence vectors it stored."""
    from benchmarks.corpora import ingested

    pipelines = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in sorted({i.source for i in items}):
            files = Path(folder) / name
            files.mkdir()
            for doc in sorted({i.doc for i in items if i.source == name}):
                (files / doc).write_text(sources[name].texts[doc], encoding="utf-8")
            pipelines[name] = ingested(f"claims-timed-{name}", files)
    return pipelines


def _checked(item: Item, citation: Citation, embedder, stored) -> tuple[list, float, float]:
    """`check` on the item as a one-citation answer: its claims, and wall clock and CPU
    milliseconds per claim."""
    started, started_cpu = time.perf_counter(), time.process_time()
    found = claims.check(f"{item.claim} [1]", [citation], embedder, stored)
    count = max(len(found), 1)
    return (found, (time.perf_counter() - started) * 1000 / count,
            (time.process_time() - started_cpu) * 1000 / count)


def _p50(ms: dict[str, list[tuple[float, float]]]) -> dict:
    return {key: {"p50_ms": round(float(np.median([w for w, _ in found])), 2),
                  "cpu_p50_ms": round(float(np.median([c for _, c in found])), 2),
                  "n": len(found), "load_average": round(os.getloadavg()[0], 1)}
            for key, found in ms.items() if found}


def timed(items: Sequence[Item], sources: dict[str, Source], sample: int = 300,
          seed: int = 7) -> dict:
    """`check` on one item at a time, as the pipeline calls it on an answer with one
    citation into its store (the cited sentences' stored vectors reused): ms per claim,
    wall clock and CPU time of this process (which a machine shared with other work
    inflates far less). Beside it, item by item, `check` embedding everything (as it did
    before vectors were reused): its time, the verdicts that differ and the largest
    change of support."""
    picked = random.Random(seed).sample(list(items), min(sample, len(items)))
    pipelines = _ingested(picked, sources)
    ms: dict[str, list[tuple[float, float]]] = {"all": [], "not verbatim": [],
                                                "all, embedding everything": []}
    changed, largest = 0, 0.0
    for item in picked:
        pipeline = pipelines[item.source]
        span = sources[item.source].texts[item.doc][item.start:item.end]
        citation = Citation(1, item.doc, item.start, item.end, span)
        found, *spent = _checked(item, citation, pipeline.embedder, pipeline.stored)
        plain, *spent_plain = _checked(item, citation, pipeline.embedder, None)
        ms["all"].append(tuple(spent))
        ms["all, embedding everything"].append(tuple(spent_plain))
        if not claims.is_verbatim(item.claim, span):
            ms["not verbatim"].append(tuple(spent))
        changed += [c.verdict for c in found] != [c.verdict for c in plain]
        largest = max([largest] + [abs(a.support - b.support)
                                   for a, b in zip(found, plain, strict=False)])
    return {**_p50(ms), "reuse": {"verdicts_changed": changed, "n": len(picked),
                                  "largest_support_change": round(largest, 3)}}


def evaluate(items: Sequence[Item], sources: dict[str, Source], embedder) -> dict:
    found = measured(items, sources, embedder)
    score = scores(found, claims.LEXICAL_WEIGHT, claims.MISSING_PENALTY)
    shipped = _breakdown(items, score < claims.SUPPORTED)
    return {"shipped": {"lexical_weight": claims.LEXICAL_WEIGHT,
                        "penalty": claims.MISSING_PENALTY, "threshold": claims.SUPPORTED,
                        **shipped},
            "tuned_on_all": tune(found, items, np.ones(len(items), dtype=bool)),
            "cross_validated": cross_validated(found, items),
            "curve": curve(found, items), "ms_per_claim": timed(items, sources)}


def run(quick: bool) -> dict:
    """The labelled set built (and its public part written, on a full run) and scored."""
    from benchmarks.claims import build, write_public
    from rag.embedding import OnnxEmbedder

    embedder = OnnxEmbedder()
    items, sources = build(embedder.embed, quick)
    if not quick:
        write_public(items, sources)
    return evaluate(items, sources, embedder)

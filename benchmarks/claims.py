"""A labelled set of cited claims over the seeds, and how well rag.claims separates them.

Correct claims: prose sentences of the seeds citing their own span or the chunk around
them, cut to their main clause, or lightly reworded (synonyms, filler words dropped).
Corrupted claims: the citation swapped to another
sentence, a name or a number changed, a negation added, or a sentence of the other
article citing the closest sentence of this one. Writes docs/claims-labelled.jsonl and
returns detection / false-alarm figures and the threshold curve. Deterministic (seeded).
"""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

import numpy as np

from rag.chunking import chunk_document, is_furniture
from rag.claims import SUPPORTED, check
from rag.documents import parse
from rag.embedding import OnnxEmbedder
from rag.sentences import sentence_spans
from rag.types import Citation

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "docs" / "claims-labelled.jsonl"
_AUX = re.compile(r"\b(is|are|was|were|would|will|can|could|has|have|had|did|does|should|"
                  r"must|may|might)\b")
_NAME = re.compile(r"(?<!^)\b[A-Z][a-z]{2,}\b")


def _prose_sentences(text: str) -> list[tuple[int, int]]:
    spans = []
    for s, e in sentence_spans(text):
        line_start = text.rfind("\n", 0, s) + 1
        line_end = text.find("\n", e)
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        if len(text[s:e].split()) >= 8 and not is_furniture(line):
            spans.append((s, e))
    return spans


def _item(claim: str, doc: str, text: str, span: tuple[int, int], label: str, kind: str) -> dict:
    s, e = span
    return {"claim": claim, "doc": doc, "start": s, "end": e, "span": text[s:e],
            "label": label, "kind": kind}


# Light paraphrase without a language model: synonyms for common words, some words dropped.
_SYNONYMS = {"said": "stated", "suggested": "proposed", "wants": "would like", "also": "too",
             "however": "yet", "clear": "plain", "important": "significant", "talks": "talks",
             "because": "since", "seemed": "appeared", "make": "create", "cooperation":
             "collaboration", "new": "fresh", "need": "have", "likely": "probable"}
_DROPPABLE = {"very", "really", "indeed", "also", "just", "even", "however,", "therefore,",
              "clearly", "somewhat", "seemingly", "particularly", "often", "already"}


def _reword(sentence: str, rng: random.Random) -> str:
    words = []
    for word in sentence.split():
        bare = word.lower().strip(",.;:")
        if bare in _DROPPABLE and rng.random() < 0.8:
            continue
        if bare in _SYNONYMS and rng.random() < 0.8:
            word = word.lower().replace(bare, _SYNONYMS[bare])
        words.append(word)
    return " ".join(words)


def build(seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    docs = {p.name: parse(p.name, p.read_bytes()) for p in sorted((ROOT / "seeds").iterdir())}
    names = sorted({n for d in docs.values() for n in _NAME.findall(d.text)})
    items: list[dict] = []
    embedder = OnnxEmbedder()
    for name, doc in docs.items():
        text = doc.text
        spans = _prose_sentences(text)
        chunks = chunk_document(doc, 400)
        others = [(n, d) for n, d in docs.items() if n != name]
        for s, e in spans:
            sentence = text[s:e]
            items.append(_item(sentence, name, text, (s, e), "correct", "verbatim"))
            chunk = next(c for c in chunks if c.start <= s and e <= c.end) if any(
                c.start <= s and e <= c.end for c in chunks) else None
            if chunk:
                items.append(_item(sentence, name, text, (chunk.start, chunk.end), "correct",
                                   "wider span"))
            reworded = _reword(sentence, rng)
            if reworded != sentence:
                items.append(_item(reworded, name, text, (s, e), "correct", "reworded"))
            clause = re.split(r",\s", sentence)[0]
            if len(clause.split()) >= 6 and clause != sentence:
                items.append(_item(clause + ".", name, text, (s, e), "correct", "main clause"))
            far = [sp for sp in spans if abs(sp[0] - s) > 600]
            if far:
                items.append(_item(sentence, name, text, rng.choice(far), "corrupted", "swapped"))
            found = [n for n in _NAME.findall(sentence) if n in names]
            if found:
                old = rng.choice(found)
                new = rng.choice([n for n in names if n != old and n not in sentence])
                items.append(_item(sentence.replace(old, new, 1), name, text, (s, e),
                                   "corrupted", "name changed"))
            if re.search(r"\d", sentence):
                changed = re.sub(r"\d+", lambda m: str(int(m.group(0)) * 2 + 3), sentence, count=1)
                items.append(_item(changed, name, text, (s, e), "corrupted", "number changed"))
            if _AUX.search(sentence) and not re.search(r"\bnot\b", sentence):
                negated = _AUX.sub(lambda m: f"{m.group(0)} not", sentence, 1)
                items.append(_item(negated, name, text, (s, e), "corrupted", "negation added"))
        for _, other in others:
            other_spans = _prose_sentences(other.text)
            vectors = embedder.embed([text[s:e] for s, e in spans])
            for s, e in rng.sample(other_spans, min(15, len(other_spans))):
                claim = other.text[s:e]
                best = int(np.argmax(vectors @ embedder.embed_query(claim)))
                items.append(_item(claim, name, text, spans[best], "corrupted", "other article"))
    return items


def evaluate(items: list[dict], embedder) -> dict:
    supports, elapsed = [], []
    for item in items:
        citation = Citation(1, item["doc"], item["start"], item["end"], item["span"])
        started = time.perf_counter()
        claims = check(f"{item['claim']} [1]", [citation], embedder)
        elapsed.append(time.perf_counter() - started)
        supports.append(claims[0].support if claims else 0.0)
    supports_arr = np.array(supports)
    corrupted = np.array([i["label"] == "corrupted" for i in items])
    curve = [{"threshold": round(float(t), 3),
              "detection": float((supports_arr[corrupted] < t).mean()),
              "false_alarms": float((supports_arr[~corrupted] < t).mean())}
             for t in np.arange(0.3, 0.81, 0.025)]
    by_kind = {}
    for kind in sorted({i["kind"] for i in items}):
        mask = np.array([i["kind"] == kind for i in items])
        by_kind[kind] = {"n": int(mask.sum()),
                         "flagged": float((supports_arr[mask] < SUPPORTED).mean())}
    return {"n": len(items), "corrupted": int(corrupted.sum()),
            "detection": float((supports_arr[corrupted] < SUPPORTED).mean()),
            "false_alarms": float((supports_arr[~corrupted] < SUPPORTED).mean()),
            "ms_per_claim_p50": float(np.median(elapsed) * 1000),
            "threshold": SUPPORTED, "by_kind": by_kind, "curve": curve}


def main() -> dict:
    items = build()
    LABELLED.parent.mkdir(parents=True, exist_ok=True)
    LABELLED.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items),
                        encoding="utf-8")
    return evaluate(items, OnnxEmbedder())


if __name__ == "__main__":
    result = main()
    print(json.dumps({k: v for k, v in result.items() if k != "curve"}, indent=2))

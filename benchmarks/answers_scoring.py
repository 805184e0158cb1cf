"""Scores for benchmarks/answers_quality.py: replies (`{"id", "refused", "answer",
"cited", "best"}`) against each set's gold. Shares carry their sample size.

SQuAD: an answerable question counts when one gold answer lies inside the cited spans
of its article (across adjacent cited sentences); a refused one never counts. Refusal
thresholds are chosen by article-level cross-validation: for each of four folds of three
articles, the highest threshold whose false refusals on the other nine stay within
FALSE_REFUSAL_CAP, applied to the fold. HotpotQA: the gold answer, normalised (case,
punctuation, articles), inside the normalised reply; a citation is precise when it
overlaps a gold supporting sentence. natural-dev: an answer counts when every `must`
group has a phrase in it (rag/evaluation.py's rule). It measures, never asserts.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from benchmarks.squad import covered
from rag.citations import strip_markers

FALSE_REFUSAL_CAP = 0.08
THRESHOLDS = np.round(np.arange(0.0, 0.61, 0.025), 3)
FOLDS = 4


def share(hits: int, n: int) -> dict:
    return {"share": round(hits / n, 4) if n else None, "n": n}


def _chars(reply: dict) -> int:
    return len(strip_markers(reply["answer"]))


def _in_extract(question, reply: dict) -> bool:
    spans = [(s, e) for d, s, e in reply["cited"] if d == question.doc]
    return not reply["refused"] and any(covered(a, spans) for a in question.answers)


def squad(questions, replies: list[dict], refused=None) -> dict:
    """The SQuAD figures; `refused` overrides each reply's own refusal."""
    refused = [r["refused"] for r in replies] if refused is None else refused
    rows = list(zip(questions, replies, refused, strict=True))
    answerable = [(q, r, x) for q, r, x in rows if q.answerable]
    unanswerable = [x for q, r, x in rows if not q.answerable]
    answered = [r for q, r, x in rows if not x]
    return {
        "answer_in_extract": share(sum(not x and _in_extract(q, r) for q, r, x in answerable),
                                   len(answerable)),
        "unanswerable_refused": share(sum(unanswerable), len(unanswerable)),
        "false_refusals": share(sum(x for _, _, x in answerable), len(answerable)),
        "mean_answer_chars": round(float(np.mean([_chars(r) for r in answered])), 1)
        if answered else None,
    }


def _low(replies: list[dict], threshold: float) -> list[bool]:
    return [r["refused"] or (r["best"] is not None and r["best"] < threshold) for r in replies]


def _fold_threshold(questions, replies, cap: float = FALSE_REFUSAL_CAP) -> float:
    """The highest threshold keeping false refusals within `cap` on these questions."""
    answerable = [q.answerable for q in questions]
    best = 0.0
    for t in THRESHOLDS:
        refused = _low(replies, t)
        rate = np.mean([x for x, a in zip(refused, answerable, strict=True) if a])
        if rate <= cap:
            best = float(t)
    return best


def squad_cross_validated(questions, replies: list[dict], cap: float = FALSE_REFUSAL_CAP
                          ) -> dict:
    """citechat's SQuAD figures with each fold's threshold chosen on the other folds, the
    figures at the default threshold, and the refusal curve over all questions."""
    from rag.refusal import DEFAULT_THRESHOLD

    articles = sorted({q.article for q in questions})
    folds = [set(articles[i::FOLDS]) for i in range(FOLDS)]
    refused = [False] * len(questions)
    chosen = []
    for fold in folds:
        train = [i for i, q in enumerate(questions) if q.article not in fold]
        t = _fold_threshold([questions[i] for i in train], [replies[i] for i in train], cap)
        chosen.append(t)
        for i, q in enumerate(questions):
            if q.article in fold:
                refused[i] = _low([replies[i]], t)[0]
    curve = [{"threshold": float(t), **{k: v["share"] for k, v in
              squad(questions, replies, _low(replies, t)).items() if isinstance(v, dict)}}
             for t in THRESHOLDS]
    return {"cross_validated": squad(questions, replies, refused), "cap": cap,
            "fold_thresholds": chosen,
            "signals_only": squad(questions, replies),
            "default": {"threshold": DEFAULT_THRESHOLD,
                        **squad(questions, replies, _low(replies, DEFAULT_THRESHOLD))},
            "curve": curve}


def normalised(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"\b(a|an|the)\b", " ", re.sub(r"[^\w\s]", " ", text))
    return " ".join(text.split())


def hotpot(questions, replies: list[dict]) -> dict:
    found = precise = cited = 0
    for q, r in zip(questions, replies, strict=True):
        found += not r["refused"] and f" {normalised(q.answer)} " in f" {normalised(r['answer'])} "
        for d, s, e in r["cited"]:
            cited += 1
            precise += any(d == gd and s < ge and gs < e for gd, gs, ge in q.supporting)
    answered = [r for r in replies if not r["refused"]]
    return {"answer_in_reply": share(found, len(questions)),
            "citation_precision": share(precise, cited),
            "refused": share(len(replies) - len(answered), len(replies)),
            "mean_answer_chars": round(float(np.mean([_chars(r) for r in answered])), 1)
            if answered else None}


def natural(items: list[dict], replies: list[dict]) -> dict:
    answerable = [(i, r) for i, r in zip(items, replies, strict=True) if not i["unanswerable"]]
    unanswerable = [r for i, r in zip(items, replies, strict=True) if i["unanswerable"]]

    def must_ok(item, reply) -> bool:
        said = reply["answer"].casefold()
        return all(any(p.casefold() in said for p in group) for group in item["must"])

    return {"answered": share(sum(not r["refused"] and must_ok(i, r) for i, r in answerable),
                              len(answerable)),
            "refused": share(sum(r["refused"] for r in unanswerable), len(unanswerable)),
            "false_refusals": share(sum(r["refused"] for _, r in answerable), len(answerable))}

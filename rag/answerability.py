"""Whether the candidates answer the question at all: a small logistic model over the
refusal signals, trained on SQuAD 2.0's unanswerable questions.

`features` reads what a question and its candidates look like to the engine (the best
sentence's blended score and similarity, the margin to the runner-up, how much of the
question's terms and names the best sentence and its window hold, the signals of
rag/refusal.py, whether any strong candidate holds the kind of answer asked for);
`Answerability` turns them into the probability that the documents don't say, with
weights from rag/models/answerability.json (its model card: rag/models/answerability.md;
`make train` rebuilds it, benchmarks/train_answerability.py). It refuses beside the
fixed rule, never instead of it, and only standalone factual questions one document
answers (rag/selection.py `_model_judges`). Under leave-one-article-out cross-validation
on SQuAD it adds refusals at fewer false refusals than a higher score threshold, but
news questions score lower than SQuAD's, and it refuses some the fixed rule answers
(the seeds' "Who represented the United States…?"), so it is a setting
(`CITECHAT_REFUSAL_MODEL=true`), off by default (docs/answers.md).

Pure arithmetic over numbers; it does not choose the answer (rag/selection.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.lexical import fold, tokenize
from rag.questions import answer_type, holds_answer_type
from rag.refusal import Signals, entities, names_missing
from rag.scoring import Scores, term_overlaps

MODEL = Path(__file__).with_name("models") / "answerability.json"
STRONG_RATIO = 0.8  # candidates scoring this close to the best are "strong"

FEATURES = ("best", "top", "margin", "dense", "dense_max", "cov_best", "cov_window",
            "plain_cov", "miss_best", "miss_window", "n_names", "uncovered", "unknown",
            "negation", "numbers", "type_absent", "has_kind", "qlen", "n_strong")


def features(question: str, texts: Sequence[str], scores: Scores, dense: np.ndarray,
             first: int, window: str, signals: Signals) -> dict[str, float]:
    """The model's inputs for one question: `texts` the candidates, `dense` their cosine
    to the question, `first` the answering sentence, `window` it with its neighbours."""
    score = scores.score
    order = np.argsort(-score, kind="stable")
    top = float(score[order[0]])
    second = float(score[order[1]]) if len(order) > 1 else 0.0
    asked = set(scores.question_terms)
    bags = [set(t) for t in scores.terms]
    window_terms = set(tokenize([window])[0])
    names = entities(question)
    kind = answer_type(question)
    strong = [int(i) for i in order if score[i] >= STRONG_RATIO * top]
    return {
        "best": float(score[first]), "top": top, "margin": top - second,
        "dense": float(dense[first]), "dense_max": float(dense.max()),
        "cov_best": float(term_overlaps(asked, bags)[first]) if asked else 0.0,
        "cov_window": float(term_overlaps(asked, [*bags, window_terms])[-1]) if asked else 0.0,
        "plain_cov": len(asked & window_terms) / len(asked) if asked else 0.0,
        "miss_best": len(names_missing(names, bags[first], fold(texts[first]))),
        "miss_window": len(names_missing(names, window_terms, fold(window))),
        "n_names": len(names), "uncovered": len(signals.uncovered),
        "unknown": len(signals.unknown), "negation": float(signals.negation),
        "numbers": len(signals.numbers),
        "type_absent": float(bool(kind) and not any(
            holds_answer_type(question, texts[i], kind) for i in strong)),
        "has_kind": float(bool(kind)), "qlen": len(asked), "n_strong": len(strong),
    }


@dataclass(frozen=True)
class Answerability:
    """Standardised logistic regression: P(the documents don't say | features)."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float  # refuse above this probability (chosen by cross-validation)

    def unanswerable(self, found: dict[str, float]) -> float:
        x = (np.array([found[name] for name in FEATURES]) - self.mean) / self.scale
        return float(1 / (1 + np.exp(-(x @ np.array(self.coef) + self.intercept))))

    def to_json(self) -> str:
        return json.dumps({"features": list(FEATURES), "mean": self.mean, "scale": self.scale,
                           "coef": self.coef, "intercept": self.intercept,
                           "threshold": self.threshold}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Answerability:
        data = json.loads(text)
        if tuple(data["features"]) != FEATURES:
            raise ValueError("the answerability model was trained on other features")
        return cls(tuple(data["mean"]), tuple(data["scale"]), tuple(data["coef"]),
                   float(data["intercept"]), float(data["threshold"]))


def load(path: Path = MODEL) -> Answerability | None:
    """The committed model, or None where it is absent (the fixed rule alone then)."""
    return Answerability.from_json(path.read_text(encoding="utf-8")) if path.exists() else None

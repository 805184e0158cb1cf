"""The answerability model: the rule that reads it, training on a tiny fixture, and the
committed weights."""

from __future__ import annotations

import numpy as np
import pytest

from rag.answerability import FEATURES, MODEL, Answerability, load
from rag.refusal import Signals, refusal_reason

pytest.importorskip("sklearn")


@pytest.mark.parametrize(("signals", "expected"), [
    (Signals(0.6, doubt=0.2), None),
    (Signals(0.6, doubt=0.9), "unlikely"),
    (Signals(0.6, uncovered=("Macron",), doubt=0.9), "uncovered: Macron"),
    # the fixed rule refuses whatever the model says; the model only adds refusals
    (Signals(0.6, uncovered=("Macron",), doubt=0.1), "uncovered: Macron"),
    (Signals(0.6, unknown=("Macron",), uncovered=("Macron",), doubt=0.1), "unknown: Macron"),
    (Signals(0.1, doubt=0.1), "low evidence"),  # below the score floor whatever the model
    (Signals(0.6, negation=True), "negation"),  # no model: the fixed rule
    (Signals(0.6), None),
])
def test_the_refusal_rule_with_and_without_a_model(signals: Signals, expected) -> None:
    assert refusal_reason(signals, 0.25, 0.5 if signals.doubt is not None else None) == expected


def _fixture(n: int = 240, seed: int = 0) -> list[dict]:
    """Questions over four articles whose `best` and `miss_window` tell unanswerable apart."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        unanswerable = bool(i % 2)
        found = {name: float(rng.normal()) for name in FEATURES}
        found["best"] = float(rng.normal(0.3 if unanswerable else 0.6, 0.1))
        found["miss_window"] = float(rng.integers(0, 3) if unanswerable else 0)
        rows.append({"article": f"a{i // 2 % 4}", "answerable": not unanswerable,
                     "features": found})
    return rows


def test_training_on_a_fixture_gives_a_model_that_scores_like_scikit_learn() -> None:
    from benchmarks.train_answerability import _arrays, cross_validated, fit, train

    rows = _fixture()
    model = train(rows, cap=0.1)
    X, y, _ = _arrays(rows)
    expected = fit(X, y).predict_proba(X)[:, 1]
    ours = np.array([model.unanswerable(r["features"]) for r in rows])
    assert np.allclose(ours, expected, atol=1e-9)
    again = Answerability.from_json(model.to_json())
    assert again == model
    assert 0 < model.threshold < 1
    figures = cross_validated(rows, cap=0.1)
    assert figures["unanswerable_refused"] > 0.5 and figures["false_refusals"] <= 0.2


def test_the_committed_model_loads_and_tells_a_likely_answer_from_a_doubtful_one() -> None:
    model = load(MODEL)
    assert model is not None and 0 < model.threshold < 1
    answered = dict.fromkeys(FEATURES, 0.0) | {
        "best": 0.7, "top": 0.7, "margin": 0.2, "dense": 0.7, "dense_max": 0.7,
        "cov_best": 0.9, "cov_window": 0.9, "plain_cov": 0.9, "n_names": 1, "qlen": 6,
        "n_strong": 1}
    doubtful = answered | {"best": 0.3, "top": 0.3, "margin": 0.0, "dense": 0.3,
                           "dense_max": 0.3, "cov_best": 0.3, "cov_window": 0.3,
                           "plain_cov": 0.3, "miss_window": 1, "miss_best": 1,
                           "uncovered": 1, "n_strong": 5}
    assert model.unanswerable(answered) < model.threshold < model.unanswerable(doubtful)


def test_a_model_trained_on_other_features_is_refused() -> None:
    text = load(MODEL).to_json().replace('"best"', '"something_else"')
    with pytest.raises(ValueError, match="other features"):
        Answerability.from_json(text)


def test_a_selector_reads_the_model_only_when_given_one(embedder) -> None:
    from rag.selection import Selector
    from rag.types import Passage

    text = "Wendy Sherman led the U.S. delegation. The talks were held in Geneva in January."
    passages = [Passage("a.txt", 0, len(text), 1.0, text)]
    plain = Selector(embedder).select("Who led the U.S. delegation?", passages)
    assert plain.signals.doubt is None and plain.features["n_names"] == 1
    modelled = Selector(embedder, answerability=load(MODEL)).select(
        "Who led the U.S. delegation?", passages)
    assert 0 < modelled.signals.doubt < 1
    follow_up = Selector(embedder, answerability=load(MODEL)).select(
        "Where were they held?", passages, context="Who led the U.S. delegation?")
    assert follow_up.signals.doubt is None  # follow-ups keep the fixed rule


def test_the_threshold_counts_what_the_fixed_rule_refuses_and_skips_what_it_alone_judges(
        ) -> None:
    from benchmarks.train_answerability import threshold_for

    doubt = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    answerable = np.ones(10, bool)
    assert threshold_for(doubt, answerable, 0.2) == 0.7  # refuses 0.9 and 0.8
    ruled = np.zeros(10, bool)
    ruled[9] = True  # the rule already refuses one: the model may refuse one more
    assert threshold_for(doubt, answerable, 0.2, ruled) == 0.8
    judged = np.ones(10, bool)
    judged[0] = False  # the model never reads the most doubtful one
    assert threshold_for(doubt, answerable, 0.2, ruled, judged) == 0.7
    assert threshold_for(doubt, answerable, 0.0, ruled) == 1.0  # the rule spent the cap


def test_the_setting_gives_the_engine_the_model(embedder) -> None:
    from rag.config import Settings
    from rag.engines import build_engine

    assert build_engine(Settings(), embedder).selector.answerability is None
    engine = build_engine(Settings(refusal_model=True), embedder)
    assert engine.selector.answerability == load(MODEL)

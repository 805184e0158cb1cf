"""Answer selection and refusal on the cached research set (benchmarks/answers_research.py),
under article-level cross-validation.

Every SQuAD question's retrieved passages and vectors are cached, so the engine's own
`Selector` runs over all 4,031 questions in minutes. This reports, for the engine as it
is: the gold answer inside the retrieved context, inside the cited extract (counting a
refusal as a miss), unanswerable refused and false refusals with the low-evidence
threshold chosen per fold of three articles on the other nine, the mean reply length,
and the refusal curve; `--compare` also reads each extract policy of `POLICIES` the same
way (each fold's policy chosen on the other nine folds' articles, among those whose mean
reply stays within MAX_MEAN_CHARS there).

    python -m benchmarks.answers_study [--compare] [--refusal] [--hotpot] [--cache PATH]

It records figures and asserts nothing; benchmarks/answers_quality.py runs the end-to-end
comparison with the other systems.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks import answers_scoring as score
from benchmarks.answers_research import build, load, selector_over
from benchmarks.squad import answer_covered
from rag.engines.extractive import draft_from
from rag.ranked import Growth

MAX_MEAN_CHARS = 380  # a policy must keep replies this short (the goal is ≤ 400)


def reply(case, selection) -> dict:
    """The reply the extractive engine would give, in benchmarks/ask_all.py's shape."""
    draft = draft_from(selection)
    return {"id": case.question.id, "refused": draft.refused, "answer": draft.text,
            "cited": [[p.doc, p.start, p.end] for p in draft.sources],
            "best": selection.signals.best if selection.signals else None}


def replies(cases, selector) -> list[dict]:
    """Each case's reply with low evidence never refusing (the folds choose it)."""
    return [reply(c, selector.select(c.question.text, c.passages)) for c in cases]


def in_context(cases) -> dict:
    answerable = [c for c in cases if c.question.answerable]
    hits = sum(answer_covered(c.question, [(p.doc, p.start, p.end) for p in c.passages])
               for c in answerable)
    return score.share(hits, len(answerable))


def engine_figures(cases, selector, caps=(0.08, 0.09, 0.10)) -> dict:
    """The engine's figures with the low-evidence threshold chosen per fold for each cap
    on false refusals; the curve once."""
    questions = [c.question for c in cases]
    found = replies(cases, selector)
    by_cap = {cap: score.squad_cross_validated(questions, found, cap) for cap in caps}
    first = by_cap[caps[0]]
    return {"answer_in_context": in_context(cases), "signals_only": first["signals_only"],
            "default": first["default"], "curve": first["curve"],
            "cross_validated": {str(cap): {"fold_thresholds": f["fold_thresholds"],
                                           **f["cross_validated"]}
                                for cap, f in by_cap.items()}}


def cross_validated_policy(questions, by_policy: dict[str, list[dict]]) -> dict:
    """Each fold answered by the policy that holds the answer most often on the other
    folds while its mean reply stays within MAX_MEAN_CHARS there."""
    articles = sorted({q.article for q in questions})
    folds = [set(articles[i::score.FOLDS]) for i in range(score.FOLDS)]
    chosen, merged = [], [None] * len(questions)
    for fold in folds:
        train = [i for i, q in enumerate(questions) if q.article not in fold]

        def merit(name: str, train=train) -> float:
            found = score.squad([questions[i] for i in train],
                                [by_policy[name][i] for i in train])
            if (found["mean_answer_chars"] or 0) > MAX_MEAN_CHARS:
                return -1.0
            return found["answer_in_extract"]["share"]

        name = max(by_policy, key=merit)
        chosen.append(name)
        for i, q in enumerate(questions):
            if q.article in fold:
                merged[i] = by_policy[name][i]
    return {"chosen": chosen, **score.squad(questions, merged)}


def policies() -> dict[str, Growth]:
    """The extract policies compared: the shipped one and a grid around it."""
    found = {"shipped": Growth()}
    for neighbour in (0.7, 0.6, 0.5):
        for runner_up in (None, 0.9, 0.85, 0.8, 0.75, 0.7):
            for runner_ups in (1, 2):
                found[f"n{neighbour} r{runner_up}x{runner_ups}"] = Growth(
                    neighbour, runner_up, runner_ups)
    return found


def compare(cases, vectors) -> dict:
    """Every policy's figures before refusal (same candidates and scores), and the
    cross-validated choice among them."""
    from rag.extracts import candidate_sentences
    from rag.ranked import Ranked
    from rag.selection import Selection, _answering, _by_kind

    questions = [c.question for c in cases]
    scorer = selector_over(vectors).scorer
    scored = [(c, s, scorer.score(c.question.text, s))
              for c in cases for s in [candidate_sentences(c.passages)]]
    by_policy = {}
    for name, growth in policies().items():
        found = []
        for case, sentences, scores in scored:
            ranked = Ranked(sentences, scores, growth)
            q = case.question.text
            extracts = _by_kind(q, q, ranked, ranked.extract(_answering(q, ranked)))
            found.append(reply(case, Selection(tuple(extracts), None)))
        by_policy[name] = found
    figures = {name: score.squad(questions, r) for name, r in by_policy.items()}
    return {"policies": figures, "cross_validated": cross_validated_policy(questions, by_policy)}


def refusal_compare(cases, vectors) -> dict:
    """The answerability model under leave-one-article-out at several caps on false
    refusals, beside the fixed rule (engine_figures), on the same features."""
    from benchmarks import train_answerability as train

    rows = train.feature_rows(cases, vectors)
    out = {}
    for cap in (0.07, 0.08, 0.09, 0.10):
        figures = train.cross_validated(rows, cap)
        figures.pop("refused")
        out[f"model cap {cap}"] = figures
    out["curve"] = train.curve(rows)
    return out


def hotpot_figures(cases, vectors, growth: Growth | None = None) -> dict:
    """HotpotQA: every supporting sentence in the context, the gold answer in the reply,
    citation precision (the engine's default refusal rule)."""
    from benchmarks.retrieval_context import all_supporting

    selector = selector_over(vectors, "hotpot", **({"growth": growth} if growth else {}))
    found = [reply(c, selector.select(c.question.text, c.passages)) for c in cases]
    hits = sum(all_supporting(c.question.supporting, list(c.passages)) for c in cases)
    return {"all_supporting_in_context": score.share(hits, len(cases)),
            **score.hotpot([c.question for c in cases], found)}


def main() -> int:
    args = sys.argv[1:]
    if "--cache" in args:
        cases, vectors = load(Path(args[args.index("--cache") + 1]))
    else:
        cases, vectors = build()
    found = {"n": len(cases), "engine": engine_figures(cases, selector_over(vectors,
                                                                           threshold=0.0))}
    if "--hotpot" in args:
        from benchmarks.answers_research import build_hotpot

        hotpot = build_hotpot()
        found["hotpot"] = {name: hotpot_figures(*hotpot, growth) for name, growth in (
            ("shipped", Growth()), ("one runner-up >= 0.8", Growth(runner_ups=1)),
            ("one runner-up >= 0.9", Growth(runner_up=0.9, runner_ups=1)),
            ("no runner-up", Growth(runner_up=None)))}
    if "--compare" in args:
        found["compare"] = compare(cases, vectors)
    if "--refusal" in args:
        found["refusal"] = refusal_compare(cases, vectors)
    print(json.dumps(found, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

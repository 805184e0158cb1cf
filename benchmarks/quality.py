"""Retrieval quality and refusals, every system in one run with the same embedder.

On SQuAD 2.0 (5 dev articles, one file per article) and on eval/dev.jsonl (the
two seed documents): the share of answerable questions whose gold answer span lies
inside the retrieved context (every character of it, across adjacent passages if need
be) at budgets of 4,000 and 2,000 characters, for
  (a) the LangChain tutorial pipeline: RecursiveCharacterTextSplitter(1000, 200) chunks in
      Chroma, dense top-4 (in rank order while they fit the budget),
  (b) citechat dense-only (chunk and sentence vectors), (c) BM25-only — (b) and (c) over
      citechat's chunks, filling the budget in rank order — (d) citechat hybrid as it
      ships (`rag.retrieval.retrieve` with no limit on passages: the fused ranking
      filling the budget, each document in turn for a question about several),
  (e) citechat hybrid as `Pipeline.ask` calls it: at most k=5 passages within the budget.
Then the extractive engine's refusals against its threshold: the share of unanswerable
questions refused (refusal accuracy) and of answerable ones refused (false refusals), on
SQuAD 2.0 and on dev.jsonl's single-turn questions. Follow-up questions are left out.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from benchmarks.common import ROOT, SQUAD, dev_items
from benchmarks.squad import Question, answer_covered, covered, write_articles
from rag.config import load_settings
from rag.engines.extractive import DEFAULT_THRESHOLD
from rag.evaluation import locate
from rag.pipeline import Pipeline
from rag.retrieval import Fusion, fused_rows

BUDGETS = (4000, 2000)
THRESHOLDS = np.round(np.arange(0.0, 1.001, 0.02), 3)
Span = tuple[str, int, int]
Ranker = Callable[[str], list[Span]]  # question -> spans in rank order
System = Callable[[str, int], list[Span]]  # (question, budget) -> the context's spans
Case = tuple[str, str, Callable[[list[Span]], bool]]  # id, question, is it answered by spans


def within_budget(spans: list[Span], budget: int) -> list[Span]:
    """Spans taken in rank order, skipping any that would overflow the budget (as
    rag.retrieval.retrieve does)."""
    chosen, used = [], 0
    for doc, start, end in spans:
        if used + end - start <= budget:
            chosen.append((doc, start, end))
            used += end - start
    return chosen


def filling(rank: Ranker) -> System:
    """A system that fills the budget from a ranking (ranked once for both budgets)."""
    ranked = lru_cache(maxsize=4)(rank)
    return lambda question, budget: within_budget(ranked(question), budget)


def citechat_ranker(pipeline: Pipeline, fusion: Fusion) -> Ranker:
    def rank(question: str) -> list[Span]:
        table = pipeline.store.table()
        return [(str(table.docs[r]), int(table.starts[r]), int(table.ends[r]))
                for r, _ in fused_rows(pipeline.store, pipeline.embedder, question, None, fusion,
                                      table)]
    return rank


def as_ask(pipeline: Pipeline, k: int | None = None) -> System:
    """The passages `Pipeline.ask` answers from: k of them (the settings' k unless given)
    within the budget, spread over every document for a question about several."""
    return lambda question, budget: [(p.doc, p.start, p.end) for p in
                                     pipeline.retrieve(question, k=k, budget_chars=budget)]


def langchain_tutorial_ranker(folder: Path, embedder, name: str) -> Ranker:
    """The tutorial's pipeline: 1000/200 character splits, dense top-4, in Chroma."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200,
                                              add_start_index=True)
    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_or_create_collection(name, embedding_function=None,
                                                 metadata={"hnsw:space": "cosine"})
    for path in sorted(folder.iterdir()):
        pieces = splitter.create_documents([path.read_text(encoding="utf-8")])
        collection.add(
            ids=[f"{path.name}-{i}" for i in range(len(pieces))],
            embeddings=embedder.embed([p.page_content for p in pieces]),
            metadatas=[{"doc": path.name, "start": p.metadata["start_index"],
                        "end": p.metadata["start_index"] + len(p.page_content)} for p in pieces])

    def rank(question: str) -> list[Span]:
        found = collection.query(query_embeddings=[embedder.embed_query(question)], n_results=4)
        return [(m["doc"], m["start"], m["end"]) for m in found["metadatas"][0]]
    return rank


def systems_for(pipeline: Pipeline, folder: Path, name: str) -> dict[str, System]:
    return {
        "langchain_tutorial": filling(
            langchain_tutorial_ranker(folder, pipeline.embedder, name)),
        "citechat_dense": filling(citechat_ranker(pipeline, Fusion(lexical=0.0))),
        "bm25": filling(citechat_ranker(pipeline, Fusion(sentence=0.0, chunk=0.0))),
        "citechat_hybrid": as_ask(pipeline, k=10_000),
        "citechat_hybrid_k5": as_ask(pipeline),
    }


def hit_rates(systems: dict[str, System], cases: list[Case], pipeline: Pipeline) -> dict:
    """Per system and budget, the share of cases answered; and for the hybrid system's
    misses, where the answer ranks among all fused candidates (None: not among them)."""
    scores: dict = {}
    missed: dict[str, list] = {str(b): [] for b in BUDGETS}
    for name, system in systems.items():
        hits = {budget: 0 for budget in BUDGETS}
        for case_id, question, answered in cases:
            for budget in BUDGETS:
                hit = answered(system(question, budget))
                hits[budget] += hit
                if name == "citechat_hybrid" and not hit:
                    missed[str(budget)].append(
                        {"id": case_id, "rank": _answer_rank(pipeline, question, answered)})
        scores[name] = {str(b): round(hits[b] / len(cases), 4) for b in BUDGETS}
    scores["hybrid_misses"] = missed
    return scores


def _answer_rank(pipeline: Pipeline, question: str, answered) -> int | None:
    """How many top fused candidates it takes to hold the answer, budget aside."""
    ranked = citechat_ranker(pipeline, Fusion())(question)
    return next((n for n in range(1, len(ranked) + 1) if answered(ranked[:n])), None)


def squad_cases(questions: list[Question]) -> list[Case]:
    return [(q.id, q.text, lambda spans, q=q: answer_covered(q, spans)) for q in questions]


def dev_cases(pipeline: Pipeline) -> list[Case]:
    """Answerable single-turn items; answered when every gold quote is covered."""
    cases = []
    for item in dev_items():
        if item["unanswerable"] or len(item["turns"]) != 1 or not item["gold"]:
            continue
        golds = [(g["doc"], locate(g["quote"], pipeline.source_text(g["doc"])))
                 for g in item["gold"]]

        def answered(spans, golds=golds):
            return all(covered(span, [(s, e) for d, s, e in spans if d == doc])
                       for doc, span in golds)
        cases.append((item["id"], item["turns"][0], answered))
    return cases


def refusal_curve(pipeline: Pipeline, questions: list[tuple[str, bool]]) -> dict:
    """Refusal accuracy and false refusals against the threshold, from each question's
    confidence over the passages `ask` would retrieve. (question, answerable) pairs."""
    engine = pipeline.engine
    budget = pipeline.settings.context_chars
    confidence = np.array([engine.confidence(q, pipeline.retrieve(q, budget_chars=budget))
                           for q, _ in questions])
    answerable = np.array([a for _, a in questions])

    def point(threshold: float) -> dict:
        return {"threshold": round(float(threshold), 3),
                "refusal_accuracy": round(float((confidence[~answerable] < threshold).mean()), 4),
                "false_refusals": round(float((confidence[answerable] < threshold).mean()), 4)}
    return {"answerable": int(answerable.sum()), "unanswerable": int((~answerable).sum()),
            "curve": [point(t) for t in THRESHOLDS], "default": point(DEFAULT_THRESHOLD),
            "threshold": DEFAULT_THRESHOLD}


def run(quick: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        questions = write_articles(SQUAD, folder / "articles")
        squad = Pipeline.build(load_settings(data_dir=folder / "squad"))
        squad.ingest([folder / "articles"])
        seeds = Pipeline.build(load_settings(data_dir=folder / "seeds"))
        seeds.ingest([ROOT / "seeds"])
        answerable = [q for q in questions if q.answerable]
        asked = questions
        if quick:
            answerable = random.Random(3).sample(answerable, 150)
            asked = random.Random(3).sample(questions, 300)
        dev_refusals = [(i["turns"][0], not i["unanswerable"]) for i in dev_items()
                        if len(i["turns"]) == 1]
        return {
            "squad_answerable": len(answerable),
            "dev_answerable": len(dev_cases(seeds)),
            "squad": hit_rates(systems_for(squad, folder / "articles", "squad"),
                               squad_cases(answerable), squad),
            "dev": hit_rates(systems_for(seeds, ROOT / "seeds", "seeds"), dev_cases(seeds),
                             seeds),
            "refusals": {
                "squad": refusal_curve(squad, [(q.text, q.answerable) for q in asked]),
                "dev": refusal_curve(seeds, dev_refusals)},
        }

"""Retrieval quality and refusals, all systems in one run with the same embedder.

On SQuAD 2.0 (5 dev articles, one file per article) and on ../shared/eval/dev.jsonl:
the share of answerable questions whose gold answer lies inside the retrieved context,
at budgets of 4,000 and 2,000 characters, for
  (a) the LangChain tutorial pipeline: RecursiveCharacterTextSplitter(1000, 200), dense
      top-4 (taken in rank order while it fits the budget),
  (b) citechat dense-only (chunk and sentence vectors), (c) BM25-only, (d) citechat hybrid.
Then the extractive engine's refusal accuracy on SQuAD's unanswerable questions and its
false-refusal rate on the answerable ones, across thresholds.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.common import SHARED
from benchmarks.squad import Question, answer_in_context, write_articles
from rag.config import load_settings
from rag.engines.extractive import DEFAULT_THRESHOLD
from rag.evaluation import locate
from rag.pipeline import Pipeline
from rag.retrieval import Fusion, fused_rows

BUDGETS = (4000, 2000)
Span = tuple[str, int, int]
Ranker = Callable[[str], list[Span]]  # question -> spans in rank order


def within_budget(spans: list[Span], budget: int) -> list[Span]:
    chosen, used = [], 0
    for doc, start, end in spans:
        if used + end - start <= budget:
            chosen.append((doc, start, end))
            used += end - start
    return chosen


def citechat_ranker(pipeline: Pipeline, fusion: Fusion) -> Ranker:
    def rank(question: str) -> list[Span]:
        table = pipeline.store.table()
        return [(str(table.docs[r]), int(table.starts[r]), int(table.ends[r]))
                for r, _ in fused_rows(pipeline.store, pipeline.embedder, question, None, fusion,
                                       table)]
    return rank


def langchain_tutorial_ranker(folder: Path, embedder, name: str) -> Ranker:
    """The tutorial's pipeline: 1000/200 character splits, dense top-4, in Chroma."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200,
                                              add_start_index=True)
    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.create_collection(name, embedding_function=None,
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


def squad_hits(rankers: dict[str, Ranker], questions: list[Question]) -> dict:
    scores = {}
    for name, rank in rankers.items():
        hits = {budget: 0 for budget in BUDGETS}
        for question in questions:
            ranked = rank(question.text)
            for budget in BUDGETS:
                hits[budget] += answer_in_context(question, within_budget(ranked, budget))
        scores[name] = {str(b): round(hits[b] / len(questions), 4) for b in BUDGETS}
    return scores


def dev_hits(rankers: dict[str, Ranker], pipeline: Pipeline) -> dict:
    items = [json.loads(line) for line in (SHARED / "eval/dev.jsonl").read_text().splitlines()]
    golds = [(i["turns"][-1], [(g["doc"], *locate(g["quote"], pipeline.source_text(g["doc"])))
                               for g in i["gold"]])
             for i in items if i["gold"] and len(i["turns"]) == 1]
    scores = {}
    for name, rank in rankers.items():
        shares = {budget: [] for budget in BUDGETS}
        for question, quotes in golds:
            ranked = rank(question)
            for budget in BUDGETS:
                spans = within_budget(ranked, budget)
                for doc, start, end in quotes:
                    inside = {i for d, s, e in spans if d == doc
                              for i in range(max(s, start), min(e, end))}
                    shares[budget].append(len(inside) >= 0.8 * (end - start))
        scores[name] = {str(b): round(float(np.mean(shares[b])), 4) for b in BUDGETS}
    return scores


def refusal_curve(pipeline: Pipeline, questions: list[Question]) -> dict:
    engine = pipeline.engine
    confidence = np.array([engine.confidence(q.text, pipeline.retrieve(
        q.text, budget_chars=4000)) for q in questions])
    answerable = np.array([q.answerable for q in questions])
    curve = [{"threshold": round(float(t), 3),
              "refusal_accuracy": round(float((confidence[~answerable] < t).mean()), 4),
              "false_refusals": round(float((confidence[answerable] < t).mean()), 4)}
             for t in np.arange(0.0, 0.76, 0.025)]
    at_default = min(curve, key=lambda c: abs(c["threshold"] - DEFAULT_THRESHOLD))
    return {"curve": curve, "default": at_default, "threshold": DEFAULT_THRESHOLD}


def rankers_for(pipeline: Pipeline, folder: Path, name: str) -> dict[str, Ranker]:
    return {
        "langchain_tutorial": langchain_tutorial_ranker(folder, pipeline.embedder, name),
        "citechat_dense": citechat_ranker(pipeline, Fusion(lexical=0.0)),
        "bm25": citechat_ranker(pipeline, Fusion(sentence=0.0, chunk=0.0)),
        "citechat_hybrid": citechat_ranker(pipeline, Fusion()),
    }


def run(quick: bool) -> dict:
    squad_json = SHARED / "bench/squad2-dev-5articles.json"
    seeds_folder = Path(__file__).resolve().parents[1] / "seeds"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        questions = write_articles(squad_json, folder / "articles")
        squad = Pipeline.build(load_settings(data_dir=folder / "squad"))
        squad.ingest([folder / "articles"])
        seeds = Pipeline.build(load_settings(data_dir=folder / "seeds"))
        seeds.ingest([seeds_folder])
        answerable = [q for q in questions if q.answerable]
        answerable = answerable[:150] if quick else answerable
        sample = random.Random(3).sample(questions, 300) if quick else questions
        return {
            "squad_answerable": len(answerable),
            "squad": squad_hits(rankers_for(squad, folder / "articles", "squad"), answerable),
            "dev": dev_hits(rankers_for(seeds, seeds_folder, "seeds"), seeds),
            "refusals": refusal_curve(squad, sample),
        }

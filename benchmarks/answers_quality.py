"""Answer quality: is the answer in what is cited, are refusals right, how long are replies.

Three systems in one run, over the same ingested stores and the same embedder:
- citechat as it is (`Pipeline.ask`, default settings, 4,000-character context);
- today's engine: the same harness asking citechat at commit BASELINE (a temporary
  `git worktree`, first on PYTHONPATH of a child process; benchmarks/ask_all.py);
- the LangChain tutorial pipeline: RecursiveCharacterTextSplitter(1000, 200) chunks in
  Chroma, dense top 4. It has no answer step offline, so its "answer" is its top chunk
  (what a user of it would read) and, as a second reading, the sentence of its top four
  chunks closest to the question by cosine; it never refuses.
Measured on SQuAD 2.0's 12 articles (gold answer inside the cited extract, unanswerable
refused, false refusals, mean answer characters; the refusal threshold by article-level
cross-validation, and the curve of refusals against false refusals), HotpotQA's 100
questions (gold answer in the reply, citation precision against the supporting
sentences) and natural-dev (answered of 30, refused of 10), when it is present.

    python -m benchmarks.answers_quality [--quick]   # prints the figures as JSON
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks import answers_scoring as score
from benchmarks.ask_all import ask_all
from benchmarks.common import ROOT, checkout_at
from benchmarks.corpora import (
    CACHE,
    NATURAL_DOCS,
    ingested,
    natural_items,
    write_hotpot,
    write_squad,
)

BASELINE = "98ed127"


def _squad_items(quick: bool):
    questions = write_squad(CACHE / "squad-files")
    return questions[::4] if quick else questions


def _items(questions) -> list[dict]:
    return [{"id": q.id, "turns": [q.text]} for q in questions]


def citechat_replies(pipeline, items: list[dict], threshold: float | None = None,
                     model: bool = False) -> list[dict]:
    """citechat's replies; with `threshold` given, the engine refuses on low evidence
    below it (0: only on the other signals, to read the score of every question); with
    `model`, the answerability model refuses too (CITECHAT_REFUSAL_MODEL=true)."""
    from rag.answerability import load
    from rag.engines.extractive import DEFAULT_THRESHOLD, ExtractiveEngine

    if threshold is not None or model:
        table = pipeline.store.table()
        pipeline._engine = ExtractiveEngine(
            pipeline.embedder, DEFAULT_THRESHOLD if threshold is None else threshold,
            known=lambda text: table.lexical.knows(text), answerability=load() if model else None)
    try:
        return ask_all(pipeline, items, signals=threshold is not None)
    finally:
        pipeline._engine = None  # the settings' engine again


def baseline_replies(data: Path, items: list[dict]) -> list[dict]:
    """The replies of citechat at BASELINE over the same store."""
    with checkout_at(BASELINE) as (tree, env), tempfile.TemporaryDirectory() as tmp:
        questions, out = Path(tmp) / "questions.json", Path(tmp) / "out.json"
        questions.write_text(json.dumps(items), encoding="utf-8")
        subprocess.run([sys.executable, str(ROOT / "benchmarks/ask_all.py"), str(data),
                        str(questions), str(out)], check=True, cwd=tree, env=env)
        return json.loads(out.read_text(encoding="utf-8"))


def tutorial_replies(folder: Path, embedder, name: str, items: list[dict]) -> dict:
    """The LangChain tutorial pipeline's top chunk, and the best sentence of its top 4."""
    from benchmarks.quality import langchain_tutorial_ranker
    from rag.sentences import sentence_spans

    rank = langchain_tutorial_ranker(folder, embedder, name)
    texts = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}
    chunk, sentence = [], []
    for item in items:
        spans = rank(item["turns"][-1])
        doc, start, end = spans[0]
        chunk.append({"id": item["id"], "refused": False, "answer": texts[doc][start:end],
                      "cited": [[doc, start, end]]})
        pieces = [(d, s + a, s + b) for d, s, e in spans
                  for a, b in sentence_spans(texts[d][s:e])]
        vectors = embedder.embed([texts[d][a:b] for d, a, b in pieces])
        d, a, b = pieces[int(np.argmax(vectors @ embedder.embed_query(item["turns"][-1])))]
        sentence.append({"id": item["id"], "refused": False, "answer": texts[d][a:b],
                         "cited": [[d, a, b]]})
    return {"top_chunk": chunk, "best_sentence": sentence}


def _systems(name: str, folder: Path, items: list[dict], cv: bool = False) -> dict:
    pipeline = ingested(name, folder)
    found = {"citechat": citechat_replies(pipeline, items, 0.0 if cv else None)}
    if not cv:  # SQuAD trained the model: its figures there are leave-one-article-out
        found["citechat_model"] = citechat_replies(pipeline, items, model=True)
    try:
        found["today"] = baseline_replies(pipeline.settings.data_dir, items)
    except subprocess.CalledProcessError as exc:  # an old checkout this machine can't run
        print(f"citechat at {BASELINE} failed: {exc}", file=sys.stderr)
    for reading, replies in tutorial_replies(folder, pipeline.embedder, name, items).items():
        found[f"langchain_{reading}"] = replies
    return found


def squad(quick: bool) -> dict:
    questions = _squad_items(quick)
    replies = _systems("squad", CACHE / "squad-files", _items(questions), cv=True)
    result = {name: score.squad(questions, r) for name, r in replies.items()
              if name != "citechat"}
    result["citechat"] = score.squad_cross_validated(questions, replies["citechat"])
    if not quick:
        result["citechat_model"] = model_held_out()
    return result


def model_held_out() -> dict:
    """The answerability model's SQuAD figures, each article refused by a model and
    threshold fitted on the other eleven (benchmarks/train_answerability.py, over the
    research set: the same retrieval, cached)."""
    from benchmarks.train_answerability import cross_validated, research_rows

    found = cross_validated(research_rows())
    found.pop("refused")
    n_unanswerable, n_answerable = found.pop("n_unanswerable"), found.pop("n_answerable")
    return {"answer_in_extract": {"share": found["answer_in_extract"], "n": n_answerable},
            "unanswerable_refused": {"share": found["unanswerable_refused"], "n": n_unanswerable},
            "false_refusals": {"share": found["false_refusals"], "n": n_answerable}}


def hotpot(quick: bool) -> dict:
    questions = write_hotpot(CACHE / "hotpot-files")
    replies = _systems("hotpot", CACHE / "hotpot-files", _items(questions))
    return {name: score.hotpot(questions, r) for name, r in replies.items()}


def natural(quick: bool) -> dict:
    items = natural_items()
    if items is None:
        return {"skipped": f"{NATURAL_DOCS} is absent"}
    replies = _systems("natural", NATURAL_DOCS, [{"id": i["id"], "turns": i["turns"]}
                                                 for i in items])
    return {name: score.natural(items, r) for name, r in replies.items()}


def run(quick: bool) -> dict:
    return {"squad": squad(quick), "hotpot": hotpot(quick), "natural": natural(quick),
            "quick": quick}


def main() -> int:
    quick = "--quick" in sys.argv
    only = [a for a in sys.argv[1:] if not a.startswith("--")]
    parts = {"squad": squad, "hotpot": hotpot, "natural": natural}
    found = {name: part(quick) for name, part in parts.items() if not only or name in only}
    print(json.dumps(found, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())


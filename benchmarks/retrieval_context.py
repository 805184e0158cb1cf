"""What the retrieved context holds, at the default budget (4,000 characters).

- SQuAD 2.0, the 12 dev articles (benchmarks/corpora.py, one collection): the share of
  answerable questions whose gold answer span lies inside the context `Pipeline.retrieve`
  returns with the default settings (every character of it, across adjacent passages).
- HotpotQA, the training questions: the share of questions with every supporting sentence
  inside the context, by question type. Ingesting all 100 questions' ~1,000 paragraph files
  takes over half an hour on 2 shared cores, so by default the collection holds the first
  `HOTPOT_QUESTIONS` questions' paragraphs (each one's whole distractor set), and those
  questions are scored; `--hotpot-all` takes all 100.

Beside the default, in the same run: variants with one part of retrieval turned off (the
second hop, the neighbouring chunks), reciprocal rank fusion's constant at 60 (the usual
value), and what retrieval gave before it filled the budget (k=5 chunks, no second hop, no
neighbours, rrf 60). Choosing among these is checked by leave-one-group-out: each article
(SQuAD) or question (HotpotQA) is scored with the variant that does best on the others.
Then warm `Pipeline.ask` latency on the seeds (benchmarks/answers.py's questions).
Records figures; asserts nothing. `python -m benchmarks.retrieval_context [--quick]
[--hotpot-all]` prints each part's figures as it finishes.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.answers import warm_latency
from benchmarks.common import ROOT
from benchmarks.corpora import CACHE, HOTPOT_FILE, hotpot_name, ingested, write_hotpot, write_squad
from benchmarks.squad import answer_covered, covered
from rag.pipeline import Pipeline
from rag.retrieval import Fusion, retrieve
from rag.types import Passage

BUDGET = 4000
HOTPOT_QUESTIONS = 40  # the questions (and their paragraphs) of the default HotpotQA run
VARIANTS: dict[str, tuple[Fusion, int | None]] = {  # name -> (fusion, chunk cap)
    "default": (Fusion(), None),
    "no second hop": (Fusion(second_hop=False), None),
    "no neighbours": (Fusion(neighbour_share=0.0), None),
    "rrf_k 60": (Fusion(rrf_k=60), None),
    "before (k=5, rrf 60, no hop, no neighbours)":
        (Fusion(rrf_k=60, second_hop=False, neighbour_share=0.0), 5),
}
Retriever = Callable[[str], list[Passage]]


def retrievers(pipeline: Pipeline) -> dict[str, Retriever]:
    found: dict[str, Retriever] = {"default": pipeline.retrieve}  # the settings' defaults
    for name, (fusion, k) in VARIANTS.items():
        if name != "default":
            found[name] = (lambda q, f=fusion, k=k: retrieve(
                pipeline.store, pipeline.embedder, q, k, None, BUDGET, f))
    return found


def held_out(hits: dict[str, dict[str, list[bool]]]) -> float:
    """Leave-one-group-out: each group scored by the variant best on all other groups."""
    groups = sorted(next(iter(hits.values())))
    right = total = 0
    for group in groups:
        def elsewhere(name: str, group=group) -> float:
            return sum(sum(v) for g, v in hits[name].items() if g != group)
        chosen = max(hits, key=elsewhere)
        right += sum(hits[chosen][group])
        total += len(hits[chosen][group])
    return round(right / total, 4)


def _shares(hits: dict[str, dict[str, list[bool]]]) -> dict[str, float]:
    return {name: round(sum(sum(v) for v in by.values())
                        / sum(len(v) for v in by.values()), 4) for name, by in hits.items()}


def squad(quick: bool) -> dict:
    folder = CACHE / "corpus-squad12"
    questions = [q for q in write_squad(folder) if q.answerable]
    pipeline = ingested("squad12", folder)
    if quick:
        questions = random.Random(0).sample(questions, 300)
    hits: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    chars: list[int] = []
    for question in questions:
        for name, fetch in retrievers(pipeline).items():
            passages = fetch(question.text)
            spans = [(p.doc, p.start, p.end) for p in passages]
            hits[name][question.article].append(answer_covered(question, spans))
            if name == "default":
                chars.append(sum(len(p.text) for p in passages))
    return {"questions": len(questions), "articles": len(hits["default"]),
            "span_in_context": _shares(hits), "held_out_choice": held_out(hits),
            "mean_context_chars": round(sum(chars) / len(chars))}


def all_supporting(supporting: Sequence[tuple[str, int, int]], passages: list[Passage]) -> bool:
    return all(covered((s, e), [(p.start, p.end) for p in passages if p.doc == doc])
               for doc, s, e in supporting)


def hotpot_subset(first: int | None) -> tuple[Path, list]:
    """A folder with the paragraph files of the first `first` questions (all if None),
    and those questions."""
    everything = CACHE / "corpus-hotpot100"
    questions = write_hotpot(everything)
    if first is None:
        return everything, questions
    folder = CACHE / f"corpus-hotpot{first}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for item in json.loads(HOTPOT_FILE.read_text(encoding="utf-8"))[:first]:
        for title, _ in item["context"]:
            shutil.copyfile(everything / hotpot_name(title), folder / hotpot_name(title))
    return folder, questions[:first]


def hotpot(quick: bool, first: int | None = HOTPOT_QUESTIONS) -> dict:
    folder, questions = hotpot_subset(first)
    pipeline = ingested(folder.name.removeprefix("corpus-"), folder)
    hits: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    by_type: dict[str, list[bool]] = defaultdict(list)
    for question in questions:
        for name, fetch in retrievers(pipeline).items():
            hit = all_supporting(question.supporting, fetch(question.text))
            hits[name][question.id].append(hit)
            if name == "default":
                by_type[question.type].append(hit)
    return {"questions": len(questions), "files": len(list(folder.glob("*.txt"))),
            "all_supporting_in_context": _shares(hits), "held_out_choice": held_out(hits),
            "default_by_type": {t: {"n": len(v), "share": round(sum(v) / len(v), 4)}
                                for t, v in sorted(by_type.items())}}


def warm_ask(quick: bool) -> dict:
    seeds = ingested("seeds", ROOT / "rag/seeds")
    return warm_latency(Path(seeds.settings.data_dir), 3 if quick else 10)


def run(quick: bool, hotpot_first: int | None = HOTPOT_QUESTIONS) -> dict:
    parts = {"warm_ask_seeds": warm_ask, "squad": squad,
             "hotpot": lambda quick: hotpot(quick, hotpot_first)}
    found: dict = {"budget_chars": BUDGET}
    for name, part in parts.items():
        found[name] = part(quick)
        print(name, json.dumps(found[name]), file=sys.stderr, flush=True)
    return found


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv, None if "--hotpot-all" in sys.argv
                         else HOTPOT_QUESTIONS), indent=1))

"""The checker's regression guard: citechat's own verbatim output must raise no flag.

The extractive engine answers with sentences of the documents and summarises with them,
so every claim of its replies and summaries is a quote of its citation: one flagged weak
or unsupported is a false alarm the user sees. Over the seeds (eval/dev.jsonl), the 12
SQuAD articles (their 4,031 questions), the HotpotQA paragraphs (100 questions) and the
BBC articles when the shared folder is there (natural-dev's 40 conversations): every
question asked (conversations turn by turn), every document summarised alone and each
collection as a whole; a quick run takes an even sample. Records the counts and the
first flagged claims; asserts nothing (tests/test_claims.py runs a sample and asserts).
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

from benchmarks.corpora import BBC, ROOT, ingested, natural_items, write_hotpot, write_squad
from rag.types import Response, Turn

QUICK = {"conversations": 60, "summaries": 25}  # per corpus, in a quick run
FLAGGED = ("weak", "unsupported")
EXAMPLES = 5


def _conversations(path: Path) -> list[list[str]]:
    return [json.loads(line)["turns"] for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def corpora(folder: Path) -> Iterable[tuple[str, Path, list[list[str]]]]:
    """(name, folder of files, conversations) for each corpus present."""
    yield "seeds", ROOT / "seeds", _conversations(ROOT / "eval/dev.jsonl")
    squad = write_squad(folder / "squad")
    yield "squad", folder / "squad", [[q.text] for q in squad]
    hotpot = write_hotpot(folder / "hotpotqa")
    yield "hotpotqa", folder / "hotpotqa", [[q.text] for q in hotpot]
    natural = natural_items()
    if (BBC / "articles").is_dir():
        yield "bbc", BBC / "articles", [item["turns"] for item in natural or []]


def _sample(values: Sequence, count: int | None) -> list:
    """An even sample of `count` values (all of them when None)."""
    if count is None or len(values) <= count:
        return list(values)
    step = len(values) / count
    return [values[int(i * step)] for i in range(count)]


def responses(pipeline, conversations: list[list[str]], docs: list[str],
              sample: dict[str, int] | None = None) -> Iterable[tuple[str, Response]]:
    """("reply" or "summary", response) for every conversation and document, or an even
    sample of `sample["conversations"]` and `sample["summaries"]` of them."""
    sample = sample or {}
    for turns in _sample(conversations, sample.get("conversations")):
        history: list[Turn] = []
        for turn in turns:
            response = pipeline.ask(turn, history)
            history.append(Turn(turn, response.answer))
            yield "reply", response
    for doc in _sample(docs, sample.get("summaries")):
        yield "summary", pipeline.summarize([doc])
    yield "summary", pipeline.summarize()


def guard(kinds_and_responses: Iterable[tuple[str, Response]]) -> dict:
    """Counts of responses, claims and verdicts per kind, with the first flagged claims."""
    found: dict[str, dict] = {}
    for kind, response in kinds_and_responses:
        part = found.setdefault(kind, {"responses": 0, "refused": 0, "claims": 0,
                                       "verdicts": Counter(), "flagged": []})
        part["responses"] += 1
        part["refused"] += response.refused
        for claim in response.claims:
            part["claims"] += 1
            part["verdicts"][claim.verdict] += 1
            if claim.verdict in FLAGGED and len(part["flagged"]) < EXAMPLES:
                part["flagged"].append({"question": response.question, **asdict(claim)})
    for part in found.values():
        part["verdicts"] = dict(part["verdicts"])
        part["weak_or_unsupported"] = sum(part["verdicts"].get(v, 0) for v in FLAGGED)
    return found


def run(quick: bool) -> dict:
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, files, conversations in corpora(Path(folder)):
            pipeline = ingested(f"claims-{name}", files)
            docs = [d.name for d in pipeline.documents()]
            results[name] = guard(responses(pipeline, conversations, docs,
                                            QUICK if quick else None))
            print(f"    guard {name}: " + json.dumps(
                {k: {"responses": v["responses"], "weak_or_unsupported":
                     v["weak_or_unsupported"]} for k, v in results[name].items()}), flush=True)
    return results

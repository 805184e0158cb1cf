"""The public question sets every quality benchmark reads, as files citechat ingests.

- SQuAD 2.0, 12 dev articles (both vendored files): one text file per article,
  paragraphs joined by a blank line, each question with its gold answers' offsets there.
- HotpotQA, 100 training questions (distractor setting): one text file per paragraph
  title (the title, a blank line, the paragraph), all questions' paragraphs in one
  collection, each question with its supporting sentences' offsets.
- natural-dev (40 reader questions over 10 BBC articles): read from the shared folder
  beside the repository (research use only, never copied here); None when it is absent.

`ingested` builds a pipeline over a folder once and reuses its data directory while the
corpus and the ingest code are unchanged, so that a tuning loop does not re-embed.
It scores nothing: the benchmarks that import it do.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import ROOT
from benchmarks.squad import Question

DATA = ROOT / "benchmarks/data"
SQUAD_FILES = (DATA / "squad2-dev-5articles.json", DATA / "squad2-dev-7more-articles.json")
HOTPOT_FILE = DATA / "hotpotqa-train-100.json"
SHARED = Path(os.environ.get("CITECHAT_SHARED", ROOT.parent / "shared"))
NATURAL_DEV = SHARED / "eval/natural-dev.jsonl"
NATURAL_DOCS = SHARED / "eval/natural-dev-docs"
BBC = SHARED / "bench/bbc-dev"
CACHE = ROOT / ".bench-cache"
# what an ingested store depends on besides the corpus: reuse it only while these are equal
INGEST_CODE = ("rag/documents.py", "rag/chunking.py", "rag/sentences.py", "rag/store.py",
               "rag/embedding.py", "rag/lexical.py", "rag/config.py")


@dataclass(frozen=True)
class SquadQuestion(Question):
    article: str = ""  # the article's title: the unit of cross-validation


def write_squad(folder: Path) -> list[SquadQuestion]:
    """The 12 articles as files in `folder`; every question with its answers' offsets."""
    folder.mkdir(parents=True, exist_ok=True)
    questions: list[SquadQuestion] = []
    for path in SQUAD_FILES:
        for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
            name = f"{article['title']}.txt"
            parts, offset = [], 0
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    spans = tuple(sorted({(offset + a["answer_start"],
                                           offset + a["answer_start"] + len(a["text"]))
                                          for a in qa.get("answers", [])}))
                    questions.append(SquadQuestion(qa["id"], name, qa["question"], spans,
                                                   article["title"]))
                parts.append(paragraph["context"])
                offset += len(paragraph["context"]) + 2
            (folder / name).write_text("\n\n".join(parts), encoding="utf-8")
    return questions


@dataclass(frozen=True)
class HotpotQuestion:
    id: str
    text: str
    answer: str
    type: str  # "bridge" or "comparison"
    level: str
    supporting: tuple[tuple[str, int, int], ...]  # (doc, start, end) of each gold sentence


def hotpot_name(title: str) -> str:
    return re.sub(r"[^\w.\- ()]+", "_", title).strip(" .")[:150] + ".txt"


def write_hotpot(folder: Path) -> list[HotpotQuestion]:
    """Every paragraph of the 100 questions as `<title>.txt` in `folder` (the title, a
    blank line, the paragraph), and each question with its gold sentences' spans."""
    folder.mkdir(parents=True, exist_ok=True)
    items = json.loads(HOTPOT_FILE.read_text(encoding="utf-8"))
    spans: dict[str, list[tuple[int, int]]] = {}  # title -> sentence spans in its file
    for item in items:
        for title, sentences in item["context"]:
            if title in spans:
                continue
            head = f"{title}\n\n"
            offset, found = len(head), []
            for sentence in sentences:
                lead = len(sentence) - len(sentence.lstrip())
                found.append((offset + lead, offset + len(sentence.rstrip())))
                offset += len(sentence)
            spans[title] = found
            (folder / hotpot_name(title)).write_text(head + "".join(sentences), encoding="utf-8")
    questions = []
    for item in items:
        gold = tuple((hotpot_name(title), *spans[title][index])
                     for title, index in item["supporting_facts"] if index < len(spans[title]))
        questions.append(HotpotQuestion(item["_id"], item["question"], item["answer"],
                                        item["type"], item["level"], gold))
    return questions


def natural_items() -> list[dict] | None:
    """natural-dev's items (eval/README.md format), or None where the set is absent."""
    if not NATURAL_DEV.exists() or not NATURAL_DOCS.is_dir():
        return None
    return [json.loads(line) for line in NATURAL_DEV.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _fingerprint(folder: Path, settings: dict) -> str:
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    for code in INGEST_CODE:
        digest.update((ROOT / code).read_bytes())
    return digest.hexdigest()[:16]


def ingested(name: str, folder: Path, **settings):
    """A Pipeline over `folder`'s files (ingested once, then reused from .bench-cache
    while the corpus, the settings and the ingest code are unchanged)."""
    from rag.config import load_settings
    from rag.pipeline import Pipeline

    data = CACHE / f"{name}-{_fingerprint(folder, settings)}"
    if not (data / "ready").exists():
        shutil.rmtree(data, ignore_errors=True)
        pipeline = Pipeline.build(load_settings(data_dir=data, **settings))
        pipeline.ingest([folder])
        (data / "ready").write_text("ok")
        return pipeline
    return Pipeline.build(load_settings(data_dir=data, **settings))

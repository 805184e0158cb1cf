"""SQuAD 2.0 (5 dev articles) as a retrieval and refusal benchmark.

Writes one text file per article (paragraphs joined by a blank line), so that every
question's gold answer has exact character offsets in a file citechat ingests, then
measures the share of answerable questions whose gold answer span lies inside the
retrieved context under a character budget.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent / "data/squad2-dev-5articles.json"


@dataclass(frozen=True)
class Question:
    id: str
    doc: str
    text: str
    answers: tuple[tuple[int, int], ...]  # (start, end) in the article file; empty if none

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def write_articles(squad_json: Path, folder: Path) -> list[Question]:
    """Article files in `folder`, and every question with its answers' offsets in them."""
    data = json.loads(squad_json.read_text(encoding="utf-8"))["data"]
    folder.mkdir(parents=True, exist_ok=True)
    questions: list[Question] = []
    for article in data:
        name = f"{article['title']}.txt"
        parts, offset = [], 0
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                spans = tuple(sorted({(offset + a["answer_start"],
                                       offset + a["answer_start"] + len(a["text"]))
                                      for a in qa.get("answers", [])}))
                questions.append(Question(qa["id"], name, qa["question"], spans))
            parts.append(context)
            offset += len(context) + 2
        (folder / name).write_text("\n\n".join(parts), encoding="utf-8")
    return questions


def answer_in_context(question: Question, spans: list[tuple[str, int, int]]) -> bool:
    """True when any gold answer lies wholly inside one retrieved span of its article."""
    return any(doc == question.doc and s <= a and b <= e
               for a, b in question.answers for doc, s, e in spans)


def covered(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    """True when the retrieved `spans` (of the same document) together cover every
    character of `span`: an answer cut by a chunk boundary counts when both chunks came."""
    start, end = span
    reach = start
    for s, e in sorted(spans):
        if s <= reach < e:
            reach = e
        if reach >= end:
            return True
    return reach >= end


def answer_covered(question: Question, spans: list[tuple[str, int, int]]) -> bool:
    """True when any gold answer of the question is covered by the retrieved spans."""
    mine = [(s, e) for doc, s, e in spans if doc == question.doc]
    return any(covered(answer, mine) for answer in question.answers)

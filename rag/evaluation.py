"""`citechat eval`: asks an eval set's questions and scores the answers.

Items are JSON lines: `turns` (asked in order as one conversation), `must` (groups of
phrases; each group needs one present), `gold` (quotes of the documents that support the
answer), `unanswerable`. Gold quotes are located in the documents after Unicode NFKC and
whitespace normalisation, then mapped back to exact character spans. Scores: gold quote
retrieved @5 (>= 80% of its characters inside the top-5 passages), citation precision
(citations overlapping a gold quote), phrase accuracy, refusal accuracy on unanswerable
items, false refusals on answerable ones, and the share of claims whose citations
support them (rag/claims.py). It does not judge fluency.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rag.errors import CitechatError
from rag.types import Response, Turn

RETRIEVED_SHARE = 0.8
TOP = 5


def load_items(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CitechatError(f"Cannot read the eval file {path}: {exc}") from None
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not item["turns"] or not all(isinstance(t, str) for t in item["turns"]):
                raise ValueError("turns must be a non-empty list of strings")
        except (ValueError, KeyError, TypeError) as exc:
            raise CitechatError(f"{path}:{number}: not an eval item ({exc})") from None
        items.append(item)
    if not items:
        raise CitechatError(f"{path} holds no eval items.")
    return items


def normalised_with_offsets(text: str) -> tuple[str, list[int], list[int]]:
    """NFKC text with runs of whitespace folded to one space, and for each of its
    characters the span of `text` it came from. A base character and the combining marks
    after it are normalised together, so "e" + U+0301 becomes "é" as in the quote."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    offset = 0
    while offset < len(text):
        end = offset + 1
        while end < len(text) and unicodedata.combining(text[end]):
            end += 1
        for piece in unicodedata.normalize("NFKC", text[offset:end]):
            if piece.isspace():
                if chars and chars[-1] == " ":
                    continue
                piece = " "
            chars.append(piece)
            starts.append(offset)
            ends.append(end)
        offset = end
    return "".join(chars), starts, ends


def locate(quote: str, text: str) -> tuple[int, int] | None:
    """The exact span of `text` that `quote` matches after normalisation, if any."""
    folded, starts, ends = normalised_with_offsets(text)
    wanted = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", quote)).strip()
    found = folded.find(wanted)
    if found < 0 or not wanted:
        return None
    return starts[found], ends[found + len(wanted) - 1]


def _covered(span: tuple[int, int], spans: Sequence[tuple[int, int]]) -> float:
    start, end = span
    inside = set()
    for s, e in spans:
        inside.update(range(max(s, start), min(e, end)))
    return len(inside) / max(end - start, 1)


def score_item(item: dict[str, Any], response: Response,
               gold_spans: list[tuple[str, int, int]]) -> dict[str, Any]:
    """Per-item measurements; aggregated by `summarise`."""
    top = response.passages[:TOP]
    retrieved = [
        _covered((s, e), [(p.start, p.end) for p in top if p.doc == doc]) >= RETRIEVED_SHARE
        for doc, s, e in gold_spans
    ]
    correct = [any(c.doc == doc and c.start < e and s < c.end for doc, s, e in gold_spans)
               for c in response.citations]
    answer = response.answer.casefold()
    must_ok = all(any(p.casefold() in answer for p in group) for group in item.get("must", []))
    return {"id": item["id"], "unanswerable": bool(item.get("unanswerable")),
            "refused": response.refused, "retrieved": retrieved, "citations_correct": correct,
            "must_ok": must_ok,
            "claims_supported": [c.verdict == "supported" for c in response.claims]}


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in rows if not r["unanswerable"]]
    unanswerable = [r for r in rows if r["unanswerable"]]
    gold = [hit for r in answerable for hit in r["retrieved"]]
    cited = [ok for r in answerable for ok in r["citations_correct"]]

    def share(values: list[bool]) -> float:
        return sum(values) / len(values) if values else float("nan")

    return {
        "items": len(rows),
        "gold_retrieved@5": share(gold),
        "citation_precision": share(cited),
        "phrase_accuracy": share([r["must_ok"] and not r["refused"] for r in answerable]),
        "refusal_accuracy": share([r["refused"] for r in unanswerable]),
        "false_refusals": share([r["refused"] for r in answerable]),
        "claims_supported": share([ok for r in rows for ok in r.get("claims_supported", [])]),
    }


def run_eval(pipeline: Any, items: list[dict[str, Any]], out: Path | None = None,
             on_item: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Ask every item's turns as one conversation; score the last turn's response."""
    rows = []
    lines = []
    for item in items:
        history: list[Turn] = []
        response = None
        for question in item["turns"]:
            response = pipeline.ask(question, history)
            history.append(Turn(response.standalone_question, response.answer))
        gold_spans = []
        for gold in item.get("gold", []):
            span = locate(gold["quote"], pipeline.source_text(gold["doc"]))
            if span is None:
                raise CitechatError(f"Item {item['id']}: gold quote not found in {gold['doc']}.")
            gold_spans.append((gold["doc"], *span))
        row = score_item(item, response, gold_spans)
        rows.append(row)
        lines.append(json.dumps({"id": item["id"], "response": response.to_dict()},
                                ensure_ascii=False))
        if on_item:
            on_item(row)
    if out is not None:
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return summarise(rows)

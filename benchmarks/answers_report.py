"""The "Answer quality" section of docs/benchmarks.md, from benchmarks/answers_quality.py's
figures: every system side by side with its sample sizes. Formatting only."""

from __future__ import annotations

from typing import Any

SYSTEMS = {"citechat": "**citechat**",
           "citechat_model": "citechat with the answerability model (SQuAD: leave-one-article-out)",
           "today": "citechat at 98ed127",
           "langchain_top_chunk": "LangChain tutorial (top chunk)",
           "langchain_best_sentence": "LangChain tutorial (best sentence of top 4)"}


def _cell(value: Any) -> str:
    if isinstance(value, dict) and "share" in value:
        return "–" if value["share"] is None else f"{value['share']:.3f} (n={value['n']})"
    return "–" if value is None else f"{value:g}"


def _table(part: dict, measures: dict[str, str]) -> list[str]:
    lines = ["| system | " + " | ".join(measures.values()) + " |",
             "|---" * (len(measures) + 1) + "|"]
    for key, label in SYSTEMS.items():
        figures = part.get(key)
        if isinstance(figures, dict) and "cross_validated" in figures:
            figures = figures["cross_validated"]
        if isinstance(figures, dict):
            lines.append(f"| {label} | " + " | ".join(_cell(figures.get(m)) for m in measures)
                         + " |")
    return lines


def section(r: dict[str, Any]) -> str:
    found = r.get("answers_quality")
    if not isinstance(found, dict) or "error" in found:
        why = found["error"] if isinstance(found, dict) and "error" in found else "not run yet"
        return f"Not measured ({why})."
    lines = ["SQuAD 2.0, 12 articles (citechat's refusal threshold by article-level "
             "cross-validation):", ""]
    lines += _table(found["squad"], {"answer_in_extract": "gold answer in cited extract",
                                     "unanswerable_refused": "unanswerable refused",
                                     "false_refusals": "false refusals",
                                     "mean_answer_chars": "mean answer chars"})
    lines += ["", "HotpotQA, 100 questions:", ""]
    lines += _table(found["hotpot"], {"answer_in_reply": "gold answer in reply",
                                      "citation_precision": "citation precision",
                                      "mean_answer_chars": "mean answer chars"})
    if "skipped" not in found["natural"]:
        lines += ["", "natural-dev (40 reader questions over 10 BBC articles):", ""]
        lines += _table(found["natural"], {"answered": "answered (of 30)",
                                           "refused": "refused (of 10)",
                                           "false_refusals": "false refusals (of 30)"})
    return "\n".join(lines)

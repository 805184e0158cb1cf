"""Ask a list of conversations of an ingested store and write what came back, as JSON.

    python benchmarks/ask_all.py DATA_DIR QUESTIONS.json OUT.json

QUESTIONS.json: `[{"id": ..., "turns": [...]}, ...]`; each item's turns are asked in order
as one conversation and the last reply is kept: `{"id", "refused", "answer", "cited":
[[doc, start, end], ...], "best": score or null}`. It imports nothing but the `rag`
package, so benchmarks/answers_quality.py runs it against other versions of citechat
(another checkout first on PYTHONPATH) with the same questions. It scores nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def ask_all(pipeline, items: list[dict], signals: bool = False) -> list[dict]:
    """Each item's last reply; with `signals`, the engine's best-sentence score too
    (for the refusal curve)."""
    from rag.types import Turn

    replies = []
    for item in items:
        history: list = []
        for question in item["turns"]:
            response = pipeline.ask(question, history)
            history.append(Turn(response.standalone_question, response.answer))
        best = None
        if signals:
            found = pipeline.engine.select(response.standalone_question, response.passages)
            best = found.signals.best if found.signals else None
        replies.append({"id": item["id"], "refused": response.refused,
                        "answer": response.answer, "best": best,
                        "cited": [[c.doc, c.start, c.end] for c in response.citations]})
    return replies


def main() -> int:
    from rag.config import load_settings
    from rag.pipeline import Pipeline

    data, questions, out = sys.argv[1:4]
    pipeline = Pipeline.build(load_settings(data_dir=Path(data)))
    items = json.loads(Path(questions).read_text(encoding="utf-8"))
    Path(out).write_text(json.dumps(ask_all(pipeline, items)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
